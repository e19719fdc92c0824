/* One connection process per remote node: epmd lookup (initiator), the
 * version 6 handshake in either role, then 4-byte frames both ways and
 * ticks. Frames to write arrive as FXI_DIST_OUT messages (built by the
 * senders, dist_out.c) and are written in arrival order, which keeps
 * Erlang's per-pair order. During the handshake they wait in the mailbox
 * (a selective receive that skips them). */
#include <fauxtp/error.h>
#include <fauxtp/log.h>
#include <fauxtp/net.h>
#include <fauxtp/pool.h>
#include <fauxtp/registry.h>
#include <fauxtp/timer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "actor/msg.h"
#include "actor/ptable.h"
#include "actor/send.h"
#include "actor/signal.h"
#include "actor/vm.h"
#include "dist/dist.h"
#include "dist/dist_conn.h"
#include "dist/dist_sig.h"

enum { P_EPMD, P_CONNECT, P_STATUS, P_CHAL, P_ACK, P_NAME, P_REPLY, P_UP, P_RESOLVE };

#define CREDIT 64

static fx_next hs(fx_ctx *cx, fx_msg *m);
static fx_next run(fx_ctx *cx, fx_msg *m);
static fx_next conn_down(fx_ctx *cx, conn *c, const char *why);
static fx_next resolved(fx_ctx *cx, conn *c, fx_msg *m);

static bool not_out(const fx_msg *m, void *arg)
{
    (void) arg;
    uint32_t t = fx_msg_type(m);
    return t != FXI_DIST_OUT && (t < FXI_DIST_S_FIRST || t > FXI_DIST_S_LAST);
}

static fx_next wait_hs(fx_ctx *cx, conn *c)
{
    fx_match mt = {.pred = not_out};
    return fx_receive(cx, hs, &mt, c->d->setup_ms);
}

static bool is_out(const fx_msg *m, void *arg);

/* The connection ends: the link and monitor requests still queued for it
 * (made while it was being set up, or just before it dropped) get their
 * noconnection now, as Erlang's do; queued frames are dropped. Then it
 * exits with the reason kept in c->why. */
static fx_next end_drain(fx_ctx *cx, fx_msg *m)
{
    conn *c = fx_state(cx);
    fx_reason nc = fxi_dist_noconnection();
    switch (fx_msg_type(m)) {
    case FX_MSG_TIMEOUT: /* nothing more queued */
        return fx_stop(cx, fx_reason_shutdown_with("%s", c->why));
    case FXI_DIST_S_LINK:
        fx_msg_keep(cx, m);
        fxi_sig_fire_exit(cx->vm, cx->w, m, (fx_pid){fx_msg_ref(m).id}, &nc,
                          FXI_EXIT_LINK);
        break;
    case FXI_DIST_S_MONITOR:
        fx_msg_keep(cx, m);
        fxi_sig_fire_down(cx->vm, cx->w, m, ((const fx_down_info *) fx_msg_data(m))->pid,
                          &nc);
        break;
    default:
        break;
    }
    fx_match mt = {.pred = is_out};
    return fx_receive(cx, end_drain, &mt, 0);
}

static fx_next end(fx_ctx *cx, conn *c, const char *why)
{
    snprintf(c->why, sizeof c->why, "%s", why);
    fx_match mt = {.pred = is_out};
    return fx_receive(cx, end_drain, &mt, 0);
}

static fx_next fail(fx_ctx *cx, conn *c, int code, const char *why)
{
    c->fail = code;
    /* an initiator is the node's connection: its monitor_node watchers
     * get their nodedown (dist_nodemon.c) */
    fxi_mutex_lock(&c->d->mx);
    fxi_dist_node_gone(c->d, cx, c->peer, c->self, why);
    fxi_mutex_unlock(&c->d->mx);
    fx_log(cx->vm, FX_LOG_INFO, "dist: connection %s %s: %s",
           c->initiator ? "to" : "from", c->peer[0] ? c->peer : "?", why);
    return end(cx, c, why);
}

static void notify(fx_vm *vm, conn *c, int32_t rc)
{
    for (uint32_t i = 0; i < c->nw; i++)
        fxi_dist_signal(vm, NULL, c->waiters[i], FXI_DIST_UP, true, rc);
    c->nw = 0;
}

