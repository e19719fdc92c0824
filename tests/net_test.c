/* Sockets owned by processes (include/fauxtp/net.h), on loopback only. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "helpers.h"
#include "net_actors.h"

static fx_pid start_acceptor(tvm *t, const fx_net_addr *addr, bool crash_conns,
                             fx_pid conn_report, uint16_t *port)
{
    acc_st a = {.addr = *addr,
                .report = t->me,
                .conn_report = conn_report,
                .crash_conns = crash_conns};
    fx_pid p = spawn_state(t->vm, acc_loop, &a, sizeof a);
    cr_assert_eq(fx_vm_send(t->vm, p, T_START, NULL, 0), 0);
    fx_msg *m = tvm_recv(t, 0);
    cr_assert_eq(fx_msg_type(m), T_PORT, "listen failed: %s",
                 fx_strerror((int) *(const int64_t *) fx_msg_data(m)));
    uint64_t v;
    memcpy(&v, fx_msg_data(m), sizeof v);
    fx_msg_free(m);
    if (port)
        *port = (uint16_t) v;
    return p;
}

static void run_clients(tvm *t, const fx_net_addr *addr, uint32_t n, uint32_t len)
{
    for (uint32_t i = 0; i < n; i++) {
        cli_st c = {.addr = *addr, .report = t->me, .id = i, .len = len};
        fx_pid p = spawn_state(t->vm, cli_loop, &c, sizeof c);
        cr_assert_eq(fx_vm_send(t->vm, p, T_START, NULL, 0), 0);
    }
    for (uint32_t i = 0; i < n; i++) {
        fx_msg *m = tvm_recv(t, 0);
        int64_t v;
        memcpy(&v, fx_msg_data(m), sizeof v);
        cr_assert_eq(fx_msg_type(m), T_OK, "client failed: %lld (%s)", (long long) v,
                     fx_strerror((int) v));
        fx_msg_free(m);
    }
}

static void raise_nofile(rlim_t want)
{
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_cur < want) {
        r.rlim_cur = r.rlim_max < want ? r.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

Test(net, echo_1000_connections_two_schedulers, .timeout = 120)
{
    raise_nofile(4096);
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    uint32_t n = r.rlim_cur >= 2200 ? 1000 : (uint32_t) (r.rlim_cur - 200) / 2;
    if (n < 1000)
        cr_log_warn("RLIMIT_NOFILE %lu: %u connections", (unsigned long) r.rlim_cur, n);
    tvm t = tvm_start(2);
    fx_net_addr a;
    cr_assert_eq(fx_net_addr_ip("127.0.0.1", 0, &a), 0);
    uint16_t port;
    start_acceptor(&t, &a, false, FX_PID_NONE, &port);
    cr_assert_eq(fx_net_addr_ip("127.0.0.1", port, &a), 0);
    run_clients(&t, &a, n, 3000);
    tvm_stop(&t);
}

Test(net, large_echo_flows_through_the_write_queue, .timeout = 120)
{
    tvm t = tvm_start(2);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", 0, &a);
    uint16_t port;
    start_acceptor(&t, &a, false, FX_PID_NONE, &port);
    fx_net_addr_ip("127.0.0.1", port, &a);
    /* 200 KiB each way per client: more than the socket buffers hold. */
    run_clients(&t, &a, 4, 200 * 1024);
    tvm_stop(&t);
}

Test(net, unix_domain_echo, .timeout = 60)
{
    char dir[] = "/tmp/fxnetXXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/s", dir);
    tvm t = tvm_start(2);
    fx_net_addr a;
    cr_assert_eq(fx_net_addr_unix(path, &a), 0);
    start_acceptor(&t, &a, false, FX_PID_NONE, NULL);
    run_clients(&t, &a, 50, 5000);
    tvm_stop(&t);
    unlink(path);
    rmdir(dir);
}

