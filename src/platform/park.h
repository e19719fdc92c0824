/* Futex-based parking, clocks and CPU hints. */
#ifndef FXI_PLATFORM_PARK_H
#define FXI_PLATFORM_PARK_H

#include <stdint.h>

/* Sleeps while *word == expected, up to timeout_ns (< 0: forever).
 * Spurious returns are allowed; callers re-check their condition. */
void fxi_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/* Wakes up to n threads waiting on word. */
void fxi_futex_wake(uint32_t *word, int n);

/* CLOCK_MONOTONIC in nanoseconds / milliseconds. */
uint64_t fxi_now_ns(void);
static inline uint64_t fxi_now_ms(void)
{
    return fxi_now_ns() / 1000000u;
}

/* CLOCK_REALTIME in nanoseconds since 1970 (log lines). */
uint64_t fxi_wall_ns(void);

/* Online CPUs (>= 1). */
unsigned fxi_cpu_count(void);

static inline void fxi_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
