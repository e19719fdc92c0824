/* Savina workloads with a central coordinator: bndbuffer, philosopher,
 * barber. They do the same work, count the same ops and check the same
 * results as the Erlang/OTP, CAF and Go peers (bench/peers/README.md,
 * docs/benchmarks.md). */
#include <string.h>

#include "bench.h"

/* Message types of these workloads (bench.h's enum stops well below). */
enum {
    S2_DATA = 100, /* bndbuffer: producer -> manager -> consumer */
    S2_PRODUCE,    /* manager -> producer: produce the next item */
    S2_AVAILABLE,  /* consumer -> manager: ready for an item */
    S2_STOP,
    S2_HUNGRY, /* philosopher */
    S2_EAT,
    S2_DENIED,
    S2_ATE,
    S2_EXIT,
    S2_ENTER, /* barber */
    S2_FULL,
    S2_RETURNED,
    S2_START,
    S2_CUT,
    S2_NEXT,
};

static uint64_t get_u64(const fx_msg *m)
{
    uint64_t v = 0;
    if (fx_msg_size(m) >= sizeof v)
        memcpy(&v, fx_msg_data(m), sizeof v);
    return v;
}

static fx_pid get_pid(const fx_msg *m)
{
    fx_pid p = FX_PID_NONE;
    if (fx_msg_size(m) >= sizeof p)
        memcpy(&p, fx_msg_data(m), sizeof p);
    return p;
}

/* ---- bndbuffer ------------------------------------------------------------
 * Savina "bounded buffer": 40 producers and 40 consumers trade n items (in
 * all) through a manager holding a buffer of 50. A producer sends S2_DATA to
 * the manager, which hands it to an idle consumer, or buffers it; the
 * manager answers S2_PRODUCE while fewer than 50 - 40 items are buffered
 * (Savina's adjusted size), else keeps the producer waiting until a
 * consumer takes an item. A consumer takes an item
 * and asks for the next with S2_AVAILABLE: 4 messages per item. Item values
 * are 0..n-1 (producer p makes p, p+40, ...); the consumers' sums must add
 * up to n(n-1)/2. Production and consumption costs are 0. */

#define BB_PRODUCERS 40
#define BB_CONSUMERS 40
#define BB_SIZE 50
/* Savina's "adjusted buffer size": producers already told to produce may
 * each still deliver one item, so they are told only while this many
 * slots are taken at most. */
#define BB_ADJUSTED (BB_SIZE - BB_PRODUCERS)

typedef struct {
    uint64_t buf[BB_SIZE];
    uint32_t head, count;
    fx_pid idle[BB_CONSUMERS]; /* consumers waiting for an item */
    uint32_t nidle, stopped;
    fx_pid waiting[BB_PRODUCERS]; /* producers waiting for room */
    uint32_t nwaiting;
    uint64_t delivered, n;
} bb_manager;

typedef struct {
    fx_pid manager;
    uint64_t next, step, n;
} bb_producer;

typedef struct {
    fx_pid manager, report;
    uint64_t sum;
} bb_consumer;

/* After the n-th item, every consumer that asks for more is stopped. */
static void bb_stop_consumer(fx_ctx *cx, bb_manager *st, fx_pid c)
{
    fx_send(cx, c, S2_STOP, NULL, 0);
    st->stopped++;
}

