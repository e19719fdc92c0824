/* Hierarchical timer wheel: exact firing, removal, far deadlines, big
 * jumps, next_deadline bound, and a randomized check against a brute-force
 * reference. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ds/timer_wheel.h"

#define HOUR_MS (3600u * 1000u)
#define DAY_MS (24ull * HOUR_MS)

static size_t list_len(const fxi_twheel_entry *e)
{
    size_t n = 0;
    for (; e; e = e->next)
        n++;
    return n;
}

Test(timer_wheel, empty_wheel)
{
    fxi_twheel w;
    fxi_twheel_init(&w, 12345);
    cr_assert_eq(fxi_twheel_count(&w), 0);
    cr_assert_eq(fxi_twheel_next_deadline(&w), UINT64_MAX);
    cr_assert_null(fxi_twheel_advance(&w, 99999));
    cr_assert_null(fxi_twheel_advance(&w, UINT64_MAX));
    cr_assert_eq(fxi_twheel_next_deadline(&w), UINT64_MAX);
}

/* Deadlines around every level boundary fire exactly on their millisecond
 * when time moves 1 ms per advance. */
Test(timer_wheel, fires_exactly_at_deadline)
{
    static const uint64_t offs[] = {1,      2,      63,   64,   65,    127,    128,
                                    4095,   4096,   4097, 5000, 65536, 262143, 262144,
                                    262145, 300000, 1,    64,   262144};
    enum { N = sizeof(offs) / sizeof(offs[0]) };
    const uint64_t start = 1000003; /* not aligned to any level */
    fxi_twheel w;
    fxi_twheel_entry e[N];
    memset(e, 0, sizeof(e));
    fxi_twheel_init(&w, start);
    for (size_t i = 0; i < N; i++) {
        fxi_twheel_insert(&w, &e[i], start + offs[i]);
        cr_assert(fxi_twheel_contains(&e[i]));
    }
    cr_assert_eq(fxi_twheel_count(&w), N);

    size_t fired = 0;
    for (uint64_t now = start + 1; now <= start + 300001; now++) {
        for (fxi_twheel_entry *x = fxi_twheel_advance(&w, now); x; x = x->next) {
            cr_assert_eq(x->deadline, now, "deadline %llu fired at %llu",
                         (unsigned long long) x->deadline, (unsigned long long) now);
            cr_assert_not(fxi_twheel_contains(x));
            fired++;
        }
    }
    cr_assert_eq(fired, N);
    cr_assert_eq(fxi_twheel_count(&w), 0);
    cr_assert_eq(fxi_twheel_next_deadline(&w), UINT64_MAX);
}

Test(timer_wheel, past_and_present_deadlines_fire_at_next_advance)
{
    fxi_twheel w;
    fxi_twheel_entry a = {0}, b = {0}, c = {0};
    fxi_twheel_init(&w, 500);
    fxi_twheel_insert(&w, &a, 500);
    fxi_twheel_insert(&w, &b, 3);
    fxi_twheel_insert(&w, &c, 501);
    cr_assert_leq(fxi_twheel_next_deadline(&w), 3);
    fxi_twheel_entry *x = fxi_twheel_advance(&w, 500);
    cr_assert_eq(list_len(x), 2);
    cr_assert_not(fxi_twheel_contains(&a));
    cr_assert_not(fxi_twheel_contains(&b));
    cr_assert(fxi_twheel_contains(&c));
    cr_assert_eq(fxi_twheel_next_deadline(&w), 501);
}

Test(timer_wheel, time_never_goes_backwards)
{
    fxi_twheel w;
    fxi_twheel_entry a = {0}, b = {0};
    fxi_twheel_init(&w, 10000);
    fxi_twheel_insert(&w, &a, 10001);
    cr_assert_null(fxi_twheel_advance(&w, 50)); /* treated as 10000 */
    fxi_twheel_insert(&w, &b, 9000);            /* in the past: due */
    fxi_twheel_entry *x = fxi_twheel_advance(&w, 9500);
    cr_assert_eq(x, &b);
    cr_assert_null(x->next);
    x = fxi_twheel_advance(&w, 10001);
    cr_assert_eq(x, &a);
    cr_assert_null(x->next);
}

