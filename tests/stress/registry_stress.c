/* Stress: lock-free registry reads racing with a churning registry.
 *
 * Writers: two threads outside the VM spawn "holders" (each dedicated to
 * one of NAMES names), register them (blocking), then unregister them or
 * kill them (the registry cleans up on the DOWN) or keep them for a
 * while; they also join and leave a group. An actor inside the VM does
 * the same with fx_spawn_named. The main thread kills the registry twice
 * during the run (a new, empty one starts on the next write).
 *
 * Readers: actors on both schedulers and two threads outside the VM look
 * names up (fx_whereis), send by name and to the group, and take
 * fx_registered / fx_group_members snapshots, without pause.
 *
 * Checks:
 * - whereis never answers a pid that was not registered under that name:
 *   before registering a holder, its writer records (pid generation,
 *   name) in owner[pid index]; a pid whose slot still carries its own
 *   generation must carry the name it was found under (a slot that was
 *   reused since cannot be checked, and is counted apart);
 * - a message sent by name reaches a holder of that name (each holder
 *   checks the name in every message it gets);
 * - memory is reclaimed while the readers run: once the writers stop, the
 *   registry's pending deferred frees drop to zero (fx_registry_stats),
 *   and in the sanitizer builds nothing leaks or is used after free.
 *
 * Plain program, so it runs under ThreadSanitizer. Usage:
 * registry_stress [ROUNDS] (register/unregister/die cycles, default
 * 200,000 spread over the writers). */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { NAMES = 32, SLOTS = 1 << 14, READER_ACTORS = 8, KEEP = 16 };
enum { PING = 1, TICK, STOPPED };

static fx_vm *vm;
static uint64_t
    owner[SLOTS]; /* atomic: (pid >> 24: tag, generation) << 8 | name, per index */
static uint64_t violations;    /* atomic */
static uint64_t misdelivered;  /* atomic */
static uint64_t lookups, hits; /* atomic */
static uint64_t unverifiable;  /* atomic: slot reused since the lookup */
static int stop_readers;       /* atomic */

static void name_of(unsigned i, char *buf)
{
    snprintf(buf, 16, "svc%u", i);
}

static void record_owner(fx_pid p, unsigned name)
{
    /* Before the registration that may make p visible: pairs with the
     * load in check(), through the registry's publication of the entry. */
    __atomic_store_n(&owner[p.id % SLOTS], (p.id >> 24) << 8 | name, __ATOMIC_RELEASE);
}

static void check(unsigned name, fx_pid got)
{
    uint64_t o = __atomic_load_n(&owner[got.id % SLOTS], __ATOMIC_ACQUIRE);
    if (o >> 8 != got.id >> 24) {
        __atomic_fetch_add(&unverifiable, 1, __ATOMIC_RELAXED);
        return;
    }
    if ((o & 0xff) != name) {
        fprintf(stderr, "whereis(svc%u) = pid of svc%u\n", name, (unsigned) (o & 0xff));
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
    }
}

/* One round of reads on any thread; cx for the in-VM variants. */
static void read_round(fx_ctx *cx, uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    unsigned i = (*seed >> 16) % NAMES;
    char name[16];
    name_of(i, name);
    fx_pid got;
    __atomic_fetch_add(&lookups, 1, __ATOMIC_RELAXED);
    if (fx_whereis(vm, name, &got) == 0) {
        __atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
        check(i, got);
    }
    /* Sends are rarer than lookups: the holders must keep up, or the
     * schedulers drown in pings and the registry starves. */
    uint32_t n = i;
    if ((*seed >> 8) % 8 == 0) {
        if (cx)
            (void) fx_send_named(cx, name, PING, &n, sizeof n);
        else
            (void) fx_vm_send_named(vm, name, PING, &n, sizeof n);
    }
    if ((*seed >> 8) % 1024 == 1) {
        uint32_t any = NAMES; /* group pings name no one */
        if (cx)
            (void) fx_group_send(cx, "all", PING, &any, sizeof any);
        else
            (void) fx_vm_group_send(vm, "all", PING, &any, sizeof any);
        fx_pid members[8];
        (void) fx_group_members(vm, "all", members, 8);
    }
    if ((*seed >> 8) % 256 == 2) {
        fx_registered_name snap[NAMES];
        int k = fx_registered(vm, snap, NAMES);
        for (int j = 0; j < k && j < NAMES; j++) {
            unsigned idx = (unsigned) atoi(snap[j].name + 3);
            if (idx < NAMES)
                check(idx, snap[j].pid);
        }
    }
}

/* ---- holders -------------------------------------------------------------------- */

typedef struct holder {
    uint32_t name;
} holder;

static fx_next holder_loop(fx_ctx *cx, fx_msg *m)
{
    holder *h = fx_state(cx);
    if (fx_msg_type(m) == PING && fx_msg_size(m) == sizeof(uint32_t)) {
        uint32_t n;
        memcpy(&n, fx_msg_data(m), sizeof n);
        if (n != h->name && n != NAMES)
            __atomic_fetch_add(&misdelivered, 1, __ATOMIC_RELAXED);
    }
    return fx_continue(cx);
}