static fx_next bb_manager_h(fx_ctx *cx, fx_msg *m)
{
    bb_manager *st = fx_state(cx);
    if (fx_msg_type(m) == S2_DATA) {
        uint64_t item = get_u64(m);
        if (st->nidle > 0) {
            fx_send(cx, st->idle[--st->nidle], S2_DATA, &item, sizeof item);
            st->delivered++;
        } else if (st->count < BB_SIZE) {
            st->buf[(st->head + st->count++) % BB_SIZE] = item;
        } else {
            fx_crash(cx, "bndbuffer: item from a producer told to wait");
        }
        if (st->count < BB_ADJUSTED)
            fx_send(cx, fx_msg_from(m), S2_PRODUCE, NULL, 0);
        else
            st->waiting[st->nwaiting++] = fx_msg_from(m);
    } else if (st->delivered == st->n) { /* S2_AVAILABLE after the end */
        bb_stop_consumer(cx, st, fx_msg_from(m));
    } else if (st->count == 0) { /* S2_AVAILABLE */
        st->idle[st->nidle++] = fx_msg_from(m);
    } else {
        uint64_t item = st->buf[st->head];
        st->head = (st->head + 1) % BB_SIZE;
        st->count--;
        fx_send(cx, fx_msg_from(m), S2_DATA, &item, sizeof item);
        st->delivered++;
        if (st->nwaiting > 0)
            fx_send(cx, st->waiting[--st->nwaiting], S2_PRODUCE, NULL, 0);
    }
    if (st->delivered == st->n)
        while (st->nidle > 0)
            bb_stop_consumer(cx, st, st->idle[--st->nidle]);
    if (st->stopped == BB_CONSUMERS)
        return fx_stop(cx, fx_reason_normal());
    return fx_continue(cx);
}

static fx_next bb_producer_h(fx_ctx *cx, fx_msg *m)
{
    (void) m; /* S2_PRODUCE or, first, B_GO */
    bb_producer *st = fx_state(cx);
    if (st->next >= st->n)
        return fx_stop(cx, fx_reason_normal());
    fx_send(cx, st->manager, S2_DATA, &st->next, sizeof st->next);
    st->next += st->step;
    return fx_continue(cx);
}

static fx_next bb_consumer_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    bb_consumer *st = fx_state(cx);
    fx_send(cx, st->manager, S2_AVAILABLE, NULL, 0);
    return fx_continue(cx);
}

static fx_next bb_consumer_h(fx_ctx *cx, fx_msg *m)
{
    bb_consumer *st = fx_state(cx);
    if (fx_msg_type(m) == S2_STOP) {
        fx_send(cx, st->report, B_VALUE, &st->sum, sizeof st->sum);
        return fx_stop(cx, fx_reason_normal());
    }
    st->sum += get_u64(m);
    fx_send(cx, st->manager, S2_AVAILABLE, NULL, 0);
    return fx_continue(cx);
}

int bench_bndbuffer(bench_run *r)
{
    double t0 = bench_now();
    bb_manager mi = {.n = r->n};
    fx_spawn_opts mo = {
        .handler = bb_manager_h, .state_size = sizeof mi, .state_init = &mi};
    fx_pid mp;
    if (fx_vm_spawn_opt(r->vm, &mo, &mp) != 0)
        return bench_fail(r, "spawn");
    bb_consumer ci = {.manager = mp, .report = fx_inbox_pid(r->inbox)};
    fx_spawn_opts co = {.init = bb_consumer_init,
                        .handler = bb_consumer_h,
                        .state_size = sizeof ci,
                        .state_init = &ci};
    for (int i = 0; i < BB_CONSUMERS; i++)
        if (fx_vm_spawn_opt(r->vm, &co, NULL) != 0)
            return bench_fail(r, "spawn");
    for (uint64_t p = 0; p < BB_PRODUCERS; p++) {
        bb_producer pi = {.manager = mp, .next = p, .step = BB_PRODUCERS, .n = r->n};
        fx_spawn_opts po = {
            .handler = bb_producer_h, .state_size = sizeof pi, .state_init = &pi};
        fx_pid pp;
        if (fx_vm_spawn_opt(r->vm, &po, &pp) != 0)
            return bench_fail(r, "spawn");
        fx_vm_send(r->vm, pp, B_GO, NULL, 0);
    }
    uint64_t sum = 0;
    for (int i = 0; i < BB_CONSUMERS; i++) {
        uint64_t v;
        if (bench_wait(r, B_VALUE, &v))
            return -1;
        sum += v;
    }
    r->seconds = bench_now() - t0;
    r->ops = 4 * r->n;
    uint64_t want = r->n * (r->n - 1) / 2;
    if (sum != want)
        return bench_fail(r, "items sum to %llu, expected %llu", (unsigned long long) sum,
                          (unsigned long long) want);
    return 0;
}

