/* Stress: a supervision tree under random crashes. A root supervisor
 * over four mid supervisors (one_for_one, one_for_all, rest_for_one, and
 * a dynamic one), each over several workers: GenServers and plain actors
 * with mixed restart types and shutdowns. For a while, two threads
 * outside the VM kill and crash workers at random (exit signals, crashes
 * inside a handler), now and then kill a mid supervisor or send it a
 * stray exit signal, start and terminate dynamic children, and ask for
 * which_children and count_children meanwhile. Then the tree must settle
 * to a consistent state: every supervisor lists all its children running,
 * with live pids, count_children agrees, no pid appears twice, and every
 * GenServer answers a call. Finally the root is stopped and the live
 * process count must return to what it was. Exits non-zero on any
 * inconsistency; in the sanitizer builds, also on a leak or a data race.
 * Plain program, so it runs under ThreadSanitizer.
 * Usage: sup_chaos [MS] (how long the chaos lasts; default 3000). */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PING = 1, CRASH };

#define NMID 4
#define DYN 3           /* the dynamic mid supervisor's index */
#define MAX_DYN 16      /* its max_children */
#define CALL_MS 5000    /* timeout of a call during the chaos */
#define SETTLE_MS 20000 /* how long the tree may take to settle */

/* ---- workers ------------------------------------------------------------ */

static fx_gs_ret g_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = NULL;
    return fx_gs_ok(cx);
}

static fx_gs_ret g_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) data;
    (void) size;
    uint32_t v = type;
    return fx_gs_reply(cx, &v, sizeof v);
}

static fx_gs_ret g_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size)
{
    (void) state;
    (void) data;
    (void) size;
    if (type == CRASH)
        fx_crash(cx, "chaos");
    return fx_gs_noreply(cx);
}

static const fx_gs_ops g_ops = {
    .init = g_init, .handle_call = g_call, .handle_cast = g_cast};
static const fx_gs_spec g_spec = {.ops = &g_ops, .label = "chaos_gs"};

static fx_next a_loop(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == CRASH)
        fx_crash(cx, "chaos");
    return fx_continue(cx);
}

static const fx_spawn_opts a_opts = {.handler = a_loop, .label = "chaos_actor"};

/* ---- the tree ------------------------------------------------------------- */

/* Worker ids start with 'g' (GenServer) or 'a' (plain actor). */
static fx_child_spec worker(const char *id, int restart, int64_t shutdown_ms)
{
    fx_child_spec c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    if (id[0] == 'g') {
        c.start = fx_child_gen_server;
        c.arg = (void *) &g_spec;
    } else {
        c.start = fx_child_actor;
        c.arg = (void *) &a_opts;
    }
    c.restart = restart;
    c.type = FX_WORKER;
    c.shutdown_ms = shutdown_ms;
    return c;
}

static fx_child_spec kids0[5], kids1[4], kids2[4], tmpl;
static const size_t nkids[NMID] = {5, 4, 4, 0};
static fx_sup_spec mids[NMID];
static fx_child_spec root_kids[NMID];
static fx_sup_spec root_spec;

static void generous(fx_sup_spec *s, int strategy)
{
    fx_sup_spec_init(s);
    s->strategy = strategy;
    s->intensity = 1000000; /* survives the chaos */
    s->period_ms = 1000;
}

