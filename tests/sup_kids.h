/* Test children for the Supervisor suite, and what the tests observe of
 * them. Every child reports to the test's inbox: an EV_START event when
 * it has started (from its init, before the supervisor learns it is
 * up), an EV_TERM event when it exits (from terminate or cleanup, before
 * its links are told). Each event carries a sequence number taken from
 * one atomic counter when it happened, so events that are causally
 * ordered (the supervisor waits for one child's exit before stopping the
 * next) have increasing numbers whatever order they reach the inbox in. */
#ifndef FAUXTP_TEST_SUP_KIDS_H
#define FAUXTP_TEST_SUP_KIDS_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "helpers.h"

enum {
    EV = 500, /* child -> inbox: an ev */
    W_STOP,   /* inbox -> child (cast or message): stop with the fx_reason */
    W_PING,   /* call: replies with the child's name */
    W_UNLINK, /* inbox -> plain actor: unlink from the fx_pid */
    OUTCOME,  /* starter actor -> inbox: an outcome */
};
enum { EV_START = 1, EV_TERM, EV_UNLINKED };

/* How a child behaves. */
enum {
    K_OK = 0,
    K_IGNORE,   /* init answers ignore */
    K_FAIL,     /* init stops with init_refused */
    K_STUBBORN, /* plain actor: traps exits and ignores every EXIT */
    K_SLOW,     /* plain actor: traps exits; 200 ms after an EXIT, stops with
                   shutdown */
    K_BLOCK,    /* GenServer: its first start (see winfo.starts) reports, then
                   waits for g_gate before init returns */
    K_FLAKY,    /* GenServer: init fails while g_fail is set */
    K_CRASH,    /* GenServer: init crashes */
};

static const fx_reason init_refused = {FX_REASON_ERROR, 42, "no thanks"};
static const fx_reason boom = {FX_REASON_ERROR, 7, "boom"};

/* What a child is told: its name and mode. Passed by pointer (static
 * children) or as a dynamic child's extra bytes. fail_mask: with `starts`,
 * init fails (as K_FAIL) on the starts whose bit is set (bit 0: the first
 * start); the counter is shared by every instance. */
typedef struct winfo {
    char name[16];
    int32_t mode;
    uint32_t fail_mask;
    uint32_t ignore_mask; /* the same for answering ignore */
    atomic_uint *starts;
} winfo;

typedef struct ev {
    uint64_t seq;
    int32_t kind; /* EV_START, EV_TERM */
    char name[16];
    fx_pid pid;
    fx_reason reason; /* EV_TERM */
} ev;

static fx_vm *g_vm;        /* the test's VM */
static sem_t g_gate;       /* K_BLOCK */
static atomic_bool g_fail; /* K_FLAKY */
static fx_pid g_owner;     /* the test's inbox */
static atomic_uint_fast64_t g_seq;

static inline void emit(int kind, const char *name, fx_pid pid, const fx_reason *reason)
{
    ev e;
    memset(&e, 0, sizeof e);
    /* relaxed: the events it orders are ordered by the runtime's own
     * message passing (a child's start before its ACK, an exit before its
     * EXIT); the counter only has to be a single total order. */
    e.seq = atomic_fetch_add_explicit(&g_seq, 1, memory_order_relaxed);
    e.kind = kind;
    snprintf(e.name, sizeof e.name, "%s", name);
    e.pid = pid;
    if (reason)
        e.reason = *reason;
    (void) fx_vm_send(g_vm, g_owner, EV, &e, sizeof e);
}

/* ---- a GenServer child --------------------------------------------------- */

typedef struct wstate {
    winfo info;
    fx_pid self;
    bool started;
} wstate;

static inline fx_gs_ret w_init(fx_ctx *cx, void *arg, void **state)
{
    wstate *s = calloc(1, sizeof *s);
    *state = s;
    if (!arg)
        return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "no winfo"));
    s->info = *(const winfo *) arg;
    s->self = fx_self(cx);
    /* Which start this is (0: the first), when the child counts them. */
    unsigned n = s->info.starts ? atomic_fetch_add(s->info.starts, 1) : 0;
    if (s->info.mode == K_FAIL || (n < 32 && (s->info.fail_mask >> n & 1u)) ||
        (s->info.mode == K_FLAKY && atomic_load(&g_fail)))
        return fx_gs_stop(cx, init_refused);
    if (s->info.mode == K_CRASH)
        fx_crash(cx, "init crashed");
    if (s->info.mode == K_IGNORE || (n < 32 && (s->info.ignore_mask >> n & 1u)))
        return fx_gs_ignore(cx);
    s->started = true;
    emit(EV_START, s->info.name, s->self, NULL);
    if (s->info.mode == K_BLOCK && n == 0)
        sem_wait(&g_gate);
    return fx_gs_ok(cx);
}

