/* Atomics with the memory order in the name, so every site states the
 * order its correctness argument needs (in the spirit of Pony's
 * atomics.h and erts's _nob/_acqb/_relb/_mb).
 *
 *   fxi_atomic_load_{relaxed,acquire}_T(p)
 *   fxi_atomic_store_{relaxed,release}_T(p, v)
 *   fxi_atomic_exchange_ORDER_T(p, v)           -> old value
 *   fxi_atomic_fetch_add_ORDER_T(p, v)          -> old value (u32, u64)
 *   fxi_atomic_cas_ORDER_T(p, expected, desired) -> true if swapped
 *   fxi_atomic_fence_{acquire,release,seq_cst}()
 *
 * T is 32, 64 (uint32_t, uint64_t) or ptr (p is then the address of a pointer variable);
 * ORDER (read-modify-writes) is relaxed, acquire, release, acq_rel or
 * seq_cst, with C11's meaning. A failed cas has the order's load part
 * (acquire for acq_rel and seq_cst, relaxed for release).
 *
 * Two mappings, one contract:
 *  - Normal builds use ck_pr plus the ck fences that make the C11 order
 *    hold on every memory model ck supports (acquire load = load +
 *    ck_pr_fence_acquire, release store = ck_pr_fence_release + store,
 *    seq_cst RMW = release/store-atomic fences + RMW + atomic-load/acquire
 *    fences). On x86-64 (CK_MD_TSO) every ck fence but
 *    ck_pr_fence_memory/store_load is a compiler barrier only, and a locked
 *    RMW is already sequentially consistent, so the machine code is what
 *    bare ck_pr gave; nothing relies on that being so.
 *  - ThreadSanitizer builds (__SANITIZE_THREAD__, or clang's
 *    __has_feature(thread_sanitizer)) use the __atomic builtins with
 *    exactly the named order, so TSan checks the orders as written. TSan
 *    does not model fences (it treats them as no-ops for happens-before):
 *    acquire/release that other threads' plain accesses depend on must be
 *    on the operation, not in a separate fence.
 *
 * src/platform/tsan/ck_pr.h stays for ck's own inline code (ck_epoch,
 * ck_hs); code using this header does not go through it. Any thread. */
#ifndef FXI_PLATFORM_ATOMIC_H
#define FXI_PLATFORM_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__SANITIZE_THREAD__)
#define FXI_ATOMIC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FXI_ATOMIC_TSAN 1
#endif
#endif

#ifdef FXI_ATOMIC_TSAN
/* ---- ThreadSanitizer: C11 builtins with exactly the named order ------- */

#define FXI_AT_relaxed __ATOMIC_RELAXED
#define FXI_AT_acquire __ATOMIC_ACQUIRE
#define FXI_AT_release __ATOMIC_RELEASE
#define FXI_AT_acq_rel __ATOMIC_ACQ_REL
#define FXI_AT_seq_cst __ATOMIC_SEQ_CST
/* Failure order of a cas: the load part of the success order. */
#define FXI_ATF_relaxed __ATOMIC_RELAXED
#define FXI_ATF_acquire __ATOMIC_ACQUIRE
#define FXI_ATF_release __ATOMIC_RELAXED
#define FXI_ATF_acq_rel __ATOMIC_ACQUIRE
#define FXI_ATF_seq_cst __ATOMIC_SEQ_CST

