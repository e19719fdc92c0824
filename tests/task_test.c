/* Tasks: async/await on the schedulers and on the pool, failures, links
 * and monitors, cancel, timeouts, owner death, await many, GenServer
 * callbacks, fx_vm_task_run and shutdown with tasks in flight. */
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"

enum { RESULT = 7, REPORT, GO };

/* arg: a number n; result: n * 2 (type RESULT); status: n % 5 == 0 ? 5. */
static int twice(void *arg, fx_msg **result)
{
    uint64_t v = (uint64_t) (uintptr_t) arg * 2;
    if (fx_msg_new(RESULT, sizeof v, result) == 0)
        memcpy(fx_msg_data_mut(*result), &v, sizeof v);
    return ((uintptr_t) arg % 5 == 0) ? 5 : 0;
}

static int nap(void *arg, fx_msg **result)
{
    (void) result;
    usleep((useconds_t) (uintptr_t) arg * 1000);
    return 0;
}

/* Opened by a test once the outcome it waits for is in: a gated task
 * cannot finish before its awaiter's timeout fires, however loaded the
 * machine (a fixed nap could). Bounded at 10 s. */
static atomic_int gate;

static int gated_nap(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    for (int i = 0; i < 10000 && !atomic_load(&gate); i++)
        usleep(1000);
    return 0;
}

static int crash_fn(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    fx_crash(NULL, "task boom");
}

static atomic_int dones;
static void count_done(void *arg)
{
    (void) arg;
    atomic_fetch_add(&dones, 1);
}

/* What an owner reports to the inbox: the decoded outcome. */
typedef struct report {
    int32_t rc, kind, status;
    uint64_t value;
    fx_reason reason;
} report;

typedef struct owner {
    fx_pid inbox;
    fx_task task;
    fx_task_opts opts;
    int64_t timeout;
    int mode; /* 0 await; 1 cancel on timeout, then wait for strays */
} owner;

static void send_report(fx_ctx *cx, fx_pid to, int rc, const fx_task_result *r)
{
    report rep = {.rc = rc};
    if (rc == 0) {
        rep.kind = r->kind;
        rep.status = r->status;
        rep.reason = r->reason;
        if (r->kind == FX_TASK_DONE && r->size == sizeof rep.value && r->type == RESULT)
            memcpy(&rep.value, r->data, sizeof rep.value);
    }
    (void) fx_send(cx, to, REPORT, &rep, sizeof rep);
}

