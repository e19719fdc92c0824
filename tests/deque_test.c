/* Work-stealing deque: FIFO order, growth, errors, exactly-once delivery
 * under concurrent stealing. The TSan variant is tests/stress/deque_stress.c. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include <fauxtp/error.h>

#include "ds/deque.h"

static void *item(uintptr_t i)
{
    return (void *) (i + 1); /* items are never NULL */
}

Test(deque, fifo_single_thread)
{
    fxi_deque d;
    cr_assert_eq(fxi_deque_init(&d, 8), 0);
    for (uintptr_t i = 0; i < 5; i++)
        cr_assert_eq(fxi_deque_push_owner(&d, item(i)), 0);
    for (uintptr_t i = 0; i < 5; i++)
        cr_assert_eq(fxi_deque_steal_mc(&d), item(i));
    cr_assert_null(fxi_deque_steal_mc(&d));
    fxi_deque_fini(&d);
}

/* A half steal takes the oldest half (rounded up, at most max) in order. */
Test(deque, steal_half_takes_the_oldest_half_in_order)
{
    fxi_deque d;
    cr_assert_eq(fxi_deque_init(&d, 4), 0);
    void *out[8];
    cr_assert_eq(fxi_deque_steal_half_mc(&d, out, 8), 0); /* empty */
    for (uintptr_t i = 0; i < 11; i++)                    /* grows past 4 and wraps */
        cr_assert_eq(fxi_deque_push_owner(&d, item(i)), 0);
    cr_assert_eq(fxi_deque_steal_half_mc(&d, out, 0), 0);
    cr_assert_eq(fxi_deque_steal_half_mc(&d, out, 8), 6); /* ceil(11/2) */
    for (uintptr_t i = 0; i < 6; i++)
        cr_assert_eq(out[i], item(i));
    cr_assert_eq(fxi_deque_steal_half_mc(&d, out, 2), 2); /* max */
    cr_assert_eq(out[0], item(6));
    cr_assert_eq(out[1], item(7));
    cr_assert_eq(fxi_deque_steal_half_mc(&d, out, 8), 2); /* ceil(3/2) */
    cr_assert_eq(out[0], item(8));
    cr_assert_eq(out[1], item(9));
    cr_assert_eq(fxi_deque_steal_half_mc(&d, out, 8), 1); /* the last one */
    cr_assert_eq(out[0], item(10));
    cr_assert_eq(fxi_deque_steal_half_mc(&d, out, 8), 0);
    cr_assert_null(fxi_deque_steal_mc(&d));
    fxi_deque_fini(&d);
}

Test(deque, wraps_around_without_growing)
{
    fxi_deque d;
    cr_assert_eq(fxi_deque_init(&d, 4), 0);
    uintptr_t next_in = 0, next_out = 0;
    for (int round = 0; round < 100; round++) {
        for (int k = 0; k < 3; k++)
            cr_assert_eq(fxi_deque_push_owner(&d, item(next_in++)), 0);
        for (int k = 0; k < 3; k++)
            cr_assert_eq(fxi_deque_steal_mc(&d), item(next_out++));
    }
    cr_assert_null(fxi_deque_steal_mc(&d));
    fxi_deque_fini(&d);
}

Test(deque, growth_keeps_order)
{
    fxi_deque d;
    cr_assert_eq(fxi_deque_init(&d, 2), 0);
    /* Offset top first so the live range straddles the wrap point when
     * the buffer grows. */
    cr_assert_eq(fxi_deque_push_owner(&d, item(1000)), 0);
    cr_assert_eq(fxi_deque_steal_mc(&d), item(1000));
    const uintptr_t n = 10000;
    for (uintptr_t i = 0; i < n; i++) {
        cr_assert_eq(fxi_deque_push_owner(&d, item(i)), 0);
        if (i % 3 == 2) /* interleave takes with growth */
            cr_assert_eq(fxi_deque_steal_mc(&d), item(i / 3));
    }
    for (uintptr_t i = n / 3; i < n; i++)
        cr_assert_eq(fxi_deque_steal_mc(&d), item(i), "at %zu", (size_t) i);
    cr_assert_null(fxi_deque_steal_mc(&d));
    fxi_deque_fini(&d);
}

Test(deque, empty_returns_null)
{
    fxi_deque d;
    cr_assert_eq(fxi_deque_init(&d, 16), 0);
    cr_assert_null(fxi_deque_steal_mc(&d));
    cr_assert_null(fxi_deque_steal_mc(&d));
    cr_assert_eq(fxi_deque_push_owner(&d, item(7)), 0);
    cr_assert_eq(fxi_deque_steal_mc(&d), item(7));
    cr_assert_null(fxi_deque_steal_mc(&d));
    fxi_deque_fini(&d);
}

