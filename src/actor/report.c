/* Crash reports: the default logger and the report line. */
#include "actor/report.h"

#include <dlfcn.h>
#include <fauxtp/error.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actor/vm.h"

FX_API int fx_pid_format(fx_pid pid, char *buf, size_t size)
{
    return snprintf(buf, size, "<%u.%u.%u>", (unsigned) fxi_pid_tag(pid),
                    (unsigned) fxi_pid_index(pid), (unsigned) fxi_pid_gen(pid));
}

FX_API int fx_crash_report_format(const fx_crash_report *r, char *buf, size_t size)
{
    if (!r)
        return FX_EINVAL;
    char pid[32], why[128];
    fx_pid_format(r->pid, pid, sizeof pid);
    if (r->kind == FX_REPORT_STUCK || r->kind == FX_REPORT_STUCK_AT_SHUTDOWN)
        return snprintf(buf, size, "=STUCK REPORT==== %s%s%s running for %llu ms in %s%s",
                        pid, r->label ? " " : "", r->label ? r->label : "",
                        (unsigned long long) (r->running_ns / 1000000u),
                        r->handler ? r->handler : "?",
                        r->kind == FX_REPORT_STUCK_AT_SHUTDOWN ? " at shutdown" : "");
    fx_reason_format(&r->reason, why, sizeof why);
    return snprintf(buf, size, "=CRASH REPORT==== %s%s%s exited: %s", pid,
                    r->label ? " " : "", r->label ? r->label : "", why);
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

struct logged {
    fx_crash_logger log;
    void *arg;
    const fx_crash_report *r;
};

static void call_logger(void *p)
{
    struct logged *c = p;
    c->log(c->arg, c->r);
}

void fxi_report_crash(fx_vm *vm, fxi_actor *a, const fx_reason *reason)
{
    if (reason->kind == FX_REASON_NORMAL || reason->kind == FX_REASON_SHUTDOWN ||
        reason->kind == FX_REASON_KILLED)
        return;
    fx_crash_report r = {.vm = vm, .pid = a->pid, .reason = *reason, .label = NULL};
    fxi_actor_ext *x = a->ext;
    if (x && x->label)
        r.label = x->label;
    else if (a->u.live.handler)
        r.label = symbol_name(&a->u.live.handler, sizeof a->u.live.handler);
    else if (x && x->init)
        r.label = symbol_name(&x->init, sizeof x->init);
    fx_crash_logger log =
        vm->cfg.crash_logger ? vm->cfg.crash_logger : fx_crash_logger_stderr;
    fxi_worker *w = fxi_actor_tls_worker;
    if (!w || log == fx_crash_logger_stderr || log == fx_crash_logger_silent) {
        log(vm->cfg.crash_logger_arg, &r);
        return;
    }
    /* A user logger runs with the fault site armed: a fault in it (with
     * trap_faults) or fx_crash(NULL) abandons it, and a minimal line goes
     * to stderr with write(2), which takes no lock the logger may hold. */
    struct logged c = {log, vm->cfg.crash_logger_arg, &r};
    if (fxi_fault_call(&w->fault, call_logger, &c))
        return;
    char line[160], pid[32];
    fx_pid_format(r.pid, pid, sizeof pid);
    int n = snprintf(line, sizeof line,
                     "=CRASH REPORT==== %s exited; the crash logger failed\n", pid);
    if (n > 0)
        (void) !write(2, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
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
        fx_crash_logger log =
            vm->cfg.crash_logger ? vm->cfg.crash_logger : fx_crash_logger_stderr;
        log(vm->cfg.crash_logger_arg, &r);
    }
    fxi_qsbr_ext_exit(&vm->qsbr, sec);
}
