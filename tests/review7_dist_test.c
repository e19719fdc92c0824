/* review7: timer.h on a timer whose target is a pid of another node
 * (dist.h: "Pids of processes on other nodes become ordinary fx_pid
 * values"). Two fauxtp nodes on loopback with a private epmd, started
 * here and stopped by pid. Fails today for the reason the test's comment
 * gives. */
#include "dist_helpers.h"

TestSuite(review7_dist, .fini = kill_kids, .timeout = 120);

enum { T_GO = 1, T_TIMER = 70, T_BACK = 71 };

typedef struct tcli {
    fx_pid report;
} tcli;

static fx_next tcli_wait(fx_ctx *cx, fx_msg *m)
{
    tcli *c = fx_state(cx);
    if (fx_msg_type(m) == 51) {
        /* echo's answer: its sender is the remote echo's pid. Arm a
         * timer to it (echo answers the timer's message with 61). */
        fx_timer tm = {0};
        int rc = fx_send_after(cx, 2000, fx_msg_from(m), 60, "t", 1, &tm);
        cr_assert_eq(rc, 0, "fx_send_after to a remote pid: %s", fx_strerror(rc));
        (void) fx_send(cx, c->report, T_TIMER, &tm, sizeof tm);
    } else if (fx_msg_type(m) == 61) {
        (void) fx_send(cx, c->report, T_BACK, NULL, 0);
    }
    return fx_continue(cx);
}

static fx_next tcli_start(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    cr_assert_eq(fx_dist_send_named(cx, "b@127.0.0.1", "echo", 50, NULL, 0), 0);
    return fx_become(cx, tcli_wait);
}

/* timer.h:33-44: fx_read_timer answers the milliseconds left and
 * fx_cancel_timer answers FX_ENOENT only for a timer that fired, was
 * cancelled, or whose target "is not alive". For a pending timer to a
 * live process of another node, timers.c's drop_if_target_dead looks
 * the pid up in the local process table only (fxi_ptable_lookup, which
 * answers NULL for every foreign pid), so fx_read_timer answers
 * FX_ENOENT and silently cancels the timer: the message is never sent
 * (echo never answers it). Erlang's erlang:read_timer on a pending timer
 * answers the time left. */
Test(review7_dist, read_timer_of_a_timer_to_a_remote_pid_keeps_it)
{
    skip_unless_ready();
    start_epmd();
    tvm a = node_vm("a@127.0.0.1");
    tvm b = node_vm("b@127.0.0.1");
    start_echo(&b);
    int rc = fx_dist_connect(a.vm, "b@127.0.0.1", 10000);
    cr_assert_eq(rc, 0, "connect: %s", fx_strerror(rc));
    tcli c = {.report = a.me};
    fx_pid p = spawn_state(a.vm, tcli_start, &c, sizeof c);
    cr_assert_eq(fx_vm_send(a.vm, p, T_GO, NULL, 0), 0);
    fx_msg *m = tvm_recv(&a, T_TIMER);
    fx_timer tm;
    memcpy(&tm, fx_msg_data(m), sizeof tm);
    fx_msg_free(m);
    int64_t left = fx_read_timer(a.vm, tm);
    /* The timer must still fire and reach the remote echo. */
    fx_match back = {.type = T_BACK};
    m = NULL;
    int fired = fx_inbox_recv(a.in, &back, 10000, &m);
    fx_msg_free(m);
    tvm_stop(&a);
    tvm_stop(&b);
    cr_assert(left >= 0 && left <= 2000,
              "fx_read_timer on a pending timer to a live remote process: %lld (%s)",
              (long long) left, left < 0 ? fx_strerror((int) left) : "ms");
    cr_assert_eq(fired, 0, "the timer's message never reached the remote process: %s",
                 fx_strerror(fired));
}

/* Same, fx_cancel_timer: the time left, not FX_ENOENT. */
Test(review7_dist, cancel_timer_of_a_timer_to_a_remote_pid_answers_time_left)
{
    skip_unless_ready();
    start_epmd();
    tvm a = node_vm("a@127.0.0.1");
    tvm b = node_vm("b@127.0.0.1");
    start_echo(&b);
    int rc = fx_dist_connect(a.vm, "b@127.0.0.1", 10000);
    cr_assert_eq(rc, 0, "connect: %s", fx_strerror(rc));
    tcli c = {.report = a.me};
    fx_pid p = spawn_state(a.vm, tcli_start, &c, sizeof c);
    cr_assert_eq(fx_vm_send(a.vm, p, T_GO, NULL, 0), 0);
    fx_msg *m = tvm_recv(&a, T_TIMER);
    fx_timer tm;
    memcpy(&tm, fx_msg_data(m), sizeof tm);
    fx_msg_free(m);
    int64_t left = fx_cancel_timer(a.vm, tm);
    tvm_stop(&a);
    tvm_stop(&b);
    cr_assert(left >= 0 && left <= 2000,
              "fx_cancel_timer on a pending timer to a live remote process: %lld (%s)",
              (long long) left, left < 0 ? fx_strerror((int) left) : "ms");
}
