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

#include <ck_pr.h>
#include <stdbool.h>
#include <stdint.h>

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
    /* Full barrier on x86 (lock xchg): orders our writes to the chain
     * before last becomes reachable from head, and serialises producers. */
    fxi_mnode *prev = ck_pr_fas_ptr(&mb->head, last);
    bool was_idle = ((uintptr_t) prev & FXI_MAILBOX_IDLE) != 0;
    prev = mailbox_untag(prev);
    /* Orders the initialisation of the chain (payloads and inner links)
     * before the link that lets the consumer reach it; pairs with the
     * consumer's load of ->next in fxi_mailbox_pop_sc. */
    ck_pr_fence_store();
    ck_pr_store_ptr(&prev->next, first);
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
    /* Pairs with the producer's fence + store of ->next: once we see the
     * link, the node's contents are visible. */
    fxi_mnode *next = ck_pr_load_ptr(&tail->next);
    ck_pr_fence_load();
    if (tail == &mb->stub) {
        if (next == NULL)
            return NULL;
        mb->tail = next;
        tail = next;
        next = ck_pr_load_ptr(&next->next);
        ck_pr_fence_load();
    }
    if (next != NULL) {
        mb->tail = next;
        return tail;
    }
    /* tail is the last linked node. If it is not also the head, a producer
     * has exchanged but not linked yet. */
    if (tail != mailbox_untag(ck_pr_load_ptr(&mb->head)))
        return NULL;
    /* Re-insert the stub behind tail so tail can be handed out. */
    fxi_mailbox_push_mpsc(mb, &mb->stub);
    next = ck_pr_load_ptr(&tail->next);
    ck_pr_fence_load();
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
    if (mb->tail != &mb->stub || ck_pr_load_ptr(&mb->stub.next) != NULL)
        return false;
    fxi_mnode *idle = (fxi_mnode *) ((uintptr_t) &mb->stub | FXI_MAILBOX_IDLE);
    /* Already idle (never woken since init or since the last success):
     * only the consumer sets the mark, so this read is exact. */
    if (ck_pr_load_ptr(&mb->head) == idle)
        return true;
    /* Succeeds only if no producer exchanged head since the stub became the
     * last node; a later exchange then observes the mark (full barrier). */
    return ck_pr_cas_ptr(&mb->head, &mb->stub, idle);
}

#endif
