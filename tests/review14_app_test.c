/* review14: fx_app_run, second pass. app.h:25 says FX_APP_NOSTART covers
 * "bad spec, VM or root supervisor failed to start", and app.h:42 that
 * "a failed start's reason goes to *spec->exit_reason". */
#include "helpers.h"

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static fx_spawn_opts worker = {.handler = idle};

static fx_app_spec one_worker(fx_child_spec *kid, fx_vm_config *c)
{
    memset(kid, 0, sizeof *kid);
    strncpy(kid->id, "w", sizeof kid->id - 1);
    kid->start = fx_child_actor;
    kid->arg = &worker;
    fx_app_spec a;
    memset(&a, 0, sizeof a);
    fx_sup_spec_init(&a.root);
    a.root.children = kid;
    a.root.nchildren = 1;
    a.no_signals = true;
    fx_vm_config_init(c);
    c->crash_logger = fx_crash_logger_silent;
    a.vm = c;
    return a;
}

/* A VM that cannot be created (a config of an unknown version): the start
 * failed, so its reason must reach exit_reason (an error naming the code),
 * not leave the caller's variable as it was. */
Test(review14_app, a_vm_that_fails_to_start_reports_its_reason)
{
    fx_child_spec kid;
    fx_vm_config c;
    fx_app_spec a = one_worker(&kid, &c);
    c.version = 999;
    fx_reason why = fx_reason_normal();
    a.exit_reason = &why;
    cr_assert_eq(fx_app_run(&a), FX_APP_NOSTART);
    char w[96];
    fx_reason_format(&why, w, sizeof w);
    cr_assert_eq(why.kind, FX_REASON_ERROR, "exit_reason %s: not set by the failed start",
                 w);
    cr_assert_eq(why.code, FX_EVERSION, "exit_reason %s", w);
}

/* The same for a bad root spec: the reason is an error (FX_EINVAL). */
Test(review14_app, a_bad_root_spec_reports_einval)
{
    fx_child_spec kid;
    fx_vm_config c;
    fx_app_spec a = one_worker(&kid, &c);
    a.root.period_ms = 0;
    fx_reason why = fx_reason_normal();
    a.exit_reason = &why;
    cr_assert_eq(fx_app_run(&a), FX_APP_NOSTART);
    cr_assert_eq(why.kind, FX_REASON_ERROR);
    cr_assert_eq(why.code, FX_EINVAL);
}

/* A root stopped with reason normal (fx_gs_stop_server from on_start):
 * app.h:20-21, FX_APP_OK, and exit_reason gets normal. */
static void stop_normal(fx_vm *vm, fx_pid root, void *arg)
{
    (void) arg;
    fx_inbox *in;
    cr_assert_eq(fx_inbox_create(vm, &in), 0);
    cr_assert_eq(fx_gs_stop_server(in, root, fx_reason_normal(), 10000, NULL), 0);
    fx_inbox_destroy(in);
}

Test(review14_app, a_root_stopped_normal_is_ok)
{
    fx_child_spec kid;
    fx_vm_config c;
    fx_app_spec a = one_worker(&kid, &c);
    a.on_start = stop_normal;
    fx_reason why = fx_reason_killed();
    a.exit_reason = &why;
    cr_assert_eq(fx_app_run(&a), FX_APP_OK);
    fx_reason normal = fx_reason_normal();
    cr_assert(fx_reason_eq(&why, &normal));
}
