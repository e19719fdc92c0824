/* review13: fx_vm_shutdown while everything is busy (vm.h:75-101):
 * outside callers blocked in fx_gs_call, fx_inbox_recv and
 * fx_vm_task_run on other threads, timers pending, pool jobs running and
 * queued, GenServers with calls in flight. The shutdown must return 0,
 * release every blocked caller with the documented code, run each
 * server's terminate exactly once (gen_server.h:59-66) and each pool
 * job's done exactly once (pool.h:64-68). ASan's leak check covers the
 * rest. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "helpers.h"

static atomic_int terminated;
static atomic_int dones;
static atomic_int ran;
static atomic_int shut_done;
static atomic_int not_shutdown; /* terminate reasons other than shutdown */

enum { T_CALLED = 61 };

typedef struct srv {
    fx_pid note; /* the main inbox: told when a call arrives */
} srv;

static fx_gs_ret never_reply(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                             const void *data, size_t size)
{
    (void) from;
    (void) type;
    (void) data;
    (void) size;
    srv *s = state;
    (void) fx_send(cx, s->note, T_CALLED, NULL, 0);
    return fx_gs_noreply(cx);
}

static void count_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm;
    (void) state;
    if (reason->kind != FX_REASON_SHUTDOWN)
        atomic_fetch_add_explicit(&not_shutdown, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&terminated, 1, memory_order_relaxed);
}

static const fx_gs_ops silent_ops = {
    .init = fx_gs_init_arg, .handle_call = never_reply, .terminate = count_terminate};

typedef struct caller {
    fx_vm *vm;
    fx_pid server;
    int kind; /* 0 gs_call, 1 inbox_recv (fx_vm_task_run must not overlap
                 a shutdown: docs/tasks.md, "Known limits") */
    int rc;
    int created;
} caller;

static int wait_for_stop(void *arg, fx_msg **result)
{
    fx_vm *vm = arg;
    *result = NULL;
    atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
    /* Until a shutdown has begun (fx_vm_running stays 1 while the stop
     * hooks run, vm.h); bounded: 20 s at most. */
    int64_t left;
    for (int i = 0; i < 20000 && fx_vm_shutdown_time_left(vm, &left) == FX_ENOENT; i++)
        usleep(1000);
    return 0;
}

static void job_done(void *arg)
{
    (void) arg;
    atomic_fetch_add_explicit(&dones, 1, memory_order_relaxed);
}

static int job_fn(void *arg, fx_msg **result)
{
    return wait_for_stop(arg, result);
}

static void *caller_main(void *arg)
{
    caller *c = arg;
    fx_inbox *in = NULL;
    c->rc = fx_inbox_create(c->vm, &in);
    if (c->rc != 0)
        return NULL;
    c->created = 1;
    if (c->kind == 0) {
        fx_msg *reply = NULL;
        c->rc = fx_gs_call(in, c->server, 1, NULL, 0, FX_INFINITY, &reply, NULL);
        fx_msg_free(reply);
    } else if (c->kind == 1) {
        fx_msg *m = NULL;
        c->rc = fx_inbox_recv(in, NULL, FX_INFINITY, &m);
        fx_msg_free(m);
    }
    /* Destroy the inbox only once the shutdown returned (an inbox
     * destroyed during it is a known race, docs/tasks.md). */
    for (int i = 0; i < 20000 && !atomic_load(&shut_done); i++)
        usleep(1000);
    fx_inbox_destroy(in);
    return NULL;
}