/* ---- writers outside the VM ------------------------------------------------------- */

typedef struct writer {
    uint64_t rounds;
    uint32_t seed;
    uint64_t registered, taken, errors;
    uint64_t done; /* atomic: rounds done */
} writer;

static void *writer_main(void *p)
{
    writer *w = p;
    fx_inbox *in;
    if (fx_inbox_create(vm, &in) != 0) {
        w->errors++;
        return NULL;
    }
    fx_pid kept[KEEP] = {{0}};
    for (uint64_t r = 0; r < w->rounds; r++) {
        w->seed = w->seed * 1103515245u + 12345u;
        unsigned i = (w->seed >> 16) % NAMES;
        char name[16];
        name_of(i, name);
        holder h = {i};
        fx_spawn_opts o = {
            .handler = holder_loop, .state_size = sizeof h, .state_init = &h};
        fx_pid pid;
        if (fx_vm_spawn_opt(vm, &o, &pid) != 0) {
            w->errors++;
            continue;
        }
        record_owner(pid, i);
        int rc = fx_register(in, name, pid, NULL);
        if (rc == FX_EEXIST) {
            w->taken++;
        } else if (rc == 0) {
            w->registered++;
            if (r % 4 == 0)
                (void) fx_group_join(in, "all", pid);
        } else if (rc != FX_EEXIT) { /* EEXIT: the registry was killed */
            fprintf(stderr, "register: %s\n", fx_strerror(rc));
            w->errors++;
        }
        switch ((w->seed >> 8) % 3) {
        case 0: /* unregister, then die */
            (void) fx_unregister(in, name);
            (void) fx_vm_exit(vm, pid, fx_reason_kill());
            break;
        case 1: /* die: the registry gets the DOWN */
            (void) fx_vm_exit(vm, pid, fx_reason_kill());
            break;
        default: { /* keep it a while */
            unsigned k = (w->seed >> 4) % KEEP;
            if (kept[k].id)
                (void) fx_vm_exit(vm, kept[k], fx_reason_kill());
            kept[k] = pid;
        }
        }
        __atomic_store_n(&w->done, r + 1, __ATOMIC_RELAXED);
    }
    for (unsigned k = 0; k < KEEP; k++)
        if (kept[k].id)
            (void) fx_vm_exit(vm, kept[k], fx_reason_kill());
    fx_inbox_destroy(in);
    return NULL;
}

/* ---- a writer inside the VM: fx_spawn_named ------------------------------------- */

typedef struct spawner {
    fx_pid report;
    uint64_t left;
    uint32_t seed;
    fx_ref mon;
    fx_pid child;
} spawner;

static fx_next spawner_next(fx_ctx *cx, spawner *s);

static fx_next spawner_down(fx_ctx *cx, fx_msg *m)
{
    (void) m; /* the child's DOWN */
    return spawner_next(cx, fx_state(cx));
}

static fx_next spawner_tick(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    spawner *s = fx_state(cx);
    (void) fx_exit(cx, s->child, fx_reason_kill());
    fx_match mt = {.type = FX_MSG_DOWN, .ref = s->mon};
    return fx_receive(cx, spawner_down, &mt, FX_INFINITY);
}

static fx_next spawner_next(fx_ctx *cx, spawner *s)
{
    if (s->left-- == 0) {
        fx_send(cx, s->report, STOPPED, NULL, 0);
        return fx_stop(cx, fx_reason_normal());
    }
    s->seed = s->seed * 1103515245u + 12345u;
    unsigned i = (s->seed >> 16) % NAMES;
    char name[16];
    name_of(i, name);
    holder h = {i};
    fx_spawn_opts o = {.handler = holder_loop, .state_size = sizeof h, .state_init = &h};
    if (fx_spawn_named(cx, name, &o, &s->child, &s->mon) != 0)
        fx_crash(cx, "spawn_named failed");
    record_owner(s->child, i); /* before its GO is flushed */
    if ((s->seed >> 8) % 2)
        return spawner_tick(cx, NULL); /* killed at once, registered or not */
    /* Or a millisecond later. */
    if (fx_send_after(cx, 1, fx_self(cx), TICK, NULL, 0, NULL) != 0)
        fx_crash(cx, "send_after failed");
    fx_match mt = {.type = TICK, .from = fx_self(cx)};
    return fx_receive(cx, spawner_tick, &mt, FX_INFINITY);
}

static fx_next spawner_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    return spawner_next(cx, fx_state(cx));
}

/* ---- readers ----------------------------------------------------------------------- */

typedef struct reader {
    fx_pid report;
    uint32_t seed;
} reader;

static fx_next reader_loop(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    reader *r = fx_state(cx);
    if (__atomic_load_n(&stop_readers, __ATOMIC_ACQUIRE)) {
        fx_send(cx, r->report, STOPPED, NULL, 0);
        return fx_stop(cx, fx_reason_normal());
    }
    for (int k = 0; k < 64; k++)
        read_round(cx, &r->seed);
    /* A burst every millisecond, not a busy loop: a scheduler whose run
     * queue never empties serves actors woken from outside the VM (the
     * registry, called by the writer threads) only every 61 runs, and
     * the writers' calls would time out. */
    (void) fx_send_after(cx, 1, fx_self(cx), TICK, NULL, 0, NULL);
    return fx_continue(cx);
}

