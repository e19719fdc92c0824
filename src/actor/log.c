/* The VM's logger: threshold, rate limit (GCRA, a token bucket kept as one
 * timestamp), the sink call, and the routing of reports (log.h,
 * report.h). */
#include "actor/log.h"

#include <fauxtp/error.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actor/report_format.h"
#include "actor/vm.h"
#include "platform/fault.h"
#include "platform/park.h"

#define DEFAULT_RATE 500u  /* Erlang logger: burst_limit_max_count 500 */
#define DEFAULT_BURST 500u /* ... per burst_limit_window_time 1 s */
#define MAX_BURST 1000000u

/* Set while this thread is inside a sink or crash logger: an event logged
 * from there is dropped, so a sink that logs (or sends to a dead process
 * with debug on) cannot recurse. */
static _Thread_local bool in_sink;

int fxi_log_resolve_config(fx_vm_config *c)
{
    if (c->log_level == 0)
        c->log_level = FX_LOG_NOTICE;
    if (c->log_rate == 0)
        c->log_rate = DEFAULT_RATE;
    if (c->log_burst == 0)
        c->log_burst = DEFAULT_BURST;
    if ((c->log_level != FX_LOG_OFF &&
         (c->log_level < FX_LOG_EMERGENCY || c->log_level > FX_LOG_DEBUG)) ||
        c->log_burst > MAX_BURST)
        return FX_EINVAL;
    return 0;
}

void fxi_log_init(fxi_log *l, const fx_vm_config *c)
{
    memset(l, 0, sizeof *l);
    l->sink = c->log_sink ? c->log_sink : fx_log_sink_stderr;
    l->sink_arg = c->log_sink_arg;
    l->level = c->log_level == FX_LOG_OFF ? 0 : c->log_level;
    if (c->log_rate != FX_LOG_UNLIMITED) {
        l->interval_ns = 1000000000u / c->log_rate;
        if (l->interval_ns == 0)
            l->interval_ns = 1;
        l->tolerance_ns = l->interval_ns * c->log_burst;
    }
}

/* Takes a token: true if the event may pass. GCRA (the ATM cell rate
 * algorithm): tat is when the bucket will be full again if no event
 * comes; an event is allowed while tat stays within tolerance of now. */
static bool take_token(fxi_log *l)
{
    if (l->interval_ns == 0)
        return true;
    uint64_t now = fxi_now_ns();
    /* Relaxed load and CAS: the timestamp orders nothing else. */
    uint64_t tat = fxi_atomic_load_relaxed_64(&l->tat);
    for (;;) {
        uint64_t ntat = (tat > now ? tat : now) + l->interval_ns;
        if (ntat - now > l->tolerance_ns)
            return false;
        if (fxi_atomic_cas_relaxed_64(&l->tat, tat, ntat))
            return true;
        tat = fxi_atomic_load_relaxed_64(&l->tat);
    }
}

struct sink_call {
    fx_log_sink sink;
    void *arg;
    const fx_log_event *ev;
    fx_crash_logger crash;
    const fx_crash_report *r;
};

static void run_sink(void *p)
{
    struct sink_call *c = p;
    if (c->crash)
        c->crash(c->arg, c->r);
    else
        c->sink(c->arg, c->ev);
}

/* Calls a user sink or crash logger. On one of vm's scheduler threads it
 * runs with the fault site armed (as a handler does): a trapped fault or
 * fx_crash(NULL) in it abandons it and a minimal line goes to stderr with
 * write(2), which takes no lock the sink may hold. The same on another
 * thread that traps faults (the watchdog's stuck reports, a pool thread,
 * with trap_faults). */
static bool call_user(fx_vm *vm, struct sink_call *c)
{
    bool prev = in_sink, ok = true;
    in_sink = true;
    fxi_worker *w = fxi_vm_worker(vm);
    fxi_fault_site *site = w ? fxi_fault_site_for(&w->fault) : fxi_fault_thread_site();
    bool builtin =
        c->crash
            ? (c->crash == fx_crash_logger_stderr || c->crash == fx_crash_logger_silent)
            : (c->sink == fx_log_sink_stderr || c->sink == fx_log_sink_silent);
    if (!site || builtin) {
        run_sink(c);
    } else {
        ok = fxi_fault_call(site, run_sink, c);
    }
    in_sink = prev;
    return ok;
}

