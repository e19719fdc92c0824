/* Latency under heavy work (group "blocking" in tools/bench; not part of
 * the default run): p50/p99 round-trip latency of a ping-pong pair while
 * 8 other actors each do 10 ms of CPU-heavy work per message, over and
 * over, for the whole run (the next unit comes by a 1 ms timer, so a
 * worker goes to the back of the run queue between units).
 *
 * heavy_inline: the workers do the 10 ms inside their handlers, holding a
 *   scheduler thread (what a handler must not do).
 * heavy_pool:   the workers hand the 10 ms to the blocking pool as tasks
 *   (fx_task_async, blocking) and take the next message when it is done.
 *
 * n is the number of round trips measured (one op each). The driver
 * thread starts one per millisecond by sending the pinger a message that
 * carries its send time; a round trip's latency runs from that send to
 * the pong's arrival at the pinger, so it includes the time the pinger
 * and the ponger waited for a scheduler thread. The heavy work
 * spins on an integer hash for 10 ms of wall time (checked every 1,024
 * rounds), as the Erlang peer does with ordinary Erlang code. Verified:
 * n round trips completed and the workers finished at least one unit.
 * Extras: p50_us, p99_us, max_us, work_units (10 ms units finished),
 * work_cpu_ms (CPU time the heavy work got, ms per second of the run:
 * at most 2,000 on 2 cores; a unit preempted for part of its 10 ms of
 * wall time counts only what it ran, so this, not work_units, says
 * whether the work was starved).
 * Environment: HEAVY_DEBUG=1 prints the pool's counters (fx_pool_stats)
 * on stderr; HEAVY_TRACE=1 prints every round trip over 0.5 ms, split
 * into the driver's send to the pinger's handler and the ping-pong after
 * it, with its CLOCK_MONOTONIC send time (docs/benchmarks.md). */
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define WORKERS 8
#define WORK_MS 10.0

/* The calling thread's CPU time, seconds. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static uint64_t work_cpu_ns; /* __atomic: CPU time the heavy work got */

