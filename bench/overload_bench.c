/* overload: 8 senders, each sending n messages as fast as it can, to one
 * receiver that spends OVERLOAD_WORK_NS of busy time on every message, so
 * the senders outrun it for the whole run (~5 s at the default n). One op
 * is a message handled by the receiver; the result is verified (count and
 * checksum). What matters is the peak RSS (tools/bench adds it): without
 * backpressure every message is queued within the first fraction of a
 * second; with muting the queue stays near the mark. The same workload
 * (the same busy time per message, measured on the clock) is in the
 * Erlang and CAF peers. */
#include <string.h>
#include <time.h>

#include "bench.h"

#define SENDERS 8
#define CHUNK 1024
#define OVERLOAD_WORK_NS 2500

typedef struct {
    fx_pid report;
    uint64_t expect, got, sum;
} slow_sink;

static void busy_ns(uint64_t ns)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    uint64_t t0 = (uint64_t) a.tv_sec * 1000000000u + (uint64_t) a.tv_nsec;
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while ((uint64_t) b.tv_sec * 1000000000u + (uint64_t) b.tv_nsec - t0 < ns);
}

static fx_next slow_sink_h(fx_ctx *cx, fx_msg *m)
{
    slow_sink *st = fx_state(cx);
    uint64_t v;
    memcpy(&v, fx_msg_data(m), sizeof v);
    st->sum += v;
    busy_ns(OVERLOAD_WORK_NS);
    if (++st->got == st->expect) {
        fx_send(cx, st->report, B_DONE, &st->sum, sizeof st->sum);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_continue(cx);
}

typedef struct {
    fx_pid to;
    uint64_t n, i;
} fast_source;

static fx_next fast_source_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    fast_source *st = fx_state(cx);
    for (uint64_t k = 0; k < CHUNK && st->i < st->n; k++, st->i++)
        fx_send(cx, st->to, B_WORK, &st->i, sizeof st->i);
    if (st->i < st->n) {
        fx_send(cx, fx_self(cx), B_MORE, NULL, 0);
        return fx_continue(cx);
    }
    return fx_stop(cx, fx_reason_normal());
}

int bench_overload(bench_run *r)
{
    slow_sink si = {.report = fx_inbox_pid(r->inbox), .expect = SENDERS * r->n};
    fx_spawn_opts so = {
        .handler = slow_sink_h, .state_size = sizeof si, .state_init = &si};
    fx_pid sink;
    if (fx_vm_spawn_opt(r->vm, &so, &sink) != 0)
        return bench_fail(r, "spawn");
    fx_pid src[SENDERS];
    fast_source fs = {.to = sink, .n = r->n};
    fx_spawn_opts o = {
        .handler = fast_source_h, .state_size = sizeof fs, .state_init = &fs};
    for (int i = 0; i < SENDERS; i++)
        if (fx_vm_spawn_opt(r->vm, &o, &src[i]) != 0)
            return bench_fail(r, "spawn");
    double t0 = bench_now();
    for (int i = 0; i < SENDERS; i++)
        fx_vm_send(r->vm, src[i], B_GO, NULL, 0);
    uint64_t sum;
    if (bench_wait(r, B_DONE, &sum))
        return -1;
    r->seconds = bench_now() - t0;
    /* Each sender sends 0..n-1. */
    uint64_t want = SENDERS * (r->n * (r->n - 1) / 2);
    if (sum != want)
        return bench_fail(r, "checksum %llu, expected %llu", (unsigned long long) sum,
                          (unsigned long long) want);
    r->ops = SENDERS * r->n;
    return 0;
}
