/* review13: two VMs in one process. types.h:16-19 promises that "a pid
 * of another VM names no process of this one: every call that takes
 * either answers as for a dead process". Both VMs here spawn the same
 * sequence of processes, so A's pid and B's differ only in the VM tag:
 * a call that checks only the slot would reach B's twin. Each case says
 * what the header promises; a failing case is a defect. */
#include <stdint.h>

#include "helpers.h"

/* Forwards every message it gets to the pid in its state as type 77,
 * so the test sees whether anything reached it. */
static fx_next spy(fx_ctx *cx, fx_msg *m)
{
    fx_pid *to = fx_state(cx);
    uint32_t t = fx_msg_type(m);
    (void) fx_send(cx, *to, 77, &t, sizeof t);
    return fx_continue(cx);
}

typedef struct twins {
    tvm a, b;
    fx_pid pa, pb; /* the spies: same slot, same generation */
} twins;

static twins twins_start(void)
{
    twins w;
    w.a = tvm_start_quiet(1);
    w.b = tvm_start_quiet(1);
    w.pa = spawn_state(w.a.vm, spy, &w.a.me, sizeof w.a.me);
    w.pb = spawn_state(w.b.vm, spy, &w.b.me, sizeof w.b.me);
    return w;
}

/* Nothing reached B's spy (a poll after a round trip through it). */
static void expect_b_spy_untouched(twins *w, const char *what)
{
    cr_assert_eq(fx_vm_send(w->b.vm, w->pb, 5, NULL, 0), 0);
    fx_msg *m = tvm_recv(&w->b, 77);
    uint32_t t;
    memcpy(&t, fx_msg_data(m), sizeof t);
    fx_msg_free(m);
    cr_expect_eq(t, 5, "%s: B's spy got type %u before the probe", what, t);
    cr_expect_eq(fx_is_alive(w->b.vm, w->pb), 1, "%s: B's spy is dead", what);
}

static void twins_stop(twins *w)
{
    tvm_stop(&w->a);
    tvm_stop(&w->b);
}

/* Sends and exits with A's pid on VM B answer FX_ENOPROC and reach
 * neither A's process nor B's twin (actor.h:148, link.h:59). */
Test(review13_twovm, foreign_pid_send_and_exit)
{
    twins w = twins_start();
    cr_expect_neq(w.pa.id, w.pb.id);
    cr_expect_eq(fx_is_alive(w.b.vm, w.pa), 0, "fx_is_alive(B, pid of A)");
    cr_expect_eq(fx_vm_send(w.b.vm, w.pa, 9, NULL, 0), FX_ENOPROC,
                 "fx_vm_send(B, A's pid)");
    cr_expect_eq(fx_inbox_send(w.b.in, w.pa, 9, NULL, 0), FX_ENOPROC);
    cr_expect_eq(fx_vm_gs_cast(w.b.vm, w.pa, 9, NULL, 0), FX_ENOPROC);
    fx_from f = {.pid = w.pa, .ref = {42}};
    int rc = fx_vm_reply(w.b.vm, f, "x", 1);
    cr_expect(rc == FX_ENOPROC || rc == 0, "fx_vm_reply(B, A's pid) = %d", rc);
    cr_expect_eq(fx_vm_exit(w.b.vm, w.pa, fx_reason_kill()), FX_ENOPROC,
                 "fx_vm_exit(B, A's pid)");
    expect_b_spy_untouched(&w, "send/exit");
    cr_expect_eq(fx_is_alive(w.a.vm, w.pa), 1, "A's spy was killed through B");
    fx_proc_info info = {.version = FX_PROC_INFO_VERSION};
    cr_expect_eq(fx_process_info(w.b.vm, w.pa, &info), FX_ENOPROC);
    twins_stop(&w);
}

/* A monitor on a foreign pid gives a noproc DOWN at once; a link gives
 * an EXIT noproc (an inbox traps exits). inbox.h:66-70, link.h:34-41. */
Test(review13_twovm, foreign_pid_monitor_and_link)
{
    twins w = twins_start();
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(w.b.in, w.pa, &r), 0);
    fx_msg *m = tvm_recv(&w.b, FX_MSG_DOWN);
    fx_down_info d;
    memcpy(&d, fx_msg_data(m), sizeof d);
    fx_msg_free(m);
    cr_expect(fx_ref_eq(d.ref, r));
    cr_expect_eq(d.reason.kind, FX_REASON_NOPROC);
    cr_assert_eq(fx_inbox_link(w.b.in, w.pa), 0);
    m = tvm_recv(&w.b, FX_MSG_EXIT);
    fx_exit_info e;
    memcpy(&e, fx_msg_data(m), sizeof e);
    fx_msg_free(m);
    cr_expect_eq(e.reason.kind, FX_REASON_NOPROC);
    expect_b_spy_untouched(&w, "monitor/link");
    /* B's twin still gets its own exits to B's inbox only as B's:
     * killing A's spy must not tell B's inbox anything. */
    cr_assert_eq(fx_vm_exit(w.a.vm, w.pa, fx_reason_kill()), 0);
    fx_match any = {0};
    fx_msg *late = NULL;
    cr_expect_eq(fx_inbox_recv(w.b.in, &any, 100, &late), FX_ETIMEDOUT,
                 "B's inbox got type %u after A's spy died",
                 late ? fx_msg_type(late) : 0);
    fx_msg_free(late);
    twins_stop(&w);
}

