/* The blocking pool (include/fauxtp/pool.h): plain threads that run jobs
 * to completion and send their outcome as a message. One pool per VM,
 * attached to it with fx_vm_attach on first use (or at fx_vm_start when
 * pool_min_threads > 0); its stop hook cancels the queued jobs and joins
 * the threads (until the shutdown's deadline). Layer: above src/actor (it uses the public
 * API), reading only the VM's immutable config and its shutdown deadline from actor/vm.h.
 * See docs/tasks.md. */
#ifndef FXI_POOL_BPOOL_H
#define FXI_POOL_BPOOL_H

#include <fauxtp/vm.h>

/* Applies the pool's config defaults to *c and checks its limits: 0, or
 * FX_EINVAL. Called by fx_vm_create. */
int fxi_bpool_config(fx_vm_config *c);

/* Hook for fx_vm_start, after the scheduler threads started: starts the
 * config's pool_min_threads (best effort: threads that fail to start are
 * started on demand later). */
void fxi_bpool_vm_started(fx_vm *vm);

/* Waits until no pool thread of vm is left or deadline (CLOCK_MONOTONIC
 * ns; UINT64_MAX: no deadline) and joins the ones that left. Returns how
 * many still run a job (0 without a pool). For fx_vm_shutdown, after the
 * stop hooks (the pool's stop hook set the pool stopping). */
uint32_t fxi_bpool_wait_stopped(fx_vm *vm, uint64_t deadline);

/* Reports each job still running to the VM's crash logger (kind
 * FX_REPORT_STUCK_AT_SHUTDOWN, pid FX_PID_NONE, label "pool job"). */
void fxi_bpool_report_running(fx_vm *vm);

#endif
