/* fauxtp: gen_statem, the state machine behaviour (Erlang/OTP's gen_statem).
 *
 * A state machine is a GenServer underneath (built on gen_server.h's
 * public API): it is started, named, supervised, called, cast to and
 * stopped like one (fx_gs_call, fx_gs_call_async, fx_gs_cast,
 * fx_vm_gs_cast, fx_gs_stop_server all work on its pid). What differs is
 * the callback side: every call, cast, message, timeout and inserted
 * event is an *event* handed to the current *state*, and the callback
 * answers with a transition (next state / keep / repeat / stop) plus
 * actions (reply, postpone, next_event, timeouts). See docs/statem.md. */
#ifndef FAUXTP_GEN_STATEM_H
#define FAUXTP_GEN_STATEM_H

#include "gen_server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A running state machine as its callbacks see it. Valid only inside the
 * callback it was given to; every action below takes it. */
typedef struct fx_sm fx_sm;

struct fx_sm_ret;
struct fx_sm_event;

/* A state function (callback mode "state functions"), or the single
 * handle_event function (mode "handle event function"). data is the
 * machine's data (init's *data, or fx_sm_set_data's). */
typedef struct fx_sm_ret (*fx_sm_state_fn)(fx_sm *sm, const struct fx_sm_event *ev,
                                           void *data);

/* A state: a state function plus an integer. Two states are the same when
 * both fields are equal (fx_sm_state_eq). In state-functions mode fn is
 * called for every event and id is yours (0, or a sub-state); in
 * handle-event mode fn is unused (NULL) and id is the state. */
typedef struct fx_sm_state {
    fx_sm_state_fn fn;
    int64_t id;
} fx_sm_state;

static inline fx_sm_state fx_sm_fn(fx_sm_state_fn fn)
{
    fx_sm_state s = {fn, 0};
    return s;
}
static inline fx_sm_state fx_sm_id(int64_t id)
{
    fx_sm_state s = {0, id};
    return s;
}
static inline bool fx_sm_state_eq(fx_sm_state a, fx_sm_state b)
{
    return a.fn == b.fn && a.id == b.id;
}

/* fx_sm_event.kind (OTP's event types). */
typedef enum fx_sm_kind {
    FX_SM_CALL = 1,        /* {call, From}: a GenServer call; answer with fx_sm_reply */
    FX_SM_CAST,            /* cast: fx_gs_cast / fx_vm_gs_cast */
    FX_SM_INFO,            /* info: any other message (msg), EXIT and DOWN included */
    FX_SM_INTERNAL,        /* internal: inserted with fx_sm_next_event */
    FX_SM_TIMEOUT,         /* timeout: the event timeout (fx_sm_event_timeout) */
    FX_SM_STATE_TIMEOUT,   /* state_timeout (fx_sm_state_timeout) */
    FX_SM_GENERIC_TIMEOUT, /* {timeout, Name} (fx_sm_timeout; name) */
    FX_SM_ENTER,           /* a state enter call (fx_sm_ops.state_enter): old_state */
    FX_SM_RESPONSE,        /* the outcome of fx_sm_call_then (res) */
} fx_sm_kind;

/* One event, borrowed by the callback (copy what must outlive it; a
 * postponed event comes back with the same content). */
typedef struct fx_sm_event {
    int32_t kind;           /* fx_sm_kind */
    uint32_t type;          /* CALL, CAST, INTERNAL, the timeouts: the user's type;
                               INFO: the message's type; else 0 */
    const void *data;       /* the payload (NULL when size is 0) */
    size_t size;            /* its size */
    fx_from from;           /* CALL: the caller, for fx_sm_reply */
    fx_msg *msg;            /* INFO: the message (borrowed: never fx_msg_keep it) */
    uint64_t name;          /* GENERIC_TIMEOUT: the timeout's name */
    const fx_response *res; /* RESPONSE: how the call ended (request.h) */
    fx_sm_state state;      /* the current state */
    fx_sm_state old_state;  /* ENTER: the state left (the same one for the
                               initial state and after fx_sm_repeat_state) */
} fx_sm_event;

/* What a callback answers. Build it only with the fx_sm_* builders. */
typedef struct fx_sm_ret {
    int op;
    fx_sm_state state;
    fx_reason reason;
} fx_sm_ret;