static fx_next after_cancel(fx_ctx *cx, fx_msg *m)
{
    owner *o = fx_state(cx);
    /* Anything but our own timeout is a stray result or DOWN. */
    report rep = {.rc = fx_msg_type(m) == FX_MSG_TIMEOUT ? 0 : -1000};
    (void) fx_send(cx, o->inbox, REPORT, &rep, sizeof rep);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next on_outcome(fx_ctx *cx, fx_msg *m)
{
    owner *o = fx_state(cx);
    fx_task_result r;
    int rc = fx_task_result_get(cx, o->task, m, &r);
    send_report(cx, o->inbox, rc, &r);
    if (rc == 0 && r.kind == FX_TASK_TIMEOUT && o->mode == 1) {
        int c = fx_task_cancel(cx, o->task);
        report rep = {.rc = c};
        (void) fx_send(cx, o->inbox, REPORT, &rep, sizeof rep);
        fx_match any = {0};
        return fx_receive(cx, after_cancel, &any, 400);
    }
    return fx_stop(cx, fx_reason_normal());
}

static fx_next owner_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    owner *o = fx_state(cx);
    int rc = fx_task_async(cx, &o->opts, &o->task);
    if (rc != 0) {
        send_report(cx, o->inbox, rc, NULL);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_task_await(cx, o->task, on_outcome, o->timeout);
}

static fx_pid start_owner(tvm *t, const fx_task_opts *opts, int64_t timeout, int mode)
{
    owner init = {.inbox = t->me, .opts = *opts, .timeout = timeout, .mode = mode};
    fx_pid p = spawn_state(t->vm, owner_go, &init, sizeof init);
    cr_assert_eq(fx_vm_send(t->vm, p, GO, NULL, 0), 0);
    return p;
}

static report recv_report(tvm *t)
{
    fx_msg *m = tvm_recv(t, REPORT);
    report r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

Test(task, cpu_and_blocking_tasks_reply_with_results_and_codes)
{
    tvm t = tvm_start(2);
    for (int blocking = 0; blocking < 2; blocking++) {
        for (uintptr_t n = 4; n <= 5; n++) {
            fx_task_opts o = {
                .fn = twice, .arg = (void *) n, .done = count_done, .blocking = blocking};
            start_owner(&t, &o, FX_INFINITY, 0);
            report r = recv_report(&t);
            cr_assert_eq(r.rc, 0);
            cr_assert_eq(r.kind, FX_TASK_DONE);
            cr_assert_eq(r.value, n * 2);
            cr_assert_eq(r.status, n == 5 ? 5 : 0, "a failure code is an outcome");
        }
    }
    cr_assert_eq(atomic_load(&dones), 4);
    tvm_stop(&t);
}

Test(task, linked_task_crash_kills_owner)
{
    tvm t = tvm_start_quiet(2);
    fx_task_opts o = {.fn = crash_fn, .done = count_done};
    fx_spawn_opts so = {0};
    owner init = {.inbox = t.me, .opts = o, .timeout = FX_INFINITY};
    so.handler = owner_go;
    so.state_size = sizeof init;
    so.state_init = &init;
    fx_pid p;
    fx_ref ref;
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &so, &p, &ref), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    fx_msg *d = tvm_recv(&t, FX_MSG_DOWN);
    const fx_down_info *di = fx_msg_data(d);
    cr_assert_eq(di->reason.kind, FX_REASON_ERROR, "the owner died of its task's crash");
    cr_assert_eq(di->reason.code, FX_ECRASHED);
    fx_msg_free(d);
    cr_assert_eq(atomic_load(&dones), 1, "done runs when fn never returned");
    tvm_stop(&t);
}

Test(task, nolink_task_crash_is_a_down)
{
    tvm t = tvm_start_quiet(2);
    fx_task_opts o = {.fn = crash_fn, .nolink = true};
    start_owner(&t, &o, FX_INFINITY, 0);
    report r = recv_report(&t);
    cr_assert_eq(r.rc, 0);
    cr_assert_eq(r.kind, FX_TASK_EXITED);
    cr_assert_eq(r.reason.code, FX_ECRASHED);
    tvm_stop(&t);
}

Test(task, await_timeout_then_cancel_delivers_nothing)
{
    tvm t = tvm_start(2);
    for (int blocking = 0; blocking < 2; blocking++) {
        atomic_store(&dones, 0);
        atomic_store(&gate, 0);
        fx_task_opts o = {.fn = gated_nap, .done = count_done, .blocking = blocking};
        start_owner(&t, &o, 10, 1);
        report r = recv_report(&t);
        cr_assert_eq(r.rc, 0);
        cr_assert_eq(r.kind, FX_TASK_TIMEOUT);
        r = recv_report(&t);
        cr_assert_eq(r.rc, 0, "cancel of a running task");
        atomic_store(&gate, 1); /* the task's fn returns now */
        r = recv_report(&t);    /* after 400 ms of waiting for strays */
        cr_assert_eq(r.rc, 0, "a result or DOWN arrived after cancel");
        /* A CPU task holds its scheduler thread until fn returns (the
         * kill lands after it); either way done runs exactly once. */
        for (int i = 0; i < 5000 && atomic_load(&dones) < 1; i++)
            usleep(1000);
        cr_assert_eq(atomic_load(&dones), 1);
    }
    tvm_stop(&t);
}

/* The owner starts a blocking task and dies at once, abnormally (the
 * linked task dies too) or normally (the task lives on): either way the
 * pool job completes, its outcome is dropped and nothing leaks. */
static fx_next dying_owner(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    owner *o = fx_state(cx);
    fx_task task;
    (void) fx_task_async(cx, &o->opts, &task);
    return fx_stop(cx, o->mode ? fx_reason_error(1, "owner dies") : fx_reason_normal());
}

Test(task, owner_death_abandons_tasks)
{
    tvm t = tvm_start_quiet(2);
    for (int mode = 0; mode < 2; mode++) {
        for (int blocking = 0; blocking < 2; blocking++) {
            owner init = {.inbox = t.me,
                          .opts = {.fn = nap,
                                   .arg = (void *) 30,
                                   .done = count_done,
                                   .blocking = blocking},
                          .mode = mode};
            fx_pid p = spawn_state(t.vm, dying_owner, &init, sizeof init);
            cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
        }
    }
    for (int i = 0; i < 5000 && atomic_load(&dones) < 4; i++)
        usleep(1000);
    cr_assert_eq(atomic_load(&dones), 4);
    fx_pool_stats st;
    for (int i = 0; i < 5000; i++) {
        cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
        if (st.completed == 2)
            break;
        usleep(1000);
    }
    cr_assert_eq(st.completed, 2);
    tvm_stop(&t); /* ASan: no task state or outcome left behind */
}

static atomic_int gate;
static int gate_fn(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    for (int i = 0; i < 10000 && !atomic_load(&gate); i++)
        usleep(1000);
    return 0;
}

Test(task, pool_full_answers_eagain)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.pool_max_threads = 1;
    c.pool_queue = 1;
    tvm t = tvm_start_with(&c);
    fx_task_opts o = {.fn = gate_fn, .blocking = true, .done = count_done};
    start_owner(&t, &o, FX_INFINITY, 0); /* runs */
    fx_pool_stats st;
    for (int i = 0; i < 5000; i++) {
        cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
        if (st.running == 1)
            break;
        usleep(1000);
    }
    start_owner(&t, &o, FX_INFINITY, 0); /* queued */
    for (int i = 0; i < 5000; i++) {
        cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
        if (st.queued == 1)
            break;
        usleep(1000);
    }
    start_owner(&t, &o, FX_INFINITY, 0); /* refused */
    report r = recv_report(&t);
    cr_assert_eq(r.rc, FX_EAGAIN);
    atomic_store(&gate, 1);
    cr_assert_eq(recv_report(&t).kind, FX_TASK_DONE);
    cr_assert_eq(recv_report(&t).kind, FX_TASK_DONE);
    cr_assert_eq(atomic_load(&dones), 2, "done is not called for a refused start");
    tvm_stop(&t);
}

