#include "helpers.h"

#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { TICK = 1, SET = 2 };

Test(timers, send_after_fires_once)
{
    tvm t = tvm_start(2);
    fx_timer tm;
    uint64_t v = 77;
    cr_assert_eq(fx_vm_send_after(t.vm, 20, t.me, TICK, &v, sizeof v, &tm), 0);
    cr_assert_eq(tvm_recv_u64(&t, TICK), 77);
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t.in, NULL, 100, &m), FX_ETIMEDOUT);
    cr_assert_eq(fx_read_timer(t.vm, tm), FX_ENOENT);
    cr_assert_eq(fx_cancel_timer(t.vm, tm), FX_ENOENT);
    tvm_stop(&t);
}

Test(timers, cancel_prevents_delivery)
{
    tvm t = tvm_start(2);
    fx_timer tm;
    cr_assert_eq(fx_vm_send_after(t.vm, 60000, t.me, TICK, NULL, 0, &tm), 0);
    int64_t left = fx_read_timer(t.vm, tm);
    cr_assert_gt(left, 50000);
    cr_assert_leq(left, 60000);
    left = fx_cancel_timer(t.vm, tm);
    cr_assert_gt(left, 50000);
    cr_assert_eq(fx_cancel_timer(t.vm, tm), FX_ENOENT);
    cr_assert_eq(fx_read_timer(t.vm, tm), FX_ENOENT);
    /* A short timer set after still fires, and the cancelled one never. */
    cr_assert_eq(fx_vm_send_after(t.vm, 10, t.me, SET, NULL, 0, NULL), 0);
    fx_msg *m = tvm_recv(&t, 0);
    cr_assert_eq(fx_msg_type(m), SET);
    fx_msg_free(m);
    tvm_stop(&t);
}

Test(timers, many_timers_fire_in_deadline_order)
{
    tvm t = tvm_start(2);
    for (uint64_t i = 0; i < 5; i++) {
        uint64_t delay = 50 * (5 - i); /* 250, 200, ... 50 ms */
        cr_assert_eq(fx_vm_send_after(t.vm, (int64_t) delay, t.me, TICK, &delay,
                                      sizeof delay, NULL),
                     0);
    }
    uint64_t prev = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t d = tvm_recv_u64(&t, TICK);
        cr_assert_gt(d, prev);
        prev = d;
    }
    tvm_stop(&t);
}

Test(timers, bad_arguments)
{
    tvm t = tvm_start(1);
    cr_assert_eq(fx_vm_send_after(t.vm, -1, t.me, TICK, NULL, 0, NULL), FX_EINVAL);
    cr_assert_eq(fx_vm_send_after(NULL, 1, t.me, TICK, NULL, 0, NULL), FX_EINVAL);
    cr_assert_eq(fx_vm_send_after(t.vm, 1, t.me, FX_MSG_TIMEOUT, NULL, 0, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_cancel_timer(t.vm, (fx_timer){12345}), FX_ENOENT);
    cr_assert_eq(fx_read_timer(t.vm, (fx_timer){0}), FX_ENOENT);
    cr_assert_eq(fx_cancel_timer(NULL, (fx_timer){1}), FX_EINVAL);
    tvm_stop(&t);
}

/* timer.h: send_after takes the types fx_send takes, FX_MSG_TERM (an
 * Erlang term's bytes) among them; the payload arrives unchanged. */
Test(timers, send_after_carries_an_erlang_term)
{
    tvm t = tvm_start(1);
    /* The atom tick in the external term format, written by hand: the
     * term API is not in every build (the aarch64 one has no ei). */
    static const unsigned char tick[] = {131, 119, 4, 't', 'i', 'c', 'k'};
    cr_assert_eq(fx_vm_send_after(t.vm, 1, t.me, FX_MSG_TERM, tick, sizeof tick, NULL),
                 0);
    fx_msg *m = tvm_recv(&t, FX_MSG_TERM);
    cr_assert_eq(fx_msg_size(m), sizeof tick);
    cr_assert_eq(memcmp(fx_msg_data(m), tick, sizeof tick), 0);
    fx_msg_free(m);
    tvm_stop(&t);
}

/* An actor arms a timer to itself from a handler and cancels another. */
static fx_next self_timer(fx_ctx *cx, fx_msg *m)
{
    fx_pid *report = fx_state(cx);
    if (fx_msg_type(m) == SET) {
        fx_timer keep, drop;
        cr_assert_eq(fx_send_after(cx, 30, fx_self(cx), TICK, NULL, 0, &keep), 0);
        /* Far enough that it is still pending at the cancel however slowly
         * this runs (qemu-user on a busy machine took over 10 ms). */
        cr_assert_eq(fx_send_after(cx, 60000, fx_self(cx), SET + 1, NULL, 0, &drop), 0);
        cr_assert_geq(fx_cancel_timer(fx_ctx_vm(cx), drop), 0);
        cr_assert_eq(fx_read_timer(fx_ctx_vm(cx), drop), FX_ENOENT);
        return fx_continue(cx);
    }
    uint64_t ty = fx_msg_type(m);
    fx_send(cx, *report, TICK, &ty, sizeof ty);
    return fx_continue(cx);
}

Test(timers, from_inside_a_handler)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_state(t.vm, self_timer, &t.me, sizeof t.me);
    cr_assert_eq(fx_vm_send(t.vm, p, SET, NULL, 0), 0);
    cr_assert_eq(tvm_recv_u64(&t, TICK), TICK);
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t.in, NULL, 100, &m), FX_ETIMEDOUT);
    tvm_stop(&t);
}