Test(review13_shutdown, busy_vm_releases_every_caller)
{
    atomic_store(&terminated, 0);
    atomic_store(&dones, 0);
    atomic_store(&ran, 0);
    atomic_store(&shut_done, 0);
    atomic_store(&not_shutdown, 0);
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.pool_max_threads = 2;
    c.crash_logger = fx_crash_logger_silent;
    c.log_sink = fx_log_sink_silent;
    tvm t = tvm_start_with(&c);

    enum { NSRV = 3 };
    srv st = {.note = t.me};
    fx_pid servers[NSRV];
    for (int i = 0; i < NSRV; i++) {
        fx_gs_spec spec = {.ops = &silent_ops, .arg = &st};
        cr_assert_eq(fx_gs_start(t.in, &spec, &servers[i], NULL), 0);
    }
    /* Timers pending for a long time, to servers and to the inbox. */
    for (int i = 0; i < 16; i++)
        cr_assert_eq(fx_vm_send_after(t.vm, 600000, i % 2 ? t.me : servers[i % NSRV], 5,
                                      "x", 1, NULL),
                     0);
    /* Pool jobs: one task runs on a pool thread, plus two jobs that run
     * and more that stay queued (pool_max_threads 2). */
    enum { NJOBS = 6 };
    for (int i = 0; i < NJOBS; i++) {
        fx_pool_job j = {.fn = job_fn, .arg = t.vm, .done = job_done, .reply_to = t.me};
        cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    }
    /* Callers: two blocked in calls to servers, one in a receive. */
    caller cs[3] = {{.vm = t.vm, .server = servers[0], .kind = 0},
                    {.vm = t.vm, .server = servers[1], .kind = 0},
                    {.vm = t.vm, .kind = 1}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, caller_main, &cs[i]), 0);
    /* Both calls reached their servers. */
    for (int i = 0; i < 2; i++)
        fx_msg_free(tvm_recv(&t, T_CALLED));
    usleep(50000); /* not an assertion: lets the receive block */

    int rc = fx_vm_shutdown(t.vm);
    cr_expect_eq(rc, 0, "fx_vm_shutdown: %s", fx_strerror(rc));
    atomic_store(&shut_done, 1);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 2; i++)
        cr_expect_eq(cs[i].rc, FX_ESHUTDOWN, "fx_gs_call in flight at shutdown: %s",
                     fx_strerror(cs[i].rc));
    cr_expect_eq(cs[2].rc, FX_ESHUTDOWN, "fx_inbox_recv(FX_INFINITY) at shutdown: %s",
                 fx_strerror(cs[2].rc));
    cr_expect_eq(atomic_load(&terminated), NSRV, "terminate ran %d times for %d servers",
                 atomic_load(&terminated), NSRV);
    cr_expect_eq(atomic_load(&not_shutdown), 0,
                 "a terminate at VM shutdown got a reason other than shutdown (vm.h:75)");
    cr_expect_eq(atomic_load(&dones), NJOBS, "done ran %d times for %d jobs",
                 atomic_load(&dones), NJOBS);
    /* Each accepted job's reply_to "hears of it exactly once" (pool.h:
     * 76-79): the inbox outlives the shutdown and keeps what was queued
     * (inbox.h:59-62: FX_ESHUTDOWN only when nothing matching is queued). */
    int outcomes = 0;
    fx_match done_m = {.type = FX_MSG_POOL_DONE};
    fx_msg *om = NULL;
    while (outcomes <= NJOBS && fx_inbox_recv(t.in, &done_m, 0, &om) == 0) {
        fx_msg_free(om);
        outcomes++;
    }
    cr_expect_eq(outcomes, NJOBS, "%d pool outcomes for %d jobs", outcomes, NJOBS);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
}

/* After fx_vm_shutdown returned, every call answers its documented code
 * and nothing crashes or blocks. */
