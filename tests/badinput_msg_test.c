/* Bad-input table: msg.h and the send/reply half of actor.h.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

/* --- msg.h ------------------------------------------------------------------ */

Test(bi_msg, new_null_out, .description = "fx_msg_new | out NULL | FX_EINVAL")
{
    bi_expect(fx_msg_new(1, 8, NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_msg, new_reserved_type,
     .description = "fx_msg_new | reserved type (FX_MSG_SYSTEM_BASE, FX_MSG_EXIT, "
                    "behaviour, internal) | FX_EINVAL, *out NULL")
{
    uint32_t types[] = {FX_MSG_SYSTEM_BASE, FX_MSG_EXIT, FX_MSG_BEHAVIOUR_BASE,
                        FX_MSG_INTERNAL_BASE, UINT32_MAX};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        fx_msg *m = (fx_msg *) 1;
        bi_expect(fx_msg_new(types[i], 8, &m), FX_EINVAL);
        cr_assert_null(m);
    }
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_msg, new_oversized,
     .description = "fx_msg_new | size FX_MSG_SIZE_LIMIT + 1, SIZE_MAX | FX_EMSGSIZE")
{
    fx_msg *m;
    bi_expect(fx_msg_new(1, (size_t) FX_MSG_SIZE_LIMIT + 1, &m), FX_EMSGSIZE);
    bi_expect(fx_msg_new(1, SIZE_MAX, &m), FX_EMSGSIZE);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_msg, new_zero_size, .description = "fx_msg_new | size 0 | 0, an empty message")
{
    fx_msg *m = NULL;
    bi_expect(fx_msg_new(1, 0, &m), 0);
    cr_assert_eq(fx_msg_size(m), 0);
    fx_msg_free(m);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_msg, new_behaviour_bad_type,
     .description =
         "fx_msg_new_behaviour | user type, system type, internal type | FX_EINVAL")
{
    uint32_t types[] = {1, FX_MSG_EXIT, FX_MSG_INTERNAL_BASE, UINT32_MAX};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        fx_msg *m = (fx_msg *) 1;
        bi_expect(fx_msg_new_behaviour(types[i], 8, &m), FX_EINVAL);
    }
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_msg, new_behaviour_null_out,
     .description = "fx_msg_new_behaviour | out NULL | FX_EINVAL")
{
    bi_expect(fx_msg_new_behaviour(FX_MSG_BEHAVIOUR_BASE, 8, NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_msg, new_behaviour_oversized,
     .description = "fx_msg_new_behaviour | size SIZE_MAX | FX_EMSGSIZE")
{
    fx_msg *m;
    bi_expect(fx_msg_new_behaviour(FX_MSG_BEHAVIOUR_BASE, SIZE_MAX, &m), FX_EMSGSIZE);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_msg, free_null, .description = "fx_msg_free | msg NULL | ignored")
{
    fx_msg_free(NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_msg, accessors_null,
     .description = "fx_msg_type, fx_msg_size, fx_msg_data, fx_msg_data_mut, "
                    "fx_msg_from, fx_msg_ref, fx_msg_set_ref | msg NULL | 0 / NULL / "
                    "none, ignored (header silent)")
{
    cr_assert_eq(fx_msg_type(NULL), 0);
    cr_assert_eq(fx_msg_size(NULL), 0);
    cr_assert_null(fx_msg_data(NULL));
    cr_assert_null(fx_msg_data_mut(NULL));
    cr_assert(fx_pid_is_none(fx_msg_from(NULL)));
    cr_assert_eq(fx_msg_ref(NULL).id, 0);
    fx_msg_set_ref(NULL, (fx_ref){1});
    tvm t = bi_start();
    bi_end(&t);
}

/* --- fx_send / fx_send_msg (inside a handler) -------------------------------- */

typedef struct send_arg {
    fx_pid to;
    uint32_t type;
    const void *data;
    size_t size;
    fx_msg *msg;
    fx_from from;
} send_arg;

static int run_send(fx_ctx *cx, void *arg)
{
    send_arg *a = arg;
    return fx_send(cx, a->to, a->type, a->data, a->size);
}

static int run_send_msg(fx_ctx *cx, void *arg)
{
    send_arg *a = arg;
    return fx_send_msg(cx, a->to, a->msg);
}

static int run_reply(fx_ctx *cx, void *arg)
{
    send_arg *a = arg;
    return fx_reply(cx, a->from, a->data, a->size);
}

/* Room for the largest oversized row: a reply may carry up to
 * FX_MSG_ENVELOPE_MAX bytes past max_msg_size (msg.h). */
static char bi_big[BI_MAX_MSG + FX_MSG_ENVELOPE_MAX + 1];

Test(bi_send, null_cx,
     .description = "fx_send | cx NULL (called outside a handler) | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_send(NULL, t.me, 1, "x", 1), FX_EINVAL);
    bi_end(&t);
}

Test(bi_send, null_data, .description = "fx_send | data NULL, size 8 | FX_EINVAL")
{
    tvm t = bi_start();
    send_arg a = {.to = t.me, .type = 1, .data = NULL, .size = 8};
    bi_expect(bi_in_handler(&t, run_send, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_send, reserved_type,
     .description =
         "fx_send | reserved type (FX_MSG_EXIT, behaviour, internal) | FX_EINVAL")
{
    tvm t = bi_start();
    uint32_t types[] = {FX_MSG_EXIT, FX_MSG_REPLY, FX_MSG_BEHAVIOUR_BASE,
                        FX_MSG_INTERNAL_BASE};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        send_arg a = {.to = t.me, .type = types[i], .data = "x", .size = 1};
        bi_expect(bi_in_handler(&t, run_send, &a), FX_EINVAL);
    }
    bi_end(&t);
}

Test(bi_send, oversized, .description = "fx_send | size max_msg_size + 1 | FX_EMSGSIZE")
{
    tvm t = bi_start();
    send_arg a = {.to = t.me, .type = 1, .data = bi_big, .size = BI_MAX_MSG + 1};
    bi_expect(bi_in_handler(&t, run_send, &a), FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_send, exactly_max,
     .description = "fx_send | size exactly max_msg_size | 0, delivered")
{
    tvm t = bi_start();
    send_arg a = {.to = t.me, .type = 9, .data = bi_big, .size = BI_MAX_MSG};
    bi_expect(bi_in_handler(&t, run_send, &a), 0);
    fx_msg *m = tvm_recv(&t, 9);
    cr_assert_eq(fx_msg_size(m), BI_MAX_MSG);
    fx_msg_free(m);
    bi_end(&t);
}

Test(bi_send, zero_size,
     .description = "fx_send | data NULL, size 0 | 0, an empty message delivered")
{
    tvm t = bi_start();
    send_arg a = {.to = t.me, .type = 9, .data = NULL, .size = 0};
    bi_expect(bi_in_handler(&t, run_send, &a), 0);
    fx_msg *m = tvm_recv(&t, 9);
    cr_assert_eq(fx_msg_size(m), 0);
    fx_msg_free(m);
    bi_end(&t);
}

Test(
    bi_send, bad_pids,
    .description = "fx_send | stale pid, garbage pid, FX_PID_NONE | FX_ENOPROC (dropped)")
{
    tvm t = bi_start();
    fx_pid pids[] = {bi_stale(&t), BI_GARBAGE_PID, FX_PID_NONE};
    for (size_t i = 0; i < 3; i++) {
        send_arg a = {.to = pids[i], .type = 1, .data = "x", .size = 1};
        bi_expect(bi_in_handler(&t, run_send, &a), FX_ENOPROC);
    }
    bi_end(&t);
}

Test(bi_send, msg_null_cx,
     .description = "fx_send_msg | cx NULL | FX_EINVAL, caller keeps msg")
{
    tvm t = bi_start();
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 8, &m), 0);
    bi_expect(fx_send_msg(NULL, t.me, m), FX_EINVAL);
    fx_msg_free(m);
    bi_end(&t);
}

Test(bi_send, msg_null_msg,
     .description = "fx_send_msg | msg NULL | FX_EINVAL (header lists no code for it)")
{
    tvm t = bi_start();
    send_arg a = {.to = t.me, .msg = NULL};
    bi_expect(bi_in_handler(&t, run_send_msg, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_send, msg_oversized,
     .description =
         "fx_send_msg | message over max_msg_size | FX_EMSGSIZE, caller keeps msg")
{
    tvm t = bi_start();
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, BI_MAX_MSG + 1, &m), 0);
    send_arg a = {.to = t.me, .msg = m};
    bi_expect(bi_in_handler(&t, run_send_msg, &a), FX_EMSGSIZE);
    fx_msg_free(m);
    bi_end(&t);
}

Test(bi_send, msg_stale,
     .description = "fx_send_msg | stale pid | FX_ENOPROC, runtime took msg")
{
    tvm t = bi_start();
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 8, &m), 0);
    send_arg a = {.to = bi_stale(&t), .msg = m};
    bi_expect(bi_in_handler(&t, run_send_msg, &a), FX_ENOPROC);
    bi_end(&t);
}

/* --- fx_vm_send / fx_vm_send_msg (any thread) -------------------------------- */

Test(bi_vm_send, null_vm, .description = "fx_vm_send | vm NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_vm_send(NULL, t.me, 1, "x", 1), FX_EINVAL);
    bi_end(&t);
}

Test(bi_vm_send, null_data, .description = "fx_vm_send | data NULL, size 8 | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_vm_send(t.vm, t.me, 1, NULL, 8), FX_EINVAL);
    bi_end(&t);
}

Test(bi_vm_send, reserved_type, .description = "fx_vm_send | reserved type | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_vm_send(t.vm, t.me, FX_MSG_DOWN, "x", 1), FX_EINVAL);
    bi_expect(fx_vm_send(t.vm, t.me, FX_MSG_BEHAVIOUR_BASE, "x", 1), FX_EINVAL);
    bi_expect(fx_vm_send(t.vm, t.me, UINT32_MAX, "x", 1), FX_EINVAL);
    bi_end(&t);
}

Test(bi_vm_send, oversized,
     .description = "fx_vm_send | size max_msg_size + 1, SIZE_MAX | FX_EMSGSIZE")
{
    tvm t = bi_start();
    bi_expect(fx_vm_send(t.vm, t.me, 1, bi_big, BI_MAX_MSG + 1), FX_EMSGSIZE);
    bi_expect(fx_vm_send(t.vm, t.me, 1, bi_big, SIZE_MAX), FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_vm_send, zero_size,
     .description = "fx_vm_send | data NULL, size 0 | 0, delivered")
{
    tvm t = bi_start();
    bi_expect(fx_vm_send(t.vm, t.me, 9, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, 9);
    cr_assert_eq(fx_msg_size(m), 0);
    fx_msg_free(m);
    bi_end(&t);
}

Test(bi_vm_send, bad_pids,
     .description = "fx_vm_send | stale pid, garbage pid, FX_PID_NONE | FX_ENOPROC")
{
    tvm t = bi_start();
    bi_expect(fx_vm_send(t.vm, bi_stale(&t), 1, "x", 1), FX_ENOPROC);
    bi_expect(fx_vm_send(t.vm, BI_GARBAGE_PID, 1, "x", 1), FX_ENOPROC);
    bi_expect(fx_vm_send(t.vm, FX_PID_NONE, 1, "x", 1), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_vm_send, after_shutdown,
     .description = "fx_vm_send | after shutdown | FX_ESHUTDOWN")
{
    fx_pid p;
    fx_vm *vm = bi_dead_vm(&p);
    bi_expect(fx_vm_send(vm, p, 1, "x", 1), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm_send, msg_null,
     .description = "fx_vm_send_msg | vm NULL, msg NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 8, &m), 0);
    bi_expect(fx_vm_send_msg(NULL, t.me, m), FX_EINVAL);
    fx_msg_free(m);
    bi_expect(fx_vm_send_msg(t.vm, t.me, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_vm_send, msg_oversized,
     .description =
         "fx_vm_send_msg | message over max_msg_size | FX_EMSGSIZE, caller keeps msg")
{
    tvm t = bi_start();
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, BI_MAX_MSG + 1, &m), 0);
    bi_expect(fx_vm_send_msg(t.vm, t.me, m), FX_EMSGSIZE);
    fx_msg_free(m);
    bi_end(&t);
}

Test(bi_vm_send, msg_after_shutdown,
     .description = "fx_vm_send_msg | after shutdown | FX_ESHUTDOWN, caller keeps msg")
{
    fx_pid p;
    fx_vm *vm = bi_dead_vm(&p);
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 8, &m), 0);
    bi_expect(fx_vm_send_msg(vm, p, m), FX_ESHUTDOWN);
    fx_msg_free(m);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm_send, msg_stale,
     .description = "fx_vm_send_msg | stale pid | FX_ENOPROC, runtime took msg")
{
    tvm t = bi_start();
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 8, &m), 0);
    bi_expect(fx_vm_send_msg(t.vm, bi_stale(&t), m), FX_ENOPROC);
    bi_end(&t);
}

/* --- fx_reply / fx_vm_reply --------------------------------------------------- */

Test(bi_reply, null_cx, .description = "fx_reply | cx NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_from f = {t.me, {1}};
    bi_expect(fx_reply(NULL, f, "x", 1), FX_EINVAL);
    bi_end(&t);
}

Test(bi_reply, empty_to,
     .description = "fx_reply | empty from (no pid, no ref) | FX_EINVAL")
{
    tvm t = bi_start();
    send_arg a = {.from = {FX_PID_NONE, FX_REF_NONE}, .data = "x", .size = 1};
    bi_expect(bi_in_handler(&t, run_reply, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_reply, null_data, .description = "fx_reply | data NULL, size 8 | FX_EINVAL")
{
    tvm t = bi_start();
    send_arg a = {.from = {t.me, {1}}, .data = NULL, .size = 8};
    bi_expect(bi_in_handler(&t, run_reply, &a), FX_EINVAL);
    bi_end(&t);
}

Test(
    bi_reply, oversized,
    .description = "fx_reply | size max_msg_size + FX_MSG_ENVELOPE_MAX + 1 | FX_EMSGSIZE")
{
    tvm t = bi_start();
    send_arg a = {.from = {t.me, {1}},
                  .data = bi_big,
                  .size = BI_MAX_MSG + FX_MSG_ENVELOPE_MAX + 1};
    bi_expect(bi_in_handler(&t, run_reply, &a), FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_reply, caller_gone, .description = "fx_reply | caller's pid stale | FX_ENOPROC")
{
    tvm t = bi_start();
    send_arg a = {.from = {bi_stale(&t), {1}}, .data = "x", .size = 1};
    bi_expect(bi_in_handler(&t, run_reply, &a), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_reply, vm_null,
     .description = "fx_vm_reply | vm NULL; empty from; data NULL size 8 | FX_EINVAL")
{
    tvm t = bi_start();
    fx_from f = {t.me, {1}};
    bi_expect(fx_vm_reply(NULL, f, "x", 1), FX_EINVAL);
    bi_expect(fx_vm_reply(t.vm, (fx_from){FX_PID_NONE, FX_REF_NONE}, "x", 1), FX_EINVAL);
    bi_expect(fx_vm_reply(t.vm, f, NULL, 8), FX_EINVAL);
    bi_end(&t);
}

Test(bi_reply, vm_oversized,
     .description =
         "fx_vm_reply | size max_msg_size + FX_MSG_ENVELOPE_MAX + 1 | FX_EMSGSIZE")
{
    tvm t = bi_start();
    fx_from f = {t.me, {1}};
    bi_expect(fx_vm_reply(t.vm, f, bi_big, BI_MAX_MSG + FX_MSG_ENVELOPE_MAX + 1),
              FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_reply, vm_stale, .description = "fx_vm_reply | caller's pid stale | FX_ENOPROC")
{
    tvm t = bi_start();
    fx_from f = {bi_stale(&t), {1}};
    bi_expect(fx_vm_reply(t.vm, f, "x", 1), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_reply, vm_after_shutdown,
     .description = "fx_vm_reply | after shutdown | FX_ESHUTDOWN")
{
    fx_pid p;
    fx_vm *vm = bi_dead_vm(&p);
    bi_expect(fx_vm_reply(vm, (fx_from){p, {1}}, "x", 1), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}