/* Await many: five tasks of different lengths, mixed kinds, one failing;
 * one continuation sees all of them, by task index. */
typedef struct many_owner {
    fx_pid inbox;
    fx_task tasks[5];
    fx_msg *msgs[5];
    fx_task_many many;
    int64_t timeout;
    bool gated; /* task 0 is a blocking gated_nap */
} many_owner;

static fx_next many_step(fx_ctx *cx, fx_msg *m)
{
    many_owner *s = fx_state(cx);
    int rc = fx_task_many_put(cx, &s->many, m);
    if (rc == 0)
        return fx_task_many_await(cx, &s->many, many_step);
    uint64_t out[6] = {(uint64_t) rc};
    for (size_t i = 0; i < 5; i++) {
        fx_task_result r;
        if (fx_task_many_result(&s->many, i, &r) == 0 && r.kind == FX_TASK_DONE) {
            memcpy(&out[i + 1], r.data, sizeof out[i + 1]);
            out[i + 1] += (uint64_t) r.status * 1000;
        }
    }
    fx_task_many_fini(&s->many);
    (void) fx_send(cx, s->inbox, REPORT, out, sizeof out);
    return fx_stop(cx, fx_reason_normal());
}

static int slow_twice(void *arg, fx_msg **result)
{
    usleep((useconds_t) (60 - (uintptr_t) arg * 10) * 1000); /* later ones first */
    return twice(arg, result);
}

