/* gen_statem: start, init outcomes, names, stop, terminate, supervision,
 * calls from one machine's callback to another. */
#include <time.h>

#include "statem_helpers.h"

/* A machine whose init does what its arg says, and whose terminate tells
 * the observer (fx_vm_send: terminate has no ctx). */
enum { I_OK, I_IGNORE, I_STOP, I_KEEP, I_POSTPONE };

static fx_pid term_to;

static void s_term(fx_vm *vm, fx_sm_state st, void *data, const fx_reason *why)
{
    char line[64];
    snprintf(line, sizeof line, "term%d:%d", (int) st.id,
             why->kind == FX_REASON_ERROR ? (int) why->code : -(int) why->kind);
    (void) fx_vm_send(vm, term_to, SM_LOG, line, strlen(line) + 1);
    free(data);
}

static fx_sm_ret s_event(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    smd *d = data;
    if (ev->kind == FX_SM_CALL && ev->type == C_PING) {
        int64_t id = ev->state.id;
        fx_sm_reply(sm, ev->from, &id, sizeof id);
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_CALL && ev->type == C_END) /* stop_and_reply */
        return fx_sm_stop_reply(sm, fx_reason_error(42, "bye"), ev->from, "bye", 4);
    if (ev->kind == FX_SM_CAST && ev->type == C_B)
        return fx_sm_stop(sm, fx_reason_error(9, "crash"));
    if (ev->kind == FX_SM_CAST && ev->type == C_A) { /* call the peer */
        memcpy(&d->peer, ev->data, sizeof d->peer);
        fx_sm_call_then(sm, d->peer, C_PING, NULL, 0, 5000, (void *) 7);
        sm_log(sm, "asked");
        return fx_sm_next_state(sm, fx_sm_id(2));
    }
    if (ev->kind == FX_SM_CAST && ev->type == C_C) /* go to a state */
        return fx_sm_next_state(sm, fx_sm_id(sm_arg(ev)));
    if (ev->kind == FX_SM_CAST && ev->type == C_E) { /* call the peer, stay */
        memcpy(&d->peer, ev->data, sizeof d->peer);
        fx_sm_call_then(sm, d->peer, C_PING, NULL, 0, 5000, (void *) 7);
        sm_log(sm, "asked");
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_RESPONSE && ev->state.id == 5) {
        sm_log(sm, "presp");
        fx_sm_postpone(sm);
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_RESPONSE) {
        int64_t v = -1;
        if (ev->res->rc == 0)
            memcpy(&v, ev->res->data, sizeof v);
        sm_log(sm, "resp%d:%d:%d:%d", (int) ev->state.id, ev->res->rc, (int) v,
               (int) (intptr_t) ev->res->tag);
        sm_log(sm, "end");
    }
    return fx_sm_keep_state(sm);
}

static fx_sm_ret s_init(fx_sm *sm, void *arg, void **data)
{
    sm_init_data(sm, NULL, data);
    switch ((int) (intptr_t) arg) {
    case I_IGNORE:
        return fx_sm_ignore(sm);
    case I_STOP:
        return fx_sm_stop(sm, fx_reason_error(5, "no"));
    case I_KEEP:
        return fx_sm_keep_state(sm);
    case I_POSTPONE:
        fx_sm_postpone(sm);
        break;
    }
    return fx_sm_next_state(sm, fx_sm_id(1));
}

static const fx_sm_ops s_ops = {
    .init = s_init, .handle_event = s_event, .terminate = s_term};

static int start_with(tvm *t, int what, const char *name, fx_pid *p, fx_reason *why)
{
    static fx_sm_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.ops = &s_ops;
    spec.arg = (void *) (intptr_t) what;
    spec.name = name;
    sm_observer = term_to = t->me;
    return fx_sm_start(t->in, &spec, p, why);
}

static const char *line(tvm *t)
{
    static char buf[96];
    fx_msg *m = tvm_recv(t, SM_LOG);
    snprintf(buf, sizeof buf, "%s", (const char *) fx_msg_data(m));
    fx_msg_free(m);
    return buf;
}

Test(statem_start, init_outcomes_and_terminate)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p;
    fx_reason why;
    cr_assert_eq(start_with(&t, I_IGNORE, NULL, &p, &why), FX_EIGNORE);
    cr_assert_str_eq(line(&t), "term0:0"); /* terminate runs, data freed */
    cr_assert_eq(start_with(&t, I_STOP, NULL, &p, &why), FX_EEXIT);
    cr_assert_eq(why.code, 5);
    cr_assert_str_eq(line(&t), "term0:5");
    cr_assert_eq(start_with(&t, I_KEEP, NULL, &p, &why), FX_EEXIT);
    cr_assert_eq(why.code, FX_EACTION);
    cr_assert_str_eq(line(&t), "term0:-33");
    cr_assert_eq(start_with(&t, I_POSTPONE, NULL, &p, &why), FX_EEXIT);
    cr_assert_eq(why.code, FX_EACTION);
    cr_assert_str_eq(line(&t), "term0:-33");
    cr_assert_eq(start_with(&t, I_OK, NULL, &p, &why), 0);
    cr_assert_eq(fx_gs_stop_server(t.in, p, fx_reason_shutdown(), 5000, NULL), 0);
    cr_assert_str_eq(line(&t), "term1:-1"); /* shutdown, state 1 */
    tvm_stop(&t);
}

