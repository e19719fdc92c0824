/* Message-throughput benchmarks: pingpong, counting, threadring, fjthrput,
 * mailbox. Long send loops yield every CHUNK sends by messaging themselves
 * (B_MORE): handlers are not preempted, so a sender that loops millions of
 * times in one call would keep its scheduler from everything else. */
#include <string.h>

#include "bench.h"

#define CHUNK 1024

/* ---- pingpong -------------------------------------------------------- */

typedef struct {
    fx_pid peer, report;
    uint64_t left;
} pinger;

static fx_next ponger(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), B_PONG, NULL, 0);
    return fx_continue(cx);
}

static fx_next ping_h(fx_ctx *cx, fx_msg *m)
{
    pinger *st = fx_state(cx);
    if (fx_msg_type(m) == B_PONG && --st->left == 0) {
        fx_send(cx, st->report, B_DONE, NULL, 0);
        return fx_stop(cx, fx_reason_normal());
    }
    fx_send(cx, st->peer, B_PING, NULL, 0);
    return fx_continue(cx);
}

int bench_pingpong(bench_run *r)
{
    fx_pid b, a;
    pinger init = {.report = fx_inbox_pid(r->inbox), .left = r->n};
    if (fx_vm_spawn(r->vm, ponger, NULL, &b) != 0)
        return bench_fail(r, "spawn");
    init.peer = b;
    fx_spawn_opts o = {.handler = ping_h, .state_size = sizeof init, .state_init = &init};
    if (fx_vm_spawn_opt(r->vm, &o, &a) != 0)
        return bench_fail(r, "spawn");
    double t0 = bench_now();
    fx_vm_send(r->vm, a, B_GO, NULL, 0);
    if (bench_wait(r, B_DONE, NULL))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = 2 * r->n;
    return 0;
}

/* ---- counting ---------------------------------------------------------- */

