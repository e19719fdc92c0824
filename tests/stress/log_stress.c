/* Stress: logging from many actors and threads at once into one sink,
 * with the rate limit's compare-and-swap contended, crash reports and
 * supervisor-free crash loops racing plain lines, and the threshold
 * changed underneath. Every fx_log that answers 1 must reach the sink
 * exactly once, and the "N suppressed" lines must account for every
 * suppressed event (checked in the rounds without level changes; the
 * other rounds change the threshold while lines fly). Plain program (exit
 * status) for ThreadSanitizer.
 *   log_stress [ROUNDS] */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { GO = 1, DONE = 2 };

#define ACTORS 32
#define LINES 200
#define THREADS 3

static uint64_t violations; /* atomic */

static void violation(const char *what)
{
    if (__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED) < 5)
        fprintf(stderr, "log_stress: %s\n", what);
}

/* The sink: counts plain lines, crash reports and the suppressed counts
 * it is told, and formats every event (reads every field). */
typedef struct {
    uint64_t plain, crashes, told, notes; /* atomic */
} sink_counts;

static void sink(void *arg, const fx_log_event *ev)
{
    sink_counts *c = arg;
    char line[2048];
    if (fx_log_format(ev, line, sizeof line) <= 0)
        violation("empty line");
    unsigned long long n;
    if (ev->report) {
        if (ev->report->kind == FX_REPORT_CRASH)
            __atomic_fetch_add(&c->crashes, 1, __ATOMIC_RELAXED);
    } else if (sscanf(ev->text, "%llu log events suppressed", &n) == 1) {
        __atomic_fetch_add(&c->told, n, __ATOMIC_RELAXED);
        __atomic_fetch_add(&c->notes, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_fetch_add(&c->plain, 1, __ATOMIC_RELAXED);
    }
}

static uint64_t passed; /* atomic: fx_log calls that answered 1 */

static fx_next logger_h(fx_ctx *cx, fx_msg *m)
{
    uint32_t id;
    memcpy(&id, fx_msg_data(m), sizeof id);
    for (int i = 0; i < LINES; i++) {
        int rc = fx_log(fx_ctx_vm(cx), 1 + (i % 8), "actor %u line %d", id, i);
        if (rc == 1)
            __atomic_fetch_add(&passed, 1, __ATOMIC_RELAXED);
        else if (rc != 0)
            violation("fx_log failed in a handler");
    }
    if (id % 4 == 0)
        fx_crash(cx, "actor %u crashes on purpose", id);
    fx_send(cx, fx_msg_from(m), DONE, NULL, 0);
    return fx_stop(cx, fx_reason_normal());
}

typedef struct {
    fx_vm *vm;
    int id;
    bool churn; /* thread 0 changes the threshold */
} thread_arg;

static void *outside(void *p)
{
    thread_arg *a = p;
    for (int i = 0; i < LINES * 4; i++) {
        if (a->churn && a->id == 0 && i % 50 == 0)
            (void) fx_log_set_level(a->vm, i % 100 == 0 ? FX_LOG_DEBUG : FX_LOG_WARNING);
        int rc = fx_log(a->vm, 1 + (i % 8), "thread %d line %d", a->id, i);
        if (rc == 1)
            __atomic_fetch_add(&passed, 1, __ATOMIC_RELAXED);
        else if (rc != 0)
            violation("fx_log failed outside the VM");
    }
    return NULL;
}

static int round_once(bool churn)
{
    sink_counts counts = {0};
    __atomic_store_n(&passed, 0, __ATOMIC_RELAXED);
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    cfg.log_sink = sink;
    cfg.log_sink_arg = &counts;
    cfg.log_level = FX_LOG_DEBUG;
    cfg.log_rate = 20000; /* low enough that some events are suppressed */
    cfg.log_burst = 200;
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&cfg, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in)) {
        fprintf(stderr, "log_stress: cannot start a VM\n");
        return 1;
    }
    pthread_t th[THREADS];
    thread_arg ta[THREADS];
    for (int i = 0; i < THREADS; i++) {
        ta[i] = (thread_arg){vm, i, churn};
        pthread_create(&th[i], NULL, outside, &ta[i]);
    }
    fx_pid pids[ACTORS];
    fx_ref refs[ACTORS];
    for (uint32_t i = 0; i < ACTORS; i++) {
        fx_spawn_opts o = {.handler = logger_h, .label = "logger"};
        if (fx_inbox_spawn_monitor(in, &o, &pids[i], &refs[i]) ||
            fx_inbox_send(in, pids[i], GO, &i, sizeof i))
            violation("spawn or send failed");
    }
    for (int i = 0; i < ACTORS; i++) {
        fx_msg *m;
        if (fx_inbox_recv(in, &(fx_match){.type = FX_MSG_DOWN}, 30000, &m) != 0) {
            violation("an actor did not finish");
            break;
        }
        fx_msg_free(m);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    /* A crash report is made after the DOWN is sent: without threshold
     * changes every event is either in the sink or suppressed, so wait
     * for the count to be complete. */
    const uint64_t total = ACTORS * LINES + THREADS * LINES * 4 + (ACTORS + 3) / 4;
    fx_log_stats st;
    for (int i = 0; !churn && i < 30000; i++) {
        fx_log_stats_get(vm, &st);
        if (__atomic_load_n(&counts.plain, __ATOMIC_RELAXED) +
                __atomic_load_n(&counts.crashes, __ATOMIC_RELAXED) + st.suppressed >=
            total)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    /* Flush the last suppressed count with one more line. */
    (void) fx_log_set_level(vm, FX_LOG_DEBUG);
    int rc = 0;
    uint64_t flushes = 0; /* each one not passed is suppressed */
    for (int i = 0; i < 2000 && rc != 1; i++) {
        flushes++;
        rc = fx_log(vm, FX_LOG_NOTICE, "flush");
        if (rc != 1) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (rc == 1)
        __atomic_fetch_add(&passed, 1, __ATOMIC_RELAXED);
    else
        violation("no line passed after the load");
    /* An event still in flight (a late crash report: the churn rounds do
     * not wait for them) is counted by the sink before `logged`: read
     * both until they agree, up to 5 s, then judge. */
    uint64_t plain, crashes, told, notes;
    for (int i = 0;; i++) {
        fx_log_stats_get(vm, &st);
        plain = __atomic_load_n(&counts.plain, __ATOMIC_RELAXED);
        crashes = __atomic_load_n(&counts.crashes, __ATOMIC_RELAXED);
        told = __atomic_load_n(&counts.told, __ATOMIC_RELAXED);
        notes = __atomic_load_n(&counts.notes, __ATOMIC_RELAXED);
        if (st.logged == plain + crashes + notes || i == 5000)
            break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    if (plain != __atomic_load_n(&passed, __ATOMIC_RELAXED))
        violation("a passed line did not reach the sink exactly once");
    if (st.logged != plain + crashes + notes)
        violation("logged counter differs from the sink's count");
    if (!churn && told != st.suppressed)
        violation("suppressed lines not accounted for");
    if (!churn && plain + crashes + st.suppressed != total + flushes) {
        violation("an event was neither logged nor suppressed");
        fprintf(stderr,
                "log_stress: plain %llu, crashes %llu, suppressed %llu, total %llu\n",
                (unsigned long long) plain, (unsigned long long) crashes,
                (unsigned long long) st.suppressed, (unsigned long long) total);
    }
    fx_inbox_destroy(in);
    fx_vm_shutdown(vm);
    fx_vm_destroy(vm);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    for (int r = 0; r < rounds; r++)
        if (round_once(r % 2 == 1) != 0)
            return 1;
    uint64_t v = __atomic_load_n(&violations, __ATOMIC_RELAXED);
    if (v) {
        fprintf(stderr, "log_stress: %llu violations\n", (unsigned long long) v);
        return 1;
    }
    printf("log_stress: %d rounds ok\n", rounds);
    return 0;
}
