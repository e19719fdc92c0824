/* The poller the scheduler calls (fxi_poller, sched/sched.h): one epoll
 * instance per VM, sockets registered once, edge-triggered (no epoll_ctl
 * per event; the socket remembers readiness in rd_ready, net_sock.c), and
 * an eventfd that wakes the one parked thread waiting in it.
 *
 * wait() does not consume events: it sleeps in ppoll() on the epoll fd
 * (readable while events are ready) and the eventfd. The thread then goes
 * online and poll() takes the events with epoll_wait(0) and handles them
 * right there, so an event reaches its owner's mailbox, and usually the
 * owner runs, on the thread that saw it: no hop to another thread. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "io/net_impl.h"

#define EVENTS_PER_POLL 64

static int net_poll(fxi_poller *io, fxi_sched *sc)
{
    fxi_net *n = (fxi_net *) io;
    struct epoll_event ev[EVENTS_PER_POLL];
    int k = epoll_wait(n->epfd, ev, EVENTS_PER_POLL, 0);
    for (int i = 0; i < k; i++) {
        uint64_t id = ev[i].data.u64;
        fxi_nslot *sl = fxi_net_slot_lock(n, id);
        if (!sl)
            continue; /* closed after the event was queued */
        if (!fxi_net_ready(n, sl, id, ev[i].events, sc))
            fxi_net_slot_unlock(sl);
    }
    return k > 0 ? k : 0;
}

static int net_wait(fxi_poller *io, int64_t timeout_ns)
{
    fxi_net *n = (fxi_net *) io;
    struct pollfd p[2] = {{.fd = n->epfd, .events = POLLIN},
                          {.fd = n->evfd, .events = POLLIN}};
    struct timespec ts, *tp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tp = &ts;
    }
    int k = ppoll(p, 2, tp, NULL);
    if (k <= 0)
        return 0;
    if (p[1].revents & POLLIN) {
        uint64_t v;
        (void) !read(n->evfd, &v, sizeof v); /* drain: non-blocking */
    }
    return (p[0].revents & POLLIN) ? 1 : 0;
}

static void net_wake(fxi_poller *io)
{
    fxi_net *n = (fxi_net *) io;
    uint64_t one = 1;
    (void) !write(n->evfd, &one, sizeof one);
}

int fxi_net_poller_init(fxi_net *n)
{
    n->poller.poll = net_poll;
    n->poller.wait = net_wait;
    n->poller.wake = net_wake;
    n->epfd = epoll_create1(EPOLL_CLOEXEC);
    n->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->epfd < 0 || n->evfd < 0)
        return (errno == EMFILE || errno == ENFILE) ? FX_ENOFILE : FX_ESYS;
    return 0;
}

void fxi_net_poller_fini(fxi_net *n)
{
    if (n->epfd >= 0)
        close(n->epfd);
    if (n->evfd >= 0)
        close(n->evfd);
    n->epfd = n->evfd = -1;
}
