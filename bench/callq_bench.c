/* callq_0, callq_10k, callq_100k: the cost of a GenServer call made by an
 * actor with 0, 10,000 or 100,000 unrelated messages in its own queue
 * (issue 16: "a long queue must not make every call slower"). The client
 * sends itself the unrelated messages, makes one warm-up call (which moves
 * them all from its mailbox to its save queue, once), then n calls one
 * after the other, timed by the client itself; afterwards it handles the
 * queued messages and checks that they come in the order they were sent.
 * Without receive markers each call rescans the whole save queue, so its
 * cost grows with the queue; with them it does not. fauxtp only (no peer:
 * Erlang/OTP 24+ has the same markers). ops = n calls; extra.queued,
 * extra.us_per_call. */
#include <string.h>

#include "bench.h"

enum { Q_CALL = 1, Q_JUNK = 77 };

static fx_gs_ret q_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = NULL;
    return fx_gs_ok(cx);
}

static fx_gs_ret q_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) type;
    return fx_gs_reply(cx, data, size); /* echo */
}

static const fx_gs_ops q_ops = {.init = q_init, .handle_call = q_call};

typedef struct {
    fx_pid server, report;
    uint64_t queued, n, i, junk_seen;
    double t0, seconds;
    bool bad;
} q_client;

/* Result to the driver: seconds, then 1.0 if every check passed. */
static fx_next q_done(fx_ctx *cx, q_client *c)
{
    double res[2] = {c->seconds, c->bad ? 0.0 : 1.0};
    fx_send(cx, c->report, B_DONE, res, sizeof res);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next q_junk(fx_ctx *cx, fx_msg *m)
{
    q_client *c = fx_state(cx);
    uint64_t v = UINT64_MAX;
    if (fx_msg_type(m) == Q_JUNK && fx_msg_size(m) == sizeof v)
        memcpy(&v, fx_msg_data(m), sizeof v);
    if (v != c->junk_seen)
        c->bad = true;
    if (++c->junk_seen == c->queued || c->bad)
        return q_done(cx, c);
    return fx_continue(cx);
}

static fx_next q_call_next(fx_ctx *cx, q_client *c);

static fx_next q_got(fx_ctx *cx, fx_msg *m)
{
    q_client *c = fx_state(cx);
    const void *data;
    size_t size;
    uint64_t v = UINT64_MAX;
    if (fx_gs_call_result(cx, m, &data, &size, NULL) == 0 && size == sizeof v)
        memcpy(&v, data, sizeof v);
    if (v != c->i) {
        c->bad = true;
        return q_done(cx, c);
    }
    if (c->i == 0) /* the warm-up call */
        c->t0 = bench_now();
    if (c->i == c->n) {
        c->seconds = bench_now() - c->t0;
        if (!c->queued)
            return q_done(cx, c);
        return fx_become(cx, q_junk);
    }
    c->i++;
    return q_call_next(cx, c);
}

static fx_next q_call_next(fx_ctx *cx, q_client *c)
{
    return fx_gs_call_async(cx, c->server, Q_CALL, &c->i, sizeof c->i, 5000, q_got);
}

static fx_next q_first(fx_ctx *cx, void *arg)
{
    (void) arg;
    q_client *c = fx_state(cx);
    for (uint64_t i = 0; i < c->queued; i++)
        if (fx_send(cx, fx_self(cx), Q_JUNK, &i, sizeof i) != 0)
            fx_crash(cx, "cannot queue");
    return q_call_next(cx, c);
}

static int callq(bench_run *r, uint64_t queued)
{
    fx_gs_spec spec = {.ops = &q_ops, .label = "callq_server"};
    fx_pid server;
    int rc = fx_gs_start(r->inbox, &spec, &server, NULL);
    if (rc != 0)
        return bench_fail(r, "start: %s", fx_strerror(rc));
    q_client init = {
        .server = server, .report = fx_inbox_pid(r->inbox), .queued = queued, .n = r->n};
    fx_spawn_opts o = {.init = q_first, .state_size = sizeof init, .state_init = &init};
    if (fx_vm_spawn_opt(r->vm, &o, NULL) != 0)
        return bench_fail(r, "spawn");
    fx_msg *m;
    rc = fx_inbox_recv(r->inbox, &(fx_match){.type = B_DONE}, 600000, &m);
    if (rc != 0)
        return bench_fail(r, "waiting for result: %s", fx_strerror(rc));
    double res[2];
    memcpy(res, fx_msg_data(m), sizeof res);
    fx_msg_free(m);
    if (res[1] != 1.0)
        return bench_fail(r, "a wrong reply, or queued messages out of order");
    r->seconds = res[0];
    r->ops = r->n;
    snprintf(r->extra, sizeof r->extra, ",\"queued\":%llu,\"us_per_call\":%.3f",
             (unsigned long long) queued, r->n ? res[0] * 1e6 / (double) r->n : 0.0);
    rc = fx_gs_stop_server(r->inbox, server, fx_reason_normal(), 60000, NULL);
    return rc == 0 ? 0 : bench_fail(r, "stop: %s", fx_strerror(rc));
}

int bench_callq_0(bench_run *r)
{
    return callq(r, 0);
}

int bench_callq_10k(bench_run *r)
{
    return callq(r, 10000);
}

int bench_callq_100k(bench_run *r)
{
    return callq(r, 100000);
}