Test(net, ipv6_loopback_echo, .timeout = 60)
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6,
                              .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool ok = probe >= 0 && bind(probe, (struct sockaddr *) &s6, sizeof s6) == 0;
    if (probe >= 0)
        close(probe);
    if (!ok) {
        cr_skip_test("::1 is not available here");
    }
    tvm t = tvm_start(2);
    fx_net_addr a;
    cr_assert_eq(fx_net_addr_ip("::1", 0, &a), 0);
    uint16_t port;
    start_acceptor(&t, &a, false, FX_PID_NONE, &port);
    fx_net_addr_ip("::1", port, &a);
    run_clients(&t, &a, 20, 1000);
    tvm_stop(&t);
}

Test(net, accept_storm_and_disconnect_mid_request, .timeout = 120)
{
    raise_nofile(4096);
    tvm t = tvm_start(2);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", 0, &a);
    uint16_t port;
    start_acceptor(&t, &a, false, t.me, &port);
    fx_net_addr_ip("127.0.0.1", port, &a);
    /* 500 connections opened as fast as the test thread can, each sends
     * half a request and leaves. Every connection process sees the close
     * and reports what it echoed. */
    enum { N = 500 };
    for (int i = 0; i < N; i++) {
        int fd = posix_connect(&a);
        cr_assert_geq(fd, 0, "connect: %s", strerror(errno));
        if (i % 2 == 0)
            cr_assert_eq(write(fd, "GET / HT", 8), 8);
        close(fd);
    }
    for (int i = 0; i < N; i++) {
        fx_msg *m = tvm_recv(&t, T_CONN_DONE);
        fx_msg_free(m);
    }
    tvm_stop(&t);
}

Test(net, owner_crash_closes_the_socket, .timeout = 60)
{
    tvm t = tvm_start_quiet(2);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", 0, &a);
    uint16_t port;
    start_acceptor(&t, &a, true, FX_PID_NONE, &port);
    fx_net_addr_ip("127.0.0.1", port, &a);
    int fd = posix_connect(&a);
    cr_assert_geq(fd, 0);
    ssize_t wr = write(fd, "boom", 4);
    cr_assert_eq(wr, 4, "write: %zd %s", wr, strerror(errno));
    /* The connection's owner crashes on the data: the peer sees EOF (or a
     * reset), never a hang. */
    cr_assert_geq(posix_read_to_end(fd, 10000), 0);
    close(fd);
    tvm_stop(&t);
}

/* ---- passive reads ----------------------------------------------------------- */

typedef struct passive_st {
    fx_net_addr addr;
    fx_pid report;
    fx_sock ls, s;
} passive_st;

/* Accepts one connection, then asks for exactly 10 bytes (timeout 5 s),
 * then for 5 more with a 50 ms timeout that expires, and reports each
 * message it gets: type, size. */
static fx_next passive_loop(fx_ctx *cx, fx_msg *m)
{
    passive_st *st = fx_state(cx);
    uint32_t ty = fx_msg_type(m);
    if (ty == T_START) {
        fx_net_listen(cx, &st->addr, NULL, &st->ls);
        fx_net_addr a;
        fx_net_sockname(cx, st->ls, &a);
        report_u64(cx, st->report, T_PORT, fx_net_addr_port(&a));
        fx_net_accept(cx, st->ls, 1);
    } else if (ty == FX_NET_ACCEPTED) {
        memcpy(&st->s, fx_msg_data(m), sizeof st->s);
        int rc = fx_net_recv(cx, st->s, 10, 5000);
        if (rc != 0)
            report_u64(cx, st->report, T_FAIL, (uint64_t) rc);
        /* One request at a time; credit and a passive read exclude each
         * other. */
        report_u64(cx, st->report, T_EVENT,
                   (uint64_t) (int64_t) fx_net_recv(cx, st->s, 1, -1));
        report_u64(cx, st->report, T_EVENT,
                   (uint64_t) (int64_t) fx_net_active(cx, st->s, 1));
    } else if (ty == FX_NET_DATA) {
        report_u64(cx, st->report, T_EVENT, fx_msg_size(m));
        if (memcmp(fx_msg_data(m), "0123456789", 10) != 0)
            report_u64(cx, st->report, T_FAIL, 1);
        fx_net_recv(cx, st->s, 5, 50);
    } else if (ty == FX_NET_ERROR) {
        const fx_net_error *e = fx_msg_data(m);
        report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) e->code);
    }
    return fx_continue(cx);
}

