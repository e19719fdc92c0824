/* Actors shared by the network tests: an echo server (an acceptor that
 * hands each connection to a process of its own) and echo clients that
 * check every byte they get back. Results go to a test inbox. */
#ifndef FAUXTP_TEST_NET_ACTORS_H
#define FAUXTP_TEST_NET_ACTORS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fauxtp/fauxtp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Test message types (user range). */
enum {
    T_START = 1, /* to an acceptor/client: go */
    T_PORT,      /* acceptor -> inbox: u64 port, or 0 + error code on failure */
    T_OK,        /* client -> inbox: u64 client id */
    T_FAIL,      /* anyone -> inbox: int64 error code / line */
    T_GO,        /* acceptor -> connection: you own the socket now */
    T_CONN_DONE, /* connection -> inbox: closed cleanly (u64 bytes echoed) */
    T_EVENT,     /* anyone -> inbox: u64 FX_NET_* type seen */
};

static inline uint8_t pattern_byte(uint64_t id, uint64_t i)
{
    return (uint8_t) ((id * 131u + i * 7u) & 0xff);
}

static inline void report_u64(fx_ctx *cx, fx_pid to, uint32_t type, uint64_t v)
{
    (void) fx_send(cx, to, type, &v, sizeof v);
}

/* ---- echo connection ------------------------------------------------------ */

typedef struct conn_st {
    fx_sock sock;
    fx_pid report; /* inbox, or FX_PID_NONE */
    uint64_t echoed;
    bool crash_on_data; /* the owner-crash test */
} conn_st;

static inline fx_next conn_loop(fx_ctx *cx, fx_msg *m)
{
    conn_st *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case T_GO:
        fx_net_active(cx, st->sock, 1);
        break;
    case FX_NET_DATA:
        if (st->crash_on_data)
            fx_crash(cx, "crash on data, as asked");
        st->echoed += fx_msg_size(m);
        /* Zero-copy echo: the data message itself goes back out. */
        if (fx_net_send_msg(cx, st->sock, m) != 0)
            return fx_stop(cx, fx_reason_error(FX_EAGAIN, "send"));
        fx_net_active(cx, st->sock, 1);
        break;
    case FX_NET_CLOSED:
    case FX_NET_ERROR: /* a reset: the peer left before our echo arrived */
        if (!fx_pid_is_none(st->report))
            report_u64(cx, st->report, T_CONN_DONE, st->echoed);
        fx_net_close(cx, st->sock); /* FX_EBADF after an error: closed already */
        return fx_stop(cx, fx_reason_normal());
    default:
        break;
    }
    return fx_continue(cx);
}

/* ---- acceptor -------------------------------------------------------------- */

typedef struct acc_st {
    fx_net_addr addr;
    fx_pid report;      /* the inbox */
    fx_pid conn_report; /* passed to connections */
    bool crash_conns;
    uint32_t accepted;
    fx_sock ls;
} acc_st;

static inline fx_next acc_loop(fx_ctx *cx, fx_msg *m)
{
    acc_st *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case T_START: {
        int rc = fx_net_listen(cx, &st->addr, NULL, &st->ls);
        if (rc != 0) {
            report_u64(cx, st->report, T_FAIL, (uint64_t) (int64_t) rc);
            return fx_stop(cx, fx_reason_normal());
        }
        fx_net_addr a;
        fx_net_sockname(cx, st->ls, &a);
        report_u64(cx, st->report, T_PORT, fx_net_addr_port(&a));
        fx_net_accept(cx, st->ls, 1 << 20);
        break;
    }
    case FX_NET_ACCEPTED: {
        fx_sock s;
        memcpy(&s, fx_msg_data(m), sizeof s);
        conn_st c = {
            .sock = s, .report = st->conn_report, .crash_on_data = st->crash_conns};
        fx_spawn_opts o = {
            .handler = conn_loop, .state_size = sizeof c, .state_init = &c};
        fx_pid p;
        if (fx_spawn_opt(cx, &o, &p) != 0 || fx_net_controlling_process(cx, s, p) != 0) {
            fx_net_close(cx, s);
            break;
        }
        st->accepted++;
        fx_send(cx, p, T_GO, NULL, 0);
        break;
    }
    case FX_NET_ERROR: {
        const fx_net_error *e = fx_msg_data(m);
        report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) e->code);
        break;
    }
    default:
        break;
    }
    return fx_continue(cx);
}

/* ---- echo client ------------------------------------------------------------ */

typedef struct cli_st {
    fx_net_addr addr;
    fx_pid report;
    uint64_t id;
    uint32_t len;       /* bytes to send and get back */
    int64_t timeout_ms; /* connect timeout, 0 = 10 s */
    uint32_t got;
    fx_sock sock;
} cli_st;

static inline fx_next cli_fail(fx_ctx *cx, cli_st *st, int64_t code)
{
    report_u64(cx, st->report, T_FAIL, (uint64_t) code);
    return fx_stop(cx, fx_reason_normal());
}

static inline fx_next cli_loop(fx_ctx *cx, fx_msg *m)
{
    cli_st *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case T_START: {
        int rc = fx_net_connect(cx, &st->addr, NULL,
                                st->timeout_ms ? st->timeout_ms : 10000, &st->sock);
        if (rc != 0)
            return cli_fail(cx, st, rc);
        break;
    }
    case FX_NET_CONNECTED: {
        uint8_t buf[4096];
        for (uint32_t off = 0; off < st->len; off += sizeof buf) {
            uint32_t k =
                st->len - off < sizeof buf ? st->len - off : (uint32_t) sizeof buf;
            for (uint32_t i = 0; i < k; i++)
                buf[i] = pattern_byte(st->id, off + i);
            int rc = fx_net_send(cx, st->sock, buf, k);
            if (rc != 0)
                return cli_fail(cx, st, rc);
        }
        fx_net_active(cx, st->sock, 1);
        break;
    }
    case FX_NET_DATA: {
        const uint8_t *p = fx_msg_data(m);
        size_t n = fx_msg_size(m);
        for (size_t i = 0; i < n; i++)
            if (p[i] != pattern_byte(st->id, st->got + i))
                return cli_fail(cx, st, -1000);
        st->got += (uint32_t) n;
        if (st->got > st->len)
            return cli_fail(cx, st, -1001);
        if (st->got == st->len) {
            report_u64(cx, st->report, T_OK, st->id);
            fx_net_close(cx, st->sock);
            return fx_stop(cx, fx_reason_normal());
        }
        fx_net_active(cx, st->sock, 1);
        break;
    }
    case FX_NET_CLOSED:
        return cli_fail(cx, st, -1002);
    case FX_NET_ERROR: {
        const fx_net_error *e = fx_msg_data(m);
        return cli_fail(cx, st, e->code);
    }
    default:
        break;
    }
    return fx_continue(cx);
}

/* ---- plain POSIX peers, for the test thread --------------------------------- */

static inline int posix_connect(const fx_net_addr *a)
{
    const struct sockaddr *sa = (const struct sockaddr *) a->sa;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, sa, a->len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads until EOF/reset or timeout; returns bytes read, -1 on timeout. */
static inline long posix_read_to_end(int fd, int timeout_ms)
{
    long total = 0;
    char buf[4096];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0)
            return -1;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return total;
        if (r < 0)
            return -1;
        total += r;
    }
}

#endif
