/* VM statistics beyond the original five counters: exits by reason
 * kind, deliveries, per-scheduler figures (fx_vm_stats_get,
 * fx_vm_sched_stats; include/fauxtp/info.h). Internal. */
#ifndef FXI_ACTOR_STATS_H
#define FXI_ACTOR_STATS_H

#include <fauxtp/reason.h>

#include "actor/vm.h"

/* Counts an exit of kind k. The exiting process's scheduler thread. */
static inline void fxi_stats_count_exit(fxi_worker *w, fx_reason_kind k)
{
    uint64_t *c = k == FX_REASON_NORMAL     ? &w->stat_exit_normal
                  : k == FX_REASON_SHUTDOWN ? &w->stat_exit_shutdown
                  : k == FX_REASON_KILLED   ? &w->stat_exit_killed
                                            : NULL;
    if (c) /* relaxed, one writer: a statistic */
        fxi_atomic_store_relaxed_64(c, *c + 1);
}

/* Counts n deliveries made by w's thread (w NULL: a thread outside the
 * VM). */
static inline void fxi_stats_count_sent(fx_vm *vm, fxi_worker *w, uint32_t n)
{
    if (w) /* relaxed, one writer: a statistic */
        fxi_atomic_store_relaxed_64(&w->stat_sent, w->stat_sent + n);
    else /* relaxed: a statistic, from any outside thread */
        fxi_atomic_fetch_add_relaxed_64(&vm->ext_sent, n);
}

/* Fills the observability fields of fx_vm_stats (fx_vm_stats_get has
 * zeroed *out and filled the rest). Any thread. */
void fxi_stats_fill(fx_vm *vm, fx_vm_stats *out);

#endif
