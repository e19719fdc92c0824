/* review8: gen_statem cases written from OTP's gen_statem documentation:
 * timeouts set in state enter calls, repeat_state and state timeouts,
 * postponed events after an enter call, calls to a machine that stops. */
#include <time.h>

#include "statem_helpers.h"

static fx_sm_ret r_event(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    smd *d = data;
    int64_t id = ev->state.id, x = sm_arg(ev);
    switch (ev->kind) {
    case FX_SM_ENTER:
        sm_log(sm, "e%d:%d", (int) id, (int) ev->old_state.id);
        if (id == 20)
            cr_assert_eq(fx_sm_state_timeout(sm, 10, 0, NULL, 0), 0);
        if (id == 30) /* the same state: keep_state, allowed in an enter call */
            return fx_sm_next_state(sm, ev->state);
        if (id == 40)
            cr_assert_eq(fx_sm_event_timeout(sm, 10, 0, NULL, 0), 0);
        if (id == 50)
            cr_assert_eq(fx_sm_timeout(sm, 7, 10, 0, NULL, 0), 0);
        return fx_sm_keep_state(sm);
    case FX_SM_CAST:
        switch (ev->type) {
        case C_A:
            if (id == 1) {
                sm_log(sm, "pA%d", (int) x);
                cr_assert_eq(fx_sm_postpone(sm), 0);
            } else {
                sm_log(sm, "A%d", (int) x);
            }
            return fx_sm_keep_state(sm);
        case C_B:
            sm_log(sm, "go%d", (int) x);
            return fx_sm_next_state(sm, fx_sm_id(x));
        case C_C:
            sm_log(sm, "rep");
            return fx_sm_repeat_state(sm);
        case C_D:
            sm_log(sm, "st");
            cr_assert_eq(fx_sm_state_timeout(sm, x, 0, NULL, 0), 0);
            return fx_sm_keep_state(sm);
        case C_E:
            cr_assert_eq(fx_sm_timeout(sm, 99, x, 0, NULL, 0), 0);
            return fx_sm_keep_state(sm);
        case C_G:
            cr_assert_eq(fx_sm_event_timeout(sm, x, 0, NULL, 0), 0);
            return fx_sm_keep_state(sm);
        case C_END:
            sm_log(sm, "end");
            return fx_sm_keep_state(sm);
        }
        return fx_sm_keep_state(sm);
    case FX_SM_CALL:
        if (ev->type == C_PING) {
            fx_sm_reply(sm, ev->from, &id, sizeof id);
            return fx_sm_keep_state(sm);
        }
        if (ev->type == C_H) { /* hold the call; the machine stops soon */
            d->held = ev->from;
            cr_assert_eq(fx_sm_state_timeout(sm, 20, 1, NULL, 0), 0);
            return fx_sm_keep_state(sm);
        }
        if (ev->type == C_F) { /* postpone the call; the machine stops soon */
            cr_assert_eq(fx_sm_postpone(sm), 0);
            cr_assert_eq(fx_sm_state_timeout(sm, 20, 1, NULL, 0), 0);
            return fx_sm_keep_state(sm);
        }
        return fx_sm_keep_state(sm);
    case FX_SM_INFO:
        if (id == 1) { /* kept (postponed) until the machine stops */
            sm_log(sm, "pI");
            cr_assert_eq(fx_sm_postpone(sm), 0);
        }
        return fx_sm_keep_state(sm);
    case FX_SM_STATE_TIMEOUT:
        if (ev->type == 1)
            return fx_sm_stop(sm, fx_reason_error(9, "gone"));
        sm_log(sm, "st%d", (int) id);
        return fx_sm_keep_state(sm);
    case FX_SM_TIMEOUT:
        sm_log(sm, "et%d", (int) id);
        return fx_sm_keep_state(sm);
    case FX_SM_GENERIC_TIMEOUT:
        if (ev->name == 99)
            sm_log(sm, "end");
        else
            sm_log(sm, "g%d", (int) ev->name);
        return fx_sm_keep_state(sm);
    }
    return fx_sm_keep_state(sm);
}

static fx_sm_ret r_init(fx_sm *sm, void *arg, void **data)
{
    sm_init_data(sm, arg, data);
    return fx_sm_next_state(sm, fx_sm_id(1));
}

