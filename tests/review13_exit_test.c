/* review13: link.h:51-56 / OTP erlang:exit/2 on oneself. exit(self(),
 * normal): a process not trapping exits normal; one trapping gets
 * {'EXIT', self(), normal} and lives. exit(self(), kill): killed even when
 * trapping. */
#include "helpers.h"

typedef struct self_exit {
    fx_pid report;
    bool trap;
    int32_t kind;
} self_exit;

enum { T_GO = 1, T_GOT = 2 };

static fx_next after(fx_ctx *cx, fx_msg *m)
{
    self_exit *s = fx_state(cx);
    uint32_t t = fx_msg_type(m);
    int32_t kind = -1;
    if (t == FX_MSG_EXIT) {
        fx_exit_info e;
        memcpy(&e, fx_msg_data(m), sizeof e);
        kind = e.reason.kind;
        if (!fx_pid_eq(e.pid, fx_self(cx)))
            kind = -2;
    }
    (void) fx_send(cx, s->report, T_GOT, &kind, sizeof kind);
    return fx_continue(cx);
}

static fx_next go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    self_exit *s = fx_state(cx);
    fx_trap_exit(cx, s->trap);
    fx_reason r = {.kind = s->kind};
    (void) fx_exit(cx, fx_self(cx), r);
    return fx_become(cx, after);
}

static void run(bool trap, int32_t kind, int32_t want_down, bool want_msg)
{
    tvm t = tvm_start_quiet(1);
    self_exit s = {.report = t.me, .trap = trap, .kind = kind};
    fx_pid p = spawn_state(t.vm, go, &s, sizeof s);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t.in, p, &r), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, T_GO, NULL, 0), 0);
    if (want_msg) {
        fx_msg *g = tvm_recv(&t, T_GOT);
        int32_t got;
        memcpy(&got, fx_msg_data(g), sizeof got);
        fx_msg_free(g);
        cr_expect_eq(got, kind, "trap %d kind %d: got %d for the EXIT message", trap,
                     kind, got);
        cr_expect_eq(fx_is_alive(t.vm, p), 1);
        cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
        fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    } else {
        fx_msg *m = tvm_recv(&t, FX_MSG_DOWN);
        fx_down_info d;
        memcpy(&d, fx_msg_data(m), sizeof d);
        fx_msg_free(m);
        cr_expect_eq(d.reason.kind, want_down, "trap %d kind %d: DOWN %d", trap, kind,
                     d.reason.kind);
    }
    tvm_stop(&t);
}

Test(review13_exit, self_normal_not_trapping_exits_normal)
{
    run(false, FX_REASON_NORMAL, FX_REASON_NORMAL, false);
}
Test(review13_exit, self_normal_trapping_gets_a_message)
{
    run(true, FX_REASON_NORMAL, 0, true);
}
Test(review13_exit, self_shutdown_trapping_gets_a_message)
{
    run(true, FX_REASON_SHUTDOWN, 0, true);
}
Test(review13_exit, self_shutdown_not_trapping_exits_shutdown)
{
    run(false, FX_REASON_SHUTDOWN, FX_REASON_SHUTDOWN, false);
}
Test(review13_exit, self_kill_trapping_is_killed)
{
    run(true, FX_REASON_KILL, FX_REASON_KILLED, false);
}
