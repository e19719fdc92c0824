/* gen_statem: events, postpone, next_event, calls, enter calls, modes.
 * Each test checks OTP's documented behaviour through the lines the
 * machine logs (statem_helpers.h). */
#include "statem_helpers.h"

/* ---- postpone: states locked and open ----------------------------------- */

static fx_sm_ret p_open(fx_sm *sm, const fx_sm_event *ev, void *data);

static fx_sm_ret p_locked(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    (void) data;
    if (ev->kind == FX_SM_CALL && ev->type == C_PING) {
        sm_log(sm, "pcall");
        fx_sm_postpone(sm);
        fx_sm_state_timeout(sm, 0, C_D, NULL, 0); /* opens, after the call */
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_STATE_TIMEOUT) {
        sm_log(sm, "st");
        return fx_sm_next_state(sm, fx_sm_fn(p_open));
    }
    if (ev->kind == FX_SM_INFO) { /* a plain message: postponed too */
        sm_log(sm, "pi");
        fx_sm_postpone(sm);
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_INTERNAL) {
        sm_log(sm, "i%d", (int) sm_arg(ev));
        if (sm_arg(ev) == 100)
            return fx_sm_next_state(sm, fx_sm_fn(p_open));
        return fx_sm_keep_state(sm);
    }
    if (ev->kind != FX_SM_CAST)
        return fx_sm_keep_state(sm);
    switch (ev->type) {
    case C_H:
        for (int64_t i = 100; i <= 101; i++)
            fx_sm_next_event(sm, C_A, &i, sizeof i);
        return fx_sm_keep_state(sm);
    case C_A:
        sm_log(sm, "p%d", (int) sm_arg(ev));
        fx_sm_postpone(sm);
        return fx_sm_keep_state(sm);
    case C_B:
        sm_log(sm, "keep");
        return fx_sm_keep_state(sm);
    case C_C:
        sm_log(sm, "repeat");
        return fx_sm_repeat_state(sm);
    case C_D:
        sm_log(sm, "open");
        return fx_sm_next_state(sm, fx_sm_fn(p_open));
    case C_G: {
        int64_t seven = 7;
        sm_log(sm, "g");
        fx_sm_next_event(sm, C_A, &seven, sizeof seven);
        return fx_sm_next_state(sm, fx_sm_fn(p_open));
    }
    case C_END:
        sm_log(sm, "end");
        return fx_sm_keep_state(sm);
    }
    return fx_sm_keep_state(sm);
}

static fx_sm_ret p_open(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    (void) data;
    if (ev->kind == FX_SM_CALL && ev->type == C_PING) {
        sm_log(sm, "ping");
        fx_sm_reply(sm, ev->from, "pong", 5);
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_INTERNAL) {
        sm_log(sm, "i%d", (int) sm_arg(ev));
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_INFO) {
        sm_log(sm, "hi%u:%d", (unsigned) ev->type, (int) sm_arg(ev));
        return fx_sm_keep_state(sm);
    }
    if (ev->kind != FX_SM_CAST)
        return fx_sm_keep_state(sm);
    switch (ev->type) {
    case C_A:
        sm_log(sm, "h%d", (int) sm_arg(ev));
        return fx_sm_keep_state(sm);
    case C_E:
        sm_log(sm, "lock");
        return fx_sm_next_state(sm, fx_sm_fn(p_locked));
    case C_F:
        for (int64_t i = 1; i <= 2; i++)
            fx_sm_next_event(sm, C_A, &i, sizeof i);
        sm_log(sm, "f");
        return fx_sm_keep_state(sm);
    case C_END:
        sm_log(sm, "end");
        return fx_sm_keep_state(sm);
    }
    return fx_sm_keep_state(sm);
}

static fx_sm_ret p_init(fx_sm *sm, void *arg, void **data)
{
    sm_init_data(sm, arg, data);
    return fx_sm_next_state(sm, fx_sm_fn(p_locked));
}

static const fx_sm_ops p_ops = {.init = p_init, .terminate = sm_free_data};

Test(statem_postpone, redelivered_in_order_before_later_events)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &p_ops);
    sm_cast(&t, p, C_A, 1);
    sm_cast(&t, p, C_A, 2);
    sm_cast(&t, p, C_A, 3);
    sm_cast(&t, p, C_D, 0);
    sm_cast(&t, p, C_A, 4);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "p1 p2 p3 open h1 h2 h3 h4");
    tvm_stop(&t);
}

