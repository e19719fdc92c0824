/* Stress: the process snapshot and process info race with spawn/exit
 * churn. A factory spawns short-lived processes (plain, labelled with a
 * cleanup, linked, trapping, in a selective receive) without pause while
 * threads outside the VM and one process inside it walk the process
 * table (fx_vm_processes), look up recently spawned pids
 * (fx_process_info), read the statistics, and another thread switches
 * handler timing on and off. SENTINELS processes live through the whole
 * run: every walk must see each of them exactly once (the documented
 * consistency), and every field read must be sane. Plain program (exit
 * status), so it runs under ThreadSanitizer. argv[1]: walks per outside
 * walker. */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { HIT = 1, SPAWN, WALK, STOPPED };

#define SENTINELS 64
#define RING 256
#define WALKERS 2
#define BATCH 40

static uint64_t ring[RING];   /* recently spawned pids (atomic access) */
static uint64_t violations;   /* atomic */
static uint64_t inside_walks; /* atomic */
static int stop;              /* atomic */

static void violation(const char *what, uint64_t v)
{
    if (__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED) < 10)
        fprintf(stderr, "info_stress: %s (%llu)\n", what, (unsigned long long) v);
}

static fx_next idle_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static fx_next victim(fx_ctx *cx, fx_msg *m);

static fx_next picky_then(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_normal());
}

static fx_next victim(fx_ctx *cx, fx_msg *m)
{
    uint64_t kind;
    memcpy(&kind, fx_msg_data(m), sizeof kind);
    switch (kind % 4) {
    case 0:
        return fx_stop(cx, fx_reason_normal());
    case 1:
        fx_trap_exit(cx, true);
        return fx_stop(cx, fx_reason_shutdown());
    case 2: { /* waits for a message that comes as the next HIT */
        fx_match mt = {.type = HIT};
        return fx_receive(cx, picky_then, &mt, 50);
    }
    default:
        return fx_stop(cx, fx_reason_error(9, "churn"));
    }
}

static void cleanup(void *state, const fx_reason *r)
{
    (void) state;
    (void) r;
}

typedef struct factory {
    fx_pid report;
    uint64_t n, seed;
} factory;

static fx_next factory_h(fx_ctx *cx, fx_msg *m)
{
    factory *f = fx_state(cx);
    if (fx_msg_type(m) != SPAWN)
        return fx_continue(cx); /* EXITs of linked victims */
    fx_trap_exit(cx, true);     /* linked victims crash on purpose */
    if (__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        fx_send(cx, f->report, STOPPED, &f->n, sizeof f->n);
        return fx_stop(cx, fx_reason_normal());
    }
    for (int i = 0; i < BATCH; i++) {
        f->seed = f->seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t kind = f->seed >> 33;
        fx_spawn_opts o = {.handler = victim};
        if (kind & 4) {
            o.label = "victim";
            o.cleanup = cleanup;
        }
        fx_pid p;
        int rc = (kind & 8) ? fx_spawn_link(cx, &o, &p) : fx_spawn_opt(cx, &o, &p);
        if (rc != 0)
            continue;
        __atomic_store_n(&ring[f->n % RING], p.id, __ATOMIC_RELAXED);
        f->n++;
        fx_send(cx, p, HIT, &kind, sizeof kind);
        fx_send(cx, p, HIT, &kind, sizeof kind);
    }
    fx_send(cx, fx_self(cx), SPAWN, NULL, 0);
    return fx_continue(cx);
}

/* ---- checking what a walk sees ---------------------------------------------- */

typedef struct seen {
    uint32_t sentinels, visited;
} seen;

static int visit(void *arg, const fx_proc_info *i)
{
    seen *s = arg;
    s->visited++;
    if (i->version != FX_PROC_INFO_VERSION || (unsigned) i->status > FX_PROC_EXITING)
        violation("bad version or status", i->status);
    if (fx_pid_is_none(i->pid))
        violation("empty pid", 0);
    if (memchr(i->label, 0, sizeof i->label) == NULL ||
        memchr(i->handler, 0, sizeof i->handler) == NULL ||
        memchr(i->name, 0, sizeof i->name) == NULL)
        violation("unterminated text", 0);
    if (i->saved_len > i->queue_len)
        violation("saved > queue", i->saved_len);
    if (i->status == FX_PROC_EXITING && (i->label[0] || i->handled))
        violation("exiting entry with fields", i->handled);
    if (strcmp(i->label, "sentinel") == 0) {
        s->sentinels++;
        if (i->handled != 1 || i->queue_len != 0 || i->links != 0)
            violation("sentinel fields", i->handled);
    }
    return 0;
}

