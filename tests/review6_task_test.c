/* review6: task.h promises that the code breaks (each test fails today for
 * the reason its comment gives). */
#include "helpers.h"

enum { T_GO = 1, T_CALLED };

typedef struct many_st {
    fx_pid report;
    fx_task_many many;
} many_st;

static fx_next on_any(fx_ctx *cx, fx_msg *m)
{
    many_st *st = fx_state(cx);
    int64_t rc = fx_task_many_put(cx, &st->many, m); /* 1: all in (none pending) */
    (void) fx_send(cx, st->report, T_CALLED, &rc, sizeof rc);
    fx_task_many_fini(&st->many);
    return fx_continue(cx);
}

static fx_next start(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    many_st *st = fx_state(cx);
    /* An empty set (n == 0 is valid: fx_task_many_init refuses NULL
     * arrays only with n > 0), no deadline. */
    if (fx_task_many_init(&st->many, NULL, NULL, 0, FX_INFINITY) != 0)
        return fx_stop(cx, fx_reason_error(FX_EINVAL, "init"));
    return fx_task_many_await(cx, &st->many, on_any);
}

/* task.h:135-137 and :129-132: awaiting a set whose every task has its
 * outcome (here: the empty set, which fx_task_many_init accepts) waits
 * for a message that can never come: with no deadline the handler is
 * never called and the process hangs (task_many.c fx_task_many_await does
 * not look at m->pending). Elixir's Task.await_many([]) returns [] at
 * once. */
Test(review6_task, await_many_on_an_empty_set_does_not_hang, .timeout = 60)
{
    tvm t = tvm_start(2);
    many_st st = {.report = t.me};
    fx_pid p = spawn_state(t.vm, start, &st, sizeof st);
    cr_assert_eq(fx_vm_send(t.vm, p, T_GO, NULL, 0), 0);
    fx_match mt = {.type = T_CALLED};
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t.in, &mt, 10000, &m);
    cr_assert_eq(rc, 0, "fx_task_many_await on an empty set never called its handler");
    int64_t put = 0;
    memcpy(&put, fx_msg_data(m), sizeof put);
    cr_assert_eq(put, 1, "fx_task_many_put answered %lld, not 1 (all in)",
                 (long long) put);
    fx_msg_free(m);
    tvm_stop(&t);
}
