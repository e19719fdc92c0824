/* The blocking pool: outcomes as messages, in order; the bounded queue;
 * counters; shutdown with jobs queued; scheduler independence. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

enum { RESULT = 7, PONG_DONE = 8, PING, PONG };

static tvm pool_vm(uint32_t threads, uint32_t pool_max, uint32_t queue)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = threads;
    c.pool_max_threads = pool_max;
    c.pool_queue = queue;
    return tvm_start_with(&c);
}

/* Returns arg as a result; fails with 7 when arg % 3 == 0. */
static int echo_job(void *arg, fx_msg **result)
{
    uint64_t v = (uint64_t) (uintptr_t) arg;
    if (fx_msg_new(RESULT, sizeof v, result) == 0)
        memcpy(fx_msg_data_mut(*result), &v, sizeof v);
    return v % 3 == 0 ? 7 : 0;
}

Test(pool, outcomes_come_back_in_order)
{
    tvm t = pool_vm(2, 1, 64);
    for (uint64_t i = 1; i <= 30; i++) {
        fx_pool_job j = {
            .fn = echo_job, .arg = (void *) (uintptr_t) i, .reply_to = t.me, .ref = {i}};
        cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    }
    for (uint64_t i = 1; i <= 30; i++) {
        fx_msg *m = tvm_recv(&t, FX_MSG_POOL_DONE);
        fx_outcome h;
        const void *data;
        cr_assert_eq(fx_outcome_get(m, &h, &data), 0);
        cr_assert_eq(h.ref.id, i, "outcome %llu out of order", (unsigned long long) i);
        cr_assert_eq(fx_msg_ref(m).id, i);
        cr_assert_eq(h.status, i % 3 == 0 ? 7 : 0);
        cr_assert_eq(h.type, RESULT);
        cr_assert_eq(h.size, sizeof(uint64_t));
        uint64_t v;
        memcpy(&v, data, sizeof v);
        cr_assert_eq(v, i);
        fx_msg_free(m);
    }
    fx_pool_stats st;
    cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.completed, 30);
    cr_assert_eq(st.failed, 10);
    cr_assert_eq(st.rejected, 0);
    cr_assert_eq(st.threads, 1); /* capped at pool_max_threads */
    tvm_stop(&t);
}

/* A job that waits until the gate opens. */
static atomic_int gate, entered;
static int gate_job(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    atomic_fetch_add(&entered, 1);
    for (int i = 0; i < 10000 && !atomic_load(&gate); i++)
        usleep(1000);
    return 0;
}

static atomic_int dones;
static void count_done(void *arg)
{
    (void) arg;
    atomic_fetch_add(&dones, 1);
}

static void wait_entered(int n)
{
    for (int i = 0; i < 10000 && atomic_load(&entered) < n; i++)
        usleep(1000);
    cr_assert_eq(atomic_load(&entered), n);
}

Test(pool, full_queue_answers_eagain)
{
    tvm t = pool_vm(1, 1, 2);
    fx_pool_job j = {.fn = gate_job, .done = count_done, .reply_to = t.me};
    cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    wait_entered(1); /* running, so the queue is empty again */
    cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    cr_assert_eq(fx_pool_submit(t.vm, &j), FX_EAGAIN);
    fx_pool_stats st;
    cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.running, 1);
    cr_assert_eq(st.queued, 2);
    cr_assert_eq(st.rejected, 1);
    atomic_store(&gate, 1);
    for (int i = 0; i < 3; i++)
        fx_msg_free(tvm_recv(&t, FX_MSG_POOL_DONE));
    cr_assert_eq(atomic_load(&dones), 3);      /* done ran before each outcome */
    cr_assert_eq(fx_pool_submit(t.vm, &j), 0); /* room again */
    fx_msg_free(tvm_recv(&t, FX_MSG_POOL_DONE));
    tvm_stop(&t);
}

static int sleep_job(void *arg, fx_msg **result)
{
    (void) result;
    usleep((useconds_t) (uintptr_t) arg * 1000);
    return 0;
}

Test(pool, shutdown_cancels_queued_jobs_and_runs_done)
{
    tvm t = pool_vm(1, 1, 16);
    fx_pool_job run = {.fn = sleep_job, .arg = (void *) 50, .done = count_done};
    cr_assert_eq(fx_pool_submit(t.vm, &run), 0);
    fx_pool_job q = {
        .fn = sleep_job, .arg = (void *) 50, .done = count_done, .reply_to = t.me};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(fx_pool_submit(t.vm, &q), 0);
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    fx_pool_stats st;
    cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.completed + st.cancelled, 6);
    cr_assert_geq(st.cancelled, 4); /* at most one more started meanwhile */
    cr_assert_eq(st.threads, 0);
    cr_assert_eq(st.queued, 0);
    cr_assert_eq(atomic_load(&dones), 6); /* every accepted job's done ran */
    cr_assert_eq(fx_pool_submit(t.vm, &q), FX_ESHUTDOWN);
    fx_vm_destroy(t.vm);
}

