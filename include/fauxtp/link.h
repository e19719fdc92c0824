/* fauxtp: links, exit signals and trap_exit, with Erlang's semantics.
 *
 * A link joins two processes both ways. When a process exits with reason
 * R, each linked process receives an exit signal R:
 *   - trapping exits (fx_trap_exit), it gets an FX_MSG_EXIT message
 *     carrying an fx_exit_info {pid, R};
 *   - not trapping, it ignores R = normal and otherwise exits with R too,
 *     which propagates further along its own links.
 * fx_exit sends an exit signal without a link; its reason FX_REASON_KILL
 * kills even a trapping process, which then exits with `killed`.
 *
 * Signals travel in the mailbox with messages, so between two processes
 * everything (messages, EXIT, DOWN) arrives in the order it was sent: a
 * message sent before an exit is handled before the EXIT/DOWN. A signal is
 * acted on when the receiver reaches it in its mailbox, never in the
 * middle of a handler. See docs/failures.md. */
#ifndef FAUXTP_LINK_H
#define FAUXTP_LINK_H

#include "actor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Payload of FX_MSG_EXIT. pid is the sender of the signal (the linked
 * process that exited, or the caller of fx_exit; FX_PID_NONE from
 * outside the VM). */
typedef struct fx_exit_info {
    fx_pid pid;
    fx_reason reason;
} fx_exit_info;

/* Links the running process with pid. Linking to an existing link or to
 * itself does nothing. If pid is dead or stale: a process trapping exits
 * gets an FX_MSG_EXIT with reason noproc and the call returns 0; one not
 * trapping gets FX_ENOPROC back and no link (Erlang's link/1 raises
 * noproc there; a C caller decides, e.g. fx_stop(cx, fx_reason_noproc())).
 * If pid dies before the link reaches it, the caller still gets an exit
 * signal with reason noproc. Errors: FX_EINVAL (NULL cx, pid
 * FX_PID_NONE), FX_ENOPROC, FX_ENOMEM. Inside a handler only. */
FX_API int fx_link(fx_ctx *cx, fx_pid pid);

/* Removes the link with pid, if any (both ends). After it returns, no
 * exit signal from that link affects the caller any more; an FX_MSG_EXIT
 * already in a trapping caller's queue stays there (also one its dead
 * peer's link put in the mailbox before the call, not yet reached: it is
 * delivered as the message it would have been). Returns 0 (also
 * when there was no link). Errors: FX_EINVAL (NULL cx, pid FX_PID_NONE).
 * Inside a handler only. */
FX_API int fx_unlink(fx_ctx *cx, fx_pid pid);

/* Sends pid an exit signal with reason, from the running process (see the
 * header comment; a target not trapping exits dies with reason unless it
 * is normal; normal sent to oneself ends the caller, as in Erlang).
 * Errors: FX_EINVAL (NULL cx, reason of an unknown kind), FX_ENOPROC (pid
 * dead: nothing sent), FX_ENOMEM. Inside a handler only. */
FX_API int fx_exit(fx_ctx *cx, fx_pid pid, fx_reason reason);

/* The same from outside the VM (the signal's sender is FX_PID_NONE; to a
 * remote pid it goes out from the connection's process, since Erlang's
 * wire needs a sender pid: a trapping remote process sees that pid in
 * its {'EXIT', From, Reason}). Also FX_ESHUTDOWN. Any thread. */
FX_API int fx_vm_exit(fx_vm *vm, fx_pid pid, fx_reason reason);

/* Sets whether the running process traps exits (turns exit signals into
 * FX_MSG_EXIT messages) and returns the previous setting. Takes effect
 * for the signals it has not reached yet. Inside a handler only. */
FX_API bool fx_trap_exit(fx_ctx *cx, bool on);

/* Spawns and links atomically: the link exists before the new process
 * runs, so no exit of either side can be missed. Arguments and errors as
 * fx_spawn_opt. Inside a handler only. */
FX_API int fx_spawn_link(fx_ctx *cx, const fx_spawn_opts *opts, fx_pid *out);

#ifdef __cplusplus
}
#endif
#endif
