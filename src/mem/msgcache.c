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

static size_t class_size(int i)
{
    return (size_t) (i + 2) * 16;
}

/* Frees a magazine's n blocks and the magazine itself. */
static void free_mag(fxi_mc_mag *m, uint32_t n, size_t bsize)
{
    if (!m)
        return;
    for (uint32_t k = 0; k < n; k++)
        fxi_free(m->blk[k], bsize);
    fxi_free(m, sizeof *m);
}

void fxi_mc_depot_init(fxi_mc_depot *d)
{
    memset(d, 0, sizeof *d);
    fxi_mutex_init(&d->mx, FXI_RANK_DEPOT, "msgcache.depot");
}

void fxi_mc_depot_fini(fxi_mc_depot *d)
{
    for (int i = 0; i < FXI_MC_CLASSES; i++) {
        fxi_mc_mag *m = d->full[i];
        while (m) {
            fxi_mc_mag *next = m->next;
            free_mag(m, m->n, class_size(i));
            m = next;
        }
        d->full[i] = NULL;
        d->nfull[i] = 0;
    }
    while (d->empty) {
        fxi_mc_mag *next = d->empty->next;
        fxi_free(d->empty, sizeof *d->empty);
        d->empty = next;
    }
    d->nempty = 0;
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
        fxi_mc_bin *b = &c->bins[i];
        free_mag(b->cur, b->n, class_size(i));
        if (b->prev)
            free_mag(b->prev, b->prev->n, class_size(i));
    }
    memset(c->bins, 0, sizeof c->bins);
}

/* Under d->mx: keeps the empty magazine e, or returns it to be freed. */
static fxi_mc_mag *depot_put_empty_locked(fxi_mc_depot *d, fxi_mc_mag *e)
{
    if (d->nempty >= FXI_MC_DEPOT_EMPTY)
        return e;
    e->next = d->empty;
    d->empty = e;
    d->nempty++;
    return NULL;
}

void *fxi_mc_alloc_slow(fxi_mcache *c, fxi_mc_bin *b, size_t bsize)
{
    /* The loaded magazine is empty (or none is loaded). A full previous
     * one is swapped in. */
    fxi_mc_mag *e = b->cur;
    if (b->prev && b->prev->n == FXI_MC_MAG) {
        b->cur = b->prev;
        b->n = FXI_MC_MAG;
        b->cap = FXI_MC_MAG;
        if (e)
            e->n = 0;
        b->prev = e;
        return b->cur->blk[--b->n];
    }
    /* Else a full one from the depot, else the allocator. */
    fxi_mc_depot *d = c->depot;
    int i = (int) (bsize / 16 - 2);
    /* Relaxed, unlocked peek: a stale answer only costs one allocator
     * call or one lock round trip; the magazines are handed over by
     * d->mx. */
    if (fxi_atomic_load_relaxed_32(&d->nfull[i]) == 0)
        return fxi_alloc(bsize);
    fxi_mc_mag *drop = NULL;
    fxi_mutex_lock(&d->mx);
    fxi_mc_mag *m = d->full[i];
    if (m) {
        d->full[i] = m->next;
        fxi_atomic_store_relaxed_32(&d->nfull[i], d->nfull[i] - 1); /* peek hint */
        /* The empty loaded one becomes the previous one, or (one is
         * already there, empty) goes to the depot. */
        if (e) {
            e->n = 0;
            if (!b->prev)
                b->prev = e;
            else
                drop = depot_put_empty_locked(d, e);
        }
    }
    fxi_mutex_unlock(&d->mx);
    if (!m)
        return fxi_alloc(bsize);
    if (drop)
        fxi_free(drop, sizeof *drop);
    b->cur = m;
    b->n = m->n;
    b->cap = FXI_MC_MAG;
    return m->blk[--b->n];
}

void fxi_mc_free_slow(fxi_mcache *c, fxi_mc_bin *b, void *p, size_t bsize)
{
    /* The loaded magazine is full (or none is loaded). An empty previous
     * one is swapped in. */
    fxi_mc_mag *f = b->cur;
    if (f)
        f->n = b->n;
    if (b->prev && b->prev->n == 0) {
        b->cur = b->prev;
        b->prev = f;
        b->n = 0;
        b->cap = FXI_MC_MAG;
        b->cur->blk[b->n++] = p;
        return;
    }
    /* The previous one is full (or there is none): it goes to the depot,
     * the loaded one takes its place, and an empty one is loaded. */
    fxi_mc_mag *full = NULL;
    if (f) {
        full = b->prev;
        b->prev = f;
    }
    fxi_mc_depot *d = c->depot;
    int i = (int) (bsize / 16 - 2);
    fxi_mutex_lock(&d->mx);
    if (full && d->nfull[i] < depot_limit(bsize)) {
        full->next = d->full[i];
        d->full[i] = full;
        fxi_atomic_store_relaxed_32(&d->nfull[i], d->nfull[i] + 1); /* peek hint */
        full = NULL;
    }
    fxi_mc_mag *e = d->empty;
    if (e) {
        d->empty = e->next;
        d->nempty--;
    }
    fxi_mutex_unlock(&d->mx);
    if (full) { /* the depot holds enough: its blocks go to the allocator */
        for (uint32_t k = 0; k < full->n; k++)
            fxi_free(full->blk[k], bsize);
        if (!e)
            e = full; /* reused as the empty one */
        else
            fxi_free(full, sizeof *full);
    }
    if (!e) /* unhooked: a free must not take a test's injected failure */
        e = fxi_alloc_unhooked(sizeof *e);
    if (!e) { /* out of memory: no magazine loaded; the block goes back */
        b->cur = NULL;
        b->n = b->cap = 0;
        fxi_free(p, bsize);
        return;
    }
    e->n = 0;
    b->cur = e;
    b->n = 0;
    b->cap = FXI_MC_MAG;
    b->cur->blk[b->n++] = p;
}
