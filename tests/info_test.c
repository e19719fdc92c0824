/* Process info, the process snapshot, per-scheduler statistics and the
 * observability counters of fx_vm_stats (include/fauxtp/info.h). Built
 * with -rdynamic (tests/meson.build) so dladdr can name the handlers
 * below, which are therefore not static. */
#include <stdatomic.h>
#include <time.h>

#include "helpers.h"

enum {
    GO = 100, /* -> actor: do the thing */
    DONE,     /* actor -> inbox */
    OTHER,    /* filler messages */
    HOLD,     /* -> blocker: wait for g_release */
    SPIN,     /* -> spinner: spin the clock for the carried ns */
    PING,     /* -> counter */
};

static atomic_bool g_release, g_in_hold;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static fx_proc_info info_of(fx_vm *vm, fx_pid p)
{
    fx_proc_info i;
    memset(&i, 0xa5, sizeof i); /* every field must be written */
    i.version = FX_PROC_INFO_VERSION;
    int rc = fx_process_info(vm, p, &i);
    cr_assert_eq(rc, 0, "fx_process_info: %s", fx_err_name(rc));
    cr_assert_eq(i.version, FX_PROC_INFO_VERSION);
    cr_assert(fx_pid_eq(i.pid, p));
    return i;
}

/* Polls until p has `status` (10 s at most): statuses change as threads
 * get around to it, and the test waits for a state, not a time. */
static fx_proc_info wait_status(fx_vm *vm, fx_pid p, fx_proc_status status)
{
    fx_proc_info i;
    for (int k = 0; k < 10000; k++) {
        i = info_of(vm, p);
        if (i.status == status)
            return i;
        sleep_ms(1);
    }
    cr_assert_fail("status %d never reached (last %d)", status, i.status);
    return i;
}

/* ---- handlers (non-static: dladdr names them) ---------------------------- */

fx_next info_test_counter(fx_ctx *cx, fx_msg *m);
fx_next info_test_counter(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == PING && fx_msg_size(m) == sizeof(fx_pid)) {
        fx_pid to;
        memcpy(&to, fx_msg_data(m), sizeof to);
        fx_send(cx, to, DONE, NULL, 0);
    }
    return fx_continue(cx);
}

fx_next info_test_blocker(fx_ctx *cx, fx_msg *m);
fx_next info_test_blocker(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == HOLD) {
        atomic_store(&g_in_hold, true);
        for (int k = 0; k < 20000 && !atomic_load(&g_release); k++)
            sleep_ms(1);
    }
    return fx_continue(cx);
}

fx_next info_test_spinner(fx_ctx *cx, fx_msg *m);
fx_next info_test_spinner(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == SPIN) {
        uint64_t ns, t0 = now_ns();
        memcpy(&ns, fx_msg_data(m), sizeof ns);
        while (now_ns() - t0 < ns)
            ;
        fx_send(cx, fx_msg_from(m), DONE, NULL, 0);
    }
    return fx_continue(cx);
}

fx_next info_test_picky(fx_ctx *cx, fx_msg *m);
fx_next info_test_picky_wait(fx_ctx *cx, fx_msg *m);
fx_next info_test_picky_wait(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}
/* On GO: waits (selective receive) for a DONE that never comes. */
fx_next info_test_picky(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    fx_match mt = {.type = DONE};
    return fx_receive(cx, info_test_picky_wait, &mt, FX_INFINITY);
}

/* On GO carrying the inbox pid and a target: traps exits, spawns a linked
 * child, monitors the target, then reports DONE with the child's pid. */
typedef struct tie_cmd {
    fx_pid inbox, target;
} tie_cmd;

fx_next info_test_tier(fx_ctx *cx, fx_msg *m);
fx_next info_test_tier(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) != GO)
        return fx_continue(cx);
    tie_cmd c;
    memcpy(&c, fx_msg_data(m), sizeof c);
    fx_trap_exit(cx, true);
    fx_spawn_opts o = {.handler = info_test_counter, .label = "info-kid"};
    fx_pid kid = FX_PID_NONE; /* the test fails on a missing kid */
    fx_ref r;
    if (fx_spawn_link(cx, &o, &kid) != 0 || fx_monitor(cx, c.target, &r) != 0)
        kid = FX_PID_NONE;
    fx_send(cx, c.inbox, DONE, &kid, sizeof kid);
    return fx_continue(cx);
}

