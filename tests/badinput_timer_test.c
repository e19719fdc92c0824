/* Bad-input table: timer.h.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

typedef struct tm_arg {
    int64_t delay;
    fx_pid to;
    uint32_t type;
    const void *data;
    size_t size;
} tm_arg;

static int run_send_after(fx_ctx *cx, void *arg)
{
    tm_arg *a = arg;
    return fx_send_after(cx, a->delay, a->to, a->type, a->data, a->size, NULL);
}

static char tm_big[BI_MAX_MSG + 1];

Test(bi_timer, send_after_null_cx, .description = "fx_send_after | cx NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_send_after(NULL, 1, t.me, 1, NULL, 0, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_timer, send_after_negative,
     .description = "fx_send_after | delay_ms -1, INT64_MIN | FX_EINVAL")
{
    tvm t = bi_start();
    tm_arg a = {.delay = -1, .to = t.me, .type = 1};
    bi_expect(bi_in_handler(&t, run_send_after, &a), FX_EINVAL);
    a.delay = INT64_MIN;
    bi_expect(bi_in_handler(&t, run_send_after, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_timer, send_after_bad_payload,
     .description = "fx_send_after | reserved type; data NULL size 8 | FX_EINVAL")
{
    tvm t = bi_start();
    tm_arg a = {.delay = 1, .to = t.me, .type = FX_MSG_EXIT, .data = "x", .size = 1};
    bi_expect(bi_in_handler(&t, run_send_after, &a), FX_EINVAL);
    a.type = 1;
    a.data = NULL;
    a.size = 8;
    bi_expect(bi_in_handler(&t, run_send_after, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_timer, send_after_oversized,
     .description = "fx_send_after | size max_msg_size + 1 | FX_EMSGSIZE")
{
    tvm t = bi_start();
    tm_arg a = {.delay = 1, .to = t.me, .type = 1, .data = tm_big, .size = sizeof tm_big};
    bi_expect(bi_in_handler(&t, run_send_after, &a), FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_timer, send_after_zero,
     .description = "fx_send_after | delay 0, size 0 | 0, delivered")
{
    tvm t = bi_start();
    tm_arg a = {.delay = 0, .to = t.me, .type = 9};
    bi_expect(bi_in_handler(&t, run_send_after, &a), 0);
    fx_msg *m = tvm_recv(&t, 9);
    cr_assert_eq(fx_msg_size(m), 0);
    fx_msg_free(m);
    bi_end(&t);
}

Test(bi_timer, vm_send_after_bad,
     .description = "fx_vm_send_after | vm NULL; delay -1; reserved type; data NULL size "
                    "8 | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_vm_send_after(NULL, 1, t.me, 1, NULL, 0, NULL), FX_EINVAL);
    bi_expect(fx_vm_send_after(t.vm, -1, t.me, 1, NULL, 0, NULL), FX_EINVAL);
    bi_expect(fx_vm_send_after(t.vm, 1, t.me, FX_MSG_DOWN, NULL, 0, NULL), FX_EINVAL);
    bi_expect(fx_vm_send_after(t.vm, 1, t.me, 1, NULL, 8, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_timer, vm_send_after_oversized,
     .description = "fx_vm_send_after | size max_msg_size + 1 | FX_EMSGSIZE")
{
    tvm t = bi_start();
    bi_expect(fx_vm_send_after(t.vm, 1, t.me, 1, tm_big, sizeof tm_big, NULL),
              FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_timer, vm_send_after_shutdown,
     .description = "fx_vm_send_after | after shutdown | FX_ESHUTDOWN")
{
    fx_pid p;
    fx_vm *vm = bi_dead_vm(&p);
    bi_expect(fx_vm_send_after(vm, 1, p, 1, NULL, 0, NULL), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_timer, cancel_unknown,
     .description = "fx_cancel_timer | zero timer, garbage timer | FX_ENOENT")
{
    tvm t = bi_start();
    bi_expect(fx_cancel_timer(t.vm, (fx_timer){0}), FX_ENOENT);
    bi_expect(fx_cancel_timer(t.vm, (fx_timer){0x7777777777ull}), FX_ENOENT);
    bi_end(&t);
}

Test(bi_timer, foreign_handle,
     .description = "fx_cancel_timer, fx_read_timer | another VM's timer handle | "
                    "FX_ENOENT; that VM's timer stays pending")
{
    tvm t = bi_start();
    tvm other = tvm_start_quiet(1);
    fx_timer mine, theirs;
    cr_assert_eq(fx_vm_send_after(t.vm, 600000, t.me, 1, NULL, 0, &mine), 0);
    cr_assert_eq(fx_vm_send_after(other.vm, 600000, other.me, 1, NULL, 0, &theirs), 0);
    bi_expect(fx_cancel_timer(t.vm, theirs), FX_ENOENT);
    bi_expect(fx_read_timer(t.vm, theirs), FX_ENOENT);
    cr_expect_gt(fx_read_timer(other.vm, theirs), 0);
    cr_expect_gt(fx_cancel_timer(t.vm, mine), 0);
    tvm_stop(&other);
    bi_end(&t);
}

Test(bi_timer, cancel_null_vm, .description = "fx_cancel_timer | vm NULL | FX_EINVAL")
{
    bi_expect(fx_cancel_timer(NULL, (fx_timer){1}), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_timer, cancel_twice,
     .description = "fx_cancel_timer | already cancelled; already fired | FX_ENOENT")
{
    tvm t = bi_start();
    fx_timer tm;
    cr_assert_eq(fx_vm_send_after(t.vm, 100000, t.me, 1, NULL, 0, &tm), 0);
    cr_assert_geq(fx_cancel_timer(t.vm, tm), 0);
    bi_expect(fx_cancel_timer(t.vm, tm), FX_ENOENT);
    cr_assert_eq(fx_vm_send_after(t.vm, 0, t.me, 9, NULL, 0, &tm), 0);
    fx_msg_free(tvm_recv(&t, 9));
    bi_expect(fx_cancel_timer(t.vm, tm), FX_ENOENT);
    bi_end(&t);
}

Test(bi_timer, read_unknown,
     .description =
         "fx_read_timer | zero timer, garbage timer, cancelled, fired | FX_ENOENT")
{
    tvm t = bi_start();
    bi_expect(fx_read_timer(t.vm, (fx_timer){0}), FX_ENOENT);
    bi_expect(fx_read_timer(t.vm, (fx_timer){0x7777777777ull}), FX_ENOENT);
    fx_timer tm;
    cr_assert_eq(fx_vm_send_after(t.vm, 100000, t.me, 1, NULL, 0, &tm), 0);
    cr_assert_geq(fx_cancel_timer(t.vm, tm), 0);
    bi_expect(fx_read_timer(t.vm, tm), FX_ENOENT);
    cr_assert_eq(fx_vm_send_after(t.vm, 0, t.me, 9, NULL, 0, &tm), 0);
    fx_msg_free(tvm_recv(&t, 9));
    bi_expect(fx_read_timer(t.vm, tm), FX_ENOENT);
    bi_end(&t);
}

Test(bi_timer, read_null_vm, .description = "fx_read_timer | vm NULL | FX_EINVAL")
{
    bi_expect(fx_read_timer(NULL, (fx_timer){1}), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_timer, target_exited,
     .description = "fx_read_timer, fx_cancel_timer | timer whose target has exited | "
                    "FX_ENOENT (cancelled with its target, as in Erlang)")
{
    tvm t = bi_start();
    fx_timer tm;
    fx_pid q;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &q), 0);
    cr_assert_eq(fx_vm_send_after(t.vm, 100000, q, 1, NULL, 0, &tm), 0);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t.in, q, &r), 0);
    cr_assert_eq(fx_vm_exit(t.vm, q, fx_reason_kill()), 0);
    fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    bi_expect(fx_read_timer(t.vm, tm), FX_ENOENT);
    bi_expect(fx_cancel_timer(t.vm, tm), FX_ENOENT);
    bi_end(&t);
}

Test(bi_timer, send_after_absurd,
     .description =
         "fx_vm_send_after | delay_ms 2e13, INT64_MAX | 0; read/cancel report at "
         "most FX_TIMEOUT_MAX left, nothing delivered")
{
    tvm t = bi_start();
    for (int i = 0; i < BI_ABSURD_N; i++) {
        fx_timer tm;
        bi_expect(fx_vm_send_after(t.vm, bi_absurd[i], t.me, 9, NULL, 0, &tm), 0);
        int64_t left = fx_read_timer(t.vm, tm);
        cr_assert(left > FX_TIMEOUT_MAX / 2 && left <= FX_TIMEOUT_MAX, "left %lld",
                  (long long) left);
        /* A message sent after the timer: if the timer had fired at once it
         * would come first. */
        cr_assert_eq(fx_vm_send_after(t.vm, 1, t.me, 10, NULL, 0, NULL), 0);
        fx_msg *m = tvm_recv(&t, 0);
        cr_assert_eq(fx_msg_type(m), 10, "the absurd timer fired");
        fx_msg_free(m);
        left = fx_cancel_timer(t.vm, tm);
        cr_assert(left > FX_TIMEOUT_MAX / 2 && left <= FX_TIMEOUT_MAX, "left %lld",
                  (long long) left);
    }
    bi_end(&t);
}

/* --- from a fork()ed child (docs/failures.md, "fork") ------------------- */

static int fork_timers(tvm *t)
{
    fx_timer tm;
    int rc = fx_vm_send_after(t->vm, 10, t->me, 1, NULL, 0, &tm);
    if (rc != FX_EFORKED)
        return rc == 0 ? 1 : rc;
    fx_timer none = {1};
    if ((rc = (int) fx_cancel_timer(t->vm, none)) != FX_EFORKED)
        return rc >= 0 ? 1 : rc;
    if ((rc = (int) fx_read_timer(t->vm, none)) != FX_EFORKED)
        return rc >= 0 ? 1 : rc;
    return FX_EFORKED;
}

Test(bi_timer, from_forked_child,
     .description = "fx_vm_send_after, fx_cancel_timer, fx_read_timer | from a fork()ed "
                    "child | FX_EFORKED")
{
    tvm t = bi_start();
    bi_expect(bi_in_child(&t, fork_timers), FX_EFORKED);
    bi_end(&t);
}
