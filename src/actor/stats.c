/* VM and per-scheduler statistics for operators (include/fauxtp/info.h).
 * Every counter is written by one thread (relaxed stores) or by relaxed
 * adds, and read here with relaxed loads: a snapshot that orders
 * nothing and may mix moments. */
#include "actor/stats.h"

#include <fauxtp/error.h>
#include <fauxtp/info.h>
#include <string.h>

#include "ds/deque.h"

static uint64_t ld(const uint64_t *p)
{
    return fxi_atomic_load_relaxed_64(p); /* relaxed: a statistic */
}

void fxi_stats_fill(fx_vm *vm, fx_vm_stats *out)
{
    uint64_t exited = ld(&vm->ext_exited), full = 0, dropped = ld(&vm->ext_dropped);
    out->messages_sent = ld(&vm->ext_sent);
    out->exits_shutdown = exited; /* outside the schedulers: VM shutdown only */
    out->restarts = ld(&vm->restarts);
    /* Relaxed: a hint, as the scheduler reads it. */
    out->run_queue = fxi_atomic_load_relaxed_32(&vm->pool.inject_len);
    for (uint32_t i = 0; i < vm->pool.n; i++) {
        const fxi_worker *w = &vm->workers[i];
        exited += ld(&w->stat_exited);
        dropped += ld(&w->stat_dropped);
        full += ld(&w->stat_dropped_full);
        out->messages_sent += ld(&w->stat_sent);
        out->exits_normal += ld(&w->stat_exit_normal);
        out->exits_shutdown += ld(&w->stat_exit_shutdown);
        out->exits_killed += ld(&w->stat_exit_killed);
        out->run_queue += fxi_deque_size_hint(&vm->pool.scheds[i].dq);
    }
    uint64_t kinds = out->exits_normal + out->exits_shutdown + out->exits_killed;
    out->exits_other = exited > kinds ? exited - kinds : 0;
    out->dropped_full = full;
    out->dropped_noproc = dropped > full ? dropped - full : 0;
}

FX_API uint32_t fx_vm_sched_count(const fx_vm *vm)
{
    return vm ? vm->pool.n : 0;
}

FX_API int fx_vm_sched_stats(fx_vm *vm, uint32_t idx, fx_sched_stats *out)
{
    if (!vm || !out || out->version > FX_SCHED_STATS_VERSION)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    if (idx >= vm->pool.n)
        return FX_ENOENT;
    fxi_sched *s = &vm->pool.scheds[idx];
    const fxi_worker *w = &vm->workers[idx];
    memset(out, 0, sizeof *out);
    out->version = FX_SCHED_STATS_VERSION;
    out->index = idx;
    out->spare = s->spare;                                           /* immutable */
    out->running = fxi_atomic_load_relaxed_32(&w->thread_live) != 0; /* relaxed: stat */
    out->run_queue = fxi_deque_size_hint(&s->dq);
    out->runs = ld(&s->ticks);
    out->steals = ld(&s->stat_steals);
    out->parks = ld(&s->stat_parks);
    out->messages_sent = ld(&w->stat_sent);
    out->busy_ns = ld(&w->stat_busy_ns);
    out->parked_ns = ld(&w->stat_parked_ns);
    return 0;
}

FX_API int fx_vm_count_restart(fx_vm *vm)
{
    if (!vm)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    fxi_atomic_fetch_add_relaxed_64(&vm->restarts, 1); /* relaxed: a statistic */
    return 0;
}
