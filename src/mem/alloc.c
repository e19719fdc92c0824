/* The allocator choice and the test-only allocation-failure hook; see
 * alloc.h. */
#include "mem/alloc.h"

#include <fauxtp/version.h>

#if FX_HAVE_JEMALLOC
bool fxi_alloc_jemalloc;

/* Runs when the library is loaded (or, linked statically, before main),
 * before any VM and so before any allocation of ours: the choice is made
 * once and every later fxi_free matches the allocation it frees. Both
 * entry points must be there (a weak reference the dynamic linker could
 * not bind reads NULL). */
__attribute__((constructor)) static void choose_allocator(void)
{
    fxi_alloc_jemalloc = mallocx != NULL && sdallocx != NULL;
}
#endif

const char *fxi_alloc_name(void)
{
    return FXI_JE ? "jemalloc" : "libc";
}

const char *fx_allocator_name(void)
{
    return fxi_alloc_name();
}

#if FX_FAULT_INJECTION
/* 0: disarmed; n > 0: the n-th allocation from the arming fails;
 * -1: sticky, every allocation fails. */
int64_t fxi_alloc_fail_countdown;
static bool fail_sticky;
static uint64_t failed;

void fxi_alloc_fail_nth(int64_t n, bool sticky)
{
    /* Relaxed: the test arms the hook before the operation it probes and
     * orders that through its own synchronisation (the send or call). */
    __atomic_store_n(&fail_sticky, sticky, __ATOMIC_RELAXED);
    __atomic_store_n(&fxi_alloc_fail_countdown, n > 0 ? n : 0, __ATOMIC_RELAXED);
}

uint64_t fxi_alloc_failed_count(void)
{
    /* Relaxed: a statistic read after the threads that count it joined or
     * synchronised with the reader. */
    return __atomic_load_n(&failed, __ATOMIC_RELAXED);
}

bool fxi_alloc_fail_now_slow(void)
{
    /* Relaxed RMWs: each allocation takes one distinct tick of the
     * countdown, so exactly one of them sees it reach zero; nothing else
     * is ordered by it. */
    int64_t c = __atomic_load_n(&fxi_alloc_fail_countdown, __ATOMIC_RELAXED);
    for (;;) {
        if (c == 0)
            return false;
        if (c < 0) {
            __atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED);
            return true;
        }
        int64_t next =
            c == 1 ? (__atomic_load_n(&fail_sticky, __ATOMIC_RELAXED) ? -1 : 0) : c - 1;
        if (__atomic_compare_exchange_n(&fxi_alloc_fail_countdown, &c, next, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            if (c != 1)
                return false;
            __atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED);
            return true;
        }
    }
}
#endif
