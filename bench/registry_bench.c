/* Registry benchmarks (fauxtp only: no peer runs the same workload).
 *
 * whereis: one reader actor per scheduler thread looks names up, n
 *   lookups in all, while a churner actor registers and unregisters
 *   other names as fast as the registry answers. 1,024 stable names are
 *   registered beforehand; one lookup in 16 is of a churning name (found
 *   or not). One op is one fx_whereis. Verified: every stable lookup
 *   answers its own pid and every churn write succeeds. Extras: churn
 *   writes done during the run and their rate.
 *
 * sendname: one producer sends n messages to a counting actor by pid
 *   (fx_send), then another n by its registered name (fx_send_named):
 *   each run like `counting`. One op is one message sent by name;
 *   extras: both rates and the difference per message. Verified: the
 *   counter counts n each time. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define CHUNK 1024
#define NAMES 1024
#define CHURN 64

/* Names are formatted once, before the clock starts. */
static char stable_names[NAMES][8], churn_names[CHURN][8];

static void make_names(void)
{
    for (unsigned i = 0; i < NAMES; i++)
        snprintf(stable_names[i], sizeof stable_names[i], "w%u", i);
    for (unsigned i = 0; i < CHURN; i++)
        snprintf(churn_names[i], sizeof churn_names[i], "c%u", i);
}

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

/* ---- whereis ------------------------------------------------------------------ */

typedef struct {
    fx_pid report;
    const fx_pid *expected; /* the stable names' pids (read-only) */
    uint64_t left, errors;
    uint32_t seed;
} reader;

static fx_next reader_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    reader *st = fx_state(cx);
    fx_vm *vm = fx_ctx_vm(cx);
    for (int i = 0; i < CHUNK && st->left; i++, st->left--) {
        st->seed = st->seed * 1103515245u + 12345u;
        unsigned k = st->seed >> 16;
        fx_pid got;
        if (k % 16 == 0) {
            (void) fx_whereis(vm, churn_names[k / 16 % CHURN], &got); /* there or not */
        } else {
            k %= NAMES;
            if (fx_whereis(vm, stable_names[k], &got) != 0 ||
                !fx_pid_eq(got, st->expected[k]))
                st->errors++;
        }
    }
    if (st->left)
        fx_send(cx, fx_self(cx), B_MORE, NULL, 0);
    else
        fx_send(cx, st->report, B_DONE, &st->errors, sizeof st->errors);
    return st->left ? fx_continue(cx) : fx_stop(cx, fx_reason_normal());
}

typedef struct {
    fx_pid report;
    fx_pid holders[CHURN];
    const int *stop; /* atomic: set by the driver */
    uint64_t ops, errors;
    unsigned k;
} churner;

static fx_next churn_step(fx_ctx *cx, churner *st);

static fx_next churn_got(fx_ctx *cx, fx_msg *m)
{
    churner *st = fx_state(cx);
    if (fx_registry_result(cx, m, NULL) != 0)
        st->errors++;
    st->ops++;
    return churn_step(cx, st);
}

static fx_next churn_step(fx_ctx *cx, churner *st)
{
    if (__atomic_load_n(st->stop, __ATOMIC_ACQUIRE)) {
        uint64_t r[2] = {st->ops, st->errors};
        fx_send(cx, st->report, B_DONE, r, sizeof r);
        return fx_stop(cx, fx_reason_normal());
    }
    /* Even steps register c<k>, odd ones unregister it. */
    unsigned k = st->k / 2 % CHURN;
    if (st->k++ % 2 == 0)
        return fx_register_async(cx, churn_names[k], st->holders[k], churn_got);
    return fx_unregister_async(cx, churn_names[k], churn_got);
}

static fx_next churn_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    return churn_step(cx, fx_state(cx));
}