/* The callbacks, in a `static const` table. */
typedef struct fx_sm_ops {
    /* Runs in the new machine before the starter returns. *data starts
     * NULL; set it. Return fx_sm_next_state(sm, first state), fx_sm_ignore
     * or fx_sm_stop; actions allowed except fx_sm_postpone. Required. As
     * for GenServer, terminate runs even when init fails. */
    fx_sm_ret (*init)(fx_sm *sm, void *arg, void **data);
    /* NULL: callback mode "state functions" (each state's fn handles its
     * events). Set: callback mode "handle event function": this handles
     * every event, ev->state says in which state. */
    fx_sm_state_fn handle_event;
    /* OTP's state_enter: call the state's function with an FX_SM_ENTER
     * event after init and on every state change (and fx_sm_repeat_state). */
    bool state_enter;
    /* Called exactly once when the machine exits, once init was called
     * (as fx_gs_ops.terminate: also on crash, kill and VM shutdown). May
     * only send with fx_vm_send; must not block; optional. */
    void (*terminate)(fx_vm *vm, fx_sm_state state, void *data, const fx_reason *reason);
} fx_sm_ops;

/* --- Transitions: a callback's answer (inside a callback only) ----------- */
/* A NULL sm gives an invalid answer: returned, it stops the machine with
 * {error, FX_EACTION, ...}. */

/* Go to state s. The same state as now is keep_state (OTP). */
FX_API fx_sm_ret fx_sm_next_state(fx_sm *sm, fx_sm_state s);
/* Stay; postponed events are not retried. */
FX_API fx_sm_ret fx_sm_keep_state(fx_sm *sm);
/* Stay, but run the state enter call again (with old_state = the state). */
FX_API fx_sm_ret fx_sm_repeat_state(fx_sm *sm);
/* Stop with reason: replies sent so far go out, then terminate runs. */
FX_API fx_sm_ret fx_sm_stop(fx_sm *sm, fx_reason reason);
/* stop_and_reply: replies to `to` (data copied), then stops with reason.
 * A reply that cannot be sent (FX_EINVAL, FX_EMSGSIZE, FX_ENOMEM) stops
 * the machine with that error as its reason instead. */
FX_API fx_sm_ret fx_sm_stop_reply(fx_sm *sm, fx_reason reason, fx_from to,
                                  const void *data, size_t size);
/* init only: do not start (the starter gets FX_EIGNORE). */
FX_API fx_sm_ret fx_sm_ignore(fx_sm *sm);

/* --- Actions: during a callback, taking effect with its answer ----------- */
/* Each returns 0, or FX_EINVAL (NULL sm, data NULL with size > 0, a bad
 * timeout), FX_EACTION (not allowed in this callback: postpone or
 * next_event in a state enter call, postpone in init; used outside any
 * callback), FX_EMSGSIZE, FX_ENOMEM. A refused action also stops the
 * machine when the callback returns, with {error, code, what}: as OTP,
 * a bad action is the callback's bug, not something to ignore. */

/* Replies to a call at once (deferred replies: keep ev->from and reply
 * from a later callback). Errors as fx_reply; FX_EINVAL (NULL data with
 * size > 0), FX_EMSGSIZE and FX_ENOMEM stop the machine as any refused
 * action; FX_ENOPROC (the caller has gone) and FX_EINVAL for an empty
 * `to` do not. */
FX_API int fx_sm_reply(fx_sm *sm, fx_from to, const void *data, size_t size);
/* Postpones the current event: it is handed again after the next state
 * change, in its original order among other postponed events and before
 * any event that was not yet handed. Not in an enter call nor in init. */
FX_API int fx_sm_postpone(fx_sm *sm);
/* Inserts an FX_SM_INTERNAL event (type, data copied) to be handled
 * before any queued event, after the other events inserted by this
 * callback (in call order). Not in an enter call. */
FX_API int fx_sm_next_event(fx_sm *sm, uint32_t type, const void *data, size_t size);
/* Bytes of a message a timeout's own envelope takes: an event, state or
 * generic timeout travels as a message to the machine itself, so its data
 * may be at most fx_vm_max_msg_size(vm) - FX_SM_TIMEOUT_OVERHEAD bytes;
 * more is refused at once with FX_EMSGSIZE (fx_sm_event_timeout,
 * fx_sm_state_timeout, fx_sm_timeout, fx_sm_update_timeout). */
#define FX_SM_TIMEOUT_OVERHEAD 32u

