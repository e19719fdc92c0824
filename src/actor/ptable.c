/* The process table. */
#include "actor/ptable.h"

#include <fauxtp/error.h>

#include "platform/vmem.h"

/* Slots moved between a thread's cache and the global stack at once. */
#define CACHE_BATCH 256u
#define CACHE_MAX (4 * CACHE_BATCH)
/* Spare slots for processes that exited but wait out their grace period.
 * Normally a few ticks' worth, but a scheduler thread the OS deschedules
 * stalls every grace period meanwhile, and a churning process can retire
 * thousands of slots per millisecond. Address space only (16 MiB): pages
 * are touched only if that many slots are ever in use at once. */
#define LIMBO_SLACK (1u << 20)
/* Slots a pid can name. */
#define INDEX_LIMIT ((uint64_t) 1 << FXI_PID_INDEX_BITS)

/* Tags handed out in this process so far (64 bits: never wraps itself). */
static uint64_t tags_issued;

uint32_t fxi_pid_tag_alloc(void)
{
    /* A counter only: it orders nothing. The tag reaches other threads in
     * the VM record, which fx_vm_create's caller publishes. */
    uint64_t n = fxi_atomic_fetch_add_relaxed_64(&tags_issued, 1);
    return 1 + (uint32_t) (n % FXI_PID_TAG_COUNT);
}

uint32_t fxi_ptable_max_processes(uint32_t threads)
{
    uint64_t slack = (uint64_t) threads * CACHE_MAX + LIMBO_SLACK;
    return slack >= INDEX_LIMIT ? 0 : (uint32_t) (INDEX_LIMIT - slack);
}

int fxi_ptable_init(fxi_ptable *pt, uint32_t max, uint32_t threads)
{
    /* The limit is on live processes. A thread cache never holds more than
     * CACHE_MAX slots (refills come only when it is empty, spills keep it
     * at CACHE_MAX), so with this slack every slot beyond the live ones
     * that no thread can reach is in a grace period. Every slot must be
     * nameable by a pid's index. */
    if (max > fxi_ptable_max_processes(threads))
        return FX_EINVAL;
    uint32_t cap = max + threads * CACHE_MAX + LIMBO_SLACK;
    /* Reserve the whole table; pages are touched (and cost memory) only as
     * slots are first used. */
    void *p = fxi_vmem_reserve((size_t) cap * sizeof(fxi_slot));
    if (!p)
        return FX_ENOMEM;
    pt->slots = p;
    pt->cap = cap;
    pt->tag = fxi_pid_tag_alloc();
    pt->max = max;
    pt->hwm = 0;
    pt->live_ext = 0;
    pt->workers = NULL;
    pt->nworkers = 0;
    pt->free_head = 0;
    pt->free_count = 0;
    fxi_mutex_init(&pt->mx, FXI_RANK_PTABLE, "ptable");
    return 0;
}

void fxi_ptable_fini(fxi_ptable *pt)
{
    fxi_vmem_release(pt->slots, (size_t) pt->cap * sizeof(fxi_slot));
    fxi_mutex_fini(&pt->mx);
}

/* Pushes idx on a free stack (thread cache or global). */
static void push_free(fxi_ptable *pt, uint32_t *head, uint32_t idx)
{
    pt->slots[idx].next_free = *head;
    *head = idx + 1;
}

static uint32_t pop_free(fxi_ptable *pt, uint32_t *head)
{
    uint32_t idx = *head - 1;
    *head = pt->slots[idx].next_free;
    return idx;
}

/* Fresh slots, never used: reserve up to want of them. Returns the first
 * index and sets *got; *got == 0 when the table is exhausted. */
static uint32_t take_fresh(fxi_ptable *pt, uint32_t want, uint32_t *got)
{
    /* Relaxed: a reservation only; the slots are initialised by the
     * reserving thread before any pid naming them exists. */
    uint64_t base = fxi_atomic_fetch_add_relaxed_64(&pt->hwm, want);
    if (base >= pt->cap) {
        *got = 0;
        return 0;
    }
    uint64_t end = base + want > pt->cap ? pt->cap : base + want;
    *got = (uint32_t) (end - base);
    for (uint64_t i = base; i < end; i++)
        /* Relaxed: read by lookups of forged pids, which get nothing
         * from it but a mismatch or a NULL actor. */
        fxi_atomic_store_relaxed_32(&pt->slots[i].gen, 1);
    return (uint32_t) base;
}

static int take_slot(fxi_ptable *pt, fxi_worker *w, uint32_t *out)
{
    if (w && w->free_count) {
        w->free_count--;
        *out = pop_free(pt, &w->free_head);
        return 0;
    }
    fxi_mutex_lock(&pt->mx);
    if (pt->free_count) {
        if (!w) {
            pt->free_count--;
            *out = pop_free(pt, &pt->free_head);
            fxi_mutex_unlock(&pt->mx);
            return 0;
        }
        for (uint32_t k = 0; k < CACHE_BATCH && pt->free_count; k++) {
            pt->free_count--;
            push_free(pt, &w->free_head, pop_free(pt, &pt->free_head));
            w->free_count++;
        }
        fxi_mutex_unlock(&pt->mx);
        w->free_count--;
        *out = pop_free(pt, &w->free_head);
        return 0;
    }
    fxi_mutex_unlock(&pt->mx);
    uint32_t got;
    uint32_t base = take_fresh(pt, w ? 64 : 1, &got);
    if (got == 0)
        return FX_EFULL;
    for (uint32_t i = 1; i < got; i++) {
        push_free(pt, &w->free_head, base + i);
        w->free_count++;
    }
    *out = base;
    return 0;
}

