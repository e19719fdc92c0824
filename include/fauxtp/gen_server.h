/* fauxtp: GenServer, the generic server behaviour (Erlang's gen_server).
 *
 * A GenServer is an ordinary actor running a loop the library provides
 * around your callbacks: requests arrive as calls (the caller waits for a
 * reply), casts (fire and forget) or plain messages (handle_info). Your
 * state is a void * your callbacks own. Built only on the public actor
 * API (see docs/genserver.md). */
#ifndef FAUXTP_GEN_SERVER_H
#define FAUXTP_GEN_SERVER_H

#include "inbox.h"
#include "request.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a callback asks for next. Build it only with the fx_gs_* helpers
 * below, on the ctx the callback was given. */
typedef struct fx_gs_ret {
    int op;
    int flags;
    int64_t timeout_ms;
    uint64_t cont;
    fx_reason reason;
} fx_gs_ret;

/* The callbacks, in a `static const` table. Only handle_call is needed
 * for calls and handle_cast for casts: a request whose callback is NULL
 * stops the server with {error, FX_EINVAL, "no handle_call"} (or
 * "no handle_cast"), and the caller gets that reason, not a timeout.
 * handle_info may be NULL (messages are then dropped, as a noreply
 * answer: a pending fx_gs_with_timeout fires once, no more). Every callback
 * runs on the server's scheduler thread, with the server's ctx. The
 * server's fx_state(cx) is the library's, not yours: do not call
 * fx_state / fx_set_state in a callback (your state is the argument). */
typedef struct fx_gs_ops {
    /* Runs in the new server before the starter returns. *state starts
     * NULL; set it. Return fx_gs_ok (optionally with a timeout or a
     * continue), fx_gs_ignore, or fx_gs_stop(reason). Required
     * (fx_gs_init_arg is the init that keeps the spec's arg). Unlike
     * OTP, terminate runs even when init fails (ignore, stop, crash), with
     * whatever init left in *state: free the state there, not in init. */
    fx_gs_ret (*init)(fx_ctx *cx, void *arg, void **state);
    /* A call: reply now (fx_gs_reply), later (fx_gs_noreply, then
     * fx_reply(cx, from, ...) from any handler or actor), or stop. type,
     * data and size are the caller's request (data borrowed for the call). */
    fx_gs_ret (*handle_call)(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                             const void *data, size_t size);
    /* A cast: fx_gs_noreply or fx_gs_stop (fx_gs_reply here, or from
     * handle_info or handle_continue, stops the server with {error,
     * FX_EINVAL, "bad_return_value..."}, as OTP's bad_return_value). */
    fx_gs_ret (*handle_cast)(fx_ctx *cx, void *state, uint32_t type, const void *data,
                             size_t size);
    /* Any other message: user messages, FX_MSG_EXIT (when trapping exits;
     * except the parent's, see terminate), FX_MSG_DOWN, and FX_MSG_TIMEOUT
     * when a timeout requested with fx_gs_with_timeout elapsed. */
    fx_gs_ret (*handle_info)(fx_ctx *cx, void *state, fx_msg *msg);
    /* Runs right after the callback that asked for it (fx_gs_with_continue),
     * before any other message. Required if a continue is ever asked. */
    fx_gs_ret (*handle_continue)(fx_ctx *cx, void *state, uint64_t cont);
    /* Called exactly once when the server exits, for any reason, once
     * init has been called: after a stop return, on fx_gs_stop_server, on
     * an EXIT from its parent when it traps exits, and also when init
     * fails, when it crashes or is killed, and at VM shutdown (so it is
     * the place to free the state). On the stop paths it runs before the
     * stop reply is sent. It may only send with fx_vm_send (no ctx), must
     * not block; optional. */
    void (*terminate)(fx_vm *vm, void *state, const fx_reason *reason);
} fx_gs_ops;

/* A ready-made init for a server whose state is its spec's arg (or carg),
 * owned by the starter (a struct in main, a static object): sets
 * *state = arg and answers fx_gs_ok. `.init = fx_gs_init_arg`. The server
 * does not free the state; its terminate (if any) sees the same pointer.
 * Any thread that runs the server (it is called as init). */
FX_API fx_gs_ret fx_gs_init_arg(fx_ctx *cx, void *arg, void **state);