/* ---- huge delays saturate (issue 13, defect 6) -------------------------- */

/* INT64_MAX as "never": a far deadline, not a wrapped one. The timer stays
 * pending and cancellable, read_timer reports about FX_TIMEOUT_MAX, and the
 * idle VM's only thread parks on it instead of spinning (the deadline in
 * nanoseconds used to overflow into "due now", so the timer sleeper never
 * parked again). */
Test(timers, huge_delay_is_a_far_deadline_and_the_vm_parks)
{
    tvm t = tvm_start(1);
    fx_vm_stats before, after;
    fx_vm_stats_get(t.vm, &before);
    fx_timer tm;
    cr_assert_eq(fx_vm_send_after(t.vm, INT64_MAX, t.me, TICK, NULL, 0, &tm), 0);
    fx_timer tm2;
    cr_assert_eq(fx_vm_send_after(t.vm, (int64_t) 18e12, t.me, TICK, NULL, 0, &tm2), 0);
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t.in, NULL, 200, &m), FX_ETIMEDOUT);
    /* A loaded machine may not have run the thread yet: up to 10 s. */
    fx_vm_stats_get(t.vm, &after);
    for (int i = 0; i < 1000 && after.parks <= before.parks; i++) {
        usleep(10000);
        fx_vm_stats_get(t.vm, &after);
    }
    cr_assert_gt(after.parks, before.parks, "the scheduler thread never parked");
    int64_t left = fx_read_timer(t.vm, tm);
    cr_assert_gt(left, FX_TIMEOUT_MAX - 60000);
    cr_assert_leq(left, FX_TIMEOUT_MAX);
    cr_assert_gt(fx_cancel_timer(t.vm, tm), FX_TIMEOUT_MAX - 60000);
    cr_assert_gt(fx_cancel_timer(t.vm, tm2), (int64_t) 1e12);
    tvm_stop(&t);
}

/* A receive timeout of INT64_MAX waits for the message. */
Test(timers, inbox_recv_with_int64_max_waits)
{
    tvm t = tvm_start(2);
    cr_assert_eq(fx_vm_send_after(t.vm, 30, t.me, TICK, NULL, 0, NULL), 0);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(t.in, NULL, INT64_MAX, &m), 0);
    cr_assert_eq(fx_msg_type(m), TICK);
    fx_msg_free(m);
    tvm_stop(&t);
}

/* The same inside the VM: a receive with INT64_MAX gets the message, and
 * its timer is a far one. */
static fx_next wait_set(fx_ctx *cx, fx_msg *m)
{
    fx_pid *to = fx_state(cx);
    if (fx_msg_type(m) == SET)
        fx_send(cx, *to, TICK, NULL, 0);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next start_wait(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_receive(cx, wait_set, &(fx_match){.type = SET}, INT64_MAX);
}

Test(timers, receive_with_int64_max_waits)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_state(t.vm, start_wait, &t.me, sizeof t.me);
    cr_assert_eq(fx_vm_send(t.vm, p, TICK, NULL, 0), 0);
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t.in, NULL, 100, &m), FX_ETIMEDOUT);
    cr_assert_eq(fx_vm_send(t.vm, p, SET, NULL, 0), 0);
    m = tvm_recv(&t, 0);
    cr_assert_eq(fx_msg_type(m), TICK);
    fx_msg_free(m);
    tvm_stop(&t);
}

/* ---- timers die with their target (issue 13, defect 3) ------------------ */

enum { GONE = 9 };

static void report_gone(void *state, const fx_reason *why)
{
    (void) why;
    tvm *t = state;
    fx_vm_send(t->vm, t->me, GONE, NULL, 0);
}

static fx_next stop_on_message(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_normal());
}

/* When the target exits, read_timer and cancel_timer answer "no timer"
 * (they used to report the time left until it would have fired). */
