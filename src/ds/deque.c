/* Chase-Lev work-stealing deque, after Lê, Pop, Cohen and Zappa Nardelli,
 * "Correct and Efficient Work-Stealing for Weak Memory Models" (PPoPP
 * 2013), without the owner-side take: the owner pushes, everybody steals.
 * See docs/deque.md for the correctness argument.
 *
 * Every access has the C11 order of the paper's code (platform/atomic.h
 * puts it in the name). Slots are read and written relaxed: a thief may
 * read a slot the owner is about to overwrite; the CAS on top then fails
 * and the value is discarded. */
#include "ds/deque.h"

#include <stdbool.h>

#include <fauxtp/error.h>

#include "mem/alloc.h"
#include "platform/atomic.h"

struct fxi_deque_buf {
    uint64_t mask;                      /* capacity - 1; immutable */
    struct fxi_deque_buf *retired_next; /* owner only, after retirement */
    void *slots[];                      /* atomic (relaxed) */
};

static size_t buf_bytes(uint64_t capacity)
{
    return sizeof(struct fxi_deque_buf) + (size_t) capacity * sizeof(void *);
}

static struct fxi_deque_buf *buf_new(uint64_t capacity)
{
    if (capacity > (SIZE_MAX - sizeof(struct fxi_deque_buf)) / sizeof(void *))
        return NULL;
    struct fxi_deque_buf *b = fxi_alloc(buf_bytes(capacity));
    if (!b)
        return NULL;
    b->mask = capacity - 1;
    b->retired_next = NULL;
    return b;
}

static void buf_free(struct fxi_deque_buf *b)
{
    fxi_free(b, buf_bytes(b->mask + 1));
}

int fxi_deque_init(fxi_deque *d, size_t capacity_pow2)
{
    if (!d || capacity_pow2 < 2 || (capacity_pow2 & (capacity_pow2 - 1)) != 0)
        return FX_EINVAL;
    struct fxi_deque_buf *b = buf_new(capacity_pow2);
    if (!b)
        return FX_ENOMEM;
    /* Plain initialisation: the deque is published to other threads by
     * whatever hands them the pointer (thread creation, a release store). */
    d->top = 0;
    d->bottom = 0;
    d->buffer = b;
    d->retired = NULL;
    return 0;
}

void fxi_deque_fini(fxi_deque *d)
{
    if (!d || !d->buffer)
        return;
    buf_free(d->buffer);
    d->buffer = NULL;
    struct fxi_deque_buf *r = d->retired;
    while (r) {
        struct fxi_deque_buf *next = r->retired_next;
        buf_free(r);
        r = next;
    }
    d->retired = NULL;
}

/* Owner only. Copies the live range [t, b) into a buffer twice as large,
 * publishes it and retires the old one. Returns the new buffer or NULL. */
static struct fxi_deque_buf *grow(fxi_deque *d, struct fxi_deque_buf *old, uint64_t t,
                                  uint64_t b)
{
    uint64_t cap = old->mask + 1;
    if (cap > UINT64_MAX / 2)
        return NULL;
    struct fxi_deque_buf *nb = buf_new(cap * 2);
    if (!nb)
        return NULL;
    for (uint64_t i = t; i < b; i++) {
        /* Relaxed: the owner wrote these slots itself; thieves only read
         * the old buffer, and nb is private until published below. */
        void *item = fxi_atomic_load_relaxed_ptr(&old->slots[i & old->mask]);
        fxi_atomic_store_relaxed_ptr(&nb->slots[i & nb->mask], item);
    }
    /* Release: orders the copies (and nb->mask) above before the pointer
     * store; pairs with the acquire load of d->buffer in
     * fxi_deque_steal_mc, so a thief that sees nb sees its contents. */
    fxi_atomic_store_release_ptr(&d->buffer, nb);
    /* The old buffer is never written again and stays allocated until
     * fini: a thief that loaded it earlier may still read slots from it. */
    old->retired_next = d->retired;
    d->retired = old;
    return nb;
}