static void build_tree(void)
{
    kids0[0] = worker("g0", FX_PERMANENT, 0);
    kids0[1] = worker("g1", FX_TRANSIENT, 1000);
    kids0[2] = worker("a2", FX_PERMANENT, 0);
    kids0[3] = worker("g3", FX_PERMANENT, FX_SHUTDOWN_BRUTAL_KILL);
    kids0[4] = worker("a4", FX_TRANSIENT, FX_INFINITY);
    kids1[0] = worker("g0", FX_PERMANENT, 0);
    kids1[1] = worker("a1", FX_TRANSIENT, 100);
    kids1[2] = worker("g2", FX_TRANSIENT, FX_SHUTDOWN_BRUTAL_KILL);
    kids1[3] = worker("g3", FX_PERMANENT, 0);
    kids2[0] = worker("a0", FX_PERMANENT, 0);
    kids2[1] = worker("g1", FX_PERMANENT, 0);
    kids2[2] = worker("g2", FX_TRANSIENT, FX_INFINITY);
    kids2[3] = worker("a3", FX_PERMANENT, FX_SHUTDOWN_BRUTAL_KILL);
    tmpl = worker("g", FX_PERMANENT, 0);
    tmpl.id[0] = 0;
    static const int strategies[NMID] = {FX_ONE_FOR_ONE, FX_ONE_FOR_ALL, FX_REST_FOR_ONE,
                                         FX_SIMPLE_ONE_FOR_ONE};
    fx_child_spec *kids[NMID] = {kids0, kids1, kids2, &tmpl};
    for (int i = 0; i < NMID; i++) {
        generous(&mids[i], strategies[i]);
        mids[i].children = kids[i];
        mids[i].nchildren = i == DYN ? 1 : nkids[i];
        if (i == DYN)
            mids[i].max_children = MAX_DYN;
        memset(&root_kids[i], 0, sizeof root_kids[i]);
        snprintf(root_kids[i].id, sizeof root_kids[i].id, "m%d", i);
        root_kids[i].start = fx_child_supervisor;
        root_kids[i].arg = &mids[i];
        root_kids[i].restart = FX_PERMANENT;
        root_kids[i].type = FX_SUPERVISOR_CHILD;
    }
    generous(&root_spec, FX_ONE_FOR_ONE);
    root_spec.children = root_kids;
    root_spec.nchildren = NMID;
}

/* ---- the chaos -------------------------------------------------------------- */

static fx_vm *vm;
static fx_pid root;
static int64_t deadline_ns;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t next_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

typedef struct chaos {
    uint64_t seed;
    uint64_t kills, crashes, mid_kills, strays, starts, terminates, queries;
    uint64_t failed_calls; /* ENOPROC / EEXIT / ETIMEDOUT while things die */
    int bad;               /* an answer that can never happen */
} chaos;

/* An error a call may answer while the tree is being shaken. */
static bool tolerable(int rc)
{
    return rc == FX_ENOPROC || rc == FX_EEXIT || rc == FX_ETIMEDOUT;
}

static void note(chaos *c, int rc, const char *what)
{
    if (rc >= 0)
        return;
    if (tolerable(rc)) {
        c->failed_calls++;
    } else {
        fprintf(stderr, "sup_chaos: %s: %s\n", what, fx_err_name(rc));
        c->bad = 1;
    }
}

static void sleep_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

static void *chaos_thread(void *arg)
{
    chaos *c = arg;
    fx_inbox *in;
    if (fx_inbox_create(vm, &in) != 0) {
        c->bad = 1;
        return NULL;
    }
    fx_child_info mids_now[NMID], kids[MAX_DYN];
    while (now_ns() < deadline_ns) {
        int n = fx_sup_which_children(in, root, mids_now, NMID, CALL_MS);
        note(c, n, "which_children(root)");
        if (n != NMID) {
            if (n >= 0) {
                fprintf(stderr, "sup_chaos: the root has %d children\n", n);
                c->bad = 1;
            }
            sleep_us(100);
            continue;
        }
        int i = (int) (next_rand(&c->seed) % NMID);
        fx_pid mid = mids_now[i].pid;
        uint64_t r = next_rand(&c->seed) % 100;
        if (fx_pid_is_none(mid)) {
            /* being restarted */
        } else if (r < 4) {
            note(c, fx_vm_exit(vm, mid, fx_reason_kill()), "kill a mid");
            c->mid_kills++;
        } else if (r < 6) {
            /* A stray exit signal: not from its parent, it is ignored. */
            note(c, fx_vm_exit(vm, mid, fx_reason_error(3, "stray")), "stray exit");
            c->strays++;
        } else if (r < 12 && i == DYN) {
            int rc = fx_sup_start_child_args(in, mid, NULL, 0, CALL_MS, NULL, NULL);
            if (rc != FX_ELIMIT)
                note(c, rc, "start_child_args");
            c->starts += rc == 0;
        } else if (r < 15) {
            fx_child_counts cnt;
            note(c, fx_sup_count_children(in, mid, &cnt, CALL_MS), "count_children");
            c->queries++;
        } else {
            int k = fx_sup_which_children(in, mid, kids, MAX_DYN, CALL_MS);
            note(c, k, "which_children(mid)");
            if (k > MAX_DYN)
                k = MAX_DYN;
            if (k > 0) {
                const fx_child_info *w = &kids[next_rand(&c->seed) % (uint64_t) k];
                uint64_t how = next_rand(&c->seed) % 8;
                if (fx_pid_is_none(w->pid)) {
                    /* not running right now */
                } else if (i == DYN && how == 0) {
                    int rc = fx_sup_terminate_pid(in, mid, w->pid, CALL_MS);
                    if (rc != FX_ENOENT) /* it died meanwhile */
                        note(c, rc, "terminate_pid");
                    c->terminates += rc == 0;
                } else if (how < 3) {
                    /* A crash inside a handler. */
                    if (w->id[0] == 'a')
                        (void) fx_vm_send(vm, w->pid, CRASH, NULL, 0);
                    else
                        (void) fx_vm_gs_cast(vm, w->pid, CRASH, NULL, 0);
                    c->crashes++;
                } else {
                    fx_reason why =
                        how < 5 ? fx_reason_kill() : fx_reason_error(2, "chaos");
                    (void) fx_vm_exit(vm, w->pid, why); /* ENOPROC: died meanwhile */
                    c->kills++;
                }
            }
        }
        sleep_us((long) (next_rand(&c->seed) % 200));
    }
    fx_inbox_destroy(in);
    return NULL;
}

