/* fork() detection: see fork.h. */
#include "platform/fork.h"

#include <fauxtp/error.h>
#include <pthread.h>

uint32_t fxi_fork_gen;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_rc;

static void on_fork_child(void)
{
    /* Runs in the child only, on its one thread, before fork() returns:
     * nothing else reads concurrently. Relaxed: see fxi_fork_generation. */
    fxi_atomic_store_relaxed_32(&fxi_fork_gen, fxi_fork_generation() + 1u);
}

static void register_once(void)
{
    once_rc = pthread_atfork(NULL, NULL, on_fork_child) == 0 ? 0 : FX_ESYS;
}

uint32_t fxi_fork_register(int *err)
{
    /* pthread_once orders once_rc's write before this read. */
    pthread_once(&once, register_once);
    *err = once_rc;
    return fxi_fork_generation();
}