#define FXI_ATOMIC_LOAD(T, S, ORD)                                                       \
    static inline T fxi_atomic_load_##ORD##_##S(const void *p)                           \
    {                                                                                    \
        return __atomic_load_n((T const *) p, FXI_AT_##ORD);                             \
    }
#define FXI_ATOMIC_STORE(T, S, ORD)                                                      \
    static inline void fxi_atomic_store_##ORD##_##S(void *p, T v)                        \
    {                                                                                    \
        __atomic_store_n((T *) p, v, FXI_AT_##ORD);                                      \
    }
#define FXI_ATOMIC_XCHG(T, S, ORD)                                                       \
    static inline T fxi_atomic_exchange_##ORD##_##S(void *p, T v)                        \
    {                                                                                    \
        return __atomic_exchange_n((T *) p, v, FXI_AT_##ORD);                            \
    }
#define FXI_ATOMIC_FAA(T, S, ORD)                                                        \
    static inline T fxi_atomic_fetch_add_##ORD##_##S(void *p, T v)                       \
    {                                                                                    \
        return __atomic_fetch_add((T *) p, v, FXI_AT_##ORD);                             \
    }
#define FXI_ATOMIC_CAS(T, S, ORD)                                                        \
    static inline bool fxi_atomic_cas_##ORD##_##S(void *p, T o, T n)                     \
    {                                                                                    \
        return __atomic_compare_exchange_n((T *) p, &o, n, false, FXI_AT_##ORD,          \
                                           FXI_ATF_##ORD);                               \
    }

static inline void fxi_atomic_fence_acquire(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}
static inline void fxi_atomic_fence_release(void)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
}
static inline void fxi_atomic_fence_seq_cst(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#else
/* ---- ck_pr plus the fences each order needs --------------------------- */

#include <ck_pr.h>

/* Fence before the RMW: orders earlier accesses before its store (release)
 * and, for seq_cst, earlier stores before its load. */
#define FXI_CK_PRE_relaxed()
#define FXI_CK_PRE_acquire()
#define FXI_CK_PRE_release() ck_pr_fence_release()
#define FXI_CK_PRE_acq_rel() ck_pr_fence_release()
#define FXI_CK_PRE_seq_cst()                                                             \
    do {                                                                                 \
        ck_pr_fence_release();                                                           \
        ck_pr_fence_store_atomic();                                                      \
    } while (0)
/* Fence after the RMW: orders its load before later accesses (acquire)
 * and, for seq_cst, its store before later loads. */
#define FXI_CK_POST_relaxed()
#define FXI_CK_POST_acquire() ck_pr_fence_acquire()
#define FXI_CK_POST_release()
#define FXI_CK_POST_acq_rel() ck_pr_fence_acquire()
#define FXI_CK_POST_seq_cst()                                                            \
    do {                                                                                 \
        ck_pr_fence_atomic_load();                                                       \
        ck_pr_fence_acquire();                                                           \
    } while (0)
/* Plain loads and stores: the same pre/post fences give acquire/release. */
#define FXI_CK_LPOST_relaxed()
#define FXI_CK_LPOST_acquire() ck_pr_fence_acquire()
#define FXI_CK_SPRE_relaxed()
#define FXI_CK_SPRE_release() ck_pr_fence_release()

#define FXI_ATOMIC_LOAD(T, S, ORD)                                                       \
    static inline T fxi_atomic_load_##ORD##_##S(const void *p)                           \
    {                                                                                    \
        T v = (T) ck_pr_load_##S((T const *) p);                                         \
        FXI_CK_LPOST_##ORD();                                                            \
        return v;                                                                        \
    }
#define FXI_ATOMIC_STORE(T, S, ORD)                                                      \
    static inline void fxi_atomic_store_##ORD##_##S(void *p, T v)                        \
    {                                                                                    \
        FXI_CK_SPRE_##ORD();                                                             \
        ck_pr_store_##S((T *) p, v);                                                     \
    }
#define FXI_ATOMIC_XCHG(T, S, ORD)                                                       \
    static inline T fxi_atomic_exchange_##ORD##_##S(void *p, T v)                        \
    {                                                                                    \
        FXI_CK_PRE_##ORD();                                                              \
        T old = (T) ck_pr_fas_##S((T *) p, v);                                           \
        FXI_CK_POST_##ORD();                                                             \
        return old;                                                                      \
    }
#define FXI_ATOMIC_FAA(T, S, ORD)                                                        \
    static inline T fxi_atomic_fetch_add_##ORD##_##S(void *p, T v)                       \
    {                                                                                    \
        FXI_CK_PRE_##ORD();                                                              \
        T old = (T) ck_pr_faa_##S((T *) p, v);                                           \
        FXI_CK_POST_##ORD();                                                             \
        return old;                                                                      \
    }
/* A failed cas gets the post fence too: it is the acquire of the load. */
#define FXI_ATOMIC_CAS(T, S, ORD)                                                        \
    static inline bool fxi_atomic_cas_##ORD##_##S(void *p, T o, T n)                     \
    {                                                                                    \
        FXI_CK_PRE_##ORD();                                                              \
        bool ok = ck_pr_cas_##S((T *) p, o, n);                                          \
        FXI_CK_POST_##ORD();                                                             \
        return ok;                                                                       \
    }

static inline void fxi_atomic_fence_acquire(void)
{
    ck_pr_fence_acquire();
}
static inline void fxi_atomic_fence_release(void)
{
    ck_pr_fence_release();
}
/* Full fence, including store-load (mfence on x86). */
static inline void fxi_atomic_fence_seq_cst(void)
{
    ck_pr_fence_memory();
}

#endif

#define FXI_ATOMIC_RMW_ALL(GEN, T, S)                                                    \
    GEN(T, S, relaxed)                                                                   \
    GEN(T, S, acquire)                                                                   \
    GEN(T, S, release)                                                                   \
    GEN(T, S, acq_rel)                                                                   \
    GEN(T, S, seq_cst)

#define FXI_ATOMIC_TYPE(T, S)                                                            \
    FXI_ATOMIC_LOAD(T, S, relaxed)                                                       \
    FXI_ATOMIC_LOAD(T, S, acquire)                                                       \
    FXI_ATOMIC_STORE(T, S, relaxed)                                                      \
    FXI_ATOMIC_STORE(T, S, release)                                                      \
    FXI_ATOMIC_RMW_ALL(FXI_ATOMIC_XCHG, T, S)                                            \
    FXI_ATOMIC_RMW_ALL(FXI_ATOMIC_CAS, T, S)

FXI_ATOMIC_TYPE(uint32_t, 32)
FXI_ATOMIC_TYPE(uint64_t, 64)
FXI_ATOMIC_TYPE(void *, ptr)
FXI_ATOMIC_RMW_ALL(FXI_ATOMIC_FAA, uint32_t, 32)
FXI_ATOMIC_RMW_ALL(FXI_ATOMIC_FAA, uint64_t, 64)

#endif