static const fx_sm_ops r_ops = {
    .init = r_init,
    .handle_event = r_event,
    .state_enter = true,
    .terminate = sm_free_data,
};

static void wait_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* OTP: repeat_state is not a state change: the state timeout stays. */
Test(review8_statem, repeat_state_keeps_the_state_timeout)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &r_ops);
    sm_cast(&t, p, C_E, 5000);
    sm_cast(&t, p, C_B, 2);
    sm_cast(&t, p, C_D, 2000); /* far longer than the two casts that follow */
    sm_cast(&t, p, C_C, 0);
    cr_assert_str_eq(sm_collect(&t), "e1:1 go2 e2:1 st rep e2:2 st2");
    tvm_stop(&t);
}

/* OTP: a state enter call may set timeouts (not postpone / next_event). */
Test(review8_statem, timeouts_set_in_an_enter_call_fire)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &r_ops);
    sm_cast(&t, p, C_E, 1000); /* the end marker; the timeouts take 10 ms */
    sm_cast(&t, p, C_B, 20);
    cr_assert_str_eq(sm_collect(&t), "e1:1 go20 e20:1 st20");
    sm_cast(&t, p, C_E, 1000);
    sm_cast(&t, p, C_B, 40);
    cr_assert_str_eq(sm_collect(&t), "go40 e40:20 et40");
    sm_cast(&t, p, C_E, 1000);
    sm_cast(&t, p, C_B, 50);
    cr_assert_str_eq(sm_collect(&t), "go50 e50:40 g7");
    tvm_stop(&t);
}

/* gen_statem.h:117: the same state as now is keep_state, so an enter call
 * may answer next_state(its own state). */
Test(review8_statem, enter_call_may_name_its_own_state)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &r_ops);
    sm_cast(&t, p, C_B, 30);
    fx_msg *r = NULL;
    fx_reason why;
    int rc = fx_gs_call(t.in, p, C_PING, NULL, 0, 5000, &r, &why);
    cr_assert_eq(rc, 0, "call: %s", fx_err_name(rc));
    int64_t v;
    memcpy(&v, fx_msg_data(r), sizeof v);
    cr_assert_eq(v, 30);
    fx_msg_free(r);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "e1:1 go30 e30:1");
    tvm_stop(&t);
}

/* gen_statem.h:117: next_state to the current state is keep_state: no
 * enter call, postponed events stay postponed. */
Test(review8_statem, next_state_to_the_same_state_is_keep_state)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &r_ops);
    sm_cast(&t, p, C_A, 1);
    sm_cast(&t, p, C_B, 1);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "e1:1 pA1 go1");
    tvm_stop(&t);
}

/* OTP: after a state change the enter call runs first, then the postponed
 * events in their order, then the rest. */
Test(review8_statem, postponed_events_follow_the_enter_call)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &r_ops);
    sm_cast(&t, p, C_A, 1);
    sm_cast(&t, p, C_A, 2);
    sm_cast(&t, p, C_B, 2);
    sm_cast(&t, p, C_A, 3);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "e1:1 pA1 pA2 go2 e2:1 A1 A2 A3");
    tvm_stop(&t);
}

/* OTP: the event timeout is cancelled by any event, a postponed one too. */
Test(review8_statem, event_timeout_cancelled_by_a_postponed_event)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &r_ops);
    sm_cast(&t, p, C_G, 1000);
    wait_ms(50); /* lets the timeout start (if it does not, nothing fires) */
    sm_cast(&t, p, C_A, 1);
    sm_cast(&t, p, C_E, 2000);
    cr_assert_str_eq(sm_collect(&t), "e1:1 pA1");
    tvm_stop(&t);
}

/* A caller whose call the machine held (or postponed) when it stopped gets
 * the exit, as gen_statem:call exits with the machine's reason. */
static void call_then_stop(uint32_t type)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &r_ops);
    fx_msg *r = NULL;
    fx_reason why;
    memset(&why, 0, sizeof why);
    int rc = fx_gs_call(t.in, p, type, NULL, 0, 10000, &r, &why);
    cr_assert_eq(rc, FX_EEXIT, "call: %s", fx_err_name(rc));
    fx_reason want = fx_reason_error(9, "gone");
    cr_assert(fx_reason_eq(&why, &want));
    tvm_stop(&t);
}

