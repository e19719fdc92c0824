/* review18: gen_statem against docs/statem.md, gen_statem.h and OTP's
 * gen_statem, where earlier suites leave a promise open: next_event from
 * an inserted event's handler, a reply to a caller that has gone, an
 * enter call's repeat_state, a state timeout set by a transition and then
 * by the enter call, and a postponed call whose caller timed out. */
#include <unistd.h>

#include "statem_helpers.h"

static void sm_term(fx_vm *vm, fx_sm_state st, void *data, const fx_reason *why)
{
    char line[96];
    char r[64];
    fx_reason_format(why, r, sizeof r);
    snprintf(line, sizeof line, "term%d:%s", (int) st.id, r);
    fx_vm_send(vm, sm_observer, SM_LOG, line, strlen(line) + 1);
    free(data);
}

/* One handle_event function for every test; states are integers. */
static fx_sm_ret h(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    smd *d = data;
    int64_t st = ev->state.id;
    switch (ev->kind) {
    case FX_SM_ENTER:
        sm_log(sm, "enter%d<-%d", (int) st, (int) ev->old_state.id);
        if (st == 5)
            return fx_sm_repeat_state(sm); /* counts as keep_state */
        if (st == 6)
            fx_sm_state_timeout(sm, 60000, 2, NULL, 0); /* restarts the transition's */
        return fx_sm_keep_state(sm);
    case FX_SM_CAST:
        switch (ev->type) {
        case C_A:
            sm_log(sm, "x");
            fx_sm_next_event(sm, 1, NULL, 0);
            fx_sm_next_event(sm, 2, NULL, 0);
            return fx_sm_keep_state(sm);
        case C_B:
            return fx_sm_next_state(sm, fx_sm_id(5));
        case C_C:
            fx_sm_state_timeout(sm, 1, 1, NULL, 0);
            return fx_sm_next_state(sm, fx_sm_id(6));
        case C_D:
            return fx_sm_next_state(sm, fx_sm_id(8));
        case C_E: {
            int rc = fx_sm_reply(sm, d->held, "late", 5);
            sm_log(sm, "late:%s", rc ? fx_err_name(rc) : "0");
            return fx_sm_keep_state(sm);
        }
        case C_G: { /* a reply to a cast's empty from */
            int rc = fx_sm_reply(sm, ev->from, "x", 2);
            sm_log(sm, "cast-reply:%s", rc ? fx_err_name(rc) : "0");
            return fx_sm_keep_state(sm);
        }
        case C_END:
            sm_log(sm, "end");
            return fx_sm_keep_state(sm);
        default:
            return fx_sm_keep_state(sm);
        }
    case FX_SM_INTERNAL:
        sm_log(sm, "i%u", ev->type);
        if (ev->type == 1) {
            fx_sm_next_event(sm, 11, NULL, 0);
            fx_sm_next_event(sm, 12, NULL, 0);
        }
        return fx_sm_keep_state(sm);
    case FX_SM_STATE_TIMEOUT:
        sm_log(sm, "st%u", ev->type);
        return fx_sm_keep_state(sm);
    case FX_SM_CALL:
        if (ev->type == C_PING) { /* keep the caller for a later reply */
            d->held = ev->from;
            sm_log(sm, "stored");
            return fx_sm_keep_state(sm);
        }
        if (ev->type == C_H) {
            if (st == 0) {
                fx_sm_postpone(sm);
                sm_log(sm, "held");
                return fx_sm_keep_state(sm);
            }
            int rc = fx_sm_reply(sm, ev->from, "ok", 3);
            sm_log(sm, "replied:%s", rc ? fx_err_name(rc) : "0");
            return fx_sm_keep_state(sm);
        }
        return fx_sm_keep_state(sm);
    default:
        return fx_sm_keep_state(sm);
    }
}

static fx_sm_ret h_init(fx_sm *sm, void *arg, void **data)
{
    sm_init_data(sm, arg, data);
    return fx_sm_next_state(sm, fx_sm_id(0));
}

static const fx_sm_ops plain_ops = {
    .init = h_init, .handle_event = h, .terminate = sm_term};
static const fx_sm_ops enter_ops = {
    .init = h_init, .handle_event = h, .state_enter = true, .terminate = sm_term};

static void stop_normal(tvm *t, fx_pid p)
{
    cr_assert_eq(fx_gs_stop_server(t->in, p, fx_reason_normal(), 10000, NULL), 0);
}

/* docs/statem.md:136-141 ("the queue becomes *inserted events* (from the
 * transition's fx_sm_next_event), then postponed events ..., then what
 * was queued before") and gen_statem.h:152-154 ("before any queued
 * event, after the other events inserted by this callback"), as OTP:
 * events inserted while handling an inserted event go before the rest of
 * the earlier batch. */
Test(review18_statem, next_event_from_an_inserted_event_goes_before_the_rest_of_its_batch)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &plain_ops);
    sm_cast(&t, p, C_A, 0);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "x i1 i11 i12 i2");
    stop_normal(&t, p);
    tvm_stop(&t);
}

typedef struct caller_st {
    fx_pid machine;
    fx_pid owner;
} caller_st;

static fx_next caller_then(fx_ctx *cx, fx_msg *m)
{
    (void) fx_gs_call_result(cx, m, NULL, NULL, NULL);
    return fx_stop(cx, fx_reason_error(1, "caller got an answer"));
}