/* Event timeout: an FX_SM_TIMEOUT event (type, data copied) after ms
 * unless some other event comes first. Started only when no event is
 * queued after the transition. ms 0: fires only if no event at all is
 * queued, mailbox included. FX_INFINITY: none (cancels). */
FX_API int fx_sm_event_timeout(fx_sm *sm, int64_t ms, uint32_t type, const void *data,
                               size_t size);
/* State timeout: an FX_SM_STATE_TIMEOUT event after ms, cancelled by a
 * state change (one set by the transition that changes state belongs to
 * the new state); setting it again restarts it; FX_INFINITY cancels.
 * ms 0: queued at once, after the events already queued. */
FX_API int fx_sm_state_timeout(fx_sm *sm, int64_t ms, uint32_t type, const void *data,
                               size_t size);
/* Generic timeout {timeout, name}: an FX_SM_GENERIC_TIMEOUT event after
 * ms; any number, by name; state changes do not touch them; setting one
 * again restarts it; FX_INFINITY cancels it. ms 0 as a state timeout. */
FX_API int fx_sm_timeout(fx_sm *sm, uint64_t name, int64_t ms, uint32_t type,
                         const void *data, size_t size);
/* Replaces the data of a running generic timeout (OTP's {update, Msg})
 * without changing when it fires. With no such timeout running it starts
 * one with time 0, as OTP does: the FX_SM_GENERIC_TIMEOUT event (with this
 * data) comes after the events already queued, before the mailbox. */
FX_API int fx_sm_update_timeout(fx_sm *sm, uint64_t name, uint32_t type, const void *data,
                                size_t size);
/* Use this, not fx_gs_call_then, inside a machine's callbacks.
 * Calls server (a GenServer or state machine) without waiting; the outcome
 * comes back later as an FX_SM_RESPONSE event (ev->res, with tag) in
 * whatever state the machine is then: reply, FX_ETIMEDOUT,
 * FX_ENOPROC, FX_EEXIT or a sending error, as fx_gs_call_then. Returns 0,
 * FX_EINVAL for a NULL sm, FX_EACTION outside a callback. */
FX_API int fx_sm_call_then(fx_sm *sm, fx_pid server, uint32_t type, const void *data,
                           size_t size, int64_t timeout_ms, void *tag);

/* --- Accessors (inside a callback) --------------------------------------- */
/* The actor's ctx, for fx_send, fx_self, fx_trap_exit...; NULL for NULL. */
FX_API fx_ctx *fx_sm_ctx(fx_sm *sm);
/* Replaces the machine's data (terminate and later callbacks get it). */
FX_API int fx_sm_set_data(fx_sm *sm, void *data);

/* --- Starting ------------------------------------------------------------ */

/* As fx_gs_spec, with a state machine's ops. The spec itself is borrowed
 * until the machine's init has run (its init reads ops and arg from it):
 * use a static or long-lived spec, as a child spec's arg must be. */
typedef struct fx_sm_spec {
    const fx_sm_ops *ops;     /* borrowed; must outlive the machine */
    void *arg;                /* passed to init */
    bool link;                /* start_link */
    int64_t timeout_ms;       /* for init; 0 = 5000; FX_INFINITY = no limit */
    const char *label;        /* crash-report label; NULL = "gen_statem" */
    const char *name;         /* optional registered name, as fx_gs_spec.name */
    fx_mailbox_limit mailbox; /* optional, as fx_gs_spec.mailbox */
} fx_sm_spec;

/* fx_gs_start for a state machine: same outcomes (0 and *out, FX_EIGNORE,
 * FX_EEXIST, FX_EEXIT with *why, FX_ETIMEDOUT, FX_EWOULDBLOCK, FX_EINVAL
 * also for a NULL spec, ops or init). The inbox's owner thread. */
FX_API int fx_sm_start(fx_inbox *inbox, const fx_sm_spec *spec, fx_pid *out,
                       fx_reason *why);
/* fx_gs_start_async for a state machine; decode with fx_gs_start_result. */
FX_API fx_next fx_sm_start_async(fx_ctx *cx, const fx_sm_spec *spec, fx_handler then);
/* A child start function (supervisor.h): arg is a const fx_sm_spec *
 * (its link field is ignored: always linked). */
FX_API fx_next fx_child_gen_statem(fx_ctx *cx, void *arg, const void *extra,
                                   size_t extra_size, fx_handler then);

#ifdef __cplusplus
}
#endif
#endif
