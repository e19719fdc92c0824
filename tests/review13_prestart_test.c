/* review13: calls on a VM created but not started yet, from the thread
 * that created it. vm.h:236-241: fx_vm_running is 0 "before fx_vm_start
 * ... when calls on the VM answer FX_ESHUTDOWN"; each header's "not
 * running" code applies, nothing blocks (inbox.h:59-62: a receive with
 * nothing queued answers FX_ESHUTDOWN when the VM is not running, even
 * with FX_INFINITY), and the VM starts normally afterwards. */
#include <signal.h>
#include <unistd.h>

#include "helpers.h"

static int nothing(void *arg, fx_msg **result)
{
    (void) arg;
    *result = NULL;
    return 0;
}

static const fx_gs_ops no_ops = {.init = fx_gs_init_arg};

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    (void) fx_send(cx, fx_msg_from(m), fx_msg_type(m), NULL, 0);
    return fx_continue(cx);
}

Test(review13_prestart, calls_before_start)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.log_sink = fx_log_sink_silent;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_expect_eq(fx_vm_running(vm), 0);
    fx_pid p = FX_PID_NONE;
    int rc = fx_vm_spawn(vm, echo, NULL, &p);
    cr_expect_eq(rc, FX_ESHUTDOWN, "fx_vm_spawn before start: %s", fx_strerror(rc));
    fx_pid fake = {((uint64_t) 1 << 48) | ((uint64_t) 1 << 24) | 5};
    cr_expect_eq(fx_vm_send(vm, fake, 1, NULL, 0), FX_ESHUTDOWN);
    cr_expect_eq(fx_vm_exit(vm, fake, fx_reason_kill()), FX_ESHUTDOWN);
    fx_timer tm;
    rc = fx_vm_send_after(vm, 10, fake, 1, NULL, 0, &tm);
    cr_expect_eq(rc, FX_ESHUTDOWN, "fx_vm_send_after before start: %s", fx_strerror(rc));
    fx_pool_job j = {.fn = nothing};
    cr_expect_eq(fx_pool_submit(vm, &j), FX_ESHUTDOWN);
    fx_task_opts o = {.fn = nothing};
    int status;
    fx_msg *res = NULL;
    cr_expect_eq(fx_vm_task_run(vm, &o, 1000, &status, &res), FX_ESHUTDOWN);
    int64_t left;
    cr_expect_eq(fx_vm_shutdown_time_left(vm, &left), FX_ENOENT);
    fx_proc_info pi = {.version = FX_PROC_INFO_VERSION};
    cr_expect_eq(fx_process_info(vm, fake, &pi), FX_ESHUTDOWN);
    uint64_t ql;
    cr_expect_eq(fx_vm_queue_len(vm, fake, &ql), FX_ESHUTDOWN);
    cr_expect_eq(fx_vm_send_named(vm, "x", 1, NULL, 0), FX_ESHUTDOWN);
    char buf[256];
    cr_expect_geq(fx_vm_metrics_text(vm, buf, sizeof buf), 0);

    fx_inbox *in = NULL;
    rc = fx_inbox_create(vm, &in);
    cr_expect(rc == 0 || rc == FX_ESHUTDOWN, "fx_inbox_create before start: %s",
              fx_strerror(rc));
    if (rc == 0) {
        fx_msg *m = NULL;
        alarm(20); /* a hang becomes SIGALRM */
        rc = fx_inbox_recv(in, NULL, FX_INFINITY, &m);
        alarm(0);
        cr_expect_eq(rc, FX_ESHUTDOWN, "fx_inbox_recv before start: %s", fx_strerror(rc));
        fx_msg *reply = NULL;
        alarm(20);
        rc = fx_gs_call(in, fake, 1, NULL, 0, FX_INFINITY, &reply, NULL);
        alarm(0);
        cr_expect_eq(rc, FX_ESHUTDOWN, "fx_gs_call before start: %s", fx_strerror(rc));
        fx_gs_spec spec = {.ops = &no_ops};
        fx_pid s;
        alarm(20);
        rc = fx_gs_start(in, &spec, &s, NULL);
        alarm(0);
        cr_expect_eq(rc, FX_ESHUTDOWN, "fx_gs_start before start: %s", fx_strerror(rc));
        alarm(20);
        rc = fx_register(in, "r13pre", fake, NULL);
        alarm(0);
        cr_expect_eq(rc, FX_ESHUTDOWN, "fx_register before start: %s", fx_strerror(rc));
    }

    /* Then the VM starts and works. */
    cr_assert_eq(fx_vm_start(vm), 0);
    if (!in)
        cr_assert_eq(fx_inbox_create(vm, &in), 0);
    cr_assert_eq(fx_vm_spawn(vm, echo, NULL, &p), 0);
    cr_assert_eq(fx_inbox_send(in, p, 4, NULL, 0), 0);
    fx_match mt = {.type = 4};
    fx_msg *m = NULL;
    cr_expect_eq(fx_inbox_recv(in, &mt, 10000, &m), 0);
    fx_msg_free(m);
    cr_expect_eq(fx_inbox_destroy(in), 0);
    cr_expect_eq(fx_vm_shutdown(vm), 0);
    fx_vm_destroy(vm);
}