Test(review13_shutdown, calls_after_shutdown)
{
    tvm t = tvm_start_quiet(1);
    fx_timer tm;
    cr_assert_eq(fx_vm_send_after(t.vm, 600000, t.me, 5, NULL, 0, &tm), 0);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    cr_expect_eq(fx_vm_shutdown(t.vm), 0);
    cr_expect_eq(fx_vm_start(t.vm), FX_ESHUTDOWN);
    cr_expect_eq(fx_vm_running(t.vm), 0);
    cr_expect_eq(fx_vm_send(t.vm, t.me, 1, NULL, 0), FX_ESHUTDOWN);
    cr_expect_eq(fx_inbox_send(t.in, t.me, 1, NULL, 0), FX_ESHUTDOWN);
    cr_expect_eq(fx_vm_exit(t.vm, t.me, fx_reason_kill()), FX_ESHUTDOWN);
    cr_expect_eq(fx_cancel_timer(t.vm, tm), FX_ESHUTDOWN);
    cr_expect_eq(fx_read_timer(t.vm, tm), FX_ESHUTDOWN);
    fx_inbox *in2 = NULL;
    cr_expect_eq(fx_inbox_create(t.vm, &in2), FX_ESHUTDOWN);
    fx_msg *m = NULL;
    cr_expect_eq(fx_inbox_recv(t.in, NULL, FX_INFINITY, &m), FX_ESHUTDOWN);
    fx_pool_job j = {.fn = job_fn, .arg = t.vm};
    cr_expect_eq(fx_pool_submit(t.vm, &j), FX_ESHUTDOWN);
    static const char key;
    cr_expect_eq(fx_vm_attach(t.vm, &key, (void *) &key, NULL), FX_ESHUTDOWN);
    fx_vm_stats s;
    cr_expect_eq(fx_vm_stats_get(t.vm, &s), 0);
    cr_expect_eq(s.processes, 0);
    int64_t left = -5;
    cr_expect_eq(fx_vm_shutdown_time_left(t.vm, &left), 0);
    cr_expect_geq(left, 0);
    fx_task_opts o = {.fn = job_fn, .arg = t.vm};
    int status;
    fx_msg *res = NULL;
    cr_expect_eq(fx_vm_task_run(t.vm, &o, 1000, &status, &res), FX_ESHUTDOWN);
    char text[8192];
    cr_expect_gt(fx_vm_metrics_text(t.vm, text, sizeof text), 0);   /* control.h:30-32 */
    cr_expect_eq(fx_log(t.vm, FX_LOG_ERROR, "late"), FX_ESHUTDOWN); /* log.h:112-116 */
    fx_log_stats ls;
    cr_expect_eq(fx_log_stats_get(t.vm, &ls), 0); /* log.h:140-141 */
    fx_crash_report cr = {.kind = FX_REPORT_CRASH, .pid = t.me};
    cr_expect_eq(fx_report_emit(t.vm, &cr), FX_ESHUTDOWN); /* report.h:121 */
    fx_pool_stats ps;
    cr_expect_eq(fx_pool_stats_get(t.vm, &ps), 0); /* pool.h:104-106 */
    fx_proc_info pi = {.version = FX_PROC_INFO_VERSION};
    cr_expect_eq(fx_process_info(t.vm, t.me, &pi), FX_ESHUTDOWN); /* info.h:110 */
    uint64_t ql;
    cr_expect_eq(fx_vm_queue_len(t.vm, t.me, &ql), FX_ESHUTDOWN); /* overload.h:60 */
    cr_expect_eq(fx_inbox_destroy(t.in), 0);
    fx_vm_destroy(t.vm);
}

/* Supervisors restarting at shutdown: children that crash as soon as
 * they start (a zero timeout, then a crash in handle_info) keep a
 * one_for_one supervisor busy restarting. The shutdown returns 0 and each
 * started child's terminate runs exactly once (gen_server.h:59-66). */
static atomic_int inits;

static fx_gs_ret churn_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = NULL;
    atomic_fetch_add_explicit(&inits, 1, memory_order_relaxed);
    return fx_gs_with_timeout(fx_gs_ok(cx), 0);
}

static fx_gs_ret churn_info(fx_ctx *cx, void *state, fx_msg *msg)
{
    (void) state;
    (void) msg;
    return fx_gs_stop(cx, fx_reason_error(FX_ECRASHED, "churn"));
}

static const fx_gs_ops churn_ops = {
    .init = churn_init, .handle_info = churn_info, .terminate = count_terminate};

Test(review13_shutdown, supervisors_restarting_at_shutdown)
{
    atomic_store(&inits, 0);
    atomic_store(&terminated, 0);
    tvm t = tvm_start_quiet(2);
    static const fx_gs_spec child = {.ops = &churn_ops};
    fx_child_spec kids[4];
    memset(kids, 0, sizeof kids);
    for (int i = 0; i < 4; i++) {
        snprintf(kids[i].id, sizeof kids[i].id, "c%d", i);
        kids[i].start = fx_child_gen_server;
        kids[i].carg = &child;
    }
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.intensity = 1000000;
    s.period_ms = 1000;
    s.children = kids;
    s.nchildren = 4;
    fx_pid sup;
    int rc = fx_sup_start(t.in, &s, &sup, NULL);
    cr_assert(rc == 0 || rc == FX_EEXIT, "fx_sup_start: %s", fx_strerror(rc));
    /* Let it churn for a while (bounded, not an assertion). */
    for (int i = 0; i < 2000 && atomic_load(&inits) < 200; i++)
        usleep(1000);
    fx_inbox_destroy(t.in);
    rc = fx_vm_shutdown(t.vm);
    cr_expect_eq(rc, 0, "fx_vm_shutdown: %s", fx_strerror(rc));
    cr_expect_eq(atomic_load(&terminated), atomic_load(&inits), "%d inits, %d terminates",
                 atomic_load(&inits), atomic_load(&terminated));
    fx_vm_destroy(t.vm);
}

