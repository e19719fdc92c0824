/* Deterministic mode, the actor layer's half (sched/det.h has the
 * loop): the config, the VM's set-up, and driving the VM from the test's
 * thread (the fx_test_* functions of <fauxtp/testing.h>). */
#ifndef FXI_ACTOR_DET_H
#define FXI_ACTOR_DET_H

#include <fauxtp/vm.h>
#include <stdbool.h>

/* Applies the mode to a config with `deterministic` set: one thread, no
 * watchdog, no spares, batch 0 = 1. FX_EINVAL for threads > 1. */
int fxi_det_config(fx_vm_config *c);
/* Sets a created VM up for the mode (vm->pool.det, the scheduler slot's
 * QSBR record offline between steps). 0 or FX_ENOMEM. */
int fxi_det_vm_init(fx_vm *vm);
/* For a thread about to block on vm (fx_inbox_recv): runs one step if vm
 * is deterministic. 1 if a process ran, 0 if the VM is idle (nothing
 * more can come without the test: the wait should end), < 0 an error of
 * fx_test_step (another thread drives: the caller may wait normally). */
int fxi_det_wait_step(fx_vm *vm);

#endif