static int append(conn *c, const void *p, size_t n)
{
    if (c->cap - c->len < n) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap - c->len < n)
            cap *= 2;
        uint8_t *b = realloc(c->buf, cap);
        if (!b)
            return FX_ENOMEM;
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return 0;
}

static void consume(conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

static uint32_t random32(void)
{
    uint32_t v = 0;
    while (v == 0)
        if (getrandom(&v, sizeof v, 0) != (ssize_t) sizeof v)
            v = (uint32_t) rand();
    return v;
}

/* ---- up ----------------------------------------------------------------- */

static void deliver(fx_ctx *cx, conn *c, const fxi_dist_ctl *ctl, const uint8_t *term,
                    size_t tlen)
{
    fxi_dist *d = c->d;
    fx_pid to;
    if (ctl->has_name) {
        if (fx_whereis(cx->vm, ctl->name, &to) != 0)
            return; /* no such name: dropped, as in Erlang */
    } else {
        if (strcmp(ctl->to.node, d->name) != 0)
            return;
        to = fxi_dist_pid_in(d, &ctl->to);
    }
    fx_pid from = ctl->has_from ? fxi_dist_pid_in(d, &ctl->from) : FX_PID_NONE;
    if (fxi_dsig_gen_in(cx, d, &c->sigs, to, from, term, tlen))
        return; /* a GenServer call, cast or reply (dist_sig.c) */
    uint32_t type;
    const uint8_t *data;
    size_t size;
    if (!fxi_dist_plain(term, tlen, &type, &data, &size)) {
        type = FX_MSG_TERM;
        data = term;
        size = tlen;
    }
    if (size > cx->vm->cfg.max_msg_size) {
        fx_log(cx->vm, FX_LOG_WARNING,
               "dist: dropped a %zu-byte message from %s (max_msg_size)", size, c->peer);
        return;
    }
    fx_msg *m = fxi_msg_alloc(type, (uint32_t) size);
    if (!m)
        return;
    if (size)
        memcpy(m->data, data, size);
    m->from = from;
    fxi_deliver_or_drop(cx->vm, cx->w, to, m);
}

/* 0, or -1 for a malformed frame (the connection closes). */
static int frame_in(fx_ctx *cx, conn *c, const uint8_t *b, size_t n)
{
    fxi_dist_ctl ctl;
    if (fxi_dist_parse(b, n, &ctl) != 0)
        return -1;
    switch (ctl.op) {
    case FXI_DOP_SEND:
    case FXI_DOP_SEND_SENDER:
    case FXI_DOP_REG_SEND:
        deliver(cx, c, &ctl, b + ctl.msg_off, ctl.msg_len);
        break;
    default: { /* links, monitors, exits (dist_sig.c); others are ignored */
        ei_x_buff x;
        if (fxi_dsig_in(cx, c->d, &c->sigs, &ctl, b, &x)) {
            int rc = fxi_dc_write_ctl(cx, c, &x);
            ei_x_free(&x);
            if (rc != 0)
                return -1; /* a frame would be lost: the connection closes */
        }
        break;
    }
    }
    return 0;
}

static size_t max_frame(const fx_ctx *cx)
{
    return (size_t) cx->vm->cfg.max_msg_size + 65536;
}

/* Handles every whole frame in the buffer. false: malformed. */
static bool frames(fx_ctx *cx, conn *c)
{
    size_t off = 0;
    c->batch = true; /* the replies written below go out together */
    for (;;) {
        const uint8_t *body;
        size_t blen;
        long r =
            fxi_frame_next(c->buf + off, c->len - off, 4, max_frame(cx), &body, &blen);
        if (r == 0)
            break;
        if (r < 0 || (blen > 0 && frame_in(cx, c, body, blen) != 0)) {
            c->len = 0;
            c->batch = false;
            return false;
        }
        off += (size_t) r;
    }
    consume(c, off);
    c->batch = false;
    return true;
}

/* Publishes the connection's busy state (its socket queue reached
 * busy_limit: c->blocked) to senders when it changed. */
static void publish_busy(conn *c)
{
    if (c->blocked == c->busy)
        return;
    c->busy = c->blocked;
    fxi_mutex_lock(&c->d->mx);
    fxi_rnode *n = fxi_dist_find(c->d, c->peer);
    if (n && n->conn.id == c->self.id)
        n->busy = c->busy;
    fxi_mutex_unlock(&c->d->mx);
}

static fx_next resume(fx_ctx *cx, conn *c)
{
    publish_busy(c);
    if (c->blocked) {
        fx_match mt = {.pred = not_out};
        return fx_receive(cx, run, &mt, FX_INFINITY);
    }
    return fx_become(cx, run);
}

static fx_next write_frame(fx_ctx *cx, conn *c, fx_msg *m)
{
    fx_msg *f = NULL;
    if (!(c->pi.flags & FXI_DFLAG_SEND_SENDER)) /* erl_interface's C nodes */
        f = fxi_dist_frame_without_sender(m);   /* m is freed after this call */
    if (!f)
        f = m; /* send_frame keeps it if it must */
    if (fxi_dc_send_frame(cx, c, f) != 0)
        return conn_down(cx, c, "connection_closed");
    return resume(cx, c);
}

/* The connection is gone: noconnection for its links and monitors. */
static fx_next conn_down(fx_ctx *cx, conn *c, const char *why)
{
    fxi_dist *d = c->d;
    if (!c->qn)
        (void) fxi_dc_out_flush(cx, c); /* best effort: frames sent before the end */
    c->olen = 0;
    fxi_mutex_lock(&d->mx); /* down for everyone before anyone is told */
    fxi_dist_node_gone(d, cx, c->peer, c->self, why);
    fxi_mutex_unlock(&d->mx);
    fxi_dsig_down(cx, &c->sigs);
    return end(cx, c, why);
}

static fx_next run(fx_ctx *cx, fx_msg *m)
{
    conn *c = fx_state(cx);
    uint32_t t = fx_msg_type(m);
    if (t >= FX_NET_MSG_BASE && t <= FX_NET_WRITABLE &&
        !fx_sock_eq(fx_net_msg_sock(m), c->sock))
        return resume(cx, c); /* the epmd socket's, closed already */
    switch (t) {
    case FXI_DIST_OUT:
        return write_frame(cx, c, m);
    case FXI_DIST_FLUSH:
        c->flush_sent = false;
        if (fxi_dc_out_flush(cx, c) != 0)
            return conn_down(cx, c, "connection_closed");
        return resume(cx, c);
    case FX_NET_WRITABLE:
        if (fxi_dc_flush(cx, c) != 0)
            return conn_down(cx, c, "connection_closed");
        return resume(cx, c);
    case FX_NET_DATA:
        c->rx += fx_msg_size(m);
        if (append(c, fx_msg_data(m), fx_msg_size(m)) != 0 || !frames(cx, c)) {
            fx_log(cx->vm, FX_LOG_WARNING, "dist: malformed frame from %s: closing",
                   c->peer);
            return conn_down(cx, c, "bad_frame");
        }
        if (fxi_dc_out_flush(cx, c) != 0) /* the replies frames() held back */
            return conn_down(cx, c, "connection_closed");
        return resume(cx, c);
    case FX_NET_PASSIVE:
        fx_net_active(cx, c->sock, CREDIT);
        return resume(cx, c);
    case FXI_DIST_TICK: {
        c->idle = c->rx == c->rx_seen ? c->idle + 1 : 0;
        c->rx_seen = c->rx;
        if (c->idle >= 4) {
            fx_log(cx->vm, FX_LOG_INFO, "dist: %s: net tick timeout", c->peer);
            return conn_down(cx, c, "net_tick_timeout");
        }
        if (!c->wrote && !c->blocked) {
            static const uint8_t tick[4] = {0, 0, 0, 0};
            fxi_dc_write_raw(cx, c, tick, 4);
        }
        c->wrote = false;
        fxi_dist_tick_after(cx, c->d->tick_ms / 4);
        return resume(cx, c);
    }
    case FXI_DIST_WAIT: {
        fxi_dist_signal(cx->vm, cx, fx_msg_from(m), FXI_DIST_UP, true, 0);
        return resume(cx, c);
    }
    case FX_NET_CLOSED:
    case FX_NET_ERROR:
        fx_log(cx->vm, FX_LOG_INFO, "dist: connection to %s closed", c->peer);
        return conn_down(cx, c, "connection_closed");
    case FXI_DIST_STOP:
        return conn_down(cx, c, "stopped");
    case FXI_DIST_S_REPLY: {
        ei_x_buff x, y;
        if (fxi_dsig_reply(c->d, &c->sigs, m, c->pi.flags & FXI_DFLAG_ALIAS, &x, &y)) {
            int rc = fxi_dc_write_ctl2(cx, c, &x, &y);
            ei_x_free(&x);
            ei_x_free(&y);
            if (rc != 0)
                return conn_down(cx, c, "connection_closed");
        }
        return resume(cx, c);
    }
    default:
        if (t >= FXI_DIST_S_FIRST && t <= FXI_DIST_S_LAST) {
            ei_x_buff x;
            if (fxi_dsig_out(cx, c->d, &c->sigs, m, &x)) {
                int rc = fxi_dc_write_ctl(cx, c, &x);
                ei_x_free(&x);
                if (rc != 0)
                    return conn_down(cx, c, "connection_closed");
            }
        }
        return resume(cx, c);
    }
}

static fx_next up(fx_ctx *cx, conn *c)
{
    fxi_dist *d = c->d;
    fxi_mutex_lock(&d->mx);
    if (!d->running || d->gen != c->gen) { /* fx_dist_stop came during the handshake */
        fxi_mutex_unlock(&d->mx);
        return fail(cx, c, FX_ENODE, "stopped");
    }
    fxi_rnode *n = fxi_dist_node_get(d, c->peer, c->pi.creation);
    /* another connection to this node came up while we shook hands */
    bool taken = n && n->up && n->conn.id && n->conn.id != c->self.id &&
                 fx_is_alive(cx->vm, n->conn) == 1;
    if (n && !taken) {
        n->conn = c->self;
        n->up = true;
        fxi_dist_node_up(d, cx, n);
    }
    fxi_mutex_unlock(&d->mx);
    if (!n)
        return fail(cx, c, FX_ENOMEM, "out of memory");
    if (taken)
        return fail(cx, c, FX_ENODE, "refused: already connected");
    c->phase = P_UP;
    notify(cx->vm, c, 0);
    fx_log(cx->vm, FX_LOG_INFO, "dist: connected to %s", c->peer);
    fxi_dist_tick_after(cx, d->tick_ms / 4);
    if (!frames(cx, c))
        return conn_down(cx, c, "bad_frame");
    if (fxi_dc_out_flush(cx, c) != 0)
        return conn_down(cx, c, "connection_closed");
    return fx_become(cx, run);
}

/* ---- handshake ---------------------------------------------------------- */

static fx_next send_challenge(fx_ctx *cx, conn *c)
{
    fxi_dist *d = c->d;
    uint8_t out[300];
    c->my_chal = random32();
    size_t k = fxi_hs_status(out, sizeof out, "ok");
    k += fxi_hs_challenge(out + k, sizeof out - k, fxi_dist_flags_ours(d->hidden),
                          c->my_chal, d->creation, d->name);
    if (fxi_dc_write_raw(cx, c, out, k) != 0)
        return fail(cx, c, FX_ENODE, "write failed");
    c->phase = P_REPLY;
    return wait_hs(cx, c);
}

/* The acceptor got send_name: may this node connect now? */
static fx_next got_name(fx_ctx *cx, conn *c)
{
    fxi_dist *d = c->d;
    strcpy(c->peer, c->pi.name);
    if ((c->pi.flags & FXI_DFLAG_REQUIRED) != FXI_DFLAG_REQUIRED ||
        strcmp(c->peer, d->name) == 0) {
        uint8_t out[32];
        fxi_dc_write_raw(cx, c, out, fxi_hs_status(out, sizeof out, "not_allowed"));
        return fail(cx, c, FX_EAUTH, "refused: flags or name");
    }
    /* Only a look-up: the peer is not authenticated yet, so it neither
     * creates a node entry (nor takes a pid tag) nor becomes the node's
     * connection; up() does both once the challenge reply checks out. */
    bool busy = false;
    fxi_mutex_lock(&d->mx);
    fxi_rnode *n = fxi_dist_find(d, c->peer);
    if (n && n->conn.id && n->conn.id != c->self.id &&
        fx_is_alive(cx->vm, n->conn) == 1) {
        /* Simultaneous connect: the greater name keeps its own attempt. */
        busy = n->up || strcmp(d->name, c->peer) > 0;
    }
    fxi_mutex_unlock(&d->mx);
    if (busy) {
        uint8_t out[32];
        fxi_dc_write_raw(cx, c, out, fxi_hs_status(out, sizeof out, "nok"));
        return fail(cx, c, FX_ENODE, "refused: already connected");
    }
    return send_challenge(cx, c);
}

/* ---- simultaneous connect ------------------------------------------------ */

static bool is_out(const fx_msg *m, void *arg)
{
    return !not_out(m, arg);
}

/* Forwards every queued frame and signal to the connection that won, in
 * order, then exits. */
static fx_next drain(fx_ctx *cx, fx_msg *m)
{
    conn *c = fx_state(cx);
    if (fx_msg_type(m) == FX_MSG_TIMEOUT)
        return fx_stop(cx, fx_reason_shutdown_with("superseded"));
    fx_msg_keep(cx, m);
    fxi_deliver_or_drop(cx->vm, cx->w, c->winner, m); /* keeps m's sender */
    fx_match mt = {.pred = is_out};
    return fx_receive(cx, drain, &mt, 0);
}

/* The peer answered nok: its own connection to us wins. Our acceptor for
 * it takes the node's entry over when its handshake is done (the peer's
 * send_name may still be on its way): wait for that, up to setup_ms, polling every
 * 50 ms; then hand the waiters and the queued frames to it. */
static bool tick_or_stop(const fx_msg *m, void *arg)
{
    (void) arg;
    return fx_msg_type(m) == FX_MSG_TIMEOUT || fx_msg_type(m) == FXI_DIST_STOP;
}

static fx_next superseded_poll(fx_ctx *cx, fx_msg *m)
{
    conn *c = fx_state(cx);
    if (fx_msg_type(m) == FXI_DIST_STOP) /* fx_dist_stop waits for us */
        return fail(cx, c, FX_ENODE, "stopped");
    fxi_mutex_lock(&c->d->mx);
    fxi_rnode *n = fxi_dist_find(c->d, c->peer);
    fx_pid w = n && n->conn.id != c->self.id ? n->conn : FX_PID_NONE;
    fxi_mutex_unlock(&c->d->mx);
    if (!w.id) {
        if (++c->polls * 50 > c->d->setup_ms)
            return fail(cx, c, FX_ENODE, "refused by peer (simultaneous connect)");
        fx_match mt = {.pred = tick_or_stop};
        return fx_receive(cx, superseded_poll, &mt, 50);
    }
    c->winner = w;
    for (uint32_t i = 0; i < c->nw; i++) { /* the winner tells them */
        fx_msg *q;
        if (fx_msg_new_behaviour(FXI_DIST_WAIT, 0, &q) == 0) {
            q->from = c->waiters[i];
            fxi_deliver_or_drop(cx->vm, cx->w, w, q);
        }
    }
    c->nw = 0;
    fx_match mt = {.pred = is_out};
    return fx_receive(cx, drain, &mt, 0);
}

static fx_next superseded(fx_ctx *cx, conn *c)
{
    fx_net_close(cx, c->sock);
    c->sock.id = 0;
    c->polls = 0;
    fx_match mt = {.pred = tick_or_stop};
    return fx_receive(cx, superseded_poll, &mt, 0);
}

/* One 2-byte-framed handshake message. */
static fx_next hs_msg(fx_ctx *cx, conn *c, const uint8_t *b, size_t n)
{
    fxi_dist *d = c->d;
    uint8_t dig[16], want[16], out[64];
    switch (c->phase) {
    case P_STATUS:
        if (n >= 3 && b[0] == 's' && (memcmp(b + 1, "ok", 2) == 0)) {
            c->phase = P_CHAL;
            return wait_hs(cx, c);
        }
        if (n == 12 && memcmp(b, "snot_allowed", 12) == 0)
            return fail(cx, c, FX_EAUTH, "refused: not allowed");
        if (n == 4 && memcmp(b, "snok", 4) == 0) /* simultaneous connect: theirs wins */
            return superseded(cx, c);
        return fail(cx, c, FX_ENODE, "refused by peer status");
    case P_CHAL:
        if (fxi_hs_parse_n(b, n, true, &c->pi) != 0 || strcmp(c->pi.name, c->peer) != 0 ||
            (c->pi.flags & FXI_DFLAG_REQUIRED) != FXI_DFLAG_REQUIRED)
            return fail(cx, c, FX_EDIST, "bad challenge");
        fxi_dist_digest(c->pi.challenge, d->cookie, dig);
        c->my_chal = random32();
        if (fxi_dc_write_raw(cx, c, out,
                             fxi_hs_reply(out, sizeof out, c->my_chal, dig)) != 0)
            return fail(cx, c, FX_ENODE, "write failed");
        c->phase = P_ACK;
        return wait_hs(cx, c);
    case P_ACK:
        fxi_dist_digest(c->my_chal, d->cookie, want);
        if (fxi_hs_parse_ack(b, n, dig) != 0 || memcmp(dig, want, 16) != 0)
            return fail(cx, c, FX_EAUTH, "bad challenge ack (cookie)");
        return up(cx, c);
    case P_NAME:
        if (fxi_hs_parse_n(b, n, false, &c->pi) != 0)
            return fail(cx, c, FX_EDIST, "bad send_name");
        return got_name(cx, c);
    case P_REPLY: {
        uint32_t their;
        fxi_dist_digest(c->my_chal, d->cookie, want);
        if (fxi_hs_parse_reply(b, n, &their, dig) != 0 || memcmp(dig, want, 16) != 0)
            return fail(cx, c, FX_EAUTH, "bad challenge reply (cookie)");
        fxi_mutex_lock(&d->mx);
        bool running = d->running && d->gen == c->gen;
        fxi_mutex_unlock(&d->mx);
        if (!running) /* fx_dist_stop came during the handshake: no ack */
            return fail(cx, c, FX_ENODE, "stopped");
        fxi_dist_digest(their, d->cookie, dig);
        if (fxi_dc_write_raw(cx, c, out, fxi_hs_ack(out, sizeof out, dig)) != 0)
            return fail(cx, c, FX_ENODE, "write failed");
        return up(cx, c);
    }
    default:
        return fail(cx, c, FX_EDIST, "unexpected data");
    }
}

static fx_next hs_data(fx_ctx *cx, conn *c)
{
    if (c->phase == P_EPMD) {
        uint16_t port;
        int r = fxi_epmd_port2_resp(c->buf, c->len, &port);
        if (r == 0)
            return wait_hs(cx, c);
        if (r < 0)
            return fail(cx, c, FX_ENODE, "not registered with epmd");
        fx_net_close(cx, c->epmd);
        c->epmd.id = 0;
        c->len = 0;
        fx_net_addr a;
        fx_net_opts o = {
            .nodelay = true, .busy_poll = true, .high_water = c->d->busy_limit};
        if (fx_net_addr_ip(c->ip, port, &a) != 0 ||
            fx_net_connect(cx, &a, &o, c->d->setup_ms, &c->sock) != 0)
            return fail(cx, c, FX_ENODE, "connect failed");
        c->phase = P_CONNECT;
        return wait_hs(cx, c);
    }
    for (;;) {
        const uint8_t *body;
        size_t blen;
        long r = fxi_frame_next(c->buf, c->len, 2, 1024, &body, &blen);
        if (r == 0)
            return wait_hs(cx, c);
        if (r < 0)
            return fail(cx, c, FX_EDIST, "bad handshake frame");
        int phase = c->phase;
        fx_next nx = hs_msg(cx, c, body, blen);
        consume(c, (size_t) r);
        if (c->phase == phase || c->phase == P_UP || c->fail)
            return nx;
        if (c->len == 0)
            return nx;
        /* more handshake bytes already here (status and challenge may come
         * in one read): the continuation returned above is replaced. */
    }
}

static fx_next hs(fx_ctx *cx, fx_msg *m)
{
    conn *c = fx_state(cx);
    fx_sock s = fx_net_msg_sock(m);
    uint32_t t = fx_msg_type(m);
    if (t >= FX_NET_MSG_BASE && t <= FX_NET_WRITABLE && !fx_sock_eq(s, c->sock) &&
        !(c->epmd.id && fx_sock_eq(s, c->epmd)))
        return wait_hs(cx, c); /* the epmd socket's last words, after we closed it */
    switch (t) {
    case FX_MSG_TIMEOUT:
        if (c->phase == P_RESOLVE)
            return fail(cx, c, FX_ETIMEDOUT, "host name lookup timed out");
        return fail(cx, c, FX_ETIMEDOUT, "handshake timed out");
    case FX_MSG_POOL_DONE:
        if (c->phase != P_RESOLVE || fx_msg_ref(m).id != c->resolve.id)
            return wait_hs(cx, c);
        return resolved(cx, c, m);
    case FXI_DIST_WAIT:
        if (c->nw == c->cw) {
            uint32_t cw = c->cw ? c->cw * 2 : 16;
            fx_pid *a = cw > c->cw ? realloc(c->waiters, cw * sizeof *a) : NULL;
            if (!a) { /* tell this one now rather than never */
                fxi_dist_signal(cx->vm, cx, fx_msg_from(m), FXI_DIST_UP, true, FX_ENOMEM);
                return wait_hs(cx, c);
            }
            c->waiters = a;
            c->cw = cw;
        }
        c->waiters[c->nw++] = fx_msg_from(m);
        return wait_hs(cx, c);
    case FXI_DIST_STOP:
        return fail(cx, c, FX_ENODE, "stopped");
    case FXI_DIST_SOCK:
        memcpy(&c->sock, fx_msg_data(m), sizeof c->sock);
        fx_net_active(cx, c->sock, CREDIT);
        c->phase = P_NAME;
        return wait_hs(cx, c);
    case FX_NET_CONNECTED: {
        uint8_t out[300];
        if (c->epmd.id && fx_sock_eq(s, c->epmd)) {
            char alive[256], host[FXI_DIST_HOST_MAX];
            fxi_dist_split_name(c->peer, alive, sizeof alive, host, sizeof host);
            size_t k = fxi_epmd_port2_req(out, sizeof out, alive);
            if (fx_net_send(cx, c->epmd, out, k) != 0)
                return fail(cx, c, FX_ENODE, "epmd write failed");
            fx_net_active(cx, c->epmd, CREDIT);
            return wait_hs(cx, c);
        }
        size_t k = fxi_hs_send_name(out, sizeof out, fxi_dist_flags_ours(c->d->hidden),
                                    c->d->creation, c->d->name);
        if (fxi_dc_write_raw(cx, c, out, k) != 0)
            return fail(cx, c, FX_ENODE, "write failed");
        fx_net_active(cx, c->sock, CREDIT);
        c->phase = P_STATUS;
        return wait_hs(cx, c);
    }
    case FX_NET_DATA:
        if (append(c, fx_msg_data(m), fx_msg_size(m)) != 0)
            return fail(cx, c, FX_ENOMEM, "out of memory");
        return hs_data(cx, c);
    case FX_NET_PASSIVE:
        fx_net_active(cx, s, CREDIT);
        return wait_hs(cx, c);
    case FX_NET_CLOSED:
    case FX_NET_ERROR:
        if (c->phase == P_EPMD)
            return fail(cx, c, FX_ENODE, "epmd closed");
        if (c->phase == P_ACK)
            return fail(cx, c, FX_EAUTH, "closed by peer after our reply (cookie?)");
        return fail(cx, c, FX_ENODE, "closed during handshake");
    default:
        return wait_hs(cx, c);
    }
}

/* The peer's address is known (c->ip): ask its epmd for the port. */
static fx_next epmd_lookup(fx_ctx *cx, conn *c)
{
    fx_net_addr a;
    if (fx_net_addr_ip(c->ip, c->d->epmd_port, &a) != 0)
        return fail(cx, c, FX_EINVAL, "bad node address");
    if (fx_net_connect(cx, &a, NULL, c->d->setup_ms, &c->epmd) != 0)
        return fail(cx, c, FX_ENODE, "epmd unreachable");
    c->phase = P_EPMD;
    return wait_hs(cx, c);
}

static fx_next resolved(fx_ctx *cx, conn *c, fx_msg *m)
{
    char ip[sizeof c->ip], why[160];
    int rc = fxi_dist_resolved(m, ip, sizeof ip);
    if (rc != 0) {
        snprintf(why, sizeof why, "host does not resolve: %s", ip);
        return fail(cx, c, rc == FX_ESHUTDOWN ? rc : FX_EADDR, why);
    }
    strcpy(c->ip, ip);
    return epmd_lookup(cx, c);
}

static fx_next conn_init(fx_ctx *cx, void *arg)
{
    conn *c = arg;
    c->self = fx_self(cx);
    if (!c->initiator) {
        c->phase = P_NAME;
        return wait_hs(cx, c);
    }
    char alive[256], host[FXI_DIST_HOST_MAX];
    if (fxi_dist_split_name(c->peer, alive, sizeof alive, host, sizeof host) != 0)
        return fail(cx, c, FX_EINVAL, "bad node name");
    if (!fxi_dist_host_style_ok(host, c->d->longnames))
        return fail(cx, c, FX_EINVAL,
                    c->d->longnames
                        ? "host is not fully qualified (this node has long names)"
                        : "host is fully qualified (this node has short names)");
    if (fxi_dist_numeric_ip(host, c->d->inet6, c->ip, sizeof c->ip) == 0)
        return epmd_lookup(cx, c);
    /* A name: getaddrinfo may block, so it runs on the blocking pool and
     * its answer comes back as a message (wait_hs's setup_ms applies). */
    c->resolve = fx_make_ref(cx);
    int rc = fxi_dist_resolve_submit(cx->vm, c->self, host, c->d->inet6, c->resolve);
    if (rc != 0)
        return fail(cx, c, rc, "host name lookup could not start");
    c->phase = P_RESOLVE;
    return wait_hs(cx, c);
}

static void conn_cleanup(void *state, const fx_reason *reason)
{
    (void) reason;
    conn *c = state;
    if (!c)
        return;
    fxi_dist *d = c->d;
    fxi_mutex_lock(&d->mx); /* still the node's connection: it crashed */
    fxi_dist_node_gone(d, NULL, c->peer, c->self, "connection_closed");
    fxi_mutex_unlock(&d->mx);
    notify(d->vm, c, c->fail ? c->fail : FX_ENODE);
    for (uint32_t i = 0; i < c->qn; i++)
        fx_msg_free(c->q[c->qh + i]);
    free(c->q);
    fxi_dsig_free(&c->sigs);
    free(c->waiters);
    free(c->ob);
    free(c->buf);
    free(c);
}

int fxi_dist_conn_spawn(fxi_dist *d, const char *peer, fx_pid *out)
{
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return FX_ENOMEM;
    c->d = d;
    c->gen = d->gen;
    c->initiator = peer != NULL;
    if (peer)
        snprintf(c->peer, sizeof c->peer, "%s", peer);
    fx_spawn_opts o = {0};
    o.init = conn_init;
    o.init_arg = c;
    o.state = c;
    o.cleanup = conn_cleanup;
    o.label = "dist_conn";
    if (d->nconns == d->cconns) { /* room first: a spawned process is listed */
        uint32_t k = 0;
        for (uint32_t i = 0; i < d->nconns; i++)
            if (fx_is_alive(d->vm, d->conns[i]) == 1)
                d->conns[k++] = d->conns[i];
        d->nconns = k;
    }
    if (d->nconns == d->cconns) {
        uint32_t cap = d->cconns ? d->cconns * 2 : 8;
        fx_pid *a = realloc(d->conns, cap * sizeof *a);
        if (!a) {
            free(c);
            return FX_ENOMEM;
        }
        d->conns = a;
        d->cconns = cap;
    }
    int rc = fx_vm_spawn_opt(d->vm, &o, out);
    if (rc != 0)
        free(c);
    else
        d->conns[d->nconns++] = *out;
    return rc;
}