static fx_next caller(fx_ctx *cx, fx_msg *m)
{
    caller_st *st = fx_state(cx);
    if (fx_msg_type(m) == C_F)
        return fx_gs_call_async(cx, st->machine, C_PING, NULL, 0, FX_INFINITY,
                                caller_then);
    return fx_continue(cx);
}

/* docs/statem.md:121-122 ("fx_sm_reply's errors (FX_ENOPROC: the caller
 * has gone) are only returned") and gen_statem.h:142-146: a deferred
 * reply to a dead caller answers FX_ENOPROC and the machine goes on;
 * terminate later gets the state the machine is in (statem.md:79-81). */
Test(review18_statem, reply_to_a_caller_that_has_gone_is_only_returned)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &plain_ops);
    caller_st cs = {.machine = p, .owner = t.me};
    fx_spawn_opts o = {.handler = caller, .state_size = sizeof cs, .state_init = &cs};
    fx_pid a;
    fx_ref amon;
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &a, &amon), 0);
    cr_assert_eq(fx_inbox_send(t.in, a, C_F, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, SM_LOG);
    cr_assert_str_eq(fx_msg_data(m), "stored");
    fx_msg_free(m);
    cr_assert_eq(fx_vm_exit(t.vm, a, fx_reason_kill()), 0);
    m = NULL;
    cr_assert_eq(
        fx_inbox_recv(t.in, &(fx_match){.type = FX_MSG_DOWN, .ref = amon}, 10000, &m), 0);
    fx_msg_free(m);
    sm_cast(&t, p, C_D, 0); /* to state 8 */
    sm_cast(&t, p, C_E, 0); /* the late reply */
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "late:FX_ENOPROC");
    cr_assert(fx_is_alive(t.vm, p), "the machine stopped");
    stop_normal(&t, p);
    m = tvm_recv(&t, SM_LOG);
    cr_assert_str_eq(fx_msg_data(m), "term8:normal");
    fx_msg_free(m);
    tvm_stop(&t);
}

/* docs/statem.md:162-163: an enter call "may ... keep or repeat the
 * state ...  Its repeat_state counts as keep_state": no second enter
 * call, and the machine goes on. */
Test(review18_statem, repeat_state_from_an_enter_call_counts_as_keep_state)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &enter_ops);
    sm_cast(&t, p, C_B, 0); /* to state 5, whose enter call repeats */
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "enter0<-0 enter5<-0");
    stop_normal(&t, p);
    fx_msg_free(tvm_recv(&t, SM_LOG)); /* term */
    tvm_stop(&t);
}

/* docs/statem.md:152-156 and gen_statem.h:169-172: a state timeout set
 * by the transition belongs to the new state, "as does one set by the
 * enter call", and "setting it again restarts it": the enter call's 60 s
 * timeout replaces the transition's 1 ms one, which never fires. */
Test(review18_statem, enter_calls_state_timeout_restarts_the_transitions)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &enter_ops);
    sm_cast(&t, p, C_C, 0);
    /* Room for the 1 ms timeout to fire many times over if it were kept
     * (the pass does not depend on it). */
    usleep(50 * 1000);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "enter0<-0 enter6<-0");
    stop_normal(&t, p);
    fx_msg_free(tvm_recv(&t, SM_LOG));
    tvm_stop(&t);
}

/* docs/statem.md:143-146 (a postponed call keeps its from: "the caller
 * waits (up to its own timeout)") with docs/genserver.md:182-184 (a reply
 * after the timeout "never shows up in the caller's mailbox or inbox"):
 * the machine answers the retried call after the caller gave up, and the
 * answer is dropped. */
Test(review18_statem, postponed_call_answered_after_the_callers_timeout_is_dropped)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &plain_ops);
    fx_msg *r = NULL;
    cr_assert_eq(fx_gs_call(t.in, p, C_H, NULL, 0, 1, &r, NULL), FX_ETIMEDOUT);
    sm_cast(&t, p, C_D, 0); /* a state change: the call is retried */
    sm_cast(&t, p, C_END, 0);
    const char *log = sm_collect(&t);
    cr_assert(!strcmp(log, "held replied:0") || !strcmp(log, "held replied:FX_ENOPROC"),
              "%s", log);
    /* The reply was sent before "end" (one sender): it would be here. */
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t.in, &(fx_match){0}, 0, &m);
    cr_assert_eq(rc, FX_ETIMEDOUT, "a stray message of type %#x", m ? fx_msg_type(m) : 0);
    stop_normal(&t, p);
    fx_msg_free(tvm_recv(&t, SM_LOG));
    tvm_stop(&t);
}

/* gen_statem.h:142-146: fx_sm_reply's "FX_EINVAL for an empty `to`" does
 * not stop the machine (unlike the other refused actions,
 * gen_statem.h:135-139): a cast has no caller (ev->from is empty). */
Test(review18_statem, reply_to_a_casts_empty_from_is_einval_and_the_machine_goes_on)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &plain_ops);
    sm_cast(&t, p, C_G, 0);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "cast-reply:FX_EINVAL");
    cr_assert(fx_is_alive(t.vm, p), "the machine stopped");
    stop_normal(&t, p);
    fx_msg *m = tvm_recv(&t, SM_LOG);
    cr_assert_str_eq(fx_msg_data(m), "term0:normal");
    fx_msg_free(m);
    tvm_stop(&t);
}
