/* callrt: GenServer call round trips. A client actor makes n calls to a
 * counter GenServer, one in flight at a time, each issued from the
 * continuation that received the previous reply (Erlang: gen_server:call
 * in a loop; CAF: request(...).then(...) chained). Timed like the peers:
 * from the server's start to the last reply. Verified: every reply is the
 * count it should be and the server's final count is n.
 *
 * The calls wait at most 5 s, as gen_server:call/2 does by default (CAF's
 * peer waits forever). Extras, not in the peers: the same n calls without
 * a timeout (extra.untimed_calls_per_sec: a timed call also arms and
 * cancels a receive timer), and n/10 blocking fx_gs_call round trips from
 * the main thread through its inbox (extra.ext_calls, ext_calls_per_sec). */
#include <string.h>

#include "bench.h"

enum { RT_INCR = 1, RT_GET };

/* Erlang's gen_server:call/2 waits 5 s by default. */
#define CALL_TIMEOUT 5000

static fx_gs_ret rt_init(fx_ctx *cx, void *arg, void **state)
{
    *state = arg; /* the bench's counter, which outlives the server */
    return fx_gs_ok(cx);
}

static fx_gs_ret rt_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                         const void *data, size_t size)
{
    (void) from;
    (void) data;
    (void) size;
    uint64_t *count = state;
    if (type == RT_INCR)
        ++*count;
    return fx_gs_reply(cx, count, sizeof *count);
}

static const fx_gs_ops rt_ops = {.init = rt_init, .handle_call = rt_call};

typedef struct {
    fx_pid server, report;
    uint64_t i, n;
    int64_t timeout;
} rt_client;

static fx_next rt_got(fx_ctx *cx, fx_msg *m)
{
    rt_client *c = fx_state(cx);
    const void *data;
    size_t size;
    uint64_t v = 0;
    int rc = fx_gs_call_result(cx, m, &data, &size, NULL);
    if (rc == 0 && size == sizeof v)
        memcpy(&v, data, sizeof v);
    if (v != c->i || c->i == c->n) {
        /* Done, or a wrong reply: the driver checks v against n. */
        fx_send(cx, c->report, B_DONE, &v, sizeof v);
        return fx_stop(cx, fx_reason_normal());
    }
    c->i++;
    return fx_gs_call_async(cx, c->server, RT_INCR, NULL, 0, c->timeout, rt_got);
}

static fx_next rt_first(fx_ctx *cx, void *arg)
{
    (void) arg;
    rt_client *c = fx_state(cx);
    return fx_gs_call_async(cx, c->server, RT_INCR, NULL, 0, c->timeout, rt_got);
}

static int get_count(bench_run *r, fx_pid server, uint64_t *out)
{
    fx_msg *reply;
    int rc = fx_gs_call(r->inbox, server, RT_GET, NULL, 0, 60000, &reply, NULL);
    if (rc != 0)
        return bench_fail(r, "get: %s", fx_strerror(rc));
    memcpy(out, fx_msg_data(reply), sizeof *out);
    fx_msg_free(reply);
    return 0;
}

/* A client making calls number from..to, one at a time (each reply is
 * checked against its number); 0 when the last reply is `to`. */
static int client_run(bench_run *r, fx_pid server, uint64_t from, uint64_t to,
                      int64_t timeout)
{
    uint64_t last = 0;
    rt_client init = {.server = server,
                      .report = fx_inbox_pid(r->inbox),
                      .i = from,
                      .n = to,
                      .timeout = timeout};
    fx_spawn_opts o = {.init = rt_first, .state_size = sizeof init, .state_init = &init};
    if (fx_vm_spawn_opt(r->vm, &o, NULL) != 0)
        return bench_fail(r, "spawn");
    if (bench_wait(r, B_DONE, &last))
        return -1;
    return last == to ? 0
                      : bench_fail(r, "last reply %llu, want %llu",
                                   (unsigned long long) last, (unsigned long long) to);
}

int bench_callrt(bench_run *r)
{
    uint64_t count = 0, final = 0, last;
    fx_gs_spec spec = {.ops = &rt_ops, .arg = &count, .label = "callrt_server"};
    fx_pid server;
    double t0 = bench_now();
    int rc = fx_gs_start(r->inbox, &spec, &server, NULL);
    if (rc != 0)
        return bench_fail(r, "start: %s", fx_strerror(rc));
    if (client_run(r, server, 1, r->n, CALL_TIMEOUT))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = r->n;
    if (get_count(r, server, &final))
        return -1;
    if (final != r->n)
        return bench_fail(r, "server count %llu, want %llu", (unsigned long long) final,
                          (unsigned long long) r->n);

    /* Extras: calls without a timeout, then blocking calls from here. */
    double t1 = bench_now();
    if (client_run(r, server, r->n + 1, 2 * r->n, FX_INFINITY))
        return -1;
    double untimed_s = bench_now() - t1;
    uint64_t base = 2 * r->n, ext = r->n / 10 ? r->n / 10 : 1;
    t1 = bench_now();
    for (uint64_t i = 1; i <= ext; i++) {
        fx_msg *reply;
        rc = fx_gs_call(r->inbox, server, RT_INCR, NULL, 0, CALL_TIMEOUT, &reply, NULL);
        if (rc != 0)
            return bench_fail(r, "external call: %s", fx_strerror(rc));
        memcpy(&last, fx_msg_data(reply), sizeof last);
        fx_msg_free(reply);
        if (last != base + i)
            return bench_fail(r, "external call %llu got %llu", (unsigned long long) i,
                              (unsigned long long) last);
    }
    double ext_s = bench_now() - t1;
    snprintf(
        r->extra, sizeof r->extra,
        ",\"untimed_calls_per_sec\":%.1f,\"ext_calls\":%llu,\"ext_calls_per_sec\":%.1f",
        untimed_s > 0 ? (double) r->n / untimed_s : 0.0, (unsigned long long) ext,
        ext_s > 0 ? (double) ext / ext_s : 0.0);
    rc = fx_gs_stop_server(r->inbox, server, fx_reason_normal(), 60000, NULL);
    if (rc != 0)
        return bench_fail(r, "stop: %s", fx_strerror(rc));
    return 0;
}