/* --- Building a callback's answer: inside a callback only -------------- */
/* fx_gs_ok: init succeeded; from any other callback it stops the server
 * with {error, FX_EINVAL, "bad_return_value: ok outside init"} (a caller
 * gets FX_EEXIT at once, not a timeout). fx_gs_ignore outside init stops
 * it with {error, FX_EINVAL, "fx_gs_ignore outside init"}. */
FX_API fx_gs_ret fx_gs_ok(fx_ctx *cx);      /* init succeeded */
FX_API fx_gs_ret fx_gs_ignore(fx_ctx *cx);  /* init: do not start, exit normal */
FX_API fx_gs_ret fx_gs_noreply(fx_ctx *cx); /* go on (reply later, if a call) */
/* handle_call: reply with a copy of data (size bytes) and go on. */
FX_API fx_gs_ret fx_gs_reply(fx_ctx *cx, const void *data, size_t size);
/* Stop with reason (from handle_call: without replying; the caller gets
 * the reason through its monitor). */
FX_API fx_gs_ret fx_gs_stop(fx_ctx *cx, fx_reason reason);
/* handle_call: reply, then stop with reason (terminate runs first). data
 * NULL with size > 0 crashes the server (FX_ECRASHED, "invalid argument"),
 * as fx_gs_reply does when its reply cannot be sent. From handle_cast,
 * handle_info or handle_continue it stops the server with {error,
 * FX_EINVAL, "bad_return_value: stop_reply from ..."} whatever reason
 * says (OTP's bad_return_value); from init, with {error, FX_EINVAL, "bad
 * answer from init"}. */
FX_API fx_gs_ret fx_gs_stop_reply(fx_ctx *cx, fx_reason reason, const void *data,
                                  size_t size);
/* Modifiers of an ok / noreply / reply answer: a FX_MSG_TIMEOUT to
 * handle_info if no message arrives within ms (FX_INFINITY: none; any
 * other negative ms stops the server with {error, FX_EINVAL,
 * "bad_return_value: negative timeout"}, as OTP's bad_return_value); or
 * handle_continue(cont) before the next message. With both, the continue
 * wins and handle_continue's own answer decides what follows. */
FX_API fx_gs_ret fx_gs_with_timeout(fx_gs_ret r, int64_t ms);
FX_API fx_gs_ret fx_gs_with_continue(fx_gs_ret r, uint64_t cont);

/* --- Starting ----------------------------------------------------------- */

typedef struct fx_gs_spec {
    const fx_gs_ops *ops; /* borrowed; must outlive the server */
    /* Passed to init. Set `arg`, or `carg` to point at a const object
     * (no cast needed): one storage; init gets it as its arg either way
     * and must not write through a pointer that was given as carg. */
    union {
        void *arg;
        const void *carg;
    };
    bool link;          /* start_link: link the server to the starter */
    int64_t timeout_ms; /* for init; 0 = 5000; FX_INFINITY = no limit */
    const char *label;  /* crash-report label (borrowed, a literal);
                           NULL = "gen_server" */
    /* Optional registered name (copied; 1 to FX_NAME_MAX - 1 bytes, see
     * registry.h): the server registers itself before its init runs, so
     * fx_whereis finds it once the start returns, and the name is freed
     * when it exits. A taken name makes the start fail with FX_EEXIST
     * (*out, if given, gets the holder) and the server exits normally
     * without calling init. A restarted server (same spec) registers
     * again. */
    const char *name;
    /* Optional mailbox limit (overload.h); zero = unbounded. A limited
     * server's callers get FX_EMAILBOX_FULL (drop policy, inside the VM)
     * or FX_EAGAIN (outside the VM) when its queue is full. As a
     * supervisor's child (fx_child_gen_server) the limit comes with the
     * spec, so a restarted server has it too. */
    fx_mailbox_limit mailbox;
} fx_gs_spec;

/* Starts a server from a thread outside the VM and waits for its init.
 * The starter is the inbox: with spec->link the server is linked to it
 * before init runs (an init that fails leaves no EXIT in the inbox).
 * Returns 0 and *out; FX_EIGNORE (init returned ignore); FX_EEXIST with
 * the holder in *out (spec->name is taken); FX_EEXIT with
 * *why (may be NULL) when init stopped or crashed; FX_ETIMEDOUT (the
 * server exits with `killed` as soon as init returns); FX_EWOULDBLOCK on
 * a scheduler thread; FX_EINVAL, FX_ENOMEM, FX_EFULL, FX_ESHUTDOWN. The
 * inbox's owner thread. */