/* ---- the checks ----------------------------------------------------------------- */

static char why_not[256]; /* the last inconsistency found */

#define FAIL(...)                                                                        \
    do {                                                                                 \
        snprintf(why_not, sizeof why_not, __VA_ARGS__);                                  \
        return false;                                                                    \
    } while (0)

static int pid_cmp(const void *a, const void *b)
{
    uint64_t x = ((const fx_pid *) a)->id, y = ((const fx_pid *) b)->id;
    return x < y ? -1 : x > y;
}

/* Every child of sup listed running and alive, count_children agreeing;
 * their pids appended to all[*n]. want: the number of children, or -1. */
static bool check_sup(fx_inbox *in, fx_pid sup, const char *name, int want,
                      bool supervisors, fx_pid *all, size_t *nall)
{
    fx_child_info v[MAX_DYN + 1];
    int n = fx_sup_which_children(in, sup, v, MAX_DYN + 1, CALL_MS);
    if (n < 0)
        FAIL("%s: which_children: %s", name, fx_err_name(n));
    if ((want >= 0 && n != want) || n > MAX_DYN)
        FAIL("%s: %d children, expected %d", name, n, want);
    for (int i = 0; i < n; i++) {
        if (v[i].status != FX_CHILD_RUNNING || fx_pid_is_none(v[i].pid))
            FAIL("%s: child %d (%s) status %d", name, i, v[i].id, v[i].status);
        if (fx_is_alive(vm, v[i].pid) != 1)
            FAIL("%s: child %d (%s) listed with a dead pid", name, i, v[i].id);
        if (v[i].type != (supervisors ? FX_SUPERVISOR_CHILD : FX_WORKER))
            FAIL("%s: child %d type %d", name, i, v[i].type);
        if (!supervisors && v[i].id[0] != 'a') {
            /* A GenServer: it answers. */
            fx_msg *r = NULL;
            int rc = fx_gs_call(in, v[i].pid, PING, NULL, 0, CALL_MS, &r, NULL);
            fx_msg_free(r);
            if (rc != 0)
                FAIL("%s: child %d (%s) call: %s", name, i, v[i].id, fx_err_name(rc));
        }
        all[(*nall)++] = v[i].pid;
    }
    fx_child_counts c;
    int rc = fx_sup_count_children(in, sup, &c, CALL_MS);
    if (rc != 0)
        FAIL("%s: count_children: %s", name, fx_err_name(rc));
    uint32_t un = (uint32_t) n;
    if (c.specs != un || c.active != un || c.supervisors != (supervisors ? un : 0) ||
        c.workers != (supervisors ? 0 : un))
        FAIL("%s: counts %u/%u/%u/%u for %d children", name, c.specs, c.active,
             c.supervisors, c.workers, n);
    return true;
}

static bool check_tree(fx_inbox *in)
{
    fx_pid all[1 + NMID + 5 + 4 + 4 + MAX_DYN];
    size_t n = 0;
    all[n++] = root;
    if (!check_sup(in, root, "root", NMID, true, all, &n))
        return false;
    fx_child_info m[NMID];
    if (fx_sup_which_children(in, root, m, NMID, CALL_MS) != NMID)
        FAIL("root: which_children changed");
    for (int i = 0; i < NMID; i++) {
        char name[8];
        snprintf(name, sizeof name, "m%d", i);
        if (strcmp(m[i].id, name) != 0)
            FAIL("root: child %d is %s", i, m[i].id);
        /* The dynamic one keeps what it had (none after a restart). */
        if (!check_sup(in, m[i].pid, name, i == DYN ? -1 : (int) nkids[i], false, all,
                       &n))
            return false;
    }
    qsort(all, n, sizeof *all, pid_cmp);
    for (size_t i = 1; i < n; i++)
        if (all[i].id == all[i - 1].id)
            FAIL("pid %llu appears twice", (unsigned long long) all[i].id);
    return true;
}