static fx_next many_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    many_owner *s = fx_state(cx);
    for (uintptr_t i = 0; i < 5; i++) {
        fx_task_opts o = {.fn = i % 2 ? twice : slow_twice,
                          .arg = (void *) (i + 1),
                          .blocking = i % 2 == 0};
        if (i == 0 && s->gated)
            o = (fx_task_opts){.fn = gated_nap, .blocking = true};
        if (fx_task_async(cx, &o, &s->tasks[i]) != 0)
            return fx_stop(cx, fx_reason_error(1, "start"));
    }
    (void) fx_task_many_init(&s->many, s->tasks, s->msgs, 5, s->timeout);
    return fx_task_many_await(cx, &s->many, many_step);
}

Test(task, await_many_collects_every_outcome)
{
    tvm t = tvm_start(2);
    many_owner init = {.inbox = t.me, .timeout = 10000};
    fx_pid p = spawn_state(t.vm, many_go, &init, sizeof init);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, REPORT);
    uint64_t out[6];
    memcpy(out, fx_msg_data(m), sizeof out);
    fx_msg_free(m);
    cr_assert_eq(out[0], 1);
    for (uint64_t i = 0; i < 5; i++)
        cr_assert_eq(out[i + 1], (i + 1) * 2 + (i + 1 == 5 ? 5000 : 0), "task %llu",
                     (unsigned long long) i);
    tvm_stop(&t);
}

Test(task, await_many_times_out)
{
    tvm t = tvm_start(2);
    /* 2 s: the others (naps of up to 50 ms) finish well before, however
     * loaded the machine; the gated one cannot finish before it. */
    many_owner init = {.inbox = t.me, .timeout = 2000, .gated = true};
    fx_pid p = spawn_state(t.vm, many_go, &init, sizeof init);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, REPORT);
    atomic_store(&gate, 1);
    uint64_t out[6];
    memcpy(out, fx_msg_data(m), sizeof out);
    fx_msg_free(m);
    cr_assert_eq((int64_t) out[0], FX_ETIMEDOUT);
    cr_assert_eq(out[1], 0, "the napping task has no outcome");
    cr_assert_eq(out[2], 4, "the others completed before the deadline");
    fx_task_many mm;
    cr_assert_eq(fx_task_many_init(&mm, NULL, NULL, 0, 0), 0);
    cr_assert_eq(mm.pending, 0);
    cr_assert_eq(fx_task_many_init(NULL, NULL, NULL, 0, 0), FX_EINVAL);
    tvm_stop(&t);
}

/* A GenServer starts a blocking task in handle_cast and takes its outcome
 * in handle_info; a call reads it. */
typedef struct gs_state {
    fx_task task;
    int64_t value;
} gs_state;

static fx_gs_ret gs_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    gs_state *s = calloc(1, sizeof *s);
    s->value = -1;
    *state = s;
    return fx_gs_ok(cx);
}
static fx_gs_ret gs_cast(fx_ctx *cx, void *state, uint32_t type, const void *d, size_t n)
{
    (void) type, (void) d, (void) n;
    gs_state *s = state;
    fx_task_opts o = {.fn = twice, .arg = (void *) 21, .blocking = true};
    if (fx_task_async(cx, &o, &s->task) != 0)
        return fx_gs_stop(cx, fx_reason_error(1, "task"));
    return fx_gs_noreply(cx);
}
static fx_gs_ret gs_info(fx_ctx *cx, void *state, fx_msg *m)
{
    gs_state *s = state;
    fx_task_result r;
    if (fx_task_result_get(cx, s->task, m, &r) == 0 && r.kind == FX_TASK_DONE)
        memcpy(&s->value, r.data, sizeof s->value);
    return fx_gs_noreply(cx);
}
static fx_gs_ret gs_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                         const void *d, size_t n)
{
    (void) from, (void) type, (void) d, (void) n;
    gs_state *s = state;
    return fx_gs_reply(cx, &s->value, sizeof s->value);
}
static void gs_term(fx_vm *vm, void *state, const fx_reason *r)
{
    (void) vm, (void) r;
    free(state);
}
static const fx_gs_ops gs_ops = {.init = gs_init,
                                 .handle_call = gs_call,
                                 .handle_cast = gs_cast,
                                 .handle_info = gs_info,
                                 .terminate = gs_term};

