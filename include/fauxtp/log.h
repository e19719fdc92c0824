/* fauxtp: the logger. One per VM: a level threshold, a rate limit and a
 * sink (a function and its argument, fx_vm_config.log_sink). Lines come
 * from fx_log (any thread) and from the runtime's reports: crash and
 * stuck-handler reports (report.h) and the supervisors' reports (SASL's
 * supervisor and progress reports). See docs/observability.md, "Logger
 * and reports".
 *
 * Levels are Erlang's (logger, after syslog), most severe first. An event
 * is passed on when its level is at or above the threshold in severity,
 * i.e. level <= threshold numerically; the default threshold is
 * FX_LOG_NOTICE, as Erlang's, so info and debug events (progress reports
 * among them) are hidden by default.
 *
 * Rate limit: a token bucket per VM (log_rate lines per second, bursts of
 * log_burst; by default 500 and 500, Erlang's logger burst limit of 500
 * events per second). An event over the limit is dropped and counted;
 * the next event that passes is preceded by one line "N log events
 * suppressed" (level warning). Under a sustained overload that makes up
 * to twice log_rate lines a second, half of them such notes. The limit is applied after
 * the threshold: events below it cost one load and are not counted.
 *
 * The sink runs on the thread that logs (a scheduler thread for reports
 * and for fx_log inside handlers), possibly on several threads at once: it
 * must be thread-safe and must not block (no waiting on a lock held for
 * long, no blocking I/O on a slow device: hand slow work to another
 * thread). It may send with fx_vm_send. Events logged from inside a sink
 * (fx_log, or a send that logs) on the same thread are dropped, so a sink
 * cannot recurse. The default sink, fx_log_sink_stderr, formats one line
 * and writes it with one write(2). */
#ifndef FAUXTP_LOG_H
#define FAUXTP_LOG_H

#include <stdarg.h>

#include "report.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Severity levels: syslog's numbers plus one, so that 0 in the VM config
 * means "the default". */
typedef enum fx_log_level {
    FX_LOG_EMERGENCY = 1,
    FX_LOG_ALERT = 2,
    FX_LOG_CRITICAL = 3,
    FX_LOG_ERROR = 4,
    FX_LOG_WARNING = 5,
    FX_LOG_NOTICE = 6,
    FX_LOG_INFO = 7,
    FX_LOG_DEBUG = 8
} fx_log_level;

/* fx_vm_config.log_level and fx_log_set_level: pass nothing at all. */
#define FX_LOG_OFF (-1)
/* fx_vm_config.log_rate: no rate limit. */
#define FX_LOG_UNLIMITED UINT32_MAX

/* Longest text of one event, NUL excluded: longer texts are truncated. */
#define FX_LOG_TEXT_MAX 1024

/* One event, handed to the sink. Everything is borrowed for the duration
 * of the sink call. */
typedef struct fx_log_event {
    fx_vm *vm;
    uint64_t time_ns; /* wall-clock time (CLOCK_REALTIME), ns since 1970 */
    int32_t level;    /* fx_log_level */
    /* The process the event is about: for fx_log inside a handler, the
     * running process; for a report, report->pid; else FX_PID_NONE. */
    fx_pid pid;
    /* That process's label (fx_spawn_opts.label, else its handler's
     * exported symbol), else NULL. */
    const char *label;
    /* The text, NUL-terminated, without newline (it may contain any
     * byte the caller put in it; the default sink escapes control
     * characters). For a report, the report's line (report.h). */
    const char *text;
    size_t text_len;
    /* Reports: the structured report (kind and fields); NULL for plain
     * fx_log lines and for the "suppressed" line. */
    const fx_crash_report *report;
} fx_log_event;

/* A sink. Threads and rules: the top of this file. */
typedef void (*fx_log_sink)(void *arg, const fx_log_event *ev);

/* The default sink: formats ev with fx_log_format and writes the line and
 * a newline to file descriptor 2 with one write(2). arg is ignored. A
 * NULL ev is ignored. Any thread. */
FX_API void fx_log_sink_stderr(void *arg, const fx_log_event *ev);
/* A sink that drops every event. Any thread; NULL arguments are fine. */
FX_API void fx_log_sink_silent(void *arg, const fx_log_event *ev);

/* Formats the default one-line form of ev into buf (no newline), always
 * NUL-terminated when size > 0:
 *   TIME LEVEL PID LABEL TEXT
 * e.g. "2026-11-30T17:02:03.145Z error <1.12.1> worker_loop =CRASH REPORT====
 * exited: {error,FX_ECRASHED,\"boom\"}". TIME is UTC with milliseconds
 * (ISO 8601), LEVEL the level's name (fx_log_level_name), PID as
 * fx_pid_format or "-" for none, LABEL the label with spaces and control
 * characters replaced by '_', or "-" for none; in TEXT, backslash, newline,
 * carriage return and tab are written as \\, \n, \r, \t and other control
 * bytes as \xHH, so a line is always one line. Returns the length the full
 * line needs, like snprintf, or FX_EINVAL for a NULL ev. Any thread. */
FX_API int fx_log_format(const fx_log_event *ev, char *buf, size_t size);

/* "emergency", "alert", "critical", "error", "warning", "notice", "info",
 * "debug"; "?" for anything else. Any thread. */
FX_API const char *fx_log_level_name(int level);

/* Logs a printf-formatted line at level on vm's logger, about the running
 * process when called inside one of vm's handlers. Returns 1 if the event
 * reached the sink, 0 if it was filtered out (below the threshold, over
 * the rate limit, logged from inside a sink), or FX_EINVAL (NULL vm or
 * fmt, level outside 1..8), FX_ESHUTDOWN (after fx_vm_shutdown finished),
 * FX_EFORKED (forked child). The text is truncated to FX_LOG_TEXT_MAX
 * bytes. Any thread. */
FX_API int fx_log(fx_vm *vm, int level, const char *fmt, ...) FX_PRINTF(3, 4);
/* The same with a va_list. */
FX_API int fx_vlog(fx_vm *vm, int level, const char *fmt, va_list ap);

/* Sets vm's threshold: 1..8 or FX_LOG_OFF. Returns the previous one
 * (1..8 or FX_LOG_OFF), or FX_EINVAL (NULL vm, other level), FX_EFORKED.
 * Takes effect at once for events logged after it. Any thread. */
FX_API int fx_log_set_level(fx_vm *vm, int level);
/* vm's threshold (1..8 or FX_LOG_OFF), FX_EINVAL for NULL. Any thread. */
FX_API int fx_log_get_level(fx_vm *vm);
/* 1 if an event of this level would pass vm's threshold (the rate limit
 * aside), else 0; FX_EINVAL for NULL. One load: use it to skip costly
 * formatting. Any thread. */
FX_API int fx_log_enabled(fx_vm *vm, int level);

/* The logger's counters. */
typedef struct fx_log_stats {
    uint64_t logged;     /* events handed to the sink (reports included) */
    uint64_t suppressed; /* events dropped by the rate limit */
    /* Reports handed to crash_logger instead of the sink (report.h). */
    uint64_t crash_logger_reports;
} fx_log_stats;
/* 0 and *out; FX_EINVAL (NULL), FX_EFORKED. Any thread, also after
 * shutdown (until fx_vm_destroy). */
FX_API int fx_log_stats_get(fx_vm *vm, fx_log_stats *out);

#ifdef __cplusplus
}
#endif
#endif