/* Registry reads are "any thread" (registry.h:72-93, 165-171) with no
 * "not running" error: after fx_vm_shutdown they answer without touching
 * freed memory (ASan) and name nobody. */
static fx_next idle_actor(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

Test(review13_shutdown, registry_reads_after_shutdown)
{
    tvm t = tvm_start_quiet(1);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, idle_actor, NULL, &p), 0);
    cr_assert_eq(fx_register(t.in, "r13reg", p, NULL), 0);
    cr_assert_eq(fx_group_join(t.in, "r13grp", p), 0);
    cr_assert_eq(fx_inbox_destroy(t.in), 0);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    fx_pid got = FX_PID_NONE;
    int rc = fx_whereis(t.vm, "r13reg", &got);
    cr_expect(rc == FX_ENOENT || rc == FX_ESHUTDOWN, "fx_whereis after shutdown: %d", rc);
    fx_pid members[4];
    rc = fx_group_members(t.vm, "r13grp", members, 4);
    cr_expect(rc == 0 || rc == FX_ESHUTDOWN, "fx_group_members after shutdown: %d", rc);
    fx_registered_name names[4];
    rc = fx_registered(t.vm, names, 4);
    cr_expect(rc == 0 || rc == FX_ESHUTDOWN, "fx_registered after shutdown: %d", rc);
    rc = fx_registry_pid(t.vm, &got);
    cr_expect(rc == FX_ENOENT || rc == FX_ESHUTDOWN, "fx_registry_pid after shutdown: %d",
              rc);
    fx_vm_destroy(t.vm);
}

/* vm.h:86-101: a handler still running at the deadline makes
 * fx_vm_shutdown answer FX_ESTUCK; the VM stays "stopping" (calls answer
 * FX_ESHUTDOWN), outside waiters are released all the same (inbox.h:
 * "fx_vm_shutdown wakes every waiter"), and once the handler returns the
 * next fx_vm_shutdown completes with 0. */
static atomic_int spin_release, spin_in;

static fx_next spin_until_released(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    atomic_store(&spin_in, 1);
    for (int i = 0; i < 30000 && !atomic_load(&spin_release); i++)
        usleep(1000);
    return fx_continue(cx);
}

typedef struct waiter {
    fx_inbox *in;
    atomic_int rc;
} waiter;

static void *wait_forever(void *arg)
{
    waiter *w = arg;
    fx_msg *m = NULL;
    atomic_store(&w->rc, fx_inbox_recv(w->in, NULL, FX_INFINITY, &m));
    fx_msg_free(m);
    return NULL;
}

Test(review13_shutdown, stuck_handler_then_resume)
{
    atomic_store(&spin_release, 0);
    atomic_store(&spin_in, 0);
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.shutdown_timeout_ms = 300;
    c.stuck_ms = FX_WATCHDOG_OFF;
    c.crash_logger = fx_crash_logger_silent;
    c.log_sink = fx_log_sink_silent;
    tvm t = tvm_start_with(&c);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, spin_until_released, NULL, &p), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, 1, NULL, 0), 0);
    for (int i = 0; i < 10000 && !atomic_load(&spin_in); i++)
        usleep(1000);
    cr_assert_eq(atomic_load(&spin_in), 1);
    waiter w = {.in = NULL};
    atomic_store(&w.rc, 99);
    cr_assert_eq(fx_inbox_create(t.vm, &w.in), 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, wait_forever, &w), 0);
    usleep(20000); /* not an assertion: lets the receive block */
    int rc = fx_vm_shutdown(t.vm);
    cr_expect_eq(rc, FX_ESTUCK, "fx_vm_shutdown with a stuck handler: %s",
                 fx_strerror(rc));
    /* The blocked receive was released (bounded: the handler is let go
     * after 10 s in any case, so a hang shows as a failure, not a hang). */
    for (int i = 0; i < 10000 && atomic_load(&w.rc) == 99; i++)
        usleep(1000);
    int released_rc = atomic_load(&w.rc);
    atomic_store(&spin_release, 1);
    pthread_join(th, NULL);
    cr_expect_eq(released_rc, FX_ESHUTDOWN,
                 "a receive blocked at an FX_ESTUCK shutdown: %d", released_rc);
    cr_expect_eq(fx_vm_send(t.vm, t.me, 1, NULL, 0), FX_ESHUTDOWN);
    cr_expect_eq(fx_vm_running(t.vm), 0);
    rc = fx_vm_shutdown(t.vm);
    cr_expect_eq(rc, 0, "second fx_vm_shutdown: %s", fx_strerror(rc));
    cr_expect_eq(fx_inbox_destroy(w.in), 0);
    cr_expect_eq(fx_inbox_destroy(t.in), 0);
    fx_vm_destroy(t.vm);
}