/* A timer armed on B for A's pid is accepted and then not pending
 * (timer.h:33-36: "one armed for a dead pid is accepted, then
 * cancelled so"); a timer handle of A does not cancel B's timer. */
Test(review13_twovm, foreign_pid_and_foreign_timer)
{
    twins w = twins_start();
    fx_timer ta, tb;
    cr_assert_eq(fx_vm_send_after(w.a.vm, 600000, w.pa, 3, NULL, 0, &ta), 0);
    cr_assert_eq(fx_vm_send_after(w.b.vm, 600000, w.pb, 3, NULL, 0, &tb), 0);
    int64_t left = fx_cancel_timer(w.b.vm, ta);
    cr_expect_eq(left, FX_ENOENT, "fx_cancel_timer(B, A's timer) = %lld",
                 (long long) left);
    cr_expect_gt(fx_read_timer(w.b.vm, tb), 0,
                 "B's own timer was cancelled by A's handle");
    cr_expect_gt(fx_read_timer(w.a.vm, ta), 0, "A's timer was cancelled through B");
    fx_timer tx;
    cr_expect_eq(fx_vm_send_after(w.b.vm, 600000, w.pa, 3, NULL, 0, &tx), 0);
    cr_expect_eq(fx_read_timer(w.b.vm, tx), FX_ENOENT,
                 "timer on B for A's pid is pending");
    twins_stop(&w);
}

/* A blocking call to a foreign pid fails at once with FX_ENOPROC
 * (gen_server.h:166-168) and sends B's twin nothing. */
Test(review13_twovm, foreign_pid_gs_call)
{
    twins w = twins_start();
    fx_msg *reply = NULL;
    int rc = fx_gs_call(w.b.in, w.pa, 9, NULL, 0, 5000, &reply, NULL);
    cr_expect_eq(rc, FX_ENOPROC, "fx_gs_call(B inbox, A's pid) = %s", fx_strerror(rc));
    fx_msg_free(reply);
    expect_b_spy_untouched(&w, "gs_call");
    twins_stop(&w);
}

/* Names: registering or grouping a foreign pid answers FX_ENOPROC
 * (registry.h:41-46, 156-157). */
Test(review13_twovm, foreign_pid_registry)
{
    twins w = twins_start();
    fx_pid holder;
    int rc = fx_register(w.b.in, "r13", w.pa, &holder);
    cr_expect_eq(rc, FX_ENOPROC, "fx_register(B, A's pid) = %s", fx_strerror(rc));
    rc = fx_group_join(w.b.in, "g13", w.pa);
    cr_expect_eq(rc, FX_ENOPROC, "fx_group_join(B, A's pid) = %s", fx_strerror(rc));
    fx_pid got;
    cr_expect_neq(fx_whereis(w.b.vm, "r13", &got), 0);
    twins_stop(&w);
}

static void nop_state(void *state, void *arg)
{
    (void) state;
    (void) arg;
}

/* More calls that take a pid, with A's pid on B: each answers as for a
 * dead process and B's twin hears nothing. */
Test(review13_twovm, foreign_pid_more_calls)
{
    twins w = twins_start();
    uint64_t ql;
    cr_expect_eq(fx_vm_queue_len(w.b.vm, w.pa, &ql), FX_ENOPROC);
    cr_expect_eq(fx_gs_stop_server(w.b.in, w.pa, fx_reason_normal(), 5000, NULL),
                 FX_ENOPROC);
    cr_expect_eq(fx_gs_get_state(w.b.in, w.pa, nop_state, NULL, 5000), FX_ENOPROC);
    fx_child_info ci;
    cr_expect_eq(fx_sup_which_children(w.b.in, w.pa, &ci, 1, 5000), FX_ENOPROC);
    cr_expect_eq(fx_vm_send_after(w.b.vm, 0, w.pa, 9, NULL, 0, NULL), 0);
    fx_pid q;
    fx_spawn_opts o = {
        .handler = spy, .state_size = sizeof w.b.me, .state_init = &w.b.me};
    cr_expect_eq(fx_inbox_spawn_link(w.b.in, &o, &q), 0);
    cr_expect_eq(fx_inbox_unlink(w.b.in, w.pa), 0);
    expect_b_spy_untouched(&w, "more calls");
    twins_stop(&w);
}
