#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>

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

static fx_next stop_now(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_stop(cx, fx_reason_normal());
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

/* ---- the limit counts live processes (issue 13, defect 1) -------------- */

typedef struct {
    fx_vm *vm;
    fx_pid report;
} reporter;

static void report_gone(void *state, const fx_reason *why)
{
    (void) why;
    reporter *r = state;
    fx_vm_send(r->vm, r->report, DIED, NULL, 0);
}

static fx_next stop_on_message(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_normal());
}

/* Fills the table from outside, lets every process exit on a scheduler
 * thread, and fills it again, three times: freed slots must serve any
 * thread at once (they used to stay in the freeing thread's private cache,
 * so the second fill failed with FX_EFULL while nothing was alive). */
static void refill_after_exits(uint32_t max)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.max_processes = max;
    tvm t = tvm_start_with(&c); /* the inbox takes one slot */
    static reporter r;
    r = (reporter){t.vm, t.me};
    fx_spawn_opts o = {.handler = stop_on_message, .state = &r, .cleanup = report_gone};
    fx_pid *pids = calloc(max, sizeof *pids);
    cr_assert(pids);
    for (int round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < max - 1; i++) {
            int rc = fx_vm_spawn_opt(t.vm, &o, &pids[i]);
            cr_assert_eq(rc, 0, "max %u, round %d, spawn %u: %s", max, round, i,
                         fx_strerror(rc));
        }
        fx_pid extra;
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &extra), FX_EFULL);
        for (uint32_t i = 0; i < max - 1; i++)
            cr_assert_eq(fx_vm_send(t.vm, pids[i], PING, NULL, 0), 0);
        for (uint32_t i = 0; i < max - 1; i++)
            fx_msg_free(tvm_recv(&t, DIED));
    }
    free(pids);
    tvm_stop(&t);
}

Test(spawn, exited_slots_serve_outside_spawns_64)
{
    refill_after_exits(64);
}

Test(spawn, exited_slots_serve_outside_spawns_100)
{
    refill_after_exits(100);
}

Test(spawn, exited_slots_serve_outside_spawns_1000)
{
    refill_after_exits(1000);
}

/* One process at a time, from inside the VM: spawn a child that exits at
 * once, wait for its DOWN, spawn the next. Never more than three processes
 * live (inbox, parent, child) in a table of 8, so FX_EFULL never happens. */
enum { CHURN_N = 20000, NEXT = 100 };

typedef struct {
    fx_pid report;
    uint32_t done, efull;
} churner;

static fx_next churn(fx_ctx *cx, fx_msg *m)
{
    churner *st = fx_state(cx);
    if (fx_msg_type(m) == FX_MSG_DOWN)
        st->done++;
    if (st->done == CHURN_N) {
        fx_send(cx, st->report, REPORT, &st->efull, sizeof st->efull);
        return fx_stop(cx, fx_reason_normal());
    }
    if (fx_msg_type(m) == FX_MSG_DOWN || fx_msg_type(m) == NEXT) {
        fx_spawn_opts o = {.init = stop_now};
        fx_pid child;
        fx_ref ref;
        int rc = fx_spawn_monitor(cx, &o, &child, &ref);
        if (rc == FX_EFULL) {
            st->efull++;
            fx_send(cx, fx_self(cx), NEXT, NULL, 0); /* try again */
        } else {
            cr_assert_eq(rc, 0);
        }
    }
    return fx_continue(cx);
}

Test(spawn, one_at_a_time_churn_never_sees_efull)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.max_processes = 8;
    tvm t = tvm_start_with(&c);
    churner init = {.report = t.me};
    fx_pid p = spawn_state(t.vm, churn, &init, sizeof init);
    cr_assert_eq(fx_inbox_send(t.in, p, NEXT, NULL, 0), 0);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.type = REPORT}, 60000, &m), 0);
    uint32_t efull;
    memcpy(&efull, fx_msg_data(m), sizeof efull);
    fx_msg_free(m);
    cr_assert_eq(efull, 0, "%u spurious FX_EFULL", efull);
    tvm_stop(&t);
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