Test(review8_statem, a_held_call_gets_the_exit)
{
    call_then_stop(C_H);
}

Test(review8_statem, a_postponed_call_gets_the_exit)
{
    call_then_stop(C_F);
}

/* ---- init actions, reply errors ------------------------------------------- */

enum { I_NEXT = 1, I_ST, I_BIGREPLY };

static fx_sm_ret i_event(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    (void) data;
    switch (ev->kind) {
    case FX_SM_ENTER:
        sm_log(sm, "e%d", (int) ev->state.id);
        break;
    case FX_SM_INTERNAL:
        sm_log(sm, "i%u", ev->type);
        break;
    case FX_SM_STATE_TIMEOUT:
        sm_log(sm, "st%d", (int) ev->state.id);
        break;
    case FX_SM_CAST:
        sm_log(sm, "c%u", ev->type);
        if (ev->type == C_END)
            sm_log(sm, "end");
        break;
    case FX_SM_CALL: {
        /* A reply too big to send: the action is refused. */
        size_t big = fx_vm_max_msg_size(fx_ctx_vm(fx_sm_ctx(sm))) * 2 + 4096;
        char *buf = calloc(1, big);
        int rc = ev->type == C_PING ? fx_sm_reply(sm, ev->from, buf, big)
                                    : fx_sm_reply(sm, ev->from, NULL, 8); /* C_A */
        free(buf);
        sm_log(sm, "reply%d", rc);
        break;
    }
    }
    return fx_sm_keep_state(sm);
}

static fx_sm_ret i_init(fx_sm *sm, void *arg, void **data)
{
    sm_init_data(sm, NULL, data);
    int what = (int) (intptr_t) arg;
    if (what == I_NEXT) {
        cr_assert_eq(fx_sm_next_event(sm, 77, NULL, 0), 0);
        cr_assert_eq(fx_sm_next_event(sm, 78, NULL, 0), 0);
    }
    if (what == I_ST)
        cr_assert_eq(fx_sm_state_timeout(sm, 10, 0, NULL, 0), 0);
    return fx_sm_next_state(sm, fx_sm_id(1));
}

static const fx_sm_ops i_ops = {
    .init = i_init,
    .handle_event = i_event,
    .state_enter = true,
    .terminate = sm_free_data,
};

static fx_pid i_start(tvm *t, int what)
{
    sm_observer = t->me;
    static fx_sm_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.ops = &i_ops;
    spec.arg = (void *) (intptr_t) what;
    fx_pid p;
    fx_reason why;
    int rc = fx_sm_start(t->in, &spec, &p, &why);
    cr_assert_eq(rc, 0, "start: %s", fx_strerror(rc));
    return p;
}

/* OTP: init may return next_event actions; they are handled first (after
 * the initial enter call), in order, before any message. */
Test(review8_statem, next_event_from_init)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = i_start(&t, I_NEXT);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "e1 i77 i78 c10");
    tvm_stop(&t);
}

/* OTP: a state timeout set by init belongs to the initial state. */
Test(review8_statem, state_timeout_from_init)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = i_start(&t, I_ST);
    cr_assert_eq(fx_sm_state_eq(fx_sm_id(1), fx_sm_id(1)), true);
    fx_msg *m = tvm_recv(&t, SM_LOG);
    cr_assert_str_eq(fx_msg_data(m), "e1");
    fx_msg_free(m);
    m = tvm_recv(&t, SM_LOG);
    cr_assert_str_eq(fx_msg_data(m), "st1");
    fx_msg_free(m);
    (void) p;
    tvm_stop(&t);
}

/* gen_statem.h:136-140: an action refused with FX_EMSGSIZE or FX_EINVAL
 * (data NULL with size > 0) stops the machine ({error, code}); fx_sm_reply
 * (lines 142-144) exempts only FX_ENOPROC, and fx_gs_reply crashes a
 * GenServer whose reply cannot be sent (gen_server.h:85-87). So a reply
 * that cannot be sent stops the machine and the caller hears of it
 * (FX_EEXIT) instead of waiting for its timeout. */
