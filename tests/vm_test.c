#include "helpers.h"

#include <unistd.h>

Test(vm, create_start_shutdown_destroy)
{
    tvm t = tvm_start(2);
    cr_assert_eq(fx_vm_threads(t.vm), 2);
    tvm_stop(&t);
}

Test(vm, default_config_uses_every_core)
{
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(NULL, &vm), 0);
    cr_assert_eq(fx_vm_threads(vm), (uint32_t) sysconf(_SC_NPROCESSORS_ONLN));
    fx_vm_destroy(vm); /* never started: destroy alone is enough */
}

Test(vm, bad_config_is_rejected)
{
    fx_vm *vm = (fx_vm *) 1;
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.version = 99;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EVERSION);
    cr_assert_null(vm);
    fx_vm_config_init(&c);
    c.threads = 5000;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    cr_assert_eq(fx_vm_create(NULL, NULL), FX_EINVAL);
    cr_assert_eq(fx_vm_start(NULL), FX_EINVAL);
    cr_assert_eq(fx_vm_shutdown(NULL), FX_EINVAL);
    fx_vm_destroy(NULL);
}

Test(vm, start_twice_is_an_error)
{
    tvm t = tvm_start(1);
    cr_assert_eq(fx_vm_start(t.vm), FX_EINVAL);
    tvm_stop(&t);
}

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), fx_msg_type(m), fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

Test(vm, several_vms_in_one_process)
{
    tvm a = tvm_start(1), b = tvm_start(2);
    fx_pid pa, pb;
    cr_assert_eq(fx_vm_spawn(a.vm, echo, NULL, &pa), 0);
    cr_assert_eq(fx_vm_spawn(b.vm, echo, NULL, &pb), 0);
    uint64_t va = 1, vb = 2;
    cr_assert_eq(fx_inbox_send(a.in, pa, 5, &va, sizeof va), 0);
    cr_assert_eq(fx_inbox_send(b.in, pb, 5, &vb, sizeof vb), 0);
    cr_assert_eq(tvm_recv_u64(&a, 5), 1);
    cr_assert_eq(tvm_recv_u64(&b, 5), 2);
    tvm_stop(&a);
    tvm_stop(&b);
}

Test(vm, calls_after_shutdown_fail_cleanly)
{
    tvm t = tvm_start(2);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, echo, NULL, &p), 0);
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0); /* idempotent */
    cr_assert_eq(fx_vm_send(t.vm, p, 1, NULL, 0), FX_ESHUTDOWN);
    cr_assert_eq(fx_vm_spawn(t.vm, echo, NULL, &p), FX_ESHUTDOWN);
    fx_inbox *in;
    cr_assert_eq(fx_inbox_create(t.vm, &in), FX_ESHUTDOWN);
    cr_assert_eq(fx_vm_send_after(t.vm, 1, p, 1, NULL, 0, NULL), FX_ESHUTDOWN);
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 8, &m), 0);
    cr_assert_eq(fx_vm_send_msg(t.vm, p, m), FX_ESHUTDOWN);
    fx_msg_free(m); /* a failed send leaves the message with the caller */
    cr_assert_eq(fx_is_alive(t.vm, p), 0);
    fx_vm_destroy(t.vm);
}

static void count_cleanup(void *state, const fx_reason *why)
{
    (void) why;
    __atomic_fetch_add((int *) state, 1, __ATOMIC_RELAXED);
}

static fx_next sleepy(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

/* Waits for a type nobody sends: everything else piles up, saved. */
static fx_next wait_forever(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_match never = {.type = 999};
    return fx_receive(cx, sleepy, &never, FX_INFINITY);
}

/* Processes alive at shutdown exit with reason shutdown; messages still
 * queued are freed (the ASan build checks nothing leaks). */
Test(vm, shutdown_with_queued_messages_frees_everything)
{
    tvm t = tvm_start(2);
    static int cleaned;
    for (int i = 0; i < 100; i++) {
        fx_spawn_opts o = {.init = wait_forever,
                           .handler = sleepy,
                           .state = &cleaned,
                           .cleanup = count_cleanup};
        fx_pid p;
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
        for (int k = 0; k < 50; k++)
            cr_assert_eq(fx_vm_send(t.vm, p, 1, "payload", 8), 0);
    }
    fx_vm_stats st;
    fx_vm_stats_get(t.vm, &st);
    cr_assert_eq(st.processes, 100);
    tvm_stop(&t);
    cr_assert_eq(cleaned, 100);
}