int bench_whereis(bench_run *r)
{
    fx_pid *pids = calloc(NAMES, sizeof *pids);
    if (!pids)
        return bench_fail(r, "no memory");
    make_names();
    for (unsigned i = 0; i < NAMES; i++) {
        if (fx_vm_spawn(r->vm, idle, NULL, &pids[i]) != 0 ||
            fx_register(r->inbox, stable_names[i], pids[i], NULL) != 0) {
            free(pids);
            return bench_fail(r, "setup: register %s", stable_names[i]);
        }
    }
    static int stop;
    __atomic_store_n(&stop, 0, __ATOMIC_RELEASE);
    churner ch = {.report = fx_inbox_pid(r->inbox), .stop = &stop};
    for (unsigned i = 0; i < CHURN; i++)
        if (fx_vm_spawn(r->vm, idle, NULL, &ch.holders[i]) != 0)
            return bench_fail(r, "spawn");
    uint32_t t = r->threads;
    fx_pid *readers = calloc(t, sizeof *readers);
    for (uint32_t i = 0; i < t; i++) {
        reader init = {.report = fx_inbox_pid(r->inbox),
                       .expected = pids,
                       .left = r->n / t + (i < r->n % t),
                       .seed = 2654435761u * (i + 1)};
        fx_spawn_opts o = {
            .handler = reader_h, .state_size = sizeof init, .state_init = &init};
        if (fx_vm_spawn_opt(r->vm, &o, &readers[i]) != 0)
            return bench_fail(r, "spawn");
    }
    fx_spawn_opts co = {.init = churn_init, .state_size = sizeof ch, .state_init = &ch};
    double t0 = bench_now();
    fx_pid churn_pid;
    if (fx_vm_spawn_opt(r->vm, &co, &churn_pid) != 0)
        return bench_fail(r, "spawn");
    for (uint32_t i = 0; i < t; i++)
        fx_vm_send(r->vm, readers[i], B_GO, NULL, 0);
    uint64_t errors = 0;
    for (uint32_t i = 0; i < t; i++) {
        fx_msg *m;
        if (fx_inbox_recv(r->inbox, &(fx_match){.type = B_DONE, .from = readers[i]},
                          600000, &m) != 0)
            return bench_fail(r, "a reader did not finish");
        uint64_t e;
        memcpy(&e, fx_msg_data(m), sizeof e);
        errors += e;
        fx_msg_free(m);
    }
    r->seconds = bench_now() - t0;
    r->ops = r->n;
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    fx_msg *m;
    if (fx_inbox_recv(r->inbox, &(fx_match){.type = B_DONE, .from = churn_pid}, 60000,
                      &m))
        return bench_fail(r, "the churner did not stop");
    uint64_t c[2];
    memcpy(c, fx_msg_data(m), sizeof c);
    fx_msg_free(m);
    free(readers);
    free(pids);
    if (errors)
        return bench_fail(r, "%llu lookups answered wrong", (unsigned long long) errors);
    if (c[1])
        return bench_fail(r, "%llu churn writes failed", (unsigned long long) c[1]);
    snprintf(
        r->extra, sizeof r->extra, ",\"churn_writes\":%llu,\"churn_writes_per_sec\":%.1f",
        (unsigned long long) c[0], r->seconds > 0 ? (double) c[0] / r->seconds : 0.0);
    return 0;
}

/* ---- sendname ------------------------------------------------------------------- */

static fx_next count_h(fx_ctx *cx, fx_msg *m)
{
    uint64_t *count = fx_state(cx);
    if (fx_msg_type(m) == B_INC) {
        ++*count;
    } else if (fx_msg_type(m) == B_GET) {
        fx_send(cx, fx_msg_from(m), B_VALUE, count, sizeof *count);
        *count = 0;
    }
    return fx_continue(cx);
}

typedef struct {
    fx_pid counter, report;
    uint64_t n, sent;
    bool by_name;
} sender;

static fx_next sender_h(fx_ctx *cx, fx_msg *m)
{
    sender *st = fx_state(cx);
    if (fx_msg_type(m) == B_VALUE) {
        fx_send(cx, st->report, B_DONE, fx_msg_data(m), sizeof(uint64_t));
        return fx_stop(cx, fx_reason_normal());
    }
    for (int i = 0; i < CHUNK && st->sent < st->n; i++, st->sent++) {
        if (st->by_name)
            fx_send_named(cx, "sink", B_INC, NULL, 0);
        else
            fx_send(cx, st->counter, B_INC, NULL, 0);
    }
    if (st->sent < st->n)
        fx_send(cx, fx_self(cx), B_MORE, NULL, 0);
    else
        fx_send(cx, st->counter, B_GET, NULL, 0);
    return fx_continue(cx);
}

/* Sends n messages by pid or by name; the seconds it took, or < 0. */
static double send_run(bench_run *r, fx_pid counter, bool by_name)
{
    sender init = {.counter = counter,
                   .report = fx_inbox_pid(r->inbox),
                   .n = r->n,
                   .by_name = by_name};
    fx_spawn_opts o = {
        .handler = sender_h, .state_size = sizeof init, .state_init = &init};
    fx_pid p;
    if (fx_vm_spawn_opt(r->vm, &o, &p) != 0)
        return bench_fail(r, "spawn");
    double t0 = bench_now();
    fx_vm_send(r->vm, p, B_GO, NULL, 0);
    uint64_t got;
    if (bench_wait(r, B_DONE, &got))
        return -1;
    double s = bench_now() - t0;
    if (got != r->n)
        return bench_fail(r, "counted %llu of %llu (%s)", (unsigned long long) got,
                          (unsigned long long) r->n, by_name ? "by name" : "by pid");
    return s;
}

int bench_sendname(bench_run *r)
{
    uint64_t zero = 0;
    fx_spawn_opts o = {
        .handler = count_h, .state_size = sizeof zero, .state_init = &zero};
    fx_pid counter;
    if (fx_vm_spawn_opt(r->vm, &o, &counter) != 0 ||
        fx_register(r->inbox, "sink", counter, NULL) != 0)
        return bench_fail(r, "setup");
    double by_pid = send_run(r, counter, false);
    if (by_pid < 0)
        return -1;
    double by_name = send_run(r, counter, true);
    if (by_name < 0)
        return -1;
    r->seconds = by_name;
    r->ops = r->n;
    double n = (double) r->n;
    snprintf(
        r->extra, sizeof r->extra,
        ",\"by_pid_per_sec\":%.1f,\"by_name_per_sec\":%.1f,\"name_overhead_ns\":%.1f",
        by_pid > 0 ? n / by_pid : 0.0, by_name > 0 ? n / by_name : 0.0,
        (by_name - by_pid) * 1e9 / n);
    return 0;
}
