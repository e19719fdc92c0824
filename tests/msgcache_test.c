/* The message block cache (mem/msgcache.h): magazines of block pointers
 * moving between two thread caches through one depot, checked against a
 * model of the live blocks. Two caches on one thread stand for a sender's
 * and a receiver's scheduler threads (the cache is per thread only by
 * way of fxi_mc_self). Under AddressSanitizer the cache is off and these
 * tests exercise the allocator fallback. */
#include <criterion/criterion.h>
#include <string.h>

#include "ds/u64map.h"
#include "mem/msgcache.h"

enum { LIVE_MAX = 4096 };

typedef struct {
    void *p[LIVE_MAX];
    size_t size[LIVE_MAX];
    uint32_t n;
    fxi_u64map set; /* the live blocks' addresses */
} live_blocks;

static void fill(void *p, size_t size)
{
    memset(p, (int) ((uintptr_t) p >> 4) & 0xff, size);
}

static void check(const void *p, size_t size)
{
    const unsigned char *b = p;
    unsigned char want = (unsigned char) (((uintptr_t) p >> 4) & 0xff);
    for (size_t k = 0; k < size; k++)
        cr_assert_eq(b[k], want, "block %p byte %zu overwritten while live", p, k);
}

/* Allocates on cache c; the block must not be live already. */
static void take(live_blocks *l, fxi_mcache *c, size_t size)
{
    fxi_mc_self = c;
    void *p = fxi_mc_alloc(size);
    cr_assert_not_null(p);
    cr_assert_eq(fxi_u64map_put(&l->set, (uint64_t) (uintptr_t) p, size), 1,
                 "block %p handed out twice", p);
    fill(p, size);
    l->p[l->n] = p;
    l->size[l->n++] = size;
}

/* Frees the live block i on cache c. */
static void give(live_blocks *l, fxi_mcache *c, uint32_t i)
{
    fxi_mc_self = c;
    check(l->p[i], l->size[i]);
    uint64_t got = 0;
    cr_assert(fxi_u64map_del(&l->set, (uint64_t) (uintptr_t) l->p[i], &got));
    fxi_mc_free(l->p[i], l->size[i]);
    l->p[i] = l->p[--l->n];
    l->size[i] = l->size[l->n];
}

static void drain(live_blocks *l, fxi_mcache *c)
{
    while (l->n)
        give(l, c, l->n - 1);
}

Test(msgcache, blocks_flow_from_the_freeing_cache_to_the_allocating_one)
{
    static live_blocks l;
    static fxi_mcache a, b;
    fxi_mc_depot d;
    fxi_mc_depot_init(&d);
    fxi_u64map set = FXI_U64MAP_INIT;
    l.set = set;
    fxi_mc_attach(&a, &d);
    fxi_mc_attach(&b, &d);
    /* A sender (a) allocates bursts of different sizes, a receiver (b)
     * frees them: magazines fill on b, go through the depot, empty on a,
     * and come back empty. */
    uint64_t seed = 7;
    for (int round = 0; round < 400; round++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t burst = 1 + (uint32_t) ((seed >> 33) % 700);
        for (uint32_t k = 0; k < burst && l.n < LIVE_MAX; k++)
            take(&l, &a, 32 + (size_t) ((seed >> (k % 40)) % 3) * 16);
        uint32_t keep = (uint32_t) ((seed >> 20) % 64);
        while (l.n > keep)
            give(&l, &b, (uint32_t) ((seed >> 7) % l.n));
    }
    /* Then the other way round, and frees on the allocating side. */
    for (int round = 0; round < 200; round++) {
        for (uint32_t k = 0; k < 300; k++)
            take(&l, round % 3 ? &b : &a, 48);
        while (l.n > 10)
            give(&l, round % 2 ? &a : &b, l.n - 1);
    }
    drain(&l, &a);
#if FXI_MC_ENABLED
    /* The depot's full magazines stay within its bound. */
    for (int i = 0; i < FXI_MC_CLASSES; i++)
        cr_assert_leq((size_t) d.nfull[i] * FXI_MC_MAG * (size_t) ((i + 2) * 16),
                      FXI_MC_DEPOT_BYTES + (size_t) FXI_MC_MAG * (size_t) ((i + 2) * 16));
    cr_assert_leq(d.nempty, FXI_MC_DEPOT_EMPTY);
#endif
    fxi_mc_detach(&a);
    fxi_mc_detach(&b);
    fxi_mc_depot_fini(&d);
    fxi_u64map_fini(&l.set);
}

Test(msgcache, a_recycled_block_comes_back_from_the_freeing_cache)
{
#if FXI_MC_ENABLED
    static fxi_mcache a, b;
    fxi_mc_depot d;
    fxi_mc_depot_init(&d);
    fxi_mc_attach(&a, &d);
    fxi_mc_attach(&b, &d);
    /* Three magazines' worth freed on b: one loaded, one previous, one in
     * the depot, which a then takes. */
    enum { N = 3 * FXI_MC_MAG };
    static void *p[N];
    fxi_mc_self = &a;
    for (int k = 0; k < N; k++)
        p[k] = fxi_mc_alloc(64);
    fxi_mc_self = &b;
    for (int k = 0; k < N; k++)
        fxi_mc_free(p[k], 64);
    cr_assert_eq(d.nfull[64 / 16 - 2], 1);
    fxi_mc_self = &a;
    void *q = fxi_mc_alloc(64);
    bool found = false;
    for (int k = 0; k < N; k++)
        found = found || p[k] == q;
    cr_assert(found, "the depot's magazine was not used");
    cr_assert_eq(d.nfull[64 / 16 - 2], 0);
    fxi_mc_free(q, 64);
    fxi_mc_detach(&a);
    fxi_mc_detach(&b);
    fxi_mc_depot_fini(&d);
#endif
}
