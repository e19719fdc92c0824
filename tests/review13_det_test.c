/* review13: the outside-the-VM calls in deterministic mode
 * (docs/testing.md, "Deterministic mode": "A blocking call from the test
 * thread drives the VM: fx_inbox_recv (and every call built on it:
 * fx_gs_start, fx_gs_call, fx_sup_*, fx_register, ...) runs steps until
 * its message arrives"; a pool job "runs at once on the submitting
 * thread"). Each works from the test thread with no step of its own, and
 * the shutdown returns with terminate run once per server. An alarm
 * turns a hang into SIGALRM. */
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "helpers.h"

static atomic_int terms;

static fx_gs_ret echo_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                           const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) type;
    return fx_gs_reply(cx, data, size);
}

static void count_term(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm;
    (void) state;
    (void) reason;
    atomic_fetch_add(&terms, 1);
}

static const fx_gs_ops echo_ops = {
    .init = fx_gs_init_arg, .handle_call = echo_call, .terminate = count_term};

static int add_one(void *arg, fx_msg **result)
{
    (void) arg;
    *result = NULL;
    return 41 + 1;
}

Test(review13_det, outside_calls_drive_the_vm)
{
    atomic_store(&terms, 0);
    alarm(60);
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.deterministic = true;
    c.seed = 13;
    c.crash_logger = fx_crash_logger_silent;
    c.log_sink = fx_log_sink_silent;
    tvm t = tvm_start_with(&c);

    fx_gs_spec spec = {.ops = &echo_ops, .name = "r13echo"};
    fx_pid s;
    int rc = fx_gs_start(t.in, &spec, &s, NULL);
    cr_assert_eq(rc, 0, "fx_gs_start: %s", fx_strerror(rc));
    fx_msg *reply = NULL;
    rc = fx_gs_call(t.in, s, 1, "hi", 2, FX_INFINITY, &reply, NULL);
    cr_expect_eq(rc, 0, "fx_gs_call: %s", fx_strerror(rc));
    fx_msg_free(reply);
    reply = NULL;
    rc = fx_gs_call_named(t.in, "r13echo", 1, "hi", 2, FX_INFINITY, &reply, NULL);
    cr_expect_eq(rc, 0, "fx_gs_call_named: %s", fx_strerror(rc));
    fx_msg_free(reply);

    /* A supervisor with one server child. */
    static const fx_gs_spec child = {.ops = &echo_ops};
    fx_child_spec kid;
    memset(&kid, 0, sizeof kid);
    strcpy(kid.id, "echo");
    kid.start = fx_child_gen_server;
    kid.carg = &child;
    fx_sup_spec ss;
    fx_sup_spec_init(&ss);
    ss.children = &kid;
    ss.nchildren = 1;
    fx_pid sup;
    rc = fx_sup_start(t.in, &ss, &sup, NULL);
    cr_expect_eq(rc, 0, "fx_sup_start: %s", fx_strerror(rc));
    fx_child_counts cnt;
    if (rc == 0) {
        rc = fx_sup_count_children(t.in, sup, &cnt, FX_INFINITY);
        cr_expect_eq(rc, 0, "fx_sup_count_children: %s", fx_strerror(rc));
    }

    /* Tasks from outside, on the pool and on the scheduler. */
    for (int blocking = 0; blocking < 2; blocking++) {
        fx_task_opts o = {.fn = add_one, .blocking = blocking};
        int status = 0;
        fx_msg *res = NULL;
        rc = fx_vm_task_run(t.vm, &o, FX_INFINITY, &status, &res);
        cr_expect_eq(rc, 0, "fx_vm_task_run (blocking %d): %s", blocking,
                     fx_strerror(rc));
        cr_expect_eq(status, 42);
        fx_msg_free(res);
    }

    fx_inbox_destroy(t.in);
    rc = fx_vm_shutdown(t.vm);
    cr_expect_eq(rc, 0, "fx_vm_shutdown: %s", fx_strerror(rc));
    cr_expect_eq(atomic_load(&terms), 2, "terminate ran %d times for 2 servers",
                 atomic_load(&terms));
    fx_vm_destroy(t.vm);
    alarm(0);
}
