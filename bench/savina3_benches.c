/* Savina workloads: banking (request/reply between accounts) and two
 * parallel ones, trapezoid and fib. Same work, ops and checks as the
 * Erlang/OTP, CAF and Go peers (bench/peers/README.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

enum {
    S3_TRANSFER = 130, /* teller -> source account */
    S3_CREDIT,         /* source -> destination account (a request) */
    S3_CREDITED,       /* destination -> source (the reply) */
    S3_RESULT,         /* worker/child -> parent */
};

/* ---- banking --------------------------------------------------------------
 * Savina "bank transaction": a teller runs n transfers between 1000
 * accounts, keeping 60 in flight. A transfer goes to its source account
 * (S3_TRANSFER), which debits itself and asks the destination to credit
 * (S3_CREDIT) and, until the reply (S3_CREDITED), defers further transfers
 * of its own (it still credits others, so accounts cannot deadlock); then
 * it replies to the teller (B_DONE): 4 messages per transfer. The teller
 * draws source, destination and amount (1..1000) with xorshift64* and
 * keeps the expected balance change of each account: every final balance
 * must match. */

#define ACCOUNTS 1000
#define BANK_WINDOW 60
#define BANK_START 1000000

static fx_pid accounts[ACCOUNTS]; /* one run per process, read-only meanwhile */

typedef struct {
    uint32_t dst;
    int64_t amount;
} transfer;

typedef struct {
    fx_pid teller, report;
    int64_t balance;
    int busy;           /* a credit request of ours is out */
    transfer *deferred; /* malloc'd FIFO of transfers that came meanwhile */
    size_t head, count, cap;
} account;

typedef struct {
    fx_pid report;
    uint64_t n, sent, done, rng;
    int64_t delta[ACCOUNTS];
} teller;

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static void account_start(fx_ctx *cx, account *st, transfer t)
{
    st->balance -= t.amount;
    st->busy = 1;
    fx_send(cx, accounts[t.dst], S3_CREDIT, &t.amount, sizeof t.amount);
}

static void account_cleanup(void *state, const fx_reason *reason)
{
    (void) reason;
    free(((account *) state)->deferred);
}

static fx_next account_h(fx_ctx *cx, fx_msg *m)
{
    account *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case S3_TRANSFER: {
        transfer t;
        memcpy(&t, fx_msg_data(m), sizeof t);
        st->teller = fx_msg_from(m);
        if (!st->busy) {
            account_start(cx, st, t);
            break;
        }
        if (st->count == st->cap) {
            size_t cap = st->cap ? 2 * st->cap : 8;
            transfer *d = malloc(cap * sizeof *d);
            if (!d)
                fx_crash(cx, "out of memory");
            for (size_t i = 0; i < st->count; i++)
                d[i] = st->deferred[(st->head + i) % st->cap];
            free(st->deferred);
            st->deferred = d, st->head = 0, st->cap = cap;
        }
        st->deferred[(st->head + st->count++) % st->cap] = t;
        break;
    }
    case S3_CREDIT: {
        int64_t amount;
        memcpy(&amount, fx_msg_data(m), sizeof amount);
        st->balance += amount;
        fx_send(cx, fx_msg_from(m), S3_CREDITED, NULL, 0);
        break;
    }
    case S3_CREDITED:
        st->busy = 0;
        fx_send(cx, st->teller, B_DONE, NULL, 0);
        if (st->count > 0) {
            transfer t = st->deferred[st->head];
            st->head = (st->head + 1) % st->cap;
            st->count--;
            account_start(cx, st, t);
        }
        break;
    default: /* B_GET */
        fx_send(cx, st->report, B_VALUE, &st->balance, sizeof st->balance);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_continue(cx);
}

static void teller_send(fx_ctx *cx, teller *st)
{
    uint32_t src = (uint32_t) (xorshift(&st->rng) % ACCOUNTS);
    uint32_t dst =
        (uint32_t) ((src + 1 + xorshift(&st->rng) % (ACCOUNTS - 1)) % ACCOUNTS);
    transfer t = {.dst = dst, .amount = (int64_t) (1 + xorshift(&st->rng) % 1000)};
    st->delta[src] -= t.amount;
    st->delta[dst] += t.amount;
    st->sent++;
    fx_send(cx, accounts[src], S3_TRANSFER, &t, sizeof t);
}

