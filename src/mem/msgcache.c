/* Per-thread message block cache: the slow paths. See msgcache.h. */
#include "mem/msgcache.h"

#include <string.h>

#include "platform/atomic.h"

__thread fxi_mcache *fxi_mc_self __attribute__((tls_model("initial-exec")));

static uint32_t depot_limit(size_t bsize)
{
    uint32_t n = (uint32_t) (FXI_MC_DEPOT_BYTES / (FXI_MC_MAG * bsize));
    return n ? n : 1;
}

static void free_list(fxi_mc_block *p, size_t bsize)
{
    while (p) {
        fxi_mc_block *next = p->next;
        fxi_free(p, bsize);
        p = next;
    }
}

void fxi_mc_depot_init(fxi_mc_depot *d)
{
    memset(d, 0, sizeof *d);
    fxi_mutex_init(&d->mx, FXI_RANK_DEPOT, "msgcache.depot");
}

void fxi_mc_depot_fini(fxi_mc_depot *d)
{
    for (int i = 0; i < FXI_MC_CLASSES; i++) {
        size_t bsize = (size_t) (i + 2) * 16;
        fxi_mc_block *m = d->mags[i];
        while (m) {
            fxi_mc_block *next = m->mag_next;
            free_list(m, bsize);
            m = next;
        }
        d->mags[i] = NULL;
        d->nmags[i] = 0;
    }
    fxi_mutex_fini(&d->mx);
}

void fxi_mc_attach(fxi_mcache *c, fxi_mc_depot *d)
{
    memset(c, 0, sizeof *c);
    c->depot = d;
    fxi_mc_self = c;
}

void fxi_mc_detach(fxi_mcache *c)
{
    if (fxi_mc_self == c)
        fxi_mc_self = NULL;
    for (int i = 0; i < FXI_MC_CLASSES; i++) {
        size_t bsize = (size_t) (i + 2) * 16;
        free_list(c->bins[i].cur, bsize);
        free_list(c->bins[i].spare, bsize);
    }
    memset(c->bins, 0, sizeof c->bins);
}

void *fxi_mc_alloc_slow(fxi_mcache *c, fxi_mc_bin *b, size_t bsize)
{
    /* The loaded magazine is empty: load the spare, else a full one from
     * the depot, else fall back to the allocator. */
    fxi_mc_block *m = b->spare;
    if (m) {
        b->spare = NULL;
    } else {
        fxi_mc_depot *d = c->depot;
        int i = (int) (bsize / 16 - 2);
        /* Relaxed, unlocked peek: a stale answer only costs one allocator
         * call or one lock round trip; the magazines are handed over by
         * d->mx. */
        if (fxi_atomic_load_relaxed_32(&d->nmags[i]) == 0)
            return fxi_alloc(bsize);
        fxi_mutex_lock(&d->mx);
        m = d->mags[i];
        if (m) {
            d->mags[i] = m->mag_next;
            fxi_atomic_store_relaxed_32(&d->nmags[i], d->nmags[i] - 1); /* peek hint */
        }
        fxi_mutex_unlock(&d->mx);
        if (!m)
            return fxi_alloc(bsize);
    }
    b->cur = m->next;
    b->n = FXI_MC_MAG - 1;
    return m;
}

void fxi_mc_free_slow(fxi_mcache *c, fxi_mc_bin *b, fxi_mc_block *p, size_t bsize)
{
    /* The loaded magazine is full: it becomes the spare; a spare that was
     * already there goes to the depot (or back to the allocator when the
     * depot holds enough). */
    fxi_mc_block *full = b->spare;
    b->spare = b->cur;
    b->cur = p;
    p->next = NULL;
    b->n = 1;
    if (!full)
        return;
    fxi_mc_depot *d = c->depot;
    int i = (int) (bsize / 16 - 2);
    fxi_mutex_lock(&d->mx);
    if (d->nmags[i] < depot_limit(bsize)) {
        full->mag_next = d->mags[i];
        d->mags[i] = full;
        fxi_atomic_store_relaxed_32(&d->nmags[i], d->nmags[i] + 1); /* peek hint */
        full = NULL;
    }
    fxi_mutex_unlock(&d->mx);
    free_list(full, bsize);
}
