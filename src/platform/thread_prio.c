/* Thread priority; see thread_prio.h. On Linux a nice value belongs to a
 * thread (setpriority on its tid), not to the whole process. */
#include "platform/thread_prio.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* struct sched_attr (linux/sched/types.h; glibc 2.36 has no wrapper):
 * the first version of the layout, which every kernel with the call
 * accepts (size 48). */
typedef struct fxi_sched_attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
} fxi_sched_attr;

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

int fxi_thread_lower_priority_slice(int delta, uint64_t slice_ns)
{
#if defined(__linux__) && defined(SYS_sched_setattr)
    id_t tid = (id_t) syscall(SYS_gettid);
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, tid);
    if (cur == -1 && errno != 0)
        return -1;
    fxi_sched_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.policy = SCHED_OTHER;
    a.nice = cur + delta > 19 ? 19 : cur + delta;
    a.runtime = slice_ns; /* the slice request (Linux 6.12+; ignored before) */
    if (syscall(SYS_sched_setattr, 0, &a, 0) == 0)
        return 0;
#else
    (void) slice_ns;
#endif
    return fxi_thread_lower_priority(delta);
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
