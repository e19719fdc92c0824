/* review14: gen_statem cases, second pass, from OTP's gen_statem
 * documentation: stop from a state enter call (initial or after a state
 * change), repeat_state re-running the enter call while keep_state does
 * not, a reply from an enter call to a call held in an earlier state,
 * events postponed across a round trip through another state. */
#include <stdatomic.h>

#include "statem_helpers.h"

enum { ST_STOPPER = 9 }; /* a state whose enter call stops the machine */

static fx_sm_ret q_event(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    smd *d = data;
    int64_t id = ev->state.id, x = sm_arg(ev);
    switch (ev->kind) {
    case FX_SM_ENTER:
        sm_log(sm, "e%d:%d", (int) id, (int) ev->old_state.id);
        if (id == 4) /* a zero state timeout from the enter call */
            cr_assert_eq(fx_sm_state_timeout(sm, 0, 0, NULL, 0), 0);
        if (id == ST_STOPPER)
            return fx_sm_stop(sm, fx_reason_error(55, "enter stop"));
        if (id == 3 && d->held.pid.id) { /* reply from an enter call */
            int64_t v = 33;
            cr_assert_eq(fx_sm_reply(sm, d->held, &v, sizeof v), 0);
            d->held.pid = FX_PID_NONE;
        }
        return fx_sm_keep_state(sm);
    case FX_SM_CAST:
    case FX_SM_INTERNAL:
        switch (ev->type) {
        case C_A: /* postponed in state 1 only */
            if (id == 1) {
                sm_log(sm, "pA%d", (int) x);
                cr_assert_eq(fx_sm_postpone(sm), 0);
            } else {
                sm_log(sm, "A%d@%d", (int) x, (int) id);
            }
            return fx_sm_keep_state(sm);
        case C_B:
            sm_log(sm, "go%d", (int) x);
            return fx_sm_next_state(sm, fx_sm_id(x));
        case C_C:
            sm_log(sm, "rep");
            return fx_sm_repeat_state(sm);
        case C_D:
            sm_log(sm, "keep");
            return fx_sm_keep_state(sm);
        case C_E: /* to state x with an event timeout of 20 ms */
            sm_log(sm, "go%d+et", (int) x);
            cr_assert_eq(fx_sm_event_timeout(sm, 20, 0, NULL, 0), 0);
            return fx_sm_next_state(sm, fx_sm_id(x));
        case C_END:
            sm_log(sm, "end");
            return fx_sm_keep_state(sm);
        }
        return fx_sm_keep_state(sm);
    case FX_SM_TIMEOUT:
        sm_log(sm, "et@%d", (int) id);
        sm_log(sm, "end");
        return fx_sm_keep_state(sm);
    case FX_SM_STATE_TIMEOUT:
        sm_log(sm, "st0@%d", (int) id);
        return fx_sm_keep_state(sm);
    case FX_SM_CALL:
        if (ev->type == C_H) { /* held; replied by state 3's enter call */
            d->held = ev->from;
            int64_t three = 3;
            cr_assert_eq(fx_sm_next_event(sm, C_B, &three, sizeof three), 0);
            return fx_sm_keep_state(sm);
        }
        return fx_sm_keep_state(sm);
    }
    return fx_sm_keep_state(sm);
}

static int64_t q_first = 1;

static fx_sm_ret q_init(fx_sm *sm, void *arg, void **data)
{
    sm_init_data(sm, arg, data);
    return fx_sm_next_state(sm, fx_sm_id(q_first));
}

static fx_reason q_term_reason;
static atomic_int q_terms;

static void q_terminate(fx_vm *vm, fx_sm_state st, void *data, const fx_reason *why)
{
    q_term_reason = *why;
    atomic_fetch_add(&q_terms, 1);
    if (st.id == ST_STOPPER)
        (void) fx_vm_send(vm, sm_observer, SM_LOG, "end", 4);
    sm_free_data(vm, st, data, why);
}

static const fx_sm_ops q_ops = {
    .init = q_init,
    .handle_event = q_event,
    .state_enter = true,
    .terminate = q_terminate,
};

static fx_reason down_of(tvm *t, fx_ref ref)
{
    fx_msg *m = NULL;
    int rc =
        fx_inbox_recv(t->in, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, 10000, &m);
    cr_assert_eq(rc, 0, "no DOWN: %s", fx_strerror(rc));
    fx_reason r = ((const fx_down_info *) fx_msg_data(m))->reason;
    fx_msg_free(m);
    return r;
}

/* OTP: repeat_state runs the state enter call again (old state = the
 * state); keep_state does not (gen_statem.h:110-113). */
