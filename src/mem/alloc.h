/* Internal allocation. Over jemalloc's sized mallocx/sdallocx when built
 * with it, over libc otherwise (sanitizer builds). Memory from here is
 * never handed to a caller who would free() it. Any thread. */
#ifndef FXI_MEM_ALLOC_H
#define FXI_MEM_ALLOC_H

#include <stddef.h>

#if FX_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
static inline void *fxi_alloc(size_t size)
{
    return mallocx(size ? size : 1, 0);
}
static inline void *fxi_zalloc(size_t size)
{
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
    return malloc(size ? size : 1);
}
static inline void *fxi_zalloc(size_t size)
{
    return calloc(1, size ? size : 1);
}
static inline void fxi_free(void *p, size_t size)
{
    (void) size;
    free(p);
}
static inline void *fxi_alloc_aligned(size_t size, size_t align)
{
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