static inline fx_gs_ret w_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                               const void *data, size_t size)
{
    (void) from;
    (void) type;
    (void) data;
    (void) size;
    wstate *s = state;
    return fx_gs_reply(cx, s->info.name, sizeof s->info.name);
}

static inline fx_gs_ret w_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                               size_t size)
{
    (void) state;
    fx_reason r;
    if (type == W_STOP && size == sizeof r) {
        memcpy(&r, data, sizeof r);
        return fx_gs_stop(cx, r);
    }
    return fx_gs_noreply(cx);
}

static inline void w_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm;
    wstate *s = state;
    if (s && s->started)
        emit(EV_TERM, s->info.name, s->self, reason);
    free(s);
}

static const fx_gs_ops w_ops = {
    .init = w_init,
    .handle_call = w_call,
    .handle_cast = w_cast,
    .terminate = w_terminate,
};

/* ---- a plain actor child (fx_child_actor) --------------------------------- */

#define NEVER 599 /* a type nobody sends */

static inline fx_next p_loop(fx_ctx *cx, fx_msg *m);

static inline fx_next p_init(fx_ctx *cx, void *arg)
{
    wstate *s = fx_state(cx);
    s->info = *(const winfo *) arg;
    s->self = fx_self(cx);
    if (s->info.mode == K_STUBBORN || s->info.mode == K_SLOW)
        (void) fx_trap_exit(cx, true);
    s->started = true;
    emit(EV_START, s->info.name, s->self, NULL);
    return fx_become(cx, p_loop);
}

static inline fx_next p_slow_done(fx_ctx *cx, fx_msg *m)
{
    (void) m; /* the timeout */
    return fx_stop(cx, fx_reason_shutdown());
}

static inline fx_next p_loop(fx_ctx *cx, fx_msg *m)
{
    wstate *s = fx_state(cx);
    fx_reason r;
    if (fx_msg_type(m) == FX_MSG_EXIT && s->info.mode == K_SLOW)
        return fx_receive(cx, p_slow_done, &(fx_match){.type = NEVER}, 200);
    if (fx_msg_type(m) == W_STOP && fx_msg_size(m) == sizeof r) {
        memcpy(&r, fx_msg_data(m), sizeof r);
        return fx_stop(cx, r);
    }
    fx_pid p;
    if (fx_msg_type(m) == W_UNLINK && fx_msg_size(m) == sizeof p) {
        memcpy(&p, fx_msg_data(m), sizeof p);
        (void) fx_unlink(cx, p);
        emit(EV_UNLINKED, s->info.name, s->self, NULL);
    }
    return fx_continue(cx); /* K_STUBBORN: EXITs are ignored */
}

static inline void p_cleanup(void *state, const fx_reason *reason)
{
    wstate *s = state;
    if (s->started)
        emit(EV_TERM, s->info.name, s->self, reason);
}

/* ---- child specs --------------------------------------------------------- */

/* Storage for one child's start argument; must outlive the supervisor. */
typedef struct kid {
    fx_gs_spec gs;
    fx_spawn_opts po;
    winfo info;
} kid;

static inline fx_child_spec spec_of(const char *id, fx_child_start_fn start, void *arg,
                                    int restart)
{
    fx_child_spec c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    c.start = start;
    c.arg = arg;
    c.restart = restart;
    c.type = FX_WORKER;
    return c;
}

static inline void kid_info(kid *k, const char *name, int mode)
{
    memset(k, 0, sizeof *k);
    snprintf(k->info.name, sizeof k->info.name, "%s", name);
    k->info.mode = mode;
}

/* A GenServer child named (and with the id) `name`. */
static inline fx_child_spec gs_child(kid *k, const char *name, int mode, int restart)
{
    kid_info(k, name, mode);
    k->gs = (fx_gs_spec){.ops = &w_ops, .arg = &k->info, .label = "worker"};
    return spec_of(name, fx_child_gen_server, &k->gs, restart);
}

