/* Applications: fx_app_run's ways to end (signal, fx_app_stop, the tree
 * exiting, a failed start), its exit statuses and the order in which the
 * tree is stopped. */
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "helpers.h"

/* Children record their exits here, in order. */
static atomic_int nexits;
static char exits[8];

static void on_exit_cleanup(void *state, const fx_reason *reason)
{
    (void) reason;
    int i = atomic_fetch_add(&nexits, 1);
    if (i < (int) sizeof exits)
        exits[i] = *(const char *) state;
}

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static fx_next crash_soon(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    fx_crash(cx, "on purpose");
}

static fx_next crash_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_send(cx, fx_self(cx), 1, NULL, 0);
    return fx_become(cx, crash_soon);
}

static fx_next stop_app_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    cr_assert_eq(fx_app_stop(fx_ctx_vm(cx)), 0);
    return fx_become(cx, idle);
}

static fx_next exit_normal(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_normal());
}

static fx_next exit_soon_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_send(cx, fx_self(cx), 1, NULL, 0);
    return fx_become(cx, exit_normal);
}

static const char names[] = "abc";
static fx_spawn_opts recorder[3];

static fx_child_spec child(const char *id, fx_spawn_opts *o)
{
    fx_child_spec c;
    memset(&c, 0, sizeof c);
    strncpy(c.id, id, sizeof c.id - 1);
    c.start = fx_child_actor;
    c.arg = o;
    return c;
}

/* An app whose root has three recording children a, b, c. */
static fx_app_spec three(fx_child_spec kids[3])
{
    for (int i = 0; i < 3; i++) {
        recorder[i] = (fx_spawn_opts){
            .handler = idle, .state = (void *) &names[i], .cleanup = on_exit_cleanup};
        kids[i] = child((char[]){names[i], 0}, &recorder[i]);
    }
    fx_app_spec a;
    memset(&a, 0, sizeof a);
    fx_sup_spec_init(&a.root);
    a.root.children = kids;
    a.root.nchildren = 3;
    return a;
}

static void send_sigterm(fx_vm *vm, fx_pid root, void *arg)
{
    (void) vm;
    (void) root;
    kill(getpid(), *(int *) arg); /* to the process: the signal thread takes it */
}

static void check_stopped_in_reverse(void)
{
    cr_assert_eq(atomic_load(&nexits), 3);
    cr_assert_eq(memcmp(exits, "cba", 3), 0, "stop order: %.3s", exits);
}

Test(app, sigterm_stops_the_tree_in_order)
{
    fx_child_spec kids[3];
    fx_app_spec a = three(kids);
    int sig = SIGTERM;
    fx_reason why;
    a.on_start = send_sigterm;
    a.arg = &sig;
    a.exit_reason = &why;
    cr_assert_eq(fx_app_run(&a), FX_APP_OK);
    cr_assert_eq(why.kind, FX_REASON_SHUTDOWN);
    check_stopped_in_reverse();
}

Test(app, sigint_too)
{
    fx_child_spec kids[3];
    fx_app_spec a = three(kids);
    int sig = SIGINT;
    a.on_start = send_sigterm;
    a.arg = &sig;
    cr_assert_eq(fx_app_run(&a), FX_APP_OK);
    check_stopped_in_reverse();
}

Test(app, app_stop_from_a_handler)
{
    fx_child_spec kids[3];
    fx_app_spec a = three(kids);
    recorder[2].handler = NULL;
    recorder[2].init = stop_app_init;
    a.no_signals = true;
    cr_assert_eq(fx_app_run(&a), FX_APP_OK);
    check_stopped_in_reverse();
}

Test(app, a_tree_that_gives_up_fails)
{
    fx_child_spec kids[3];
    fx_app_spec a = three(kids);
    recorder[1].handler = NULL;
    recorder[1].init = crash_init;
    a.root.intensity = 0;
    a.no_signals = true;
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.crash_logger = fx_crash_logger_silent;
    a.vm = &c;
    fx_reason why;
    a.exit_reason = &why;
    cr_assert_eq(fx_app_run(&a), FX_APP_FAILED);
    fx_reason want = fx_reason_shutdown_with("reached_max_restart_intensity");
    cr_assert(fx_reason_eq(&why, &want));
}

Test(app, auto_shutdown_ends_it_cleanly)
{
    fx_child_spec kids[3];
    fx_app_spec a = three(kids);
    recorder[1].handler = NULL;
    recorder[1].init = exit_soon_init;
    kids[1].restart = FX_TRANSIENT;
    kids[1].significant = true;
    a.root.auto_shutdown = FX_AUTO_SHUTDOWN_ANY_SIGNIFICANT;
    a.no_signals = true;
    fx_reason why;
    a.exit_reason = &why;
    cr_assert_eq(fx_app_run(&a), FX_APP_OK);
    cr_assert(fx_reason_eq(&why, &(fx_reason){.kind = FX_REASON_SHUTDOWN}));
    /* b exited by itself, then c and a were stopped, in reverse order. */
    cr_assert_eq(memcmp(exits, "bca", 3), 0, "exit order: %.3s", exits);
}

Test(app, failed_starts)
{
    fx_child_spec kids[3];
    fx_app_spec a = three(kids);
    a.root.period_ms = 0; /* invalid */
    cr_assert_eq(fx_app_run(&a), FX_APP_NOSTART);
    cr_assert_eq(fx_app_run(NULL), FX_APP_NOSTART);

    a = three(kids);
    kids[1].arg = NULL; /* fx_child_actor refuses it */
    fx_reason why;
    a.exit_reason = &why;
    a.no_signals = true;
    cr_assert_eq(fx_app_run(&a), FX_APP_NOSTART);
    fx_reason want = fx_reason_shutdown_with("failed_to_start_child b FX_EINVAL");
    cr_assert(fx_reason_eq(&why, &want));
    cr_assert_eq(atomic_load(&nexits), 1); /* a, started before b, was stopped */
}

Test(app, stop_without_an_app)
{
    tvm t = tvm_start(1);
    cr_assert_eq(fx_app_stop(t.vm), FX_ENOENT);
    cr_assert_eq(fx_app_stop(NULL), FX_EINVAL);
    tvm_stop(&t);
}
