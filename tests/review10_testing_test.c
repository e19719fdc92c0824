/* review10: a deterministic step that answers 1 but calls no handler. */
#include <fauxtp/testing.h>
#include <stdlib.h>

#include "helpers.h"

static int calls;
static fx_pid sink_pid;

static fx_next sink(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    calls++;
    return fx_continue(cx);
}

/* One message in: sends 1,100 to the sink (more than run.c's SEND_BUDGET
 * of 1,024), so its run ends by the budget's break, not the idle check. */
static fx_next flooder(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    calls++;
    for (int i = 0; i < 1100; i++)
        (void) fx_send(cx, sink_pid, 1, NULL, 0);
    return fx_continue(cx);
}

Test(review10_testing, send_budget_step_calls_a_handler, .timeout = 60)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.deterministic = true;
    c.seed = 3;
    fx_vm *vm = NULL;
    cr_assert_eq(fx_test_vm_create(&c, NULL, &vm), 0);
    fx_pid f;
    cr_assert_eq(fx_vm_spawn(vm, sink, NULL, &sink_pid), 0);
    cr_assert_eq(fx_vm_spawn(vm, flooder, NULL, &f), 0);
    cr_assert_eq(fx_vm_send(vm, f, 1, NULL, 0), 0);
    int steps = 0, rc;
    while ((rc = fx_test_step(vm)) == 1 && steps < 10000)
        steps++;
    cr_assert_eq(rc, 0);
    cr_expect_eq(calls, 1101);
    cr_expect_eq(steps, calls, "%d steps answered 1, %d handler calls", steps, calls);
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    fx_vm_destroy(vm);
}
