/* The watchdog (docs/watchdog.md): a handler stuck in a loop is reported
 * once, the rest of the VM keeps serving (other threads, a spare thread,
 * the stuck thread's next slot handed over), and fx_vm_shutdown gives up
 * at its deadline with FX_ESTUCK, then completes once the handler
 * returns. The stuck loops spin on a flag the test releases, so every
 * test ends with every thread joined and everything freed (ASan/LSan). */
#include "helpers.h"

#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

enum { SPIN = 1, FWD, HELLO, PING, PONG, DONE };

static atomic_int release_spin;
static atomic_int spinning;
static atomic_int stuck_reports, shutdown_reports, crash_reports;
/* Stuck reports about other processes: on a loaded machine a short
 * handler whose thread is preempted for longer than stuck_ms is reported
 * too (the watchdog measures wall time). Counted, not asserted on. */
static atomic_int other_stuck;
static atomic_ullong stuck_pid;
static char stuck_line[256];

static void logger(void *arg, const fx_crash_report *r)
{
    (void) arg;
    bool spinner = r->label && strcmp(r->label, "spinner") == 0;
    if (r->kind != FX_REPORT_CRASH && !spinner) {
        atomic_fetch_add(&other_stuck, 1);
    } else if (r->kind == FX_REPORT_STUCK) {
        atomic_store(&stuck_pid, r->pid.id);
        /* The line first, then the count the test waits for (stuck reports
         * come from the one watchdog thread, so the check cannot race). */
        if (atomic_load(&stuck_reports) == 0)
            fx_crash_report_format(r, stuck_line, sizeof stuck_line);
        atomic_fetch_add(&stuck_reports, 1);
    } else if (r->kind == FX_REPORT_STUCK_AT_SHUTDOWN) {
        atomic_store(&stuck_pid, r->pid.id);
        atomic_fetch_add(&shutdown_reports, 1);
    } else {
        atomic_fetch_add(&crash_reports, 1);
    }
}

static void spin(void)
{
    atomic_store(&spinning, 1);
    while (!atomic_load_explicit(&release_spin, memory_order_relaxed))
        ;
}

/* SPIN: loops until released, then tells the sender. FWD (payload: a
 * pid): sends HELLO to it (which wakes it into this thread's next slot
 * when the call's sends are published), then SPIN to itself, which the
 * same run then handles: the pid waits in the next slot of a stuck
 * thread. */
static fx_next spinner(fx_ctx *cx, fx_msg *m)
{
    fx_pid *report = fx_state(cx);
    if (fx_msg_type(m) == FWD) {
        fx_pid peer;
        memcpy(&peer, fx_msg_data(m), sizeof peer);
        fx_send(cx, peer, HELLO, report, sizeof *report);
        fx_send(cx, fx_self(cx), SPIN, NULL, 0);
        return fx_continue(cx);
    }
    spin();
    fx_send(cx, *report, DONE, NULL, 0);
    return fx_continue(cx);
}

/* PING or HELLO (payload: a pid): PONG there. */
static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    fx_pid to;
    memcpy(&to, fx_msg_data(m), sizeof to);
    fx_send(cx, to, PONG, NULL, 0);
    return fx_continue(cx);
}

static void reset(void)
{
    atomic_store(&release_spin, 0);
    atomic_store(&spinning, 0);
    atomic_store(&stuck_reports, 0);
    atomic_store(&shutdown_reports, 0);
    atomic_store(&crash_reports, 0);
    atomic_store(&other_stuck, 0);
}

static fx_pid spawn_spinner(tvm *t)
{
    fx_spawn_opts o = {.handler = spinner,
                       .state_size = sizeof t->me,
                       .state_init = &t->me,
                       .label = "spinner"};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, &p), 0);
    return p;
}

static tvm start(uint32_t threads, uint32_t shutdown_ms)
{
    reset();
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = threads;
    c.stuck_ms = 50;
    c.shutdown_timeout_ms = shutdown_ms;
    c.crash_logger = logger;
    return tvm_start_with(&c);
}

static void sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/* Waits (at most 10 s) until *v >= n. */
static void wait_for(atomic_int *v, int n)
{
    for (int i = 0; i < 10000 && atomic_load(v) < n; i++)
        sleep_ms(1);
    cr_assert_geq(atomic_load(v), n, "waited 10 s");
}

static void stuck_is_reported_once_and_others_run(uint32_t threads)
{
    tvm t = start(threads, 0);
    fx_pid s = spawn_spinner(&t);
    cr_assert_eq(fx_vm_send(t.vm, s, SPIN, NULL, 0), 0);
    wait_for(&stuck_reports, 1);
    cr_assert_eq(atomic_load(&stuck_pid), s.id);
    cr_assert(strstr(stuck_line, "=STUCK REPORT====") && strstr(stuck_line, "spinner"),
              "%s", stuck_line);
    /* Other actors keep running while it spins: 100 round trips. */
    fx_pid e = spawn_state(t.vm, echo, NULL, 0);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(fx_vm_send(t.vm, e, PING, &t.me, sizeof t.me), 0);
        fx_msg_free(tvm_recv(&t, PONG));
    }
    sleep_ms(300); /* six limits: still one report for the one call */
    cr_assert_eq(atomic_load(&stuck_reports), 1);
    fx_vm_stats st;
    cr_assert_eq(fx_vm_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.stuck, 1 + (uint64_t) atomic_load(&other_stuck));
    if (threads == 1)
        cr_assert_geq(st.spares_started, 1, "one thread, stuck: a spare must serve");
    atomic_store(&release_spin, 1);
    fx_msg_free(tvm_recv(&t, DONE));
    cr_assert_eq(atomic_load(&crash_reports), 0);
    tvm_stop(&t);
}