static void check_walk(fx_vm *vm, const char *who)
{
    seen s = {0, 0};
    int n = fx_vm_processes(vm, visit, &s);
    if (n < 0) {
        violation(who, (uint64_t) -n);
        return;
    }
    if ((uint32_t) n != s.visited)
        violation("count differs from visits", (uint64_t) n);
    if (s.sentinels != SENTINELS)
        violation("sentinels seen", s.sentinels);
}

static fx_next inside_walker(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    if (__atomic_load_n(&stop, __ATOMIC_RELAXED))
        return fx_stop(cx, fx_reason_normal());
    check_walk(fx_ctx_vm(cx), "inside walk failed");
    __atomic_fetch_add(&inside_walks, 1, __ATOMIC_RELAXED);
    fx_send(cx, fx_self(cx), WALK, NULL, 0);
    return fx_continue(cx);
}

typedef struct walker {
    fx_vm *vm;
    int walks;
    uint64_t seed;
} walker;

static void *walker_main(void *arg)
{
    walker *w = arg;
    for (int k = 0; k < w->walks; k++) {
        check_walk(w->vm, "outside walk failed");
        for (int j = 0; j < 50; j++) {
            w->seed = w->seed * 6364136223846793005ULL + 1442695040888963407ULL;
            uint64_t id =
                __atomic_load_n(&ring[(w->seed >> 33) % RING], __ATOMIC_RELAXED);
            if (!id)
                continue;
            fx_proc_info i;
            i.version = FX_PROC_INFO_VERSION;
            int rc = fx_process_info(w->vm, (fx_pid){id}, &i);
            if (rc != 0 && rc != FX_ENOPROC)
                violation("process info failed", (uint64_t) -rc);
            if (rc == 0 && (i.pid.id != id || i.status == FX_PROC_EXITING))
                violation("process info fields", i.status);
        }
        fx_vm_stats st;
        if (fx_vm_stats_get(w->vm, &st) != 0)
            violation("stats failed", 0);
        for (uint32_t s = 0; s < fx_vm_sched_count(w->vm); s++) {
            fx_sched_stats ss;
            ss.version = FX_SCHED_STATS_VERSION;
            if (fx_vm_sched_stats(w->vm, s, &ss) != 0)
                violation("sched stats failed", s);
        }
    }
    return NULL;
}

static void *timing_main(void *arg)
{
    fx_vm *vm = arg;
    struct timespec ts = {0, 2000000};
    for (int k = 0; !__atomic_load_n(&stop, __ATOMIC_RELAXED) && k < 100000; k++) {
        if (fx_vm_set_timing(vm, k % 2 == 0) < 0)
            violation("set timing failed", 0);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int walks = argc > 1 ? atoi(argv[1]) : 100;
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.crash_logger = fx_crash_logger_silent;
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&c, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in)) {
        fprintf(stderr, "info_stress: cannot start\n");
        return 1;
    }
    for (int i = 0; i < SENTINELS; i++) {
        fx_spawn_opts o = {.handler = idle_h, .label = "sentinel"};
        fx_pid p;
        uint64_t one = 1;
        if (fx_vm_spawn_opt(vm, &o, &p) || fx_inbox_send(in, p, HIT, &one, sizeof one))
            return 1;
    }
    /* Let the sentinels take their one message before the walks begin. */
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    factory f = {fx_inbox_pid(in), 0, 42};
    fx_pid fp, wp;
    if (fx_vm_spawn(vm, factory_h, &f, &fp) || fx_inbox_send(in, fp, SPAWN, NULL, 0) ||
        fx_vm_spawn(vm, inside_walker, NULL, &wp) || fx_inbox_send(in, wp, WALK, NULL, 0))
        return 1;
    pthread_t th[WALKERS], tt;
    walker w[WALKERS];
    for (int i = 0; i < WALKERS; i++) {
        w[i] = (walker){vm, walks, 7u + (uint64_t) i};
        pthread_create(&th[i], NULL, walker_main, &w[i]);
    }
    pthread_create(&tt, NULL, timing_main, vm);
    for (int i = 0; i < WALKERS; i++)
        pthread_join(th[i], NULL);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    pthread_join(tt, NULL);
    fx_match mt = {.type = STOPPED};
    fx_msg *m = NULL;
    uint64_t spawned = 0;
    if (fx_inbox_recv(in, &mt, 60000, &m) == 0) {
        memcpy(&spawned, fx_msg_data(m), sizeof spawned);
        fx_msg_free(m);
    } else {
        violation("factory did not stop", 0);
    }
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    uint64_t v = __atomic_load_n(&violations, __ATOMIC_RELAXED);
    printf("info_stress: %llu processes churned, %d x %d outside walks, %llu inside, "
           "%llu violations\n",
           (unsigned long long) spawned, WALKERS, walks,
           (unsigned long long) __atomic_load_n(&inside_walks, __ATOMIC_RELAXED),
           (unsigned long long) v);
    return v == 0 && spawned > 0 ? 0 : 1;
}
