/* fauxtp: handle types shared by every concept. */
#ifndef FAUXTP_TYPES_H
#define FAUXTP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A process id: process-table index (low 32 bits) and the slot's
 * generation (high 32 bits). Copy it freely; a pid whose process died is
 * "stale" and every call that takes it answers FX_ENOPROC. The zero pid is
 * never a process (FX_PID_NONE). */
typedef struct fx_pid {
    uint64_t id;
} fx_pid;

/* A unique reference (for call replies, monitors, receive timeouts). Zero
 * is never a valid ref. */
typedef struct fx_ref {
    uint64_t id;
} fx_ref;

/* Where a reply goes: the caller's pid and the call's ref (the ref of the
 * caller's monitor on the server). See fx_reply. */
typedef struct fx_from {
    fx_pid pid;
    fx_ref ref;
} fx_from;

/* A timer handle from fx_send_after / fx_vm_send_after. */
typedef struct fx_timer {
    uint64_t id;
} fx_timer;

#define FX_PID_NONE ((fx_pid){0})
#define FX_REF_NONE ((fx_ref){0})

/* Timeout meaning "wait forever". */
#define FX_INFINITY (-1)

/* The longest timeout or timer delay, in ms (2^42, about 139 years).
 * Longer ones (INT64_MAX included) are treated as exactly this: they never
 * wrap around into a short or past deadline. */
#define FX_TIMEOUT_MAX ((int64_t) 1 << 42)

static inline bool fx_pid_eq(fx_pid a, fx_pid b)
{
    return a.id == b.id;
}
static inline bool fx_ref_eq(fx_ref a, fx_ref b)
{
    return a.id == b.id;
}
static inline bool fx_pid_is_none(fx_pid p)
{
    return p.id == 0;
}

/* Opaque objects. */
typedef struct fx_vm fx_vm;
typedef struct fx_ctx fx_ctx;
typedef struct fx_msg fx_msg;

#ifdef __cplusplus
}
#endif
#endif