/* Adds d to the calling thread's share of the live count. */
static void live_add(fxi_ptable *pt, fxi_worker *w, uint64_t d)
{
    if (w)
        /* Relaxed, one writer: read by counting spawners after their
         * seq_cst fence (count_live). A kill's decrement reaches a spawner
         * that learnt of the exit from a message through that message's
         * release/acquire. */
        fxi_atomic_store_relaxed_64(&w->live_share, w->live_share + d);
    else
        /* Relaxed: as above, for every thread outside the VM at once. */
        fxi_atomic_fetch_add_relaxed_64(&pt->live_ext, d);
}

/* The live processes, own insert included: the sum of the shares. */
static uint64_t count_live(const fxi_ptable *pt)
{
    /* Seq_cst fence: between our share's increment (live_add) and the
     * loads of the others'. Two spawners racing for the last place each
     * increment, fence, then count: one of them sees both increments, so
     * the limit cannot be passed (store-buffering, the Dekker pattern). */
    fxi_atomic_fence_seq_cst();
    uint64_t n = fxi_atomic_load_relaxed_64(&pt->live_ext); /* relaxed: after the fence */
    for (uint32_t i = 0; i < pt->nworkers; i++)
        n += fxi_atomic_load_relaxed_64(&pt->workers[i].live_share); /* as above */
    return n;
}

/* Puts back a slot taken but never used (no pid named it): no grace
 * period needed. */
static void untake_slot(fxi_ptable *pt, fxi_worker *w, uint32_t idx)
{
    if (w) {
        push_free(pt, &w->free_head, idx);
        w->free_count++;
        return;
    }
    fxi_mutex_lock(&pt->mx);
    push_free(pt, &pt->free_head, idx);
    pt->free_count++;
    fxi_mutex_unlock(&pt->mx);
}

int fxi_ptable_insert(fxi_ptable *pt, fxi_worker *w, fxi_actor *a)
{
    uint32_t idx;
    int rc = take_slot(pt, w, &idx);
    if (rc != 0)
        return rc;
    live_add(pt, w, 1);
    /* The limit is on live processes. Every live process holds a slot
     * handed out at some point, so while no more than max slots were
     * ever handed out the limit cannot be passed and nothing is counted:
     * the spawn path stays free of shared writes. Past that, the shares
     * are summed. Relaxed: hwm only grows, and a stale value is lower. */
    if (fxi_atomic_load_relaxed_64(&pt->hwm) > pt->max && count_live(pt) > pt->max) {
        live_add(pt, w, UINT64_MAX); /* -1 */
        untake_slot(pt, w, idx);
        return FX_EFULL;
    }
    fxi_slot *sl = &pt->slots[idx];
    a->pid = fxi_pid_make(pt->tag, sl->gen, idx);
    /* Release: publishes the initialised actor to lookups; pairs with the
     * acquire load in fxi_ptable_lookup (a pid need not travel in a
     * message: users may pass pids by any means). */
    fxi_atomic_store_release_ptr(&sl->actor, a);
    return 0;
}

void fxi_ptable_kill(fxi_ptable *pt, fxi_worker *w, fxi_actor *a)
{
    fxi_slot *sl = &pt->slots[fxi_pid_index(a->pid)];
    /* Generations wrap within FXI_PID_GEN_BITS, skipping 0. */
    uint32_t gen = (sl->gen + 1) & FXI_PID_GEN_MASK;
    if (gen == 0)
        gen = 1;
    /* Relaxed: from here on lookups of a->pid fail. The store is ordered
     * before the QSBR stamp that covers this death by the stamp's release
     * (fxi_qsbr_stamp, same thread, later), which pairs with the acquire
     * load of the period at readers' quiescent points: a reader that saw
     * a newer period sees the new generation (see fxi_ptable_lookup). */
    fxi_atomic_store_relaxed_32(&sl->gen, gen);
    /* Relaxed: ordered before the stamp as the generation is (walkers,
     * fxi_ptable_walk_get). */
    fxi_atomic_store_relaxed_ptr(&sl->actor, (void *) ((uintptr_t) a | FXI_SLOT_DYING));
    /* The slot itself stays taken until fxi_ptable_release. */
    live_add(pt, w, UINT64_MAX); /* -1 */
}

void fxi_ptable_release(fxi_ptable *pt, fxi_worker *w, uint32_t idx)
{
    /* Grace period over: nobody can hold a reference from a lookup.
     * Relaxed: the grace period (fxi_qsbr_min's acquire scan) ordered every
     * lookup that could see the old actor before this store. */
    fxi_atomic_store_relaxed_ptr(&pt->slots[idx].actor, NULL);
    if (!w) {
        fxi_mutex_lock(&pt->mx);
        push_free(pt, &pt->free_head, idx);
        pt->free_count++;
        fxi_mutex_unlock(&pt->mx);
        return;
    }
    push_free(pt, &w->free_head, idx);
    if (++w->free_count > CACHE_MAX) {
        fxi_mutex_lock(&pt->mx);
        for (uint32_t k = 0; k < CACHE_BATCH; k++) {
            push_free(pt, &pt->free_head, pop_free(pt, &w->free_head));
            pt->free_count++;
        }
        fxi_mutex_unlock(&pt->mx);
        w->free_count -= CACHE_BATCH;
    }
}