static fx_next teller_h(fx_ctx *cx, fx_msg *m)
{
    teller *st = fx_state(cx);
    if (fx_msg_type(m) == B_GO) {
        while (st->sent < st->n && st->sent < BANK_WINDOW)
            teller_send(cx, st);
        return fx_continue(cx);
    }
    if (st->sent < st->n) /* B_DONE: a transfer is complete */
        teller_send(cx, st);
    if (++st->done < st->n)
        return fx_continue(cx);
    fx_send(cx, st->report, B_DONE, NULL, 0);
    return fx_stop(cx, fx_reason_normal());
}

int bench_banking(bench_run *r)
{
    /* The teller's expected changes; a copy stays here for the check. */
    static teller ti;
    memset(&ti, 0, sizeof ti);
    ti.report = fx_inbox_pid(r->inbox);
    ti.n = r->n;
    ti.rng = 0x9E3779B97F4A7C15ULL;
    double t0 = bench_now();
    account ai = {.report = fx_inbox_pid(r->inbox), .balance = BANK_START};
    fx_spawn_opts ao = {.handler = account_h,
                        .state_size = sizeof ai,
                        .state_init = &ai,
                        .cleanup = account_cleanup};
    for (int i = 0; i < ACCOUNTS; i++)
        if (fx_vm_spawn_opt(r->vm, &ao, &accounts[i]) != 0)
            return bench_fail(r, "spawn");
    fx_spawn_opts to = {.handler = teller_h, .state_size = sizeof ti, .state_init = &ti};
    fx_pid tp;
    if (fx_vm_spawn_opt(r->vm, &to, &tp) != 0)
        return bench_fail(r, "spawn");
    fx_vm_send(r->vm, tp, B_GO, NULL, 0);
    if (bench_wait(r, B_DONE, NULL))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = 4 * r->n;
    /* Replay the teller's draws for the expected balances. */
    for (uint64_t i = 0; i < r->n; i++) {
        uint32_t src = (uint32_t) (xorshift(&ti.rng) % ACCOUNTS);
        uint32_t dst =
            (uint32_t) ((src + 1 + xorshift(&ti.rng) % (ACCOUNTS - 1)) % ACCOUNTS);
        int64_t amount = (int64_t) (1 + xorshift(&ti.rng) % 1000);
        ti.delta[src] -= amount;
        ti.delta[dst] += amount;
    }
    int bad = 0;
    for (int i = 0; i < ACCOUNTS; i++) {
        fx_vm_send(r->vm, accounts[i], B_GET, NULL, 0);
        uint64_t v;
        if (bench_wait(r, B_VALUE, &v))
            return -1;
        if ((int64_t) v != BANK_START + ti.delta[i])
            bad++;
    }
    if (bad)
        return bench_fail(r, "%d of %d balances wrong", bad, ACCOUNTS);
    return 0;
}

/* ---- trapezoid ------------------------------------------------------------
 * Savina "trapezoidal approximation": the integral of Savina's f over
 * [1, 5] with n trapezoids, split evenly over 100 workers; a master spawns
 * them and sums their areas. ops = n trapezoids. Verified against the same
 * sum computed sequentially (relative difference under 1e-9). */

#define TRAP_WORKERS 100
#define TRAP_LO 1.0
#define TRAP_HI 5.0

static double trap_f(double x)
{
    double a = sin(pow(x, 3) - 1), b = x + 1, c = a / b;
    double d = sqrt(1 + exp(sqrt(2 * x)));
    return c * d;
}

static double trap_area(uint64_t from, uint64_t to, uint64_t n)
{
    double h = (TRAP_HI - TRAP_LO) / (double) n, area = 0;
    for (uint64_t i = from; i < to; i++) {
        double x = TRAP_LO + (double) i * h;
        area += h * (trap_f(x) + trap_f(x + h)) / 2;
    }
    return area;
}

typedef struct {
    fx_pid report;
    uint64_t n;
    uint32_t left;
    double area;
} trap_master;

typedef struct {
    uint64_t from, to, n;
} trap_worker;

