/* VM totals for the control socket: one snapshot rendered as the `stats`
 * JSON object and as the Prometheus text of `metrics` and
 * fx_vm_metrics_text (docs/observability.md). Public API only. */
#ifndef FXI_CTL_STATS_H
#define FXI_CTL_STATS_H

#include <fauxtp/info.h>
#include <fauxtp/pool.h>
#include <fauxtp/vm.h>

#include "ctl/ctl_out.h"

typedef struct fxi_ctl_totals {
    fx_vm_stats vm;
    fx_pool_stats pool;
    uint32_t threads; /* scheduler threads (config) */
    int running;      /* fx_vm_running */
    uint64_t time_ms; /* wall clock at the snapshot (ms since the epoch) */
    uint32_t nsched;  /* entries of sched (allocated: nsched_cap) */
    uint32_t nsched_cap;
    fx_sched_stats *sched; /* one per scheduler slot */
} fxi_ctl_totals;

/* 0, or what fx_vm_stats_get answers (FX_EINVAL, FX_EFORKED), or
 * FX_ENOMEM. Free with fxi_ctl_totals_fini (also after an error). */
int fxi_ctl_totals_get(fx_vm *vm, fxi_ctl_totals *t);
void fxi_ctl_totals_fini(fxi_ctl_totals *t);
/* One JSON object on one line. */
void fxi_ctl_stats_json(const fxi_ctl_totals *t, fxi_ctl_out *o);
/* The Prometheus text (lines only; no response terminator). */
void fxi_ctl_metrics(const fxi_ctl_totals *t, fxi_ctl_out *o);

#endif
