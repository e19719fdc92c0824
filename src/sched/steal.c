/* Work stealing: a thread out of local work steals the oldest half of a
 * random victim's queue (docs/design.md, "Scheduling"; docs/deque.md). */
#include "sched/sched.h"

#include "platform/atomic.h"
#include "platform/park.h"

/* Steal rounds over all victims before parking. */
#define SEARCH_ROUNDS 8

static uint64_t next_rand(fxi_sched *s)
{
    /* xorshift64* */
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Units one steal may take (the oldest half of the victim's queue, at
 * most this many). */
#define STEAL_MAX 32

/* Steals the oldest half of dq: runs the oldest, queues the rest here in
 * their order, so a thief facing a queue of many short runs (a fan-out's
 * receivers) pays one CAS on the victim's line, not one per unit. */
static void *steal_half(fxi_sched *s, fxi_deque *dq)
{
    void *got[STEAL_MAX];
    size_t n = fxi_deque_steal_half_mc(dq, got, STEAL_MAX);
    if (n == 0)
        return NULL;
    if (n > 1) {
        for (size_t i = 1; i < n; i++)
            if (fxi_deque_push_owner(&s->dq, got[i]) != 0)
                fxi_pool_inject(s->pool, got[i]); /* out of memory: queue globally */
        fxi_pool_notify(s->pool); /* as push_local: a parked thread may take some */
    }
    return got[0];
}

static void *steal_any(fxi_sched *s)
{
    fxi_pool *p = s->pool;
    /* Spare slots are probed only while one is live: an idle VM has
     * as many spare slots as threads (docs/watchdog.md), and probing their
     * empty deques would double the cost of every search. Relaxed: a
     * stale 0 only skips a started spare for this probe; the spare runs
     * its own queue, and a retiring one hands it to the inject queue. */
    uint32_t n = fxi_atomic_load_relaxed_32(&p->spares_live) ? p->n : p->nbase;
    uint32_t start = (uint32_t) (next_rand(s) % n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v = (start + i) % n;
        if (v == s->id)
            continue;
        void *u = steal_half(s, &p->scheds[v].dq);
        if (u) {
            /* Relaxed: a statistic, written by its owner only. */
            fxi_atomic_store_relaxed_64(&s->stat_steals, s->stat_steals + 1);
            return u;
        }
    }
    return fxi_pool_inject_pop(p);
}

void *fxi_sched_search(fxi_sched *s)
{
    fxi_pool *p = s->pool;
    if (!s->searching) {
        /* At most half the threads search at once (at least one). */
        /* Relaxed: a heuristic cap; the count carries no data. */
        if (2 * fxi_atomic_load_relaxed_32(&p->searching) >=
            fxi_atomic_load_relaxed_32(&p->nactive))
            return NULL;
        fxi_atomic_fetch_add_relaxed_32(&p->searching, 1);
        s->searching = true;
    }
    /* With a poller plugged in the spin adapts: a search whose spin found
     * work spins in full next time; one that found nothing halves the
     * next spin (down to one round, no spin). An I/O server's threads
     * mostly wait for the poller, not for each other: there each idle
     * moment spun about 10 us for nothing (docs/net.md, "The poller").
     * Without sockets the full spin stays: fork-join work (fjthrput) lost
     * about 10 % with the adaptive one. Acquire: pairs with
     * fxi_pool_set_poller's release cas (only its nullness is used). */
    uint32_t rounds = s->spin_rounds && fxi_atomic_load_acquire_ptr(&p->poller) != NULL
                          ? s->spin_rounds
                          : SEARCH_ROUNDS;
    for (uint32_t round = 0; round < rounds; round++) {
        void *u = steal_any(s);
        if (u) {
            if (round > 0)
                s->spin_rounds = SEARCH_ROUNDS;
            return u;
        }
        /* Spin only while another thread is awake to push work: with all
         * the others parked, new work comes from the poller, a timer or an
         * outside sender, which wake a thread anyway, and spinning only
         * burns the CPU (an I/O server's, docs/net.md). Relaxed: hints;
         * park() re-checks the queues under its own protocol. */
        if (fxi_atomic_load_relaxed_32(&p->nparked) + 1 >=
            fxi_atomic_load_relaxed_32(&p->nactive))
            break;
        for (int k = 0; k < 32; k++)
            fxi_cpu_relax();
    }
    s->spin_rounds = rounds > 2 ? rounds / 2 : 1;
    return NULL;
}
