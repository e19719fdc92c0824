/* Bad-input table: pool.h and task.h.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

static int noop_fn(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    return 0;
}

Test(bi_task, pool_submit_null,
     .description = "fx_pool_submit | vm NULL; job NULL; job->fn NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_pool_job j = {.fn = noop_fn};
    bi_expect(fx_pool_submit(NULL, &j), FX_EINVAL);
    bi_expect(fx_pool_submit(t.vm, NULL), FX_EINVAL);
    j.fn = NULL;
    bi_expect(fx_pool_submit(t.vm, &j), FX_EINVAL);
    bi_end(&t);
}

Test(bi_task, pool_submit_dead_reply_to,
     .description = "fx_pool_submit | reply_to stale or garbage pid | 0, the outcome is "
                    "dropped (counted completed)")
{
    tvm t = bi_start();
    fx_pool_job j = {.fn = noop_fn, .reply_to = BI_GARBAGE_PID};
    bi_expect(fx_pool_submit(t.vm, &j), 0);
    j.reply_to = bi_stale(&t);
    bi_expect(fx_pool_submit(t.vm, &j), 0);
    fx_pool_stats st = {0};
    for (int i = 0; i < 10000 && st.completed < 2; i++) {
        cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
        usleep(1000);
    }
    cr_assert_eq(st.completed, 2);
    bi_end(&t);
}

Test(bi_task, pool_submit_after_shutdown,
     .description =
         "fx_pool_submit | VM shut down; VM created, not started | FX_ESHUTDOWN")
{
    fx_vm *dead = bi_dead_vm(NULL);
    fx_pool_job j = {.fn = noop_fn};
    bi_expect(fx_pool_submit(dead, &j), FX_ESHUTDOWN);
    fx_vm_destroy(dead);
    fx_vm *vm;
    fx_vm_config c = bi_config();
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    bi_expect(fx_pool_submit(vm, &j), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
}

Test(bi_task, pool_stats_null,
     .description = "fx_pool_stats_get | vm NULL; out NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_pool_stats st;
    bi_expect(fx_pool_stats_get(NULL, &st), FX_EINVAL);
    bi_expect(fx_pool_stats_get(t.vm, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_task, outcome_get_bad_msg,
     .description = "fx_outcome_get | msg NULL; another type; payload shorter than the "
                    "header or sizes that disagree | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_outcome_get(NULL, NULL, NULL), FX_EINVAL);
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, sizeof(fx_outcome), &m), 0);
    memset(fx_msg_data_mut(m), 0, sizeof(fx_outcome));
    bi_expect(fx_outcome_get(m, NULL, NULL), FX_EINVAL);
    fx_msg_free(m);
    cr_assert_eq(fx_msg_new_behaviour(FX_MSG_POOL_DONE, 4, &m), 0);
    bi_expect(fx_outcome_get(m, NULL, NULL), FX_EINVAL);
    fx_msg_free(m);
    cr_assert_eq(fx_msg_new_behaviour(FX_MSG_POOL_DONE, sizeof(fx_outcome), &m), 0);
    fx_outcome h = {.size = 99};
    memcpy(fx_msg_data_mut(m), &h, sizeof h);
    bi_expect(fx_outcome_get(m, NULL, NULL), FX_EINVAL);
    fx_msg_free(m);
    bi_end(&t);
}

static int run_async_bad(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_task task;
    fx_task_opts o = {.fn = noop_fn};
    int rc = fx_task_async(cx, NULL, &task);
    if (rc != FX_EINVAL)
        return rc;
    if ((rc = fx_task_async(cx, &o, NULL)) != FX_EINVAL)
        return rc;
    o.fn = NULL;
    return fx_task_async(cx, &o, &task);
}

Test(bi_task, task_async_null,
     .description =
         "fx_task_async | cx NULL; opts NULL; out NULL; opts->fn NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_task task;
    fx_task_opts o = {.fn = noop_fn};
    bi_expect(fx_task_async(NULL, &o, &task), FX_EINVAL);
    bi_expect(bi_in_handler(&t, run_async_bad, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_task, task_await_null,
     .description = "fx_task_await, fx_task_many_await | cx NULL; m NULL | the invalid "
                    "fx_next of fx_stop(NULL, ...)")
{
    fx_next bad = fx_stop(NULL, fx_reason_normal());
    fx_task task = {{1}, {1}};
    fx_task_many m;
    cr_assert_eq(fx_task_many_init(&m, &task, (fx_msg *[1]){0}, 1, 10), 0);
    cr_assert_eq(fx_task_await(NULL, task, bi_echo, 10).op, bad.op);
    cr_assert_eq(fx_task_many_await(NULL, &m, bi_echo).op, bad.op);
    cr_assert_eq(fx_task_many_await(NULL, NULL, bi_echo).op, bad.op);
    tvm t = bi_start();
    bi_end(&t);
}

static int run_result_get(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_task task = {{1}, {12345}};
    fx_task_result r;
    fx_msg *m;
    int rc = fx_msg_new(1, 0, &m);
    if (rc)
        return rc;
    if ((rc = fx_task_result_get(cx, task, NULL, &r)) != FX_EINVAL ||
        (rc = fx_task_result_get(cx, task, m, NULL)) != FX_EINVAL) {
        fx_msg_free(m);
        return rc;
    }
    rc = fx_task_result_get(cx, task, m, &r);
    fx_msg_free(m);
    return rc;
}

Test(bi_task, task_result_get_bad,
     .description = "fx_task_result_get | cx, msg or out NULL; a message about something "
                    "else | FX_EINVAL; FX_ENOENT")
{
    tvm t = bi_start();
    fx_task task = {{1}, {1}};
    fx_task_result r;
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 0, &m), 0);
    bi_expect(fx_task_result_get(NULL, task, m, &r), FX_EINVAL);
    fx_msg_free(m);
    bi_expect(bi_in_handler(&t, run_result_get, NULL), FX_ENOENT);
    bi_end(&t);
}

static int run_cancel(fx_ctx *cx, void *arg)
{
    fx_task task = {*(fx_pid *) arg, {777}};
    int rc = fx_task_cancel(cx, task);
    if (rc != FX_ENOENT)
        return rc;
    return fx_task_cancel(cx, (fx_task){FX_PID_NONE, FX_REF_NONE});
}

Test(bi_task, task_cancel_bad,
     .description = "fx_task_cancel | cx NULL; a stale pid or unknown ref; the zero task "
                    "| FX_EINVAL; FX_ENOENT, nothing killed")
{
    tvm t = bi_start();
    bi_expect(fx_task_cancel(NULL, (fx_task){{1}, {1}}), FX_EINVAL);
    fx_pid stale = bi_stale(&t);
    bi_expect(bi_in_handler(&t, run_cancel, &stale), FX_ENOENT);
    bi_end(&t);
}

Test(bi_task, task_many_bad,
     .description =
         "fx_task_many_init, fx_task_many_put, fx_task_many_result, "
         "fx_task_many_fini | NULL set or arrays; index >= n; NULL | FX_EINVAL; "
         "fini ignores NULL")
{
    fx_task task = {{1}, {1}};
    fx_msg *slot[1];
    fx_task_many m;
    fx_task_result r;
    bi_expect(fx_task_many_init(NULL, &task, slot, 1, 0), FX_EINVAL);
    bi_expect(fx_task_many_init(&m, NULL, slot, 1, 0), FX_EINVAL);
    bi_expect(fx_task_many_init(&m, &task, NULL, 1, 0), FX_EINVAL);
    cr_assert_eq(fx_task_many_init(&m, &task, slot, 1, 0), 0);
    bi_expect(fx_task_many_put(NULL, &m, NULL), FX_EINVAL);
    bi_expect(fx_task_many_result(&m, 1, &r), FX_EINVAL);
    bi_expect(fx_task_many_result(NULL, 0, &r), FX_EINVAL);
    bi_expect(fx_task_many_result(&m, 0, NULL), FX_EINVAL);
    bi_expect(fx_task_many_result(&m, 0, &r), FX_ENOENT);
    fx_task_many_fini(NULL);
    fx_task_many_fini(&m);
    tvm t = bi_start();
    bi_end(&t);
}

static int run_task_run(tvm *t)
{
    int st;
    fx_msg *res;
    fx_task_opts o = {.fn = noop_fn};
    int rc = fx_vm_task_run(NULL, &o, 10, &st, &res);
    if (rc != FX_EINVAL)
        return 1;
    if (fx_vm_task_run(t->vm, NULL, 10, &st, &res) != FX_EINVAL ||
        fx_vm_task_run(t->vm, &o, 10, NULL, &res) != FX_EINVAL ||
        fx_vm_task_run(t->vm, &o, 10, &st, NULL) != FX_EINVAL)
        return 1;
    o.fn = NULL;
    return fx_vm_task_run(t->vm, &o, 10, &st, &res);
}

Test(bi_task, vm_task_run_bad,
     .description = "fx_vm_task_run | vm, opts, status or result NULL; opts->fn NULL; VM "
                    "shut down | FX_EINVAL; FX_ESHUTDOWN")
{
    tvm t = bi_start();
    bi_expect(run_task_run(&t), FX_EINVAL);
    fx_vm *dead = bi_dead_vm(NULL);
    int st;
    fx_msg *res;
    fx_task_opts o = {.fn = noop_fn};
    bi_expect(fx_vm_task_run(dead, &o, 10, &st, &res), FX_ESHUTDOWN);
    fx_vm_destroy(dead);
    bi_end(&t);
}
