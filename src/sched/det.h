/* Deterministic mode of the scheduler pool (fx_vm_config.deterministic;
 * docs/testing.md): no thread of its own. A caller binds itself to the
 * pool's one slot and runs the scheduler hooks' thread_body, whose
 * fxi_sched_loop then runs fxi_det_loop: a bounded number of steps, each
 * taking every queued unit into a candidate list and running the one a
 * seeded PRNG picks. One driving thread at a time (`driving`), so the
 * choices depend on the seed and on what the test did, nothing else. */
#ifndef FXI_SCHED_DET_H
#define FXI_SCHED_DET_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"

typedef struct fxi_det {
    /* --- the driving thread only (one at a time: `driving`) --------- */
    uint64_t rng;    /* xorshift64* state, from the seed by splitmix64 */
    uint64_t budget; /* steps the current drive may still run */
    void **runq;     /* candidates, in the order they were gathered */
    uint32_t nrun, cap;
    bool oom; /* the candidate list could not grow: run the first */

    /* --- atomic ------------------------------------------------------- */
    uint32_t driving; /* 1 while a thread drives (cas acquire / store release) */
    uint64_t steps;   /* steps run; written by the driver, read by anyone */
    uint64_t hash;    /* FNV-1a over (candidates, pick) of every step */
    uint64_t now_ms;  /* the manual clock; written by the driver only */
} fxi_det;

/* Allocates p->det with the seed. 0 or FX_ENOMEM. */
int fxi_det_init(fxi_pool *p, uint64_t seed);
/* Frees p->det (NULL is fine). */
void fxi_det_fini(fxi_pool *p);

/* The loop fxi_sched_loop runs in a deterministic pool: fires due timers
 * (the tick hook), gathers the runnable units and runs one per step while
 * the budget lasts; returns when the budget is spent or nothing is
 * runnable. Re-entered after a crash unwound a step (the budget lives in
 * the record). Driving thread only. */
void fxi_det_loop(fxi_sched *s);

/* The manual clock (any thread). */
static inline uint64_t fxi_det_now_ms(const fxi_det *d)
{
    /* Relaxed: the clock is written by the one driving thread; a timer
     * armed from another thread reads some recent value, as it would
     * read a real clock. */
    return fxi_atomic_load_relaxed_64(&d->now_ms);
}

#endif
