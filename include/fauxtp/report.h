/* fauxtp: crash reports. An actor that exits abnormally (any reason but
 * normal, shutdown and killed) produces one report, handed to the VM's
 * crash logger (fx_vm_config.crash_logger). The default prints one
 * Erlang-like line on stderr. The watchdog uses the same logger for
 * handlers that run too long (kind FX_REPORT_STUCK, docs/watchdog.md). */
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
    FX_REPORT_STUCK_AT_SHUTDOWN = 2
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
} fx_crash_report;

/* Crash reports are made on the scheduler thread where the actor died,
 * after its links and monitors were signalled. Stuck reports come from
 * the VM's watchdog thread (FX_REPORT_STUCK) or from the thread in
 * fx_vm_shutdown (FX_REPORT_STUCK_AT_SHUTDOWN). Must not block; may send
 * with fx_vm_send (not to an inbox whose owner waits on this thread). */
typedef void (*fx_crash_logger)(void *arg, const fx_crash_report *report);

/* The default logger: one line on stderr, e.g.
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
 * like snprintf, or FX_EINVAL for NULL report. Any thread. */
FX_API int fx_crash_report_format(const fx_crash_report *report, char *buf, size_t size);

/* Formats a pid as Erlang prints one, "<TAG.INDEX.GENERATION>", where TAG
 * stands for the pid's VM (Erlang's node field; tags start at 1). Returns
 * as snprintf. Any thread. */
FX_API int fx_pid_format(fx_pid pid, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
