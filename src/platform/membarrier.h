/* An asymmetric full fence: membarrier(2), MEMBARRIER_CMD_PRIVATE_EXPEDITED.
 * When fxi_membarrier returns, every running thread of the process has
 * executed a full memory barrier, so a thread that pairs its
 * store-then-load with only a compiler barrier still forms a Dekker pair
 * with the caller (the scheme of liburcu's urcu-memb). Used by the
 * watchdog (docs/watchdog.md) so the message path pays no fence. */
#ifndef FXI_PLATFORM_MEMBARRIER_H
#define FXI_PLATFORM_MEMBARRIER_H

#include <stdbool.h>

/* Registers the process for expedited private membarriers (once; later
 * calls return the first answer). False when the kernel or a seccomp
 * filter refuses it. Any thread. */
bool fxi_membarrier_init(void);
/* The fence itself; false if it did not happen (e.g. in a forked child
 * that is not registered), and the caller must not rely on it. Any
 * thread; a system call (an IPI to the CPUs running our threads). */
bool fxi_membarrier(void);

#endif
