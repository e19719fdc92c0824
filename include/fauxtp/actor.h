/* fauxtp: actors (processes), continuation handlers, send and receive.
 *
 * An actor is a handler, a state pointer and a mailbox; it has no stack.
 * The runtime calls the current handler with one message at a time, on a
 * scheduler thread; the handler returns what happens next, by value. */
#ifndef FAUXTP_ACTOR_H
#define FAUXTP_ACTOR_H

#include "msg.h"
#include "overload.h"
#include "reason.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a handler returns. Build it only with fx_continue, fx_become,
 * fx_receive or fx_stop, each called on the ctx the handler was given. */
typedef struct fx_next {
    int op;
} fx_next;

/* A handler borrows msg for the duration of the call; the runtime frees it
 * afterwards unless the handler called fx_msg_keep(cx, msg) or forwarded
 * it with a successful fx_send_msg. */
typedef fx_next (*fx_handler)(fx_ctx *cx, fx_msg *msg);

/* Runs first in a new actor, on a scheduler thread, before any message:
 * sets up state and returns the first continuation. */
typedef fx_next (*fx_init_fn)(fx_ctx *cx, void *arg);

/* Called exactly once when an actor exits, for any reason (including VM
 * shutdown, where it runs on the thread calling fx_vm_shutdown). It may
 * free the state. It has no ctx: it may only send with fx_vm_send (which
 * answers FX_ESHUTDOWN during shutdown), and must not block. */
typedef void (*fx_cleanup_fn)(void *state, const fx_reason *reason);

/* --- Continuations: call only inside a handler, on its ctx ------------- */

/* With a NULL cx (or a NULL handler) fx_become, fx_stop and fx_receive
 * return an invalid fx_next and change nothing; the runtime always passes
 * a ctx, so that value can only reach it by mistake, and a handler or init
 * that returns it stops with reason error FX_EINVAL. */

/* Same handler, next message (clears any selective-receive pattern). */
FX_API fx_next fx_continue(fx_ctx *cx);
/* Switch to handler h for the next message. */
FX_API fx_next fx_become(fx_ctx *cx, fx_handler h);
/* Exit with reason (normal, shutdown, error...). */
FX_API fx_next fx_stop(fx_ctx *cx, fx_reason reason);

/* Selective receive pattern: a message matches when every set field
 * matches. Zero fields are wildcards; `pred` (with `pred_arg`) is
 * optional and runs after the field checks. */
typedef struct fx_match {
    uint32_t type; /* 0 = any type */
    fx_pid from;   /* FX_PID_NONE = any sender */
    fx_ref ref;    /* FX_REF_NONE = any ref */
    bool (*pred)(const fx_msg *msg, void *arg);
    void *pred_arg; /* borrowed; must outlive the receive */
} fx_match;

/* Receive the first message (in arrival order, saved ones first) matching
 * *match, with handler h. Unmatched messages stay queued in arrival order
 * and are examined again once the continuation changes. If timeout_ms >= 0
 * and nothing matches in time, h gets a message of type FX_MSG_TIMEOUT.
 * FX_INFINITY waits forever; a timeout beyond FX_TIMEOUT_MAX counts as
 * FX_TIMEOUT_MAX. match is copied; NULL matches anything. */
FX_API fx_next fx_receive(fx_ctx *cx, fx_handler h, const fx_match *match,
                          int64_t timeout_ms);

/* Unwinds out of the running handler to the scheduler and kills only this
 * actor with an error reason of code FX_ECRASHED (<fauxtp/error.h>)
 * carrying the formatted text. Inside a handler (or init) only. With a
 * NULL cx it crashes the actor whose handler is running on the calling
 * thread, or, in a blocking-pool job (<fauxtp/pool.h>), ends that job with
 * status FX_ECRASHED; called so anywhere else, with nothing to unwind
 * to, it prints a diagnostic and aborts the program (it cannot return). */
FX_API FX_NORETURN void fx_crash(fx_ctx *cx, const char *fmt, ...) FX_PRINTF(2, 3);

/* --- Context accessors: inside a handler only ----------------------- */
FX_API fx_pid fx_self(const fx_ctx *cx);
FX_API fx_vm *fx_ctx_vm(const fx_ctx *cx);
FX_API void *fx_state(const fx_ctx *cx);
FX_API void fx_set_state(fx_ctx *cx, void *state);
/* Keeps the message being handled: it is not freed after the handler
 * returns, and the caller now owns it (free with fx_msg_free, or move it
 * on with fx_send_msg). msg must be the message the handler was given. */
FX_API void fx_msg_keep(fx_ctx *cx, fx_msg *msg);
/* A new unique ref; FX_REF_NONE for a NULL cx. */
FX_API fx_ref fx_make_ref(fx_ctx *cx);

/* --- Spawning --------------------------------------------------------- */

/* How to start an actor. Zero-initialise, then set handler (+ state) or
 * init (+ init_arg). With state_size > 0 the runtime allocates that many
 * zeroed bytes with the actor (one allocation), aligned for any object
 * (16 bytes, as malloc's), passes them as the state and frees them at
 * exit; `state` is then ignored. */