Test(statem_start, registered_name)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p, q, w;
    fx_reason why;
    cr_assert_eq(start_with(&t, I_OK, "machine", &p, &why), 0);
    cr_assert_eq(fx_whereis(t.vm, "machine", &w), 0);
    cr_assert(fx_pid_eq(w, p));
    cr_assert_eq(start_with(&t, I_OK, "machine", &q, &why), FX_EEXIST);
    cr_assert(fx_pid_eq(q, p));
    tvm_stop(&t);
}

Test(statem_start, stop_and_reply_replies_then_terminates)
{
    tvm t = tvm_start_quiet(2);
    fx_pid p;
    fx_reason why;
    cr_assert_eq(start_with(&t, I_OK, NULL, &p, &why), 0);
    fx_msg *r = NULL;
    cr_assert_eq(fx_gs_call(t.in, p, C_END, NULL, 0, 5000, &r, &why), 0);
    cr_assert_str_eq(fx_msg_data(r), "bye");
    fx_msg_free(r);
    cr_assert_str_eq(line(&t), "term1:42");
    tvm_stop(&t);
}

Test(statem_call, from_another_machines_callback)
{
    tvm t = tvm_start_quiet(2);
    fx_pid a, b;
    fx_reason why;
    cr_assert_eq(start_with(&t, I_OK, NULL, &a, &why), 0);
    cr_assert_eq(start_with(&t, I_OK, NULL, &b, &why), 0);
    cr_assert_eq(fx_vm_gs_cast(t.vm, a, C_A, &b, sizeof b), 0);
    /* The response comes as an event in the state a is in by then (2);
     * b answered its own state (1); the tag came back. */
    cr_assert_str_eq(sm_collect(&t), "asked resp2:0:1:7");
    /* A dead server: FX_ENOPROC, as an event too. */
    cr_assert_eq(fx_gs_stop_server(t.in, b, fx_reason_normal(), 5000, NULL), 0);
    cr_assert_str_eq(line(&t), "term1:0");
    cr_assert_eq(fx_vm_gs_cast(t.vm, a, C_A, &b, sizeof b), 0);
    char want[48];
    snprintf(want, sizeof want, "asked resp2:%d:-1:7", FX_ENOPROC);
    cr_assert_str_eq(sm_collect(&t), want);
    tvm_stop(&t);
}

Test(statem_call, response_postponed_keeps_its_content)
{
    tvm t = tvm_start_quiet(2);
    fx_pid a, b;
    fx_reason why;
    cr_assert_eq(start_with(&t, I_OK, NULL, &a, &why), 0);
    cr_assert_eq(start_with(&t, I_OK, NULL, &b, &why), 0);
    sm_cast(&t, a, C_C, 5);
    cr_assert_eq(fx_vm_gs_cast(t.vm, a, C_E, &b, sizeof b), 0);
    cr_assert_str_eq(line(&t), "asked");
    cr_assert_str_eq(line(&t), "presp");
    sm_cast(&t, a, C_C, 6);
    cr_assert_str_eq(sm_collect(&t), "resp6:0:1:7");
    tvm_stop(&t);
}

static const fx_sm_spec sup_kid = {.ops = &s_ops, .name = "kid"};

Test(statem_sup, restarted_by_its_supervisor)
{
    tvm t = tvm_start_quiet(2);
    sm_observer = term_to = t.me;
    fx_child_spec kids[1] = {{.id = "kid",
                              .start = fx_child_gen_statem,
                              .arg = (void *) &sup_kid,
                              .restart = FX_PERMANENT}};
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.children = kids;
    s.nchildren = 1;
    s.intensity = 5;
    fx_pid sup, p1, p2 = FX_PID_NONE;
    cr_assert_eq(fx_sup_start(t.in, &s, &sup, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "kid", &p1), 0);
    sm_cast(&t, p1, C_B, 0); /* stops with an error */
    cr_assert_str_eq(line(&t), "term1:9");
    for (int i = 0; i < 1000; i++) { /* bounded: 10 s */
        if (fx_whereis(t.vm, "kid", &p2) == 0 && !fx_pid_eq(p1, p2))
            break;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    cr_assert(!fx_pid_eq(p1, p2) && !fx_pid_is_none(p2));
    fx_msg *r = NULL;
    cr_assert_eq(fx_gs_call(t.in, p2, C_PING, NULL, 0, 5000, &r, NULL), 0);
    fx_msg_free(r);
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 5000, NULL), 0);
    tvm_stop(&t);
}