Test(timer_wheel, removal)
{
    static const uint64_t offs[] = {
        0, 1, 5, 70, 5000, 300000, HOUR_MS, 3 * DAY_MS, (uint64_t) 1 << 40};
    enum { N = sizeof(offs) / sizeof(offs[0]) };
    fxi_twheel w;
    fxi_twheel_entry keep[N], drop[N];
    memset(keep, 0, sizeof(keep));
    memset(drop, 0, sizeof(drop));
    fxi_twheel_init(&w, 777);
    for (size_t i = 0; i < N; i++) {
        fxi_twheel_insert(&w, &drop[i], 777 + offs[i]);
        fxi_twheel_insert(&w, &keep[i], 777 + offs[i]);
    }
    cr_assert_eq(fxi_twheel_count(&w), 2 * N);
    for (size_t i = 0; i < N; i++) {
        fxi_twheel_remove(&w, &drop[i]);
        cr_assert_not(fxi_twheel_contains(&drop[i]));
        cr_assert(fxi_twheel_contains(&keep[i]));
    }
    cr_assert_eq(fxi_twheel_count(&w), N);

    /* Re-insert a removed entry, then remove it again before it fires. */
    fxi_twheel_insert(&w, &drop[0], 800);
    fxi_twheel_remove(&w, &drop[0]);

    size_t fired = 0;
    for (size_t i = 0; i < N; i++) {
        fxi_twheel_entry *x = fxi_twheel_advance(&w, 777 + offs[i]);
        for (; x; x = x->next) {
            cr_assert_eq(x, &keep[i], "entry %zu fired with keep[%zu]",
                         (size_t) (x - keep), i);
            fired++;
        }
    }
    cr_assert_eq(fired, N);
    cr_assert_eq(fxi_twheel_count(&w), 0);
    cr_assert_eq(fxi_twheel_next_deadline(&w), UINT64_MAX);
}

Test(timer_wheel, remove_every_entry_of_a_slot_then_advance)
{
    fxi_twheel w;
    fxi_twheel_entry e[3] = {{0}};
    fxi_twheel_init(&w, 0);
    for (int i = 0; i < 3; i++)
        fxi_twheel_insert(&w, &e[i], 100000);
    fxi_twheel_remove(&w, &e[1]); /* middle */
    fxi_twheel_remove(&w, &e[2]); /* tail */
    fxi_twheel_remove(&w, &e[0]); /* last one */
    cr_assert_eq(fxi_twheel_next_deadline(&w), UINT64_MAX);
    cr_assert_null(fxi_twheel_advance(&w, 200000));
}

/* Far deadlines cascade down through every level (and the overflow list)
 * without firing early; following next_deadline reaches each in few steps. */
Test(timer_wheel, far_future_cascades)
{
    const uint64_t start = 123456789;
    const uint64_t offs[] = {3 * HOUR_MS + 17, 2 * DAY_MS + 5, 40 * DAY_MS + 1,
                             900 * DAY_MS + 3, ((uint64_t) 1 << 44) + 11};
    enum { N = sizeof(offs) / sizeof(offs[0]) };
    fxi_twheel w;
    fxi_twheel_entry e[N];
    memset(e, 0, sizeof(e));
    fxi_twheel_init(&w, start);
    for (size_t i = 0; i < N; i++)
        fxi_twheel_insert(&w, &e[i], start + offs[i]);

    uint64_t now = start;
    size_t steps = 0;
    for (size_t i = 0; i < N; i++) {
        uint64_t d = start + offs[i];
        /* Hop through the cascade points up to the deadline. */
        for (;;) {
            uint64_t nd = fxi_twheel_next_deadline(&w);
            cr_assert_leq(nd, d);
            cr_assert_gt(nd, now, "next deadline %llu not after now %llu",
                         (unsigned long long) nd, (unsigned long long) now);
            steps++;
            cr_assert_lt(steps, 100 * N, "too many cascade points");
            if (nd == d)
                break;
            cr_assert_null(fxi_twheel_advance(&w, nd), "fired early at %llu",
                           (unsigned long long) nd);
            now = nd;
        }
        cr_assert_null(fxi_twheel_advance(&w, d - 1));
        fxi_twheel_entry *x = fxi_twheel_advance(&w, d);
        cr_assert_eq(x, &e[i]);
        cr_assert_null(x->next);
        now = d;
    }
    cr_assert_eq(fxi_twheel_count(&w), 0);
}

