/* Spawn-heavy benchmarks: fjcreate, skynet, spawnmem. */
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define CHUNK 1024

/* ---- fjcreate: spawn an actor, send it one message, it reports and exits */

static fx_next worker_h(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), B_DONE, NULL, 0);
    return fx_stop(cx, fx_reason_normal());
}

typedef struct {
    fx_pid report;
    uint64_t n, spawned, done;
} forker;

static fx_next forker_h(fx_ctx *cx, fx_msg *m)
{
    forker *st = fx_state(cx);
    if (fx_msg_type(m) == B_DONE) {
        if (++st->done == st->n) {
            fx_send(cx, st->report, B_DONE, &st->done, sizeof st->done);
            return fx_stop(cx, fx_reason_normal());
        }
        return fx_continue(cx);
    }
    for (int i = 0; i < CHUNK && st->spawned < st->n; i++, st->spawned++) {
        fx_pid w;
        if (fx_spawn(cx, worker_h, NULL, &w) != 0)
            fx_crash(cx, "spawn failed");
        fx_send(cx, w, B_WORK, NULL, 0);
    }
    if (st->spawned < st->n)
        fx_send(cx, fx_self(cx), B_MORE, NULL, 0);
    return fx_continue(cx);
}

int bench_fjcreate(bench_run *r)
{
    forker init = {.report = fx_inbox_pid(r->inbox), .n = r->n};
    fx_spawn_opts o = {
        .handler = forker_h, .state_size = sizeof init, .state_init = &init};
    fx_pid f;
    if (fx_vm_spawn_opt(r->vm, &o, &f) != 0)
        return bench_fail(r, "spawn");
    double t0 = bench_now();
    fx_vm_send(r->vm, f, B_GO, NULL, 0);
    uint64_t done;
    if (bench_wait(r, B_DONE, &done))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = r->n;
    if (done != r->n)
        return bench_fail(r, "%llu of %llu workers reported", (unsigned long long) done,
                          (unsigned long long) r->n);
    return 0;
}

/* ---- skynet: a 10-ary tree of actors summing the leaves' ordinals ------ */

typedef struct {
    uint64_t num, size;
    fx_pid parent;
    uint64_t sum;
    uint32_t pending;
} sky;

static fx_next sky_collect(fx_ctx *cx, fx_msg *m)
{
    sky *st = fx_state(cx);
    uint64_t v;
    memcpy(&v, fx_msg_data(m), sizeof v);
    st->sum += v;
    if (--st->pending > 0)
        return fx_continue(cx);
    fx_send(cx, st->parent, B_VALUE, &st->sum, sizeof st->sum);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next sky_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    sky *st = fx_state(cx);
    if (st->size == 1) {
        fx_send(cx, st->parent, B_VALUE, &st->num, sizeof st->num);
        return fx_stop(cx, fx_reason_normal());
    }
    uint64_t sub = st->size / 10;
    sky child = {.size = sub, .parent = fx_self(cx)};
    fx_spawn_opts o = {.init = sky_init,
                       .handler = sky_collect,
                       .state_size = sizeof child,
                       .state_init = &child};
    for (int i = 0; i < 10; i++) {
        child.num = st->num + (uint64_t) i * sub;
        if (fx_spawn_opt(cx, &o, NULL) != 0)
            fx_crash(cx, "spawn failed");
    }
    st->pending = 10;
    return fx_become(cx, sky_collect);
}

int bench_skynet(bench_run *r)
{
    uint64_t n = r->n, p = 1, actors = 0;
    while (p < n) {
        actors += p;
        p *= 10;
    }
    actors += p;
    if (p != n)
        return bench_fail(r, "skynet --n must be a power of 10");
    sky root = {.num = 0, .size = n, .parent = fx_inbox_pid(r->inbox)};
    fx_spawn_opts o = {.init = sky_init,
                       .handler = sky_collect,
                       .state_size = sizeof root,
                       .state_init = &root};
    double t0 = bench_now();
    if (fx_vm_spawn_opt(r->vm, &o, NULL) != 0)
        return bench_fail(r, "spawn");
    uint64_t sum;
    if (bench_wait(r, B_VALUE, &sum))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = actors;
    uint64_t expect = n * (n - 1) / 2;
    if (sum != expect)
        return bench_fail(r, "sum %llu, expected %llu", (unsigned long long) sum,
                          (unsigned long long) expect);
    return 0;
}

/* ---- spawnmem: resident memory per idle actor ---------------------------- */

static long rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static fx_next idle_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

typedef struct {
    fx_pid report;
    uint64_t n, spawned;
} spawner;

static fx_next spawner_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    spawner *st = fx_state(cx);
    for (int i = 0; i < CHUNK && st->spawned < st->n; i++, st->spawned++)
        if (fx_spawn(cx, idle_h, NULL, NULL) != 0)
            fx_crash(cx, "spawn failed");
    if (st->spawned < st->n) {
        fx_send(cx, fx_self(cx), B_MORE, NULL, 0);
        return fx_continue(cx);
    }
    fx_send(cx, st->report, B_DONE, &st->spawned, sizeof st->spawned);
    return fx_stop(cx, fx_reason_normal());
}

int bench_spawnmem(bench_run *r)
{
    spawner init = {.report = fx_inbox_pid(r->inbox), .n = r->n};
    fx_spawn_opts o = {
        .handler = spawner_h, .state_size = sizeof init, .state_init = &init};
    fx_pid sp;
    if (fx_vm_spawn_opt(r->vm, &o, &sp) != 0)
        return bench_fail(r, "spawn");
    long before = rss_bytes();
    double t0 = bench_now();
    fx_vm_send(r->vm, sp, B_GO, NULL, 0);
    uint64_t spawned;
    if (bench_wait(r, B_DONE, &spawned))
        return -1;
    r->seconds = bench_now() - t0;
    long after = rss_bytes();
    fx_vm_stats st;
    fx_vm_stats_get(r->vm, &st);
    r->ops = r->n;
    /* +1: the inbox is not counted in processes; the spawner has exited */
    if (spawned != r->n || st.processes < r->n)
        return bench_fail(r, "%llu actors alive, expected %llu",
                          (unsigned long long) st.processes, (unsigned long long) r->n);
    snprintf(r->extra, sizeof r->extra, ",\"bytes_per_actor\":%.1f",
             (double) (after - before) / (double) r->n);
    return 0;
}
