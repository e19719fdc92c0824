/* The process table: pid -> actor, with generations for stale pids.
 * Slots are reused only after a QSBR grace period (see actor/exit.c). */
#ifndef FXI_ACTOR_PTABLE_H
#define FXI_ACTOR_PTABLE_H

#include "actor/actor.h"
#include "platform/atomic.h"
#include "platform/mutex.h"

typedef struct fxi_slot {
    uint32_t gen;       /* atomic: current generation; bumped at death */
    uint32_t next_free; /* free-list link (index + 1), while free */
    /* atomic: the process, NULL while free; from its death to the end of
     * its grace period tagged with FXI_SLOT_DYING (so a walker that reads
     * the slot without a pid, fxi_ptable_walk_get, never dereferences a
     * process whose grace period may be over). */
    fxi_actor *actor;
} fxi_slot;

#define FXI_SLOT_DYING ((uintptr_t) 1)

/* Pid layout (docs/design.md, "Pids"; users treat pids as opaque):
 *
 *   63        48 47              24 23               0
 *   +-----------+------------------+------------------+
 *   |    tag    |    generation    |      index       |
 *   +-----------+------------------+------------------+
 *
 * tag: the VM the process lives in (remote nodes will take tags from the
 * same space), never 0, so FX_PID_NONE and every pid of another VM fail
 * the lookup's first compare. generation: the slot's, never 0. index: the
 * process-table slot. */
#define FXI_PID_TAG_BITS 16
#define FXI_PID_GEN_BITS 24
#define FXI_PID_INDEX_BITS 24
#define FXI_PID_GEN_SHIFT FXI_PID_INDEX_BITS
#define FXI_PID_TAG_SHIFT (FXI_PID_INDEX_BITS + FXI_PID_GEN_BITS)
#define FXI_PID_GEN_MASK ((1u << FXI_PID_GEN_BITS) - 1)
#define FXI_PID_INDEX_MASK ((1u << FXI_PID_INDEX_BITS) - 1)
/* Tags are 1..FXI_PID_TAG_COUNT. */
#define FXI_PID_TAG_COUNT ((1u << FXI_PID_TAG_BITS) - 1)

static inline uint32_t fxi_pid_tag(fx_pid p)
{
    return (uint32_t) (p.id >> FXI_PID_TAG_SHIFT);
}
static inline uint32_t fxi_pid_gen(fx_pid p)
{
    return (uint32_t) (p.id >> FXI_PID_GEN_SHIFT) & FXI_PID_GEN_MASK;
}
static inline uint32_t fxi_pid_index(fx_pid p)
{
    return (uint32_t) p.id & FXI_PID_INDEX_MASK;
}
static inline fx_pid fxi_pid_make(uint32_t tag, uint32_t gen, uint32_t idx)
{
    return (fx_pid){((uint64_t) tag << FXI_PID_TAG_SHIFT) |
                    ((uint64_t) gen << FXI_PID_GEN_SHIFT) | idx};
}

/* A fresh tag, 1..FXI_PID_TAG_COUNT, from one process-wide sequence that
 * wraps only after handing out every tag (so a tag is reused only after
 * FXI_PID_TAG_COUNT - 1 other VMs (or, later, remote nodes) were created).
 * Any thread. */
uint32_t fxi_pid_tag_alloc(void);

typedef struct fxi_ptable {
    fxi_slot *slots; /* cap entries, reserved (platform/vmem.h), touched lazily */
    /* cap = max + slack: slots that sit in thread caches or wait out their
     * grace period never count against max (see fxi_ptable_init). */
    uint32_t cap;
    uint32_t tag; /* this VM's pid tag (immutable), next to slots for lookups */
    uint32_t max; /* live processes allowed (max_processes) */
    uint64_t hwm; /* atomic: slots ever handed out */
    /* The live count in shares: each scheduler thread's live_share, and
     * this one, atomic, for threads outside the VM (inboxes, the final
     * teardown). Summed only when hwm has passed max (fxi_ptable_insert). */
    uint64_t live_ext;
    const fxi_worker *workers; /* the VM's, set once before any insert */
    uint32_t nworkers;
    /* Global free stack, for slots no thread cache holds. */
    fxi_mutex mx;
    uint32_t free_head, free_count;
} fxi_ptable;

/* A table for `max` live processes, with room besides for the slots that
 * `threads` scheduler threads may hold in their caches and for processes
 * in their grace period, and a fresh tag for its pids. FX_EINVAL when
 * that room exceeds the pid's index (fxi_ptable_max_processes). */