static void *outside_reader(void *p)
{
    uint32_t seed = (uint32_t) (uintptr_t) p;
    while (!__atomic_load_n(&stop_readers, __ATOMIC_ACQUIRE))
        read_round(NULL, &seed);
    return NULL;
}

/* ---- main ----------------------------------------------------------------------------
 */

static int wait_stopped(fx_inbox *in, int n)
{
    for (int i = 0; i < n; i++) {
        fx_msg *m;
        if (fx_inbox_recv(in, &(fx_match){.type = STOPPED}, 300000, &m) != 0)
            return -1;
        fx_msg_free(m);
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t rounds = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    cfg.max_processes = SLOTS;
    cfg.crash_logger = fx_crash_logger_silent; /* spawn_named losers exit with EEXIST */
    fx_inbox *in;
    if (fx_vm_create(&cfg, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in))
        return 1;
    fx_pid me = fx_inbox_pid(in);
    for (int i = 0; i < READER_ACTORS; i++) {
        reader r = {me, (uint32_t) i * 2654435761u + 1};
        fx_spawn_opts o = {
            .handler = reader_loop, .state_size = sizeof r, .state_init = &r};
        fx_pid p;
        if (fx_vm_spawn_opt(vm, &o, &p) || fx_vm_send(vm, p, TICK, NULL, 0))
            return 1;
    }
    pthread_t rth[2], wth[2];
    for (uintptr_t i = 0; i < 2; i++)
        pthread_create(&rth[i], NULL, outside_reader, (void *) (i * 7919 + 3));
    writer ws[2] = {{.rounds = rounds * 2 / 5, .seed = 11},
                    {.rounds = rounds * 2 / 5, .seed = 29}};
    for (int i = 0; i < 2; i++)
        pthread_create(&wth[i], NULL, writer_main, &ws[i]);
    spawner sp = {.report = me, .left = rounds / 5, .seed = 5};
    fx_spawn_opts so = {.init = spawner_init, .state_size = sizeof sp, .state_init = &sp};
    if (fx_vm_spawn_opt(vm, &so, NULL) != 0)
        return 1;

    /* Kill the registry twice while all of that runs, at a third and
     * two thirds of the first writer's rounds. */
    int failed = 0, kills = 0;
    for (uint64_t k = 1; k <= 2; k++) {
        while (__atomic_load_n(&ws[0].done, __ATOMIC_RELAXED) < ws[0].rounds * k / 3)
            usleep(1000);
        fx_pid reg;
        if (fx_registry_pid(vm, &reg) == 0 && fx_vm_exit(vm, reg, fx_reason_kill()) == 0)
            kills++;
    }
    for (int i = 0; i < 2; i++)
        pthread_join(wth[i], NULL);
    if (wait_stopped(in, 1) != 0) {
        fprintf(stderr, "the spawner did not finish\n");
        return 1;
    }
    /* Writers are done, readers still read: the registry must free what
     * it retired (the holders' DOWNs still come in, then stop). */
    fx_registry_stats st = {0};
    int rc = -1;
    for (int tries = 0; tries < 20000; tries++) {
        rc = fx_registry_stats_get(in, &st);
        if (rc == 0 && st.names == 0 && st.groups == 0 && st.pending == 0)
            break;
        usleep(1000);
    }
    if (rc != 0 || st.names || st.groups || st.pending) {
        fprintf(stderr,
                "registry: rc %d, %llu names, %llu groups, %llu of %llu frees pending\n",
                rc, (unsigned long long) st.names, (unsigned long long) st.groups,
                (unsigned long long) st.pending, (unsigned long long) st.retired);
        failed = 1;
    }
    __atomic_store_n(&stop_readers, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(rth[i], NULL);
    if (wait_stopped(in, READER_ACTORS) != 0) {
        fprintf(stderr, "a reader did not stop\n");
        return 1;
    }
    uint64_t registered = 0, taken = 0;
    for (int i = 0; i < 2; i++) {
        registered += ws[i].registered;
        taken += ws[i].taken;
        failed |= ws[i].errors != 0;
    }
    uint64_t v = __atomic_load_n(&violations, __ATOMIC_RELAXED);
    uint64_t mis = __atomic_load_n(&misdelivered, __ATOMIC_RELAXED);
    failed |= v != 0 || mis != 0 || registered == 0 || st.retired == 0;
    printf("registry_stress: %llu registered, %llu taken, %llu lookups (%llu hits, %llu "
           "unverifiable), %llu retired, %d registry kills, %llu violations, %llu "
           "misdelivered: %s\n",
           (unsigned long long) registered, (unsigned long long) taken,
           (unsigned long long) lookups, (unsigned long long) hits,
           (unsigned long long) unverifiable, (unsigned long long) st.retired, kills,
           (unsigned long long) v, (unsigned long long) mis, failed ? "FAILED" : "ok");
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    return failed;
}
