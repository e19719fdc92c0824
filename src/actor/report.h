/* Crash reports. Internal. */
#ifndef FXI_ACTOR_REPORT_H
#define FXI_ACTOR_REPORT_H

#include <fauxtp/report.h>

#include "actor/actor.h"

/* Hands the VM's crash logger a report for a, which is exiting with
 * reason, when the reason is abnormal (not normal, shutdown or killed).
 * Scheduler thread of a, before a's handler and ext are gone. */
void fxi_report_crash(fx_vm *vm, fxi_actor *a, const fx_reason *reason);

#endif