/* A plain actor child. */
static inline fx_child_spec actor_child(kid *k, const char *name, int mode, int restart)
{
    kid_info(k, name, mode);
    k->po = (fx_spawn_opts){.init = p_init,
                            .init_arg = &k->info,
                            .state_size = sizeof(wstate),
                            .cleanup = p_cleanup,
                            .label = "actor"};
    return spec_of(name, fx_child_actor, &k->po, restart);
}

/* A supervisor child: spec must outlive the parent. */
static inline fx_child_spec sup_child(const char *id, const fx_sup_spec *spec,
                                      int restart)
{
    fx_child_spec c = spec_of(id, fx_child_supervisor, (void *) spec, restart);
    c.type = FX_SUPERVISOR_CHILD;
    return c;
}

/* A dynamic template's start function: a GenServer child whose init gets
 * the extra bytes (a winfo) instead of the spec's argument. */
static inline fx_next start_from_extra(fx_ctx *cx, void *arg, const void *extra,
                                       size_t extra_size, fx_handler then)
{
    (void) arg;
    fx_gs_spec s = {.ops = &w_ops,
                    .arg = extra_size == sizeof(winfo) ? (void *) extra : NULL,
                    .link = true,
                    .label = "dynamic"};
    return fx_gs_start_async(cx, &s, then);
}

static inline winfo info_of(const char *name, int mode)
{
    winfo w;
    memset(&w, 0, sizeof w);
    snprintf(w.name, sizeof w.name, "%s", name);
    w.mode = mode;
    return w;
}

/* ---- the test side: VM, events, polling ----------------------------------- */

static inline tvm sup_vm(void)
{
    tvm t = tvm_start_quiet(2);
    g_vm = t.vm;
    g_owner = t.me;
    return t;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline void assert_reason(fx_reason got, fx_reason want)
{
    char g[96], w[96];
    fx_reason_format(&got, g, sizeof g);
    fx_reason_format(&want, w, sizeof w);
    cr_assert(fx_reason_eq(&got, &want), "reason %s, expected %s", g, w);
}

/* '+' started, '-' exited, '~' unlinked. */
static inline char ev_mark(const ev *e)
{
    return e->kind == EV_START ? '+' : e->kind == EV_TERM ? '-' : '~';
}

static inline int ev_cmp(const void *a, const void *b)
{
    uint64_t x = ((const ev *) a)->seq, y = ((const ev *) b)->seq;
    return x < y ? -1 : x > y;
}

#define MAX_EVENTS 32

/* Receives exactly the events `want` lists ("+a -b ~c": a started, b
 * exited, c unlinked), in the order they happened; *out (may be NULL)
 * gets them. */
static inline void expect_events(tvm *t, const char *want, ev *out)
{
    size_t n = 0;
    for (const char *p = want; *p; p++)
        n += *p == '+' || *p == '-' || *p == '~';
    cr_assert_leq(n, MAX_EVENTS);
    ev got[MAX_EVENTS];
    char text[MAX_EVENTS * 18] = "";
    for (size_t i = 0; i < n; i++) {
        fx_msg *m = NULL;
        int rc = fx_inbox_recv(t->in, &(fx_match){.type = EV}, 10000, &m);
        got[i].seq = 0;
        if (rc != 0) {
            for (size_t j = 0; j < i; j++)
                snprintf(text + strlen(text), sizeof text - strlen(text), "%s%c%s",
                         j ? " " : "", ev_mark(&got[j]), got[j].name);
            cr_assert_fail("got %zu events (%s), expected %zu (%s)", i, text, n, want);
        }
        memcpy(&got[i], fx_msg_data(m), sizeof got[i]);
        fx_msg_free(m);
    }
    qsort(got, n, sizeof *got, ev_cmp);
    for (size_t i = 0; i < n; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s%c%s", i ? " " : "",
                 ev_mark(&got[i]), got[i].name);
    cr_assert_str_eq(text, want, "events: got \"%s\", expected \"%s\"", text, want);
    if (out)
        memcpy(out, got, n * sizeof *got);
}

static inline int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The same for events that may happen in any order (plain actors run
 * their init after the supervisor moved on to the next child; children
 * killed together die together): compares them as sets. */
static inline void expect_unordered(tvm *t, const char *want)
{
    char w[MAX_EVENTS * 18], g[MAX_EVENTS * 18] = "";
    snprintf(w, sizeof w, "%s", want);
    char *tok[MAX_EVENTS], *save = NULL;
    size_t n = 0;
    for (char *p = strtok_r(w, " ", &save); p && n < MAX_EVENTS;
         p = strtok_r(NULL, " ", &save))
        tok[n++] = p;
    qsort(tok, n, sizeof *tok, str_cmp);
    char sorted[MAX_EVENTS * 18] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(sorted + strlen(sorted), sizeof sorted - strlen(sorted), "%s%s",
                 i ? " " : "", tok[i]);
    char names[MAX_EVENTS][18], *gt[MAX_EVENTS];
    for (size_t i = 0; i < n; i++) {
        fx_msg *m = NULL;
        int rc = fx_inbox_recv(t->in, &(fx_match){.type = EV}, 10000, &m);
        cr_assert_eq(rc, 0, "got %zu events, expected %zu (%s)", i, n, want);
        ev e;
        memcpy(&e, fx_msg_data(m), sizeof e);
        fx_msg_free(m);
        snprintf(names[i], sizeof names[i], "%c%s", ev_mark(&e), e.name);
        gt[i] = names[i];
    }
    qsort(gt, n, sizeof *gt, str_cmp);
    for (size_t i = 0; i < n; i++)
        snprintf(g + strlen(g), sizeof g - strlen(g), "%s%s", i ? " " : "", gt[i]);
    cr_assert_str_eq(g, sorted, "events: got {%s}, expected {%s}", g, sorted);
}

/* No event is queued (call after a round trip with the supervisor, which
 * answers once its current restart or stop is done). */
static inline void assert_no_events(tvm *t)
{
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t->in, &(fx_match){.type = EV}, 0, &m);
    if (rc == 0) {
        ev e;
        memcpy(&e, fx_msg_data(m), sizeof e);
        fx_msg_free(m);
        cr_assert_fail("an unexpected event: %c%s", ev_mark(&e), e.name);
    }
}

