/* Report lines: the pid and report formats, the version 2 crash loggers,
 * and the label of a process (report.h, actor/report_format.h). */
#include "actor/report_format.h"

#include <dlfcn.h>
#include <fauxtp/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    case FX_REPORT_SUP_SHUTDOWN_ERROR:
        return "=SUPERVISOR REPORT====";
    default:
        return "=CRASH REPORT====";
    }
}

/* What follows the banner and the process: the report proper. */
static int rest(const fx_crash_report *r, char *buf, size_t size)
{
    char why[4 * FX_REASON_TEXT_MAX + 64], child[32] = ""; /* escaped text fits */
    const char *id = "?";
    /* The child fields exist only in reports built against the version 3
     * header: an older caller's struct ends after `handler`, and its
     * kinds (crash, stuck) never reach them. */
    if (r->kind >= FX_REPORT_SUP_PROGRESS && r->kind <= FX_REPORT_SUP_SHUTDOWN_ERROR) {
        id = r->child_id ? r->child_id : "?";
        fx_pid_format(r->child_pid, child, sizeof child);
    }
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
    case FX_REPORT_SUP_SHUTDOWN_ERROR:
        fx_reason_format(&r->reason, why, sizeof why);
        return snprintf(buf, size, "shutdown_error: child %s %s: %s", id, child, why);
    default:
        fx_reason_format(&r->reason, why, sizeof why);
        return snprintf(buf, size, "exited: %s", why);
    }
}

/* The report proper in full: in stack (of FXI_TAIL bytes) when it fits,
 * else in a heap copy (*heap, for the caller to free), else cut to fit
 * stack when that allocation fails. */
#define FXI_TAIL 512
static const char *rest_full(const fx_crash_report *r, char *stack, char **heap)
{
    *heap = NULL;
    int n = rest(r, stack, FXI_TAIL);
    if (n >= FXI_TAIL && (*heap = malloc((size_t) n + 1)) != NULL) {
        rest(r, *heap, (size_t) n + 1);
        return *heap;
    }
    return stack;
}

int fxi_report_body(const fx_crash_report *r, char *buf, size_t size)
{
    char stack[FXI_TAIL], *heap;
    const char *tail = rest_full(r, stack, &heap);
    int n = snprintf(buf, size, "%s %s", banner(r->kind), tail);
    free(heap);
    return n;
}

FX_API int fx_crash_report_format(const fx_crash_report *r, char *buf, size_t size)
{
    if (!r)
        return FX_EINVAL;
    char pid[32], stack[FXI_TAIL], *heap;
    fx_pid_format(r->pid, pid, sizeof pid);
    const char *tail = rest_full(r, stack, &heap);
    int n = snprintf(buf, size, "%s %s%s%s %s", banner(r->kind), pid, r->label ? " " : "",
                     r->label ? r->label : "", tail);
    free(heap);
    return n;
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
const char *fxi_report_symbol(const void *fn_bits, size_t n)
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
        return fxi_report_symbol(&a->u.live.handler, sizeof a->u.live.handler);
    if (x && x->init)
        return fxi_report_symbol(&x->init, sizeof x->init);
    return NULL;
}
