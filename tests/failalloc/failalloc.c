/* failalloc: a test-only LD_PRELOAD shim that makes the Nth allocation
 * fail (returns NULL, errno ENOMEM), to check that fauxtp survives
 * running out of memory at any point.
 *
 * Interposes malloc, calloc, realloc, posix_memalign, aligned_alloc and
 * memalign; forwards to the next definition (libc, or ASan's allocator in
 * a sanitizer build), so free() needs no interposing. Use it with a
 * -Djemalloc=disabled build: with jemalloc the library allocates through
 * mallocx, which this shim does not see.
 *
 * Counting starts once armed: when the program calls failalloc_arm()
 * (declare it weak: `extern void failalloc_arm(void) __attribute__((weak));`
 * and call it if non-NULL), or at load time with FAILALLOC_ARMED=1. So the
 * start-up of libc, the sanitizer runtime and the test harness is never
 * hit. failalloc_disarm() stops counting and failing.
 *
 * Environment:
 *   FAILALLOC_NTH=N     fail the Nth allocation after arming (1-based)
 *   FAILALLOC_EVERY=K   with NTH: also fail every Kth one after it
 *   FAILALLOC_COUNT=1   fail nothing; at exit print
 *                       "failalloc: allocations=<n>" on stderr
 *   FAILALLOC_VERBOSE=1 print "failalloc: failing allocation <n>" when it
 *                       fails one; =2 also its call stack (addresses:
 *                       addr2line -e the executable resolves them; loading
 *                       the unwinder makes LeakSanitizer report ld.so's
 *                       allocations, so not for sweeps)
 *   FAILALLOC_ANY=1     count allocations from every caller; by default
 *                       only those called directly from the main
 *                       executable (the workload and the statically linked
 *                       library) count, so libc's own internal allocations
 *                       (pthread_getattr_np for the sanitizer runtime,
 *                       stdio buffers) are not failed: those would test
 *                       libc and ASan, not fauxtp
 * Thread-safe: one atomic counter; which thread gets the Nth allocation
 * varies from run to run. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void *(*malloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef void *(*aligned_alloc_fn)(size_t, size_t);

static malloc_fn next_malloc;
static calloc_fn next_calloc;
static realloc_fn next_realloc;
static posix_memalign_fn next_posix_memalign;
static aligned_alloc_fn next_aligned_alloc;
static aligned_alloc_fn next_memalign;
static void (*next_free)(void *);

/* Configuration: written once by the constructor, before any thread. */
static uint64_t cfg_nth, cfg_every;
static int cfg_count, cfg_verbose, cfg_any;
/* The main executable's loaded segments: [exe_lo, exe_hi). */
static uintptr_t exe_lo, exe_hi;

/* Relaxed atomics: the counter only has to hand out distinct numbers;
 * nothing else is published through it. `armed` is a plain flag read
 * without ordering: allocations racing with arm/disarm may or may not
 * count, which is fine for a fault injector. */
static atomic_uint_fast64_t n_allocs;
static atomic_int armed;
static atomic_uint_fast64_t n_failed;

/* dlsym may call calloc before next_calloc is known: serve it from here. */
static char boot_buf[4096];
static size_t boot_used;
static int resolving;

static void resolve(void)
{
    if (next_malloc || resolving)
        return;
    resolving = 1;
    /* POSIX's way to store a dlsym result in a function pointer. */
    *(void **) &next_malloc = dlsym(RTLD_NEXT, "malloc");
    *(void **) &next_calloc = dlsym(RTLD_NEXT, "calloc");
    *(void **) &next_realloc = dlsym(RTLD_NEXT, "realloc");
    *(void **) &next_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    *(void **) &next_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    *(void **) &next_memalign = dlsym(RTLD_NEXT, "memalign");
    *(void **) &next_free = dlsym(RTLD_NEXT, "free");
    resolving = 0;
}

static void *boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t) 15;
    if (boot_used + n > sizeof boot_buf)
        return NULL;
    void *p = boot_buf + boot_used;
    boot_used += n;
    return p;
}

static int find_exe(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void) size;
    (void) arg;
    if (info->dlpi_name && info->dlpi_name[0])
        return 0; /* the main program is the one without a name */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!exe_lo || lo < exe_lo)
            exe_lo = lo;
        if (hi > exe_hi)
            exe_hi = hi;
    }
    return 1;
}

