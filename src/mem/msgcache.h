/* Per-thread cache of small message blocks, with magazines handed back
 * between threads through a shared depot.
 *
 * Messages are allocated on the sender's thread and freed on the
 * receiver's. Straight jemalloc pays for that on both sides: the freeing
 * thread's tcache flushes to the allocating arena's bin under its mutex,
 * and the allocating thread refills under the same mutex. Here each
 * scheduler thread keeps, per size class (16-byte steps from 32 to 256
 * bytes), a loaded magazine and a previous one, each full or empty
 * (Bonwick & Adams, "Magazines and Vmem", USENIX 2001). Frees go into the
 * loaded magazine; when it and the previous one are full, the previous one
 * goes to the depot and an empty one takes its place; an allocation that
 * finds both empty takes a full magazine from the depot. So blocks flow
 * from consuming threads back to producing threads FXI_MC_MAG at a time,
 * for one lock round trip per magazine (the same idea as mimalloc's
 * delayed frees). The depot keeps a bounded number of full magazines per
 * class, beyond which blocks go back to the allocator, and a bounded
 * number of empty ones.
 *
 * A magazine is an array of block pointers, not a list threaded through
 * the blocks: a free writes nothing into the block and an allocation
 * reads nothing from it. With a list, each allocation on the sender's
 * core loaded the link from a block the receiver's core had just written
 * (a dependent cache miss per message, the sender's critical path in
 * mailbox and fjthrput), and each free wrote into a line the sender's
 * core had to take back. Now a block's line moves once per direction,
 * by the sender's stores (which do not stall it) and the receiver's
 * reads (prefetched by the mailbox pop, ds/mailbox.h); an allocation
 * also prefetches the block that the next one will hand out.
 *
 * Every block is an ordinary allocation of its class size (fxi_alloc), so
 * any thread can free any block whether or not it has a cache: threads
 * without one (outside the VM, or after the VM is gone) use fxi_free with
 * the same class size. Disabled under AddressSanitizer, which must see
 * every free to catch a use after free. */
#ifndef FXI_MEM_MSGCACHE_H
#define FXI_MEM_MSGCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "mem/alloc.h"
#include "platform/mutex.h"

#if defined(__SANITIZE_ADDRESS__)
#define FXI_MC_ENABLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FXI_MC_ENABLED 0
#endif
#endif
#ifndef FXI_MC_ENABLED
#define FXI_MC_ENABLED 1
#endif

#define FXI_MC_MIN 32     /* smallest block (a message header) */
#define FXI_MC_MAX 256    /* largest cached block */
#define FXI_MC_CLASSES 15 /* 32, 48, ..., 256 */
#define FXI_MC_MAG 128    /* blocks per magazine */
/* Per class, in full magazines: enough for the blocks a muted flood
 * cycles through (docs/design.md, "Message memory"). */
#define FXI_MC_DEPOT_BYTES (1024u * 1024)
#define FXI_MC_DEPOT_EMPTY 64 /* empty magazines the depot keeps */

/* A magazine: n blocks in blk[0..n). `next` links it in the depot. */
typedef struct fxi_mc_mag {
    struct fxi_mc_mag *next;
    uint32_t n;
    void *blk[FXI_MC_MAG];
} fxi_mc_mag;

/* Shared by the scheduler threads of one pool. mx protects everything. */
typedef struct fxi_mc_depot {
    fxi_mutex mx;
    fxi_mc_mag *full[FXI_MC_CLASSES];
    uint32_t nfull[FXI_MC_CLASSES];
    fxi_mc_mag *empty; /* any class */
    uint32_t nempty;
} fxi_mc_depot;

/* One per scheduler thread and class. Owner thread only. The loaded
 * magazine's count is kept here (n), and cap is FXI_MC_MAG when one is
 * loaded, 0 when none is, so each fast path is one compare. prev is NULL,
 * empty or full. */
typedef struct fxi_mc_bin {
    fxi_mc_mag *cur; /* loaded magazine: n blocks (cur->n is stale) */
    uint32_t n, cap;
    fxi_mc_mag *prev; /* prev->n blocks: 0 or FXI_MC_MAG */
} fxi_mc_bin;

