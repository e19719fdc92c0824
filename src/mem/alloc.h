/* Internal allocation. Over jemalloc's sized mallocx/sdallocx when the
 * program has jemalloc loaded, over libc otherwise (below). Memory from
 * here is never handed to a caller who would free() it. Any thread. */
#ifndef FXI_MEM_ALLOC_H
#define FXI_MEM_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Test-only allocation failure (meson -Dfault_injection, on by default in
 * non-release builds, never in release). fxi_alloc_fail_nth(n) makes the
 * n-th allocation from now fail (n = 1: the next one; 0 disarms), and
 * every one after it too when `sticky`. Allocations through fxi_alloc,
 * fxi_zalloc, fxi_alloc_aligned and the message cache (mem/msgcache.h)
 * count. Any thread; the countdown is shared by all threads. */
#if FX_FAULT_INJECTION
void fxi_alloc_fail_nth(int64_t n, bool sticky);
/* How many allocations the hook failed since the program started. */
uint64_t fxi_alloc_failed_count(void);
bool fxi_alloc_fail_now_slow(void);
extern int64_t fxi_alloc_fail_countdown;
static inline bool fxi_alloc_fail_now(void)
{
    /* Relaxed: a test knob; a plain atomic load keeps the unarmed path one
     * load and a predictable branch. */
    return __builtin_expect(
               __atomic_load_n(&fxi_alloc_fail_countdown, __ATOMIC_RELAXED) != 0, 0) &&
           fxi_alloc_fail_now_slow();
}
/* Whether the hook is armed (the next allocation may fail), without
 * counting an allocation: for fast paths that then take the counted way
 * (mem/msgcache.h's fxi_mc_alloc_fast). */
static inline bool fxi_alloc_fail_armed(void)
{
    /* Relaxed: as in fxi_alloc_fail_now. */
    return __atomic_load_n(&fxi_alloc_fail_countdown, __ATOMIC_RELAXED) != 0;
}
#else
static inline bool fxi_alloc_fail_now(void)
{
    return false;
}
static inline bool fxi_alloc_fail_armed(void)
{
    return false;
}
#endif

/* The allocator is chosen once, when the library is loaded (alloc.c),
 * and never changes: jemalloc's sized mallocx/sdallocx when the program
 * already has jemalloc loaded (it linked -ljemalloc, as fauxtp.pc's Libs
 * do, or LD_PRELOADed it), libc malloc otherwise. The library itself has
 * no link-time dependency on jemalloc, so it can be dlopen()ed: Debian's
 * jemalloc uses initial-exec TLS, which a library loaded after start-up
 * cannot get (docs/abi.md, "Allocator"). The entry points are weak
 * references the dynamic linker fills in from the global scope, or
 * leaves NULL. Builds with -Djemalloc=disabled (sanitizers) compile the
 * jemalloc path out. */
#include <stdlib.h>
#include <string.h>
#if FX_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#pragma weak mallocx
#pragma weak sdallocx
/* Written once by the library constructor (before any thread of ours
 * exists), read-only afterwards: a plain global. */
extern bool fxi_alloc_jemalloc;
#define FXI_JE fxi_alloc_jemalloc
#else
#define FXI_JE false
#endif

/* "jemalloc" or "libc": the allocator chosen at load time. */
const char *fxi_alloc_name(void);

static inline void *fxi_alloc(size_t size)
{
    if (fxi_alloc_fail_now())
        return NULL;
#if FX_HAVE_JEMALLOC
    if (FXI_JE)
        return mallocx(size ? size : 1, 0);
#endif
    return malloc(size ? size : 1);
}
/* As fxi_alloc, but never failed by the test hook above: for the message
 * cache's own magazines, which a free may need, so that a free never
 * takes the failure a test aims at the next allocation it makes. A real
 * NULL is handled like any other (mem/msgcache.c). */
static inline void *fxi_alloc_unhooked(size_t size)
{
#if FX_HAVE_JEMALLOC
    if (FXI_JE)
        return mallocx(size ? size : 1, 0);
#endif
    return malloc(size ? size : 1);
}
static inline void *fxi_zalloc(size_t size)
{
    if (fxi_alloc_fail_now())
        return NULL;
#if FX_HAVE_JEMALLOC
    if (FXI_JE)
        return mallocx(size ? size : 1, MALLOCX_ZERO);
#endif
    return calloc(1, size ? size : 1);
}
/* size must be the size passed at allocation. */
static inline void fxi_free(void *p, size_t size)
{
    if (!p)
        return;
#if FX_HAVE_JEMALLOC
    if (FXI_JE) {
        sdallocx(p, size ? size : 1, 0);
        return;
    }
#endif
    (void) size;
    free(p);
}
static inline void *fxi_alloc_aligned(size_t size, size_t align)
{
    if (fxi_alloc_fail_now())
        return NULL;
#if FX_HAVE_JEMALLOC
    if (FXI_JE)
        return mallocx(size, MALLOCX_ALIGN(align) | MALLOCX_ZERO);
#endif
    void *p = aligned_alloc(align, (size + align - 1) / align * align);
    if (p)
        memset(p, 0, size);
    return p;
}
static inline void fxi_free_aligned(void *p, size_t size, size_t align)
{
    if (!p)
        return;
#if FX_HAVE_JEMALLOC
    if (FXI_JE) {
        sdallocx(p, size, MALLOCX_ALIGN(align));
        return;
    }
#endif
    (void) size;
    (void) align;
    free(p);
}

#endif
