/* Crash reports. Internal. */
#ifndef FXI_ACTOR_REPORT_H
#define FXI_ACTOR_REPORT_H

#include <fauxtp/report.h>

#include "actor/actor.h"

/* Hands the VM's crash logger a report for a, which is exiting with
 * reason, when the reason is abnormal (not normal, shutdown or killed).
 * Scheduler thread of a, before a's handler and ext are gone. */
void fxi_report_crash(fx_vm *vm, fxi_actor *a, const fx_reason *reason);

/* The pool's stuck hook (fxi_sched_hooks.stuck): a report of kind
 * FX_REPORT_STUCK (or _AT_SHUTDOWN) for the actor `unit` running handler
 * call `seq` on s, if that call is still running once the report holds a
 * QSBR read section (so the actor cannot be freed under it). Watchdog or
 * shutting-down thread. */
void fxi_report_stuck(fxi_sched *s, void *unit, uint64_t seq, uint64_t running_ns,
                      bool at_shutdown);

#endif
