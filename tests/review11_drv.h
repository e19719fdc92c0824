/* review11: a scripted socket owner for net.h tests. The test thread sends
 * it commands (rcmd); it runs each with its own fx_ctx and answers
 * R_RC{int64 rc}; every FX_NET_* message it gets is forwarded to the test
 * inbox as R_EV (an rev header, then up to R_EV_MAX bytes of payload), so
 * the test sees the owner's messages in their order. Sockets live in
 * slots 0..7 (an accepted one takes the next free slot). */
#ifndef FAUXTP_TEST_REVIEW11_DRV_H
#define FAUXTP_TEST_REVIEW11_DRV_H

#include "helpers.h"
#include "net_actors.h"

enum { R_CMD = 1100, R_RC, R_EV };
enum {
    OP_LISTEN = 1, /* addr, opts -> slot idx; rc; then accept credit b */
    OP_CONNECT,    /* addr, opts, timeout a -> slot idx; b == 1: then send 0 bytes */
    OP_UDP,        /* addr, opts -> slot idx */
    OP_ACCEPT,     /* n = a */
    OP_ACTIVE,     /* n = a */
    OP_RECV,       /* n = a, timeout b */
    OP_SEND,       /* len bytes of data (data may be NULL when len > sizeof data) */
    OP_SENDTO,     /* addr, data */
    OP_FILL, /* 64 KiB sends until one fails or a = 1: until queued > 0; rc of the last */
    OP_SHUTDOWN, /* how = a */
    OP_CLOSE,
    OP_CTL, /* hand over to pid */
    OP_QUEUED,
    OP_PORT,  /* sockname's port */
    OP_ADOPT, /* take socket id a into a slot (after a hand-over) */
    OP_EXIT,  /* the driver stops (normal) */
};

#define R_EV_MAX 70000u
#define R_NSOCK 8

typedef struct rcmd {
    int op, idx;
    int64_t a, b;
    fx_net_addr addr;
    fx_net_opts opts;
    fx_pid pid;
    uint32_t len;
    char data[64];
} rcmd;

typedef struct rev {
    uint32_t type; /* FX_NET_* */
    uint32_t size; /* payload size of the original message */
    uint64_t sock;
    uint32_t who; /* the forwarding driver's tag (drv_spawn order, from 1) */
    uint32_t pad_;
} rev;

typedef struct drv_st {
    fx_pid report;
    uint32_t tag;
    fx_sock s[R_NSOCK];
    int nsock;
} drv_st;

static inline int drv_add(drv_st *st, fx_sock s)
{
    if (st->nsock >= R_NSOCK)
        return -1;
    st->s[st->nsock] = s;
    return st->nsock++;
}

static inline int64_t drv_run(fx_ctx *cx, drv_st *st, const rcmd *c)
{
    static char block[65536];
    fx_sock s = c->idx >= 0 && c->idx < R_NSOCK ? st->s[c->idx] : (fx_sock){0};
    fx_sock ns;
    int rc;
    switch (c->op) {
    case OP_LISTEN:
        rc = fx_net_listen(cx, &c->addr, &c->opts, &ns);
        if (rc != 0)
            return rc;
        if (c->b)
            (void) fx_net_accept(cx, ns, (uint32_t) c->b);
        return drv_add(st, ns);
    case OP_CONNECT:
        rc = fx_net_connect(cx, &c->addr, &c->opts, c->a, &ns);
        if (rc == 0 && c->b == 1) /* and a send of 0 bytes, in this handler */
            rc = fx_net_send(cx, ns, NULL, 0);
        return rc != 0 ? rc : drv_add(st, ns);
    case OP_UDP:
        rc = fx_net_udp_open(cx, &c->addr, &c->opts, &ns);
        return rc != 0 ? rc : drv_add(st, ns);
    case OP_ACCEPT:
        return fx_net_accept(cx, s, (uint32_t) c->a);
    case OP_ACTIVE:
        return fx_net_active(cx, s, (int32_t) c->a);
    case OP_RECV:
        return fx_net_recv(cx, s, (size_t) c->a, c->b);
    case OP_SEND:
        return fx_net_send(cx, s, c->len <= sizeof c->data ? c->data : block, c->len);
    case OP_SENDTO:
        return fx_net_sendto(cx, s, &c->addr, c->data, c->len);
    case OP_FILL:
        rc = 0;
        for (int i = 0; i < 100000 && rc == 0; i++) {
            rc = fx_net_send(cx, s, block, sizeof block);
            if (c->a == 1 && rc == 0 && fx_net_queued(cx, s) > 0)
                break;
        }
        return rc;
    case OP_SHUTDOWN:
        return fx_net_shutdown(cx, s, (int) c->a);
    case OP_CLOSE:
        return fx_net_close(cx, s);
    case OP_CTL:
        return fx_net_controlling_process(cx, s, c->pid);
    case OP_QUEUED:
        return fx_net_queued(cx, s);
    case OP_ADOPT:
        return drv_add(st, (fx_sock){(uint64_t) c->a});
    case OP_PORT: {
        fx_net_addr a;
        rc = fx_net_sockname(cx, s, &a);
        return rc != 0 ? rc : fx_net_addr_port(&a);
    }
    default:
        return FX_EINVAL;
    }
}