static inline fx_pid sup_start(tvm *t, const fx_sup_spec *s)
{
    fx_pid p = FX_PID_NONE;
    fx_reason why;
    int rc = fx_sup_start(t->in, s, &p, &why);
    char w[96] = "";
    fx_reason_format(&why, w, sizeof w);
    cr_assert_eq(rc, 0, "fx_sup_start: %s %s", fx_err_name(rc), rc == FX_EEXIT ? w : "");
    cr_assert(!fx_pid_is_none(p));
    return p;
}

/* which_children, expecting n children. */
static inline void which_n(tvm *t, fx_pid sup, fx_child_info *out, int n)
{
    int rc = fx_sup_which_children(t->in, sup, out, (size_t) n, 10000);
    cr_assert_eq(rc, n, "which_children: %d (%s), expected %d", rc,
                 rc < 0 ? fx_err_name(rc) : "children", n);
}

/* The entry of child `id` (the first empty one for ""), or NULL. */
static inline const fx_child_info *find_id(const fx_child_info *v, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strncmp(v[i].id, id, FX_CHILD_ID_MAX) == 0)
            return &v[i];
    return NULL;
}

static inline fx_pid pid_of(tvm *t, fx_pid sup, const char *id)
{
    fx_child_info v[16];
    int n = fx_sup_which_children(t->in, sup, v, 16, 10000);
    cr_assert_geq(n, 0, "which_children: %s", fx_err_name(n));
    const fx_child_info *c = find_id(v, n < 16 ? n : 16, id);
    cr_assert_not_null(c, "no child %s", id);
    cr_assert_eq(c->status, FX_CHILD_RUNNING, "child %s is not running", id);
    return c->pid;
}

static inline fx_child_counts counts(tvm *t, fx_pid sup)
{
    fx_child_counts n;
    int rc = fx_sup_count_children(t->in, sup, &n, 10000);
    cr_assert_eq(rc, 0, "count_children: %s", fx_err_name(rc));
    return n;
}

static inline void assert_counts(tvm *t, fx_pid sup, uint32_t specs, uint32_t active,
                                 uint32_t supervisors, uint32_t workers)
{
    fx_child_counts n = counts(t, sup);
    cr_assert_eq(n.specs, specs, "specs %u, expected %u", n.specs, specs);
    cr_assert_eq(n.active, active, "active %u, expected %u", n.active, active);
    cr_assert_eq(n.supervisors, supervisors);
    cr_assert_eq(n.workers, workers);
}