Test(timers, exit_of_the_target_cancels_its_timers)
{
    static tvm t;
    t = tvm_start(2);
    fx_spawn_opts o = {.handler = stop_on_message, .state = &t, .cleanup = report_gone};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    fx_timer a, b;
    uint64_t v = 1;
    cr_assert_eq(fx_vm_send_after(t.vm, 60000, p, TICK, &v, sizeof v, &a), 0);
    cr_assert_eq(fx_vm_send_after(t.vm, 60000, p, TICK, &v, sizeof v, &b), 0);
    cr_assert_gt(fx_read_timer(t.vm, a), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, SET, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, GONE));
    cr_assert_eq(fx_read_timer(t.vm, a), FX_ENOENT);
    cr_assert_eq(fx_cancel_timer(t.vm, a), FX_ENOENT);
    cr_assert_eq(fx_cancel_timer(t.vm, b), FX_ENOENT);
    cr_assert_eq(fx_read_timer(t.vm, b), FX_ENOENT);
    /* A timer armed for a pid already dead is accepted (the message would
     * be dropped), and there is no timer to read or cancel. */
    fx_timer c;
    cr_assert_eq(fx_vm_send_after(t.vm, 60000, p, TICK, NULL, 0, &c), 0);
    cr_assert_eq(fx_read_timer(t.vm, c), FX_ENOENT);
    cr_assert_eq(fx_cancel_timer(t.vm, c), FX_ENOENT);
    /* Timers to live processes are untouched. */
    fx_timer d;
    cr_assert_eq(fx_vm_send_after(t.vm, 60000, t.me, TICK, NULL, 0, &d), 0);
    cr_assert_gt(fx_read_timer(t.vm, d), 0);
    cr_assert_gt(fx_cancel_timer(t.vm, d), 0);
    tvm_stop(&t);
}

/* Defect 5 (issue 13): after shutdown the timer calls answer
 * FX_ESHUTDOWN, not the time left of a timer that will never fire. */
Test(timers, cancel_and_read_after_shutdown_are_eshutdown)
{
    tvm t = tvm_start(2);
    fx_timer tm;
    cr_assert_eq(fx_vm_send_after(t.vm, 60000, t.me, TICK, NULL, 0, &tm), 0);
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    cr_assert_eq(fx_read_timer(t.vm, tm), FX_ESHUTDOWN);
    cr_assert_eq(fx_cancel_timer(t.vm, tm), FX_ESHUTDOWN);
    fx_vm_destroy(t.vm);
}

/* ---- a long receive timeout never fires early --------------------------- */

/* A receive timeout fires no earlier than the timeout after the receive,
 * as measured by CLOCK_MONOTONIC (the wheel reads whole milliseconds:
 * without the extra millisecond of actor/timers.c a timer could fire up
 * to 1 ms early). Short and long timeouts, several processes. */
enum { EARLY_N = 8 };
static const int64_t early_ms[EARLY_N] = {1, 2, 3, 5, 7, 11, 1000, 1001};

typedef struct {
    fx_pid report;
    int64_t timeout_ms;
    uint64_t armed_ns;
} early_state;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static fx_next early_timed_out(fx_ctx *cx, fx_msg *m)
{
    early_state *st = fx_state(cx);
    int64_t waited = (int64_t) (mono_ns() - st->armed_ns);
    int64_t margin = fx_msg_type(m) == FX_MSG_TIMEOUT ? waited - st->timeout_ms * 1000000
                                                      : INT64_MIN; /* not the timeout */
    fx_send(cx, st->report, TICK, &margin, sizeof margin);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next early_arm(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    early_state *st = fx_state(cx);
    st->armed_ns = mono_ns();
    return fx_receive(cx, early_timed_out, &(fx_match){.type = SET}, st->timeout_ms);
}

Test(timers, a_long_receive_timeout_never_fires_early)
{
    tvm t = tvm_start(2);
    for (int i = 0; i < EARLY_N; i++) {
        early_state st = {.report = t.me, .timeout_ms = early_ms[i]};
        fx_pid p = spawn_state(t.vm, early_arm, &st, sizeof st);
        cr_assert_eq(fx_vm_send(t.vm, p, TICK, NULL, 0), 0);
    }
    for (int i = 0; i < EARLY_N; i++) {
        fx_msg *m = tvm_recv(&t, TICK);
        int64_t margin;
        memcpy(&margin, fx_msg_data(m), sizeof margin);
        fx_msg_free(m);
        cr_assert_neq(margin, INT64_MIN, "no timeout message");
        cr_assert_geq(margin, 0, "a receive timeout fired %lld ns early",
                      (long long) -margin);
    }
    tvm_stop(&t);
}
