/* fauxtp: exit reasons, a small value type. */
#ifndef FAUXTP_REASON_H
#define FAUXTP_REASON_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fx_reason_kind {
    FX_REASON_NORMAL = 0,
    FX_REASON_SHUTDOWN,
    FX_REASON_KILLED,
    FX_REASON_NOPROC,
    FX_REASON_TIMEOUT,
    FX_REASON_ERROR,
    /* Only as the reason of fx_exit / fx_vm_exit: the untrappable exit
     * signal (Erlang's `kill`). Its target dies with FX_REASON_KILLED.
     * A process that stops with it sends its links an ordinary, trappable
     * `kill` reason, as in Erlang. */
    FX_REASON_KILL,
} fx_reason_kind;

#define FX_REASON_TEXT_MAX 48

/* Why a process exited. Plain value: copy it, compare it with the
 * fx_reason_is_* helpers. `code` and `text` are meaningful for
 * FX_REASON_ERROR, `text` also for FX_REASON_SHUTDOWN (see
 * fx_reason_shutdown_with); text is NUL-terminated, truncated to fit.
 *
 * An error reason's code is negative for fauxtp's own codes, the fx_err
 * values of <fauxtp/error.h> (fx_err_name and fx_strerror name them):
 * FX_ECRASHED for fx_crash, FX_EFAULT for a trapped hardware fault,
 * FX_EINVAL, FX_ENOMEM... for the runtime's and the behaviours' own
 * failures. The application's own codes are positive. */
typedef struct fx_reason {
    int32_t kind; /* fx_reason_kind */
    int32_t code;
    char text[FX_REASON_TEXT_MAX];
} fx_reason;

/* Constructors. Any thread. */
FX_API fx_reason fx_reason_normal(void);
FX_API fx_reason fx_reason_shutdown(void);
FX_API fx_reason fx_reason_killed(void);
FX_API fx_reason fx_reason_noproc(void);
FX_API fx_reason fx_reason_timeout(void);
FX_API fx_reason fx_reason_kill(void);
/* An error reason; the formatted text is copied (truncated to
 * FX_REASON_TEXT_MAX-1 bytes). fmt may be NULL for no text. */
FX_API fx_reason fx_reason_error(int code, const char *fmt, ...) FX_PRINTF(2, 3);

/* {shutdown, Text}: a clean exit with an explanation (a supervisor that
 * gave up exits with {shutdown,"reached_max_restart_intensity"}). Like
 * shutdown, it does not make a transient child restart. Text as for
 * fx_reason_error. */
FX_API fx_reason fx_reason_shutdown_with(const char *fmt, ...) FX_PRINTF(1, 2);
FX_API bool fx_reason_is_normal(const fx_reason *r);
/* true for normal, shutdown and {shutdown,...}: the reasons a transient child may exit
 * with without being restarted. */
FX_API bool fx_reason_is_clean(const fx_reason *r);
FX_API bool fx_reason_eq(const fx_reason *a, const fx_reason *b);

/* Formats r as Erlang would print it ("normal", "kill", "{error,3,\"boom\"}") into
 * buf (always NUL-terminated when size > 0). A code of fauxtp's own is
 * printed by name ("{error,FX_ECRASHED,\"boom\"}"), any other as a number.
 * Returns the length the full text needs, like snprintf, or FX_EINVAL for
 * NULL r. Any thread. */
FX_API int fx_reason_format(const fx_reason *r, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
