/* Bad-input table: link.h and monitor.h.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

typedef struct lk_arg {
    fx_pid pid;
    fx_reason reason;
    fx_ref ref;
    unsigned flags;
    bool trap;
    bool null_ref;
    const fx_spawn_opts *opts;
    fx_msg *got; /* a message the handler received afterwards, copied */
    uint32_t got_type;
    fx_reason got_reason;
} lk_arg;

static int run_link(fx_ctx *cx, void *arg)
{
    lk_arg *a = arg;
    fx_trap_exit(cx, a->trap);
    return fx_link(cx, a->pid);
}

static int run_unlink(fx_ctx *cx, void *arg)
{
    lk_arg *a = arg;
    return fx_unlink(cx, a->pid);
}

static int run_exit(fx_ctx *cx, void *arg)
{
    lk_arg *a = arg;
    return fx_exit(cx, a->pid, a->reason);
}

static int run_monitor(fx_ctx *cx, void *arg)
{
    lk_arg *a = arg;
    return fx_monitor(cx, a->pid, a->null_ref ? NULL : &a->ref);
}

static int run_monitor_call(fx_ctx *cx, void *arg)
{
    lk_arg *a = arg;
    return fx_monitor_call(cx, a->pid, a->null_ref ? NULL : &a->ref);
}

static int run_demonitor(fx_ctx *cx, void *arg)
{
    lk_arg *a = arg;
    return fx_demonitor(cx, a->ref, a->flags);
}

static int run_spawn_link(fx_ctx *cx, void *arg)
{
    lk_arg *a = arg;
    return fx_spawn_link(cx, a->opts, NULL);
}

static int run_spawn_monitor(fx_ctx *cx, void *arg)
{
    lk_arg *a = arg;
    return fx_spawn_monitor(cx, a->opts, NULL, a->null_ref ? NULL : &a->ref);
}

/* A trapping process that links or monitors pid and reports the first
 * EXIT/DOWN it gets (with the call's rc) to the owner. */
typedef struct watch_st {
    fx_pid owner;
    fx_pid target;
    bool monitor;
} watch_st;

typedef struct watch_rep {
    int32_t rc;
    uint32_t type;
    fx_reason reason;
} watch_rep;

#define WATCH_REP 0x7002u

static fx_next watch_wait(fx_ctx *cx, fx_msg *m)
{
    watch_st *st = fx_state(cx);
    watch_rep r = {0, fx_msg_type(m), fx_reason_normal()};
    if (r.type == FX_MSG_EXIT)
        r.reason = ((const fx_exit_info *) fx_msg_data(m))->reason;
    else if (r.type == FX_MSG_DOWN)
        r.reason = ((const fx_down_info *) fx_msg_data(m))->reason;
    fx_send(cx, st->owner, WATCH_REP, &r, sizeof r);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next watch_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    watch_st *st = fx_state(cx);
    fx_trap_exit(cx, true);
    fx_ref ref;
    watch_rep r = {0, 0, fx_reason_normal()};
    r.rc = st->monitor ? fx_monitor(cx, st->target, &ref) : fx_link(cx, st->target);
    fx_send(cx, st->owner, WATCH_REP, &r, sizeof r);
    fx_match any = {.type = st->monitor ? FX_MSG_DOWN : FX_MSG_EXIT};
    return fx_receive(cx, watch_wait, &any, 10000);
}

static watch_rep watch_next(tvm *t)
{
    fx_msg *m = tvm_recv(t, WATCH_REP);
    watch_rep r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

static void watch(tvm *t, fx_pid target, bool monitor)
{
    watch_st st = {t->me, target, monitor};
    fx_spawn_opts o = {.handler = watch_go, .state_size = sizeof st, .state_init = &st};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, &p), 0);
    cr_assert_eq(fx_inbox_send(t->in, p, 1, NULL, 0), 0);
    watch_rep r = watch_next(t);
    bi_expect(r.rc, 0);
    r = watch_next(t);
    cr_assert_eq(r.type, monitor ? FX_MSG_DOWN : FX_MSG_EXIT, "no %s noproc (got %x)",
                 monitor ? "DOWN" : "EXIT", r.type);
    cr_assert_eq(r.reason.kind, FX_REASON_NOPROC);
}

/* --- link.h ------------------------------------------------------------------ */