Test(net, passive_recv_exact_bytes_and_timeout, .timeout = 60)
{
    tvm t = tvm_start(2);
    passive_st p = {.report = t.me};
    fx_net_addr_ip("127.0.0.1", 0, &p.addr);
    fx_pid pp = spawn_state(t.vm, passive_loop, &p, sizeof p);
    fx_vm_send(t.vm, pp, T_START, NULL, 0);
    uint16_t port = (uint16_t) tvm_recv_u64(&t, T_PORT);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", port, &a);
    int fd = posix_connect(&a);
    cr_assert_geq(fd, 0);
    /* The 10 bytes arrive in two writes; the reply is one message. */
    cr_assert_eq(write(fd, "01234", 5), 5);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), FX_EINVAL);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), FX_EINVAL);
    usleep(20000);
    cr_assert_eq(write(fd, "56789", 5), 5);
    cr_assert_eq(tvm_recv_u64(&t, T_EVENT), 10);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), FX_ETIMEDOUT);
    close(fd);
    tvm_stop(&t);
}

/* ---- errors and ownership ------------------------------------------------------ */

typedef struct own_st {
    fx_pid report;
    fx_pid dead;
    fx_sock s;
} own_st;

static fx_next other_loop(fx_ctx *cx, fx_msg *m)
{
    own_st *st = fx_state(cx);
    if (fx_msg_type(m) == T_GO) {
        memcpy(&st->s, fx_msg_data(m), sizeof st->s);
        /* Not the owner: control is refused, sending is allowed. */
        report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) fx_net_close(cx, st->s));
        report_u64(cx, st->report, T_EVENT,
                   (uint64_t) (int64_t) fx_net_active(cx, st->s, 1));
    }
    return fx_continue(cx);
}

static fx_next owner_loop(fx_ctx *cx, fx_msg *m)
{
    own_st *st = fx_state(cx);
    uint32_t ty = fx_msg_type(m);
    if (ty == T_START) {
        fx_net_addr a;
        fx_net_addr_ip("127.0.0.1", 0, &a);
        fx_sock ls;
        fx_net_listen(cx, &a, NULL, &ls);
        fx_net_sockname(cx, ls, &a);
        /* Connect to ourselves; hand the connection to another process.
         * The listener stays open until the test ends: closing it resets
         * the connection still in its accept queue, and a reset that
         * reaches a socket still connecting closes it (FX_NET_ERROR), so
         * `other` would find it gone (FX_EBADF) whenever the poller saw
         * the reset before the connect's own edge. */
        int rc = fx_net_connect(cx, &a, NULL, 5000, &st->s);
        report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) rc);
        own_st o = {.report = st->report};
        fx_pid other = spawn_state(fx_ctx_vm(cx), other_loop, &o, sizeof o);
        fx_send(cx, other, T_GO, &st->s, sizeof st->s);
        /* A dead pid is refused and nothing changes. */
        report_u64(cx, st->report, T_EVENT,
                   (uint64_t) (int64_t) fx_net_controlling_process(cx, st->s, st->dead));
        /* Closed: every operation answers FX_EBADF (a second listener,
         * nobody connected to it). */
        fx_net_addr a2;
        fx_net_addr_ip("127.0.0.1", 0, &a2);
        fx_sock ls2;
        fx_net_listen(cx, &a2, NULL, &ls2);
        fx_net_close(cx, ls2);
        report_u64(cx, st->report, T_EVENT,
                   (uint64_t) (int64_t) fx_net_accept(cx, ls2, 1));
        report_u64(cx, st->report, T_EVENT,
                   (uint64_t) (int64_t) fx_net_send(cx, (fx_sock){12345}, "x", 1));
    }
    return fx_continue(cx);
}