/* On GO carrying a pid: sends it 3 messages in this one call. */
fx_next info_test_flooder(fx_ctx *cx, fx_msg *m);
fx_next info_test_flooder(fx_ctx *cx, fx_msg *m)
{
    fx_pid to;
    memcpy(&to, fx_msg_data(m), sizeof to);
    for (int k = 0; k < 3; k++)
        (void) fx_send(cx, to, OTHER, NULL, 0);
    fx_send(cx, fx_msg_from(m), DONE, NULL, 0);
    return fx_continue(cx);
}

/* On GO carrying a count n: spawns n counters, answers their pids. */
fx_next info_test_spawner(fx_ctx *cx, fx_msg *m);
fx_next info_test_spawner(fx_ctx *cx, fx_msg *m)
{
    uint32_t n;
    memcpy(&n, fx_msg_data(m), sizeof n);
    fx_pid kids[256];
    uint32_t got = 0; /* a failed spawn shows as a short answer */
    while (got < n && got < 256 && fx_spawn(cx, info_test_counter, NULL, &kids[got]) == 0)
        got++;
    fx_send(cx, fx_msg_from(m), DONE, kids, got * sizeof kids[0]);
    return fx_continue(cx);
}

fx_next info_test_stopper(fx_ctx *cx, fx_msg *m);
fx_next info_test_stopper(fx_ctx *cx, fx_msg *m)
{
    fx_reason r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    return fx_stop(cx, r);
}

/* ---- process info ---------------------------------------------------------- */

Test(info, waiting_process_fields)
{
    tvm t = tvm_start(2);
    fx_spawn_opts o = {.handler = info_test_counter,
                       .label = "info-counter",
                       .state_size = 40,
                       .mailbox = {1000, FX_MAILBOX_DROP}};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    fx_proc_info i = wait_status(t.vm, p, FX_PROC_WAITING);
    cr_assert_str_eq(i.label, "info-counter");
    cr_assert_str_eq(i.handler, "info_test_counter");
    cr_assert_str_eq(i.name, "");
    cr_assert_eq(i.queue_len, 0);
    cr_assert_eq(i.saved_len, 0);
    cr_assert_eq(i.handled, 0);
    cr_assert_eq(i.runtime_ns, 0); /* timing is off */
    cr_assert_eq(i.mailbox_max, 1000);
    cr_assert_eq(i.links, 0);
    cr_assert_eq(i.monitors, 0);
    cr_assert_eq(i.monitored_by, 0);
    cr_assert_eq(i.scheduler, UINT32_MAX);
    cr_assert(!i.trap_exit);
    cr_assert(fx_pid_is_none(i.parent)); /* spawned from outside the VM */
    cr_assert_geq(i.memory, 40 + 64);    /* record + inline state at least */
    /* 5 pings: 5 handled, exactly. */
    for (int k = 0; k < 5; k++)
        cr_assert_eq(fx_inbox_send(t.in, p, PING, &t.me, sizeof t.me), 0);
    for (int k = 0; k < 5; k++)
        fx_msg_free(tvm_recv(&t, DONE));
    i = wait_status(t.vm, p, FX_PROC_WAITING);
    cr_assert_eq(i.handled, 5);
    cr_assert_eq(i.queue_len, 0);
    tvm_stop(&t);
}

/* Records are recycled: a new process never inherits a dead one's
 * counts. */