Test(statem_postpone, not_retried_on_keep_or_repeat_state)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &p_ops);
    sm_cast(&t, p, C_A, 1);
    sm_cast(&t, p, C_B, 0);
    sm_cast(&t, p, C_C, 0);
    sm_cast(&t, p, C_A, 2);
    sm_cast(&t, p, C_D, 0);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "p1 keep repeat p2 open h1 h2");
    tvm_stop(&t);
}

Test(statem_postpone, postponed_again_keeps_order)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &p_ops);
    sm_cast(&t, p, C_A, 1);
    sm_cast(&t, p, C_D, 0); /* open: h1 */
    sm_cast(&t, p, C_E, 0); /* lock */
    sm_cast(&t, p, C_A, 2);
    sm_cast(&t, p, C_A, 3);
    sm_cast(&t, p, C_D, 0);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "p1 open h1 lock p2 p3 open h2 h3");
    tvm_stop(&t);
}

Test(statem_postpone, info_message_kept_and_redelivered)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &p_ops);
    int64_t v = 5;
    cr_assert_eq(fx_inbox_send(t.in, p, 50, &v, sizeof v), 0);
    sm_cast(&t, p, C_D, 0);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "pi open hi50:5");
    tvm_stop(&t);
}

Test(statem_postpone, retried_before_events_queued_internally)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &p_ops);
    sm_cast(&t, p, C_A, 1);
    sm_cast(&t, p, C_H, 0); /* inserts i100 (opens) and i101 */
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "p1 i100 h1 i101");
    tvm_stop(&t);
}

Test(statem_next_event, inserted_before_queued_and_postponed)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &p_ops);
    sm_cast(&t, p, C_A, 1); /* postponed */
    sm_cast(&t, p, C_G, 0); /* next_event A7, then open */
    sm_cast(&t, p, C_F, 0); /* in open: next_event A1, A2 */
    sm_cast(&t, p, C_A, 9);
    sm_cast(&t, p, C_END, 0);
    /* OTP: inserted events first, then the postponed ones, then the rest. */
    cr_assert_str_eq(sm_collect(&t), "p1 g i7 h1 f i1 i2 h9");
    tvm_stop(&t);
}

Test(statem_call, postponed_call_replied_after_state_change)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &p_ops);
    fx_msg *r = NULL;
    cr_assert_eq(fx_gs_call(t.in, p, C_PING, NULL, 0, 10000, &r, NULL), 0);
    cr_assert_str_eq(fx_msg_data(r), "pong");
    fx_msg_free(r);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "pcall st ping");
    tvm_stop(&t);
}

/* ---- handle_event mode, state enter calls -------------------------------- */

static fx_sm_ret e_event(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    (void) data;
    if (ev->kind == FX_SM_ENTER) {
        sm_log(sm, "in%d<-%d", (int) ev->state.id, (int) ev->old_state.id);
        switch (ev->state.id) {
        case 3:
            fx_sm_postpone(sm);
            break;
        case 4:
            return fx_sm_next_state(sm, fx_sm_id(1));
        case 5:
            fx_sm_next_event(sm, 0, NULL, 0);
            break;
        case 6:
            fx_sm_state_timeout(sm, 0, 0, NULL, 0);
            break;
        }
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_STATE_TIMEOUT) {
        sm_log(sm, "st%d", (int) ev->state.id);
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_CALL) {
        int64_t id = ev->state.id;
        fx_sm_reply(sm, ev->from, &id, sizeof id);
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_INFO && ev->type == FX_MSG_EXIT) {
        const fx_exit_info *x = ev->data;
        sm_log(sm, "exit%d", (int) x->reason.code);
        return fx_sm_keep_state(sm);
    }
    if (ev->kind != FX_SM_CAST)
        return fx_sm_keep_state(sm);
    switch (ev->type) {
    case C_A:
        sm_log(sm, "a");
        return fx_sm_next_state(sm, fx_sm_id(sm_arg(ev)));
    case C_B:
        sm_log(sm, "b");
        return fx_sm_keep_state(sm);
    case C_C:
        sm_log(sm, "c");
        return fx_sm_repeat_state(sm);
    case C_END:
        sm_log(sm, "end");
        return fx_sm_keep_state(sm);
    }
    return fx_sm_keep_state(sm);
}

