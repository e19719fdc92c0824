/* The watchdog thread: stuck handler calls, slot hand-over, spare
 * threads. docs/watchdog.md argues why it is correct. */
#include "sched/watchdog.h"

#include <fauxtp/error.h>
#include <string.h>

#include "mem/alloc.h"
#include "platform/atomic.h"
#include "platform/fault.h"
#include "platform/membarrier.h"
#include "platform/park.h"

/* wd_claim values */
#define CLAIMING 1u
#define TAKEN 2u

/* The watchdog's futex word */
#define AWAKE 0u
#define DEEP 1u /* sleeping until a scheduler thread unparks */
#define STOP 2u

/* Samples per limit: a call is reported between limit and
 * limit * (1 + 1/SAMPLES) after it started. */
#define SAMPLES 4

typedef struct slot_view {
    uint64_t seq;      /* wd_seq at the last sample */
    uint64_t since;    /* when seq was first seen */
    uint64_t reported; /* the call last reported (its seq) */
    uint64_t claimed;  /* the call whose slots were last claimed */
} slot_view;

struct fxi_watchdog {
    /* --- immutable after init ------------------------------------------- */
    fxi_pool *p;
    uint64_t limit_ns, period_ns;
    uint32_t max_spares;
    bool membarrier; /* slot hand-over possible */
    bool trap;       /* trap_faults: the reports' user loggers are trapped */
    bool running;    /* thread started (start/stop caller) */
    pthread_t thread;
    /* --- watchdog thread only ---------------------------------------------- */
    slot_view *view; /* p->n entries */
    /* --- atomic ------------------------------------------------------------- */
    _Alignas(FXI_CACHELINE) uint32_t word; /* AWAKE, DEEP, STOP (futex) */
    uint64_t stat_stuck, stat_spares;      /* written by the watchdog only */
};

int fxi_watchdog_init(fxi_pool *p, uint64_t limit_ns, uint32_t max_spares, bool trap)
{
    fxi_watchdog *wd = fxi_alloc_aligned(sizeof *wd, FXI_CACHELINE);
    if (!wd)
        return FX_ENOMEM;
    memset(wd, 0, sizeof *wd);
    wd->view = fxi_zalloc(p->n * sizeof *wd->view);
    if (!wd->view) {
        fxi_free_aligned(wd, sizeof *wd, FXI_CACHELINE);
        return FX_ENOMEM;
    }
    wd->p = p;
    wd->limit_ns = limit_ns;
    wd->period_ns = limit_ns / SAMPLES ? limit_ns / SAMPLES : 1;
    wd->max_spares = max_spares;
    wd->trap = trap;
    wd->membarrier = fxi_membarrier_init();
    p->wd = wd;
    return 0;
}

void fxi_watchdog_free(fxi_pool *p)
{
    fxi_watchdog *wd = p->wd;
    if (!wd)
        return;
    fxi_free(wd->view, p->n * sizeof *wd->view);
    fxi_free_aligned(wd, sizeof *wd, FXI_CACHELINE);
    p->wd = NULL;
}

void fxi_watchdog_stats(fxi_pool *p, uint64_t *stuck, uint64_t *spares)
{
    fxi_watchdog *wd = p->wd;
    /* Relaxed: statistics. */
    *stuck = wd ? fxi_atomic_load_relaxed_64(&wd->stat_stuck) : 0;
    *spares = wd ? fxi_atomic_load_relaxed_64(&wd->stat_spares) : 0;
}

/* ---- the owner's side of the slot hand-over ------------------------------ */

static uint32_t wait_claim(fxi_sched *s)
{
    uint32_t c;
    /* Acquire: pairs with the watchdog's release of TAKEN (or of 0 when
     * it backs off): its writes to the slots are visible. The watchdog
     * holds CLAIMING for one membarrier and a few loads. */
    while ((c = fxi_atomic_load_acquire_32(&s->wd_claim)) == CLAIMING)
        fxi_cpu_relax();
    return c;
}

bool fxi_watchdog_owner_wake(fxi_sched *s, void *unit)
{
    if (wait_claim(s) != TAKEN)
        return false;
    /* The slots are the watchdog's hand-over; until the call returns,
     * what it wakes goes where thieves can take it. */
    fxi_sched_push_owner(s, unit);
    return true;
}

bool fxi_watchdog_owner_defer(fxi_sched *s)
{
    /* Backed off (0): the lists are ours; TAKEN: handed over. */
    return wait_claim(s) != TAKEN;
}

void fxi_sched_watch_settle(fxi_sched *s)
{
    if (wait_claim(s) == TAKEN)
        /* Release: the incident is over; the slots (emptied by the
         * watchdog, seen through wait_claim's acquire) are ours again. A
         * later claim is for a later call. */
        fxi_atomic_store_release_32(&s->wd_claim, 0);
}

