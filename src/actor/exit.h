/* Process exit, the grace period, and freeing. Internal. */
#ifndef FXI_ACTOR_EXIT_H
#define FXI_ACTOR_EXIT_H

#include "actor/vm.h"

/* a exits with reason on its scheduler thread: pid made stale, cleanup
 * run, links and monitors told, a crash report unless it died of an exit
 * signal (by_signal), then into limbo until its grace period ends. */
void fxi_actor_exit(fxi_worker *w, fxi_actor *a, const fx_reason *reason, bool by_signal);
/* Frees a dead actor (after its grace period, or with the VM stopped)
 * and whatever is still queued for it. */
void fxi_actor_free(fx_vm *vm, fxi_actor *a, bool count_dropped);
/* Between two actor runs on w's thread: stamps new limbo entries, passes
 * a quiescent point, and frees the entries whose grace period is over. */
void fxi_worker_reclaim(fx_vm *vm, fxi_worker *w);
/* After the scheduler threads are joined: every live process exits with
 * reason shutdown on the calling thread, and every limbo entry is freed. */
void fxi_vm_free_processes(fx_vm *vm);

#endif
