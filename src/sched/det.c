/* The deterministic scheduler loop; see det.h. */
#include "sched/det.h"

#include <fauxtp/error.h>
#include <string.h>

#include "mem/alloc.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int fxi_det_init(fxi_pool *p, uint64_t seed)
{
    fxi_det *d = fxi_zalloc(sizeof *d);
    if (!d)
        return FX_ENOMEM;
    uint64_t x = seed;
    d->rng = splitmix64(&x);
    if (d->rng == 0) /* xorshift's one fixed point */
        d->rng = 0x2545F4914F6CDD1DULL;
    d->hash = 0xcbf29ce484222325ULL; /* FNV-1a offset basis */
    p->det = d;
    return 0;
}

void fxi_det_fini(fxi_pool *p)
{
    fxi_det *d = p->det;
    if (!d)
        return;
    fxi_free(d->runq, d->cap * sizeof *d->runq);
    fxi_free(d, sizeof *d);
    p->det = NULL;
}

static uint64_t next_rand(fxi_det *d)
{
    /* xorshift64*, as the scheduler's steal victims */
    uint64_t x = d->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void add(fxi_det *d, void *u)
{
    if (d->nrun == d->cap) {
        uint32_t ncap = d->cap ? d->cap * 2 : 64;
        void **n = fxi_alloc(ncap * sizeof *n);
        if (!n) {
            /* Keep it queued where it is; the next step takes it. */
            d->oom = true;
            return;
        }
        if (d->nrun)
            memcpy(n, d->runq, d->nrun * sizeof *n);
        fxi_free(d->runq, d->cap * sizeof *n);
        d->runq = n;
        d->cap = ncap;
    }
    d->runq[d->nrun++] = u;
}

/* Takes every queued unit (the next and held slots, the run queue, the
 * inject queue) into the candidate list, after the ones already there.
 * Out of memory, a unit that does not fit goes back to the run queue. */
static void gather(fxi_sched *s, fxi_det *d)
{
    void *u;
    d->oom = false;
    if (s->next) {
        u = s->next;
        s->next = NULL;
        add(d, u);
        if (d->oom)
            s->next = u;
    }
    if (s->held && !d->oom) {
        u = s->held;
        s->held = s->held_for = NULL;
        add(d, u);
        if (d->oom)
            s->held = u;
    }
    while (!d->oom && (u = fxi_deque_steal_mc(&s->dq)) != NULL) {
        add(d, u);
        if (d->oom)
            fxi_sched_push_owner(s, u);
    }
    while (!d->oom && (u = fxi_pool_inject_pop(s->pool)) != NULL) {
        add(d, u);
        if (d->oom)
            fxi_sched_push_owner(s, u);
    }
}

static void mix(fxi_det *d, uint64_t v)
{
    /* Relaxed: written by the driver only; readers want a snapshot. */
    uint64_t h = fxi_atomic_load_relaxed_64(&d->hash);
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ULL; /* FNV-1a prime */
    }
    fxi_atomic_store_relaxed_64(&d->hash, h);
}

void fxi_det_loop(fxi_sched *s)
{
    fxi_pool *p = s->pool;
    fxi_det *d = p->det;
    for (;;) {
        p->hooks.tick(s); /* due timers (manual clock), muting, reclamation */
        gather(s, d);
        if (d->nrun == 0) {
            /* Acquire: pairs with fxi_pool_set_poller's release cas. I/O
             * readiness is the one input the seed does not decide. */
            fxi_poller *io = fxi_atomic_load_acquire_ptr(&p->poller);
            if (io) {
                io->poll(io, s);
                gather(s, d);
            }
        }
        if (d->budget == 0 || d->nrun == 0)
            return;
        uint32_t i = (uint32_t) (next_rand(d) % d->nrun);
        mix(d, ((uint64_t) d->nrun << 32) | i);
        void *u = d->runq[i];
        memmove(&d->runq[i], &d->runq[i + 1], (d->nrun - i - 1) * sizeof *d->runq);
        d->nrun--;
        d->budget--;
        /* Relaxed: written by the driver only (fx_test_schedule reads). */
        fxi_atomic_store_relaxed_64(&d->steps, d->steps + 1);
        p->hooks.run(s, u);
    }
}