Test(review14_statem, repeat_state_reruns_enter_keep_state_does_not)
{
    tvm t = tvm_start_quiet(2);
    q_first = 1;
    fx_pid p = sm_start(&t, &q_ops);
    sm_cast(&t, p, C_D, 0);
    sm_cast(&t, p, C_C, 0);
    sm_cast(&t, p, C_B, 2);
    sm_cast(&t, p, C_C, 0);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "e1:1 keep rep e1:1 go2 e2:1 rep e2:2");
    tvm_stop(&t);
}

/* OTP: a postponed event is retried after a state change, and only then:
 * 1 -> (postpone A) -> 1 by next_state (no change: not retried) -> 2
 * (retried, handled in 2). */
Test(review14_statem, postponed_retried_only_on_a_real_change)
{
    tvm t = tvm_start_quiet(2);
    q_first = 1;
    fx_pid p = sm_start(&t, &q_ops);
    sm_cast(&t, p, C_A, 1);
    sm_cast(&t, p, C_B, 1); /* the same state: keep_state */
    sm_cast(&t, p, C_C, 0); /* repeat_state: not a change either */
    sm_cast(&t, p, C_B, 2);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "e1:1 pA1 go1 rep e1:1 go2 e2:1 A1@2");
    tvm_stop(&t);
}

/* OTP: a state enter call may stop the machine; terminate runs with the
 * reason and the machine exits with it (gen_statem.h:116-117). */
Test(review14_statem, stop_from_an_enter_call_after_a_state_change)
{
    tvm t = tvm_start_quiet(2);
    q_first = 1;
    atomic_store(&q_terms, 0);
    fx_pid p = sm_start(&t, &q_ops);
    fx_ref mon;
    cr_assert_eq(fx_inbox_monitor(t.in, p, &mon), 0);
    sm_cast(&t, p, C_A, 1); /* postponed: freed by the stop */
    sm_cast(&t, p, C_B, ST_STOPPER);
    cr_assert_str_eq(sm_collect(&t), "e1:1 pA1 go9 e9:1");
    fx_reason want = fx_reason_error(55, "enter stop");
    fx_reason got = down_of(&t, mon);
    cr_assert(fx_reason_eq(&got, &want));
    cr_assert(fx_reason_eq(&q_term_reason, &want));
    cr_assert_eq(atomic_load(&q_terms), 1);
    tvm_stop(&t);
}

/* OTP: the initial state's enter call runs after init_ack: a stop there
 * does not fail the start (the starter gets {ok, Pid}); the machine then
 * exits with the reason, terminate having run once. */
Test(review14_statem, stop_from_the_initial_enter_call)
{
    tvm t = tvm_start_quiet(2);
    q_first = ST_STOPPER;
    atomic_store(&q_terms, 0);
    (void) sm_start(&t, &q_ops); /* asserts the start answered 0 */
    cr_assert_str_eq(sm_collect(&t), "e9:9");
    fx_reason want = fx_reason_error(55, "enter stop");
    cr_assert(fx_reason_eq(&q_term_reason, &want));
    cr_assert_eq(atomic_load(&q_terms), 1);
    tvm_stop(&t);
}

/* OTP: reply is allowed in a state enter call: a call held in state 1 is
 * answered by state 3's enter call. */
Test(review14_statem, a_held_call_replied_from_an_enter_call)
{
    tvm t = tvm_start_quiet(2);
    q_first = 1;
    fx_pid p = sm_start(&t, &q_ops);
    fx_msg *m = NULL;
    cr_assert_eq(fx_gs_call(t.in, p, C_H, NULL, 0, 10000, &m, NULL), 0);
    int64_t v = 0;
    cr_assert_eq(fx_msg_size(m), sizeof v);
    memcpy(&v, fx_msg_data(m), sizeof v);
    fx_msg_free(m);
    cr_assert_eq(v, 33);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "e1:1 go3 e3:1");
    tvm_stop(&t);
}

/* OTP: an event timeout set by a transition survives the new state's
 * enter call (its actions add to the transition's) and fires in the new
 * state when no event comes. */
Test(review14_statem, event_timeout_of_a_transition_fires_after_the_enter_call)
{
    tvm t = tvm_start_quiet(2);
    q_first = 1;
    fx_pid p = sm_start(&t, &q_ops);
    sm_cast(&t, p, C_E, 2);
    cr_assert_str_eq(sm_collect(&t), "e1:1 go2+et e2:1 et@2");
    tvm_stop(&t);
}

/* OTP: a zero state timeout is queued after the events already queued,
 * the retried postponed ones included: A (postponed in 1) first, then
 * the state timeout set by state 4's enter call. */
Test(review14_statem, zero_state_timeout_from_enter_follows_retried_events)
{
    tvm t = tvm_start_quiet(2);
    q_first = 1;
    fx_pid p = sm_start(&t, &q_ops);
    sm_cast(&t, p, C_A, 1);
    sm_cast(&t, p, C_B, 4);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "e1:1 pA1 go4 e4:1 A1@4 st0@4");
    tvm_stop(&t);
}
