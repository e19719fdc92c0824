/* The VM's logger (include/fauxtp/log.h): threshold, rate limit, sink,
 * and the report routing. Internal. */
#ifndef FXI_ACTOR_LOG_H
#define FXI_ACTOR_LOG_H

#include <fauxtp/log.h>
#include <fauxtp/vm.h>

#include "platform/atomic.h"

/* One per VM, inside struct fx_vm. */
typedef struct fxi_log {
    /* Immutable after create. */
    fx_log_sink sink;
    void *sink_arg;
    uint64_t interval_ns;  /* ns per token; 0 = no rate limit */
    uint64_t tolerance_ns; /* burst x interval_ns */
    /* Atomic: the threshold, 0 for FX_LOG_OFF (relaxed: a setting; an
     * event that races with a change may see either value). */
    int32_t level;
    /* Atomic: the rate limit's state, a GCRA "theoretical arrival time"
     * (monotonic ns) updated by compare-and-swap; relaxed, it orders
     * nothing else. */
    uint64_t tat;
    /* Atomic counters (relaxed adds and loads: statistics). pending:
     * suppressed since the last "suppressed" line. */
    uint64_t pending, logged, suppressed, crash_logger_reports;
} fxi_log;

/* Checks and resolves the logger fields of a config (0: defaults).
 * FX_EINVAL for out-of-range fields. */
int fxi_log_resolve_config(fx_vm_config *c);
/* Sets up vm's logger from its resolved config. */
void fxi_log_init(fxi_log *l, const fx_vm_config *c);

/* True if an event of level passes the threshold: one relaxed load. */
static inline bool fxi_log_on(const fxi_log *l, int level)
{
    /* Relaxed: a setting, see fxi_log.level. */
    return level <= (int32_t) fxi_atomic_load_relaxed_32(&l->level);
}

/* Logs a send to a dead process, at debug level (call it only when
 * fxi_log_on(&vm->log, FX_LOG_DEBUG)). to: the dead pid. Any thread. */
void fxi_log_dead_send(fx_vm *vm, fx_pid to, uint32_t type);

/* Routes a report (report.h, "Where a report goes"). On a scheduler
 * thread of vm, a user crash logger or sink runs with the fault site
 * armed: a fault in it is contained and a short line goes to stderr.
 * Returns as fx_report_emit. */
int fxi_log_report(fx_vm *vm, const fx_crash_report *r);

#endif
