/* Thread priority; see thread_prio.h. On Linux a nice value belongs to a
 * thread (setpriority on its tid), not to the whole process. */
#include "platform/thread_prio.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <errno.h>

int fxi_thread_lower_priority(int delta)
{
#ifdef __linux__
    id_t tid = (id_t) syscall(SYS_gettid);
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, tid); /* -1 is a valid answer */
    if (cur == -1 && errno != 0)
        return -1;
    int want = cur + delta > 19 ? 19 : cur + delta;
    return setpriority(PRIO_PROCESS, tid, want) == 0 ? 0 : -1;
#else
    (void) delta;
    return -1;
#endif
}

int fxi_thread_idle_class(void)
{
#if defined(__linux__) && defined(SCHED_IDLE)
    struct sched_param sp = {.sched_priority = 0};
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) == 0)
        return 0;
#endif
    return fxi_thread_lower_priority(19); /* the nearest thing: nice 19 */
}