#define POLL_MS 5000 /* polls give up after this long, in 1 ms steps */

/* Polls which_children until child `id` has `status` (0: until it is no
 * longer listed) and, unless not_pid is none, a pid other than not_pid;
 * returns its entry. */
static inline fx_child_info wait_child(tvm *t, fx_pid sup, const char *id, int32_t status,
                                       fx_pid not_pid)
{
    fx_child_info v[16], last = {.status = -1};
    for (int i = 0; i < POLL_MS; i++) {
        int n = fx_sup_which_children(t->in, sup, v, 16, 10000);
        cr_assert_geq(n, 0, "which_children: %s", fx_err_name(n));
        const fx_child_info *c = find_id(v, n < 16 ? n : 16, id);
        if (!c && status == 0)
            return last;
        if (c && c->status == status &&
            (fx_pid_is_none(not_pid) || !fx_pid_eq(c->pid, not_pid)))
            return *c;
        if (c)
            last = *c;
        sleep_ms(1);
    }
    cr_assert_fail("child %s: status %d, expected %d", id, last.status, status);
    return last;
}

/* Polls until no child of sup has pid p. */
static inline void wait_gone(tvm *t, fx_pid sup, fx_pid p)
{
    fx_child_info v[16];
    for (int i = 0; i < POLL_MS; i++) {
        int n = fx_sup_which_children(t->in, sup, v, 16, 10000);
        cr_assert_geq(n, 0);
        bool found = false;
        for (int j = 0; j < n && j < 16; j++)
            found |= fx_pid_eq(v[j].pid, p);
        if (!found)
            return;
        sleep_ms(1);
    }
    cr_assert_fail("the child is still listed");
}

static inline uint64_t live_processes(tvm *t)
{
    fx_vm_stats st;
    cr_assert_eq(fx_vm_stats_get(t->vm, &st), 0);
    return st.processes;
}

/* Polls until the live process count is back to `base`. */
static inline void wait_processes(tvm *t, uint64_t base)
{
    uint64_t n = 0;
    for (int i = 0; i < POLL_MS; i++) {
        if ((n = live_processes(t)) == base)
            return;
        sleep_ms(1);
    }
    cr_assert_fail("%llu live processes, expected %llu", (unsigned long long) n,
                   (unsigned long long) base);
}

static inline fx_ref monitor(tvm *t, fx_pid p)
{
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t->in, p, &r), 0);
    return r;
}

static inline fx_reason down(tvm *t, fx_ref ref)
{
    fx_msg *m = NULL;
    int rc =
        fx_inbox_recv(t->in, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, 10000, &m);
    cr_assert_eq(rc, 0, "no DOWN: %s", fx_strerror(rc));
    fx_reason r = ((const fx_down_info *) fx_msg_data(m))->reason;
    fx_msg_free(m);
    return r;
}

/* Stops a GenServer child with reason (it exits with exactly that). */
static inline void gs_stop_with(tvm *t, fx_pid child, fx_reason r)
{
    cr_assert_eq(fx_vm_gs_cast(t->vm, child, W_STOP, &r, sizeof r), 0);
}

static inline fx_reason gave_up(void)
{
    return fx_reason_shutdown_with("reached_max_restart_intensity");
}

/* A static supervisor's spec: generous intensity, a long period. */
static inline fx_sup_spec spec_with(int strategy, fx_child_spec *kids, size_t n)
{
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.strategy = strategy;
    s.intensity = 10;
    s.period_ms = 60000;
    s.children = kids;
    s.nchildren = n;
    return s;
}

static inline fx_sup_spec dynamic_spec(fx_child_spec *tmpl, int restart)
{
    *tmpl = spec_of("", start_from_extra, NULL, restart);
    fx_sup_spec s = spec_with(FX_SIMPLE_ONE_FOR_ONE, tmpl, 1);
    return s;
}

static inline fx_pid start_dyn(tvm *t, fx_pid sup, const char *name, int mode)
{
    winfo w = info_of(name, mode);
    fx_pid p = FX_PID_NONE;
    int rc = fx_sup_start_child_args(t->in, sup, &w, sizeof w, 10000, &p, NULL);
    cr_assert_eq(rc, 0, "start_child_args: %s", fx_err_name(rc));
    cr_assert(!fx_pid_is_none(p));
    return p;
}

#endif
