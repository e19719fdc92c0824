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
 * The queue length is kept in one of two modes, fixed by the owner when
 * the mailbox is created (docs/overload.md, "How the length is counted"):
 *  - counted: producers add each chain's length to `len` before their
 *    exchange and the consumer subtracts one per pop (two read-modify-
 *    writes per message; for processes with a mailbox limit, which need it
 *    exact);
 *  - sampled (the default): `len` is written by the consumer only. It
 *    counts the messages it can see linked ahead of it (fxi_mailbox_count_sc,
 *    a walk that visits each message once however often it is called) and
 *    subtracts one per pop. Producers add only chains of two or more
 *    messages and pushes from outside the VM, to `bulk`, which the
 *    consumer zeroes when it counts; a single message sent from a
 *    scheduler thread (the hot path) adds nothing, so it pays no atomic
 *    beyond the exchange. The length is len + bulk: the messages linked
 *    when the consumer last counted, minus those it took since, plus the
 *    counted pushes since. */
#ifndef FXI_DS_MAILBOX_H
#define FXI_DS_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/atomic.h"

typedef struct fxi_mnode {
    struct fxi_mnode *next;
} fxi_mnode;

/* 32 bytes: head, tail, the stub and the counts share the line every
 * push and every pop already writes. */
typedef struct fxi_mailbox {
    fxi_mnode *head; /* atomic: producers exchange; low bit = IDLE */
    fxi_mnode *tail; /* consumer only */
    fxi_mnode stub;  /* consumer only (its next is written by producers) */
    /* Atomic. Counted mode: producers and the consumer add (relaxed
     * RMWs). Sampled mode: written by the consumer only (relaxed stores),
     * read by anyone (relaxed loads). */
    uint32_t len;
    /* Atomic, sampled mode only: producers add (relaxed RMWs), the
     * consumer exchanges it with 0 when it counts; read by anyone. */
    uint32_t bulk;
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
    mb->len = mb->bulk = 0;
    mb->head =
        idle ? (fxi_mnode *) ((uintptr_t) &mb->stub | FXI_MAILBOX_IDLE) : &mb->stub;
}

/* The exchange and link of a push, without counting (the stub's
 * re-insertion uses it directly). */
static inline bool mailbox_link_mpsc(fxi_mailbox *mb, fxi_mnode *first, fxi_mnode *last)
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

/* Appends the chain first..last of n nodes, already linked through ->next
 * by the caller (a single node: first == last, n == 1), as one unit: one
 * exchange for the whole chain. ctr: the count to add n to, &mb->len in
 * counted mode, &mb->bulk or NULL in sampled mode (see above). Returns true
 * iff the mailbox was marked idle: the caller then owns the duty to
 * schedule the actor. *len_out receives fxi_mailbox_len just after the
 * push. Wait-free; any thread. */
static inline bool fxi_mailbox_push_chain_mpsc(fxi_mailbox *mb, fxi_mnode *first,
                                               fxi_mnode *last, uint32_t n, uint32_t *ctr,
                                               uint32_t *len_out)
{
    /* Relaxed: done before the exchange, so the consumer's subtraction
     * (counted mode) or zeroing (bulk) that follows its acquire of these
     * messages' link comes after the add in the counter's modification
     * order: a count never goes below zero for good. Nothing is read
     * through it. */
    if (ctr)
        (void) fxi_atomic_fetch_add_relaxed_32(ctr, n);
    bool was_idle = mailbox_link_mpsc(mb, first, last);
    /* Relaxed loads: an estimate for overload checks; nothing is read
     * through it. The line is the one the exchange just took. */
    *len_out =
        fxi_atomic_load_relaxed_32(&mb->len) + fxi_atomic_load_relaxed_32(&mb->bulk);
    return was_idle;
}

/* Appends n; same contract as fxi_mailbox_push_chain_mpsc. */
static inline bool fxi_mailbox_push_mpsc(fxi_mailbox *mb, fxi_mnode *n, uint32_t *ctr,
                                         uint32_t *len_out)
{
    return fxi_mailbox_push_chain_mpsc(mb, n, n, 1, ctr, len_out);
}

/* The queue length as counted (see the modes above), modulo 2^32. Any
 * thread: a snapshot. */
static inline uint32_t fxi_mailbox_len(const fxi_mailbox *mb)
{
    /* Relaxed: a number for reports and overload checks; nothing is read
     * through it. */
    return fxi_atomic_load_relaxed_32(&mb->len) + fxi_atomic_load_relaxed_32(&mb->bulk);
}

/* Sampled mode: counts pushed since the consumer last counted. Any
 * thread. */
