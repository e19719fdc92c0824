/* The HTTP/1.1 example server's processes (docs/http.md):
 *
 *   counter   a GenServer registered as "counter" (GET /counter calls it)
 *   conns     a dynamic supervisor (simple_one_for_one) of connections
 *   acceptor  owns the listening socket; for each accepted socket it asks
 *             conns for a new child and hands the socket over to it
 *   conn      one per connection: reads with {active, N}, parses
 *             (parse.h), answers pipelined requests in one write, closes
 *             after 400/413/501 or when idle. */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

const char http_plaintext[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n"
                              "Content-Type: text/plain\r\n\r\nHello, World!";
const size_t http_plaintext_len = sizeof http_plaintext - 1;

enum {
    MAX_HEAD = 8192,  /* a longer head answers 413 */
    MAX_BODY = 65536, /* a longer Content-Length answers 413 */
    CREDIT = 64,      /* read messages per fx_net_active */
    IN_FIRST = 1024,  /* first size of a connection's input buffer */
    OUT_FIRST = 4096, /* first size of a connection's own answer buffer */
};
enum { GO = 1, TICK, LISTENING, INCR = 1 };

/* ---- the counter GenServer ----------------------------------------------- */

static fx_gs_ret counter_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = calloc(1, sizeof(int64_t));
    return *state ? fx_gs_ok(cx) : fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "counter"));
}

static fx_gs_ret counter_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                              const void *data, size_t size)
{
    (void) from, (void) type, (void) data, (void) size;
    int64_t *n = state;
    ++*n;
    return fx_gs_reply(cx, n, sizeof *n);
}

static void counter_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm, (void) reason;
    free(state);
}

static const fx_gs_ops counter_ops = {
    .init = counter_init, .handle_call = counter_call, .terminate = counter_terminate};

/* ---- a connection ----------------------------------------------------------- */

static int64_t idle_ms = 5000; /* set before the VM runs connections */

typedef struct conn {
    fx_sock s;
    char *in; /* an unfinished request (head, or head + part of the body) */
    size_t have, in_cap;
    char *out; /* answers not written yet: scratch or, if out_tls is false, own */
    size_t out_len, out_cap;
    bool out_tls; /* out is the thread's scratch (this handler call only) */
    bool seen;    /* bytes arrived since the last tick */
    bool blocked; /* a send answered FX_EAGAIN: wait for FX_NET_WRITABLE */
    bool closing; /* answered an error: drain until the peer closes */
    bool done;    /* Connection: close answered: close once written */
    bool eof;     /* the peer closed: end once the queue is written */
    int quiet;    /* ticks without bytes */
} conn;

