/* Thread priority: lowering the calling thread's CPU priority. */
#ifndef FXI_PLATFORM_THREAD_PRIO_H
#define FXI_PLATFORM_THREAD_PRIO_H

#include <stdint.h>

/* Makes the calling thread `delta` (> 0) nicer than it is (a new thread
 * starts with its creator's value), capped at 19 (Linux: a nice value is
 * per thread; lowering needs no privilege). Best effort: 0, or -1 when
 * the system refused or has no per-thread priority. Any thread. */
int fxi_thread_lower_priority(int delta);

/* As fxi_thread_lower_priority, and asks for a time slice of slice_ns
 * (Linux 6.12+, EEVDF's per-thread slice request, clamped by the kernel
 * to 0.1..100 ms; older kernels ignore it). A short slice bounds how long
 * the thread keeps its CPU once a normal thread that woke up is due
 * (EEVDF protects the running thread's slice: run-to-parity). Needs no
 * privilege. Falls back to fxi_thread_lower_priority when the call is
 * refused. Best effort: 0 or -1. Any thread. */
int fxi_thread_lower_priority_slice(int delta, uint64_t slice_ns);

/* Moves the calling thread to Linux's SCHED_IDLE class: it runs only on
 * CPU time no normal thread wants, and a normal thread that wakes up
 * preempts it at once (no wake-up granularity, unlike any nice value).
 * Needs no privilege (leaving the class again would). Where SCHED_IDLE
 * is refused or missing, falls back to nice 19. Best effort: 0, or -1
 * when neither worked. Any thread. */
int fxi_thread_idle_class(void);

#endif
