/* Savina micro benchmarks: chameneos and big. They do the same work, count
 * the same ops and check the same results as the Erlang/OTP and CAF peers
 * (bench/peers/): see docs/benchmarks.md. */
#include <string.h>

#include "bench.h"

/* ---- chameneos ----------------------------------------------------------
 * 100 chameneos meet through a mall. A chameneo sends the mall B_MEET
 * {itself, its colour}. The mall keeps the first request of a pair and
 * forwards the second, unchanged (the message itself, no copy), to the
 * waiting chameneo, which takes the complement colour, answers its partner
 * with B_CHANGE and goes back to the mall; the partner takes the colour and
 * goes back too: 4 messages per meeting. After n meetings the mall answers
 * every B_MEET with B_FADE; a fading chameneo reports its meetings, which
 * must sum to 2n. */

#define CHAMENEOS 100

typedef struct {
    fx_pid who;
    int32_t colour;
} meet_req; /* payload of B_MEET */

typedef struct {
    fx_pid report, waiting; /* waiting: FX_PID_NONE when nobody waits */
    uint64_t left, sum;
    uint32_t faded;
} mall;

typedef struct {
    fx_pid mall;
    int32_t colour;
    uint64_t meetings;
} chameneo;

/* Colours 0, 1, 2: equal colours stay, different ones give the third. */
static int32_t complement(int32_t a, int32_t b)
{
    return a == b ? a : 3 - a - b;
}

static fx_next mall_h(fx_ctx *cx, fx_msg *m)
{
    mall *st = fx_state(cx);
    if (fx_msg_type(m) == B_MEETINGS) {
        uint64_t met;
        memcpy(&met, fx_msg_data(m), sizeof met);
        st->sum += met;
        if (++st->faded < CHAMENEOS)
            return fx_continue(cx);
        fx_send(cx, st->report, B_DONE, &st->sum, sizeof st->sum);
        return fx_stop(cx, fx_reason_normal());
    }
    meet_req req;
    memcpy(&req, fx_msg_data(m), sizeof req);
    if (st->left == 0) {
        fx_send(cx, req.who, B_FADE, NULL, 0);
    } else if (fx_pid_is_none(st->waiting)) {
        st->waiting = req.who;
    } else {
        st->left--;
        fx_send_msg(cx, st->waiting, m); /* takes m: forwarded as is */
        st->waiting = FX_PID_NONE;
    }
    return fx_continue(cx);
}

static void go_to_mall(fx_ctx *cx, const chameneo *st)
{
    meet_req req = {.who = fx_self(cx), .colour = st->colour};
    fx_send(cx, st->mall, B_MEET, &req, sizeof req);
}

static fx_next chameneo_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    go_to_mall(cx, fx_state(cx));
    return fx_continue(cx);
}

static fx_next chameneo_h(fx_ctx *cx, fx_msg *m)
{
    chameneo *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case B_MEET: { /* the mall paired us with req.who */
        meet_req req;
        memcpy(&req, fx_msg_data(m), sizeof req);
        st->colour = complement(st->colour, req.colour);
        fx_send(cx, req.who, B_CHANGE, &st->colour, sizeof st->colour);
        break;
    }
    case B_CHANGE:
        memcpy(&st->colour, fx_msg_data(m), sizeof st->colour);
        break;
    default: /* B_FADE */
        fx_send(cx, st->mall, B_MEETINGS, &st->meetings, sizeof st->meetings);
        return fx_stop(cx, fx_reason_normal());
    }
    st->meetings++;
    go_to_mall(cx, st);
    return fx_continue(cx);
}

