/* The pool's starvation guard (src/pool/bguard.c, docs/tasks.md,
 * "Priority"): pool threads run in SCHED_IDLE by default; a job whose
 * only core a normal thread keeps busy is found starving and finishes,
 * raised to the normal class (with CAP_SYS_NICE) or, without the
 * privilege, a later job runs on a normal-class thread while the pool
 * avoids SCHED_IDLE. Everything runs on one core (affinity set before
 * any thread starts). Waits are generous and bounded; nothing asserts
 * timing: without the guard, the job in SCHED_IDLE (weight 3 against
 * the busy thread's 1,024) takes seconds and the starved count stays 0. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

static atomic_int hog_stop;

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* A normal-class thread that keeps the core busy (60 s at most). */
static void *hog(void *arg)
{
    (void) arg;
    double end = now_s(CLOCK_MONOTONIC) + 60;
    while (!atomic_load(&hog_stop) && now_s(CLOCK_MONOTONIC) < end)
        for (volatile int i = 0; i < 10000; i++)
            ;
    return NULL;
}

/* 20 ms of this thread's CPU time (60 s of wall time at most). */
static int cpu_job(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    double end = now_s(CLOCK_THREAD_CPUTIME_ID) + 0.02;
    double give_up = now_s(CLOCK_MONOTONIC) + 60;
    while (now_s(CLOCK_THREAD_CPUTIME_ID) < end && now_s(CLOCK_MONOTONIC) < give_up)
        for (volatile int i = 0; i < 1000; i++)
            ;
    return 0;
}

/* Submits a cpu_job and waits (60 s) for its outcome. */
static void run_job(tvm *t)
{
    fx_pool_job j = {.fn = cpu_job, .reply_to = t->me};
    cr_assert_eq(fx_pool_submit(t->vm, &j), 0);
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t->in, &(fx_match){.type = FX_MSG_POOL_DONE}, 60000, &m);
    cr_assert_eq(rc, 0, "job outcome: %s", fx_strerror(rc));
    fx_outcome h;
    cr_assert_eq(fx_outcome_get(m, &h, NULL), 0);
    cr_assert_eq(h.status, 0);
    fx_msg_free(m);
}

Test(pool_guard, a_job_starving_in_the_idle_class_is_found_and_finishes, .timeout = 180)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        cr_skip_test("cannot pin the test to one core");
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.pool_max_threads = 2; /* default pool_nice: SCHED_IDLE */
    tvm t = tvm_start_with(&c);
    pthread_t h;
    cr_assert_eq(pthread_create(&h, NULL, hog, NULL), 0);
    run_job(&t);
    fx_pool_stats st;
    cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
    cr_assert_geq(st.starved, 1, "the guard did not notice the starving job");
    run_job(&t); /* raised again, or run by a normal-class thread */
    atomic_store(&hog_stop, 1);
    pthread_join(h, NULL);
    tvm_stop(&t);
}

/* Blocking jobs (the pool's main use) use almost no CPU: the pool's
 * share is tiny, but they are not runnable, so none is starving. */
static int sleep_job(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    usleep(300000);
    return 0;
}

Test(pool_guard, sleeping_jobs_are_not_starving)
{
    tvm t = tvm_start(2);
    fx_pool_job j = {.fn = sleep_job, .reply_to = t.me};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    for (int i = 0; i < 4; i++)
        fx_msg_free(tvm_recv(&t, FX_MSG_POOL_DONE));
    fx_pool_stats st;
    cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.starved, 0);
    tvm_stop(&t);
}
