/* What a stuck call holds back besides its thread's next and held slots
 * (docs/watchdog.md, "Hand-over"): the wake-ups its sends deferred to the
 * end of the call, and the senders muted on its thread. When the
 * watchdog takes the stuck thread's slots it hands those over too, so a
 * deferred-wake receiver and a muted sender run while the call spins
 * (at 1 thread, on a spare). The stuck loop spins on a flag the test
 * clears, so every test ends with every thread joined and everything
 * freed (ASan/LSan). Without the hand-over the PONG / SENT2 below arrive
 * only after the release: the 10 s receives fail. A receive timeout
 * armed on the stuck thread just before (held in its lazy ring until its
 * next tick) goes to the wheel with the hand-over too. */
#include "helpers.h"

#include <stdatomic.h>
#include <time.h>

enum {
    SPIN = 1,
    FWD,
    HELLO,
    PONG,
    DONE,
    GO,
    GO2,
    SENT2,
    FLOOD,
    OPEN,
    JUNK,
    NEVER,
    TMO,
    WORK,
    ALL
};

static atomic_int release_spin, spinning, stuck_reports;

static void logger(void *arg, const fx_crash_report *r)
{
    (void) arg;
    if (r->kind == FX_REPORT_STUCK && r->label && strcmp(r->label, "spinner") == 0)
        atomic_fetch_add(&stuck_reports, 1);
}

typedef struct spin_state {
    fx_pid report, sink;
} spin_state;

/* SPIN: loops until released, then DONE to the report inbox. FWD
 * (payload: a pid): HELLO to it, then 64 JUNK to the sink (a full
 * chain: the HELLO is published before it, its receiver's wake-up
 * deferred to the end of this call), then loops like SPIN. */
static fx_next spinner(fx_ctx *cx, fx_msg *m)
{
    spin_state *st = fx_state(cx);
    if (fx_msg_type(m) == FWD) {
        fx_pid peer;
        memcpy(&peer, fx_msg_data(m), sizeof peer);
        fx_send(cx, peer, HELLO, &st->report, sizeof st->report);
        /* 64 to the sink fill its chain (docs/design.md, "Sender-side
         * batching"): the older HELLO chain is published first, its
         * receiver's wake-up deferred to the end of this call. */
        for (int i = 0; i < 64; i++)
            fx_send(cx, st->sink, JUNK, NULL, 0);
    }
    atomic_store(&spinning, 1);
    while (!atomic_load_explicit(&release_spin, memory_order_relaxed))
        ;
    fx_send(cx, st->report, DONE, NULL, 0);
    return fx_continue(cx);
}

/* HELLO (payload: a pid): PONG there. */
static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    fx_pid to;
    memcpy(&to, fx_msg_data(m), sizeof to);
    fx_send(cx, to, PONG, NULL, 0);
    return fx_continue(cx);
}

static fx_next sink(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static tvm start(uint32_t threads)
{
    atomic_store(&release_spin, 0);
    atomic_store(&spinning, 0);
    atomic_store(&stuck_reports, 0);
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = threads;
    c.stuck_ms = 50;
    c.mute_high = 8; /* mute_low: 4 */
    c.crash_logger = logger;
    return tvm_start_with(&c);
}

static fx_pid spawn_spinner(tvm *t, fx_pid sink_pid)
{
    spin_state st = {t->me, sink_pid};
    fx_spawn_opts o = {.handler = spinner,
                       .state_size = sizeof st,
                       .state_init = &st,
                       .label = "spinner"};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, &p), 0);
    return p;
}

static void release_and_stop(tvm *t)
{
    atomic_store(&release_spin, 1);
    fx_msg_free(tvm_recv(t, DONE));
    tvm_stop(t);
}

static void deferred_wake_is_handed_over(uint32_t threads)
{
    tvm t = start(threads);
    fx_pid k = spawn_state(t.vm, sink, NULL, 0);
    fx_pid s = spawn_spinner(&t, k);
    fx_pid e = spawn_state(t.vm, echo, NULL, 0);
    cr_assert_eq(fx_vm_send(t.vm, s, FWD, &e, sizeof e), 0);
    /* The echo has its HELLO but is not scheduled until the stuck call
     * ends, unless the watchdog hands its wake-up over. */
    fx_msg_free(tvm_recv(&t, PONG));
    cr_assert_eq(atomic_load(&spinning), 1);
    cr_assert_eq(atomic_load(&release_spin), 0);
    cr_assert_geq(atomic_load(&stuck_reports), 1);
    release_and_stop(&t);
}

Test(watchdog_hold, deferred_wake_up_is_handed_over_1_thread)
{
    deferred_wake_is_handed_over(1);
}

Test(watchdog_hold, deferred_wake_up_is_handed_over_2_threads)
{
    deferred_wake_is_handed_over(2);
}

/* The gate: its first message makes it wait for OPEN with a selective
 * receive, so the rest of its queue stays over the low mark (its
 * senders stay muted) until the test opens it. */