Test(net, foreign_and_closed_sockets_get_error_codes, .timeout = 60)
{
    tvm t = tvm_start(2);
    own_st o = {.report = t.me};
    o.dead = spawn_state(t.vm, other_loop, &o, sizeof o);
    fx_vm_exit(t.vm, o.dead, fx_reason_kill());
    for (int i = 0; i < 10000 && fx_is_alive(t.vm, o.dead) == 1; i++)
        usleep(1000);
    fx_pid p = spawn_state(t.vm, owner_loop, &o, sizeof o);
    fx_vm_send(t.vm, p, T_START, NULL, 0);
    int64_t got[6];
    for (int i = 0; i < 6; i++)
        got[i] = (int64_t) tvm_recv_u64(&t, T_EVENT);
    /* Order between the two processes' reports is free: sort by meaning. */
    int enotowner = 0, enoproc = 0, ebadf = 0, zero = 0;
    for (int i = 0; i < 6; i++) {
        enotowner += got[i] == FX_ENOTOWNER;
        enoproc += got[i] == FX_ENOPROC;
        ebadf += got[i] == FX_EBADF;
        zero += got[i] == 0;
    }
    cr_assert_eq(zero, 1);
    cr_assert_eq(enotowner, 2);
    cr_assert_eq(enoproc, 1);
    cr_assert_eq(ebadf, 2);
    tvm_stop(&t);
}

Test(net, connect_refused_is_a_message, .timeout = 60)
{
    tvm t = tvm_start(1);
    /* A port nobody listens on: bind one, close it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    bind(fd, (struct sockaddr *) &sa, sizeof sa);
    getsockname(fd, (struct sockaddr *) &sa, &len);
    close(fd);
    cli_st c = {.report = t.me, .len = 10};
    fx_net_addr_ip("127.0.0.1", ntohs(sa.sin_port), &c.addr);
    fx_pid p = spawn_state(t.vm, cli_loop, &c, sizeof c);
    fx_vm_send(t.vm, p, T_START, NULL, 0);
    int64_t code = (int64_t) tvm_recv_u64(&t, T_FAIL);
    cr_assert_eq(code, FX_ECONNECT, "got %s", fx_err_name((int) code));
    tvm_stop(&t);
}

/* ---- EMFILE ------------------------------------------------------------------------ */

Test(net, accept_survives_running_out_of_descriptors, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", 0, &a);
    uint16_t port;
    start_acceptor(&t, &a, false, FX_PID_NONE, &port);
    fx_net_addr_ip("127.0.0.1", port, &a);
    /* Sockets for the clients first; then use up every descriptor. */
    int c1 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int c2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(c1 >= 0 && c2 >= 0);
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = 256;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &r), 0);
    int hog[256], nh = 0;
    while (nh < 256 && (hog[nh] = open("/dev/null", O_RDONLY)) >= 0)
        nh++;
    cr_assert_eq(errno, EMFILE);
    const struct sockaddr *sa = (const struct sockaddr *) a.sa;
    cr_assert_eq(connect(c1, sa, a.len), 0);
    /* The acceptor hears of it; the connection is refused, not left in
     * the backlog to spin the poller. */
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), FX_ENOFILE);
    cr_assert_geq(posix_read_to_end(c1, 10000), 0);
    for (int i = 0; i < nh; i++)
        close(hog[i]);
    /* Descriptors are back: accepting works again. */
    cr_assert_eq(connect(c2, sa, a.len), 0);
    cr_assert_eq(write(c2, "hello", 5), 5);
    char buf[5];
    struct pollfd p = {.fd = c2, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, 10000), 1);
    cr_assert_eq(read(c2, buf, 5), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    close(c1);
    close(c2);
    tvm_stop(&t);
}

/* ---- UDP ----------------------------------------------------------------------------
 */

typedef struct udp_st {
    fx_pid report;
    fx_sock s;
} udp_st;

static fx_next udp_loop(fx_ctx *cx, fx_msg *m)
{
    udp_st *st = fx_state(cx);
    if (fx_msg_type(m) == T_START) {
        fx_net_addr a;
        fx_net_addr_ip("127.0.0.1", 0, &a);
        fx_net_udp_open(cx, &a, NULL, &st->s);
        fx_net_sockname(cx, st->s, &a);
        report_u64(cx, st->report, T_PORT, fx_net_addr_port(&a));
        fx_net_active(cx, st->s, 3);
    } else if (fx_msg_type(m) == FX_NET_DATA) {
        fx_net_dgram h;
        memcpy(&h, fx_msg_data(m), sizeof h);
        const char *d = (const char *) fx_msg_data(m) + sizeof h;
        fx_net_sendto(cx, st->s, &h.from, d, fx_msg_size(m) - sizeof h);
    } else if (fx_msg_type(m) == FX_NET_PASSIVE) {
        report_u64(cx, st->report, T_EVENT, FX_NET_PASSIVE);
    }
    return fx_continue(cx);
}

