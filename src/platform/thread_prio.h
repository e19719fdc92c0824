/* Thread priority: lowering the calling thread's CPU priority. */
#ifndef FXI_PLATFORM_THREAD_PRIO_H
#define FXI_PLATFORM_THREAD_PRIO_H

/* Makes the calling thread `delta` (> 0) nicer than it is (a new thread
 * starts with its creator's value), capped at 19 (Linux: a nice value is
 * per thread; lowering needs no privilege). Best effort: 0, or -1 when
 * the system refused or has no per-thread priority. Any thread. */
int fxi_thread_lower_priority(int delta);

#endif