static fx_next gate_open(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static fx_next gate(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_receive(cx, gate_open, &(fx_match){.type = OPEN}, FX_INFINITY);
}

typedef struct muter {
    fx_pid gate, spinner, report;
} muter;

/* GO: 20 messages to the gate (over its mark: this process is muted
 * after the call, on this thread), and SPIN to the spinner, which is
 * woken into this thread's next slot and gets stuck there. GO2: SENT2
 * to the report inbox. */
static fx_next muter_h(fx_ctx *cx, fx_msg *m)
{
    muter *st = fx_state(cx);
    if (fx_msg_type(m) == GO) {
        for (int i = 0; i < 20; i++)
            fx_send(cx, st->gate, FLOOD, NULL, 0);
        fx_send(cx, st->spinner, SPIN, NULL, 0);
    } else {
        fx_send(cx, st->report, SENT2, NULL, 0);
    }
    return fx_continue(cx);
}

static void muted_sender_is_handed_over(uint32_t threads)
{
    tvm t = start(threads);
    fx_pid k = spawn_state(t.vm, sink, NULL, 0);
    fx_pid g = spawn_state(t.vm, gate, NULL, 0);
    muter st = {g, spawn_spinner(&t, k), t.me};
    fx_pid mp = spawn_state(t.vm, muter_h, &st, sizeof st);
    cr_assert_eq(fx_vm_send(t.vm, mp, GO, NULL, 0), 0);
    cr_assert_eq(fx_vm_send(t.vm, mp, GO2, NULL, 0), 0);
    /* GO2 runs only once the muted sender is released: the gate never
     * drains before OPEN, so only the hand-over releases it. */
    fx_msg_free(tvm_recv(&t, SENT2));
    cr_assert_eq(atomic_load(&release_spin), 0);
    cr_assert_geq(atomic_load(&stuck_reports), 1);
    cr_assert_eq(fx_vm_send(t.vm, g, OPEN, NULL, 0), 0);
    release_and_stop(&t);
}

Test(watchdog_hold, muted_sender_is_handed_over_1_thread)
{
    muted_sender_is_handed_over(1);
}

Test(watchdog_hold, muted_sender_is_handed_over_2_threads)
{
    muted_sender_is_handed_over(2);
}

/* GO: SPIN to the spinner (woken into this thread's next slot, where it
 * gets stuck), then a 30 ms receive for a message that never comes: its
 * timeout waits in this thread's lazy ring (actor/recv_timer.h) for a
 * tick the stuck call holds back, unless the hand-over moves it. On the
 * TIMEOUT: TMO to the report inbox. */
typedef struct timer_st {
    fx_pid report, spinner;
} timer_st;

static fx_next timed_out(fx_ctx *cx, fx_msg *m)
{
    timer_st *st = fx_state(cx);
    if (fx_msg_type(m) == FX_MSG_TIMEOUT)
        fx_send(cx, st->report, TMO, NULL, 0);
    return fx_continue(cx);
}

static fx_next timer_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    timer_st *st = fx_state(cx);
    fx_send(cx, st->spinner, SPIN, NULL, 0);
    return fx_receive(cx, timed_out, &(fx_match){.type = NEVER}, 30);
}

static void receive_timeout_is_handed_over(uint32_t threads)
{
    tvm t = start(threads);
    fx_pid k = spawn_state(t.vm, sink, NULL, 0);
    timer_st st = {t.me, spawn_spinner(&t, k)};
    fx_pid tp = spawn_state(t.vm, timer_h, &st, sizeof st);
    cr_assert_eq(fx_vm_send(t.vm, tp, GO, NULL, 0), 0);
    /* The TIMEOUT comes while the call spins (the spinner is released
     * only below). */
    fx_msg_free(tvm_recv(&t, TMO));
    cr_assert_eq(atomic_load(&release_spin), 0);
    release_and_stop(&t);
}

Test(watchdog_hold, receive_timeout_is_handed_over_1_thread)
{
    receive_timeout_is_handed_over(1);
}

Test(watchdog_hold, receive_timeout_is_handed_over_2_threads)
{
    receive_timeout_is_handed_over(2);
}

/* A pinned bottleneck (docs/design.md, "Gathering producers"): the
 * feeder's one call queues PINNED_N messages for the worker, whose first
 * one wakes the spinner into this thread's next slot. The worker's run
 * ends with its queue over its mark (8), so it waits on this thread's
 * pinned ring, which thieves never see, while the spinner is stuck after
 * it. Only the watchdog's hand-over of the ring lets it finish (ALL)
 * before the spinner is released. */
#define PINNED_N 400

typedef struct pin_st {
    fx_pid report, spinner, worker;
    uint32_t got;
} pin_st;

static fx_next pinned_worker(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    pin_st *st = fx_state(cx);
    if (st->got++ == 0)
        fx_send(cx, st->spinner, SPIN, NULL, 0);
    if (st->got == PINNED_N)
        fx_send(cx, st->report, ALL, NULL, 0);
    return fx_continue(cx);
}

static fx_next feeder(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    pin_st *st = fx_state(cx);
    for (int i = 0; i < PINNED_N; i++)
        fx_send(cx, st->worker, WORK, NULL, 0);
    return fx_continue(cx);
}

static void pinned_bottleneck_is_handed_over(uint32_t threads)
{
    tvm t = start(threads);
    fx_pid k = spawn_state(t.vm, sink, NULL, 0);
    pin_st st = {t.me, spawn_spinner(&t, k), FX_PID_NONE, 0};
    st.worker = spawn_state(t.vm, pinned_worker, &st, sizeof st);
    fx_pid f = spawn_state(t.vm, feeder, &st, sizeof st);
    cr_assert_eq(fx_vm_send(t.vm, f, GO, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, ALL));
    cr_assert_eq(atomic_load(&release_spin), 0);
    cr_assert_geq(atomic_load(&stuck_reports), 1);
    release_and_stop(&t);
}

Test(watchdog_hold, pinned_bottleneck_is_handed_over_1_thread)
{
    pinned_bottleneck_is_handed_over(1);
}

Test(watchdog_hold, pinned_bottleneck_is_handed_over_2_threads)
{
    pinned_bottleneck_is_handed_over(2);
}