static bool reserve(char **p, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    char *q = realloc(*p, c);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* The answers of one handler call are built in the calling scheduler
 * thread's scratch buffer, not in a buffer of the connection's own: with
 * 1,000 connections a connection's own buffer is cold each time its bytes
 * come, and writing the answers into it cost more than the runtime's
 * work per read. The scratch serves one handler call only (a handler runs
 * to its end on one thread): flush() sends what is in it, and answers
 * that must wait (the socket's queue is full) or that outgrow it move to
 * a buffer of the connection's own (own_out). */
enum { SCRATCH = 16384 };
static _Thread_local char scratch[SCRATCH];

/* Moves the answers out of the scratch into a buffer of c's own, of at
 * least need bytes. false: out of memory. */
static bool own_out(conn *c, size_t need)
{
    if (!c->out_tls)
        return reserve(&c->out, &c->out_cap, need, OUT_FIRST);
    char *h = NULL;
    size_t cap = 0;
    if (!reserve(&h, &cap, need > c->out_len ? need : c->out_len, OUT_FIRST))
        return false;
    memcpy(h, c->out, c->out_len);
    c->out = h;
    c->out_cap = cap;
    c->out_tls = false;
    return true;
}

static bool put(conn *c, const void *d, size_t n)
{
    if (!c->out) {
        c->out = scratch;
        c->out_cap = SCRATCH;
        c->out_tls = true;
    }
    if (c->out_len + n > c->out_cap && !own_out(c, c->out_len + n))
        return false;
    memcpy(c->out + c->out_len, d, n);
    c->out_len += n;
    return true;
}

/* The answers are written: the next ones go to the scratch again. */
static void out_done(conn *c)
{
    if (!c->out_tls)
        free(c->out);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    c->out_tls = false;
}

/* An answer with a body; adds "Connection: close" when asked. */
static bool answer(conn *c, const char *status, const char *type, const void *body,
                   size_t len, bool close)
{
    char head[256];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Length: %zu\r\n", status,
                     len);
    if (type)
        n += snprintf(head + n, sizeof head - (size_t) n, "Content-Type: %s\r\n", type);
    n += snprintf(head + n, sizeof head - (size_t) n, "%s\r\n",
                  close ? "Connection: close\r\n" : "");
    return put(c, head, (size_t) n) && put(c, body, len);
}

static void error_answer(conn *c, int rc)
{
    const char *st = rc == HTTP_TOO_LARGE     ? "413 Content Too Large"
                     : rc == HTTP_UNSUPPORTED ? "501 Not Implemented"
                                              : "400 Bad Request";
    (void) answer(c, st, NULL, "", 0, true);
    c->closing = true;
}

/* Writes what is in c->out (called before every handler returns with
 * answers made). false: the connection is gone. */
static bool flush(fx_ctx *cx, conn *c)
{
    if (c->out_len == 0) {
        out_done(c);
        return true;
    }
    if (c->blocked) /* keep them for FX_NET_WRITABLE */
        return own_out(c, c->out_len);
    int rc = fx_net_send(cx, c->s, c->out, c->out_len);
    if (rc == FX_EAGAIN) { /* stop reading until the queue drains */
        c->blocked = true;
        fx_net_active(cx, c->s, 0);
        return own_out(c, c->out_len);
    }
    out_done(c); /* written, or queued (copied) by the runtime */
    return rc == 0;
}

static fx_next conn_loop(fx_ctx *cx, fx_msg *m);

/* Answers the complete requests in buf[0..len) (defined below). */
static bool process(fx_ctx *cx, conn *c, const char *buf, size_t len, size_t *used,
                    bool *call);

static fx_next conn_end(fx_ctx *cx, conn *c)
{
    fx_net_close(cx, c->s);
    return fx_stop(cx, fx_reason_normal());
}

/* Keeps the unparsed tail, writes the answers, reads on. */
static fx_next conn_after(fx_ctx *cx, conn *c)
{
    if (!flush(cx, c))
        return conn_end(cx, c);
    if (c->closing || c->done) {
        fx_net_shutdown(cx, c->s, FX_NET_SHUT_WR); /* once the answers are out */
        c->have = 0;
    }
    return fx_become(cx, conn_loop);
}

/* Runs the requests buffered in c->in; may start a counter call. */
static fx_next run_buffer(fx_ctx *cx, conn *c);

static fx_next counter_reply(fx_ctx *cx, fx_msg *m)
{
    conn *c = fx_state(cx);
    const void *d;
    size_t n;
    int64_t v = 0;
    char body[32];
    int rc = fx_gs_call_result(cx, m, &d, &n, NULL);
    if (rc == 0 && n == sizeof v)
        memcpy(&v, d, sizeof v);
    int len = snprintf(body, sizeof body, "%lld\n", (long long) v);
    /* c->in starts with the /counter request itself: its head is there. */
    http_req r;
    (void) http_parse(c->in, c->have, MAX_HEAD, &r);
    size_t used = r.head_len + r.content_length;
    if (!(rc == 0 ? answer(c, "200 OK", "text/plain", body, (size_t) len, !r.keep_alive)
                  : answer(c, "503 Service Unavailable", NULL, "", 0, !r.keep_alive)))
        return conn_end(cx, c);
    c->done = !r.keep_alive;
    memmove(c->in, c->in + used, c->have - used);
    c->have -= used;
    return run_buffer(cx, c);
}

static fx_next run_buffer(fx_ctx *cx, conn *c)
{
    size_t used = 0;
    bool call = false;
    if (!c->done && !c->closing && !process(cx, c, c->in, c->have, &used, &call))
        return conn_end(cx, c);
    if (call) { /* c->in + used is the /counter request: keep it for the reply */
        memmove(c->in, c->in + used, c->have - used);
        c->have -= used;
        if (!flush(cx, c))
            return conn_end(cx, c);
        return fx_gs_call_named_async(cx, "counter", INCR, NULL, 0, 5000, counter_reply);
    }
    memmove(c->in, c->in + used, c->have - used);
    c->have -= used;
    return conn_after(cx, c);
}

/* Answers the complete requests in buf[0..len); *used: bytes consumed.
 * Stops before a /counter request with *call set. false: out of memory. */
static bool process(fx_ctx *cx, conn *c, const char *buf, size_t len, size_t *used,
                    bool *call)
{
    (void) cx;
    size_t at = 0;
    while (at < len && !c->closing && !c->done) {
        http_req r;
        int rc = http_parse(buf + at, len - at, MAX_HEAD, &r);
        if (rc == HTTP_INCOMPLETE)
            break;
        if (rc < 0) {
            error_answer(c, rc);
            break;
        }
        if (r.content_length > MAX_BODY) {
            error_answer(c, HTTP_TOO_LARGE);
            break;
        }
        if (len - at < r.head_len + r.content_length)
            break; /* the body is still coming */
        const char *body = buf + at + r.head_len;
        bool get = r.method_len == 3 && memcmp(r.method, "GET", 3) == 0;
        bool post = r.method_len == 4 && memcmp(r.method, "POST", 4) == 0;
#define PATH(p) (r.target_len == sizeof p - 1 && memcmp(r.target, p, sizeof p - 1) == 0)
        bool ok;
        if (get && PATH("/counter")) {
            *call = true;
            break;
        } else if (get && PATH("/plaintext") && r.keep_alive) {
            ok = put(c, http_plaintext, http_plaintext_len);
        } else if (get && PATH("/plaintext")) {
            ok = answer(c, "200 OK", "text/plain", "Hello, World!", 13, true);
        } else if (post && PATH("/echo")) {
            ok = answer(c, "200 OK", "application/octet-stream", body, r.content_length,
                        !r.keep_alive);
        } else {
            ok = answer(c, "404 Not Found", NULL, "", 0, !r.keep_alive);
        }
#undef PATH
        if (!ok)
            return false;
        c->done = !r.keep_alive;
        at += r.head_len + r.content_length;
    }
    *used = at;
    return true;
}

static fx_next conn_loop(fx_ctx *cx, fx_msg *m)
{
    conn *c = fx_state(cx);
    switch (fx_msg_type(m)) {
    case GO: /* the socket is ours now */
        fx_net_active(cx, c->s, CREDIT);
        fx_send_after(cx, idle_ms / 2, fx_self(cx), TICK, NULL, 0, NULL);
        return fx_continue(cx);
    case FX_NET_DATA: {
        const char *d = fx_msg_data(m);
        size_t n = fx_msg_size(m);
        c->seen = true;
        if (c->closing || c->done)
            return fx_continue(cx); /* drain what the peer still sends */
        if (c->have == 0) {         /* the usual case: parse the message in place */
            size_t used = 0;
            bool call = false;
            if (!process(cx, c, d, n, &used, &call) ||
                !reserve(&c->in, &c->in_cap, n - used, IN_FIRST))
                return conn_end(cx, c);
            if (n > used) /* c->in may still be NULL when nothing is left */
                memcpy(c->in, d + used, n - used);
            c->have = n - used;
            if (call)
                return run_buffer(cx, c);
            return conn_after(cx, c);
        }
        if (!reserve(&c->in, &c->in_cap, c->have + n, IN_FIRST))
            return conn_end(cx, c);
        memcpy(c->in + c->have, d, n);
        c->have += n;
        return run_buffer(cx, c);
    }
    case FX_NET_PASSIVE:
        if (!c->blocked)
            fx_net_active(cx, c->s, CREDIT);
        return fx_continue(cx);
    case FX_NET_WRITABLE:
        c->blocked = false;
        if (!flush(cx, c))
            return conn_end(cx, c);
        if (c->eof && !c->blocked && fx_net_queued(cx, c->s) <= 0)
            return conn_end(cx, c);
        if (!c->blocked)
            fx_net_active(cx, c->s, CREDIT);
        return fx_continue(cx);
    case TICK: /* idle twice in a row (or the peer gone, all written): close */
        if (c->eof && fx_net_queued(cx, c->s) <= 0)
            return conn_end(cx, c);
        c->quiet = c->seen ? 0 : c->quiet + 1;
        c->seen = false;
        if (c->quiet >= 2)
            return conn_end(cx, c);
        fx_send_after(cx, idle_ms / 2, fx_self(cx), TICK, NULL, 0, NULL);
        return fx_continue(cx);
    case FX_NET_CLOSED: /* the peer is done: end once our answers are out */
        c->eof = true;
        if (fx_net_queued(cx, c->s) <= 0 && !c->blocked)
            return conn_end(cx, c);
        fx_net_shutdown(cx, c->s, FX_NET_SHUT_WR);
        return fx_continue(cx);
    case FX_NET_ERROR: /* reset: the socket is closed already */
        return fx_stop(cx, fx_reason_normal());
    default:
        return fx_continue(cx);
    }
}

static fx_next conn_init(fx_ctx *cx, void *arg)
{
    conn *c = fx_state(cx);
    memcpy(&c->s, arg, sizeof c->s); /* the supervisor's copy of the socket */
    return fx_become(cx, conn_loop);
}

static void conn_cleanup(void *state, const fx_reason *reason)
{
    (void) reason;
    conn *c = state;
    free(c->in);
    if (!c->out_tls)
        free(c->out);
}

static const fx_spawn_opts conn_opts = {.init = conn_init,
                                        .state_size = sizeof(conn),
                                        .cleanup = conn_cleanup,
                                        .label = "http_conn"};

/* ---- the acceptor ----------------------------------------------------------- */

typedef struct acceptor {
    fx_pid conns, report;
    fx_sock ls, pending;
    uint16_t port;
} acceptor;

static fx_next acceptor_loop(fx_ctx *cx, fx_msg *m);

static fx_next child_started(fx_ctx *cx, fx_msg *m)
{
    acceptor *a = fx_state(cx);
    const void *d;
    size_t n;
    fx_sup_reply r;
    if (fx_gs_call_result(cx, m, &d, &n, NULL) != 0 ||
        fx_sup_reply_decode(d, n, &r, NULL, NULL) != 0 ||
        fx_net_controlling_process(cx, a->pending, r.pid) != 0)
        fx_net_close(cx, a->pending); /* e.g. max_children reached */
    else
        fx_send(cx, r.pid, GO, NULL, 0);
    return fx_become(cx, acceptor_loop);
}

static fx_next acceptor_loop(fx_ctx *cx, fx_msg *m)
{
    acceptor *a = fx_state(cx);
    if (fx_msg_type(m) == FX_NET_ACCEPTED) {
        memcpy(&a->pending, fx_msg_data(m), sizeof a->pending);
        return fx_gs_call_async(cx, a->conns, FX_SUP_START_CHILD_ARGS, &a->pending,
                                sizeof a->pending, 5000, child_started);
    }
    return fx_continue(cx);
}

static fx_next acceptor_init(fx_ctx *cx, void *arg)
{
    acceptor *a = fx_state(cx);
    (void) arg;
    fx_net_addr addr;
    fx_net_opts o = {.nodelay = true, .reuseport = false};
    int rc = fx_net_addr_ip("127.0.0.1", a->port, &addr);
    if (rc == 0)
        rc = fx_net_listen(cx, &addr, &o, &a->ls);
    if (rc == 0)
        rc = fx_net_sockname(cx, a->ls, &addr);
    uint16_t port = rc == 0 ? fx_net_addr_port(&addr) : 0;
    fx_send(cx, a->report, LISTENING, &port, sizeof port);
    if (rc != 0)
        return fx_stop(cx, fx_reason_error(rc, "listen"));
    fx_net_accept(cx, a->ls, UINT32_MAX);
    return fx_become(cx, acceptor_loop);
}

/* ---- starting ---------------------------------------------------------------- */

static const fx_child_spec conn_template = {
    .start = fx_child_actor,
    .carg = &conn_opts,
    .restart = FX_TEMPORARY, /* a connection that died is gone */
    .shutdown_ms = FX_SHUTDOWN_BRUTAL_KILL,
};

int http_server_start(fx_inbox *in, const http_config *cfg, http_server *out)
{
    if (cfg->idle_ms > 0)
        idle_ms = cfg->idle_ms;
    fx_gs_spec gs = {.ops = &counter_ops, .name = "counter", .label = "counter"};
    int rc = fx_gs_start(in, &gs, &out->counter, NULL);
    if (rc)
        return rc;
    fx_sup_spec sup;
    fx_sup_spec_init(&sup);
    sup.strategy = FX_SIMPLE_ONE_FOR_ONE;
    sup.max_children = cfg->max_conns;
    sup.children = &conn_template;
    sup.nchildren = 1;
    sup.label = "http_conns";
    if ((rc = fx_sup_start(in, &sup, &out->conns, NULL)) != 0)
        return rc;
    acceptor a = {.conns = out->conns, .report = fx_inbox_pid(in), .port = cfg->port};
    fx_spawn_opts o = {.init = acceptor_init,
                       .state_size = sizeof a,
                       .state_init = &a,
                       .label = "http_acceptor"};
    fx_msg *m;
    if ((rc = fx_vm_spawn_opt(fx_inbox_vm(in), &o, &out->acceptor)) != 0 ||
        (rc = fx_inbox_recv(in, NULL, 5000, &m)) != 0)
        return rc;
    memcpy(&out->port, fx_msg_data(m), sizeof out->port);
    fx_msg_free(m);
    return out->port ? 0 : FX_EADDR;
}
