/* review8: fx_app_run's exit reason and status when the root dies while
 * a stop request is already queued (SIGTERM or fx_app_stop racing a
 * crash of the tree). app.h:43: exit_reason "receives the root's exit
 * reason"; app.h:22-24: a root that exits other than normal/shutdown is
 * FX_APP_FAILED. */
#include <time.h>

#include "helpers.h"

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static fx_spawn_opts worker = {.handler = idle};

/* Runs on fx_app_run's thread before it waits: queues a stop, then kills
 * the root and waits until it is dead, so the stop is handled first and
 * finds the root gone. */
static void stop_then_kill(fx_vm *vm, fx_pid root, void *arg)
{
    (void) arg;
    cr_assert_eq(fx_app_stop(vm), 0);
    cr_assert_eq(fx_vm_exit(vm, root, fx_reason_kill()), 0);
    for (int i = 0; i < 10000 && fx_is_alive(vm, root) == 1; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    cr_assert_eq(fx_is_alive(vm, root), 0);
}

Test(review8_app, a_root_that_died_before_a_queued_stop_reports_its_reason)
{
    fx_child_spec kid;
    memset(&kid, 0, sizeof kid);
    strncpy(kid.id, "w", sizeof kid.id - 1);
    kid.start = fx_child_actor;
    kid.arg = &worker;
    fx_app_spec a;
    memset(&a, 0, sizeof a);
    fx_sup_spec_init(&a.root);
    a.root.children = &kid;
    a.root.nchildren = 1;
    a.no_signals = true;
    a.on_start = stop_then_kill;
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.crash_logger = fx_crash_logger_silent;
    a.vm = &c;
    fx_reason why = {0};
    a.exit_reason = &why;
    int st = fx_app_run(&a);
    char w[96];
    fx_reason_format(&why, w, sizeof w);
    fx_reason killed = fx_reason_killed();
    cr_assert(fx_reason_eq(&why, &killed), "exit_reason %s, expected killed", w);
    cr_assert_eq(st, FX_APP_FAILED, "status %d", st);
}
