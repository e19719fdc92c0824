#include "helpers.h"

enum { A = 1, B, C, GO, OUT, TIMED_OUT };

/* Sends v to the inbox whose pid is the actor's state. */
static void report(fx_ctx *cx, uint64_t v)
{
    fx_pid *to = fx_state(cx);
    fx_send(cx, *to, OUT, &v, sizeof v);
}

/* Selective receive: wait for a B first, then handle everything else in
 * arrival order, reporting each type handled. */
static fx_next report_all(fx_ctx *cx, fx_msg *m)
{
    report(cx, fx_msg_type(m));
    return fx_continue(cx);
}

static fx_next got_b(fx_ctx *cx, fx_msg *m)
{
    report(cx, fx_msg_type(m));
    return fx_become(cx, report_all);
}

/* Spawns an actor that starts with `init` and reports to t's inbox. */
static fx_pid spawn_reporter(tvm *t, fx_init_fn init)
{
    fx_spawn_opts o = {.init = init,
                       .handler = report_all,
                       .state_size = sizeof(fx_pid),
                       .state_init = &t->me};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, &p), 0);
    return p;
}

static fx_next wait_b(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_match mb = {.type = B};
    return fx_receive(cx, got_b, &mb, FX_INFINITY);
}

Test(receive, unmatched_stay_queued_in_order)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_reporter(&t, wait_b);
    uint32_t seq[] = {A, C, A, B, C};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(fx_vm_send(t.vm, p, seq[i], NULL, 0), 0);
    uint64_t expect[] = {B, A, C, A, C};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(tvm_recv_u64(&t, OUT), expect[i], "position %d", i);
    tvm_stop(&t);
}

static fx_next on_timeout(fx_ctx *cx, fx_msg *m)
{
    report(cx, fx_msg_type(m) == FX_MSG_TIMEOUT ? TIMED_OUT : fx_msg_type(m));
    return fx_become(cx, report_all);
}

static fx_next wait_b_50ms(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_match mb = {.type = B};
    return fx_receive(cx, on_timeout, &mb, 50);
}

Test(receive, timeout_delivers_timeout_message)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_reporter(&t, wait_b_50ms);
    cr_assert_eq(fx_vm_send(t.vm, p, A, NULL, 0), 0); /* does not match */
    cr_assert_eq(tvm_recv_u64(&t, OUT), TIMED_OUT);
    /* after the timeout the saved A is handled, then new messages */
    cr_assert_eq(tvm_recv_u64(&t, OUT), A);
    cr_assert_eq(fx_vm_send(t.vm, p, C, NULL, 0), 0);
    cr_assert_eq(tvm_recv_u64(&t, OUT), C);
    tvm_stop(&t);
}

Test(receive, match_before_timeout_cancels_it)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_reporter(&t, wait_b_50ms);
    cr_assert_eq(fx_vm_send(t.vm, p, B, NULL, 0), 0);
    cr_assert_eq(tvm_recv_u64(&t, OUT), B);
    /* No TIMEOUT must follow: the next thing reported is our C. */
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t.in, NULL, 150, &m), FX_ETIMEDOUT);
    cr_assert_eq(fx_vm_send(t.vm, p, C, NULL, 0), 0);
    cr_assert_eq(tvm_recv_u64(&t, OUT), C);
    tvm_stop(&t);
}

static bool even_payload(const fx_msg *m, void *arg)
{
    (void) arg;
    uint64_t v;
    memcpy(&v, fx_msg_data(m), sizeof v);
    return v % 2 == 0;
}

static fx_next got_even(fx_ctx *cx, fx_msg *m)
{
    uint64_t v;
    memcpy(&v, fx_msg_data(m), sizeof v);
    report(cx, v);
    return fx_become(cx, report_all);
}

static fx_next wait_even(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_match mt = {.type = A, .pred = even_payload};
    return fx_receive(cx, got_even, &mt, FX_INFINITY);
}

Test(receive, predicate_match)
{
    tvm t = tvm_start(1);
    fx_pid p = spawn_reporter(&t, wait_even);
    for (uint64_t v = 1; v <= 4; v++)
        cr_assert_eq(fx_vm_send(t.vm, p, A, &v, sizeof v), 0);
    cr_assert_eq(tvm_recv_u64(&t, OUT), 2); /* first even one */
    cr_assert_eq(tvm_recv_u64(&t, OUT), A); /* then 1, 3, 4 in order */
    cr_assert_eq(tvm_recv_u64(&t, OUT), A);
    cr_assert_eq(tvm_recv_u64(&t, OUT), A);
    tvm_stop(&t);
}