Test(net, udp_echo_with_credit, .timeout = 60)
{
    tvm t = tvm_start(2);
    udp_st u = {.report = t.me};
    fx_pid p = spawn_state(t.vm, udp_loop, &u, sizeof u);
    fx_vm_send(t.vm, p, T_START, NULL, 0);
    uint16_t port = (uint16_t) tvm_recv_u64(&t, T_PORT);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < 3; i++) {
        char out[16], in[16];
        int k = snprintf(out, sizeof out, "dgram %d", i);
        cr_assert_eq(sendto(fd, out, (size_t) k, 0, (struct sockaddr *) &sa, sizeof sa),
                     k);
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        cr_assert_eq(poll(&pf, 1, 10000), 1);
        cr_assert_eq(recv(fd, in, sizeof in, 0), k);
        cr_assert_eq(memcmp(in, out, (size_t) k), 0);
    }
    /* Credit 3 used up. */
    cr_assert_eq(tvm_recv_u64(&t, T_EVENT), FX_NET_PASSIVE);
    close(fd);
    tvm_stop(&t);
}

/* ---- flow control: a fast writer against a slow reader ------------------------------
 */

enum { FLOW_TOTAL = 16 << 20, FLOW_CHUNK = 64 << 10 };

typedef struct writer_st {
    fx_pid report;
    fx_sock s;
    uint64_t sent;
    int64_t max_queued;
    uint32_t eagains;
} writer_st;

static void writer_pump(fx_ctx *cx, writer_st *st)
{
    static uint8_t chunk[FLOW_CHUNK];
    while (st->sent < FLOW_TOTAL) {
        for (uint32_t i = 0; i < FLOW_CHUNK; i++)
            chunk[i] = pattern_byte(7, st->sent + i);
        int rc = fx_net_send(cx, st->s, chunk, FLOW_CHUNK);
        int64_t q = fx_net_queued(cx, st->s);
        if (q > st->max_queued)
            st->max_queued = q;
        if (rc == FX_EAGAIN) {
            st->eagains++;
            return; /* FX_NET_WRITABLE follows */
        }
        if (rc != 0) {
            report_u64(cx, st->report, T_FAIL, (uint64_t) (int64_t) rc);
            return;
        }
        st->sent += FLOW_CHUNK;
    }
    fx_net_shutdown(cx, st->s, FX_NET_SHUT_WR);
    report_u64(cx, st->report, T_EVENT, (uint64_t) st->max_queued);
    report_u64(cx, st->report, T_EVENT, st->eagains);
}

static fx_next writer_loop(fx_ctx *cx, fx_msg *m)
{
    writer_st *st = fx_state(cx);
    if (fx_msg_type(m) == T_GO) {
        memcpy(&st->s, fx_msg_data(m), sizeof st->s);
        writer_pump(cx, st);
    } else if (fx_msg_type(m) == FX_NET_WRITABLE) {
        writer_pump(cx, st);
    }
    return fx_continue(cx);
}

typedef struct reader_st {
    fx_net_addr addr;
    fx_pid report;
    fx_sock s;
    uint64_t got;
    uint32_t outstanding; /* credit given and not used yet */
    uint32_t max_outstanding;
} reader_st;

