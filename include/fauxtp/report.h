/* fauxtp: reports. An actor that exits abnormally (any reason but
 * normal, shutdown and killed) produces one crash report; the watchdog
 * reports handlers that run too long (kind FX_REPORT_STUCK,
 * docs/watchdog.md); supervisors report the children they start, lose and
 * give up on (Erlang's SASL progress and supervisor reports).
 *
 * Where a report goes: crash and stuck reports (FX_REPORT_CRASH,
 * FX_REPORT_STUCK, FX_REPORT_STUCK_AT_SHUTDOWN) go to the VM's crash
 * logger (fx_vm_config.crash_logger) when one is set, exactly as before
 * the logger existed (every report, no level, no rate limit); otherwise,
 * and for every other kind, a report becomes an event of the VM's logger
 * (log.h): filtered by its threshold and rate limit, handed to its sink
 * with the structured report attached (fx_log_event.report). Levels:
 * crash error, stuck warning, stuck at shutdown error, supervisor progress
 * info (hidden by default, as in Erlang since OTP 21), the other
 * supervisor reports error. */
#ifndef FAUXTP_REPORT_H
#define FAUXTP_REPORT_H

#include "reason.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a report is about. A logger that only knows crashes should
 * ignore kinds other than FX_REPORT_CRASH. */
typedef enum fx_report_kind {
    FX_REPORT_CRASH = 0, /* the process exited abnormally (reason) */
    /* The process's handler call (or init function) has been running for
     * at least running_ns (fx_vm_config.stuck_ms): once per call. The
     * process is still alive; reason is {error, FX_ESTUCK}. */
    FX_REPORT_STUCK = 1,
    /* fx_vm_shutdown's deadline passed while this process's handler was
     * still running (fx_vm_shutdown then answers FX_ESTUCK). */
    FX_REPORT_STUCK_AT_SHUTDOWN = 2,
    /* Supervisor reports (src/otp's supervisors; pid and label are the
     * supervisor's, child_id and child_pid the child's). */
    /* Progress report: the supervisor started the child (at start-up, as
     * a restart, or on request); child_pid is the new process. */
    FX_REPORT_SUP_PROGRESS = 3,
    /* errorContext child_terminated: the child exited with reason
     * (child_pid: the dead process); restarting says whether the
     * supervisor restarts it (false: a temporary child, or one restart
     * too many, reported next). */
    FX_REPORT_SUP_CHILD_TERMINATED = 4,
    /* errorContext start_error: the child's start failed with reason
     * (child_pid FX_PID_NONE). */
    FX_REPORT_SUP_START_ERROR = 5,
    /* errorContext shutdown: reached_max_restart_intensity (the reason,
     * {shutdown, "reached_max_restart_intensity"}). The supervisor gives
     * up: it stops its children and exits; child_id and child_pid name
     * the child whose exit was one restart too many. */
    FX_REPORT_SUP_SHUTDOWN = 6,
    /* errorContext shutdown_error: a child the supervisor stopped
     * (terminate_child, its group's restart, the supervisor's own
     * shutdown) exited with reason other than shutdown: killed after its
     * shutdown time, or its own reason if it was dead already (a
     * brutal_kill child's killed, and a non-permanent child's normal,
     * are not errors), as OTP. */
    FX_REPORT_SUP_SHUTDOWN_ERROR = 7
} fx_report_kind;

typedef struct fx_crash_report {
    fx_vm *vm;
    fx_pid pid;
    fx_reason reason;
    /* The spawn's label (fx_spawn_opts.label), else the exported symbol
     * name of the handler running when it died, else NULL. Borrowed for
     * the duration of the logger call. */
    const char *label;
    /* Zero in crash reports built by older code (FX_REPORT_CRASH). */
    fx_report_kind kind;
    /* Stuck reports: how long the handler call had been running when
     * seen (a lower bound), and the exported symbol of the handler or
     * init function running, else NULL (borrowed, as label). */
    uint64_t running_ns;
    const char *handler;
    /* Supervisor reports (zero in the others): the child's id (borrowed,
     * as label) and pid, and for FX_REPORT_SUP_CHILD_TERMINATED whether
     * it is restarted. */
    const char *child_id;
    fx_pid child_pid;
    bool restarting;
} fx_crash_report;

/* Crash reports are made on the scheduler thread where the actor died,
 * after its links and monitors were signalled. Stuck reports come from
 * the VM's watchdog thread (FX_REPORT_STUCK) or from the thread in
 * fx_vm_shutdown (FX_REPORT_STUCK_AT_SHUTDOWN). Must not block; may send
 * with fx_vm_send (not to an inbox whose owner waits on this thread). */
typedef void (*fx_crash_logger)(void *arg, const fx_crash_report *report);

/* The default crash logger of config version 2 (crash_logger NULL now
 * means "the log sink"): one line on stderr, e.g.
 * "=CRASH REPORT==== <1.12.1> worker_loop exited: {error,FX_ECRASHED,\"boom\"}",
 * or "=STUCK REPORT==== <1.12.1> worker_loop running for 100 ms in spin_handler"
 * (" at shutdown" is added for FX_REPORT_STUCK_AT_SHUTDOWN).
 * A NULL report is ignored (nothing is written). Any thread. */
FX_API void fx_crash_logger_stderr(void *arg, const fx_crash_report *report);
/* A logger that drops every report (tests, or embedders that count
 * crashes elsewhere). Any thread; NULL arguments are fine. */
FX_API void fx_crash_logger_silent(void *arg, const fx_crash_report *report);

/* Formats the report line (without newline) into buf, always
 * NUL-terminated when size > 0. Returns the length the full line needs,
 * like snprintf, or FX_EINVAL for NULL report. Supervisor reports read:
 *   =PROGRESS REPORT==== <1.4.1> my_sup started child worker <1.7.1>
 *   =SUPERVISOR REPORT==== <1.4.1> my_sup child_terminated: child worker
 *     <1.5.1> exited: {error,FX_ECRASHED,"boom"}; restarting
 *   =SUPERVISOR REPORT==== <1.4.1> my_sup start_error: child worker:
 *     {error,FX_EINIT,"no config"}
 *   =SUPERVISOR REPORT==== <1.4.1> my_sup shutdown:
 *     reached_max_restart_intensity (child worker <1.5.1>)
 * (each on one line; "; not restarted" when restarting is false). Any
 * thread. */
FX_API int fx_crash_report_format(const fx_crash_report *report, char *buf, size_t size);

/* Formats a pid as Erlang prints one, "<TAG.INDEX.GENERATION>", where TAG
 * stands for the pid's VM (Erlang's node field; tags start at 1). Returns
 * as snprintf. Any thread. */
FX_API int fx_pid_format(fx_pid pid, char *buf, size_t size);

/* Hands r to vm's logger as the top of this file says (crash_logger for
 * crash and stuck kinds when set, else the log sink at the kind's level).
 * For behaviours of your own (src/otp's supervisors use it); r->vm is
 * ignored. Returns 1 if the report reached crash_logger or the sink, 0 if
 * the logger filtered it out, or FX_EINVAL (NULL vm or r, unknown kind),
 * FX_ESHUTDOWN (after fx_vm_shutdown finished), FX_EFORKED. Any thread;
 * r and what it points to are borrowed for the call. */
FX_API int fx_report_emit(fx_vm *vm, const fx_crash_report *r);

#ifdef __cplusplus
}
#endif
#endif
