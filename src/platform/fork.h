/* fork() detection. A pthread_atfork child handler bumps a process-wide
 * fork generation; a VM records the generation it was created in, and its
 * entry points compare the two with one plain load (no syscall), so a
 * forked child, which has the parent's memory but none of its scheduler
 * threads, gets FX_EFORKED instead of a send that is never processed.
 * Internal. */
#ifndef FXI_PLATFORM_FORK_H
#define FXI_PLATFORM_FORK_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/atomic.h"

/* Written only by the atfork child handler, which runs in the child's one
 * thread before fork() returns there; read by every entry point. */
extern uint32_t fxi_fork_gen;

/* Registers the atfork handler once per process (pthread_once) and
 * returns the current generation, to be stored in the VM. 0 or FX_ESYS
 * through *err when the handler could not be registered. Any thread. */
uint32_t fxi_fork_register(int *err);

/* The current fork generation. Relaxed: the only writer is the child's
 * atfork handler, sequenced before anything else the child's (single)
 * thread does, so program order already makes the new value visible; in
 * the parent the value never changes. Any thread. */
static inline uint32_t fxi_fork_generation(void)
{
    return fxi_atomic_load_relaxed_32(&fxi_fork_gen);
}

/* True when gen was recorded in a process this one was forked from. */
static inline bool fxi_forked_since(uint32_t gen)
{
    return __builtin_expect(fxi_fork_generation() != gen, 0);
}

#endif
