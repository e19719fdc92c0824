/* The poller the scheduler calls (fxi_poller, sched/sched.h): one epoll
 * instance per VM, sockets registered once, edge-triggered (no epoll_ctl
 * per event; the socket remembers readiness in rd_ready, net_sock.c), and
 * an eventfd, registered (level-triggered) in the same epoll instance,
 * that wakes the one parked thread waiting in it; that thread alone reads
 * it.
 *
 * wait() is the parked thread's sleep and its poll in one system call: it
 * blocks in epoll_wait and keeps the events it got in the calling thread's
 * own buffer (evq). The thread then goes online and poll() handles those
 * events right there, without another epoll_wait, so an event reaches its
 * owner's mailbox, and usually the owner runs, on the thread that saw it:
 * no hop to another thread. A busy thread's poll() (evq empty) takes
 * ready events with epoll_wait(0). docs/net.md, "The poller". */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "io/net_impl.h"
#include "io/net_sys.h"
#include "platform/atomic.h"

/* The eventfd's epoll data: 0 is never a socket handle (handles carry a
 * tag bit, net_table.c). */
#define WAKE_ID 0u

/* Handles the events in ev[0..k) on scheduler thread sc. */
static int handle(fxi_net *n, fxi_sched *sc, const struct epoll_event *ev, int k)
{
    int done = 0;
    for (int i = 0; i < k; i++) {
        uint64_t id = ev[i].data.u64;
        if (id == WAKE_ID)
            continue;
        done++;
        fxi_nslot *sl = fxi_net_slot_lock(n, id);
        if (!sl)
            continue; /* closed after the event was queued */
        if (!fxi_net_ready(n, sl, id, ev[i].events, sc))
            fxi_net_slot_unlock(sl);
    }
    return done;
}

static int net_poll(fxi_poller *io, fxi_sched *sc)
{
    fxi_net *n = (fxi_net *) io;
    fxi_net_evq *q = sc->id < n->nthreads ? &n->evq[sc->id] : NULL;
    if (q && q->n > 0) {
        /* Events the thread's wait() took: handled now that it is online.
         * q->n is reset first: a handler never re-enters poll, but keep
         * the buffer consistent anyway. */
        int k = q->n;
        q->n = 0;
        return handle(n, sc, q->ev, k);
    }
    struct epoll_event ev[FXI_NET_EVENTS];
    int k = fxi_sys_epoll_wait(n->epfd, ev, FXI_NET_EVENTS, 0);
    return k > 0 ? handle(n, sc, ev, k) : 0;
}

static int net_wait(fxi_poller *io, fxi_sched *sc, int64_t timeout_ns)
{
    fxi_net *n = (fxi_net *) io;
    if (sc->id >= n->nthreads)
        return 0; /* not one of the VM's slots: cannot happen */
    fxi_net_evq *q = &n->evq[sc->id];
    int k;
    /* Relaxed: a cached capability bit; every thread would reach the same
     * value on its own. */
    if (fxi_atomic_load_relaxed_32(&n->no_pwait2) == 0) {
        struct timespec ts, *tp = NULL;
        if (timeout_ns >= 0) {
            ts.tv_sec = timeout_ns / 1000000000;
            ts.tv_nsec = timeout_ns % 1000000000;
            tp = &ts;
        }
        k = fxi_sys_epoll_pwait2(n->epfd, q->ev, FXI_NET_EVENTS, tp);
        if (k < 0 && errno == ENOSYS) {
            fxi_atomic_store_relaxed_32(&n->no_pwait2, 1); /* as above */
            return 0;                                      /* spurious: retried */
        }
    } else {
        /* Kernels before 5.11: milliseconds, rounded up so a timer is not
         * missed by a wake-up that comes too early. */
        int ms = timeout_ns < 0 ? -1
                 : timeout_ns > (int64_t) 1000 * 1000 * 1000 * 1000
                     ? 1000 * 1000 * 1000
                     : (int) ((timeout_ns + 999999) / 1000000);
        k = fxi_sys_epoll_wait(n->epfd, q->ev, FXI_NET_EVENTS, ms);
    }
    if (k <= 0)
        return 0;
    int socks = 0;
    for (int i = 0; i < k; i++) {
        if (q->ev[i].data.u64 != WAKE_ID) {
            socks++;
        } else {
            /* The eventfd is level-triggered and only the waiting thread
             * reads it: a busy thread's non-blocking poll also sees it,
             * and must not take the wake-up meant for this one (an
             * edge-triggered eventfd lost it that way). */
            uint64_t v;
            (void) !read(n->evfd, &v, sizeof v); /* drain: non-blocking */
        }
    }
    q->n = socks > 0 ? k : 0;
    return socks > 0;
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
    n->evq = fxi_alloc_aligned(n->nthreads * sizeof *n->evq, FXI_CACHELINE);
    if (!n->evq)
        return FX_ENOMEM;
    for (uint32_t i = 0; i < n->nthreads; i++)
        n->evq[i].n = 0;
    n->epfd = epoll_create1(EPOLL_CLOEXEC);
    n->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->epfd < 0 || n->evfd < 0)
        return (errno == EMFILE || errno == ENFILE) ? FX_ENOFILE : FX_ESYS;
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = WAKE_ID};
    if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->evfd, &e) != 0)
        return errno == ENOMEM ? FX_ENOMEM : FX_ESYS;
    return 0;
}

void fxi_net_poller_fini(fxi_net *n)
{
    if (n->epfd >= 0)
        close(n->epfd);
    if (n->evfd >= 0)
        close(n->evfd);
    n->epfd = n->evfd = -1;
    if (n->evq)
        fxi_free_aligned(n->evq, n->nthreads * sizeof *n->evq, FXI_CACHELINE);
    n->evq = NULL;
}
