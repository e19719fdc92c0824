/* Chase-Lev work-stealing deque used as a FIFO run queue.
 *
 * One owner thread pushes at the bottom; every taker, the owner included,
 * takes from the top with fxi_deque_steal_mc, so items leave in push order.
 * The circular buffer of `void *` grows by doubling; a replaced buffer is
 * kept (retired) until fxi_deque_fini because a thief may still be reading
 * it. Algorithm and memory-ordering argument: docs/deque.md (Lê, Pop,
 * Cohen, Zappa Nardelli, PPoPP 2013). */
#ifndef FXI_DS_DEQUE_H
#define FXI_DS_DEQUE_H

#include <stddef.h>
#include <stdint.h>

#define FXI_DEQUE_CACHELINE 64

struct fxi_deque_buf;

/* Embed in a structure aligned to FXI_DEQUE_CACHELINE if its neighbours are
 * hot: the padding below only separates the deque's own fields. */
typedef struct fxi_deque {
    /* atomic: next index to take; CASed by every taker, read by the owner
     * in push. Monotonic, so a successful CAS cannot suffer ABA. */
    uint64_t top;
    char pad_top[FXI_DEQUE_CACHELINE - sizeof(uint64_t)];

    /* written by the owner thread only, read by takers: one past the last
     * pushed index, and the current buffer. */
    uint64_t bottom;
    struct fxi_deque_buf *buffer;
    char pad_bottom[FXI_DEQUE_CACHELINE - sizeof(uint64_t) - sizeof(void *)];

    /* owner thread only: replaced buffers, freed by fxi_deque_fini. */
    struct fxi_deque_buf *retired;
} fxi_deque;

/* Initialises an empty deque whose first buffer holds capacity_pow2 items.
 * Returns 0, FX_EINVAL (d NULL, or capacity not a power of two >= 2) or
 * FX_ENOMEM. Before any concurrent use. */
int fxi_deque_init(fxi_deque *d, size_t capacity_pow2);

/* Frees the current and all retired buffers. Items still queued are
 * dropped (not owned by the deque). No concurrent users. */
void fxi_deque_fini(fxi_deque *d);

/* Appends item (borrowed, never NULL) at the bottom, growing the buffer
 * when full. Returns 0, or FX_ENOMEM (deque unchanged). Owner thread only. */
int fxi_deque_push_owner(fxi_deque *d, void *item);

/* Takes the oldest item, or returns NULL if the deque was seen empty. A lost
 * race with another taker is retried internally. Any thread, including the
 * owner. Lock-free. */
void *fxi_deque_steal_mc(fxi_deque *d);

/* Takes the oldest half of the queued items (rounded up; at most max, at
 * least 1 unless the deque was seen empty) into out[0..n-1], oldest
 * first, with one CAS on top; returns n. A thief that moves the rest to
 * its own queue pays one steal for many items. Any thread. Lock-free. */
size_t fxi_deque_steal_half_mc(fxi_deque *d, void **out, size_t max);

/* Approximate number of queued items (bottom - top, 0 if negative); may be
 * stale by the time it returns. Any thread. */
size_t fxi_deque_size_hint(const fxi_deque *d);

#endif