int fxi_deque_push_owner(fxi_deque *d, void *item)
{
    /* Relaxed: bottom and buffer are written only by this thread. */
    uint64_t b = fxi_atomic_load_relaxed_64(&d->bottom);
    struct fxi_deque_buf *buf = fxi_atomic_load_relaxed_ptr(&d->buffer);
    /* Acquire: orders the load of top before the slot store below; pairs
     * with the release half of a taker's CAS on top, so a slot is
     * overwritten only after the taker that emptied it has read it. */
    uint64_t t = fxi_atomic_load_acquire_64(&d->top);
    if (b - t > buf->mask) {
        buf = grow(d, buf, t, b);
        if (!buf)
            return FX_ENOMEM;
    }
    /* Relaxed; published by the release store of bottom below. */
    fxi_atomic_store_relaxed_ptr(&buf->slots[b & buf->mask], item);
    /* Release: orders the slot store, the caller's writes to *item, and a
     * buffer publication in grow() before the store to bottom; pairs with
     * the acquire load of bottom in fxi_deque_steal_mc. */
    fxi_atomic_store_release_64(&d->bottom, b + 1);
    return 0;
}

void *fxi_deque_steal_mc(fxi_deque *d)
{
    for (;;) {
        /* Acquire (the paper's): orders the load of top before the load of
         * bottom, so a bottom older than t is never compared with it; pairs
         * with the release half of another taker's CAS. */
        uint64_t t = fxi_atomic_load_acquire_64(&d->top);
        /* No fence here: the paper's seq_cst fence pairs with the
         * owner-side take's, and this deque has no such take (docs/deque.md,
         * "F"); the acquire above already keeps the load of bottom after
         * the load of top. */
        /* Acquire: orders the load of bottom before the loads of the buffer
         * pointer and the slot; pairs with the release store of bottom in
         * push, making slot t, the caller's writes to the item (and any
         * buffer published before it) visible. */
        uint64_t b = fxi_atomic_load_acquire_64(&d->bottom);
        if ((int64_t) (b - t) <= 0)
            return NULL;
        /* Acquire (the paper's consume): orders the buffer pointer load
         * before the slot load; pairs with the release store in grow(). */
        struct fxi_deque_buf *buf = fxi_atomic_load_acquire_ptr(&d->buffer);
        void *item = fxi_atomic_load_relaxed_ptr(&buf->slots[t & buf->mask]);
        /* Seq_cst, as in the paper. Its release half orders the slot load
         * above before the CAS that hands the slot back to the owner (pairs
         * with the acquire load of top in push); its acquire half makes the
         * next taker's reads follow ours. */
        if (fxi_atomic_cas_seq_cst_64(&d->top, t, t + 1))
            return item;
        /* Lost to another taker: top has moved on; retry from the start. */
    }
}

size_t fxi_deque_steal_half_mc(fxi_deque *d, void **out, size_t max)
{
    for (;;) {
        /* Acquire, acquire: as in fxi_deque_steal_mc. */
        uint64_t t = fxi_atomic_load_acquire_64(&d->top);    /* no fence: as above */
        uint64_t b = fxi_atomic_load_acquire_64(&d->bottom); /* as above */
        if ((int64_t) (b - t) <= 0 || max == 0)
            return 0;
        uint64_t n = (b - t + 1) / 2;
        if (n > max)
            n = max;
        /* Acquire: as in fxi_deque_steal_mc. */
        struct fxi_deque_buf *buf = fxi_atomic_load_acquire_ptr(&d->buffer);
        /* Slots t..t+n-1 are below the bottom we read, so they hold pushed
         * items; the owner overwrites slot i only once top has passed i
         * (push's check of bottom - top against the capacity), and top
         * stays at t until the CAS below succeeds: the loads read exactly
         * the items the CAS takes. A grown buffer holds the same items at
         * the same indices. */
        for (uint64_t i = 0; i < n; i++)
            out[i] = fxi_atomic_load_relaxed_ptr(&buf->slots[(t + i) & buf->mask]);
        /* Seq_cst, as in fxi_deque_steal_mc: its release half orders the
         * slot loads above before the CAS that hands the slots back to the
         * owner. */
        if (fxi_atomic_cas_seq_cst_64(&d->top, t, t + n))
            return (size_t) n;
        /* Lost to another taker: retry from the start. */
    }
}

size_t fxi_deque_size_hint(const fxi_deque *d)
{
    /* Relaxed loads: the answer is advisory and the two loads are not a
     * snapshot, so the difference is clamped at 0. */
    uint64_t t = fxi_atomic_load_relaxed_64(&d->top);
    uint64_t b = fxi_atomic_load_relaxed_64(&d->bottom);
    return (int64_t) (b - t) > 0 ? (size_t) (b - t) : 0;
}