/* ---- philosopher ----------------------------------------------------------
 * Savina "dining philosophers" with an arbitrator: 20 philosophers around
 * 20 forks each eat n times. A hungry philosopher asks the arbitrator
 * (S2_HUNGRY); it grants both forks (S2_EAT) or denies (S2_DENIED: the
 * philosopher asks again at once). After eating the philosopher hands the
 * forks back (S2_ATE) and gets hungry again, or leaves (S2_EXIT) after its
 * n-th meal. ops = meals = 20n; the denials (the retries) vary from run to
 * run and are reported as extra.denied. Verified: the arbitrator never
 * grants a fork in use and counts 20n meals, and the philosophers report
 * 20n meals. */

#define PHILOSOPHERS 20

typedef struct {
    fx_pid report;
    uint8_t fork[PHILOSOPHERS];
    uint64_t meals, denied;
    uint32_t left;
} arbitrator;

typedef struct {
    fx_pid arbitrator;
    uint64_t id, n, meals, denied;
} philosopher;

static fx_next arbitrator_h(fx_ctx *cx, fx_msg *m)
{
    arbitrator *st = fx_state(cx);
    uint64_t id = get_u64(m) % PHILOSOPHERS, right = (id + 1) % PHILOSOPHERS;
    switch (fx_msg_type(m)) {
    case S2_HUNGRY:
        if (st->fork[id] || st->fork[right]) {
            st->denied++;
            fx_send(cx, fx_msg_from(m), S2_DENIED, NULL, 0);
        } else {
            st->fork[id] = st->fork[right] = 1;
            fx_send(cx, fx_msg_from(m), S2_EAT, NULL, 0);
        }
        break;
    case S2_ATE:
        if (!st->fork[id] || !st->fork[right])
            fx_crash(cx, "philosopher %llu gave back forks it did not hold",
                     (unsigned long long) id);
        st->fork[id] = st->fork[right] = 0;
        st->meals++;
        break;
    default: /* S2_EXIT */
        if (--st->left == 0) {
            uint64_t out[2] = {st->meals, st->denied};
            fx_send(cx, st->report, B_DONE, out, sizeof out);
            return fx_stop(cx, fx_reason_normal());
        }
    }
    return fx_continue(cx);
}

static fx_next philosopher_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    philosopher *st = fx_state(cx);
    fx_send(cx, st->arbitrator, S2_HUNGRY, &st->id, sizeof st->id);
    return fx_continue(cx);
}

static fx_next philosopher_h(fx_ctx *cx, fx_msg *m)
{
    philosopher *st = fx_state(cx);
    if (fx_msg_type(m) == S2_DENIED) {
        st->denied++;
        fx_send(cx, st->arbitrator, S2_HUNGRY, &st->id, sizeof st->id);
        return fx_continue(cx);
    }
    st->meals++; /* S2_EAT */
    fx_send(cx, st->arbitrator, S2_ATE, &st->id, sizeof st->id);
    if (st->meals < st->n) {
        fx_send(cx, st->arbitrator, S2_HUNGRY, &st->id, sizeof st->id);
        return fx_continue(cx);
    }
    fx_send(cx, st->arbitrator, S2_EXIT, &st->id, sizeof st->id);
    return fx_stop(cx, fx_reason_normal());
}

int bench_philosopher(bench_run *r)
{
    double t0 = bench_now();
    arbitrator ai = {.report = fx_inbox_pid(r->inbox), .left = PHILOSOPHERS};
    fx_spawn_opts ao = {
        .handler = arbitrator_h, .state_size = sizeof ai, .state_init = &ai};
    fx_pid ap;
    if (fx_vm_spawn_opt(r->vm, &ao, &ap) != 0)
        return bench_fail(r, "spawn");
    for (uint64_t i = 0; i < PHILOSOPHERS; i++) {
        philosopher pi = {.arbitrator = ap, .id = i, .n = r->n};
        fx_spawn_opts po = {.init = philosopher_init,
                            .handler = philosopher_h,
                            .state_size = sizeof pi,
                            .state_init = &pi};
        if (fx_vm_spawn_opt(r->vm, &po, NULL) != 0)
            return bench_fail(r, "spawn");
    }
    fx_match mt = {.type = B_DONE};
    fx_msg *msg;
    int rc = fx_inbox_recv(r->inbox, &mt, 600000, &msg);
    if (rc != 0)
        return bench_fail(r, "waiting for result: %s", fx_strerror(rc));
    uint64_t out[2] = {0, 0};
    if (fx_msg_size(msg) == sizeof out)
        memcpy(out, fx_msg_data(msg), sizeof out);
    fx_msg_free(msg);
    r->seconds = bench_now() - t0;
    r->ops = PHILOSOPHERS * r->n;
    snprintf(r->extra, sizeof r->extra, ",\"denied\":%llu", (unsigned long long) out[1]);
    if (out[0] != r->ops)
        return bench_fail(r, "%llu meals, expected %llu", (unsigned long long) out[0],
                          (unsigned long long) r->ops);
    return 0;
}

