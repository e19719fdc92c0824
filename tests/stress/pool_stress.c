/* Stress: pool threads exiting when idle (pool_idle_ms 1) racing
 * submissions from several outside threads, jobs that crash
 * (fx_crash(NULL)), and VM shutdown with a short deadline while jobs
 * still run. Each round: 4 submitters send bursts of jobs with pauses of
 * 0-3 ms (so threads go idle, exit and are started again) to an inbox,
 * every eighth job crashes; then the round shuts the VM down while the
 * last burst runs, with a 1 ms deadline (FX_ESTUCK is allowed; the round
 * then calls fx_vm_shutdown again until it answers 0). The account: every
 * accepted job's done ran exactly once, every outcome that arrived is
 * right (result or crash text), and nothing is left running. Plain
 * program (exit status), so it runs under ThreadSanitizer. Argument:
 * rounds. */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SUBMITTERS = 4, BURSTS = 20, RESULT = 9 };

static long accepted, dones, outcomes, stuck, bad; /* __atomic */

static void oops(const char *what, long v)
{
    __atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
    fprintf(stderr, "pool_stress: %s (%ld)\n", what, v);
}

static void done_fn(void *arg)
{
    (void) arg;
    __atomic_fetch_add(&dones, 1, __ATOMIC_RELAXED);
}

static int work(void *arg, fx_msg **result)
{
    uintptr_t n = (uintptr_t) arg;
    if (n % 8 == 7)
        fx_crash(NULL, "job %u", (unsigned) n);
    if (n % 5 == 0)
        usleep(n % 10 == 0 ? 3000 : 100); /* some still run at the shutdown */
    uint64_t v = n * 3;
    if (fx_msg_new(RESULT, sizeof v, result) == 0)
        memcpy(fx_msg_data_mut(*result), &v, sizeof v);
    return 0;
}

/* Checks one outcome: the job's number is its ref. */
static void check(const fx_msg *m)
{
    fx_outcome h;
    const void *data;
    if (fx_outcome_get(m, &h, &data) != 0) {
        oops("undecodable outcome", 0);
        return;
    }
    __atomic_fetch_add(&outcomes, 1, __ATOMIC_RELAXED);
    uint64_t n = h.ref.id;
    if (h.status == FX_ESHUTDOWN)
        return; /* cancelled by the shutdown */
    if (n % 8 == 7) {
        char want[32];
        snprintf(want, sizeof want, "job %u", (unsigned) n);
        if (h.status != FX_ECRASHED || h.type != FX_MSG_POOL_CRASH ||
            strcmp((const char *) data, want) != 0)
            oops("wrong crash outcome", (long) n);
        return;
    }
    uint64_t v = 0;
    if (h.status != 0 || h.type != RESULT || h.size != sizeof v)
        oops("wrong outcome", (long) n);
    else if (memcpy(&v, data, sizeof v), v != n * 3)
        oops("wrong result", (long) n);
}

typedef struct submitter {
    fx_vm *vm;
    fx_pid to;
    unsigned seed;
    uint64_t base;
} submitter;

static void *submit_main(void *arg)
{
    submitter *s = arg;
    for (int b = 0; b < BURSTS; b++) {
        int n = 1 + rand_r(&s->seed) % 6;
        for (int i = 0; i < n; i++) {
            uint64_t id = s->base++;
            fx_pool_job j = {.fn = work,
                             .arg = (void *) (uintptr_t) id,
                             .done = done_fn,
                             .reply_to = s->to,
                             .ref = {id}};
            int rc = fx_pool_submit(s->vm, &j);
            if (rc == 0)
                __atomic_fetch_add(&accepted, 1, __ATOMIC_RELAXED);
            else if (rc != FX_EAGAIN && rc != FX_ESHUTDOWN)
                oops("submit", rc);
        }
        usleep((useconds_t) (rand_r(&s->seed) % 4) * 1000);
    }
    return NULL;
}

static void round_once(unsigned seed)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.pool_max_threads = 4;
    c.pool_queue = 16;
    c.pool_idle_ms = 1;
    c.shutdown_timeout_ms = 1;
    c.crash_logger = fx_crash_logger_silent;
    fx_vm *vm;
    if (fx_vm_create(&c, &vm) != 0 || fx_vm_start(vm) != 0) {
        oops("vm start", 0);
        return;
    }
    fx_inbox *in;
    if (fx_inbox_create(vm, &in) != 0) {
        oops("inbox", 0);
        fx_vm_destroy(vm);
        return;
    }
    submitter subs[SUBMITTERS];
    pthread_t th[SUBMITTERS];
    for (int i = 0; i < SUBMITTERS; i++) {
        subs[i] = (submitter){.vm = vm,
                              .to = fx_inbox_pid(in),
                              .seed = seed * 31 + (unsigned) i,
                              .base = (uint64_t) i << 32};
        pthread_create(&th[i], NULL, submit_main, &subs[i]);
    }
    for (int i = 0; i < SUBMITTERS; i++)
        pthread_join(th[i], NULL);
    /* Take what has arrived by now; the rest races the shutdown. */
    fx_msg *m;
    while (fx_inbox_recv(in, NULL, 0, &m) == 0) {
        check(m);
        fx_msg_free(m);
    }
    fx_inbox_destroy(in);
    int rc;
    for (int i = 0; i < 100000 && (rc = fx_vm_shutdown(vm)) == FX_ESTUCK; i++)
        __atomic_fetch_add(&stuck, 1, __ATOMIC_RELAXED);
    if (rc != 0)
        oops("shutdown", rc);
    fx_pool_stats st;
    if (fx_pool_stats_get(vm, &st) != 0 || st.threads != 0 || st.running != 0)
        oops("threads left", (long) st.threads);
    fx_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    for (int r = 0; r < rounds; r++)
        round_once((unsigned) r + 1);
    long a = __atomic_load_n(&accepted, __ATOMIC_RELAXED);
    long d = __atomic_load_n(&dones, __ATOMIC_RELAXED);
    if (a != d)
        oops("done count differs from accepted jobs", d - a);
    if (__atomic_load_n(&bad, __ATOMIC_RELAXED)) {
        fprintf(stderr, "pool_stress: FAILED\n");
        return 1;
    }
    printf("pool_stress: %d rounds, %ld jobs, %ld outcomes read, %ld FX_ESTUCK answers, "
           "every done ran once\n",
           rounds, a, __atomic_load_n(&outcomes, __ATOMIC_RELAXED),
           __atomic_load_n(&stuck, __ATOMIC_RELAXED));
    return 0;
}