typedef struct fxi_mcache {
    fxi_mc_bin bins[FXI_MC_CLASSES];
    fxi_mc_depot *depot;
} fxi_mcache;

/* The calling thread's cache, NULL on threads without one. */
extern __thread fxi_mcache *fxi_mc_self __attribute__((tls_model("initial-exec")));

void fxi_mc_depot_init(fxi_mc_depot *d);
/* Frees every block in the depot. No thread may be attached. */
void fxi_mc_depot_fini(fxi_mc_depot *d);
/* Makes c (zeroed here) the calling thread's cache, over depot d. */
void fxi_mc_attach(fxi_mcache *c, fxi_mc_depot *d);
/* Frees the calling thread's cached blocks and detaches c. */
void fxi_mc_detach(fxi_mcache *c);

void *fxi_mc_alloc_slow(fxi_mcache *c, fxi_mc_bin *b, size_t bsize);
void fxi_mc_free_slow(fxi_mcache *c, fxi_mc_bin *b, void *p, size_t bsize);

/* The size actually allocated for a request of `size` bytes: rounded up
 * to its class when cacheable. Allocation and free must agree on it. */
static inline size_t fxi_mc_block_size(size_t size)
{
    return size <= FXI_MC_MAX ? (size + 15) & ~(size_t) 15 : size;
}

/* size >= FXI_MC_MIN. NULL on ENOMEM. Any thread. */
static inline void *fxi_mc_alloc(size_t size)
{
    size_t bsize = fxi_mc_block_size(size);
    fxi_mcache *c = FXI_MC_ENABLED ? fxi_mc_self : NULL;
    if (fxi_alloc_fail_now()) /* test builds only: see mem/alloc.h */
        return NULL;
    if (c && bsize <= FXI_MC_MAX) {
        fxi_mc_bin *b = &c->bins[bsize / 16 - 2];
        uint32_t n = b->n;
        if (__builtin_expect(n != 0, 1)) {
            void **blk = b->cur->blk;
            b->n = --n;
            /* The next allocation's block, for writing: it was last
             * touched by the thread that freed it, often another core. */
            if (n)
                __builtin_prefetch(blk[n - 1], 1);
            return blk[n];
        }
        return fxi_mc_alloc_slow(c, b, bsize);
    }
    return fxi_alloc(bsize);
}

/* fxi_mc_alloc's fast path alone, for a block size of at most
 * FXI_MC_MAX (fxi_mc_block_size): a block from the calling thread's
 * loaded magazine, or NULL (no cache, an empty magazine, the test hook
 * armed) for the caller to take fxi_mc_alloc. It calls nothing, so a
 * caller whose whole common case is inline needs no saved registers
 * (fx_send). */
static inline void *fxi_mc_alloc_fast(size_t bsize)
{
    fxi_mcache *c = FXI_MC_ENABLED ? fxi_mc_self : NULL;
    if (c == NULL || __builtin_expect(fxi_alloc_fail_armed(), 0))
        return NULL;
    fxi_mc_bin *b = &c->bins[bsize / 16 - 2];
    uint32_t n = b->n;
    if (__builtin_expect(n == 0, 0))
        return NULL;
    void **blk = b->cur->blk;
    b->n = --n;
    if (n) /* as in fxi_mc_alloc */
        __builtin_prefetch(blk[n - 1], 1);
    return blk[n];
}

/* p from fxi_mc_alloc(size), same size. Any thread. */
static inline void fxi_mc_free(void *p, size_t size)
{
    size_t bsize = fxi_mc_block_size(size);
    fxi_mcache *c = FXI_MC_ENABLED ? fxi_mc_self : NULL;
    if (c && bsize <= FXI_MC_MAX) {
        fxi_mc_bin *b = &c->bins[bsize / 16 - 2];
        if (__builtin_expect(b->n < b->cap, 1)) {
            b->cur->blk[b->n++] = p; /* nothing written into the block */
            return;
        }
        fxi_mc_free_slow(c, b, p, bsize);
        return;
    }
    fxi_free(p, bsize);
}

#endif