/* ---- the watchdog's side -------------------------------------------------- */

/* Moves the next and held slots of s, stuck in call `seq`, to the inject
 * queue, and has the hand_over hook move the units the call holds back
 * (muted senders, deferred wake-ups). false: the owner was inside a wake
 * (try again at the next sample). The owner touches the slots and the
 * deferred wake-ups during a call only inside fxi_sched_wake_owner or
 * fxi_sched_defer_begin/end (wd_in_wake), the muted list only after the
 * call (wd_seq changes); both
 * publish with a relaxed/release store followed by a compiler barrier and
 * a load of wd_claim. Our store of CLAIMING, membarrier, and our loads of
 * wd_seq/wd_in_wake form the asymmetric Dekker pair: if we see the owner
 * still in the call and outside a wake, every later wake or leave of the
 * owner sees CLAIMING and waits for us. */
static bool claim_slots(fxi_watchdog *wd, fxi_sched *s, uint64_t seq)
{
    /* Relaxed cas: one claimer (this thread); membarrier orders it. */
    if (!wd->membarrier || !fxi_atomic_cas_relaxed_32(&s->wd_claim, 0, CLAIMING))
        return true; /* no hand-over possible (or already taken) */
    bool in_wake = false;
    /* Acquire (wd_in_wake): the owner's slot and list writes before it. */
    if (!fxi_membarrier() || fxi_sched_watch(s) != seq ||
        (in_wake = fxi_atomic_load_acquire_32(&s->wd_in_wake) != 0)) {
        /* Release: pairs with wait_claim's acquire (nothing changed). */
        fxi_atomic_store_release_32(&s->wd_claim, 0);
        return !in_wake; /* caught inside a wake: try again next sample */
    }
    /* What the call holds back in the layer above (muted senders,
     * deferred wake-ups) goes to the inject queue too. */
    if (wd->p->hooks.hand_over)
        wd->p->hooks.hand_over(s);
    /* And the units pinned to it or handed to it (gathered producers):
     * refused from now until the owner's next pick. */
    fxi_sched_xfer_hand_over(s);
    void *next = s->next, *held = s->held;
    s->next = NULL;
    s->held = NULL;
    s->held_for = NULL;
    s->held_runs = 0;
    /* Release: our slot writes before the owner's acquire in wait_claim. */
    fxi_atomic_store_release_32(&s->wd_claim, TAKEN);
    if (next)
        fxi_pool_inject(wd->p, next);
    if (held)
        fxi_pool_inject(wd->p, held);
    return true;
}

/* Starts or retires one spare per round: spares are wanted while fewer
 * than one thread is free, i.e. want = stuck - (nbase - 1). */
static void balance_spares(fxi_watchdog *wd, uint32_t stuck, const bool *is_stuck)
{
    fxi_pool *p = wd->p;
    uint32_t want = stuck >= p->nbase ? stuck - p->nbase + 1 : 0;
    if (want > wd->max_spares)
        want = wd->max_spares;
    uint32_t have = 0;
    for (uint32_t i = p->nbase; i < p->n; i++)
        if (p->scheds[i].started && !fxi_sched_retiring(&p->scheds[i]))
            have++;
    if (have < want) {
        for (uint32_t i = p->nbase; i < p->n; i++) {
            if (!p->scheds[i].started) {
                if (fxi_pool_start_slot(p, i) == 0) /* relaxed: statistic */
                    fxi_atomic_store_relaxed_64(&wd->stat_spares, wd->stat_spares + 1);
                return;
            }
        }
    } else if (have > want) {
        for (uint32_t i = p->n; i-- > p->nbase;) {
            fxi_sched *s = &p->scheds[i];
            if (s->started && !fxi_sched_retiring(s) && !is_stuck[i]) {
                /* Relaxed: the kick below releases it. */
                fxi_atomic_store_relaxed_32(&s->wd_retire, 1);
                fxi_pool_kick(s);
                return;
            }
        }
    }
}

static void sample(fxi_watchdog *wd, bool *is_stuck)
{
    fxi_pool *p = wd->p;
    uint64_t now = fxi_now_ns();
    uint32_t stuck = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        fxi_sched *s = &p->scheds[i];
        slot_view *v = &wd->view[i];
        is_stuck[i] = false;
        if (s->spare && !fxi_pool_reap_slot(p, i) && fxi_sched_retiring(s))
            continue; /* leaving */
        if (s->spare && !s->started)
            continue;
        uint64_t seq = fxi_sched_watch(s);
        if (!(seq & 1) || seq != v->seq) {
            v->seq = seq;
            v->since = now;
            continue;
        }
        if (now - v->since < wd->limit_ns)
            continue;
        is_stuck[i] = true;
        stuck++;
        if (v->reported != seq) {
            v->reported = seq;
            /* Relaxed: a statistic, written by this thread only. */
            fxi_atomic_store_relaxed_64(&wd->stat_stuck, wd->stat_stuck + 1);
            /* Relaxed: ordered by the acquire load of wd_seq above. */
            p->hooks.stuck(s, fxi_atomic_load_relaxed_ptr(&s->wd_unit), seq,
                           now - v->since, false);
        }
        if (v->claimed != seq && claim_slots(wd, s, seq))
            v->claimed = seq;
    }
    balance_spares(wd, stuck, is_stuck);
}