Test(deque, init_rejects_bad_capacity)
{
    fxi_deque d;
    cr_assert_eq(fxi_deque_init(&d, 0), FX_EINVAL);
    cr_assert_eq(fxi_deque_init(&d, 1), FX_EINVAL);
    cr_assert_eq(fxi_deque_init(&d, 3), FX_EINVAL);
    cr_assert_eq(fxi_deque_init(&d, 48), FX_EINVAL);
    cr_assert_eq(fxi_deque_init(NULL, 8), FX_EINVAL);
    cr_assert_eq(fxi_deque_init(&d, (size_t) 1 << (sizeof(size_t) * 8 - 1)), FX_ENOMEM);
    cr_assert_eq(fxi_deque_init(&d, 2), 0);
    fxi_deque_fini(&d);
}

Test(deque, size_hint)
{
    fxi_deque d;
    cr_assert_eq(fxi_deque_init(&d, 4), 0);
    cr_assert_eq(fxi_deque_size_hint(&d), 0);
    for (uintptr_t i = 0; i < 10; i++)
        cr_assert_eq(fxi_deque_push_owner(&d, item(i)), 0);
    cr_assert_eq(fxi_deque_size_hint(&d), 10);
    for (int k = 0; k < 4; k++)
        cr_assert_not_null(fxi_deque_steal_mc(&d));
    cr_assert_eq(fxi_deque_size_hint(&d), 6);
    while (fxi_deque_steal_mc(&d))
        ;
    cr_assert_eq(fxi_deque_size_hint(&d), 0);
    fxi_deque_fini(&d);
}

/* ---- concurrent exactly-once ---------------------------------------- */

#define MT_ITEMS 1000000u
#define MT_THIEVES 3

struct mt {
    fxi_deque d;
    atomic_uint *seen; /* times each item was taken */
    atomic_bool done;  /* owner finished pushing */
    atomic_uint bad;   /* out-of-range items seen by thieves */
    atomic_ulong taken;
};

static void record(struct mt *m, void *p)
{
    uintptr_t v = (uintptr_t) p;
    if (v == 0 || v > MT_ITEMS) {
        atomic_fetch_add_explicit(&m->bad, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&m->seen[v - 1], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->taken, 1, memory_order_relaxed);
}

static void *thief(void *arg)
{
    struct mt *m = arg;
    for (;;) {
        /* Read done before stealing: a NULL after done was set means every
         * pushed item has been taken. */
        bool done = atomic_load_explicit(&m->done, memory_order_acquire);
        void *p = fxi_deque_steal_mc(&m->d);
        if (p)
            record(m, p);
        else if (done)
            return NULL;
    }
}

Test(deque, concurrent_exactly_once)
{
    struct mt *m = calloc(1, sizeof(*m));
    cr_assert_not_null(m);
    m->seen = calloc(MT_ITEMS, sizeof(*m->seen));
    cr_assert_not_null(m->seen);
    cr_assert_eq(fxi_deque_init(&m->d, 64), 0);

    pthread_t th[MT_THIEVES];
    for (int i = 0; i < MT_THIEVES; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, thief, m), 0);
    for (uintptr_t i = 0; i < MT_ITEMS; i++) {
        cr_assert_eq(fxi_deque_push_owner(&m->d, item(i)), 0);
        if (i % 4 == 0) {
            void *p = fxi_deque_steal_mc(&m->d);
            if (p)
                record(m, p);
        }
    }
    atomic_store_explicit(&m->done, true, memory_order_release);
    void *p;
    while ((p = fxi_deque_steal_mc(&m->d)))
        record(m, p);
    for (int i = 0; i < MT_THIEVES; i++)
        cr_assert_eq(pthread_join(th[i], NULL), 0);

    cr_assert_eq(atomic_load(&m->bad), 0);
    cr_assert_eq(atomic_load(&m->taken), MT_ITEMS);
    for (size_t i = 0; i < MT_ITEMS; i++)
        cr_assert_eq(atomic_load_explicit(&m->seen[i], memory_order_relaxed), 1,
                     "item %zu taken %u times", i, atomic_load(&m->seen[i]));
    cr_assert_eq(fxi_deque_size_hint(&m->d), 0);
    fxi_deque_fini(&m->d);
    free(m->seen);
    free(m);
}