typedef struct probe {
    fx_vm *vm;
    fx_pid to;
} probe;
static int probe_job(void *arg, fx_msg **result)
{
    probe *p = arg;
    int32_t on = fx_vm_on_scheduler(p->vm);
    /* A job may send like any thread outside the VM. */
    int rc = fx_vm_send(p->vm, p->to, RESULT, &on, sizeof on);
    (void) result;
    return rc;
}

Test(pool, jobs_are_not_on_scheduler_threads_and_may_send)
{
    tvm t = pool_vm(2, 0, 0);
    probe p = {t.vm, t.me};
    fx_pool_job j = {.fn = probe_job, .arg = &p, .reply_to = t.me};
    cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    fx_msg *m = tvm_recv(&t, RESULT);
    int32_t on;
    memcpy(&on, fx_msg_data(m), sizeof on);
    cr_assert_eq(on, 0);
    fx_msg_free(m);
    fx_msg *d = tvm_recv(&t, FX_MSG_POOL_DONE);
    fx_outcome h;
    cr_assert_eq(fx_outcome_get(d, &h, NULL), 0);
    cr_assert_eq(h.status, 0);
    cr_assert_eq(h.type, 0);
    cr_assert_eq(h.size, 0);
    fx_msg_free(d);
    tvm_stop(&t);
}

/* Ping-pong: the pinger sends PING to the ponger n times and reports to
 * the inbox. */
typedef struct pinger {
    fx_pid ponger, report;
    uint64_t left;
} pinger;
static fx_next ponger(fx_ctx *cx, fx_msg *m)
{
    (void) fx_send(cx, fx_msg_from(m), PONG, NULL, 0);
    return fx_continue(cx);
}
static fx_next pinger_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    pinger *s = fx_state(cx);
    if (s->left-- == 0) {
        (void) fx_send(cx, s->report, PONG_DONE, NULL, 0);
        return fx_stop(cx, fx_reason_normal());
    }
    (void) fx_send(cx, s->ponger, PING, NULL, 0);
    return fx_continue(cx);
}

/* A 200 ms blocking sleep in the pool does not hold up a ping-pong on the
 * only scheduler thread: its 2,000 round trips (a few ms) finish before
 * the sleep does. The bound is the sleep itself, about 100x the need. */
Test(pool, blocking_job_does_not_delay_pingpong)
{
    tvm t = pool_vm(1, 2, 0);
    fx_pool_job j = {.fn = sleep_job, .arg = (void *) 200, .reply_to = t.me};
    cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    fx_pid pong;
    cr_assert_eq(fx_vm_spawn(t.vm, ponger, NULL, &pong), 0);
    pinger init = {.ponger = pong, .report = t.me, .left = 2000};
    fx_pid ping = spawn_state(t.vm, pinger_h, &init, sizeof init);
    cr_assert_eq(fx_vm_send(t.vm, ping, PONG, NULL, 0), 0);
    fx_msg *first = tvm_recv(&t, 0);
    cr_assert_eq(fx_msg_type(first), PONG_DONE, "the ping-pong waited for the pool job");
    fx_msg_free(first);
    fx_msg_free(tvm_recv(&t, FX_MSG_POOL_DONE));
    tvm_stop(&t);
}

Test(pool, min_threads_start_with_the_vm)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.pool_min_threads = 2;
    c.pool_max_threads = 3;
    tvm t = tvm_start_with(&c);
    fx_pool_stats st;
    cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.threads, 2);
    tvm_stop(&t);
}

Test(pool, config_limits)
{
    fx_vm_config c;
    fx_vm *vm = NULL;
    fx_vm_config_init(&c);
    c.pool_min_threads = 3;
    c.pool_max_threads = 2;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    fx_vm_config_init(&c);
    c.pool_max_threads = 1025;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    fx_vm_config_init(&c);
    c.pool_queue = 1024 * 1024 + 1;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    fx_vm_config_init(&c);
    c.pool_nice = 21; /* FX_POOL_NICE_IDLE (20) is the last valid value */
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    c.pool_nice = -2;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    /* A version 2 config (built against the older header) is accepted. */
    fx_vm_config_init(&c);
    c.version = 2;
    c.threads = 1;
    c.pool_max_threads = 99999; /* not part of a version 2 config: ignored */
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    fx_vm_destroy(vm);
}

Test(pool, stats_before_any_use_are_zero)
{
    tvm t = pool_vm(1, 0, 0);
    fx_pool_stats st;
    memset(&st, 0xff, sizeof st);
    cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.threads + st.completed + st.queued, 0);
    tvm_stop(&t);
}
