/* The blocking pool (include/fauxtp/pool.h): plain threads that run jobs
 * to completion and send their outcome as a message. One pool per VM,
 * attached to it with fx_vm_attach on first use (or at fx_vm_start when
 * pool_min_threads > 0); its stop hook cancels the queued jobs and joins
 * the threads. Layer: above src/actor (it uses the public API), reading
 * only the VM's immutable config from actor/vm.h. See docs/tasks.md. */
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

#endif
