/* membarrier(2) wrapper (Linux 4.14+). */
#include "platform/membarrier.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/membarrier.h>
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool available;

static void do_init(void)
{
#if defined(__linux__) && defined(SYS_membarrier)
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
        return;
    available =
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
}

bool fxi_membarrier_init(void)
{
    pthread_once(&once, do_init);
    return available;
}

bool fxi_membarrier(void)
{
#if defined(__linux__) && defined(SYS_membarrier)
    return available &&
           syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
    return false;
#endif
}