/* Sleeps one period, or until kicked if every active thread is parked
 * (then nothing can get stuck until one unparks, and an idle VM makes no
 * system calls). */
static void nap(fxi_watchdog *wd)
{
    fxi_pool *p = wd->p;
    /* Relaxed cas: the fence below orders it. */
    if (fxi_atomic_cas_relaxed_32(&wd->word, AWAKE, DEEP)) {
        /* Seq_cst fence, store-load: DEEP before the loads of the
         * counters; pairs with the fence in fxi_watchdog_kick (after the
         * unparking thread's nparked decrement). Either we see it awake or
         * it sees DEEP and wakes us. */
        fxi_atomic_fence_seq_cst();
        /* Relaxed: ordered by the fence. */
        if (fxi_atomic_load_relaxed_32(&p->nparked) >=
            fxi_atomic_load_relaxed_32(&p->nactive)) {
            fxi_futex_wait(&wd->word, DEEP, -1);
            for (uint32_t i = 0; i < p->n; i++)
                wd->view[i].seq = 0; /* time starts again */
        }
        fxi_atomic_cas_relaxed_32(&wd->word, DEEP, AWAKE); /* relaxed: ours */
    }
    /* Relaxed: a STOP set meanwhile ends the wait at once. */
    if (fxi_atomic_load_relaxed_32(&wd->word) == AWAKE)
        fxi_futex_wait(&wd->word, AWAKE, (int64_t) wd->period_ns);
}

void fxi_watchdog_kick(fxi_pool *p)
{
    fxi_watchdog *wd = p->wd;
    /* Seq_cst fence: pairs with nap's (our unpark before the load). */
    fxi_atomic_fence_seq_cst();
    /* Relaxed: ordered by the fence; the cas picks one waker. */
    if (fxi_atomic_load_relaxed_32(&wd->word) == DEEP &&
        fxi_atomic_cas_relaxed_32(&wd->word, DEEP, AWAKE))
        fxi_futex_wake(&wd->word, 1);
}

static void *watchdog_main(void *arg)
{
    fxi_watchdog *wd = arg;
    bool is_stuck[1024]; /* at most 1023 slots (fx_vm_create) */
    /* With trap_faults, as on the scheduler threads: a user crash logger
     * or log sink that faults while taking a stuck report is abandoned
     * (one line on stderr, actor/log.c) and the watchdog goes on. Every
     * call uses its own landing (fxi_fault_call): jb is never jumped to.
     * Without a signal stack (FX_ENOMEM) faults stay fatal, as before. */
    fxi_fault_site site;
    jmp_buf jb;
    bool trapping = wd->trap && fxi_fault_thread_enter(&site, &jb) == 0;
    /* Acquire: pairs with fxi_watchdog_stop's release of STOP. */
    while (fxi_atomic_load_acquire_32(&wd->word) != STOP) {
        sample(wd, is_stuck);
        nap(wd);
    }
    if (trapping)
        fxi_fault_thread_exit(&site);
    return NULL;
}

int fxi_watchdog_start(fxi_pool *p)
{
    fxi_watchdog *wd = p->wd;
    if (!wd)
        return 0;
    if (pthread_create(&wd->thread, NULL, watchdog_main, wd) != 0)
        return FX_ESYS;
    wd->running = true;
    return 0;
}

void fxi_watchdog_stop(fxi_pool *p)
{
    fxi_watchdog *wd = p->wd;
    if (!wd || !wd->running)
        return;
    /* Release: pairs with watchdog_main's acquire load. */
    fxi_atomic_store_release_32(&wd->word, STOP);
    fxi_futex_wake(&wd->word, 1);
    pthread_join(wd->thread, NULL);
    wd->running = false;
}

void fxi_watchdog_report_running(fxi_pool *p)
{
    fxi_watchdog *wd = p->wd;
    uint64_t now = fxi_now_ns();
    for (uint32_t i = 0; i < p->n; i++) {
        fxi_sched *s = &p->scheds[i];
        if (!s->started)
            continue;
        uint64_t seq = fxi_sched_watch(s);
        if (!(seq & 1))
            continue;
        uint64_t ran = wd && wd->view[i].seq == seq ? now - wd->view[i].since : 0;
        /* Relaxed: ordered by the acquire load of wd_seq. */
        p->hooks.stuck(s, fxi_atomic_load_relaxed_ptr(&s->wd_unit), seq, ran, true);
    }
}