static fx_next counter_h(fx_ctx *cx, fx_msg *m)
{
    uint64_t *count = fx_state(cx);
    if (fx_msg_type(m) == B_INC) {
        ++*count;
    } else if (fx_msg_type(m) == B_GET) {
        fx_send(cx, fx_msg_from(m), B_VALUE, count, sizeof *count);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_continue(cx);
}

typedef struct {
    fx_pid counter, report;
    uint64_t n, sent;
} producer;

static fx_next producer_h(fx_ctx *cx, fx_msg *m)
{
    producer *st = fx_state(cx);
    if (fx_msg_type(m) == B_VALUE) {
        uint64_t v;
        memcpy(&v, fx_msg_data(m), sizeof v);
        fx_send(cx, st->report, B_DONE, &v, sizeof v);
        return fx_stop(cx, fx_reason_normal());
    }
    for (int i = 0; i < CHUNK && st->sent < st->n; i++, st->sent++)
        fx_send(cx, st->counter, B_INC, NULL, 0);
    if (st->sent < st->n)
        fx_send(cx, fx_self(cx), B_MORE, NULL, 0);
    else
        fx_send(cx, st->counter, B_GET, NULL, 0);
    return fx_continue(cx);
}

int bench_counting(bench_run *r)
{
    fx_pid c, p;
    fx_spawn_opts co = {.handler = counter_h, .state_size = sizeof(uint64_t)};
    if (fx_vm_spawn_opt(r->vm, &co, &c) != 0)
        return bench_fail(r, "spawn");
    producer init = {.counter = c, .report = fx_inbox_pid(r->inbox), .n = r->n};
    fx_spawn_opts po = {
        .handler = producer_h, .state_size = sizeof init, .state_init = &init};
    if (fx_vm_spawn_opt(r->vm, &po, &p) != 0)
        return bench_fail(r, "spawn");
    double t0 = bench_now();
    fx_vm_send(r->vm, p, B_GO, NULL, 0);
    uint64_t total;
    if (bench_wait(r, B_DONE, &total))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = r->n;
    if (total != r->n)
        return bench_fail(r, "counter saw %llu, expected %llu",
                          (unsigned long long) total, (unsigned long long) r->n);
    return 0;
}

/* ---- threadring -------------------------------------------------------- */

#define RING 100

typedef struct {
    fx_pid next, report;
} ring_node;

static fx_next ring_h(fx_ctx *cx, fx_msg *m)
{
    ring_node *st = fx_state(cx);
    if (fx_msg_type(m) == B_NEXT) {
        memcpy(&st->next, fx_msg_data(m), sizeof st->next);
        return fx_continue(cx);
    }
    uint64_t hops;
    memcpy(&hops, fx_msg_data(m), sizeof hops);
    if (hops == 0) {
        fx_send(cx, st->report, B_DONE, NULL, 0);
        return fx_continue(cx);
    }
    hops--;
    fx_send(cx, st->next, B_TOKEN, &hops, sizeof hops);
    return fx_continue(cx);
}

int bench_threadring(bench_run *r)
{
    fx_pid pids[RING];
    ring_node init = {.report = fx_inbox_pid(r->inbox)};
    fx_spawn_opts o = {.handler = ring_h, .state_size = sizeof init, .state_init = &init};
    for (int i = 0; i < RING; i++)
        if (fx_vm_spawn_opt(r->vm, &o, &pids[i]) != 0)
            return bench_fail(r, "spawn");
    for (int i = 0; i < RING; i++)
        fx_vm_send(r->vm, pids[i], B_NEXT, &pids[(i + 1) % RING], sizeof(fx_pid));
    double t0 = bench_now();
    uint64_t hops = r->n;
    fx_vm_send(r->vm, pids[0], B_TOKEN, &hops, sizeof hops);
    if (bench_wait(r, B_DONE, NULL))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = r->n;
    return 0;
}

/* ---- fjthrput and mailbox: many counted messages ------------------------ */

typedef struct {
    fx_pid report;
    uint64_t expect, got;
} sink;

static fx_next sink_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    sink *st = fx_state(cx);
    if (++st->got == st->expect) {
        fx_send(cx, st->report, B_DONE, &st->got, sizeof st->got);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_continue(cx);
}

/* Sends n messages to each of ntargets pids, round-robin, CHUNK at a time. */
typedef struct {
    const fx_pid *targets;
    uint32_t ntargets;
    uint64_t n, round;
} sender;

static fx_next sender_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    sender *st = fx_state(cx);
    uint64_t end = st->round + (CHUNK / st->ntargets + 1);
    for (; st->round < end && st->round < st->n; st->round++)
        for (uint32_t t = 0; t < st->ntargets; t++)
            fx_send(cx, st->targets[t], B_WORK, &st->round, sizeof st->round);
    if (st->round < st->n) {
        fx_send(cx, fx_self(cx), B_MORE, NULL, 0);
        return fx_continue(cx);
    }
    return fx_stop(cx, fx_reason_normal());
}

static int fan(bench_run *r, uint32_t nsinks, uint32_t nsenders, uint64_t per_pair)
{
    fx_pid sinks[60], senders[100];
    sink si = {.report = fx_inbox_pid(r->inbox), .expect = per_pair * nsenders};
    fx_spawn_opts so = {.handler = sink_h, .state_size = sizeof si, .state_init = &si};
    for (uint32_t i = 0; i < nsinks; i++)
        if (fx_vm_spawn_opt(r->vm, &so, &sinks[i]) != 0)
            return bench_fail(r, "spawn");
    sender se = {.targets = sinks, .ntargets = nsinks, .n = per_pair};
    fx_spawn_opts o = {.handler = sender_h, .state_size = sizeof se, .state_init = &se};
    for (uint32_t i = 0; i < nsenders; i++)
        if (fx_vm_spawn_opt(r->vm, &o, &senders[i]) != 0)
            return bench_fail(r, "spawn");
    double t0 = bench_now();
    for (uint32_t i = 0; i < nsenders; i++)
        fx_vm_send(r->vm, senders[i], B_GO, NULL, 0);
    for (uint32_t i = 0; i < nsinks; i++) {
        uint64_t got;
        if (bench_wait(r, B_DONE, &got))
            return -1;
        if (got != si.expect)
            return bench_fail(r, "sink got %llu", (unsigned long long) got);
    }
    r->seconds = bench_now() - t0;
    r->ops = per_pair * nsenders * nsinks;
    return 0;
}

int bench_fjthrput(bench_run *r)
{
    return fan(r, 60, 1, r->n);
}

int bench_mailbox(bench_run *r)
{
    return fan(r, 1, 100, r->n);
}