Test(bi_link, null_cx, .description = "fx_link | cx NULL | FX_EINVAL")
{
    bi_expect(fx_link(NULL, BI_GARBAGE_PID), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_link, stale_not_trapping,
     .description =
         "fx_link | stale pid, garbage pid; caller not trapping | FX_ENOPROC, no link")
{
    tvm t = bi_start();
    lk_arg a = {.pid = bi_stale(&t)};
    bi_expect(bi_in_handler(&t, run_link, &a), FX_ENOPROC);
    a.pid = BI_GARBAGE_PID;
    bi_expect(bi_in_handler(&t, run_link, &a), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_link, stale_trapping,
     .description = "fx_link | stale pid; caller trapping | 0 and an FX_MSG_EXIT noproc")
{
    tvm t = bi_start();
    watch(&t, bi_stale(&t), false);
    bi_end(&t);
}

Test(
    bi_link, garbage_trapping,
    .description = "fx_link | garbage pid; caller trapping | 0 and an FX_MSG_EXIT noproc")
{
    tvm t = bi_start();
    watch(&t, BI_GARBAGE_PID, false);
    bi_end(&t);
}

Test(bi_link, none_pid,
     .description = "fx_link | FX_PID_NONE (trapping or not) | FX_EINVAL")
{
    tvm t = bi_start();
    lk_arg a = {.pid = FX_PID_NONE};
    bi_expect(bi_in_handler(&t, run_link, &a), FX_EINVAL);
    a.trap = true;
    bi_expect(bi_in_handler(&t, run_link, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_link, unlink_null_cx, .description = "fx_unlink | cx NULL | FX_EINVAL")
{
    bi_expect(fx_unlink(NULL, BI_GARBAGE_PID), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_link, unlink_none_pid, .description = "fx_unlink | FX_PID_NONE | FX_EINVAL")
{
    tvm t = bi_start();
    lk_arg a = {.pid = FX_PID_NONE};
    bi_expect(bi_in_handler(&t, run_unlink, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_link, unlink_no_link,
     .description = "fx_unlink | stale pid, garbage pid (no link) | 0")
{
    tvm t = bi_start();
    fx_pid pids[] = {bi_stale(&t), BI_GARBAGE_PID};
    for (int i = 0; i < 2; i++) {
        lk_arg a = {.pid = pids[i]};
        bi_expect(bi_in_handler(&t, run_unlink, &a), 0);
    }
    bi_end(&t);
}

Test(bi_link, exit_null_cx, .description = "fx_exit | cx NULL | FX_EINVAL")
{
    bi_expect(fx_exit(NULL, BI_GARBAGE_PID, fx_reason_kill()), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_link, exit_bad_kind, .description = "fx_exit | reason kind 12345, -1 | FX_EINVAL")
{
    tvm t = bi_start();
    lk_arg a = {.pid = t.me, .reason = fx_reason_normal()};
    a.reason.kind = 12345;
    bi_expect(bi_in_handler(&t, run_exit, &a), FX_EINVAL);
    a.reason.kind = -1;
    bi_expect(bi_in_handler(&t, run_exit, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_link, exit_dead, .description = "fx_exit | stale pid, garbage pid | FX_ENOPROC")
{
    tvm t = bi_start();
    lk_arg a = {.pid = bi_stale(&t), .reason = fx_reason_kill()};
    bi_expect(bi_in_handler(&t, run_exit, &a), FX_ENOPROC);
    a.pid = BI_GARBAGE_PID;
    bi_expect(bi_in_handler(&t, run_exit, &a), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_link, vm_exit_bad,
     .description = "fx_vm_exit | vm NULL; reason kind 12345 | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_vm_exit(NULL, t.me, fx_reason_kill()), FX_EINVAL);
    fx_reason r = fx_reason_normal();
    r.kind = 12345;
    bi_expect(fx_vm_exit(t.vm, t.me, r), FX_EINVAL);
    bi_end(&t);
}

Test(bi_link, vm_exit_dead,
     .description = "fx_vm_exit | stale pid, garbage pid | FX_ENOPROC")
{
    tvm t = bi_start();
    bi_expect(fx_vm_exit(t.vm, bi_stale(&t), fx_reason_kill()), FX_ENOPROC);
    bi_expect(fx_vm_exit(t.vm, BI_GARBAGE_PID, fx_reason_kill()), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_link, vm_exit_after_shutdown,
     .description = "fx_vm_exit | after shutdown | FX_ESHUTDOWN")
{
    fx_pid p;
    fx_vm *vm = bi_dead_vm(&p);
    bi_expect(fx_vm_exit(vm, p, fx_reason_kill()), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_link, spawn_link_bad,
     .description = "fx_spawn_link | cx NULL; opts NULL; no handler | FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.handler = bi_echo};
    bi_expect(fx_spawn_link(NULL, &o, NULL), FX_EINVAL);
    lk_arg a = {.opts = NULL};
    bi_expect(bi_in_handler(&t, run_spawn_link, &a), FX_EINVAL);
    fx_spawn_opts none = {.state = NULL};
    a.opts = &none;
    bi_expect(bi_in_handler(&t, run_spawn_link, &a), FX_EINVAL);
    bi_end(&t);
}

/* --- monitor.h ---------------------------------------------------------------- */

Test(bi_monitor, null_cx, .description = "fx_monitor | cx NULL | FX_EINVAL")
{
    fx_ref r;
    bi_expect(fx_monitor(NULL, BI_GARBAGE_PID, &r), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_monitor, null_ref, .description = "fx_monitor | ref NULL | FX_EINVAL")
{
    tvm t = bi_start();
    lk_arg a = {.pid = t.me, .null_ref = true};
    bi_expect(bi_in_handler(&t, run_monitor, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_monitor, stale,
     .description = "fx_monitor | stale pid | 0 and a DOWN noproc at once")
{
    tvm t = bi_start();
    watch(&t, bi_stale(&t), true);
    bi_end(&t);
}

Test(bi_monitor, garbage,
     .description = "fx_monitor | garbage pid | 0 and a DOWN noproc at once")
{
    tvm t = bi_start();
    watch(&t, BI_GARBAGE_PID, true);
    bi_end(&t);
}

Test(bi_monitor, call_null_cx, .description = "fx_monitor_call | cx NULL | FX_EINVAL")
{
    fx_ref r;
    bi_expect(fx_monitor_call(NULL, BI_GARBAGE_PID, &r), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_monitor, call_null_ref, .description = "fx_monitor_call | ref NULL | FX_EINVAL")
{
    tvm t = bi_start();
    lk_arg a = {.pid = t.me, .null_ref = true};
    bi_expect(bi_in_handler(&t, run_monitor_call, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_monitor, call_empty_pid,
     .description = "fx_monitor_call | FX_PID_NONE | FX_EINVAL")
{
    tvm t = bi_start();
    lk_arg a = {.pid = FX_PID_NONE};
    bi_expect(bi_in_handler(&t, run_monitor_call, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_monitor, demonitor_null_cx, .description = "fx_demonitor | cx NULL | FX_EINVAL")
{
    bi_expect(fx_demonitor(NULL, (fx_ref){1}, 0), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_monitor, demonitor_unknown,
     .description = "fx_demonitor | unknown ref, with and without FLUSH | FX_ENOENT")
{
    tvm t = bi_start();
    lk_arg a = {.ref = {0x123456789}};
    bi_expect(bi_in_handler(&t, run_demonitor, &a), FX_ENOENT);
    a.flags = FX_DEMONITOR_FLUSH;
    bi_expect(bi_in_handler(&t, run_demonitor, &a), FX_ENOENT);
    bi_end(&t);
}

Test(bi_monitor, demonitor_none_ref,
     .description = "fx_demonitor | FX_REF_NONE | FX_EINVAL")
{
    tvm t = bi_start();
    lk_arg a = {.ref = FX_REF_NONE};
    bi_expect(bi_in_handler(&t, run_demonitor, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_monitor, demonitor_garbage_flags,
     .description = "fx_demonitor | unknown flag bits 0xfffe | FX_EINVAL")
{
    tvm t = bi_start();
    lk_arg a = {.ref = {0x123456789}, .flags = 0xfffe};
    bi_expect(bi_in_handler(&t, run_demonitor, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_monitor, spawn_monitor_bad,
     .description = "fx_spawn_monitor | cx NULL; ref NULL; opts NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.handler = bi_echo};
    fx_ref r;
    bi_expect(fx_spawn_monitor(NULL, &o, NULL, &r), FX_EINVAL);
    lk_arg a = {.opts = &o, .null_ref = true};
    bi_expect(bi_in_handler(&t, run_spawn_monitor, &a), FX_EINVAL);
    a.opts = NULL;
    a.null_ref = false;
    bi_expect(bi_in_handler(&t, run_spawn_monitor, &a), FX_EINVAL);
    bi_end(&t);
}
