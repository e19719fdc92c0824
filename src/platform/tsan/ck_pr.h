/* ThreadSanitizer shim, first on the include path in TSan builds only.
 * ck_pr implements atomics with inline asm that TSan cannot see; this
 * includes the real header, then redefines its operations as __atomic
 * builtins (sequentially consistent), so TSan sees them. fauxtp's own code
 * does not go through it: it uses src/platform/atomic.h, whose TSan
 * mapping keeps each operation's named order. What still does is ck's
 * inline code in its headers (ck_epoch, ck_hs), which the registry uses;
 * there SEQ_CST is at least as strong as anything ck promises. */
#ifndef FXI_TSAN_CK_PR_H
#define FXI_TSAN_CK_PR_H

#include_next <ck_pr.h>

#define FXI_TSAN_SHIM_OPS(T, S)                                                          \
    static inline T fxi_tsan_load_##S(const T *p)                                        \
    {                                                                                    \
        return __atomic_load_n(p, __ATOMIC_SEQ_CST);                                     \
    }                                                                                    \
    static inline void fxi_tsan_store_##S(T *p, T v)                                     \
    {                                                                                    \
        __atomic_store_n(p, v, __ATOMIC_SEQ_CST);                                        \
    }                                                                                    \
    static inline T fxi_tsan_fas_##S(T *p, T v)                                          \
    {                                                                                    \
        return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);                              \
    }                                                                                    \
    static inline T fxi_tsan_faa_##S(T *p, T v)                                          \
    {                                                                                    \
        return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);                               \
    }                                                                                    \
    static inline _Bool fxi_tsan_cas_##S(T *p, T o, T n)                                 \
    {                                                                                    \
        return __atomic_compare_exchange_n(p, &o, n, 0, __ATOMIC_SEQ_CST,                \
                                           __ATOMIC_SEQ_CST);                            \
    }

FXI_TSAN_SHIM_OPS(uint64_t, 64)
FXI_TSAN_SHIM_OPS(uint32_t, 32)
FXI_TSAN_SHIM_OPS(uint8_t, 8)

static inline void *fxi_tsan_load_ptr(const void *p)
{
    return __atomic_load_n((void *const *) p, __ATOMIC_SEQ_CST);
}
static inline void fxi_tsan_store_ptr(void *p, const void *v)
{
    __atomic_store_n((void **) p, (void *) v, __ATOMIC_SEQ_CST);
}
static inline void *fxi_tsan_fas_ptr(void *p, void *v)
{
    return __atomic_exchange_n((void **) p, v, __ATOMIC_SEQ_CST);
}
static inline _Bool fxi_tsan_cas_ptr(void *p, void *o, void *n)
{
    return __atomic_compare_exchange_n((void **) p, &o, n, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

#undef ck_pr_load_64
#undef ck_pr_store_64
#undef ck_pr_fas_64
#undef ck_pr_faa_64
#undef ck_pr_cas_64
#undef ck_pr_load_32
#undef ck_pr_store_32
#undef ck_pr_fas_32
#undef ck_pr_faa_32
#undef ck_pr_cas_32
#undef ck_pr_load_8
#undef ck_pr_store_8
#undef ck_pr_load_ptr
#undef ck_pr_store_ptr
#undef ck_pr_fas_ptr
#undef ck_pr_cas_ptr
#undef ck_pr_fence_store
#undef ck_pr_fence_load
#undef ck_pr_fence_memory
#undef ck_pr_fence_acquire
#undef ck_pr_fence_release
#define ck_pr_load_64(p) fxi_tsan_load_64((const uint64_t *) (p))
#define ck_pr_store_64(p, v) fxi_tsan_store_64((uint64_t *) (p), (v))
#define ck_pr_fas_64(p, v) fxi_tsan_fas_64((uint64_t *) (p), (v))
#define ck_pr_faa_64(p, v) fxi_tsan_faa_64((uint64_t *) (p), (v))
#define ck_pr_cas_64(p, o, n) fxi_tsan_cas_64((uint64_t *) (p), (o), (n))
#define ck_pr_load_32(p) fxi_tsan_load_32((const uint32_t *) (p))
#define ck_pr_store_32(p, v) fxi_tsan_store_32((uint32_t *) (p), (v))
#define ck_pr_fas_32(p, v) fxi_tsan_fas_32((uint32_t *) (p), (v))
#define ck_pr_faa_32(p, v) fxi_tsan_faa_32((uint32_t *) (p), (v))
#define ck_pr_cas_32(p, o, n) fxi_tsan_cas_32((uint32_t *) (p), (o), (n))
#define ck_pr_load_8(p) fxi_tsan_load_8((const uint8_t *) (p))
#define ck_pr_store_8(p, v) fxi_tsan_store_8((uint8_t *) (p), (v))
#define ck_pr_load_ptr(p) fxi_tsan_load_ptr((p))
#define ck_pr_store_ptr(p, v) fxi_tsan_store_ptr((p), (v))
#define ck_pr_fas_ptr(p, v) fxi_tsan_fas_ptr((p), (v))
#define ck_pr_cas_ptr(p, o, n) fxi_tsan_cas_ptr((p), (o), (n))
#define ck_pr_fence_store() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define ck_pr_fence_load() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define ck_pr_fence_memory() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define ck_pr_fence_acquire() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define ck_pr_fence_release() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif
