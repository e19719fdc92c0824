/* fauxtp: monitors, one-way watches on a process, with Erlang's semantics.
 *
 * fx_monitor returns a fresh ref. When the watched process exits with
 * reason R, the watcher gets one FX_MSG_DOWN message whose ref is the
 * monitor's and whose payload is fx_down_info {ref, pid, R}. Monitoring a
 * dead or stale pid delivers a DOWN with reason noproc at once; so does a
 * monitor whose request reaches the process while it is already exiting
 * (as in Erlang: the reason R is not told), so a call to a server whose
 * stop is queued ahead of the call answers FX_ENOPROC. A DOWN
 * arrives after every message the watched process sent before it died.
 * Each call makes a new monitor: two calls give two DOWNs. */
#ifndef FAUXTP_MONITOR_H
#define FAUXTP_MONITOR_H

#include "actor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Payload of FX_MSG_DOWN. */
typedef struct fx_down_info {
    fx_ref ref;
    fx_pid pid;
    fx_reason reason;
} fx_down_info;

/* Starts monitoring pid from the running process; *ref (required) gets
 * the monitor's ref. Monitoring oneself gives a ref and never a DOWN; that
 * monitor is active until demonitored (fx_demonitor answers 0 once), as
 * Erlang's. Errors: FX_EINVAL (NULL cx or ref, an empty pid), FX_ENOMEM.
 * Inside a handler only. */
FX_API int fx_monitor(fx_ctx *cx, fx_pid pid, fx_ref *ref);

/* A monitor for a call (Erlang's monitor with {alias, reply_demonitor}):
 * as fx_monitor, and the watched process's reply (fx_reply) with this ref
 * ends it at both ends: the reply is delivered as a reply under a monitor
 * is, no DOWN for it comes after, and fx_demonitor then answers
 * FX_ENOENT. Send the request with this ref; a reply from any other
 * process leaves the monitor as it is. It spares the call's end a
 * demonitor signal to the watched process. Errors: FX_EINVAL (NULL cx or
 * ref, an empty pid), FX_ENOMEM. Inside a handler only. */
FX_API int fx_monitor_call(fx_ctx *cx, fx_pid pid, fx_ref *ref);
/* Also remove a DOWN for this monitor already in the caller's queue. */
#define FX_DEMONITOR_FLUSH 1u

/* Ends the monitor `ref`. After it returns no DOWN for it arrives any
 * more; one already in the caller's queue (the target died before the
 * call: fx_process_info's queue length counts it, whether or not the
 * caller has reached it) stays, as in Erlang, and with
 * FX_DEMONITOR_FLUSH it is removed as well. Returns 0 if the monitor was
 * active, FX_ENOENT if it was not (unknown ref, already fired: its DOWN
 * queued or received, or already removed) — with FLUSH, a removed queued
 * DOWN still answers FX_ENOENT, as demonitor(Ref, [flush, info]) answers
 * false. A remote target's DOWN not yet reached counts as in transit
 * (0, and it never arrives). Errors: FX_EINVAL (NULL cx, ref FX_REF_NONE, a flag bit
 * other than FX_DEMONITOR_FLUSH). Inside a handler only. */
FX_API int fx_demonitor(fx_ctx *cx, fx_ref ref, unsigned flags);

/* Spawns and monitors atomically (the monitor exists before the new
 * process runs). *ref (required) gets the monitor's ref. Arguments and
 * errors as fx_spawn_opt. Inside a handler only. */
FX_API int fx_spawn_monitor(fx_ctx *cx, const fx_spawn_opts *opts, fx_pid *out,
                            fx_ref *ref);

#ifdef __cplusplus
}
#endif
#endif
