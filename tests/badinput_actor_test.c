/* Bad-input table: actor.h (continuations, context accessors, spawning)
 * and the handler-only calls made from outside (NULL ctx).
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

/* --- handler-only calls from outside a handler (no ctx: NULL) ---------- */

Test(
    bi_actor, continue_null,
    .description = "fx_continue | cx NULL (outside a handler) | no crash (header silent)")
{
    (void) fx_continue(NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_actor, accessors_null,
     .description = "fx_self, fx_ctx_vm, fx_state, fx_set_state | cx NULL | FX_PID_NONE "
                    "/ NULL / ignored (header silent)")
{
    cr_assert(fx_pid_is_none(fx_self(NULL)));
    cr_assert_null(fx_ctx_vm(NULL));
    cr_assert_null(fx_state(NULL));
    fx_set_state(NULL, (void *) 1);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_actor, keep_null,
     .description = "fx_msg_keep | cx NULL, msg NULL | ignored (header silent)")
{
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 8, &m), 0);
    fx_msg_keep(NULL, m);
    fx_msg_keep(NULL, NULL);
    fx_msg_free(m);
    tvm t = bi_start();
    bi_end(&t);
}

static int run_keep_other(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_msg *other;
    if (fx_msg_new(1, 8, &other) != 0)
        return FX_ENOMEM;
    fx_msg_keep(cx, other); /* not the message being handled */
    fx_msg_keep(cx, NULL);
    fx_msg_free(other);
    return 0;
}

Test(bi_actor, keep_other_msg,
     .description = "fx_msg_keep | a message that is not the one being handled; NULL | "
                    "ignored; the handled one is freed as usual")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_keep_other, NULL), 0);
    bi_end(&t);
}

Test(bi_actor, trap_exit_null,
     .description = "fx_trap_exit | cx NULL | false (header silent)")
{
    cr_assert_not(fx_trap_exit(NULL, true));
    tvm t = bi_start();
    bi_end(&t);
}

/* --- spawning ---------------------------------------------------------------- */

typedef struct spawn_arg {
    const fx_spawn_opts *opts;
    fx_handler h;
    fx_pid out;
} spawn_arg;

static int run_spawn_opt(fx_ctx *cx, void *arg)
{
    spawn_arg *a = arg;
    return fx_spawn_opt(cx, a->opts, &a->out);
}

static int run_spawn(fx_ctx *cx, void *arg)
{
    spawn_arg *a = arg;
    return fx_spawn(cx, a->h, NULL, &a->out);
}

Test(bi_spawn, opt_null_cx, .description = "fx_spawn_opt | cx NULL | FX_EINVAL")
{
    fx_spawn_opts o = {.handler = bi_echo};
    bi_expect(fx_spawn_opt(NULL, &o, NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_spawn, opt_null_opts, .description = "fx_spawn_opt | opts NULL | FX_EINVAL")
{
    tvm t = bi_start();
    spawn_arg a = {.opts = NULL};
    bi_expect(bi_in_handler(&t, run_spawn_opt, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, opt_no_handler,
     .description = "fx_spawn_opt | neither handler nor init | FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.state = NULL};
    spawn_arg a = {.opts = &o};
    bi_expect(bi_in_handler(&t, run_spawn_opt, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, opt_oversized_state,
     .description = "fx_spawn_opt | state_size 64 KiB + 1, SIZE_MAX | FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.handler = bi_echo, .state_size = 64 * 1024 + 1};
    spawn_arg a = {.opts = &o};
    bi_expect(bi_in_handler(&t, run_spawn_opt, &a), FX_EINVAL);
    o.state_size = SIZE_MAX;
    bi_expect(bi_in_handler(&t, run_spawn_opt, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, spawn_null, .description = "fx_spawn | cx NULL; handler NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_spawn(NULL, bi_echo, NULL, NULL), FX_EINVAL);
    spawn_arg a = {.h = NULL};
    bi_expect(bi_in_handler(&t, run_spawn, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, vm_opt_bad,
     .description = "fx_vm_spawn_opt | vm NULL; opts NULL; no handler; state_size 64 KiB "
                    "+ 1 | FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.handler = bi_echo};
    bi_expect(fx_vm_spawn_opt(NULL, &o, NULL), FX_EINVAL);
    bi_expect(fx_vm_spawn_opt(t.vm, NULL, NULL), FX_EINVAL);
    fx_spawn_opts none = {.state = NULL};
    bi_expect(fx_vm_spawn_opt(t.vm, &none, NULL), FX_EINVAL);
    o.state_size = 64 * 1024 + 1;
    bi_expect(fx_vm_spawn_opt(t.vm, &o, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, vm_spawn_bad,
     .description = "fx_vm_spawn | vm NULL; handler NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_vm_spawn(NULL, bi_echo, NULL, NULL), FX_EINVAL);
    bi_expect(fx_vm_spawn(t.vm, NULL, NULL, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, vm_after_shutdown,
     .description = "fx_vm_spawn, fx_vm_spawn_opt | after shutdown | FX_ESHUTDOWN")
{
    fx_vm *vm = bi_dead_vm(NULL);
    fx_spawn_opts o = {.handler = bi_echo};
    bi_expect(fx_vm_spawn(vm, bi_echo, NULL, NULL), FX_ESHUTDOWN);
    bi_expect(fx_vm_spawn_opt(vm, &o, NULL), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

static int run_vm_spawn(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_pid p;
    int rc = fx_vm_spawn(fx_ctx_vm(cx), bi_echo, NULL, &p);
    if (rc == 0)
        fx_exit(cx, p, fx_reason_kill());
    return rc;
}

Test(bi_spawn, vm_spawn_from_handler,
     .description = "fx_vm_spawn | from a handler | 0 (allowed)")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_vm_spawn, NULL), 0);
    bi_end(&t);
}

/* --- absurd receive timeouts ---------------------------------------------- */

static const int64_t ac_absurd[] = {20000000000000, INT64_MAX};

static fx_next recv_got(fx_ctx *cx, fx_msg *m)
{
    uint32_t type = fx_msg_type(m);
    fx_pid *owner = fx_state(cx);
    fx_send(cx, *owner, 11, &type, sizeof type);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next recv_long(fx_ctx *cx, fx_msg *m)
{
    return fx_receive(cx, recv_got, NULL, ac_absurd[fx_msg_type(m) - 1]);
}

Test(bi_actor, receive_absurd_timeout,
     .description = "fx_receive | timeout_ms 2e13, INT64_MAX | waits (the next message "
                    "is handed over, no TIMEOUT)")
{
    tvm t = bi_start();
    for (int i = 0; i < 2; i++) {
        fx_pid p;
        cr_assert_eq(fx_vm_spawn(t.vm, recv_long, &t.me, &p), 0);
        cr_assert_eq(fx_inbox_send(t.in, p, (uint32_t) i + 1, NULL, 0), 0);
        cr_assert_eq(fx_vm_send_after(t.vm, 5, p, 7, NULL, 0, NULL), 0);
        fx_msg *m = tvm_recv(&t, 11);
        cr_assert_eq(*(const uint32_t *) fx_msg_data(m), 7, "got type %x",
                     *(const uint32_t *) fx_msg_data(m));
        fx_msg_free(m);
    }
    bi_end(&t);
}
