/* Intrusive MPSC mailbox (Vyukov's non-blocking intrusive queue) whose
 * push also reports whether the owning actor was idle.
 *
 * `head` is the producers' end: a push is one atomic exchange on it. Its
 * low bit is the IDLE mark: the consumer sets it (by CAS, only when the
 * queue is truly empty) when the actor goes to sleep, and the first push
 * after that gets the marked pointer back from its exchange, so exactly one
 * producer learns it must schedule the actor. `tail` and `stub` belong to
 * the consumer. See docs/design.md ("Mailbox") for the argument. */
#ifndef FXI_DS_MAILBOX_H
#define FXI_DS_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/atomic.h"

typedef struct fxi_mnode {
    struct fxi_mnode *next;
} fxi_mnode;

typedef struct fxi_mailbox {
    fxi_mnode *head; /* atomic: producers exchange; low bit = IDLE */
    fxi_mnode *tail; /* consumer only */
    fxi_mnode stub;  /* consumer only (its next is written by producers) */
} fxi_mailbox;

#define FXI_MAILBOX_IDLE ((uintptr_t) 1)

static inline fxi_mnode *mailbox_untag(fxi_mnode *p)
{
    return (fxi_mnode *) ((uintptr_t) p & ~FXI_MAILBOX_IDLE);
}

/* Empty mailbox, marked idle (idle = true) or busy (the actor is about to
 * be scheduled by its creator). No concurrent users yet. */
static inline void fxi_mailbox_init(fxi_mailbox *mb, bool idle)
{
    mb->stub.next = NULL;
    mb->tail = &mb->stub;
    mb->head =
        idle ? (fxi_mnode *) ((uintptr_t) &mb->stub | FXI_MAILBOX_IDLE) : &mb->stub;
}

/* Appends the chain first..last, already linked through ->next by the
 * caller (a single node: first == last), as one unit: one exchange for
 * the whole chain. Returns true iff the mailbox was marked idle: the
 * caller then owns the duty to schedule the actor. Wait-free; any
 * thread. */
static inline bool fxi_mailbox_push_chain_mpsc(fxi_mailbox *mb, fxi_mnode *first,
                                               fxi_mnode *last)
{
    last->next = NULL; /* the chain is private until the exchange publishes it */
    /* Acq_rel. Release: orders the plain store to last->next above before
     * the exchange, so the producer whose exchange returns `last` (its
     * acquire) stores into last->next after it. Acquire: pairs with the
     * previous holder of head (that producer's release, or the consumer's
     * release cas in fxi_mailbox_try_idle_sc): prev->next = NULL happened
     * before our store to it, and when we see the IDLE mark, everything
     * the actor's last run wrote happens before we schedule it. Producers
     * are serialised by the exchange itself. */
    fxi_mnode *prev = fxi_atomic_exchange_acq_rel_ptr(&mb->head, last);
    bool was_idle = ((uintptr_t) prev & FXI_MAILBOX_IDLE) != 0;
    prev = mailbox_untag(prev);
    /* Release: orders the initialisation of the chain (payloads and inner
     * links) before the link that lets the consumer reach it; pairs with
     * the consumer's acquire loads of ->next in fxi_mailbox_pop_sc. */
    fxi_atomic_store_release_ptr(&prev->next, first);
    return was_idle;
}

/* Appends n; same contract as fxi_mailbox_push_chain_mpsc. */
static inline bool fxi_mailbox_push_mpsc(fxi_mailbox *mb, fxi_mnode *n)
{
    return fxi_mailbox_push_chain_mpsc(mb, n, n);
}

/* Takes the oldest node, or NULL when the mailbox is empty or a producer is
 * between its exchange and its link (the node will appear shortly). The
 * consumer (the thread running the actor) only. */
static inline fxi_mnode *fxi_mailbox_pop_sc(fxi_mailbox *mb)
{
    fxi_mnode *tail = mb->tail;
    /* Acquire: pairs with the producer's release store of ->next; once
     * we see the link, the node's contents are visible. */
    fxi_mnode *next = fxi_atomic_load_acquire_ptr(&tail->next);
    if (tail == &mb->stub) {
        if (next == NULL)
            return NULL;
        mb->tail = next;
        tail = next;
        next = fxi_atomic_load_acquire_ptr(&next->next); /* acquire: as above */
    }
    if (next != NULL) {
        mb->tail = next;
        return tail;
    }
    /* tail is the last linked node. If it is not also the head, a producer
     * has exchanged but not linked yet. */
    /* Relaxed: only the value is compared; nothing is read through it. */
    if (tail != mailbox_untag(fxi_atomic_load_relaxed_ptr(&mb->head)))
        return NULL;
    /* Re-insert the stub behind tail so tail can be handed out. */
    fxi_mailbox_push_mpsc(mb, &mb->stub);
    next = fxi_atomic_load_acquire_ptr(&tail->next); /* acquire: as above */
    if (next != NULL) {
        mb->tail = next;
        return tail;
    }
    return NULL;
}

/* Marks the mailbox idle if it is truly empty. Returns true on success (no
 * message can be pending: the next push reports was_idle and schedules the
 * actor); false if a message is present or in flight, in which case the
 * actor must stay runnable. Consumer only. */
static inline bool fxi_mailbox_try_idle_sc(fxi_mailbox *mb)
{
    /* Relaxed: a non-NULL link only means "not empty"; the message is
     * read later, after pop's acquire load of the same link. */
    if (mb->tail != &mb->stub || fxi_atomic_load_relaxed_ptr(&mb->stub.next) != NULL)
        return false;
    fxi_mnode *idle = (fxi_mnode *) ((uintptr_t) &mb->stub | FXI_MAILBOX_IDLE);
    /* Already idle (never woken since init or since the last success):
     * only the consumer sets the mark, so this read is exact. */
    if (fxi_atomic_load_relaxed_ptr(&mb->head) == idle) /* relaxed: our own store */
        return true;
    /* Succeeds only if no producer exchanged head since the stub became the
     * last node: both are RMWs on head, so a later exchange returns the
     * mark. Release: orders everything the actor's run wrote before the
     * mark; pairs with the acquire half of the exchange that returns it,
     * whose producer then schedules the actor on any thread. */
    return fxi_atomic_cas_release_ptr(&mb->head, &mb->stub, idle);
}

#endif