/* Spins for ms of wall time, and counts the CPU time it got. */
static uint64_t spin(double ms)
{
    double c0 = cpu_now();
    double end = bench_now() + ms / 1e3;
    uint64_t x = 88172645463325252ull;
    do {
        for (int i = 0; i < 1024; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
    } while (bench_now() < end);
    __atomic_fetch_add(&work_cpu_ns, (uint64_t) ((cpu_now() - c0) * 1e9),
                       __ATOMIC_RELAXED);
    return x;
}

static int spin_job(void *arg, fx_msg **result)
{
    (void) result;
    volatile uint64_t sink = spin(WORK_MS);
    (void) sink;
    (void) arg;
    return 0;
}

typedef struct worker {
    int pool;
    int *stop; /* __atomic; set by the driver after the measurement */
    uint64_t *units;
    fx_task task;
} worker;

static fx_next worker_h(fx_ctx *cx, fx_msg *m);

static fx_next worker_next(fx_ctx *cx)
{
    worker *w = fx_state(cx);
    if (__atomic_load_n(w->stop, __ATOMIC_RELAXED))
        return fx_stop(cx, fx_reason_normal());
    if (w->pool) {
        fx_task_opts o = {.fn = spin_job, .blocking = true, .nolink = true};
        if (fx_task_async(cx, &o, &w->task) != 0)
            return fx_stop(cx, fx_reason_error(1, "task start"));
        return fx_task_await(cx, w->task, worker_h, FX_INFINITY);
    }
    volatile uint64_t sink = spin(WORK_MS);
    (void) sink;
    __atomic_fetch_add(w->units, 1, __ATOMIC_RELAXED);
    /* The next unit through the timer: the worker goes to the back of
     * the run queue instead of running a batch of 64 units in a row. */
    (void) fx_send_after(cx, 1, fx_self(cx), B_WORK, NULL, 0, NULL);
    return fx_become(cx, worker_h);
}

static fx_next worker_h(fx_ctx *cx, fx_msg *m)
{
    worker *w = fx_state(cx);
    if (w->pool && fx_msg_type(m) != B_GO) {
        fx_task_result r;
        if (fx_task_result_get(cx, w->task, m, &r) == 0 && r.kind == FX_TASK_DONE)
            __atomic_fetch_add(w->units, 1, __ATOMIC_RELAXED);
    }
    return worker_next(cx);
}

typedef struct pinger {
    fx_pid ponger, report;
    uint64_t n, done;
    double sent;
    double *lat;     /* n round trips, seconds */
    double *got;     /* HEAVY_TRACE: when B_NEXT reached the pinger, or NULL */
    double *sent_at; /* HEAVY_TRACE: the driver's send times */
} pinger;

static fx_next ponger_h(fx_ctx *cx, fx_msg *m)
{
    (void) fx_send(cx, fx_msg_from(m), B_PONG, NULL, 0);
    return fx_continue(cx);
}

/* B_NEXT (from the driver thread, carrying the time it was sent) starts a
 * round trip; B_PONG ends it. The latency runs from the driver's send to
 * the pong, so it includes the time the pinger waited to be scheduled. */
static fx_next pinger_h(fx_ctx *cx, fx_msg *m)
{
    pinger *p = fx_state(cx);
    if (fx_msg_type(m) == B_NEXT) {
        memcpy(&p->sent, fx_msg_data(m), sizeof p->sent);
        if (p->got) {
            p->got[p->done] = bench_now();
            p->sent_at[p->done] = p->sent;
        }
        (void) fx_send(cx, p->ponger, B_PING, NULL, 0);
        return fx_receive(cx, pinger_h, &(fx_match){.type = B_PONG}, FX_INFINITY);
    }
    p->lat[p->done++] = bench_now() - p->sent;
    if (p->done == p->n) {
        (void) fx_send(cx, p->report, B_DONE, &p->done, sizeof p->done);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_receive(cx, pinger_h, &(fx_match){.type = B_NEXT}, FX_INFINITY);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Shared with the workers, which may outlive run() until the driver
 * shuts the VM down: static, not on run()'s stack. */
static int stop;
static uint64_t units;

static int run(bench_run *r, int pool)
{
    double *lat = calloc(r->n, sizeof *lat);
    if (!lat)
        return bench_fail(r, "no memory");
    worker w = {.pool = pool, .stop = &stop, .units = &units};
    for (int i = 0; i < WORKERS; i++) {
        fx_pid p;
        fx_spawn_opts o = {.handler = worker_h, .state_size = sizeof w, .state_init = &w};
        if (fx_vm_spawn_opt(r->vm, &o, &p) != 0 ||
            fx_vm_send(r->vm, p, B_GO, NULL, 0) != 0)
            return bench_fail(r, "worker start");
    }
    __atomic_store_n(&work_cpu_ns, 0, __ATOMIC_RELAXED);
    spin(50); /* let the heavy work get going */
    fx_pid ponger;
    if (fx_vm_spawn(r->vm, ponger_h, NULL, &ponger) != 0)
        return bench_fail(r, "ponger start");
    pinger pi = {
        .ponger = ponger, .report = fx_inbox_pid(r->inbox), .n = r->n, .lat = lat};
    double *got = NULL, *sent_at = NULL;
    if (getenv("HEAVY_TRACE")) {
        got = calloc(r->n, sizeof *got);
        sent_at = calloc(r->n, sizeof *sent_at);
        pi.got = got;
        pi.sent_at = sent_at;
    }
    fx_spawn_opts po = {.handler = pinger_h, .state_size = sizeof pi, .state_init = &pi};
    fx_pid pinger_pid;
    double t0 = bench_now();
    if (fx_vm_spawn_opt(r->vm, &po, &pinger_pid) != 0)
        return bench_fail(r, "pinger start");
    for (uint64_t i = 0; i < r->n; i++) {
        double now = bench_now();
        if (fx_vm_send(r->vm, pinger_pid, B_NEXT, &now, sizeof now) != 0)
            return bench_fail(r, "send");
        usleep(1000); /* about one round trip per millisecond */
    }
    uint64_t done = 0;
    int rc = bench_wait(r, B_DONE, &done);
    r->seconds = bench_now() - t0;
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    if (rc != 0) {
        free(lat);
        free(got);
        free(sent_at);
        return rc;
    }
    /* Workers stop at their next message; the VM's shutdown (by the
     * driver) waits for the pool jobs in flight. */
    uint64_t u = 0;
    for (int i = 0; i < 10000 && (u = __atomic_load_n(&units, __ATOMIC_RELAXED)) == 0;
         i++)
        usleep(1000); /* a loaded machine may not have finished a unit yet */
    if (getenv("HEAVY_DEBUG")) {
        fx_pool_stats ps;
        fx_pool_stats_get(r->vm, &ps);
        fprintf(
            stderr,
            "pool: threads %llu running %llu queued %llu completed %llu starved %llu\n",
            (unsigned long long) ps.threads, (unsigned long long) ps.running,
            (unsigned long long) ps.queued, (unsigned long long) ps.completed,
            (unsigned long long) ps.starved);
    }
    if (done != r->n || u == 0) {
        free(lat);
        free(got);
        free(sent_at);
        return bench_fail(r, "round trips %llu of %llu, work units %llu",
                          (unsigned long long) done, (unsigned long long) r->n,
                          (unsigned long long) u);
    }
    /* HEAVY_TRACE: the slow round trips, split into the driver's send
     * to the pinger's handler and the ping-pong after it (CLOCK_MONOTONIC
     * seconds, to line up with `perf sched record -k CLOCK_MONOTONIC`). */
    for (uint64_t i = 0; got && i < r->n; i++)
        if (lat[i] > 0.5e-3)
            fprintf(stderr,
                    "slow %.6f total %.0f us: to pinger %.0f us, ping-pong %.0f us\n",
                    sent_at[i], lat[i] * 1e6, (got[i] - sent_at[i]) * 1e6,
                    (sent_at[i] + lat[i] - got[i]) * 1e6);
    free(got);
    free(sent_at);
    qsort(lat, r->n, sizeof *lat, cmp_d);
    double p50 = lat[(r->n - 1) / 2],
           p99 = lat[(r->n * 99) / 100 - (r->n >= 100 ? 1 : 0)];
    double mx = lat[r->n - 1];
    r->ops = r->n;
    snprintf(r->extra, sizeof r->extra,
             ",\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"work_units\":%llu"
             ",\"work_cpu_ms\":%.0f",
             p50 * 1e6, p99 * 1e6, mx * 1e6, (unsigned long long) u,
             (double) __atomic_load_n(&work_cpu_ns, __ATOMIC_RELAXED) / 1e6 / r->seconds);
    free(lat);
    return 0;
}

int bench_heavy_inline(bench_run *r)
{
    return run(r, 0);
}

int bench_heavy_pool(bench_run *r)
{
    return run(r, 1);
}