/* true when this allocation (called from `caller`) must fail. */
static int should_fail_from(const void *caller)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed))
        return 0;
    if (!cfg_any && !((uintptr_t) caller >= exe_lo && (uintptr_t) caller < exe_hi))
        return 0;
    uint64_t n = atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed) + 1;
    if (cfg_count || cfg_nth == 0 || n < cfg_nth)
        return 0;
    if (n != cfg_nth && (cfg_every == 0 || (n - cfg_nth) % cfg_every != 0))
        return 0;
    atomic_fetch_add_explicit(&n_failed, 1, memory_order_relaxed);
    if (cfg_verbose) {
        char line[64];
        int len = snprintf(line, sizeof line, "failalloc: failing allocation %llu\n",
                           (unsigned long long) n);
        if (write(2, line, (size_t) len) < 0) {
            /* nothing to do */
        }
        if (cfg_verbose > 1) {
            void *frames[24];
            int n_frames = backtrace(frames, 24);
            backtrace_symbols_fd(frames, n_frames, 2); /* does not allocate */
        }
    }
    errno = ENOMEM;
    return 1;
}

void failalloc_arm(void)
{
    atomic_store_explicit(&armed, 1, memory_order_relaxed);
}

void failalloc_disarm(void)
{
    atomic_store_explicit(&armed, 0, memory_order_relaxed);
}

static void report(void)
{
    if (!cfg_count)
        return;
    char line[96];
    int len = snprintf(line, sizeof line, "failalloc: allocations=%llu\n",
                       (unsigned long long) atomic_load(&n_allocs));
    if (write(2, line, (size_t) len) < 0) {
        /* nothing to do */
    }
}

static uint64_t env_u64(const char *name)
{
    const char *v = getenv(name);
    return v ? strtoull(v, NULL, 10) : 0;
}

__attribute__((constructor)) static void failalloc_init(void)
{
    resolve();
    cfg_nth = env_u64("FAILALLOC_NTH");
    cfg_every = env_u64("FAILALLOC_EVERY");
    cfg_count = env_u64("FAILALLOC_COUNT") != 0;
    cfg_verbose = (int) env_u64("FAILALLOC_VERBOSE");
    cfg_any = env_u64("FAILALLOC_ANY") != 0;
    dl_iterate_phdr(find_exe, NULL);
    if (cfg_verbose > 1) {
        void *f[2];
        backtrace(f, 2); /* loads libgcc's unwinder now, not when failing */
    }
    if (cfg_count)
        atexit(report);
    if (env_u64("FAILALLOC_ARMED"))
        failalloc_arm();
}

void *malloc(size_t n)
{
    if (!next_malloc) {
        resolve();
        if (!next_malloc)
            return boot_alloc(n);
    }
    return should_fail_from(__builtin_return_address(0)) ? NULL : next_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    if (!next_calloc) {
        resolve();
        if (!next_calloc)
            return boot_alloc(a * b); /* boot_buf is zeroed */
    }
    return should_fail_from(__builtin_return_address(0)) ? NULL : next_calloc(a, b);
}

static int is_boot(const void *p)
{
    return (const char *) p >= boot_buf && (const char *) p < boot_buf + sizeof boot_buf;
}

void free(void *p)
{
    if (!p || is_boot(p))
        return;
    if (!next_free)
        resolve();
    if (next_free)
        next_free(p);
}

void *realloc(void *p, size_t n)
{
    resolve();
    if (is_boot(p)) {
        void *q = malloc(n);
        if (q)
            memcpy(q, p, n < 64 ? n : 64);
        return q;
    }
    return should_fail_from(__builtin_return_address(0)) ? NULL : next_realloc(p, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    resolve();
    if (should_fail_from(__builtin_return_address(0)))
        return ENOMEM;
    return next_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    resolve();
    return should_fail_from(__builtin_return_address(0)) ? NULL
                                                         : next_aligned_alloc(align, n);
}

void *memalign(size_t align, size_t n)
{
    resolve();
    return should_fail_from(__builtin_return_address(0)) ? NULL : next_memalign(align, n);
}
