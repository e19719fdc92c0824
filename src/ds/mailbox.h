/* Intrusive MPSC mailbox (Vyukov's non-blocking intrusive queue) whose
 * push also reports whether the owning actor was idle.
 *
 * `head` is the producers' end: a push is one atomic exchange on it. Its
 * low bit is the IDLE mark: the consumer sets it (by CAS, only when the
 * queue is truly empty) when the actor goes to sleep, and the first push
 * after that gets the marked pointer back from its exchange, so exactly one
 * producer learns it must schedule the actor. `tail` and `stub` belong to
 * the consumer. See docs/design.md ("Mailbox") for the argument.
 *
 * The queue length is `pushed - popped` (docs/overload.md, "How the length
 * is counted"), 0 while the mailbox is marked idle. A push adds its
 * chain's length to `pushed`, except for the message that wakes an idle
 * mailbox: the push that gets the IDLE mark back leaves its first message
 * uncounted. The consumer counted it in advance: going idle, it takes one
 * from `popped` (before the mark, while it still owns the mailbox), and it
 * adds one to `popped` per message it takes. A message sent to a sleeping
 * process (ping-pong, a ring, a call to an idle server: the hot path)
 * therefore costs no atomic beyond the exchange, and the consumer's stores
 * go to a line its pops write anyway; a message sent to a busy one costs
 * one relaxed add on the line the exchange has just taken. An exact
 * mailbox (a process with a limit) counts every message, before the
 * exchange, and is not counted in advance. */
#ifndef FXI_DS_MAILBOX_H
#define FXI_DS_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/atomic.h"

typedef struct fxi_mnode {
    struct fxi_mnode *next;
} fxi_mnode;

/* 32 bytes: head, tail, the stub and the counts share the line every push
 * and every pop already writes. */
typedef struct fxi_mailbox {
    fxi_mnode *head; /* atomic: producers exchange; low bit = IDLE */
    fxi_mnode *tail; /* consumer only */
    fxi_mnode stub;  /* consumer only (its next is written by producers) */
    uint32_t pushed; /* atomic: producers add; read by anyone */
    uint32_t popped; /* written by the consumer only; read by anyone */
} fxi_mailbox;

#define FXI_MAILBOX_IDLE ((uintptr_t) 1)

static inline fxi_mnode *mailbox_untag(fxi_mnode *p)
{
    return (fxi_mnode *) ((uintptr_t) p & ~FXI_MAILBOX_IDLE);
}

/* Empty mailbox, marked idle (idle = true) or busy (the actor is about to
 * be scheduled by its creator). An idle one has its waking message
 * counted in advance (see above); fxi_mailbox_set_exact undoes that. No
 * concurrent users yet. */
static inline void fxi_mailbox_init(fxi_mailbox *mb, bool idle)
{
    mb->stub.next = NULL;
    mb->tail = &mb->stub;
    mb->pushed = 0;
    mb->popped = idle ? UINT32_MAX : 0;
    mb->head =
        idle ? (fxi_mnode *) ((uintptr_t) &mb->stub | FXI_MAILBOX_IDLE) : &mb->stub;
}

/* Makes a mailbox exact (every push counted) before it is published. */
static inline void fxi_mailbox_set_exact(fxi_mailbox *mb)
{
    mb->popped = 0;
}

/* The exchange of a push: returns the previous head (with its IDLE bit).
 * last->next must be NULL already. */
static inline fxi_mnode *mailbox_exchange(fxi_mailbox *mb, fxi_mnode *last)
{
    /* Acq_rel. Release: orders the plain store to last->next (NULL) before
     * the exchange, so the producer whose exchange returns `last` (its
     * acquire) stores into last->next after it. Acquire: pairs with the
     * previous holder of head (that producer's release, or the consumer's
     * release cas in fxi_mailbox_try_idle_sc): prev->next = NULL happened
     * before our store to it, and when we see the IDLE mark, everything
     * the actor's last run wrote happens before we schedule it. Producers
     * are serialised by the exchange itself. */
    return fxi_atomic_exchange_acq_rel_ptr(&mb->head, last);
}

/* The link of a push: makes the chain starting at `first` reachable from
 * prev (untagged). */
