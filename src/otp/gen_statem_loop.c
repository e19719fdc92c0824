/* gen_statem: handling one event and carrying out the callback's answer,
 * with OTP's rules (docs/statem.md):
 *   - any event cancels the event timeout;
 *   - a postponed event is kept, and retried after the next state change
 *     in its original order, before the events queued then; the events
 *     inserted with next_event come before those;
 *   - a state change cancels the state timeout (unless the transition set
 *     one, which belongs to the new state) and runs the enter call;
 *   - the event timeout starts only when no event is queued. */
#include <string.h>

#include "otp/sm_impl.h"

void fxi_sm_begin(fx_sm *sm, int cb)
{
    sm->cb = cb;
    sm->postpone = false;
    sm->st_set = false;
}

int fxi_sm_refuse(fx_sm *sm, int code, const char *what)
{
    if (!sm->bad) {
        sm->bad = code;
        sm->bad_what = what;
    }
    return code;
}

static fx_gs_ret stop(fx_sm *sm, fx_reason reason)
{
    sm->stopped = true;
    sm->cb = FXI_SM_CB_NONE;
    return fx_gs_stop(sm->cx, reason);
}

static fx_sm_state_fn handler_of(const fx_sm *sm, fx_sm_state s)
{
    return sm->ops->handle_event ? sm->ops->handle_event : s.fn;
}

/* The callback's answer, checked: 0 with *to (the next state) and
 * *repeat, or 1 with *why (stop). */
static int answer(fx_sm *sm, fx_sm_ret r, fx_sm_state *to, bool *repeat, fx_reason *why)
{
    *repeat = false;
    if (sm->bad) {
        *why = fx_reason_error(sm->bad, "%s", sm->bad_what);
        return 1;
    }
    switch (r.op) {
    case FXI_SM_NEXT:
        if (!handler_of(sm, r.state)) {
            *why = fx_reason_error(FX_EACTION, "next state without a state function");
            return 1;
        }
        *to = r.state;
        return 0;
    case FXI_SM_KEEP:
        *to = sm->state;
        return 0;
    case FXI_SM_REPEAT:
        *to = sm->state;
        *repeat = true;
        return 0;
    case FXI_SM_STOP:
        *why = r.reason;
        return 1;
    default:
        *why = fx_reason_error(FX_EACTION, "bad answer from a state callback");
        return 1;
    }
}

/* Runs the enter call of the state just entered from `old`. 0, or 1 with
 * *why. */
static int enter(fx_sm *sm, fx_sm_state old, fx_reason *why)
{
    fx_sm_event v;
    memset(&v, 0, sizeof v);
    v.kind = FX_SM_ENTER;
    v.state = sm->state;
    v.old_state = old;
    fxi_sm_begin(sm, FXI_SM_CB_ENTER);
    fx_sm_ret r = handler_of(sm, sm->state)(sm, &v, sm->data);
    fx_sm_state to;
    bool repeat;
    if (answer(sm, r, &to, &repeat, why))
        return 1;
    if (!fx_sm_state_eq(to, sm->state)) {
        *why = fx_reason_error(FX_EACTION, "state change in a state enter call");
        return 1;
    }
    return 0;
}

/* After a callback answered with a transition to `to`: queues, state
 * timeout, the enter call, the event timeout. 0, or 1 with *why. */
static int transition(fx_sm *sm, fx_sm_state to, bool repeat, bool entered,
                      fx_reason *why)
{
    fx_sm_state old = sm->state;
    bool changed = !fx_sm_state_eq(to, old) || entered;
    sm->state = to;
    if (changed && !entered) {
        if (!sm->st_set)
            fxi_sm_disarm(sm, &sm->st);
        fxi_sm_q_prepend(&sm->queue, &sm->postponed);
    }
    fxi_sm_q_prepend(&sm->queue, &sm->next);
    fxi_sm_q_append(&sm->queue, &sm->zero);
    if ((changed || repeat) && sm->ops->state_enter) {
        if (enter(sm, old, why))
            return 1;
        fxi_sm_q_append(&sm->queue, &sm->zero);
    }
    sm->cb = FXI_SM_CB_NONE;
    if (sm->et_set) {
        sm->et_set = false;
        fxi_sm_ev *e = sm->et_ev;
        sm->et_ev = NULL;
        if (sm->queue.head || sm->et_ms == FX_INFINITY) {
            fxi_sm_ev_free(e); /* an event is queued: it would cancel it */
        } else {
            int rc = fxi_sm_arm(sm, &sm->et, sm->et_ms, e);
            if (rc != 0) {
                *why = fx_reason_error(rc, "event timeout: %s", fx_strerror(rc));
                return 1;
            }
        }
    }
    return 0;
}

/* One event: v is the view, e the owned event (or NULL: borrowed from the
 * GenServer callback). Takes e. 0, or 1 with *why. */
static int one(fx_sm *sm, fx_sm_event *v, fxi_sm_ev *e, fx_reason *why)
{
    fxi_sm_disarm(sm, &sm->et); /* any event cancels the event timeout */
    fxi_sm_begin(sm, FXI_SM_CB_EVENT);
    v->state = sm->state;
    fx_sm_ret r = handler_of(sm, sm->state)(sm, v, sm->data);
    fx_sm_state to;
    bool repeat;
    if (answer(sm, r, &to, &repeat, why)) {
        fxi_sm_ev_free(e);
        return 1;
    }
    if (sm->postpone) {
        if (!e)
            e = fxi_sm_ev_own(sm, v, 0);
        if (!e) {
            *why = fx_reason_error(FX_ENOMEM, "postpone: out of memory");
            return 1;
        }
        e->seq = 0; /* it fired: never stale when retried */
        fxi_sm_q_push(&sm->postponed, e);
    } else {
        fxi_sm_ev_free(e);
    }
    return transition(sm, to, repeat, false, why);
}

static fx_gs_ret drain(fx_sm *sm)
{
    fx_reason why;
    fxi_sm_ev *e;
    while ((e = fxi_sm_q_pop(&sm->queue))) {
        if (!fxi_sm_fire(sm, e->kind, e->name, e->seq)) {
            fxi_sm_ev_free(e); /* a cancelled zero-time timeout */
            continue;
        }
        fx_sm_event v;
        fxi_sm_ev_view(sm, e, &v);
        if (one(sm, &v, e, &why))
            return stop(sm, why);
    }
    return fx_gs_noreply(sm->cx);
}

fx_gs_ret fxi_sm_handle(fx_sm *sm, fx_sm_event *v, fxi_sm_ev *e)
{
    fx_reason why;
    if (one(sm, v, e, &why))
        return stop(sm, why);
    return drain(sm);
}

fx_gs_ret fxi_sm_after_init(fx_sm *sm)
{
    fx_reason why;
    /* The initial state is entered "from itself" (OTP). The queue, the
     * zero-time timeouts and the event timeout init asked for are
     * already recorded: transition() carries them out. */
    if (transition(sm, sm->state, false, true, &why))
        return stop(sm, why);
    return drain(sm);
}
