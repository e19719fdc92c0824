/* Thread priority: lowering the calling thread's CPU priority, and what
 * the pool's starvation guard needs to watch and raise a thread in
 * Linux's SCHED_IDLE class (src/pool/bguard.c). */
#ifndef FXI_PLATFORM_THREAD_PRIO_H
#define FXI_PLATFORM_THREAD_PRIO_H

#include <stdint.h>

/* Makes the calling thread `delta` (> 0) nicer than it is (a new thread
 * starts with its creator's value), capped at 19 (Linux: a nice value is
 * per thread; lowering needs no privilege). Best effort: 0, or -1 when
 * the system refused or has no per-thread priority. Any thread. */
int fxi_thread_lower_priority(int delta);

/* Moves the calling thread to Linux's SCHED_IDLE class: it runs only on
 * CPU time no normal thread wants, and a normal thread that wakes up
 * preempts it at once (no wake-up granularity, unlike any nice value).
 * Needs no privilege (leaving the class again does: CAP_SYS_NICE or an
 * RLIMIT_NICE that allows the thread's nice value). Where SCHED_IDLE is
 * refused or missing, falls back to nice 19. 1: in SCHED_IDLE now; 0:
 * nice 19 instead; -1 when neither worked. Any thread. */
int fxi_thread_idle_class(void);

/* The calling thread's kernel thread id (0 where there is none). */
int32_t fxi_thread_tid(void);

/* Thread tid of this process: its CPU time and its time spent waiting on
 * a run queue (runnable but not running), in ns, from
 * /proc/self/task/<tid>/schedstat. 0, or -1 when unavailable (not Linux,
 * no /proc, a kernel without CONFIG_SCHED_INFO). Any thread. */
int fxi_thread_sched_times(int32_t tid, uint64_t *cpu_ns, uint64_t *wait_ns);

/* Moves thread tid of this process from SCHED_IDLE back to the normal
 * class, keeping its nice value. 0, or -1 (errno EPERM without the
 * privilege; see fxi_thread_idle_class). Any thread. */
int fxi_thread_leave_idle_class(int32_t tid);

#endif