static fx_next reader_loop(fx_ctx *cx, fx_msg *m)
{
    reader_st *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case T_START:
        fx_net_connect(cx, &st->addr, NULL, 10000, &st->s);
        break;
    case FX_NET_CONNECTED:
    case T_GO: /* the pause is over: one more message of credit */
        st->outstanding++;
        if (st->outstanding > st->max_outstanding)
            st->max_outstanding = st->outstanding;
        fx_net_active(cx, st->s, 1);
        break;
    case FX_NET_DATA: {
        const uint8_t *p = fx_msg_data(m);
        for (size_t i = 0; i < fx_msg_size(m); i++)
            if (p[i] != pattern_byte(7, st->got + i)) {
                report_u64(cx, st->report, T_FAIL, 1);
                return fx_stop(cx, fx_reason_normal());
            }
        st->got += fx_msg_size(m);
        st->outstanding--;
        /* Slow: a pause of a millisecond after every read (at most 64 KiB),
         * so even a writer slowed down by a loaded machine or a debug build
         * outruns it and meets the high-water mark. */
        fx_send_after(cx, 1, fx_self(cx), T_GO, NULL, 0, NULL);
        break;
    }
    case FX_NET_PASSIVE:
        break;
    case FX_NET_CLOSED:
        report_u64(cx, st->report, T_OK, st->got);
        report_u64(cx, st->report, T_OK, st->max_outstanding);
        fx_net_close(cx, st->s);
        return fx_stop(cx, fx_reason_normal());
    default:
        break;
    }
    return fx_continue(cx);
}

static fx_next flow_acceptor(fx_ctx *cx, fx_msg *m)
{
    reader_st *st = fx_state(cx); /* addr and report only */
    if (fx_msg_type(m) == T_START) {
        fx_sock ls;
        fx_net_listen(cx, &st->addr, NULL, &ls);
        fx_net_addr a;
        fx_net_sockname(cx, ls, &a);
        report_u64(cx, st->report, T_PORT, fx_net_addr_port(&a));
        fx_net_accept(cx, ls, 1);
    } else if (fx_msg_type(m) == FX_NET_ACCEPTED) {
        fx_sock s;
        memcpy(&s, fx_msg_data(m), sizeof s);
        writer_st w = {.report = st->report};
        fx_pid p = spawn_state(fx_ctx_vm(cx), writer_loop, &w, sizeof w);
        fx_net_controlling_process(cx, s, p);
        fx_send(cx, p, T_GO, &s, sizeof s);
    }
    return fx_continue(cx);
}

Test(net, slow_reader_fast_writer_stay_bounded, .timeout = 240)
{
    tvm t = tvm_start(2);
    reader_st acc = {.report = t.me};
    fx_net_addr_ip("127.0.0.1", 0, &acc.addr);
    fx_pid ap = spawn_state(t.vm, flow_acceptor, &acc, sizeof acc);
    fx_vm_send(t.vm, ap, T_START, NULL, 0);
    uint16_t port = (uint16_t) tvm_recv_u64(&t, T_PORT);
    reader_st r = {.report = t.me};
    fx_net_addr_ip("127.0.0.1", port, &r.addr);
    fx_pid rp = spawn_state(t.vm, reader_loop, &r, sizeof r);
    fx_vm_send(t.vm, rp, T_START, NULL, 0);
    /* Writer side: the queue never holds more than the high-water mark
     * (256 KiB by default) plus the one send that crossed it. */
    int64_t max_queued = (int64_t) tvm_recv_u64(&t, T_EVENT);
    uint64_t eagains = tvm_recv_u64(&t, T_EVENT);
    cr_assert_leq(max_queued, 256 * 1024 + FLOW_CHUNK);
    cr_assert_gt(eagains, 0, "the writer never met the high-water mark");
    /* Reader side: every byte, in order, and never more than one message
     * of credit: the runtime read no further ahead than that. */
    cr_assert_eq(tvm_recv_u64(&t, T_OK), FLOW_TOTAL);
    cr_assert_eq(tvm_recv_u64(&t, T_OK), 1);
    tvm_stop(&t);
}

/* ---- hand-over to a process that is exiting --------------------------------------- */

static fx_next quitter(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_normal());
}

