/* The poller while a scheduler thread is stuck in a long handler: the
 * sockets must still be polled. Today a parked thread waits in the poller
 * (src/sched/sched.c, park()); a rule that keeps it on its futex while
 * another thread runs (tried on branch io7, docs/benchmarks.md "Parked
 * threads off the poller while one runs") must bound that wait, and
 * without the bound this test times out. No watchdog (no spare thread).
 * Loopback only. */
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "net_actors.h"

enum { HOG = 100, HOG_IN };

static atomic_int hog_running, hog_release;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* HOG: spins until released (at most 30 s), never returning to the
 * scheduler meanwhile. */
static fx_next hog(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == HOG) {
        atomic_store(&hog_running, 1);
        uint64_t t0 = now_ms();
        while (!atomic_load(&hog_release) && now_ms() - t0 < 30000)
            ;
    }
    return fx_continue(cx);
}

/* One round trip on a blocking client socket, waiting up to 10 s for the
 * echo: true if the bytes came back. */
static bool echo_once(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
    cr_assert_eq(write(fd, "ping", 4), 4);
    char buf[4];
    size_t got = 0;
    uint64_t t0 = now_ms();
    while (got < sizeof buf && now_ms() - t0 < 10000) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t k = read(fd, buf + got, sizeof buf - got);
        if (k <= 0)
            break;
        got += (size_t) k;
    }
    close(fd);
    return got == sizeof buf && memcmp(buf, "ping", 4) == 0;
}

Test(net_park, sockets_polled_while_a_thread_is_stuck, .timeout = 120)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.stuck_ms = 0; /* no watchdog: no spare thread to rescue the poller */
    tvm t = tvm_start_with(&c);
    fx_net_addr a;
    cr_assert_eq(fx_net_addr_ip("127.0.0.1", 0, &a), 0);
    acc_st as = {.addr = a, .report = t.me, .conn_report = FX_PID_NONE};
    fx_pid acc = spawn_state(t.vm, acc_loop, &as, sizeof as);
    cr_assert_eq(fx_vm_send(t.vm, acc, T_START, NULL, 0), 0);
    uint16_t port = (uint16_t) tvm_recv_u64(&t, T_PORT);
    cr_assert(echo_once(port), "echo before the hog");

    fx_pid h = spawn_state(t.vm, hog, NULL, 0);
    cr_assert_eq(fx_vm_send(t.vm, h, HOG, NULL, 0), 0);
    for (int i = 0; i < 10000 && !atomic_load(&hog_running); i++)
        usleep(1000);
    cr_assert(atomic_load(&hog_running));
    /* Let the other thread park while the hog runs. */
    usleep(50000);
    /* Without the bounded futex wait nobody polls until the hog returns
     * (30 s): the echo times out after 10 s. */
    bool ok = echo_once(port);
    atomic_store(&hog_release, 1);
    cr_assert(ok, "no echo while one thread was stuck");
    tvm_stop(&t);
}
