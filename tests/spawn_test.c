#include "helpers.h"

#include <stdio.h>

enum { PING = 1, PONG, SPAWN, BOOM, REPORT, DIED };

static fx_next pong(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), PONG, NULL, 0);
    return fx_continue(cx);
}

/* init runs first, in the actor, and picks the first handler. */
static fx_next greet_init(fx_ctx *cx, void *arg)
{
    fx_pid *to = arg;
    uint64_t self = fx_self(cx).id;
    fx_send(cx, *to, REPORT, &self, sizeof self);
    return fx_become(cx, pong);
}

Test(spawn, init_runs_first_with_its_argument)
{
    tvm t = tvm_start(2);
    fx_spawn_opts o = {.init = greet_init, .init_arg = &t.me};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    cr_assert_eq(tvm_recv_u64(&t, REPORT), p.id);
    cr_assert_eq(fx_inbox_send(t.in, p, PING, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, PONG));
    cr_assert_eq(fx_is_alive(t.vm, p), 1);
    tvm_stop(&t);
}

/* Spawns a child from inside a handler and reports its pid. */
static fx_next parent(fx_ctx *cx, fx_msg *m)
{
    fx_pid child;
    cr_assert_eq(fx_spawn(cx, pong, NULL, &child), 0);
    fx_send(cx, fx_msg_from(m), REPORT, &child, sizeof child);
    return fx_continue(cx);
}

Test(spawn, from_inside_a_handler)
{
    tvm t = tvm_start(2);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, parent, NULL, &p), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, SPAWN, NULL, 0), 0);
    fx_pid child = {tvm_recv_u64(&t, REPORT)};
    cr_assert(!fx_pid_eq(child, p));
    cr_assert_eq(fx_inbox_send(t.in, child, PING, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, PONG);
    cr_assert(fx_pid_eq(fx_msg_from(m), child));
    fx_msg_free(m);
    tvm_stop(&t);
}

Test(spawn, bad_options)
{
    tvm t = tvm_start(1);
    fx_pid p;
    fx_spawn_opts none = {0};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &none, &p), FX_EINVAL);
    cr_assert_eq(fx_vm_spawn_opt(t.vm, NULL, &p), FX_EINVAL);
    fx_spawn_opts huge = {.handler = pong, .state_size = 1u << 20};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &huge, &p), FX_EINVAL);
    cr_assert_eq(fx_vm_spawn(NULL, pong, NULL, &p), FX_EINVAL);
    cr_assert_eq(fx_spawn(NULL, pong, NULL, &p), FX_EINVAL);
    tvm_stop(&t);
}

Test(spawn, full_process_table)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.max_processes = 64;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    int ok = 0, rc;
    fx_pid p;
    while ((rc = fx_vm_spawn(vm, pong, NULL, &p)) == 0)
        ok++;
    cr_assert_eq(rc, FX_EFULL);
    cr_assert_eq(ok, 64);
    fx_inbox *in;
    cr_assert_eq(fx_inbox_create(vm, &in), FX_EFULL);
    fx_vm_destroy(vm);
}

/* ---- exit and crash ---------------------------------------------------- */

typedef struct {
    fx_vm *vm;
    fx_pid report;
} watch;

static void report_exit(void *state, const fx_reason *why)
{
    watch *w = state;
    /* cleanup has no ctx: it reports with fx_vm_send */
    fx_vm_send(w->vm, w->report, DIED, why, sizeof *why);
}

static fx_next crashy(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == BOOM)
        fx_crash(cx, "boom %d", 42);
    fx_send(cx, fx_msg_from(m), PONG, NULL, 0);
    return fx_continue(cx);
}

static fx_reason recv_reason(tvm *t)
{
    fx_msg *m = tvm_recv(t, DIED);
    fx_reason r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

Test(exit, crash_kills_only_that_actor)
{
    tvm t = tvm_start(2);
    static watch w;
    w = (watch){t.vm, t.me};
    fx_spawn_opts o = {.handler = crashy, .state = &w, .cleanup = report_exit};
    fx_pid a, b;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &a), 0);
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &b), 0);
    cr_assert_eq(fx_inbox_send(t.in, a, BOOM, NULL, 0), 0);
    fx_reason r = recv_reason(&t);
    cr_assert_eq(r.kind, FX_REASON_ERROR);
    cr_assert_eq(r.code, FX_ECRASHED);
    cr_assert_str_eq(r.text, "boom 42");
    cr_assert_eq(fx_is_alive(t.vm, a), 0);
    cr_assert_eq(fx_vm_send(t.vm, a, PING, NULL, 0), FX_ENOPROC);
    /* b and the VM carry on */
    cr_assert_eq(fx_inbox_send(t.in, b, PING, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, PONG));
    tvm_stop(&t);
}

static fx_next stopper(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_error(5, "done"));
}

Test(exit, stop_reason_reaches_cleanup_and_pid_goes_stale)
{
    tvm t = tvm_start(2);
    static watch w;
    w = (watch){t.vm, t.me};
    fx_spawn_opts o = {.handler = stopper, .state = &w, .cleanup = report_exit};
    fx_pid a;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &a), 0);
    cr_assert_eq(fx_vm_send(t.vm, a, PING, NULL, 0), 0);
    fx_reason r = recv_reason(&t);
    fx_reason expect = fx_reason_error(5, "done");
    cr_assert(fx_reason_eq(&r, &expect));
    cr_assert_eq(fx_vm_send(t.vm, a, PING, NULL, 0), FX_ENOPROC);
    fx_vm_stats st;
    fx_vm_stats_get(t.vm, &st);
    cr_assert_eq(st.processes, 0);
    cr_assert_geq(st.messages_dropped, 1);
    tvm_stop(&t);
}
