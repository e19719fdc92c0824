/* Thread priority: lowering the calling thread's CPU priority. */
#ifndef FXI_PLATFORM_THREAD_PRIO_H
#define FXI_PLATFORM_THREAD_PRIO_H

/* Makes the calling thread `delta` (> 0) nicer than it is (a new thread
 * starts with its creator's value), capped at 19 (Linux: a nice value is
 * per thread; lowering needs no privilege). Best effort: 0, or -1 when
 * the system refused or has no per-thread priority. Any thread. */
int fxi_thread_lower_priority(int delta);

/* Moves the calling thread to Linux's SCHED_IDLE class: it runs only on
 * CPU time no normal thread wants, and a normal thread that wakes up
 * preempts it at once (no wake-up granularity, unlike any nice value).
 * Needs no privilege (leaving the class again would). Where SCHED_IDLE
 * is refused or missing, falls back to nice 19. Best effort: 0, or -1
 * when neither worked. Any thread. */
int fxi_thread_idle_class(void);

#endif
