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