FX_API int fx_gs_start(fx_inbox *inbox, const fx_gs_spec *spec, fx_pid *out,
                       fx_reason *why);

/* Starts a server from inside a handler without blocking: returns the
 * continuation that waits for init; `then` is called with the outcome
 * (also when the spawn itself failed), which it must decode with
 * fx_gs_start_result. With spec->link the server is linked to the calling
 * actor before init runs; as in OTP 25, an init that crashes or stops
 * with an abnormal reason exits still linked (a starter not trapping
 * exits dies with the reason), while ignore or stop with reason normal
 * unlinks first (no EXIT normal is left). spec is copied. A
 * NULL cx or then returns the invalid fx_next of fx_stop(NULL, ...) (see
 * actor.h) and starts nothing. */
FX_API fx_next fx_gs_start_async(fx_ctx *cx, const fx_gs_spec *spec, fx_handler then);
/* In `then`: the outcome, as fx_gs_start's return value (0 with *out,
 * FX_EIGNORE, FX_EEXIST with the holder in *out, FX_EEXIT with *why, FX_ETIMEDOUT: the
 * server is killed; FX_EINVAL, FX_ENOMEM, FX_EFULL, FX_ESHUTDOWN from the spawn), or
 * FX_EINVAL for a message that is not a start outcome. */
FX_API int fx_gs_start_result(fx_ctx *cx, fx_msg *msg, fx_pid *out, fx_reason *why);

/* --- Calls and casts ----------------------------------------------------- */

/* Blocking call from a thread outside the VM, through its inbox: sends
 * request (type, data, size) and waits up to timeout_ms (FX_INFINITY) for
 * the reply; *reply (required; caller frees with fx_msg_free) has the reply data.
 * FX_EINVAL: NULL inbox or reply, data NULL with size > 0, a call to the inbox
 * itself. The call monitors the server: a dead server fails at
 * once (FX_ENOPROC), a server that dies during the call fails at once with FX_EEXIT and
 * its reason in *why (may be NULL). FX_ETIMEDOUT: a late reply is dropped. FX_ESHUTDOWN:
 * the VM is not running or stopped during the call (also with FX_INFINITY).
 * FX_EWOULDBLOCK on a scheduler thread (use fx_gs_call_async there). FX_EAGAIN: the
 * server is at its mailbox limit (fx_gs_spec.mailbox). The inbox's owner
 * thread. */
FX_API int fx_gs_call(fx_inbox *inbox, fx_pid server, uint32_t type, const void *data,
                      size_t size, int64_t timeout_ms, fx_msg **reply, fx_reason *why);

/* Call from inside a handler: sends the request and returns the
 * continuation that waits for the reply, the server's death or the
 * timeout; `then` gets that message and must decode it with
 * fx_gs_call_result (which ends the call). Other messages stay queued
 * meanwhile. A request that cannot be sent (bad arguments, too large,
 * no memory, FX_EMAILBOX_FULL: the server is at its mailbox limit)
 * reaches `then` too, as that error. A GenServer callback cannot wait
 * like this: it uses fx_gs_call_then (below). A NULL cx or then returns
 * the invalid fx_next of fx_stop(NULL, ...) (see actor.h) and sends
 * nothing. */
FX_API fx_next fx_gs_call_async(fx_ctx *cx, fx_pid server, uint32_t type,
                                const void *data, size_t size, int64_t timeout_ms,
                                fx_handler then);
/* In `then`: 0 with *data and *size pointing into msg's reply payload (valid
 * while msg is), FX_ETIMEDOUT, FX_ENOPROC, FX_EEXIT with *why, a sending
 * error (FX_EINVAL, FX_EMSGSIZE, FX_ENOMEM), or FX_EINVAL for a message
 * that is not a call outcome. Ends the call (its monitor and any late
 * reply are removed). */
FX_API int fx_gs_call_result(fx_ctx *cx, fx_msg *msg, const void **data, size_t *size,
                             fx_reason *why);

/* --- Calls from callbacks (docs/genserver.md) ---------------------------- */

/* A GenServer's continuation for a call it made: runs in the server, with
 * its state, between two messages, like any callback, and answers like
 * one (reply, noreply, stop, with a timeout or a continue). res (borrowed
 * for the callback) says how the call ended. While it runs, fx_gs_reply
 * answers the call the server was handling when it made this call (if
 * any, and not answered yet): a handle_call can pass its request on to
 * another server and reply with the outcome. */