Test(info, fresh_process_counts_from_zero)
{
    tvm t = tvm_start(1);
    enum { N = 200 };
    for (int k = 0; k < N; k++) {
        fx_pid p;
        fx_ref r;
        fx_spawn_opts o = {.handler = info_test_counter};
        cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
        for (int j = 0; j < 3; j++) {
            cr_assert_eq(fx_inbox_send(t.in, p, PING, &t.me, sizeof t.me), 0);
            fx_msg_free(tvm_recv(&t, DONE));
        }
        cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
        fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    }
    sleep_ms(20); /* grace periods end: the records go back to the allocator */
    /* Spawned on the scheduler thread that freed them (one thread), so
     * the allocator's thread cache hands the same memory out again. */
    fx_pid sp;
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_spawner, NULL, &sp), 0);
    uint32_t n = N;
    cr_assert_eq(fx_inbox_send(t.in, sp, GO, &n, sizeof n), 0);
    fx_msg *m = tvm_recv(&t, DONE);
    cr_assert_eq(fx_msg_size(m), N * sizeof(fx_pid));
    const fx_pid *kids = fx_msg_data(m);
    for (int k = 0; k < N; k++)
        cr_assert_eq(info_of(t.vm, kids[k]).handled, 0, "process %d", k);
    fx_msg_free(m);
    tvm_stop(&t);
}

Test(info, running_process_and_exact_queue)
{
    tvm t = tvm_start(2);
    atomic_store(&g_release, false);
    atomic_store(&g_in_hold, false);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_blocker, NULL, &p), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, HOLD, NULL, 0), 0);
    for (int k = 0; k < 10000 && !atomic_load(&g_in_hold); k++)
        sleep_ms(1);
    cr_assert(atomic_load(&g_in_hold));
    /* In its handler: RUNNING, on some scheduler; 7 more messages sent
     * (from this thread: delivered when fx_inbox_send returns) wait. */
    for (int k = 0; k < 7; k++)
        cr_assert_eq(fx_inbox_send(t.in, p, OTHER, NULL, 0), 0);
    fx_proc_info i = info_of(t.vm, p);
    cr_assert_eq(i.status, FX_PROC_RUNNING);
    cr_assert_lt(i.scheduler, fx_vm_sched_count(t.vm));
    cr_assert_str_eq(i.handler, "info_test_blocker");
    cr_assert_eq(i.queue_len, 7);
    cr_assert_eq(i.handled, 1);
    atomic_store(&g_release, true);
    i = wait_status(t.vm, p, FX_PROC_WAITING);
    cr_assert_eq(i.queue_len, 0);
    cr_assert_eq(i.handled, 8);
    tvm_stop(&t);
}

/* One scheduler thread, held by a handler (no watchdog: no spare thread
 * takes over): a process with a message waits its turn, RUNNABLE. */
Test(info, runnable_while_the_thread_is_busy)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.stuck_ms = FX_WATCHDOG_OFF;
    tvm t = tvm_start_with(&c);
    atomic_store(&g_release, false);
    atomic_store(&g_in_hold, false);
    fx_pid b, p;
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_blocker, NULL, &b), 0);
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_counter, NULL, &p), 0);
    cr_assert_eq(info_of(t.vm, p).status, FX_PROC_WAITING);
    cr_assert_eq(fx_inbox_send(t.in, b, HOLD, NULL, 0), 0);
    for (int k = 0; k < 10000 && !atomic_load(&g_in_hold); k++)
        sleep_ms(1);
    cr_assert_eq(fx_inbox_send(t.in, p, PING, &t.me, sizeof t.me), 0);
    fx_proc_info i = info_of(t.vm, p);
    cr_assert_eq(i.status, FX_PROC_RUNNABLE);
    cr_assert_eq(i.queue_len, 1);
    cr_assert_eq(i.scheduler, UINT32_MAX);
    cr_assert_eq(info_of(t.vm, b).status, FX_PROC_RUNNING);
    cr_assert_eq(info_of(t.vm, b).scheduler, 0);
    atomic_store(&g_release, true);
    fx_msg_free(tvm_recv(&t, DONE));
    cr_assert_eq(wait_status(t.vm, p, FX_PROC_WAITING).handled, 1);
    tvm_stop(&t);
}