typedef struct fx_spawn_opts {
    fx_handler handler; /* first handler (required unless init is set) */
    void *state;        /* borrowed by the actor; see cleanup */
    fx_init_fn init;    /* optional: runs first and returns the next step */
    void *init_arg;
    size_t state_size;        /* inline state (<= 64 KiB), 0 = use `state` */
    const void *state_init;   /* optional: state_size bytes copied into the
                                 inline state at spawn (borrowed) */
    fx_cleanup_fn cleanup;    /* optional, see fx_cleanup_fn */
    const char *label;        /* optional name for crash reports; borrowed,
                                 must outlive the process (a literal) */
    fx_mailbox_limit mailbox; /* optional: zero = unbounded (overload.h) */
} fx_spawn_opts;

/* Spawns an actor from inside a handler. *out (may be NULL) receives its
 * pid. Errors: FX_EINVAL (NULL cx/opts, no handler nor init, oversized
 * state, unknown mailbox.policy with mailbox.max > 0), FX_EFULL (process table full),
 * FX_ENOMEM, FX_ESHUTDOWN. */
FX_API int fx_spawn_opt(fx_ctx *cx, const fx_spawn_opts *opts, fx_pid *out);
/* Shorthand for fx_spawn_opt with only handler and state. */
FX_API int fx_spawn(fx_ctx *cx, fx_handler h, void *state, fx_pid *out);

/* The same, from a thread outside the VM (main, an I/O thread). On a
 * scheduler thread they work too but fx_spawn* is faster. */
FX_API int fx_vm_spawn_opt(fx_vm *vm, const fx_spawn_opts *opts, fx_pid *out);
FX_API int fx_vm_spawn(fx_vm *vm, fx_handler h, void *state, fx_pid *out);

/* --- Sending ------------------------------------------------------------ */

/* Copies size bytes of data into a new message of `type` and sends it to
 * `to`, from the running actor. Order per sender/receiver pair is kept.
 * Sending to a dead process drops the message (Erlang semantics) and
 * returns FX_ENOPROC as a hint. Errors: FX_EINVAL (NULL cx, data NULL with
 * size > 0, reserved type), FX_EMSGSIZE (over the VM's max_msg_size),
 * FX_ENOMEM, FX_ENOPROC, FX_EMAILBOX_FULL (the receiver's limit under
 * FX_MAILBOX_DROP: the message is dropped and counted). A send to a
 * process over its mark may mute the caller after this handler call
 * (docs/overload.md). Inside a handler only. */
FX_API int fx_send(fx_ctx *cx, fx_pid to, uint32_t type, const void *data, size_t size);
/* Sends a message built with fx_msg_new (or the message being handled,
 * forwarded without a copy). Ownership as in <fauxtp/msg.h>: 0 takes msg;
 * any error, FX_ENOPROC included, leaves it with the caller. The
 * message's sender is set to the running actor. Errors as fx_send, and
 * FX_EINVAL for a NULL msg. Inside a handler only. */
FX_API int fx_send_msg(fx_ctx *cx, fx_pid to, fx_msg *msg);

/* The same from outside the VM (sender FX_PID_NONE). Also
 * FX_ESHUTDOWN when the VM is not running, and FX_EAGAIN instead of
 * FX_EMAILBOX_FULL when the receiver's queue is at its limit under any
 * policy (the caller keeps the message; never muted). fx_vm_send_msg: ownership as
 * fx_send_msg. Any thread. */
FX_API int fx_vm_send(fx_vm *vm, fx_pid to, uint32_t type, const void *data, size_t size);
FX_API int fx_vm_send_msg(fx_vm *vm, fx_pid to, fx_msg *msg);

/* Replies to a call: sends `to.pid` an FX_MSG_REPLY with ref `to.ref` and
 * a copy of the data, from the running actor. It is delivered only if the
 * caller still waits (holds its monitor with that ref); otherwise dropped.
 * Any handler may reply, not only the one that got the request (deferred
 * replies). Errors: FX_EINVAL (NULL cx, empty `to`, data NULL with size >
 * 0), FX_EMSGSIZE (over max_msg_size + FX_MSG_ENVELOPE_MAX: a reply has
 * room for a behaviour's header, see msg.h), FX_ENOMEM, FX_ENOPROC (caller
 * gone). Inside a handler. */
FX_API int fx_reply(fx_ctx *cx, fx_from to, const void *data, size_t size);
/* The same from outside the VM (sender FX_PID_NONE); also FX_ESHUTDOWN.
 * Any thread. */
FX_API int fx_vm_reply(fx_vm *vm, fx_from to, const void *data, size_t size);

/* 1 if the calling thread is one of vm's scheduler threads (where blocking
 * calls are refused), else 0. Any thread. */
FX_API int fx_vm_on_scheduler(fx_vm *vm);

/* 1 if pid names a live process of vm, 0 if not (stale or never
 * existed), FX_EINVAL for NULL vm. Any thread; the answer may be out of
 * date as soon as it returns. */
FX_API int fx_is_alive(fx_vm *vm, fx_pid pid);

#ifdef __cplusplus
}
#endif
#endif