static void bad_reply(uint32_t type, int code)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = i_start(&t, 0);
    fx_msg *r = NULL;
    fx_reason why;
    memset(&why, 0, sizeof why);
    int rc = fx_gs_call(t.in, p, type, NULL, 0, 5000, &r, &why);
    fx_msg *m = tvm_recv(&t, SM_LOG); /* "e1" */
    fx_msg_free(m);
    m = tvm_recv(&t, SM_LOG);
    char want[32];
    snprintf(want, sizeof want, "reply%d", code);
    cr_assert_str_eq(fx_msg_data(m), want, "fx_sm_reply's answer");
    fx_msg_free(m);
    cr_assert_eq(rc, FX_EEXIT, "call: %s (expected FX_EEXIT)", fx_err_name(rc));
    cr_assert_eq(why.code, code, "reason code %d", why.code);
    tvm_stop(&t);
}

Test(review8_statem, a_reply_too_big_stops_the_machine)
{
    bad_reply(C_PING, FX_EMSGSIZE);
}

Test(review8_statem, a_reply_with_null_data_stops_the_machine)
{
    bad_reply(C_A, FX_EINVAL);
}

/* Postponed messages, calls and queued events are freed (ASan) and the
 * held callers told when the machine is stopped from outside. */
Test(review8_statem, stop_with_postponed_events_frees_them)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p = sm_start(&t, &r_ops);
    char big[512] = {1};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(fx_vm_send(t.vm, p, 5, big, sizeof big), 0);
    sm_cast(&t, p, C_A, 1);
    sm_cast(&t, p, C_E, 60000);
    sm_cast(&t, p, C_END, 0);
    cr_assert_str_eq(sm_collect(&t), "e1:1 pI pI pI pA1");
    fx_reason why;
    cr_assert_eq(fx_gs_stop_server(t.in, p, fx_reason_shutdown(), 10000, &why), 0);
    tvm_stop(&t);
}

/* ---- a supervised machine that traps exits ------------------------------ */

/* The next log line (static buffer). */
static const char *sm_collect_one(tvm *t)
{
    static char out[128];
    fx_msg *m = tvm_recv(t, SM_LOG);
    snprintf(out, sizeof out, "%s", (const char *) fx_msg_data(m));
    fx_msg_free(m);
    return out;
}

static fx_sm_ret trap_init(fx_sm *sm, void *arg, void **data)
{
    sm_init_data(sm, arg, data);
    cr_assert_eq(fx_trap_exit(fx_sm_ctx(sm), true), 0);
    return fx_sm_next_state(sm, fx_sm_id(1));
}

static fx_sm_ret trap_event(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    (void) data;
    if (ev->kind == FX_SM_INFO && ev->type == FX_MSG_EXIT)
        sm_log(sm, "info-exit"); /* the parent's EXIT must not come here */
    return fx_sm_keep_state(sm);
}

static void trap_terminate(fx_vm *vm, fx_sm_state st, void *data, const fx_reason *why)
{
    char line[96];
    fx_reason_format(why, line, sizeof line);
    (void) fx_vm_send(vm, sm_observer, SM_LOG, line, strlen(line) + 1);
    sm_free_data(vm, st, data, why);
}

static const fx_sm_ops trap_ops = {
    .init = trap_init,
    .handle_event = trap_event,
    .terminate = trap_terminate,
};

/* OTP: a gen_statem trapping exits stops with its parent's exit reason
 * (terminate(shutdown)) when its supervisor terminates it; it is not
 * left to the shutdown timeout and killed. */
Test(review8_statem, a_trapping_machine_stops_on_its_supervisors_shutdown)
{
    tvm t = tvm_start_quiet(2);
    sm_observer = t.me;
    static fx_sm_spec spec = {.ops = &trap_ops};
    fx_child_spec c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "m");
    c.start = fx_child_gen_statem;
    c.carg = &spec;
    c.shutdown_ms = 60000; /* a kill would come only after a minute */
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.children = &c;
    s.nchildren = 1;
    fx_pid sup;
    fx_reason why;
    cr_assert_eq(fx_sup_start(t.in, &s, &sup, &why), 0);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "m", 10000), 0);
    cr_assert_str_eq(sm_collect_one(&t), "shutdown");
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, &why), 0);
    tvm_stop(&t);
}
