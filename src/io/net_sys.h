/* The network layer's hot system calls without glibc's cancellation
 * wrappers. In a multithreaded process every read, send, sendmsg and
 * epoll wait of glibc is a cancellation point: it switches the thread to
 * asynchronous cancellation and back around the call, two atomic
 * read-modify-writes on the thread's cancel word per call (about 60 of
 * the ~1,900 user-space instructions of a plain request to the HTTP
 * example: docs/net.md, "Cost per request"). Scheduler threads are never
 * cancelled (fx_vm_shutdown stops them by message), so the runtime makes
 * these calls with syscall(2), which is not a cancellation point.
 * Sanitizer builds keep the libc calls: ASan checks their buffers and
 * TSan models them; so do 32-bit builds (whose kernel timespec is not
 * struct timespec). Same return value and errno as the libc calls. */
#ifndef FXI_IO_NET_SYS_H
#define FXI_IO_NET_SYS_H

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FXI_NET_LIBC_CALLS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||               \
    __has_feature(memory_sanitizer)
#define FXI_NET_LIBC_CALLS 1
#endif
#endif
#if !defined(FXI_NET_LIBC_CALLS) &&                                                      \
    !(defined(__LP64__) && defined(SYS_read) && defined(SYS_sendto) &&                   \
      defined(SYS_sendmsg) && defined(SYS_epoll_pwait) && defined(SYS_epoll_pwait2))
#define FXI_NET_LIBC_CALLS 1
#endif

#ifdef FXI_NET_LIBC_CALLS
static inline ssize_t fxi_sys_read(int fd, void *buf, size_t len)
{
    return read(fd, buf, len);
}
static inline ssize_t fxi_sys_send(int fd, const void *buf, size_t len, int flags)
{
    return send(fd, buf, len, flags);
}
static inline ssize_t fxi_sys_sendmsg(int fd, const struct msghdr *mh, int flags)
{
    return sendmsg(fd, mh, flags);
}
static inline int fxi_sys_epoll_wait(int ep, struct epoll_event *ev, int max, int ms)
{
    return epoll_wait(ep, ev, max, ms);
}
static inline int fxi_sys_epoll_pwait2(int ep, struct epoll_event *ev, int max,
                                       const struct timespec *to)
{
    return epoll_pwait2(ep, ev, max, to, NULL);
}
#else
static inline ssize_t fxi_sys_read(int fd, void *buf, size_t len)
{
    return (ssize_t) syscall(SYS_read, fd, buf, len);
}
static inline ssize_t fxi_sys_send(int fd, const void *buf, size_t len, int flags)
{
    return (ssize_t) syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}
static inline ssize_t fxi_sys_sendmsg(int fd, const struct msghdr *mh, int flags)
{
    return (ssize_t) syscall(SYS_sendmsg, fd, mh, flags);
}
static inline int fxi_sys_epoll_wait(int ep, struct epoll_event *ev, int max, int ms)
{
    /* epoll_pwait without a mask is epoll_wait (some architectures have
     * only the former). */
    return (int) syscall(SYS_epoll_pwait, ep, ev, max, ms, NULL, 0);
}
static inline int fxi_sys_epoll_pwait2(int ep, struct epoll_event *ev, int max,
                                       const struct timespec *to)
{
    return (int) syscall(SYS_epoll_pwait2, ep, ev, max, to, NULL, 0);
}
#endif

#endif