Test(info, selective_receive_saved_messages)
{
    tvm t = tvm_start(2);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_picky, NULL, &p), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, GO, NULL, 0), 0);
    for (int k = 0; k < 3; k++)
        cr_assert_eq(fx_inbox_send(t.in, p, OTHER, NULL, 0), 0);
    fx_proc_info i;
    for (int k = 0; k < 10000; k++) {
        i = info_of(t.vm, p);
        if (i.status == FX_PROC_WAITING && i.saved_len == 3)
            break;
        sleep_ms(1);
    }
    cr_assert_eq(i.status, FX_PROC_WAITING);
    cr_assert_eq(i.saved_len, 3);
    cr_assert_eq(i.queue_len, 3);
    cr_assert_eq(i.handled, 1); /* GO only: the others wait */
    cr_assert_str_eq(i.handler, "info_test_picky_wait");
    tvm_stop(&t);
}

Test(info, links_monitors_trap_exit_parent)
{
    tvm t = tvm_start(2);
    fx_pid target, tier;
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_counter, NULL, &target), 0);
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_tier, NULL, &tier), 0);
    tie_cmd c = {t.me, target};
    cr_assert_eq(fx_inbox_send(t.in, tier, GO, &c, sizeof c), 0);
    fx_msg *m = tvm_recv(&t, DONE);
    fx_pid kid;
    memcpy(&kid, fx_msg_data(m), sizeof kid);
    fx_msg_free(m);
    cr_assert(!fx_pid_is_none(kid), "spawn_link or monitor failed");
    fx_proc_info i = wait_status(t.vm, tier, FX_PROC_WAITING);
    cr_assert(i.trap_exit);
    cr_assert_eq(i.links, 1);
    cr_assert_eq(i.monitors, 1);
    cr_assert_eq(i.monitored_by, 0);
    fx_proc_info k = wait_status(t.vm, kid, FX_PROC_WAITING);
    cr_assert(fx_pid_eq(k.parent, tier));
    cr_assert_str_eq(k.label, "info-kid");
    cr_assert_eq(k.links, 1);
    cr_assert(!k.trap_exit);
    fx_proc_info g = wait_status(t.vm, target, FX_PROC_WAITING);
    cr_assert_eq(g.monitored_by, 1);
    cr_assert_eq(g.links, 0);
    tvm_stop(&t);
}

Test(info, registered_name)
{
    tvm t = tvm_start(2);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_counter, NULL, &p), 0);
    cr_assert_eq(fx_register(t.in, "info_named", p, NULL), 0);
    fx_proc_info i = info_of(t.vm, p);
    cr_assert_str_eq(i.name, "info_named");
    tvm_stop(&t);
}

Test(info, supervised_child_parent)
{
    tvm t = tvm_start(2);
    fx_spawn_opts kid = {.handler = info_test_counter, .label = "info-sup-kid"};
    fx_child_spec cs = {.id = "k", .start = fx_child_actor, .arg = &kid};
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.children = &cs;
    s.nchildren = 1;
    fx_pid sup;
    cr_assert_eq(fx_sup_start(t.in, &s, &sup, NULL), 0);
    fx_child_info ci;
    cr_assert_eq(fx_sup_which_children(t.in, sup, &ci, 1, 10000), 1);
    fx_proc_info i = info_of(t.vm, ci.pid);
    cr_assert(fx_pid_eq(i.parent, sup));
    cr_assert_str_eq(i.label, "info-sup-kid");
    cr_assert_geq(i.links, 1);
    fx_proc_info si = info_of(t.vm, sup);
    cr_assert(si.trap_exit);
    cr_assert_str_eq(si.label, "supervisor");
    /* A restart is counted. */
    fx_vm_stats st0, st1;
    cr_assert_eq(fx_vm_stats_get(t.vm, &st0), 0);
    cr_assert_eq(fx_vm_exit(t.vm, ci.pid, fx_reason_kill()), 0);
    for (int k = 0; k < 10000; k++) {
        cr_assert_eq(fx_vm_stats_get(t.vm, &st1), 0);
        if (st1.restarts > st0.restarts)
            break;
        sleep_ms(1);
    }
    cr_assert_eq(st1.restarts, st0.restarts + 1);
    tvm_stop(&t);
}

