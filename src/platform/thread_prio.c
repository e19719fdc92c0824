/* Thread priority; see thread_prio.h. On Linux a nice value belongs to a
 * thread (setpriority on its tid), not to the whole process. */
#include "platform/thread_prio.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

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
        return 1;
#endif
    return fxi_thread_lower_priority(19); /* the nearest thing: nice 19 */
}

int32_t fxi_thread_tid(void)
{
#ifdef __linux__
    return (int32_t) syscall(SYS_gettid);
#else
    return 0;
#endif
}

int fxi_thread_sched_times(int32_t tid, uint64_t *cpu_ns, uint64_t *wait_ns)
{
#ifdef __linux__
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/self/task/%ld/schedstat", (long) tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* "<ns on the CPU> <ns waiting on a run queue> <time slices>" */
    char *end;
    unsigned long long run = strtoull(buf, &end, 10);
    if (end == buf)
        return -1;
    char *p = end;
    unsigned long long wait = strtoull(p, &end, 10);
    if (end == p)
        return -1;
    *cpu_ns = run;
    *wait_ns = wait;
    return 0;
#else
    (void) tid;
    (void) cpu_ns;
    (void) wait_ns;
    return -1;
#endif
}

int fxi_thread_leave_idle_class(int32_t tid)
{
#if defined(__linux__) && defined(SCHED_IDLE)
    struct sched_param sp = {.sched_priority = 0};
    return sched_setscheduler((pid_t) tid, SCHED_OTHER, &sp) == 0 ? 0 : -1;
#else
    (void) tid;
    errno = ENOSYS;
    return -1;
#endif
}
