/* Internal allocation. Over jemalloc's sized mallocx/sdallocx when built
 * with it, over libc otherwise (sanitizer builds). Memory from here is
 * never handed to a caller who would free() it. Any thread. */
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
#else
static inline bool fxi_alloc_fail_now(void)
{
    return false;
}
#endif

#if FX_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
static inline void *fxi_alloc(size_t size)
{
    if (fxi_alloc_fail_now())
        return NULL;
    return mallocx(size ? size : 1, 0);
}
static inline void *fxi_zalloc(size_t size)
{
    if (fxi_alloc_fail_now())
        return NULL;
    return mallocx(size ? size : 1, MALLOCX_ZERO);
}
/* size must be the size passed at allocation. */
static inline void fxi_free(void *p, size_t size)
{
    if (p)
        sdallocx(p, size ? size : 1, 0);
}
static inline void *fxi_alloc_aligned(size_t size, size_t align)
{
    if (fxi_alloc_fail_now())
        return NULL;
    return mallocx(size, MALLOCX_ALIGN(align) | MALLOCX_ZERO);
}
static inline void fxi_free_aligned(void *p, size_t size, size_t align)
{
    if (p)
        sdallocx(p, size, MALLOCX_ALIGN(align));
}
#else
#include <stdlib.h>
#include <string.h>
static inline void *fxi_alloc(size_t size)
{
    if (fxi_alloc_fail_now())
        return NULL;
    return malloc(size ? size : 1);
}
static inline void *fxi_zalloc(size_t size)
{
    if (fxi_alloc_fail_now())
        return NULL;
    return calloc(1, size ? size : 1);
}
static inline void fxi_free(void *p, size_t size)
{
    (void) size;
    free(p);
}
static inline void *fxi_alloc_aligned(size_t size, size_t align)
{
    if (fxi_alloc_fail_now())
        return NULL;
    void *p = aligned_alloc(align, (size + align - 1) / align * align);
    if (p)
        memset(p, 0, size);
    return p;
}
static inline void fxi_free_aligned(void *p, size_t size, size_t align)
{
    (void) size;
    (void) align;
    free(p);
}
#endif

#endif