Test(receive, inbox_selective_receive_keeps_order)
{
    tvm t = tvm_start(1);
    for (uint64_t v = 0; v < 6; v++)
        cr_assert_eq(fx_inbox_send(t.in, t.me, v % 2 ? A : B, &v, sizeof v), 0);
    cr_assert_eq(tvm_recv_u64(&t, A), 1);
    cr_assert_eq(tvm_recv_u64(&t, B), 0);
    cr_assert_eq(tvm_recv_u64(&t, 0), 2);
    cr_assert_eq(tvm_recv_u64(&t, 0), 3);
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.type = C}, 0, &m), FX_ETIMEDOUT);
    cr_assert_eq(tvm_recv_u64(&t, 0), 4);
    cr_assert_eq(tvm_recv_u64(&t, 0), 5);
    tvm_stop(&t);
}

/* ---- a NULL ctx (issue 13, defect 9) ------------------------------------- */

typedef struct {
    fx_vm *vm;
    fx_pid report;
} reporter;

static void report_reason(void *state, const fx_reason *why)
{
    reporter *r = state;
    fx_vm_send(r->vm, r->report, OUT, why, sizeof *why);
}

static fx_reason recv_reason(tvm *t)
{
    fx_msg *m = tvm_recv(t, OUT);
    fx_reason r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

static fx_next bad_next(fx_ctx *cx, fx_msg *m)
{
    (void) cx;
    switch (fx_msg_type(m)) {
    case A:
        return fx_become(NULL, bad_next);
    case B:
        return fx_stop(NULL, fx_reason_normal());
    case C:
        return fx_receive(NULL, bad_next, NULL, 10);
    default:
        return fx_become(cx, NULL);
    }
}

/* Outside a handler: no crash, nothing to act on. */
Test(receive, null_ctx_continuations_are_invalid)
{
    cr_assert_eq(fx_make_ref(NULL).id, 0);
    int invalid = fx_become(NULL, bad_next).op;
    cr_assert_eq(fx_stop(NULL, fx_reason_normal()).op, invalid);
    cr_assert_eq(fx_receive(NULL, bad_next, NULL, 10).op, invalid);
    cr_assert_neq(fx_continue(NULL).op, invalid);
}

/* Returned from a handler, the invalid continuation stops the actor with
 * reason error FX_EINVAL. */
Test(receive, returning_an_invalid_continuation_stops_with_einval)
{
    tvm t = tvm_start_quiet(2);
    static reporter r;
    r = (reporter){t.vm, t.me};
    fx_spawn_opts o = {.handler = bad_next, .state = &r, .cleanup = report_reason};
    uint32_t kinds[] = {A, B, C, GO};
    for (int i = 0; i < 4; i++) {
        fx_pid p;
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
        cr_assert_eq(fx_vm_send(t.vm, p, kinds[i], NULL, 0), 0);
        fx_reason why = recv_reason(&t);
        cr_assert_eq(why.kind, FX_REASON_ERROR, "case %d", i);
        cr_assert_eq(why.code, FX_EINVAL, "case %d", i);
    }
    tvm_stop(&t);
}

static fx_next crash_null(fx_ctx *cx, fx_msg *m)
{
    (void) cx;
    (void) m;
    fx_crash(NULL, "null %d", 7);
}

/* fx_crash(NULL, ...) in a handler crashes that handler's actor. */
Test(receive, crash_with_null_ctx_crashes_the_running_actor)
{
    tvm t = tvm_start_quiet(2);
    static reporter r;
    r = (reporter){t.vm, t.me};
    fx_spawn_opts o = {.handler = crash_null, .state = &r, .cleanup = report_reason};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, A, NULL, 0), 0);
    fx_reason why = recv_reason(&t);
    cr_assert_eq(why.kind, FX_REASON_ERROR);
    cr_assert_eq(why.code, FX_ECRASHED);
    cr_assert_str_eq(fx_err_name(why.code), "FX_ECRASHED");
    cr_assert_str_eq(why.text, "null 7");
    tvm_stop(&t);
}