Test(info, dead_and_other_pids)
{
    tvm t = tvm_start(2);
    fx_proc_info i;
    i.version = 0;                                             /* reads as version 1 */
    cr_assert_eq(fx_process_info(t.vm, t.me, &i), FX_ENOPROC); /* an inbox */
    fx_pid p;
    fx_ref r;
    fx_spawn_opts o = {.handler = info_test_counter};
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
    cr_assert_eq(fx_process_info(t.vm, p, &i), 0);
    cr_assert_eq(i.version, FX_PROC_INFO_VERSION);
    cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
    fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    cr_assert_eq(fx_process_info(t.vm, p, &i), FX_ENOPROC);
    tvm_stop(&t);
}

/* ---- the snapshot ---------------------------------------------------------- */

typedef struct tally {
    uint64_t ours, waiting, total, handled;
    uint64_t stop_after;
} tally;

static int count_ours(void *arg, const fx_proc_info *i)
{
    tally *t = arg;
    t->total++;
    if (strcmp(i->label, "info-many") == 0) {
        t->ours++;
        t->handled += i->handled;
        t->waiting += i->status == FX_PROC_WAITING;
        cr_assert_str_eq(i->handler, "info_test_counter");
    }
    return t->stop_after && t->total == t->stop_after ? 42 : 0;
}

Test(info, snapshot_visits_every_process)
{
    tvm t = tvm_start(2);
    enum { N = 3000 };
    fx_spawn_opts o = {.handler = info_test_counter, .label = "info-many"};
    for (int k = 0; k < N; k++) {
        fx_pid p;
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
        if (k % 100 == 0) {
            cr_assert_eq(fx_inbox_send(t.in, p, PING, &t.me, sizeof t.me), 0);
            fx_msg_free(tvm_recv(&t, DONE));
        }
    }
    tally ta = {0};
    int n = fx_vm_processes(t.vm, count_ours, &ta);
    cr_assert_eq(ta.ours, N);
    cr_assert_eq(ta.handled, N / 100);
    cr_assert_eq((uint64_t) n, ta.total);
    cr_assert_geq(ta.waiting, N - 2); /* the last pinged may still be busy */
    /* A callback that stops the walk: its value comes back. */
    tally stop = {.stop_after = 10};
    cr_assert_eq(fx_vm_processes(t.vm, count_ours, &stop), 42);
    cr_assert_eq(stop.total, 10);
    tvm_stop(&t);
}

/* ---- timing and statistics ---------------------------------------------------- */

Test(info, timing_charges_runtime)
{
    tvm t = tvm_start(2);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_spinner, NULL, &p), 0);
    uint64_t spin = 20 * 1000 * 1000; /* 20 ms of the handler's own clock */
    cr_assert_eq(fx_inbox_send(t.in, p, SPIN, &spin, sizeof spin), 0);
    fx_msg_free(tvm_recv(&t, DONE));
    cr_assert_eq(wait_status(t.vm, p, FX_PROC_WAITING).runtime_ns, 0); /* off */
    cr_assert_eq(fx_vm_set_timing(t.vm, true), 0);
    cr_assert_eq(fx_vm_set_timing(t.vm, true), 1);
    cr_assert_eq(fx_inbox_send(t.in, p, SPIN, &spin, sizeof spin), 0);
    fx_msg_free(tvm_recv(&t, DONE));
    /* The run that spun contains the spin: at least that long. */
    fx_proc_info i = wait_status(t.vm, p, FX_PROC_WAITING);
    for (int k = 0; k < 10000 && i.runtime_ns < spin; k++) {
        sleep_ms(1); /* the charge follows the run's end */
        i = info_of(t.vm, p);
    }
    cr_assert_geq(i.runtime_ns, spin);
    uint64_t busy = 0;
    for (uint32_t s = 0; s < fx_vm_sched_count(t.vm); s++) {
        fx_sched_stats ss;
        ss.version = FX_SCHED_STATS_VERSION;
        cr_assert_eq(fx_vm_sched_stats(t.vm, s, &ss), 0);
        cr_assert_eq(ss.index, s);
        busy += ss.busy_ns;
    }
    cr_assert_geq(busy, spin);
    cr_assert_eq(fx_vm_set_timing(t.vm, false), 1);
    tvm_stop(&t);
}

