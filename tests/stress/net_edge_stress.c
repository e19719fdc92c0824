/* Stress for the edge-triggered poller (docs/net.md, "The poller"): peers
 * write many small pieces while each connection's owner keeps switching
 * between active once, passive with its credit coming back later (a
 * message to itself, or a timer), and passive fx_net_recv. Readiness that
 * arrives while the owner is passive is remembered, never re-reported:
 * a lost one shows as an echo that stops (the peer's poll times out), a
 * misordered or doubled read as a pattern mismatch. Peers are plain
 * sockets on POSIX threads, on loopback. A plain program (exit status) so
 * it runs under ThreadSanitizer. Argument: rounds. */
#include <fauxtp/fauxtp.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../net_actors.h"

enum { CLIENT_THREADS = 2, CONNS_PER_THREAD = 8, PIECES = 300, T_AGAIN = 50 };

static int failures;

static void fail(const char *what, int i)
{
    fprintf(stderr, "net_edge_stress: %s (%d)\n", what, i);
    __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
}

/* ---- the owner: echoes, switching read modes after every message ---------- */

typedef struct tog_st {
    fx_sock s;
    uint32_t n; /* messages so far: picks the next mode */
} tog_st;

static void credit_back(fx_ctx *cx, tog_st *st)
{
    switch (st->n++ % 4) {
    case 0: /* at once */
        fx_net_active(cx, st->s, 1);
        break;
    case 1: /* after a message to ourselves */
        fx_send(cx, fx_self(cx), T_AGAIN, NULL, 0);
        break;
    case 2: /* a millisecond later */
        fx_send_after(cx, 1, fx_self(cx), T_AGAIN, NULL, 0, NULL);
        break;
    default: /* a passive read of whatever is there */
        fx_net_recv(cx, st->s, 0, -1);
        break;
    }
}

static fx_next tog_loop(fx_ctx *cx, fx_msg *m)
{
    tog_st *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case T_GO:
    case T_AGAIN:
        fx_net_active(cx, st->s, 1);
        break;
    case FX_NET_DATA:
        if (fx_net_send_msg(cx, st->s, m) != 0)
            return fx_stop(cx, fx_reason_normal());
        credit_back(cx, st);
        break;
    case FX_NET_CLOSED: /* echo what is queued, then EOF to the peer */
        fx_net_shutdown(cx, st->s, FX_NET_SHUT_WR);
        break;
    case FX_NET_ERROR:
        return fx_stop(cx, fx_reason_normal());
    default: /* FX_NET_PASSIVE: the credit comes back as chosen above */
        break;
    }
    return fx_continue(cx);
}

typedef struct lst_st {
    fx_net_addr addr;
    fx_pid report;
} lst_st;

static fx_next lst_loop(fx_ctx *cx, fx_msg *m)
{
    lst_st *st = fx_state(cx);
    if (fx_msg_type(m) == T_START) {
        fx_sock ls;
        fx_net_addr a;
        if (fx_net_listen(cx, &st->addr, NULL, &ls) != 0 ||
            fx_net_sockname(cx, ls, &a) != 0)
            report_u64(cx, st->report, T_PORT, 0);
        else
            report_u64(cx, st->report, T_PORT, fx_net_addr_port(&a));
        fx_net_accept(cx, ls, UINT32_MAX);
    } else if (fx_msg_type(m) == FX_NET_ACCEPTED) {
        tog_st t = {.n = 0};
        memcpy(&t.s, fx_msg_data(m), sizeof t.s);
        fx_spawn_opts o = {.handler = tog_loop, .state_size = sizeof t, .state_init = &t};
        fx_pid p;
        if (fx_spawn_opt(cx, &o, &p) != 0 || fx_net_controlling_process(cx, t.s, p) != 0)
            fx_net_close(cx, t.s);
        else
            fx_send(cx, p, T_GO, NULL, 0);
    }
    return fx_continue(cx);
}

/* ---- the peers ------------------------------------------------------------ */

typedef struct client {
    fx_net_addr addr;
    unsigned seed;
} client;

/* Writes PIECES small pieces (1..64 bytes, under 100 bytes unechoed at a
 * time) while reading the echo, then
 * shuts its side and reads to EOF: every byte back, in order. */
