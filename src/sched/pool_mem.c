/* The scheduler pool's memory and threads' ends: setting the pool up,
 * joining a slot whose thread has left, and freeing it all (the run
 * queues, stealing and parking are sched.c's). */
#include "sched/sched.h"

#include <fauxtp/error.h>
#include <string.h>

#include "mem/alloc.h"
#include "platform/atomic.h"
#include "sched/det.h"
#include "sched/watchdog.h"

int fxi_pool_init(fxi_pool *p, uint32_t n, uint32_t nspare, const fxi_sched_hooks *hooks)
{
    memset(p, 0, sizeof *p);
    p->hooks = *hooks;
    p->n = n;
    p->nbase = n - nspare;
    p->sleeper_deadline_ns = UINT64_MAX;
    p->scheds = fxi_alloc_aligned(n * sizeof *p->scheds, FXI_CACHELINE);
    p->idle = fxi_zalloc(n * sizeof *p->idle);
    if (!p->scheds || !p->idle)
        goto fail;
    for (uint32_t i = 0; i < n; i++) {
        fxi_sched *s = &p->scheds[i];
        s->pool = p;
        s->id = i;
        s->rng = 0x9E3779B97F4A7C15ULL * (i + 1);
        s->spare = i >= p->nbase;
        /* A spare slot takes no hand-over until its thread is online. */
        s->xfer_closed = s->spare ? 1u : 0u; /* XFER_PARKED (sched.c) */
        fxi_mutex_init(&s->xfer_mx, FXI_RANK_XFER, "sched.xfer");
        if (fxi_deque_init(&s->dq, 256) != 0) {
            for (uint32_t j = 0; j < i; j++)
                fxi_deque_fini(&p->scheds[j].dq);
            goto fail;
        }
    }
    fxi_mutex_init(&p->inject_mx, FXI_RANK_INJECT, "sched.inject");
    fxi_mutex_init(&p->idle_mx, FXI_RANK_IDLE, "sched.idle");
    fxi_mc_depot_init(&p->depot);
    return 0;
fail:
    fxi_free_aligned(p->scheds, n * sizeof *p->scheds, FXI_CACHELINE);
    fxi_free(p->idle, n * sizeof *p->idle);
    return FX_ENOMEM;
}

bool fxi_pool_reap_slot(fxi_pool *p, uint32_t i)
{
    fxi_sched *s = &p->scheds[i];
    if (!s->started)
        return true;
    /* Acquire: pairs with thread_main's release store. */
    if (fxi_atomic_load_acquire_32(&s->wd_exited) == 0)
        return false;
    pthread_join(s->thread, NULL);
    s->started = false;
    if (s->spare) /* relaxed: a hint for steal_any (its queue went to inject) */
        fxi_atomic_fetch_add_relaxed_32(&p->spares_live, (uint32_t) -1);
    return true;
}

void fxi_pool_fini(fxi_pool *p)
{
    for (uint32_t i = 0; i < p->n; i++) {
        fxi_sched *s = &p->scheds[i];
        fxi_deque_fini(&s->dq);
        fxi_free(s->pin, s->pin_cap * sizeof *s->pin);
        fxi_free(s->xfer, s->xfer_cap * sizeof *s->xfer);
        fxi_mutex_fini(&s->xfer_mx);
    }
    fxi_free_aligned(p->scheds, p->n * sizeof *p->scheds, FXI_CACHELINE);
    fxi_free(p->idle, p->n * sizeof *p->idle);
    fxi_free(p->inject_ring, p->inject_cap * sizeof *p->inject_ring);
    fxi_mutex_fini(&p->inject_mx);
    fxi_mutex_fini(&p->idle_mx);
    fxi_mc_depot_fini(&p->depot);
    fxi_watchdog_free(p);
    fxi_det_fini(p);
}