Test(timer_wheel, far_deadlines_stepping_to_just_before)
{
    fxi_twheel w;
    fxi_twheel_entry a = {0}, b = {0};
    fxi_twheel_init(&w, 0);
    fxi_twheel_insert(&w, &a, 5 * DAY_MS + 1234);
    fxi_twheel_insert(&w, &b, 5 * DAY_MS + 1235);
    /* Jump close, then walk the last milliseconds one at a time. */
    cr_assert_null(fxi_twheel_advance(&w, 5 * DAY_MS));
    for (uint64_t t = 5 * DAY_MS + 1; t < 5 * DAY_MS + 1234; t++)
        cr_assert_null(fxi_twheel_advance(&w, t));
    cr_assert_eq(fxi_twheel_advance(&w, 5 * DAY_MS + 1234), &a);
    cr_assert_eq(fxi_twheel_advance(&w, 5 * DAY_MS + 1235), &b);
}

/* A jump of minutes or years returns exactly the expired entries, in
 * deadline order, and leaves the rest. (A loop per elapsed millisecond
 * would hit the timeout.) */
Test(timer_wheel, big_jumps, .timeout = 20)
{
    enum { N = 2000 };
    fxi_twheel w;
    static fxi_twheel_entry e[N];
    fxi_twheel_init(&w, 42);
    srand(7);
    for (int i = 0; i < N; i++) {
        uint64_t off = (uint64_t) rand() % (20 * 60 * 1000); /* up to 20 min */
        fxi_twheel_insert(&w, &e[i], 42 + off + 1);
    }
    const uint64_t t1 = 42 + 10 * 60 * 1000;
    size_t expect = 0;
    for (int i = 0; i < N; i++)
        expect += e[i].deadline <= t1;
    fxi_twheel_entry *x = fxi_twheel_advance(&w, t1);
    size_t got = 0;
    uint64_t last = 0;
    for (; x; x = x->next) {
        cr_assert_leq(x->deadline, t1);
        cr_assert_geq(x->deadline, last);
        last = x->deadline;
        got++;
    }
    cr_assert_eq(got, expect);
    cr_assert_eq(fxi_twheel_count(&w), N - expect);
    for (int i = 0; i < N; i++)
        cr_assert_eq(fxi_twheel_contains(&e[i]), e[i].deadline > t1);

    /* Far beyond everything, including the wheel's 2^36 ms span. */
    x = fxi_twheel_advance(&w, (uint64_t) 1 << 50);
    cr_assert_eq(list_len(x), N - expect);
    cr_assert_eq(fxi_twheel_count(&w), 0);

    fxi_twheel_entry far = {0};
    fxi_twheel_insert(&w, &far, ((uint64_t) 1 << 58) + 5);
    cr_assert_null(fxi_twheel_advance(&w, ((uint64_t) 1 << 58) + 4));
    cr_assert_eq(fxi_twheel_advance(&w, UINT64_MAX), &far);

    fxi_twheel_entry last_ms = {0};
    fxi_twheel_insert(&w, &last_ms, UINT64_MAX);
    cr_assert_eq(fxi_twheel_advance(&w, UINT64_MAX), &last_ms);
    cr_assert_null(fxi_twheel_advance(&w, UINT64_MAX));
}

Test(timer_wheel, never_expiring_entry_stays_put)
{
    fxi_twheel w;
    fxi_twheel_entry inf = {0}, soon = {0};
    fxi_twheel_init(&w, 1);
    fxi_twheel_insert(&w, &inf, UINT64_MAX);
    fxi_twheel_insert(&w, &soon, 1000);
    cr_assert_leq(fxi_twheel_next_deadline(&w), 1000);
    cr_assert_eq(fxi_twheel_advance(&w, (uint64_t) 1 << 62), &soon);
    cr_assert(fxi_twheel_contains(&inf));
    cr_assert_gt(fxi_twheel_next_deadline(&w), (uint64_t) 1 << 62);
    fxi_twheel_remove(&w, &inf);
    cr_assert_eq(fxi_twheel_count(&w), 0);
}

