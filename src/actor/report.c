/* Crash and stuck reports: built where they happen and handed to the
 * logger (actor/log.c decides where they go). */
#include "actor/report.h"

#include <fauxtp/error.h>

#include "actor/log.h"
#include "actor/report_format.h"
#include "actor/vm.h"

void fxi_report_crash(fx_vm *vm, fxi_actor *a, const fx_reason *reason)
{
    if (reason->kind == FX_REASON_NORMAL || reason->kind == FX_REASON_SHUTDOWN ||
        reason->kind == FX_REASON_KILLED)
        return;
    fx_crash_report r = {
        .vm = vm, .pid = a->pid, .reason = *reason, .label = fxi_report_label(a)};
    (void) fxi_log_report(vm, &r);
}

void fxi_report_stuck(fxi_sched *s, void *unit, uint64_t seq, uint64_t running_ns,
                      bool at_shutdown)
{
    fx_vm *vm = ((fxi_worker *) s->user)->cx.vm;
    /* The actor may return from the call and exit meanwhile: a read
     * section, then the call re-checked, keeps it from being freed while
     * the report reads it (docs/watchdog.md). */
    uint32_t sec = fxi_qsbr_ext_enter(&vm->qsbr);
    if (fxi_sched_watch(s) == seq) {
        fxi_actor *a = unit;
        /* Relaxed: ordered by the acquire load of wd_seq. */
        uint64_t fn = fxi_atomic_load_relaxed_64(&s->wd_fn);
        fx_crash_report r = {
            .vm = vm,
            .pid = a->pid,
            .reason = fx_reason_error(FX_ESTUCK, "running for %llu ms",
                                      (unsigned long long) (running_ns / 1000000u)),
            .label = NULL,
            .kind = at_shutdown ? FX_REPORT_STUCK_AT_SHUTDOWN : FX_REPORT_STUCK,
            .running_ns = running_ns,
            .handler = fxi_report_symbol(&fn, sizeof fn),
        };
        fxi_actor_ext *x = a->ext;
        r.label = x && x->label ? x->label : r.handler;
        (void) fxi_log_report(vm, &r);
    }
    fxi_qsbr_ext_exit(&vm->qsbr, sec);
}