static inline void mailbox_link(fxi_mnode *prev, fxi_mnode *first)
{
    /* Release: orders the initialisation of the chain (payloads and inner
     * links) and the count's add before the link that lets the consumer
     * reach it; pairs with the consumer's acquire loads of ->next in
     * fxi_mailbox_pop_sc. */
    fxi_atomic_store_release_ptr(&prev->next, first);
}

/* Appends the chain first..last of n nodes, already linked through ->next
 * by the caller (a single node: first == last, n == 1), as one unit: one
 * exchange for the whole chain. exact: count every message, before the
 * exchange (a mailbox with a limit; the same for every push to it).
 * Returns true iff the mailbox was marked idle: the caller then owns the
 * duty to schedule the actor. *len_out receives the queue length just
 * after the push (pops that overlap the push may be missed). Wait-free;
 * any thread. */
static inline bool fxi_mailbox_push_chain_mpsc(fxi_mailbox *mb, fxi_mnode *first,
                                               fxi_mnode *last, uint32_t n, bool exact,
                                               uint32_t *len_out)
{
    last->next = NULL; /* the chain is private until the exchange publishes it */
    uint32_t pushed;
    if (__builtin_expect(exact, 0)) {
        /* Relaxed: the link's release below orders it before the
         * consumer's pops of these messages (and so before its popped
         * store, see fxi_mailbox_len). */
        pushed = fxi_atomic_fetch_add_relaxed_32(&mb->pushed, n) + n;
        fxi_mnode *prev = mailbox_exchange(mb, last);
        mailbox_link(mailbox_untag(prev), first);
        *len_out =
            pushed - fxi_atomic_load_relaxed_32(&mb->popped); /* relaxed: estimate */
        return ((uintptr_t) prev & FXI_MAILBOX_IDLE) != 0;
    }
    fxi_mnode *prev = mailbox_exchange(mb, last);
    bool was_idle = ((uintptr_t) prev & FXI_MAILBOX_IDLE) != 0;
    /* The waking message goes uncounted: the consumer counted it when it
     * went idle. */
    uint32_t add = was_idle ? n - 1 : n;
    if (add) {
        /* Relaxed: before the link (whose release orders it before the
         * consumer's pops of these messages); the exchange has just taken
         * this line, so the add costs no transfer. */
        pushed = fxi_atomic_fetch_add_relaxed_32(&mb->pushed, add) + add;
    } else {
        pushed = fxi_atomic_load_relaxed_32(&mb->pushed); /* relaxed: estimate */
    }
    mailbox_link(mailbox_untag(prev), first);
    /* Relaxed: an estimate for overload checks; nothing is read through it. */
    *len_out = pushed - fxi_atomic_load_relaxed_32(&mb->popped);
    return was_idle;
}

/* Appends n; same contract as fxi_mailbox_push_chain_mpsc. */
static inline bool fxi_mailbox_push_mpsc(fxi_mailbox *mb, fxi_mnode *n, bool exact,
                                         uint32_t *len_out)
{
    return fxi_mailbox_push_chain_mpsc(mb, n, n, 1, exact, len_out);
}

/* Messages pushed and not yet popped, modulo 2^32. Any thread: exact for
 * the consumer up to pushes in flight; for other threads a snapshot that
 * never counts a message popped before it was pushed (while a consumer
 * is between its advance count and its idle mark, one too many). */
static inline uint32_t fxi_mailbox_len(const fxi_mailbox *mb)
{
    /* Relaxed: an idle mailbox is empty; its popped is one short by design. */
    if ((uintptr_t) fxi_atomic_load_relaxed_ptr(&mb->head) & FXI_MAILBOX_IDLE)
        return 0;
    /* Acquire: pairs with the consumer's release store of popped; every
     * counted message it includes was linked before it was popped, and its
     * producer's add preceded the link (release, read by the consumer's
     * acquire pop), so the relaxed load of pushed below sees those adds. */
    uint32_t popped = fxi_atomic_load_acquire_32(&mb->popped);
    uint32_t pushed = fxi_atomic_load_relaxed_32(&mb->pushed); /* see above */
    int32_t d = (int32_t) (pushed - popped);
    return d < 0 ? 0 : (uint32_t) d;
}