static fx_next trap_worker_h(fx_ctx *cx, fx_msg *m)
{
    trap_worker *st = fx_state(cx);
    double a = trap_area(st->from, st->to, st->n);
    fx_send(cx, fx_msg_from(m), S3_RESULT, &a, sizeof a);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next trap_master_h(fx_ctx *cx, fx_msg *m)
{
    trap_master *st = fx_state(cx);
    if (fx_msg_type(m) == B_GO) {
        for (uint64_t w = 0; w < TRAP_WORKERS; w++) {
            trap_worker wi = {.from = st->n * w / TRAP_WORKERS,
                              .to = st->n * (w + 1) / TRAP_WORKERS,
                              .n = st->n};
            fx_spawn_opts o = {
                .handler = trap_worker_h, .state_size = sizeof wi, .state_init = &wi};
            fx_pid p;
            if (fx_spawn_opt(cx, &o, &p) != 0)
                fx_crash(cx, "spawn failed");
            fx_send(cx, p, B_WORK, NULL, 0);
        }
        st->left = TRAP_WORKERS;
        return fx_continue(cx);
    }
    double a;
    memcpy(&a, fx_msg_data(m), sizeof a);
    st->area += a;
    if (--st->left > 0)
        return fx_continue(cx);
    fx_send(cx, st->report, B_DONE, &st->area, sizeof st->area);
    return fx_stop(cx, fx_reason_normal());
}

int bench_trapezoid(bench_run *r)
{
    double t0 = bench_now();
    trap_master mi = {.report = fx_inbox_pid(r->inbox), .n = r->n};
    fx_spawn_opts o = {
        .handler = trap_master_h, .state_size = sizeof mi, .state_init = &mi};
    fx_pid mp;
    if (fx_vm_spawn_opt(r->vm, &o, &mp) != 0)
        return bench_fail(r, "spawn");
    fx_vm_send(r->vm, mp, B_GO, NULL, 0);
    uint64_t bits;
    if (bench_wait(r, B_DONE, &bits))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = r->n;
    double area, want = trap_area(0, r->n, r->n);
    memcpy(&area, &bits, sizeof area);
    snprintf(r->extra, sizeof r->extra, ",\"area\":%.12f", area);
    if (!(fabs(area - want) <= 1e-9 * fabs(want)))
        return bench_fail(r, "area %.15g, sequentially %.15g", area, want);
    return 0;
}

/* ---- fib ------------------------------------------------------------------
 * Savina "recursive Fibonacci" with an actor per call: fib(k) with k > 2
 * spawns fib(k-1) and fib(k-2) and sends its parent their sum; fib(1) and
 * fib(2) send 1. n is the index; ops = actors = 2 F(n) - 1. Verified
 * against F(n) computed iteratively. */

typedef struct {
    fx_pid parent;
    uint64_t k, sum;
    uint32_t pending;
} fib_actor;

static fx_next fib_collect(fx_ctx *cx, fx_msg *m)
{
    fib_actor *st = fx_state(cx);
    uint64_t v;
    memcpy(&v, fx_msg_data(m), sizeof v);
    st->sum += v;
    if (--st->pending > 0)
        return fx_continue(cx);
    fx_send(cx, st->parent, S3_RESULT, &st->sum, sizeof st->sum);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next fib_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    fib_actor *st = fx_state(cx);
    if (st->k <= 2) {
        uint64_t one = 1;
        fx_send(cx, st->parent, S3_RESULT, &one, sizeof one);
        return fx_stop(cx, fx_reason_normal());
    }
    fib_actor child = {.parent = fx_self(cx)};
    fx_spawn_opts o = {.init = fib_init,
                       .handler = fib_collect,
                       .state_size = sizeof child,
                       .state_init = &child};
    for (uint64_t d = 1; d <= 2; d++) {
        child.k = st->k - d;
        if (fx_spawn_opt(cx, &o, NULL) != 0)
            fx_crash(cx, "spawn failed");
    }
    st->pending = 2;
    return fx_continue(cx);
}

int bench_fib(bench_run *r)
{
    if (r->n < 1 || r->n > 60)
        return bench_fail(r, "fib --n is the index, 1..60");
    uint64_t a = 1, b = 1; /* F(1), F(2) */
    for (uint64_t i = 2; i < r->n; i++) {
        uint64_t c = a + b;
        a = b, b = c;
    }
    uint64_t want = r->n == 1 ? 1 : b;
    double t0 = bench_now();
    fib_actor root = {.parent = fx_inbox_pid(r->inbox), .k = r->n};
    fx_spawn_opts o = {.init = fib_init,
                       .handler = fib_collect,
                       .state_size = sizeof root,
                       .state_init = &root};
    if (fx_vm_spawn_opt(r->vm, &o, NULL) != 0)
        return bench_fail(r, "spawn");
    uint64_t got;
    if (bench_wait(r, S3_RESULT, &got))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = 2 * want - 1;
    if (got != want)
        return bench_fail(r, "fib(%llu) = %llu, expected %llu", (unsigned long long) r->n,
                          (unsigned long long) got, (unsigned long long) want);
    return 0;
}