int bench_chameneos(bench_run *r)
{
    double t0 = bench_now();
    mall mi = {.report = fx_inbox_pid(r->inbox), .left = r->n};
    fx_spawn_opts mo = {.handler = mall_h, .state_size = sizeof mi, .state_init = &mi};
    fx_pid mp;
    if (fx_vm_spawn_opt(r->vm, &mo, &mp) != 0)
        return bench_fail(r, "spawn");
    for (int i = 1; i <= CHAMENEOS; i++) {
        chameneo ci = {.mall = mp, .colour = i % 3};
        fx_spawn_opts co = {.init = chameneo_init,
                            .handler = chameneo_h,
                            .state_size = sizeof ci,
                            .state_init = &ci};
        if (fx_vm_spawn_opt(r->vm, &co, NULL) != 0)
            return bench_fail(r, "spawn");
    }
    uint64_t sum;
    if (bench_wait(r, B_DONE, &sum))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = 4 * r->n;
    if (sum != 2 * r->n)
        return bench_fail(r, "sum of meetings %llu, expected %llu",
                          (unsigned long long) sum, (unsigned long long) (2 * r->n));
    return 0;
}

/* ---- big ------------------------------------------------------------------
 * 120 actors; each keeps one B_PING in flight to a random peer (never
 * itself), n pings in all, and answers every ping it gets with a B_PONG.
 * An actor whose n-th ping is answered reports B_DONE; afterwards each
 * reports how many pings it answered, which must sum to 120n. */

#define BIG_ACTORS 120

/* Written before the actors start, read-only while they run. One run per
 * process, so a static array outlives every actor that reads it. */
static fx_pid big_peers[BIG_ACTORS];

typedef struct {
    fx_pid report;
    uint64_t n, sent, answered;
    uint64_t rng;
    uint32_t id;
} big_actor;

/* xorshift64*, as in the CAF peer: cheap, per actor. */
static uint32_t big_random(big_actor *st)
{
    st->rng ^= st->rng >> 12;
    st->rng ^= st->rng << 25;
    st->rng ^= st->rng >> 27;
    return (uint32_t) ((st->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static void big_ping(fx_ctx *cx, big_actor *st)
{
    uint32_t peer = (uint32_t) (((uint64_t) big_random(st) * (BIG_ACTORS - 1)) >> 32);
    if (peer >= st->id)
        peer++;
    st->sent++;
    fx_send(cx, big_peers[peer], B_PING, NULL, 0);
}

static fx_next big_h(fx_ctx *cx, fx_msg *m)
{
    big_actor *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case B_PING:
        st->answered++;
        fx_send(cx, fx_msg_from(m), B_PONG, NULL, 0);
        break;
    case B_PONG:
        if (st->sent == st->n)
            fx_send(cx, st->report, B_DONE, NULL, 0);
        else
            big_ping(cx, st);
        break;
    case B_GO:
        big_ping(cx, st);
        break;
    default: /* B_GET, after every actor is done */
        fx_send(cx, st->report, B_VALUE, &st->answered, sizeof st->answered);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_continue(cx);
}

int bench_big(bench_run *r)
{
    double t0 = bench_now();
    for (uint32_t i = 0; i < BIG_ACTORS; i++) {
        big_actor init = {.report = fx_inbox_pid(r->inbox),
                          .n = r->n,
                          .rng = (i + 1) * 0x9E3779B97F4A7C15ULL,
                          .id = i};
        fx_spawn_opts o = {
            .handler = big_h, .state_size = sizeof init, .state_init = &init};
        if (fx_vm_spawn_opt(r->vm, &o, &big_peers[i]) != 0)
            return bench_fail(r, "spawn");
    }
    for (uint32_t i = 0; i < BIG_ACTORS; i++)
        fx_vm_send(r->vm, big_peers[i], B_GO, NULL, 0);
    for (uint32_t i = 0; i < BIG_ACTORS; i++)
        if (bench_wait(r, B_DONE, NULL))
            return -1;
    r->seconds = bench_now() - t0;
    r->ops = 2 * BIG_ACTORS * r->n;
    uint64_t answered = 0;
    for (uint32_t i = 0; i < BIG_ACTORS; i++)
        fx_vm_send(r->vm, big_peers[i], B_GET, NULL, 0);
    for (uint32_t i = 0; i < BIG_ACTORS; i++) {
        uint64_t a;
        if (bench_wait(r, B_VALUE, &a))
            return -1;
        answered += a;
    }
    if (answered != BIG_ACTORS * r->n)
        return bench_fail(r, "%llu pings answered, expected %llu",
                          (unsigned long long) answered,
                          (unsigned long long) (BIG_ACTORS * r->n));
    return 0;
}