/* The length of an exact mailbox (fxi_mailbox_set_exact): pushed -
 * popped, idle or not, so a push counted before its exchange is seen even
 * while the IDLE mark is still up (the limit checks rely on it). Any
 * thread; a snapshot as fxi_mailbox_len. */
static inline uint32_t fxi_mailbox_len_exact(const fxi_mailbox *mb)
{
    /* Acquire, then relaxed: as in fxi_mailbox_len. */
    uint32_t popped = fxi_atomic_load_acquire_32(&mb->popped);
    uint32_t pushed = fxi_atomic_load_relaxed_32(&mb->pushed);
    int32_t d = (int32_t) (pushed - popped);
    return d < 0 ? 0 : (uint32_t) d;
}

/* The consumer took a node. */
static inline void mailbox_count_pop(fxi_mailbox *mb)
{
    /* Release: orders the pop (and the acquire load of the link, after
     * which the producer's add is visible) before this store; pairs with
     * fxi_mailbox_len's acquire load. A plain store on x86; one writer. */
    fxi_atomic_store_release_32(&mb->popped, mb->popped + 1);
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
        next = fxi_atomic_load_acquire_ptr(&tail->next); /* acquire: as above */
    }
    if (next != NULL) {
        mb->tail = next;
        /* The next pop reads next->next, on a line a producer wrote on
         * another core (a flood's messages): start that transfer now, while
         * the handler works on this message. */
        __builtin_prefetch(next);
        mailbox_count_pop(mb);
        return tail;
    }
    /* tail is the last linked node. If it is not also the head, a producer
     * has exchanged but not linked yet. */
    /* Relaxed: only the value is compared; nothing is read through it. */
    if (tail != mailbox_untag(fxi_atomic_load_relaxed_ptr(&mb->head)))
        return NULL;
    /* Re-insert the stub behind tail so tail can be handed out (the mailbox
     * is busy: the exchange cannot return the IDLE mark). */
    mb->stub.next = NULL;
    mailbox_link(mailbox_untag(mailbox_exchange(mb, &mb->stub)), &mb->stub);
    next = fxi_atomic_load_acquire_ptr(&tail->next); /* acquire: as above */
    if (next != NULL) {
        mb->tail = next;
        mailbox_count_pop(mb);
        return tail;
    }
    return NULL;
}

/* The node fxi_mailbox_pop_sc would take next, without taking it, or
 * NULL if none is linked yet. The pop that follows returns this node or
 * NULL (a producer between its exchange and its link). The consumer
 * only. */
static inline fxi_mnode *fxi_mailbox_peek_sc(fxi_mailbox *mb)
{
    fxi_mnode *tail = mb->tail;
    if (tail != &mb->stub)
        return tail; /* linked, not yet taken */
    /* Acquire: as in fxi_mailbox_pop_sc (the caller reads the node). */
    return fxi_atomic_load_acquire_ptr(&tail->next);
}

/* Marks the mailbox idle if it is truly empty. Returns true on success (no
 * message can be pending: the next push reports was_idle and schedules the
 * actor); false if a message is present or in flight, in which case the
 * actor must stay runnable. Consumer only. */
static inline bool fxi_mailbox_try_idle_sc(fxi_mailbox *mb, bool exact)
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
    /* Counts the waking message in advance (its push will not), while this
     * thread still owns the mailbox: once the mark is set another thread
     * may run the actor. Release: as in mailbox_count_pop; the cas below
     * orders it before the mark. */
    if (!exact)
        fxi_atomic_store_release_32(&mb->popped, mb->popped - 1);
    /* Succeeds only if no producer exchanged head since the stub became the
     * last node: both are RMWs on head, so a later exchange returns the
     * mark. Release: orders everything the actor's run wrote before the
     * mark; pairs with the acquire half of the exchange that returns it,
     * whose producer then schedules the actor on any thread. */
    if (fxi_atomic_cas_release_ptr(&mb->head, &mb->stub, idle))
        return true;
    if (!exact) /* still ours: take the advance count back (release: as above) */
        fxi_atomic_store_release_32(&mb->popped, mb->popped + 1);
    return false;
}

#endif
