/* Stress: the pool's starvation guard (src/pool/bguard.c) against jobs
 * starting and ending, threads raised out of SCHED_IDLE and going back,
 * and VM shutdown. Everything runs on one core (affinity set before any
 * thread starts) beside a normal-class thread that keeps it busy, so the
 * idle-class jobs starve until the guard raises them (as root or with
 * CAP_SYS_NICE) or the pool degrades (without). Each round submits jobs
 * of 5 ms of CPU time from the main thread in bursts and waits for every
 * outcome; odd rounds shut the VM down with jobs still queued (they are
 * cancelled: FX_ESHUTDOWN outcomes). Checks: every outcome arrives, with
 * status 0 or FX_ESHUTDOWN, and the guard saw starving jobs. Plain
 * program (exit status) so it runs under ThreadSanitizer. Usage:
 * guard_stress [rounds] */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define JOBS 6

static int hog_stop; /* __atomic */

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static void *hog(void *arg)
{
    (void) arg;
    double end = now_s(CLOCK_MONOTONIC) + 120;
    while (!__atomic_load_n(&hog_stop, __ATOMIC_RELAXED) && now_s(CLOCK_MONOTONIC) < end)
        for (volatile int i = 0; i < 10000; i++)
            ;
    return NULL;
}

static int cpu_job(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    double end = now_s(CLOCK_THREAD_CPUTIME_ID) + 0.005;
    double give_up = now_s(CLOCK_MONOTONIC) + 30;
    while (now_s(CLOCK_THREAD_CPUTIME_ID) < end && now_s(CLOCK_MONOTONIC) < give_up)
        for (volatile int i = 0; i < 1000; i++)
            ;
    return 0;
}

/* One round; answers the starved count, or -1 on a violation. */
static long round_run(int r)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.pool_max_threads = 3;
    c.pool_idle_ms = 1 + (uint32_t) (r % 3) * 50; /* threads leave and come back */
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&c, &vm) != 0 || fx_vm_start(vm) != 0 ||
        fx_inbox_create(vm, &in) != 0)
        return -1;
    fx_pool_job j = {.fn = cpu_job, .reply_to = fx_inbox_pid(in)};
    int accepted = 0;
    for (int i = 0; i < JOBS; i++)
        accepted += fx_pool_submit(vm, &j) == 0;
    int want = r % 2 ? accepted / 2 : accepted;
    long bad = 0;
    for (int i = 0; i < want; i++) {
        fx_msg *m = NULL;
        fx_outcome h;
        if (fx_inbox_recv(in, &(fx_match){.type = FX_MSG_POOL_DONE}, 60000, &m) != 0 ||
            fx_outcome_get(m, &h, NULL) != 0 || h.status != 0)
            bad++;
        fx_msg_free(m);
    }
    fx_pool_stats st;
    int rc;
    while ((rc = fx_vm_shutdown(vm)) == FX_ESTUCK)
        ;
    if (rc != 0)
        bad++;
    fx_pool_stats_get(vm, &st);
    if (st.completed + st.cancelled != (uint64_t) accepted)
        bad++;
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    return bad ? -1 : (long) st.starved;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 6;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    bool pinned = sched_setaffinity(0, sizeof one, &one) == 0;
    pthread_t h;
    if (pthread_create(&h, NULL, hog, NULL) != 0)
        return 1;
    long starved = 0;
    int bad = 0;
    for (int r = 0; r < rounds; r++) {
        long s = round_run(r);
        if (s < 0) {
            fprintf(stderr, "guard_stress: round %d failed\n", r);
            bad++;
        } else {
            starved += s;
        }
    }
    __atomic_store_n(&hog_stop, 1, __ATOMIC_RELAXED);
    pthread_join(h, NULL);
    if (pinned && starved == 0) {
        fprintf(stderr, "guard_stress: no starving job seen on a busy core\n");
        bad++;
    }
    printf("guard_stress: %d rounds, %ld starving jobs seen, %d failed\n", rounds,
           starved, bad);
    return bad ? 1 : 0;
}
