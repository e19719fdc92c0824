/* fauxtp: crash reports. An actor that exits abnormally (any reason but
 * normal, shutdown and killed) produces one report, handed to the VM's
 * crash logger (fx_vm_config.crash_logger). The default prints one
 * Erlang-like line on stderr. */
#ifndef FAUXTP_REPORT_H
#define FAUXTP_REPORT_H

#include "reason.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fx_crash_report {
    fx_vm *vm;
    fx_pid pid;
    fx_reason reason;
    /* The spawn's label (fx_spawn_opts.label), else the exported symbol
     * name of the handler running when it died, else NULL. Borrowed for
     * the duration of the logger call. */
    const char *label;
} fx_crash_report;

/* Called on the scheduler thread where the actor died, after its links
 * and monitors were signalled. Must not block; may send with fx_vm_send
 * (not to an inbox whose owner waits on this thread). */
typedef void (*fx_crash_logger)(void *arg, const fx_crash_report *report);

/* The default logger: one line on stderr, e.g.
 * "=CRASH REPORT==== <1.12.1> worker_loop exited: {error,FX_ECRASHED,\"boom\"}".
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