static fx_sm_ret e_init(fx_sm *sm, void *arg, void **data)
{
    sm_init_data(sm, arg, data);
    return fx_sm_next_state(sm, fx_sm_id(1));
}

static const fx_sm_ops e_ops = {.init = e_init,
                                .handle_event = e_event,
                                .state_enter = true,
                                .terminate = sm_free_data};

Test(statem_enter, called_on_every_state_change_with_old_state)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &e_ops);
    sm_cast(&t, p, C_A, 2); /* 1 -> 2 */
    sm_cast(&t, p, C_B, 0); /* keep: no enter call */
    sm_cast(&t, p, C_C, 0); /* repeat: enter again */
    sm_cast(&t, p, C_A, 2); /* next_state to the same state: keep */
    sm_cast(&t, p, C_A, 6); /* its enter call sets a state timeout 0 */
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "in1<-1 a in2<-1 b c in2<-2 a a in6<-2 st6");
    int64_t id = 0;
    fx_msg *r = NULL;
    cr_assert_eq(fx_gs_call(t.in, p, C_PING, NULL, 0, 10000, &r, NULL), 0);
    memcpy(&id, fx_msg_data(r), sizeof id);
    fx_msg_free(r);
    cr_assert_eq(id, 6);
    tvm_stop(&t);
}

static void enter_refused(int64_t state, const char *line)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &e_ops);
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t.in, p, &ref), 0);
    sm_cast(&t, p, C_A, state);
    char want[32];
    snprintf(want, sizeof want, "in1<-1 a %s", line);
    fx_msg *m = tvm_recv(&t, FX_MSG_DOWN);
    const fx_down_info *d = fx_msg_data(m);
    cr_assert_eq(d->reason.kind, FX_REASON_ERROR);
    cr_assert_eq(d->reason.code, FX_EACTION, "%d", d->reason.code);
    fx_msg_free(m);
    /* The lines came before the DOWN: collect them without "end". */
    fx_msg *l1 = tvm_recv(&t, SM_LOG), *l2 = tvm_recv(&t, SM_LOG),
           *l3 = tvm_recv(&t, SM_LOG);
    char got[64];
    snprintf(got, sizeof got, "%s %s %s", (const char *) fx_msg_data(l1),
             (const char *) fx_msg_data(l2), (const char *) fx_msg_data(l3));
    cr_assert_str_eq(got, want);
    fx_msg_free(l1);
    fx_msg_free(l2);
    fx_msg_free(l3);
    tvm_stop(&t);
}

Test(statem_enter, postpone_refused)
{
    enter_refused(3, "in3<-1");
}

Test(statem_enter, state_change_refused)
{
    enter_refused(4, "in4<-1");
}

Test(statem_enter, next_event_refused)
{
    enter_refused(5, "in5<-1");
}

/* ---- exits of linked processes as info events ---------------------------- */

static fx_next die7(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_stop(cx, fx_reason_error(7, "seven"));
}

static fx_sm_ret x_state(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    if (ev->kind == FX_SM_CAST && ev->type == C_H) {
        fx_spawn_opts o = {.init = die7};
        fx_pid kid;
        cr_assert_eq(fx_spawn_link(fx_sm_ctx(sm), &o, &kid), 0);
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_INFO && ev->type == FX_MSG_EXIT) {
        const fx_exit_info *x = ev->data;
        sm_log(sm, "exit%d", (int) x->reason.code);
        sm_log(sm, "end");
    }
    (void) data;
    return fx_sm_keep_state(sm);
}

static fx_sm_ret x_init(fx_sm *sm, void *arg, void **data)
{
    sm_init_data(sm, arg, data);
    fx_trap_exit(fx_sm_ctx(sm), true);
    return fx_sm_next_state(sm, fx_sm_fn(x_state));
}

static const fx_sm_ops x_ops = {.init = x_init, .terminate = sm_free_data};

Test(statem_info, linked_exit_is_an_info_event_when_trapping)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &x_ops);
    sm_cast(&t, p, C_H, 0);
    cr_assert_str_eq(sm_collect(&t), "exit7");
    tvm_stop(&t);
}