/* After a sink or crash logger failed: one line with write(2). */
static void failed(const char *what, fx_pid pid)
{
    char line[160], p[32];
    fx_pid_format(pid, p, sizeof p);
    int n = snprintf(line, sizeof line, "%s %s; the %s failed\n", what, p,
                     "log sink or crash logger");
    if (n > 0)
        (void) !write(2, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
}

/* The event path after the threshold: rate limit, the "suppressed" line,
 * the sink. Returns 1 if the event reached the sink, else 0. */
static int emit(fx_vm *vm, fx_log_event *ev)
{
    fxi_log *l = &vm->log;
    if (in_sink)
        return 0;
    if (!take_token(l)) {
        /* Relaxed: counters. */
        fxi_atomic_fetch_add_relaxed_64(&l->pending, 1);
        fxi_atomic_fetch_add_relaxed_64(&l->suppressed, 1);
        return 0;
    }
    ev->vm = vm;
    ev->time_ns = fxi_wall_ns();
    /* Relaxed exchange: the count only; each suppressed event is told
     * once, by whichever thread takes it. */
    uint64_t n = fxi_atomic_exchange_relaxed_64(&l->pending, 0);
    if (n) {
        char text[64];
        int len = snprintf(text, sizeof text, "%llu log events suppressed",
                           (unsigned long long) n);
        fx_log_event note = {.vm = vm,
                             .time_ns = ev->time_ns,
                             .level = FX_LOG_WARNING,
                             .pid = FX_PID_NONE,
                             .text = text,
                             .text_len = (size_t) len};
        struct sink_call c = {.sink = l->sink, .arg = l->sink_arg, .ev = &note};
        if (!call_user(vm, &c))
            failed("=LOG====", FX_PID_NONE);
        fxi_atomic_fetch_add_relaxed_64(&l->logged, 1); /* relaxed: counter */
    }
    struct sink_call c = {.sink = l->sink, .arg = l->sink_arg, .ev = ev};
    if (!call_user(vm, &c))
        failed(ev->report && ev->report->kind == FX_REPORT_CRASH ? "=CRASH REPORT===="
                                                                 : "=LOG====",
               ev->pid);
    fxi_atomic_fetch_add_relaxed_64(&l->logged, 1); /* relaxed: counter */
    return 1;
}

/* FX_ESHUTDOWN once the VM has stopped for good, FX_EFORKED, else 0. */
static int usable(fx_vm *vm)
{
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    /* Relaxed: a snapshot; a logger racing with the end of the shutdown
     * still finds the VM's memory valid until fx_vm_destroy. */
    return fxi_atomic_load_relaxed_32(&vm->state) == FXI_VM_STOPPED ? FX_ESHUTDOWN : 0;
}

/* The running process of vm on this thread, if any. */
static void who(fx_vm *vm, fx_log_event *ev)
{
    fxi_worker *w = fxi_vm_worker(vm);
    if (!w || !w->cx.self)
        return;
    fxi_actor *a = w->cx.self;
    ev->pid = a->pid;
    ev->label = fxi_report_label(a);
}

FX_API int fx_vlog(fx_vm *vm, int level, const char *fmt, va_list ap)
{
    if (!vm || !fmt || level < FX_LOG_EMERGENCY || level > FX_LOG_DEBUG)
        return FX_EINVAL;
    int rc = usable(vm);
    if (rc)
        return rc;
    if (!fxi_log_on(&vm->log, level))
        return 0;
    char text[FX_LOG_TEXT_MAX + 1];
    int n = vsnprintf(text, sizeof text, fmt, ap);
    fx_log_event ev = {.level = level, .pid = FX_PID_NONE, .text = text};
    ev.text_len = n < 0 ? 0 : (size_t) n < sizeof text ? (size_t) n : sizeof text - 1;
    if (n < 0)
        text[0] = '\0';
    who(vm, &ev);
    return emit(vm, &ev);
}

FX_API int fx_log(fx_vm *vm, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fx_vlog(vm, level, fmt, ap);
    va_end(ap);
    return rc;
}

FX_API int fx_log_set_level(fx_vm *vm, int level)
{
    if (!vm ||
        (level != FX_LOG_OFF && (level < FX_LOG_EMERGENCY || level > FX_LOG_DEBUG)))
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    /* Relaxed: a setting (fxi_log.level). */
    uint32_t old = fxi_atomic_exchange_relaxed_32(
        &vm->log.level, level == FX_LOG_OFF ? 0u : (uint32_t) level);
    return old == 0 ? FX_LOG_OFF : (int) old;
}

FX_API int fx_log_get_level(fx_vm *vm)
{
    if (!vm)
        return FX_EINVAL;
    /* Relaxed: a setting. */
    uint32_t l = fxi_atomic_load_relaxed_32(&vm->log.level);
    return l == 0 ? FX_LOG_OFF : (int) l;
}

FX_API int fx_log_enabled(fx_vm *vm, int level)
{
    if (!vm)
        return FX_EINVAL;
    return level >= FX_LOG_EMERGENCY && fxi_log_on(&vm->log, level);
}

FX_API int fx_log_stats_get(fx_vm *vm, fx_log_stats *out)
{
    if (!vm || !out)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    /* Relaxed: statistics. */
    out->logged = fxi_atomic_load_relaxed_64(&vm->log.logged);
    out->suppressed = fxi_atomic_load_relaxed_64(&vm->log.suppressed);
    out->crash_logger_reports = fxi_atomic_load_relaxed_64(&vm->log.crash_logger_reports);
    return 0;
}

/* ---- reports ------------------------------------------------------------ */

static int report_level(int kind)
{
    switch (kind) {
    case FX_REPORT_STUCK:
        return FX_LOG_WARNING;
    case FX_REPORT_SUP_PROGRESS:
        return FX_LOG_INFO;
    default:
        return FX_LOG_ERROR;
    }
}

int fxi_log_report(fx_vm *vm, const fx_crash_report *r)
{
    bool crashlike = r->kind == FX_REPORT_CRASH || r->kind == FX_REPORT_STUCK ||
                     r->kind == FX_REPORT_STUCK_AT_SHUTDOWN;
    if (crashlike && vm->cfg.crash_logger) {
        /* The version 2 contract: every report, no level, no limit. */
        struct sink_call c = {
            .crash = vm->cfg.crash_logger, .arg = vm->cfg.crash_logger_arg, .r = r};
        if (!call_user(vm, &c))
            failed(r->kind == FX_REPORT_CRASH ? "=CRASH REPORT====" : "=STUCK REPORT====",
                   r->pid);
        fxi_atomic_fetch_add_relaxed_64(&vm->log.crash_logger_reports,
                                        1); /* relaxed: counter */
        return 1;
    }
    int level = report_level(r->kind);
    if (!fxi_log_on(&vm->log, level))
        return 0;
    char text[FX_LOG_TEXT_MAX + 1];
    int n = fxi_report_body(r, text, sizeof text);
    fx_log_event ev = {.level = level,
                       .pid = r->pid,
                       .label = r->label,
                       .text = text,
                       .text_len = n < 0                      ? 0
                                   : (size_t) n < sizeof text ? (size_t) n
                                                              : sizeof text - 1,
                       .report = r};
    return emit(vm, &ev);
}

FX_API int fx_report_emit(fx_vm *vm, const fx_crash_report *r)
{
    if (!vm || !r || r->kind < FX_REPORT_CRASH || r->kind > FX_REPORT_SUP_SHUTDOWN_ERROR)
        return FX_EINVAL;
    int rc = usable(vm);
    if (rc)
        return rc;
    fx_crash_report copy = *r;
    copy.vm = vm;
    return fxi_log_report(vm, &copy);
}

void fxi_log_dead_send(fx_vm *vm, fx_pid to, uint32_t type)
{
    if (in_sink)
        return;
    char pid[32];
    fx_pid_format(to, pid, sizeof pid);
    (void) fx_log(vm, FX_LOG_DEBUG, "send to dead process %s dropped (type %u)", pid,
                  (unsigned) type);
}
