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

/* The report's text for a log event: banner and report, without the pid
 * and label (the event carries them). As snprintf. */
int fxi_report_body(const fx_crash_report *r, char *buf, size_t size);

/* A process's label for reports and log lines: its spawn label, else the
 * exported symbol of its handler (or init function), else NULL. Owner of
 * a, or a thread that keeps a from being freed and reads only immutable
 * fields (the label; the handler may be stale). */
const char *fxi_report_label(const fxi_actor *a);

#endif