Test(task, genserver_callbacks_start_and_take_tasks)
{
    tvm t = tvm_start(2);
    fx_gs_spec spec = {.ops = &gs_ops};
    fx_pid srv;
    cr_assert_eq(fx_gs_start(t.in, &spec, &srv, NULL), 0);
    cr_assert_eq(fx_vm_gs_cast(t.vm, srv, 1, NULL, 0), 0);
    int64_t v = -1;
    for (int i = 0; i < 5000 && v != 42; i++) {
        fx_msg *rep;
        cr_assert_eq(fx_gs_call(t.in, srv, 1, NULL, 0, 5000, &rep, NULL), 0);
        memcpy(&v, fx_msg_data(rep), sizeof v);
        fx_msg_free(rep);
        if (v != 42)
            usleep(1000);
    }
    cr_assert_eq(v, 42);
    tvm_stop(&t);
}

Test(task, vm_task_run_from_outside)
{
    tvm t = tvm_start_quiet(2);
    for (int blocking = 0; blocking < 2; blocking++) {
        int st = -1;
        fx_msg *res = NULL;
        fx_task_opts o = {.fn = twice, .arg = (void *) 10, .blocking = blocking};
        cr_assert_eq(fx_vm_task_run(t.vm, &o, 5000, &st, &res), 0);
        cr_assert_eq(st, 5);
        cr_assert_not_null(res);
        cr_assert_eq(fx_msg_type(res), RESULT);
        uint64_t v;
        memcpy(&v, fx_msg_data(res), sizeof v);
        cr_assert_eq(v, 20);
        fx_msg_free(res);
        atomic_store(&gate, 0);
        fx_task_opts slow = {.fn = gated_nap, .blocking = blocking, .done = count_done};
        cr_assert_eq(fx_vm_task_run(t.vm, &slow, 5, &st, &res), FX_ETIMEDOUT);
        cr_assert_null(res);
        atomic_store(&gate, 1);
    }
    fx_task_opts c = {.fn = crash_fn};
    int st;
    fx_msg *res;
    cr_assert_eq(fx_vm_task_run(t.vm, &c, 5000, &st, &res), FX_EEXIT);
    for (int i = 0; i < 5000 && atomic_load(&dones) < 2; i++)
        usleep(1000);
    cr_assert_eq(atomic_load(&dones), 2);
    tvm_stop(&t);
}

static fx_next run_on_sched(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    owner *o = fx_state(cx);
    int st;
    fx_msg *res;
    report rep = {.rc = fx_vm_task_run(fx_ctx_vm(cx), &o->opts, 10, &st, &res)};
    (void) fx_send(cx, o->inbox, REPORT, &rep, sizeof rep);
    return fx_stop(cx, fx_reason_normal());
}

Test(task, vm_task_run_refuses_scheduler_threads)
{
    tvm t = tvm_start(1);
    owner init = {.inbox = t.me, .opts = {.fn = twice}};
    fx_pid p = spawn_state(t.vm, run_on_sched, &init, sizeof init);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    cr_assert_eq(recv_report(&t).rc, FX_EWOULDBLOCK);
    tvm_stop(&t);
}

/* Shutdown with tasks of both kinds in flight: every done runs, ASan sees
 * no leak. */
static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static fx_next spawner(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    owner *o = fx_state(cx);
    for (int i = 0; i < 20; i++) {
        fx_task_opts op = {
            .fn = nap, .arg = (void *) 20, .done = count_done, .blocking = i % 2 == 0};
        fx_task task;
        if (fx_task_async(cx, &op, &task) == 0)
            atomic_fetch_add(&dones, 1000);
    }
    (void) fx_send(cx, o->inbox, REPORT, NULL, 0);
    return fx_become(cx, idle);
}

Test(task, shutdown_with_tasks_in_flight)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.pool_max_threads = 2;
    tvm t = tvm_start_with(&c);
    owner init = {.inbox = t.me};
    fx_pid p = spawn_state(t.vm, spawner, &init, sizeof init);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, REPORT));
    tvm_stop(&t);
    int d = atomic_load(&dones);
    cr_assert_eq(d / 1000, 20, "tasks started");
    cr_assert_eq(d % 1000, 20, "every done ran once by the end of shutdown");
}