/* Outside threads spawn, send, arm timers and submit pool jobs while
 * another thread shuts the VM down (vm.h: "Idempotent and thread-safe";
 * actor.h:33-36: cleanup "exactly once when an actor exits ... including
 * VM shutdown"; pool.h: done "exactly once for every accepted job").
 * Every call answers a documented code, each accepted spawn's cleanup and
 * each accepted job's done run exactly once, and ASan finds no leak. */
static atomic_int spawned_ok, cleanups, jobs_ok, jobs_done, bad_rc;

static void count_cleanup(void *state, const fx_reason *reason)
{
    (void) state;
    (void) reason;
    atomic_fetch_add(&cleanups, 1);
}

static void count_done(void *arg)
{
    (void) arg;
    atomic_fetch_add(&jobs_done, 1);
}

static int quick(void *arg, fx_msg **result)
{
    (void) arg;
    *result = NULL;
    return 0;
}

static void *hammer(void *arg)
{
    fx_vm *vm = arg;
    for (int i = 0; i < 200000; i++) {
        fx_spawn_opts o = {.handler = idle_actor, .cleanup = count_cleanup};
        fx_pid p;
        int rc = fx_vm_spawn_opt(vm, &o, &p);
        if (rc == 0)
            atomic_fetch_add(&spawned_ok, 1);
        else if (rc != FX_ESHUTDOWN && rc != FX_EFULL)
            atomic_fetch_add(&bad_rc, 1);
        if (rc == 0) {
            int s = fx_vm_send(vm, p, 1, "x", 1);
            if (s != 0 && s != FX_ENOPROC && s != FX_ESHUTDOWN)
                atomic_fetch_add(&bad_rc, 1);
            s = fx_vm_send_after(vm, 600000, p, 1, "y", 1, NULL);
            if (s != 0 && s != FX_ESHUTDOWN)
                atomic_fetch_add(&bad_rc, 1);
        }
        fx_pool_job j = {.fn = quick, .done = count_done};
        int s = fx_pool_submit(vm, &j);
        if (s == 0)
            atomic_fetch_add(&jobs_ok, 1);
        else if (s != FX_ESHUTDOWN && s != FX_EAGAIN)
            atomic_fetch_add(&bad_rc, 1);
        if (rc == FX_ESHUTDOWN && s == FX_ESHUTDOWN)
            break;
    }
    return NULL;
}

Test(review13_shutdown, shutdown_while_outside_threads_hammer)
{
    atomic_store(&spawned_ok, 0);
    atomic_store(&cleanups, 0);
    atomic_store(&jobs_ok, 0);
    atomic_store(&jobs_done, 0);
    atomic_store(&bad_rc, 0);
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.crash_logger = fx_crash_logger_silent;
    c.log_sink = fx_log_sink_silent;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, hammer, vm), 0);
    for (int i = 0; i < 5000 && atomic_load(&spawned_ok) < 500; i++)
        usleep(1000);
    int rc = fx_vm_shutdown(vm);
    cr_expect_eq(rc, 0, "fx_vm_shutdown: %s", fx_strerror(rc));
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    cr_expect_eq(atomic_load(&bad_rc), 0, "undocumented answers during shutdown");
    fx_vm_stats st;
    cr_expect_eq(fx_vm_stats_get(vm, &st), 0);
    cr_expect_eq(st.processes, 0, "%llu processes left after shutdown",
                 (unsigned long long) st.processes);
    cr_expect_eq(atomic_load(&cleanups), atomic_load(&spawned_ok),
                 "%d accepted spawns, %d cleanups", atomic_load(&spawned_ok),
                 atomic_load(&cleanups));
    fx_vm_destroy(vm);
    cr_expect_eq(atomic_load(&jobs_done), atomic_load(&jobs_ok),
                 "%d accepted jobs, %d done calls", atomic_load(&jobs_ok),
                 atomic_load(&jobs_done));
}