int fxi_ptable_init(fxi_ptable *pt, uint32_t max, uint32_t threads);
void fxi_ptable_fini(fxi_ptable *pt);
/* The largest `max` fxi_ptable_init accepts for `threads` threads. */
uint32_t fxi_ptable_max_processes(uint32_t threads);

/* Takes a free slot (from w's cache when w is not NULL) and installs a in
 * it, setting a->pid. FX_EFULL when `max` processes are live, or (rarely,
 * briefly) when every spare slot waits out a grace period. */
int fxi_ptable_insert(fxi_ptable *pt, fxi_worker *w, fxi_actor *a);
/* Makes a->pid stale at once (bumps the slot generation) and stops
 * counting a as live (in w's share, or the outside share when w is
 * NULL). The actor stays
 * reachable to senders that looked it up before, until its grace period. */
void fxi_ptable_kill(fxi_ptable *pt, fxi_worker *w, fxi_actor *a);
/* After the grace period: empties the slot and returns it to w's cache
 * (or the global stack when w is NULL). */
void fxi_ptable_release(fxi_ptable *pt, fxi_worker *w, uint32_t idx);

/* The live actor for pid, or NULL. The caller must be in a QSBR read
 * section (a scheduler thread between quiescent points, or inside
 * fxi_qsbr_ext_enter/exit) for the result to stay valid. Two loads of
 * the slot (the second an acquire): no atomic read-modify-write on the
 * send path. */
static inline fxi_actor *fxi_ptable_lookup(const fxi_ptable *pt, fx_pid pid)
{
    uint32_t idx = fxi_pid_index(pid), gen = fxi_pid_gen(pid);
    /* A pid of another VM (or FX_PID_NONE: no tag is 0) is not ours: one
     * compare with pt->tag, in the same 8 bytes as pt->cap, which the
     * lookup reads anyway (no extra load of another line). */
    if (fxi_pid_tag(pid) != pt->tag || idx >= pt->cap || gen == 0)
        return NULL;
    const fxi_slot *sl = &pt->slots[idx];
    /* Relaxed: the generation's order is elsewhere. It is bumped before
     * the QSBR stamp that covers the death (fxi_ptable_kill), a release
     * RMW whose value this thread acquire-loaded at its last quiescent
     * point (or coming online). So a match with the generation a death
     * replaced means that point saw a period not above the stamp: the slot
     * cannot be released before this thread's next quiescent point, whose
     * release store orders this section's loads before the reclaimer's
     * acquire scan (fxi_qsbr_min) and hence before the slot is emptied. */
    if (fxi_atomic_load_relaxed_32(&sl->gen) != gen)
        return NULL;
    /* Acquire: pairs with the release store in fxi_ptable_insert, so the
     * actor's initialisation is visible even to a sender that got the pid
     * by a path that orders nothing (a relaxed shared variable, a guess);
     * a pid that came in a message is ordered by the mailbox as well. */
    fxi_actor *a = fxi_atomic_load_acquire_ptr(&sl->actor);
    /* A sender that passed the generation check just before the death
     * may see the dying tag: it delivers into the dead mailbox, which is
     * emptied after the grace period (as before the tag existed). */
    return (fxi_actor *) ((uintptr_t) a & ~FXI_SLOT_DYING);
}

/* For walkers over the whole table (src/info): the process in slot idx,
 * whether it is alive (*dying false) or its exit has begun (*dying
 * true), or NULL for a free slot. The caller must be in a QSBR read
 * section; a process returned alive stays allocated until the section
 * ends (it was alive at the load, after the section began: its grace
 * period cannot end before). A dying one may be freed at any time: use
 * only its address (and nothing read through it). idx < hwm. */
static inline fxi_actor *fxi_ptable_walk_get(const fxi_ptable *pt, uint32_t idx,
                                             bool *dying)
{
    /* Acquire: pairs with the release store in fxi_ptable_insert (the
     * process's initialisation is visible). The tag is stored before the
     * QSBR stamp of the death (fxi_ptable_kill), whose release the
     * section's period load acquires: a process whose grace period can
     * end while we are in the section is seen tagged. */
    uintptr_t v = (uintptr_t) fxi_atomic_load_acquire_ptr(&pt->slots[idx].actor);
    *dying = (v & FXI_SLOT_DYING) != 0;
    return (fxi_actor *) (v & ~FXI_SLOT_DYING);
}

/* Whether pid names a process of this VM (its tag) that is no longer
 * alive: a remote or foreign pid is not known to be dead. In a QSBR read
 * section, as fxi_ptable_lookup. */
static inline bool fxi_ptable_gone(const fxi_ptable *pt, fx_pid pid)
{
    return fxi_pid_tag(pid) == pt->tag && fxi_ptable_lookup(pt, pid) == NULL;
}

#endif