static void one_conn(client *c, int k)
{
    int fd = posix_connect(&c->addr);
    if (fd < 0) {
        fail("connect", k);
        return;
    }
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    uint64_t id = (uint64_t) k;
    size_t total = 0, sent = 0, got = 0;
    size_t sizes[PIECES];
    for (int i = 0; i < PIECES; i++)
        total += sizes[i] = 1 + (size_t) (rand_r(&c->seed) % 64);
    int piece = 0;
    bool shut = false;
    uint8_t buf[4096];
    while (true) {
        /* Little in flight, so the owner reads many small messages and
         * switches modes between them. */
        bool more = !shut && sent - got < 100;
        struct pollfd pf = {.fd = fd, .events = POLLIN | (more ? POLLOUT : 0)};
        if (poll(&pf, 1, 20000) != 1) {
            fail("echo stalled: a lost wake-up", k);
            break;
        }
        if (more && (pf.revents & POLLOUT)) {
            size_t len = sizes[piece];
            for (size_t i = 0; i < len; i++)
                buf[i] = pattern_byte(id, sent + i);
            ssize_t w = write(fd, buf, len);
            if (w > 0) {
                sent += (size_t) w;
                if ((size_t) w == len)
                    piece++;
                else
                    sizes[piece] -= (size_t) w;
            }
            if (piece == PIECES) {
                shutdown(fd, SHUT_WR);
                shut = true;
            }
        }
        if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(fd, buf, sizeof buf);
            if (r == 0)
                break;
            if (r < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                fail("read", k);
                break;
            }
            for (ssize_t i = 0; i < r; i++)
                if (buf[i] != pattern_byte(id, got + (size_t) i)) {
                    fail("echo mismatch", k);
                    close(fd);
                    return;
                }
            got += (size_t) r;
        }
    }
    if (got != total)
        fail("echo short", k);
    close(fd);
}

static void *client_main(void *p)
{
    client *c = p;
    for (int k = 0; k < CONNS_PER_THREAD; k++)
        one_conn(c, k);
    return NULL;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    for (int r = 0; r < rounds; r++) {
        fx_vm_config cfg;
        fx_vm_config_init(&cfg);
        cfg.threads = 2;
        fx_vm *vm;
        fx_inbox *in;
        if (fx_vm_create(&cfg, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in)) {
            fail("vm", r);
            return 1;
        }
        lst_st l = {.report = fx_inbox_pid(in)};
        fx_net_addr_ip("127.0.0.1", 0, &l.addr);
        fx_spawn_opts o = {.handler = lst_loop, .state_size = sizeof l, .state_init = &l};
        fx_pid lp;
        fx_msg *m = NULL;
        uint64_t port = 0;
        fx_match mt = {.type = T_PORT};
        if (fx_vm_spawn_opt(vm, &o, &lp) || fx_vm_send(vm, lp, T_START, NULL, 0) ||
            fx_inbox_recv(in, &mt, 10000, &m)) {
            fail("listener", r);
            return 1;
        }
        memcpy(&port, fx_msg_data(m), sizeof port);
        fx_msg_free(m);
        if (port == 0) {
            fail("listen", r);
            return 1;
        }
        client c[CLIENT_THREADS];
        pthread_t th[CLIENT_THREADS];
        for (int i = 0; i < CLIENT_THREADS; i++) {
            c[i].seed = (unsigned) (r * 31 + i);
            fx_net_addr_ip("127.0.0.1", (uint16_t) port, &c[i].addr);
            pthread_create(&th[i], NULL, client_main, &c[i]);
        }
        for (int i = 0; i < CLIENT_THREADS; i++)
            pthread_join(th[i], NULL);
        fx_inbox_destroy(in);
        fx_vm_shutdown(vm);
        fx_vm_destroy(vm);
    }
    int f = __atomic_load_n(&failures, __ATOMIC_RELAXED);
    if (f) {
        fprintf(stderr, "net_edge_stress: %d failures\n", f);
        return 1;
    }
    printf("net_edge_stress: %d rounds ok\n", rounds);
    return 0;
}
