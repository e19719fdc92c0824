/* Crash reports: the default logger and the report line. */
#include "actor/report.h"

#include <dlfcn.h>
#include <fauxtp/error.h>
#include <stdio.h>
#include <string.h>

#include "actor/log.h"
#include "actor/vm.h"

FX_API int fx_pid_format(fx_pid pid, char *buf, size_t size)
{
    return snprintf(buf, size, "<%u.%u.%u>", (unsigned) fxi_pid_tag(pid),
                    (unsigned) fxi_pid_index(pid), (unsigned) fxi_pid_gen(pid));
}

static const char *banner(int kind)
{
    switch (kind) {
    case FX_REPORT_STUCK:
    case FX_REPORT_STUCK_AT_SHUTDOWN:
        return "=STUCK REPORT====";
    case FX_REPORT_SUP_PROGRESS:
        return "=PROGRESS REPORT====";
    case FX_REPORT_SUP_CHILD_TERMINATED:
    case FX_REPORT_SUP_START_ERROR:
    case FX_REPORT_SUP_SHUTDOWN:
        return "=SUPERVISOR REPORT====";
    default:
        return "=CRASH REPORT====";
    }
}

/* What follows the banner and the process: the report proper. */
static int rest(const fx_crash_report *r, char *buf, size_t size)
{
    char why[128], child[32];
    const char *id = r->child_id ? r->child_id : "?";
    fx_pid_format(r->child_pid, child, sizeof child);
    switch (r->kind) {
    case FX_REPORT_STUCK:
    case FX_REPORT_STUCK_AT_SHUTDOWN:
        return snprintf(buf, size, "running for %llu ms in %s%s",
                        (unsigned long long) (r->running_ns / 1000000u),
                        r->handler ? r->handler : "?",
                        r->kind == FX_REPORT_STUCK_AT_SHUTDOWN ? " at shutdown" : "");
    case FX_REPORT_SUP_PROGRESS:
        return snprintf(buf, size, "started child %s %s", id, child);
    case FX_REPORT_SUP_CHILD_TERMINATED:
        fx_reason_format(&r->reason, why, sizeof why);
        return snprintf(buf, size, "child_terminated: child %s %s exited: %s; %s", id,
                        child, why, r->restarting ? "restarting" : "not restarted");
    case FX_REPORT_SUP_START_ERROR:
        fx_reason_format(&r->reason, why, sizeof why);
        return snprintf(buf, size, "start_error: child %s: %s", id, why);
    case FX_REPORT_SUP_SHUTDOWN:
        return snprintf(buf, size,
                        "shutdown: reached_max_restart_intensity (child %s %s)", id,
                        child);
    default:
        fx_reason_format(&r->reason, why, sizeof why);
        return snprintf(buf, size, "exited: %s", why);
    }
}

int fxi_report_body(const fx_crash_report *r, char *buf, size_t size)
{
    char tail[FX_REASON_TEXT_MAX + 256];
    rest(r, tail, sizeof tail);
    return snprintf(buf, size, "%s %s", banner(r->kind), tail);
}

FX_API int fx_crash_report_format(const fx_crash_report *r, char *buf, size_t size)
{
    if (!r)
        return FX_EINVAL;
    char pid[32], tail[FX_REASON_TEXT_MAX + 256];
    fx_pid_format(r->pid, pid, sizeof pid);
    rest(r, tail, sizeof tail);
    return snprintf(buf, size, "%s %s%s%s %s", banner(r->kind), pid, r->label ? " " : "",
                    r->label ? r->label : "", tail);
}

FX_API void fx_crash_logger_stderr(void *arg, const fx_crash_report *r)
{
    (void) arg;
    if (!r)
        return; /* nothing to report (fx_crash_report_format would not
                   touch line) */
    char line[256];
    fx_crash_report_format(r, line, sizeof line);
    /* One write per report keeps lines whole between threads. */
    fprintf(stderr, "%s\n", line);
}

FX_API void fx_crash_logger_silent(void *arg, const fx_crash_report *r)
{
    (void) arg;
    (void) r;
}

/* The exported symbol at exactly the code address fn_bits (a function
 * pointer's bits), if any. */
static const char *symbol_name(const void *fn_bits, size_t n)
{
    void *fn = NULL;
    memcpy(&fn, fn_bits, n < sizeof fn ? n : sizeof fn);
    Dl_info info;
    if (fn && dladdr(fn, &info) && info.dli_sname && info.dli_saddr == fn)
        return info.dli_sname;
    return NULL;
}

const char *fxi_report_label(const fxi_actor *a)
{
    const fxi_actor_ext *x = a->ext;
    if (x && x->label)
        return x->label;
    if (a->u.live.handler)
        return symbol_name(&a->u.live.handler, sizeof a->u.live.handler);
    if (x && x->init)
        return symbol_name(&x->init, sizeof x->init);
    return NULL;
}

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
            .handler = symbol_name(&fn, sizeof fn),
        };
        fxi_actor_ext *x = a->ext;
        r.label = x && x->label ? x->label : r.handler;
        (void) fxi_log_report(vm, &r);
    }
    fxi_qsbr_ext_exit(&vm->qsbr, sec);
}