typedef fx_gs_ret (*fx_gs_then)(fx_ctx *cx, void *state, const fx_response *res);

/* Inside a GenServer callback (not terminate): calls server with (type,
 * data, size; copied) without waiting, and returns fx_gs_noreply(cx), so
 * `return fx_gs_call_then(...);` is the whole callback (from init, return
 * fx_gs_ok instead). The server goes on handling messages; `then` runs
 * exactly once, later, with the reply, FX_ETIMEDOUT after timeout_ms
 * (FX_INFINITY or >= 0), FX_ENOPROC (the server is not alive), FX_EEXIT
 * and the reason (it died first), or the error that kept the call from
 * being sent (FX_EINVAL: NULL then, no server or the server itself, data
 * NULL with size > 0, a bad timeout; FX_EMSGSIZE; FX_ENOMEM). Any number
 * may be in flight, each with its own timeout; tag (borrowed) comes back
 * in res->tag, the call's ref in res->req. If the server exits first,
 * `then` is not called. A late reply (after the timeout) is dropped.
 * Inside a GenServer's callbacks only (like fx_gs_reply: elsewhere the
 * ctx's state is not a server's); a NULL cx or then returns
 * fx_gs_noreply and does nothing. Only memory exhaustion so severe that
 * not even the error can be queued crashes the server. */
FX_API fx_gs_ret fx_gs_call_then(fx_ctx *cx, fx_pid server, uint32_t type,
                                 const void *data, size_t size, int64_t timeout_ms,
                                 fx_gs_then then, void *tag);

/* Casts: fire and forget. fx_gs_cast inside a handler only, fx_vm_gs_cast
 * from any thread. data is copied (the caller keeps it whatever the
 * result). 0 when the cast was sent; a cast to a dead or stale server is
 * dropped and answers FX_ENOPROC, a hint as for sends (a 0 does not mean
 * the server will handle it: it may die first). Errors: FX_EINVAL (NULL
 * cx / vm, data NULL with size > 0), FX_EMSGSIZE, FX_ENOMEM, FX_ENOPROC;
 * FX_EMAILBOX_FULL (fx_gs_cast) or FX_EAGAIN (fx_vm_gs_cast) for a
 * server at its mailbox limit (fx_gs_spec.mailbox); fx_vm_gs_cast also
 * FX_ESHUTDOWN. */
FX_API int fx_gs_cast(fx_ctx *cx, fx_pid server, uint32_t type, const void *data,
                      size_t size);
FX_API int fx_vm_gs_cast(fx_vm *vm, fx_pid server, uint32_t type, const void *data,
                         size_t size);

/* --- Stopping and inspecting (like gen_server:stop, sys:get_state) ------ */

/* Asks the server to stop with reason (terminate runs) and waits up to
 * timeout_ms for it to exit. 0 when it exited with that reason; FX_EEXIT
 * with *why when it exited otherwise; FX_ENOPROC; FX_ETIMEDOUT (the
 * request stays queued: the server still stops when it reaches it);
 * FX_EWOULDBLOCK on a scheduler thread. The inbox's owner thread. */
FX_API int fx_gs_stop_server(fx_inbox *inbox, fx_pid server, fx_reason reason,
                             int64_t timeout_ms, fx_reason *why);

/* Runs fn(state, arg) inside the server, between two messages, while the
 * caller waits (so arg may point at the caller's stack): a consistent look
 * at a live server's state. fn never runs after the call returned: the
 * server first confirms it is waiting for the caller, and timeout_ms
 * applies up to that point; from there the caller waits for fn (or the
 * server's death) without a limit. 0, or errors as fx_gs_call (FX_EEXIT
 * without a reason); FX_EINVAL at once from a supervisor or a
 * gen_statem, which have no user state of this form to show (the same for
 * fx_gs_replace_state). */
FX_API int fx_gs_get_state(fx_inbox *inbox, fx_pid server,
                           void (*fn)(void *state, void *arg), void *arg,
                           int64_t timeout_ms);
/* Replaces the state with fn(state, arg)'s result, inside the server. */
FX_API int fx_gs_replace_state(fx_inbox *inbox, fx_pid server,
                               void *(*fn)(void *state, void *arg), void *arg,
                               int64_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