Test(watchdog, stuck_handler_reported_once_others_run_1_thread)
{
    stuck_is_reported_once_and_others_run(1);
}

Test(watchdog, stuck_handler_reported_once_others_run_2_threads)
{
    stuck_is_reported_once_and_others_run(2);
}

static void next_slot_is_handed_over(uint32_t threads)
{
    tvm t = start(threads, 0);
    fx_pid s = spawn_spinner(&t);
    fx_pid e = spawn_state(t.vm, echo, NULL, 0);
    cr_assert_eq(fx_vm_send(t.vm, s, FWD, &e, sizeof e), 0);
    /* The echo sits in the stuck thread's next slot: it answers only if
     * the watchdog hands it to another thread. */
    fx_msg_free(tvm_recv(&t, PONG));
    cr_assert_eq(atomic_load(&spinning), 1);
    cr_assert_eq(atomic_load(&stuck_reports), 1);
    atomic_store(&release_spin, 1);
    fx_msg_free(tvm_recv(&t, DONE));
    /* The thread serves normally after the call returned. */
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(fx_vm_send(t.vm, e, PING, &t.me, sizeof t.me), 0);
        fx_msg_free(tvm_recv(&t, PONG));
    }
    tvm_stop(&t);
}

Test(watchdog, stuck_threads_next_slot_is_handed_over_1_thread)
{
    next_slot_is_handed_over(1);
}

Test(watchdog, stuck_threads_next_slot_is_handed_over_2_threads)
{
    next_slot_is_handed_over(2);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

Test(watchdog, shutdown_with_stuck_handler_returns_estuck_then_completes)
{
    tvm t = start(2, 200);
    fx_pid s = spawn_spinner(&t);
    cr_assert_eq(fx_vm_send(t.vm, s, SPIN, NULL, 0), 0);
    wait_for(&spinning, 1);
    uint64_t t0 = now_ms();
    cr_assert_eq(fx_vm_shutdown(t.vm), FX_ESTUCK);
    /* A generous bound: the deadline is 200 ms, without it this hangs. */
    cr_assert_lt(now_ms() - t0, 10000);
    cr_assert_eq(atomic_load(&shutdown_reports), 1);
    cr_assert_eq(atomic_load(&stuck_pid), s.id);
    cr_assert_eq(fx_vm_running(t.vm), 0);
    cr_assert_eq(fx_vm_send(t.vm, s, SPIN, NULL, 0), FX_ESHUTDOWN);
    /* Still stuck: a second call gives up again. */
    cr_assert_eq(fx_vm_shutdown(t.vm), FX_ESTUCK);
    cr_assert_eq(atomic_load(&shutdown_reports), 2);
    /* Released, the next call joins the thread and frees everything. */
    atomic_store(&release_spin, 1);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
}

Test(watchdog, destroy_after_estuck_completes_once_released)
{
    tvm t = start(1, 100);
    fx_pid s = spawn_spinner(&t);
    cr_assert_eq(fx_vm_send(t.vm, s, SPIN, NULL, 0), 0);
    wait_for(&spinning, 1);
    cr_assert_eq(fx_vm_shutdown(t.vm), FX_ESTUCK);
    atomic_store(&release_spin, 1);
    /* The returned thread went offline: the inbox is freed without the
     * VM having stopped. */
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
}

Test(watchdog, off_reports_nothing)
{
    reset();
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.stuck_ms = FX_WATCHDOG_OFF;
    c.crash_logger = logger;
    tvm t = tvm_start_with(&c);
    fx_pid s = spawn_spinner(&t);
    cr_assert_eq(fx_vm_send(t.vm, s, SPIN, NULL, 0), 0);
    wait_for(&spinning, 1);
    sleep_ms(300);
    cr_assert_eq(atomic_load(&stuck_reports), 0);
    fx_vm_stats st;
    cr_assert_eq(fx_vm_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.stuck, 0);
    atomic_store(&release_spin, 1);
    fx_msg_free(tvm_recv(&t, DONE));
    tvm_stop(&t);
}

Test(watchdog, config_limits)
{
    fx_vm_config c;
    fx_vm *vm;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.stuck_ms = 3600001;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    c.stuck_ms = 0;
    c.spare_threads = 1023;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL); /* 1 + 1023 slots */
    c.spare_threads = FX_SPARE_NONE;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    fx_vm_destroy(vm);
}

Test(watchdog, version_2_config_ignores_the_new_fields)
{
    fx_vm_config c;
    fx_vm *vm;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.stuck_ms = 3600001; /* invalid in version 3, not a field of version 2 */
    c.version = 2;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    fx_vm_destroy(vm);
}