/* ---- barber ---------------------------------------------------------------
 * Savina "sleeping barber": a factory sends n customers, an actor each, to a
 * waiting room of 100 chairs, keeping at most 150 in the shop at once (the
 * arrival rate). The room seats a customer (S2_ENTER), wakes the sleeping
 * barber with it, or turns it away when full (S2_FULL: the customer goes
 * back to the factory, S2_RETURNED, which sends it in again the next time
 * a customer leaves, before any new one). The barber
 * tells the customer S2_START, cuts (no work), sends S2_CUT and asks the
 * room for the S2_NEXT customer (or sleeps). A customer with its haircut
 * leaves (B_DONE to the factory, which sends the next new one). ops =
 * haircuts = n; returns vary and are reported as extra.returned. Verified:
 * the barber cut n times, and every customer 0..n-1 left once (their ids
 * sum to n(n-1)/2). */

#define ROOM_CHAIRS 100
#define SHOP_LIMIT 150

typedef struct {
    fx_pid barber;
    fx_pid chair[ROOM_CHAIRS];
    uint32_t head, count;
    int barber_asleep;
} waiting_room;

typedef struct {
    fx_pid report;
    uint64_t cuts;
} barber;

typedef struct {
    fx_pid factory;
    uint64_t id;
} customer;

typedef struct {
    fx_pid room, barber, report;
    uint64_t n, made, left, idsum, returned;
    fx_pid back[SHOP_LIMIT]; /* turned away, to be sent in again */
    uint32_t back_head, back_count;
} factory;

static fx_next room_h(fx_ctx *cx, fx_msg *m)
{
    waiting_room *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case S2_ENTER: {
        fx_pid c = get_pid(m);
        if (st->barber_asleep) {
            st->barber_asleep = 0;
            fx_send(cx, st->barber, S2_ENTER, &c, sizeof c);
        } else if (st->count == ROOM_CHAIRS) {
            fx_send(cx, c, S2_FULL, NULL, 0);
        } else {
            st->chair[(st->head + st->count++) % ROOM_CHAIRS] = c;
        }
        break;
    }
    case S2_NEXT:
        if (st->count == 0) {
            st->barber_asleep = 1;
        } else {
            fx_pid c = st->chair[st->head];
            st->head = (st->head + 1) % ROOM_CHAIRS;
            st->count--;
            fx_send(cx, st->barber, S2_ENTER, &c, sizeof c);
        }
        break;
    default: /* S2_STOP */
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_continue(cx);
}

static fx_next barber_h(fx_ctx *cx, fx_msg *m)
{
    barber *st = fx_state(cx);
    if (fx_msg_type(m) == S2_STOP) {
        fx_send(cx, st->report, B_VALUE, &st->cuts, sizeof st->cuts);
        return fx_stop(cx, fx_reason_normal());
    }
    fx_pid c = get_pid(m); /* S2_ENTER */
    fx_send(cx, c, S2_START, NULL, 0);
    st->cuts++;
    fx_send(cx, c, S2_CUT, NULL, 0);
    fx_send(cx, fx_msg_from(m), S2_NEXT, NULL, 0); /* S2_ENTER came from the room */
    return fx_continue(cx);
}

static fx_next customer_h(fx_ctx *cx, fx_msg *m)
{
    customer *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case S2_FULL: {
        fx_pid self = fx_self(cx);
        fx_send(cx, st->factory, S2_RETURNED, &self, sizeof self);
        break;
    }
    case S2_CUT:
        fx_send(cx, st->factory, B_DONE, &st->id, sizeof st->id);
        return fx_stop(cx, fx_reason_normal());
    default: /* S2_START */
        break;
    }
    return fx_continue(cx);
}