static inline fx_next drv_loop(fx_ctx *cx, fx_msg *m)
{
    drv_st *st = fx_state(cx);
    uint32_t ty = fx_msg_type(m);
    if (ty == R_CMD && fx_msg_size(m) == sizeof(rcmd)) {
        rcmd c;
        memcpy(&c, fx_msg_data(m), sizeof c);
        if (c.op == OP_EXIT)
            return fx_stop(cx, fx_reason_normal());
        int64_t rc = drv_run(cx, st, &c);
        (void) fx_send(cx, st->report, R_RC, &rc, sizeof rc);
    } else if (ty >= FX_NET_DATA && ty <= FX_NET_WRITABLE) {
        static _Thread_local char buf[sizeof(rev) + R_EV_MAX];
        size_t k = fx_msg_size(m) < R_EV_MAX ? fx_msg_size(m) : R_EV_MAX;
        rev h = {.type = ty,
                 .size = (uint32_t) fx_msg_size(m),
                 .sock = fx_msg_ref(m).id,
                 .who = st->tag};
        memcpy(buf, &h, sizeof h);
        if (k)
            memcpy(buf + sizeof h, fx_msg_data(m), k);
        if (ty == FX_NET_ACCEPTED && fx_msg_size(m) == sizeof(fx_sock)) {
            fx_sock ns;
            memcpy(&ns, fx_msg_data(m), sizeof ns);
            (void) drv_add(st, ns);
        }
        (void) fx_send(cx, st->report, R_EV, buf, sizeof h + k);
    }
    return fx_continue(cx);
}

/* ---- the test thread's side ------------------------------------------------ */

static inline fx_pid drv_spawn(tvm *t)
{
    static uint32_t tags;
    drv_st st = {.report = t->me, .tag = ++tags};
    fx_spawn_opts o = {.handler = drv_loop, .state_size = sizeof st, .state_init = &st};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, &p), 0);
    return p;
}

/* Runs a command in the driver and returns its rc (10 s bound). */
static inline int64_t drv(tvm *t, fx_pid p, rcmd c)
{
    cr_assert_eq(fx_vm_send(t->vm, p, R_CMD, &c, sizeof c), 0);
    fx_match mt = {.type = R_RC};
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t->in, &mt, 10000, &m);
    cr_assert_eq(rc, 0, "the driver did not answer command %d within 10 s", c.op);
    int64_t v;
    memcpy(&v, fx_msg_data(m), sizeof v);
    fx_msg_free(m);
    return v;
}

/* The next event the driver forwarded, within ms; NULL if none. */
static inline fx_msg *ev_next(tvm *t, int64_t ms)
{
    fx_match mt = {.type = R_EV};
    fx_msg *m = NULL;
    return fx_inbox_recv(t->in, &mt, ms, &m) == 0 ? m : NULL;
}
static inline rev ev_head(const fx_msg *m)
{
    rev h;
    memcpy(&h, fx_msg_data(m), sizeof h);
    return h;
}
static inline const char *ev_bytes(const fx_msg *m)
{
    return (const char *) fx_msg_data(m) + sizeof(rev);
}

/* Waits for the next event and checks its type; returns it (to free). */
static inline fx_msg *ev_expect(tvm *t, uint32_t type, int64_t ms)
{
    fx_msg *m = ev_next(t, ms);
    cr_assert_not_null(m, "no event (wanted 0x%x) within %lld ms", type, (long long) ms);
    rev h = ev_head(m);
    cr_assert_eq(h.type, type, "event 0x%x (size %u) where 0x%x was expected", h.type,
                 h.size, type);
    return m;
}

/* Asserts no event comes within ms. */
static inline void ev_none(tvm *t, int64_t ms, const char *why)
{
    fx_msg *m = ev_next(t, ms);
    if (m) {
        rev h = ev_head(m);
        cr_assert_fail("%s: event 0x%x (payload %u bytes) came", why, h.type, h.size);
    }
}

/* A plain listening socket on 127.0.0.1, port picked by the kernel. */
static inline int r11_listen(fx_net_addr *a)
{
    fx_net_addr_ip("127.0.0.1", 0, a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(bind(fd, (const struct sockaddr *) a->sa, a->len), 0);
    cr_assert_eq(listen(fd, 16), 0);
    socklen_t len = sizeof a->sa;
    cr_assert_eq(getsockname(fd, (struct sockaddr *) a->sa, &len), 0);
    a->len = len;
    return fd;
}

static inline int r11_accept(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, 10000), 1, "no connection came");
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    cr_assert_geq(fd, 0);
    return fd;
}

/* The driver connects (slot 0) to a plain listener of the test thread;
 * returns the peer's fd once FX_NET_CONNECTED came. */
static inline int r11_pair(tvm *t, fx_pid p, const fx_net_opts *o)
{
    rcmd c = {.op = OP_CONNECT, .a = 10000};
    int lfd = r11_listen(&c.addr);
    if (o)
        c.opts = *o;
    cr_assert_eq(drv(t, p, c), 0);
    int fd = r11_accept(lfd);
    close(lfd);
    fx_msg_free(ev_expect(t, FX_NET_CONNECTED, 10000));
    return fd;
}

/* Reads what the peer has until 500 ms pass with nothing (bounded). */
static inline long r11_drain(int fd)
{
    static char buf[65536];
    long total = 0;
    for (int i = 0; i < 100000; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 500) <= 0)
            break;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0)
            break;
        total += r;
    }
    return total;
}

#endif
