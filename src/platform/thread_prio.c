/* Thread priority; see thread_prio.h. On Linux a nice value belongs to a
 * thread (setpriority on its tid), not to the whole process. */
#include "platform/thread_prio.h"

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
