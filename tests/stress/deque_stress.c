/* TSan stress for the work-stealing deque: each round starts with a
 * two-slot buffer, so it grows repeatedly while three thieves (and the
 * owner) are stealing, one item at a time or half the queue at once
 * (fxi_deque_steal_half_mc; thief 0 and the owner's every other take).
 * Every item must be taken exactly once.
 * Items point to records the owner writes with plain stores just before
 * the push and takers read with plain loads after the steal, as the
 * scheduler does with actors: only the deque's release/acquire orders
 * those accesses, so TSan reports a race if one of them is weakened
 * (tools/memorder-check). Exit code 0 on success; non-zero with a message
 * on failure. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ds/deque.h"

#define ROUNDS 100
#define ITEMS_PER_ROUND 4000u
#define THIEVES 3

struct item {
    uint64_t value; /* plain: written by the owner before the push */
};

struct stress {
    fxi_deque d;
    struct item items[ITEMS_PER_ROUND];
    pthread_barrier_t start, end;
    atomic_bool done; /* owner finished pushing this round */
    atomic_bool quit; /* no more rounds */
    atomic_uint bad;
    atomic_uint seen[ITEMS_PER_ROUND];
};

static void record(struct stress *s, void *p)
{
    struct item *it = p;
    uintptr_t v = (uintptr_t) (it - s->items) + 1;
    if (it < s->items || v > ITEMS_PER_ROUND || it->value % ITEMS_PER_ROUND != v - 1) {
        atomic_fetch_add_explicit(&s->bad, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&s->seen[v - 1], 1, memory_order_relaxed);
}

/* Takes one item, or half the queue (at most 8) when half is set;
 * returns how many. */
static unsigned take(struct stress *s, bool half)
{
    if (!half) {
        void *p = fxi_deque_steal_mc(&s->d);
        if (p)
            record(s, p);
        return p != NULL;
    }
    void *got[8];
    size_t n = fxi_deque_steal_half_mc(&s->d, got, 8);
    for (size_t i = 0; i < n; i++)
        record(s, got[i]);
    return (unsigned) n;
}

struct thief_arg {
    struct stress *s;
    bool half;
};

static void *thief(void *arg)
{
    struct thief_arg *ta = arg;
    struct stress *s = ta->s;
    for (;;) {
        pthread_barrier_wait(&s->start);
        if (atomic_load(&s->quit))
            return NULL;
        for (;;) {
            bool done = atomic_load_explicit(&s->done, memory_order_acquire);
            if (take(s, ta->half) == 0 && done)
                break;
        }
        pthread_barrier_wait(&s->end);
    }
}

static int fail(const char *msg, int round, unsigned idx, unsigned val)
{
    fprintf(stderr, "deque_stress: round %d: %s (item %u, value %u)\n", round, msg, idx,
            val);
    return 1;
}

int main(void)
{
    static struct stress s;
    pthread_barrier_init(&s.start, NULL, THIEVES + 1);
    pthread_barrier_init(&s.end, NULL, THIEVES + 1);
    pthread_t th[THIEVES];
    struct thief_arg ta[THIEVES];
    for (int i = 0; i < THIEVES; i++) {
        ta[i] = (struct thief_arg){&s, i == 0};
        if (pthread_create(&th[i], NULL, thief, &ta[i]) != 0)
            return fail("pthread_create failed", -1, 0, 0);
    }

    int rc = 0;
    uint64_t total = 0;
    for (int round = 0; round < ROUNDS && rc == 0; round++) {
        if (fxi_deque_init(&s.d, 2) != 0)
            return fail("init failed", round, 0, 0);
        for (unsigned i = 0; i < ITEMS_PER_ROUND; i++)
            atomic_store_explicit(&s.seen[i], 0, memory_order_relaxed);
        atomic_store(&s.done, false);
        pthread_barrier_wait(&s.start); /* publishes the fresh deque */

        for (uintptr_t i = 0; i < ITEMS_PER_ROUND; i++) {
            s.items[i].value = (uint64_t) round * ITEMS_PER_ROUND + i; /* plain */
            if (fxi_deque_push_owner(&s.d, &s.items[i]) != 0)
                return fail("push failed", round, (unsigned) i, 0);
            if (i % 8 == 7)
                (void) take(&s, i % 16 == 15);
        }
        atomic_store_explicit(&s.done, true, memory_order_release);
        void *p;
        while ((p = fxi_deque_steal_mc(&s.d)))
            record(&s, p);
        pthread_barrier_wait(&s.end); /* thieves are done with the deque */

        if (atomic_load(&s.bad))
            rc = fail("taken item out of range", round, 0, atomic_load(&s.bad));
        for (unsigned i = 0; i < ITEMS_PER_ROUND && rc == 0; i++) {
            unsigned n = atomic_load_explicit(&s.seen[i], memory_order_relaxed);
            if (n != 1)
                rc = fail("item not taken exactly once", round, i, n);
        }
        if (rc == 0 && fxi_deque_size_hint(&s.d) != 0)
            rc = fail("size hint not 0 after draining", round, 0,
                      (unsigned) fxi_deque_size_hint(&s.d));
        fxi_deque_fini(&s.d);
        total += ITEMS_PER_ROUND;
    }

    atomic_store(&s.quit, true);
    pthread_barrier_wait(&s.start);
    for (int i = 0; i < THIEVES; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&s.start);
    pthread_barrier_destroy(&s.end);
    if (rc == 0)
        printf("deque_stress: ok, %llu items in %d rounds\n", (unsigned long long) total,
               ROUNDS);
    return rc;
}