static void factory_send_new(fx_ctx *cx, factory *st)
{
    customer ci = {.factory = fx_self(cx), .id = st->made++};
    fx_spawn_opts co = {
        .handler = customer_h, .state_size = sizeof ci, .state_init = &ci};
    fx_pid c;
    if (fx_spawn_opt(cx, &co, &c) != 0)
        fx_crash(cx, "spawn failed");
    fx_send(cx, st->room, S2_ENTER, &c, sizeof c);
}

static fx_next factory_h(fx_ctx *cx, fx_msg *m)
{
    factory *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case B_GO:
        while (st->made < st->n && st->made < SHOP_LIMIT)
            factory_send_new(cx, st);
        break;
    case S2_RETURNED:
        st->returned++;
        st->back[(st->back_head + st->back_count++) % SHOP_LIMIT] = get_pid(m);
        break;
    default: /* B_DONE: a customer left */
        st->idsum += get_u64(m);
        if (++st->left < st->n) {
            if (st->back_count > 0) {
                fx_pid c = st->back[st->back_head];
                st->back_head = (st->back_head + 1) % SHOP_LIMIT;
                st->back_count--;
                fx_send(cx, st->room, S2_ENTER, &c, sizeof c);
            } else if (st->made < st->n) {
                factory_send_new(cx, st);
            }
            break;
        }
        fx_send(cx, st->room, S2_STOP, NULL, 0);
        fx_send(cx, st->barber, S2_STOP, NULL, 0);
        uint64_t out[2] = {st->idsum, st->returned};
        fx_send(cx, st->report, B_DONE, out, sizeof out);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_continue(cx);
}

int bench_barber(bench_run *r)
{
    double t0 = bench_now();
    fx_pid report = fx_inbox_pid(r->inbox);
    barber bi = {.report = report};
    fx_spawn_opts bo = {.handler = barber_h, .state_size = sizeof bi, .state_init = &bi};
    fx_pid bp, rp, fp;
    if (fx_vm_spawn_opt(r->vm, &bo, &bp) != 0)
        return bench_fail(r, "spawn");
    waiting_room ri = {.barber = bp, .barber_asleep = 1};
    fx_spawn_opts ro = {.handler = room_h, .state_size = sizeof ri, .state_init = &ri};
    if (fx_vm_spawn_opt(r->vm, &ro, &rp) != 0)
        return bench_fail(r, "spawn");
    factory fi = {.room = rp, .barber = bp, .report = report, .n = r->n};
    fx_spawn_opts fo = {.handler = factory_h, .state_size = sizeof fi, .state_init = &fi};
    if (fx_vm_spawn_opt(r->vm, &fo, &fp) != 0)
        return bench_fail(r, "spawn");
    fx_vm_send(r->vm, fp, B_GO, NULL, 0);
    fx_match mt = {.type = B_DONE};
    fx_msg *msg;
    int rc = fx_inbox_recv(r->inbox, &mt, 600000, &msg);
    if (rc != 0)
        return bench_fail(r, "waiting for result: %s", fx_strerror(rc));
    uint64_t out[2] = {0, 0};
    if (fx_msg_size(msg) == sizeof out)
        memcpy(out, fx_msg_data(msg), sizeof out);
    fx_msg_free(msg);
    r->seconds = bench_now() - t0;
    r->ops = r->n;
    snprintf(r->extra, sizeof r->extra, ",\"returned\":%llu",
             (unsigned long long) out[1]);
    uint64_t cuts;
    if (bench_wait(r, B_VALUE, &cuts))
        return -1;
    uint64_t want = r->n * (r->n - 1) / 2;
    if (cuts != r->n || out[0] != want)
        return bench_fail(r,
                          "%llu haircuts, customer ids sum to %llu; expected %llu, %llu",
                          (unsigned long long) cuts, (unsigned long long) out[0],
                          (unsigned long long) r->n, (unsigned long long) want);
    return 0;
}