/* ---- randomized against a brute-force reference --------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static uint64_t random_offset(void)
{
    switch (rnd_below(8)) {
    case 0:
        return rnd_below(4); /* now, or the next few ms */
    case 1:
        return rnd_below(64);
    case 2:
        return rnd_below(5000);
    case 3:
        return rnd_below(300000);
    case 4:
        return rnd_below(HOUR_MS);
    case 5:
        return rnd_below(30 * DAY_MS);
    case 6:
        return rnd_below((uint64_t) 1 << 40); /* past the wheel's span */
    default:
        return rnd_below(1000);
    }
}

static uint64_t random_step(void)
{
    switch (rnd_below(10)) {
    case 0:
        return 0;
    case 1:
    case 2:
    case 3:
        return 1 + rnd_below(3);
    case 4:
    case 5:
        return rnd_below(100);
    case 6:
        return rnd_below(10000);
    case 7:
        return rnd_below(HOUR_MS);
    case 8:
        return rnd_below(10 * DAY_MS);
    default:
        return rnd_below((uint64_t) 1 << 38);
    }
}

#define POOL 400

Test(timer_wheel, randomized_against_reference, .timeout = 60)
{
    static fxi_twheel w;
    static fxi_twheel_entry e[POOL];
    static bool in[POOL];        /* reference: inserted */
    static uint64_t dl[POOL];    /* reference: deadline */
    static unsigned fired[POOL]; /* times returned by the current advance */
    uint64_t now = 1000000;
    fxi_twheel_init(&w, now);

    for (int op = 0; op < 10000; op++) {
        uint64_t r = rnd_below(100);
        size_t i = (size_t) rnd_below(POOL);
        if (r < 45) {
            if (!in[i]) {
                uint64_t d;
                if (rnd_below(10) == 0)
                    d = now - rnd_below(1000); /* already due */
                else if (rnd_below(200) == 0)
                    d = UINT64_MAX;
                else
                    d = now + random_offset();
                fxi_twheel_insert(&w, &e[i], d);
                in[i] = true;
                dl[i] = d;
            }
        } else if (r < 65) {
            if (in[i]) {
                fxi_twheel_remove(&w, &e[i]);
                in[i] = false;
            }
        } else {
            uint64_t prev = now;
            uint64_t target =
                rnd_below(20) == 0 ? now - rnd_below(100) : now + random_step();
            if (target > now)
                now = target;
            memset(fired, 0, sizeof(fired));
            uint64_t last = 0;
            for (fxi_twheel_entry *x = fxi_twheel_advance(&w, target); x; x = x->next) {
                size_t k = (size_t) (x - e);
                cr_assert_lt(k, POOL);
                cr_assert(in[k], "op %d: entry %zu fired but not inserted", op, k);
                cr_assert_leq(x->deadline, now, "op %d: fired early", op);
                cr_assert_eq(x->deadline, dl[k]);
                if (x->deadline > prev) { /* past the already-due prefix */
                    cr_assert_geq(x->deadline, last, "op %d: out of order", op);
                    last = x->deadline;
                }
                fired[k]++;
            }
            for (size_t k = 0; k < POOL; k++) {
                bool should = in[k] && dl[k] <= now;
                cr_assert_eq(fired[k], should ? 1u : 0u,
                             "op %d: entry %zu (deadline %llu, now %llu) fired %u times",
                             op, k, (unsigned long long) dl[k], (unsigned long long) now,
                             fired[k]);
                if (should)
                    in[k] = false;
            }
        }

        size_t n = 0;
        uint64_t earliest = UINT64_MAX;
        for (size_t k = 0; k < POOL; k++) {
            cr_assert_eq(fxi_twheel_contains(&e[k]), in[k], "op %d: entry %zu", op, k);
            if (in[k]) {
                n++;
                if (dl[k] < earliest)
                    earliest = dl[k];
            }
        }
        cr_assert_eq(fxi_twheel_count(&w), n, "op %d", op);
        uint64_t nd = fxi_twheel_next_deadline(&w);
        if (n == 0)
            cr_assert_eq(nd, UINT64_MAX, "op %d", op);
        else
            cr_assert_leq(nd, earliest, "op %d: next %llu > earliest %llu", op,
                          (unsigned long long) nd, (unsigned long long) earliest);
    }
}