static inline bool fxi_mailbox_bulk_pending(const fxi_mailbox *mb)
{
    /* Relaxed: only tested; the count that follows reads the links with
     * acquire. */
    return fxi_atomic_load_relaxed_32(&mb->bulk) != 0;
}

/* The consumer took one message. */
static inline void mailbox_count_pop(fxi_mailbox *mb, bool counted)
{
    if (__builtin_expect(counted, 0)) {
        /* Relaxed: see fxi_mailbox_push_chain_mpsc (the producer's add
         * for this message precedes this RMW in len's order). */
        (void) fxi_atomic_fetch_add_relaxed_32(&mb->len, UINT32_MAX);
        return;
    }
    /* Relaxed: one writer (us); readers only want the number. The first
     * len messages are the ones counted, so a pop takes one of them while
     * len > 0 and none after. */
    uint32_t l = fxi_atomic_load_relaxed_32(&mb->len);
    if (l)
        fxi_atomic_store_relaxed_32(&mb->len, l - 1);
}

/* Takes the oldest node, or NULL when the mailbox is empty or a producer is
 * between its exchange and its link (the node will appear shortly). The
 * consumer (the thread running the actor) only. */
static inline fxi_mnode *fxi_mailbox_pop_sc(fxi_mailbox *mb, bool counted)
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
        mailbox_count_pop(mb, counted);
        return tail;
    }
    /* tail is the last linked node. If it is not also the head, a producer
     * has exchanged but not linked yet. */
    /* Relaxed: only the value is compared; nothing is read through it. */
    if (tail != mailbox_untag(fxi_atomic_load_relaxed_ptr(&mb->head)))
        return NULL;
    /* Re-insert the stub behind tail so tail can be handed out. */
    mailbox_link_mpsc(mb, &mb->stub, &mb->stub);
    next = fxi_atomic_load_acquire_ptr(&tail->next); /* acquire: as above */
    if (next != NULL) {
        mb->tail = next;
        mailbox_count_pop(mb, counted);
        return tail;
    }
    return NULL;
}

/* Sampled mode: zeroes bulk, counts the messages linked ahead of the
 * consumer and stores the count in len, which it returns (bulk may have
 * grown again meanwhile: fxi_mailbox_len is the length). *walk is the consumer's
 * bookmark: the last message counted, meaningful while len > 0 (the
 * counted messages are the first len of the queue, so it is still
 * queued); the next call goes on from there, so every message is visited
 * once by all calls together. Messages whose producer has exchanged but
 * not linked yet are not seen. Consumer only. */
static inline uint32_t fxi_mailbox_count_sc(fxi_mailbox *mb, fxi_mnode **walk)
{
    /* Relaxed: bulk's adds that precede the links we are about to see are
     * replaced by the walk's count of them; adds after the exchange count
     * again until the next call (an overestimate of what arrives during
     * the walk), adds before it whose link is not there yet are counted
     * by the next walk. Nothing is read through the value. */
    if (fxi_atomic_load_relaxed_32(&mb->bulk) != 0)
        (void) fxi_atomic_exchange_relaxed_32(&mb->bulk, 0);
    uint32_t len = fxi_atomic_load_relaxed_32(&mb->len); /* relaxed: our own writes */
    fxi_mnode *cur = *walk;
    if (len == 0) {
        /* Start at the oldest message: tail, unless tail is the stub. */
        cur = mb->tail;
        if (cur != &mb->stub)
            len = 1;
    }
    fxi_mnode *last = len ? cur : NULL;
    for (;;) {
        /* Acquire: pairs with the producer's release store of the link,
         * as in fxi_mailbox_pop_sc; only the links are read. */
        fxi_mnode *next = fxi_atomic_load_acquire_ptr(&cur->next);
        if (next == NULL)
            break;
        cur = next;
        if (cur != &mb->stub) { /* the stub is no message */
            len++;
            last = cur;
        }
    }
    if (last)
        *walk = last;
    /* Relaxed: one writer (us); see mailbox_count_pop. */
    fxi_atomic_store_relaxed_32(&mb->len, len);
    return len;
}

/* Sampled mode: the consumer found the queue empty; every push counted in
 * bulk so far has been taken (or is in flight: it then goes uncounted,
 * an underestimate until it is taken), so bulk goes back to 0. Consumer
 * only. */
static inline void fxi_mailbox_drained_sc(fxi_mailbox *mb)
{
    /* Relaxed: a count; nothing is read through it. The load keeps the
     * common case (nothing counted) free of a read-modify-write. */
    if (fxi_atomic_load_relaxed_32(&mb->bulk) != 0)
        (void) fxi_atomic_exchange_relaxed_32(&mb->bulk, 0);
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