Test(info, sched_stats)
{
    tvm t = tvm_start(2);
    cr_assert_geq(fx_vm_sched_count(t.vm), 2);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_counter, NULL, &p), 0);
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(fx_inbox_send(t.in, p, PING, &t.me, sizeof t.me), 0);
        fx_msg_free(tvm_recv(&t, DONE));
    }
    uint64_t runs = 0, sent = 0;
    for (uint32_t s = 0; s < fx_vm_sched_count(t.vm); s++) {
        fx_sched_stats ss;
        ss.version = 0;
        cr_assert_eq(fx_vm_sched_stats(t.vm, s, &ss), 0);
        cr_assert_eq(ss.version, FX_SCHED_STATS_VERSION);
        cr_assert_eq(ss.spare, s >= 2);
        if (s < 2)
            cr_assert(ss.running);
        runs += ss.runs;
        sent += ss.messages_sent;
    }
    /* A run may take the next ping too (it arrives while the run that
     * answered the previous one is still checking the mailbox). */
    cr_assert_geq(runs, 1);
    cr_assert_geq(sent, 10); /* the DONE replies */
    fx_sched_stats ss;
    ss.version = FX_SCHED_STATS_VERSION;
    cr_assert_eq(fx_vm_sched_stats(t.vm, fx_vm_sched_count(t.vm), &ss), FX_ENOENT);
    tvm_stop(&t);
}

Test(info, vm_stats_counters)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.crash_logger = fx_crash_logger_silent;
    tvm t = tvm_start_with(&c);
    fx_vm_stats a, b;
    cr_assert_eq(fx_vm_stats_get(t.vm, &a), 0);
    /* Exits of each kind: normal, shutdown, killed, other (error). */
    fx_reason rs[] = {fx_reason_normal(), fx_reason_shutdown(), fx_reason_error(5, "x")};
    for (int k = 0; k < 3; k++) {
        fx_pid p;
        fx_ref r;
        fx_spawn_opts o = {.handler = info_test_stopper};
        cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
        cr_assert_eq(fx_inbox_send(t.in, p, GO, &rs[k], sizeof rs[k]), 0);
        fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    }
    fx_pid p;
    fx_ref r;
    fx_spawn_opts o = {.handler = info_test_counter};
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
    cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
    fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    /* A send to the dead one: dropped, noproc. */
    cr_assert_eq(fx_inbox_send(t.in, p, OTHER, NULL, 0), FX_ENOPROC);
    /* Refusals by a full mailbox (drop policy, limit 1, receiver stuck
     * in the blocker's handler so nothing is taken out). */
    atomic_store(&g_release, false);
    atomic_store(&g_in_hold, false);
    fx_spawn_opts lo = {.handler = info_test_blocker, .mailbox = {1, FX_MAILBOX_DROP}};
    fx_pid lim, fl;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &lo, &lim), 0);
    cr_assert_eq(fx_inbox_send(t.in, lim, HOLD, NULL, 0), 0);
    for (int k = 0; k < 10000 && !atomic_load(&g_in_hold); k++)
        sleep_ms(1);
    cr_assert_eq(fx_vm_spawn(t.vm, info_test_flooder, NULL, &fl), 0);
    cr_assert_eq(fx_inbox_send(t.in, fl, GO, &lim, sizeof lim), 0);
    fx_msg_free(tvm_recv(&t, DONE));
    atomic_store(&g_release, true);
    cr_assert_eq(fx_vm_stats_get(t.vm, &b), 0);
    cr_assert_eq(b.dropped_full - a.dropped_full, 2);
    cr_assert_eq(b.exits_normal - a.exits_normal, 1);
    cr_assert_eq(b.exits_shutdown - a.exits_shutdown, 1);
    cr_assert_eq(b.exits_killed - a.exits_killed, 1);
    cr_assert_eq(b.exits_other - a.exits_other, 1);
    cr_assert_geq(b.dropped_noproc - a.dropped_noproc, 1);
    cr_assert_eq(b.messages_dropped, b.dropped_noproc + b.dropped_full);
    cr_assert_geq(b.messages_sent - a.messages_sent, 4); /* 3 GOs, DOWNs... */
    cr_assert_eq(b.exits_normal + b.exits_shutdown + b.exits_killed + b.exits_other,
                 b.spawned - b.processes);
    tvm_stop(&t);
}
