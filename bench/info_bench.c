/* Process-info benchmarks (fauxtp only: no peer has the same call).
 *
 * procinfo: 1,024 idle labelled actors; the driver thread (outside the
 *   VM) calls fx_process_info n times, cycling over them. One op is one
 *   call. Verified: every call answers 0, the right pid and label.
 *   Extra: ns_per_call.
 *
 * snapshot: n idle labelled actors (default 1,000,000), spawned before
 *   the clock starts; one fx_vm_processes walk over the whole VM. One op
 *   is one process visited. Verified: the walk sees exactly n of them.
 *   Extra: ns_per_process. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define ACTORS 1024

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static int spawn_idle(bench_run *r, uint64_t n, fx_pid *pids)
{
    fx_spawn_opts o = {.handler = idle, .label = "bench-idle"};
    for (uint64_t i = 0; i < n; i++) {
        fx_pid p;
        if (fx_vm_spawn_opt(r->vm, &o, &p) != 0)
            return bench_fail(r, "spawn %llu", (unsigned long long) i);
        if (pids)
            pids[i] = p;
    }
    return 0;
}

int bench_procinfo(bench_run *r)
{
    fx_pid *pids = calloc(ACTORS, sizeof *pids);
    if (!pids)
        return bench_fail(r, "no memory");
    if (spawn_idle(r, ACTORS, pids) != 0) {
        free(pids);
        return -1;
    }
    uint64_t errors = 0;
    fx_proc_info info;
    double t0 = bench_now();
    for (uint64_t i = 0; i < r->n; i++) {
        fx_pid p = pids[i % ACTORS];
        info.version = FX_PROC_INFO_VERSION;
        if (fx_process_info(r->vm, p, &info) != 0 || !fx_pid_eq(info.pid, p) ||
            info.label[0] != 'b')
            errors++;
    }
    r->seconds = bench_now() - t0;
    r->ops = r->n;
    free(pids);
    if (errors)
        return bench_fail(r, "%llu calls answered wrong", (unsigned long long) errors);
    snprintf(r->extra, sizeof r->extra, ",\"ns_per_call\":%.1f",
             r->n ? r->seconds * 1e9 / (double) r->n : 0.0);
    return 0;
}

static int count_idle(void *arg, const fx_proc_info *i)
{
    if (strcmp(i->label, "bench-idle") == 0)
        ++*(uint64_t *) arg;
    return 0;
}

int bench_snapshot(bench_run *r)
{
    if (spawn_idle(r, r->n, NULL) != 0)
        return -1;
    uint64_t seen = 0;
    double t0 = bench_now();
    int visited = fx_vm_processes(r->vm, count_idle, &seen);
    r->seconds = bench_now() - t0;
    if (visited < 0)
        return bench_fail(r, "fx_vm_processes: %s", fx_strerror(visited));
    r->ops = (uint64_t) visited;
    if (seen != r->n)
        return bench_fail(r, "saw %llu of %llu", (unsigned long long) seen,
                          (unsigned long long) r->n);
    snprintf(r->extra, sizeof r->extra, ",\"ns_per_process\":%.1f",
             visited ? r->seconds * 1e9 / (double) visited : 0.0);
    return 0;
}