static uint64_t live(void)
{
    fx_vm_stats st;
    fx_vm_stats_get(vm, &st);
    return st.processes;
}

int main(int argc, char **argv)
{
    long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 3000;
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 4;
    cfg.crash_logger = fx_crash_logger_silent;
    cfg.log_sink = fx_log_sink_silent; /* supervisor reports too */
    fx_inbox *in;
    if (fx_vm_create(&cfg, &vm) != 0 || fx_vm_start(vm) != 0 ||
        fx_inbox_create(vm, &in) != 0) {
        fprintf(stderr, "sup_chaos: cannot start the VM\n");
        return 1;
    }
    uint64_t base = live();
    build_tree();
    fx_reason why;
    int rc = fx_sup_start(in, &root_spec, &root, &why);
    if (rc != 0) {
        fprintf(stderr, "sup_chaos: start: %s\n", fx_err_name(rc));
        return 1;
    }
    fx_child_info m[NMID];
    if (fx_sup_which_children(in, root, m, NMID, CALL_MS) != NMID)
        return 1;
    for (int i = 0; i < MAX_DYN / 2; i++)
        if (fx_sup_start_child_args(in, m[DYN].pid, NULL, 0, CALL_MS, NULL, NULL) != 0)
            return 1;
    if (!check_tree(in)) {
        fprintf(stderr, "sup_chaos: before the chaos: %s\n", why_not);
        return 1;
    }

    deadline_ns = now_ns() + (int64_t) ms * 1000000;
    chaos cs[2] = {{.seed = 0x9e3779b97f4a7c15ull}, {.seed = 0xc2b2ae3d27d4eb4full}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, chaos_thread, &cs[i]);
    int bad = 0;
    chaos sum = {0};
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        bad |= cs[i].bad;
        sum.kills += cs[i].kills;
        sum.crashes += cs[i].crashes;
        sum.mid_kills += cs[i].mid_kills;
        sum.strays += cs[i].strays;
        sum.starts += cs[i].starts;
        sum.terminates += cs[i].terminates;
        sum.queries += cs[i].queries;
        sum.failed_calls += cs[i].failed_calls;
    }

    /* Settle: restarts still under way finish. */
    int64_t settle = now_ns() + (int64_t) SETTLE_MS * 1000000;
    bool ok;
    while (!(ok = check_tree(in)) && now_ns() < settle)
        sleep_us(1000);
    if (!ok) {
        fprintf(stderr, "sup_chaos: inconsistent tree: %s\n", why_not);
        bad = 1;
    }

    rc = fx_gs_stop_server(in, root, fx_reason_shutdown(), SETTLE_MS, &why);
    if (rc != 0) {
        char w[96];
        fx_reason_format(&why, w, sizeof w);
        fprintf(stderr, "sup_chaos: stopping the root: %s %s\n", fx_err_name(rc),
                rc == FX_EEXIT ? w : "");
        bad = 1;
    }
    uint64_t left = live();
    for (int64_t end = now_ns() + (int64_t) SETTLE_MS * 1000000;
         left != base && now_ns() < end; left = live())
        sleep_us(1000);
    if (left != base) {
        fprintf(stderr, "sup_chaos: %llu live processes, expected %llu\n",
                (unsigned long long) left, (unsigned long long) base);
        bad = 1;
    }
    printf("sup_chaos: %ld ms: %llu kills, %llu crashes, %llu mid kills, %llu stray "
           "exits, %llu starts, %llu terminates, %llu queries, %llu calls refused "
           "meanwhile: %s\n",
           ms, (unsigned long long) sum.kills, (unsigned long long) sum.crashes,
           (unsigned long long) sum.mid_kills, (unsigned long long) sum.strays,
           (unsigned long long) sum.starts, (unsigned long long) sum.terminates,
           (unsigned long long) sum.queries, (unsigned long long) sum.failed_calls,
           bad ? "FAILED" : "ok");
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    return bad;
}