static fx_next handover_acceptor(fx_ctx *cx, fx_msg *m)
{
    reader_st *st = fx_state(cx);
    if (fx_msg_type(m) == T_START) {
        fx_sock ls;
        fx_net_listen(cx, &st->addr, NULL, &ls);
        fx_net_addr a;
        fx_net_sockname(cx, ls, &a);
        report_u64(cx, st->report, T_PORT, fx_net_addr_port(&a));
        fx_net_accept(cx, ls, 1000);
    } else if (fx_msg_type(m) == FX_NET_ACCEPTED) {
        fx_sock s;
        memcpy(&s, fx_msg_data(m), sizeof s);
        /* The new owner exits as soon as it runs: the hand-over races
         * with its exit. Either way the socket must end up closed. */
        fx_pid p;
        fx_spawn(cx, quitter, NULL, &p);
        fx_send(cx, p, T_GO, NULL, 0);
        int rc = fx_net_controlling_process(cx, s, p);
        if (rc == FX_ENOPROC)
            fx_net_close(cx, s); /* it was gone already: ours to close */
    }
    return fx_continue(cx);
}

Test(net, handover_to_an_exiting_process_closes_the_socket, .timeout = 120)
{
    tvm t = tvm_start(2);
    reader_st acc = {.report = t.me};
    fx_net_addr_ip("127.0.0.1", 0, &acc.addr);
    fx_pid ap = spawn_state(t.vm, handover_acceptor, &acc, sizeof acc);
    fx_vm_send(t.vm, ap, T_START, NULL, 0);
    uint16_t port = (uint16_t) tvm_recv_u64(&t, T_PORT);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", port, &a);
    for (int i = 0; i < 200; i++) {
        int fd = posix_connect(&a);
        cr_assert_geq(fd, 0);
        cr_assert_geq(posix_read_to_end(fd, 10000), 0, "connection %d left open", i);
        close(fd);
    }
    tvm_stop(&t);
}

/* ---- connect timeout, SO_REUSEPORT ------------------------------------------------- */

Test(net, connect_times_out_on_a_full_backlog, .timeout = 60)
{
    /* A listener that never accepts, its backlog filled: further SYNs are
     * dropped, so a connect can only time out. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(lfd, (struct sockaddr *) &sa, sizeof sa), 0);
    cr_assert_eq(listen(lfd, 0), 0);
    getsockname(lfd, (struct sockaddr *) &sa, &len);
    int fill[8];
    for (int i = 0; i < 8; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *) &sa, sizeof sa);
    }
    usleep(50000);
    tvm t = tvm_start(1);
    cli_st c = {.report = t.me, .len = 10, .timeout_ms = 300};
    fx_net_addr_ip("127.0.0.1", ntohs(sa.sin_port), &c.addr);
    fx_pid p = spawn_state(t.vm, cli_loop, &c, sizeof c);
    fx_vm_send(t.vm, p, T_START, NULL, 0);
    fx_msg *m = tvm_recv(&t, T_FAIL);
    int64_t code;
    memcpy(&code, fx_msg_data(m), sizeof code);
    fx_msg_free(m);
    cr_assert_eq(code, FX_ETIMEDOUT, "got %s", fx_err_name((int) code));
    tvm_stop(&t);
    for (int i = 0; i < 8; i++)
        close(fill[i]);
    close(lfd);
}

static fx_next reuseport_loop(fx_ctx *cx, fx_msg *m)
{
    own_st *st = fx_state(cx);
    if (fx_msg_type(m) == T_START) {
        fx_net_addr a;
        fx_net_addr_ip("127.0.0.1", 0, &a);
        fx_net_opts o = {.reuseport = true};
        fx_sock l1, l2, l3;
        int rc1 = fx_net_listen(cx, &a, &o, &l1);
        fx_net_sockname(cx, l1, &a);
        int rc2 = fx_net_listen(cx, &a, &o, &l2);
        int rc3 = fx_net_listen(cx, &a, NULL, &l3); /* without the option */
        report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) rc1);
        report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) rc2);
        report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) rc3);
    }
    return fx_continue(cx);
}

Test(net, reuseport_lets_two_listeners_share_a_port, .timeout = 60)
{
    tvm t = tvm_start(1);
    own_st o = {.report = t.me};
    fx_pid p = spawn_state(t.vm, reuseport_loop, &o, sizeof o);
    fx_vm_send(t.vm, p, T_START, NULL, 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), FX_EADDR);
    tvm_stop(&t);
}
