/* The watchdog: a thread per pool that sleeps, samples every scheduler's
 * handler-call counter (fxi_sched_watch) a few times per limit, reports a
 * call that runs past the limit once, hands the stuck thread's next and
 * held slots to the others, and starts / retires spare scheduler threads
 * while every thread is stuck. When all scheduler threads are parked it
 * sleeps without a timeout. See docs/watchdog.md. */
#ifndef FXI_SCHED_WATCHDOG_H
#define FXI_SCHED_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"

typedef struct fxi_watchdog fxi_watchdog;

/* Allocates the watchdog of p (stats live in it until fxi_watchdog_free).
 * trap: the VM traps faults (its thread then traps them too, for the
 * user loggers its reports call). 0 or FX_ENOMEM. Before fxi_pool_start. */
int fxi_watchdog_init(fxi_pool *p, uint64_t limit_ns, uint32_t max_spares, bool trap);
/* Starts / stops (joins) its thread. start: 0 or FX_ESYS. The thread
 * that starts and stops the pool. */
int fxi_watchdog_start(fxi_pool *p);
void fxi_watchdog_stop(fxi_pool *p);
void fxi_watchdog_free(fxi_pool *p);

/* Stuck calls reported and spare threads started so far. Any thread. */
void fxi_watchdog_stats(fxi_pool *p, uint64_t *stuck, uint64_t *spares);

/* Reports, through the pool's stuck hook with at_shutdown set, every
 * thread that has not left (fxi_pool_stop_until's leftovers) and is in a
 * handler call. The stopping thread. */
void fxi_watchdog_report_running(fxi_pool *p);

/* Slow path of fxi_sched_wake_owner when wd_claim is set: waits out a
 * claim in progress; true if the unit was queued on the run queue
 * (slots taken), false to continue normally. Owner thread only. */
bool fxi_watchdog_owner_wake(fxi_sched *s, void *unit);

void fxi_watchdog_kick(fxi_pool *p);
/* A scheduler thread left park(): wakes the watchdog if it sleeps
 * without a timeout. One seq_cst fence and a load per unpark. */
static inline void fxi_watchdog_unparked(fxi_pool *p)
{
    if (p->wd)
        fxi_watchdog_kick(p);
}

#endif
