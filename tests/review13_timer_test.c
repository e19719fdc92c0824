/* review13: timer.h:33-44: "a timer to a process is cancelled when the
 * process exits" (Erlang's send_after to a pid); an inbox is a process
 * (inbox.h:1-6, fx_inbox_destroy: "it exits with reason normal"). And the
 * handle answers: read before cancel, cancel once, then FX_ENOENT. */
#include "helpers.h"

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

Test(review13_timer, timers_die_with_their_target)
{
    tvm t = tvm_start_quiet(1);
    fx_inbox *other;
    cr_assert_eq(fx_inbox_create(t.vm, &other), 0);
    fx_timer ti, tp, tk;
    cr_assert_eq(fx_vm_send_after(t.vm, 600000, fx_inbox_pid(other), 1, "x", 1, &ti), 0);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &p), 0);
    cr_assert_eq(fx_vm_send_after(t.vm, 600000, p, 1, "x", 1, &tp), 0);
    cr_assert_eq(fx_vm_send_after(t.vm, 600000, t.me, 1, "x", 1, &tk), 0);
    int64_t left = fx_read_timer(t.vm, ti);
    cr_expect(left > 0 && left <= 600000, "read %lld", (long long) left);
    cr_assert_eq(fx_inbox_destroy(other), 0);
    cr_expect_eq(fx_read_timer(t.vm, ti), FX_ENOENT, "a timer to a destroyed inbox");
    cr_expect_eq(fx_cancel_timer(t.vm, ti), FX_ENOENT);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t.in, p, &r), 0);
    cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
    fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    cr_expect_eq(fx_read_timer(t.vm, tp), FX_ENOENT, "a timer to a dead process");
    left = fx_cancel_timer(t.vm, tk);
    cr_expect(left > 0 && left <= 600000, "cancel %lld", (long long) left);
    cr_expect_eq(fx_cancel_timer(t.vm, tk), FX_ENOENT);
    cr_expect_eq(fx_read_timer(t.vm, tk), FX_ENOENT);
    cr_expect_eq(fx_cancel_timer(t.vm, (fx_timer){0}), FX_ENOENT);
    tvm_stop(&t);
}
