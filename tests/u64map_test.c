/* The link/monitor table: an open-addressing map checked against a model. */
#include <criterion/criterion.h>

#include "ds/u64map.h"

Test(u64map, matches_a_model_under_random_operations)
{
    enum { KEYS = 3000 };
    static uint64_t model[KEYS]; /* 0 = absent, else value + 1 */
    fxi_u64map m = FXI_U64MAP_INIT;
    uint64_t seed = 42, count = 0;
    for (int step = 0; step < 200000; step++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t k = (seed >> 33) % KEYS, v = seed >> 40;
        uint64_t key = k * 0x100000001ull + 1; /* pid-like keys, never 0 */
        /* Phases: grow, churn, shrink. */
        int phase = step / 70000, op = (int) ((seed >> 20) % 4);
        bool insert = phase == 0 ? op != 0 : phase == 1 ? op < 2 : op == 0;
        if (insert) {
            int rc = fxi_u64map_put(&m, key, v);
            cr_assert_eq(rc, model[k] ? 0 : 1);
            count += model[k] ? 0 : 1;
            model[k] = v + 1;
        } else {
            uint64_t got = 0;
            bool had = fxi_u64map_del(&m, key, &got);
            cr_assert_eq(had, model[k] != 0);
            if (had) {
                cr_assert_eq(got, model[k] - 1);
                count--;
            }
            model[k] = 0;
        }
        cr_assert_eq(m.count, count);
        if (step % 997 == 0)
            for (uint64_t j = 0; j < KEYS; j++) {
                uint64_t val;
                bool has = fxi_u64map_get(&m, j * 0x100000001ull + 1, &val);
                cr_assert_eq(has, model[j] != 0);
                if (has)
                    cr_assert_eq(val, model[j] - 1);
            }
    }
    cr_assert(m.cap <= 1024 || m.count * 8 >= m.cap, "shrinks when mostly empty");
    fxi_u64map_fini(&m);
    cr_assert_eq(m.count, 0);
}

Test(u64map, reserve_makes_the_next_put_infallible)
{
    fxi_u64map m = FXI_U64MAP_INIT;
    cr_assert_eq(fxi_u64map_reserve(&m, 100), 0);
    uint32_t cap = m.cap;
    cr_assert_geq(cap * 3, 100 * 4);
    for (uint64_t k = 1; k <= 100; k++)
        cr_assert_eq(fxi_u64map_put(&m, k, k), 1);
    cr_assert_eq(m.cap, cap, "no growth within the reservation");
    fxi_u64map_fini(&m);
}

Test(u64map, add_inserts_only_absent_keys)
{
    fxi_u64map m = FXI_U64MAP_INIT;
    cr_assert_eq(fxi_u64map_add(&m, 7, 70), 1);
    cr_assert_eq(fxi_u64map_add(&m, 7, 71), 0, "present: unchanged");
    uint64_t v = 0;
    cr_assert(fxi_u64map_get(&m, 7, &v));
    cr_assert_eq(v, 70, "add keeps the first value (put would overwrite)");
    cr_assert_eq(m.count, 1);
    for (uint64_t k = 100; k < 200; k++) /* through a few resizes */
        cr_assert_eq(fxi_u64map_add(&m, k, k + 1), 1);
    for (uint64_t k = 100; k < 200; k++) {
        cr_assert(fxi_u64map_get(&m, k, &v));
        cr_assert_eq(v, k + 1);
    }
    cr_assert_eq(m.count, 101);
    fxi_u64map_fini(&m);
}

Test(u64map, find_then_del_found_matches_del)
{
    /* Colliding runs: removing through the found entry must keep every
     * other key reachable (the backward shift), as del does. */
    fxi_u64map a = FXI_U64MAP_INIT, b = FXI_U64MAP_INIT;
    for (uint64_t k = 1; k <= 40; k++) {
        cr_assert_eq(fxi_u64map_put(&a, k * 8, k), 1);
        cr_assert_eq(fxi_u64map_put(&b, k * 8, k), 1);
    }
    cr_assert_null(fxi_u64map_find(&a, 3));
    for (uint64_t k = 1; k <= 40; k += 3) {
        fxi_u64pair *e = fxi_u64map_find(&a, k * 8);
        cr_assert_not_null(e);
        cr_assert_eq(e->key, k * 8);
        cr_assert_eq(e->val, k);
        fxi_u64map_del_found(&a, e);
        cr_assert(fxi_u64map_del(&b, k * 8, NULL));
        cr_assert_null(fxi_u64map_find(&a, k * 8));
        cr_assert_eq(a.count, b.count);
        for (uint64_t j = 1; j <= 40; j++) {
            uint64_t va = 0, vb = 0;
            bool ha = fxi_u64map_get(&a, j * 8, &va), hb = fxi_u64map_get(&b, j * 8, &vb);
            cr_assert_eq(ha, hb);
            cr_assert_eq(va, vb);
        }
    }
    fxi_u64map_fini(&a);
    fxi_u64map_fini(&b);
}
