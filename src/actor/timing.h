/* Handler timing (fx_vm_set_timing, include/fauxtp/info.h): while on,
 * each scheduler thread reads the clock around every actor run and every
 * sleep, and charges the run's time to the process in a per-slot table.
 * Off by default: a clock read can cost as much as a message
 * (docs/observability.md). Internal. */
#ifndef FXI_ACTOR_TIMING_H
#define FXI_ACTOR_TIMING_H

#include "actor/vm.h"

/* One process-table slot's runtime: the pid it belongs to (so a reused
 * slot starts from 0 without anyone clearing it at spawn) and its time.
 * Written by the threads running that pid (two runs of one process may
 * overlap by the end of the first: the time is added atomically; a slot
 * is reused only after a grace period, which orders the old process's
 * last charge before the new one's first); read by anyone. */
typedef struct fxi_rt_entry {
    uint64_t pid; /* atomic */
    uint64_t ns;  /* atomic */
} fxi_rt_entry;

/* True while timing is on. Relaxed: a switch that orders nothing; a
 * thread sees a change by its next run. */
static inline bool fxi_timing_on(fx_vm *vm)
{
    return fxi_atomic_load_relaxed_32(&vm->timing) != 0;
}

/* Adds ns to a's runtime. The thread running a (a may have just exited:
 * it is in limbo until this thread's next quiescent point). */
void fxi_timing_charge(fx_vm *vm, const fxi_actor *a, uint64_t ns);

/* a's runtime (0 if never timed). Any thread in a QSBR section that saw
 * a alive. */
uint64_t fxi_timing_runtime(fx_vm *vm, const fxi_actor *a);

/* Frees the table (fx_vm_destroy, after every thread was joined). */
void fxi_timing_fini(fx_vm *vm);

#endif
