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

/* A process id. Treat it as opaque: copy it, compare it (fx_pid_eq), print
 * it (fx_pid_format). A pid whose process died is "stale", and a pid of
 * another VM names no process of this one: every call that takes either
 * answers as for a dead process (FX_ENOPROC, fx_is_alive 0, a noproc DOWN
 * or EXIT, as each call documents). The zero pid is never a process
 * (FX_PID_NONE).
 *
 * Layout, for information only (it may change; see docs/design.md, "Pids"):
 * bits 63..48 the VM's tag (nonzero, distinct for every VM created in the
 * process until 65,535 VMs were created), bits 47..24 the process-table
 * slot's generation (nonzero), bits 23..0 the slot's index. */
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

/* C has compound literals; ISO C++ has none (pedantic C++ rejects them),
 * so C++ gets value-initialised temporaries of the same value. */
#ifdef __cplusplus
#define FX_PID_NONE (fx_pid{0})
#define FX_REF_NONE (fx_ref{0})
#else
#define FX_PID_NONE ((fx_pid){0})
#define FX_REF_NONE ((fx_ref){0})
#endif

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
