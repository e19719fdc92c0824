/* I/O on one socket, always under its slot's lock: readiness handling
 * (reads bounded by the credit, accepts, connect completion), the write
 * queue, and the messages to the owner. Messages are sent under the lock,
 * so those about one socket reach the owner in the order of the events. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io/net_impl.h"
#include "io/net_sys.h"

#define IOV_MAX_BATCH 64

int fxi_net_errno_code(int err)
{
    switch (err) {
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case ENOENT: /* Unix-domain path without a listener */
        return FX_ECONNECT;
    case ETIMEDOUT:
        return FX_ETIMEDOUT;
    case EADDRINUSE:
    case EADDRNOTAVAIL:
    case EACCES:
    case EAFNOSUPPORT:
        return FX_EADDR;
    case EMFILE:
    case ENFILE:
        return FX_ENOFILE;
    case ENOMEM:
    case ENOBUFS:
        return FX_ENOMEM;
    case EAGAIN:
        return FX_EAGAIN;
    case EMSGSIZE:
        return FX_EMSGSIZE;
    case EINVAL: /* the kernel refused an argument: a short address, port 0 */
        return FX_EINVAL;
    default:
        return FX_ESYS;
    }
}

void fxi_net_notify(fxi_net *n, fx_pid to, uint32_t type, uint64_t id, const void *data,
                    size_t size)
{
    fx_msg *m;
    if (fx_msg_new_behaviour(type, size, &m) != 0)
        return; /* out of memory: the event is lost, as a dropped message */
    if (size)
        memcpy(fx_msg_data_mut(m), data, size);
    fx_msg_set_ref(m, (fx_ref){id});
    if (fx_vm_send_msg(n->vm, to, m) != 0)
        fx_msg_free(m); /* owner dead: the janitor closes the socket */
}

void fxi_net_notify_error(fxi_net *n, fx_pid to, uint64_t id, int code, int err)
{
    fx_net_error e = {.code = code, .sys_errno = err};
    fxi_net_notify(n, to, FX_NET_ERROR, id, &e, sizeof e);
}

/* Frees only the partial passive-read buffer. */
static void drop_recv_buffer(fxi_sock *s)
{
    fx_msg_free(s->recv_buf);
    s->recv_buf = NULL;
    s->recv_got = 0;
}

void fxi_net_sock_drop_buffers(fxi_sock *s)
{
    for (fxi_wchunk *c = s->wq_head, *nx; c; c = nx) {
        nx = c->next;
        fx_msg_free(c->m);
        fxi_net_chunk_free(c);
    }
    s->wq_head = s->wq_tail = NULL;
    s->wq_bytes = 0;
    drop_recv_buffer(s);
}

int fxi_net_wait_writable(fxi_sock *s, fx_pid pid)
{
    for (uint32_t i = 0; i < s->wr_n; i++)
        if (fx_pid_eq(s->wr_wait[i], pid))
            return 0;
    if (s->wr_n == s->wr_cap) {
        uint32_t cap = s->wr_cap ? s->wr_cap * 2 : 4;
        fx_pid *w = fxi_alloc(cap * sizeof *w);
        if (!w)
            return FX_ENOMEM;
        if (s->wr_n)
            memcpy(w, s->wr_wait, s->wr_n * sizeof *w);
        fxi_net_free_writers_array(s);
        s->wr_wait = w;
        s->wr_cap = cap;
    }
    s->wr_wait[s->wr_n++] = pid;
    return 0;
}

void fxi_net_wake_writers(fxi_net *n, fxi_sock *s, uint64_t id)
{
    for (uint32_t i = 0; i < s->wr_n; i++)
        fxi_net_notify(n, s->wr_wait[i], FX_NET_WRITABLE, id, NULL, 0);
    s->wr_n = 0;
}

void fxi_net_free_writers(fxi_sock *s)
{
    fxi_net_free_writers_array(s);
    s->wr_wait = NULL;
    s->wr_n = s->wr_cap = 0;
}

uint32_t fxi_net_ep_events(const fxi_sock *s)
{
    if (s->kind == FXI_SK_STREAM)
        return EPOLLIN | EPOLLRDHUP | EPOLLET | (s->ep_out ? EPOLLOUT : 0u);
    return EPOLLIN | EPOLLET; /* listeners and UDP: reads (accepts) only */
}

void fxi_net_want_out(fxi_net *n, fxi_sock *s, uint64_t id)
{
    if (s->ep_out || s->kind != FXI_SK_STREAM)
        return;
    s->ep_out = true;
    fxi_net_kick(n, s, id); /* re-polls: a socket writable by now gets its event */
}

void fxi_net_kick(fxi_net *n, fxi_sock *s, uint64_t id)
{
    struct epoll_event e = {.events = fxi_net_ep_events(s), .data.u64 = id};
    /* Cannot fail on a registered fd under its lock; a failure would only
     * leave the socket quiet until its next edge or operation. */
    (void) epoll_ctl(n->epfd, EPOLL_CTL_MOD, s->fd, &e);
}

/* ---- writing ------------------------------------------------------------- */

int fxi_net_flush(fxi_net *n, fxi_sock *s, uint64_t id)
{
    while (s->wq_head) {
        struct iovec iov[IOV_MAX_BATCH];
        int k = 0;
        for (fxi_wchunk *c = s->wq_head; c && k < IOV_MAX_BATCH; c = c->next, k++) {
            iov[k].iov_base = (char *) fx_msg_data_mut(c->m) + c->off;
            iov[k].iov_len = fx_msg_size(c->m) - c->off;
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t) k};
        ssize_t w = fxi_sys_sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            /* Reset or shut down: nothing queued can be sent any more;
             * the refused senders learn it from their next send. */
            s->wr_closed = true;
            fxi_net_sock_drop_buffers(s);
            fxi_net_wake_writers(n, s, id);
            return FX_ECONNECT;
        }
        s->wq_bytes -= (size_t) w;
        while (w > 0) {
            fxi_wchunk *c = s->wq_head;
            size_t left = fx_msg_size(c->m) - c->off;
            if ((size_t) w < left) {
                c->off += (size_t) w;
                break;
            }
            w -= (ssize_t) left;
            s->wq_head = c->next;
            if (!s->wq_head)
                s->wq_tail = NULL;
            fx_msg_free(c->m);
            fxi_net_chunk_free(c);
        }
    }
    if (s->wr_n && s->wq_bytes < s->opts.low)
        fxi_net_wake_writers(n, s, id);
    if (!s->wq_head && s->shut_wr && !s->wr_closed) {
        (void) shutdown(s->fd, SHUT_WR);
        s->wr_closed = true;
    }
    return 0;
}

/* ---- reading ------------------------------------------------------------- */

static void deliver_bytes(fxi_net *n, fxi_sock *s, uint64_t id, const void *p, size_t len)
{
    fxi_net_notify(n, s->owner, FX_NET_DATA, id, p, len);
}

void fxi_net_deliver_partial(fxi_net *n, fxi_sock *s, uint64_t id)
{
    if (s->recv_buf && s->recv_got > 0)
        deliver_bytes(n, s, id, fx_msg_data(s->recv_buf), s->recv_got);
    drop_recv_buffer(s);
}

/* One read. Clears rd_ready when the kernel queue was found empty
 * (EAGAIN, or a short read: a stream read returns less than asked only
 * when the queue ran dry, and anything queued after that raises a new edge;
 * nginx relies on the same). Not a short read after RDHUP: the read stops
 * at the peer's FIN (or before a pending error), whose edge has passed. Returns > 0 to go
 * on, 0 to stop (out of memory), < 0 when the connection failed (the caller closes the
 * socket). */
static int read_step(fxi_net *n, fxi_sock *s, uint64_t id, char *buf)
{
    ssize_t r;
    if (s->recv_pending && s->recv_want > 0) {
        if (!s->recv_buf &&
            fx_msg_new_behaviour(FX_NET_DATA, s->recv_want, &s->recv_buf) != 0)
            return 0; /* out of memory: rd_ready stays for the next try */
        size_t ask = s->recv_want - s->recv_got;
        r = fxi_sys_read(s->fd, (char *) fx_msg_data_mut(s->recv_buf) + s->recv_got, ask);
        if (r > 0) {
            if ((size_t) r < ask && !s->rd_hup)
                s->rd_ready = false;
            s->recv_got += (size_t) r;
            if (s->recv_got == s->recv_want) {
                fx_msg *m = s->recv_buf;
                s->recv_buf = NULL;
                s->recv_got = 0;
                fxi_net_recv_over(n, s);
                fx_msg_set_ref(m, (fx_ref){id});
                if (fx_vm_send_msg(n->vm, s->owner, m) != 0)
                    fx_msg_free(m);
            }
            return 1;
        }
    } else {
        r = fxi_sys_read(s->fd, buf, n->read_max);
        if (r > 0) {
            if ((size_t) r < n->read_max && !s->rd_hup)
                s->rd_ready = false;
            deliver_bytes(n, s, id, buf, (size_t) r);
            if (s->recv_pending)
                fxi_net_recv_over(n, s);
            else if (--s->credit == 0)
                fxi_net_notify(n, s->owner, FX_NET_PASSIVE, id, NULL, 0);
            return 1;
        }
    }
    if (r == 0) {
        fxi_net_deliver_partial(n, s, id);
        fxi_net_recv_over(n, s);
        s->eof = true;
        s->rd_ready = false;
        fxi_net_notify(n, s->owner, FX_NET_CLOSED, id, NULL, 0);
        return 1;
    }
    if (errno == EINTR)
        return 1;
    if (errno == EAGAIN) {
        s->rd_ready = false;
        return 1;
    }
    int err = errno;
    fxi_net_notify_error(n, s->owner, id, fxi_net_errno_code(err), err);
    return -1;
}

/* Whether a stream socket should read now: readiness known and someone
 * wants the bytes. */
static bool stream_wants_read(const fxi_sock *s)
{
    return s->rd_ready && !s->eof && s->state == FXI_ST_OPEN &&
           (s->credit > 0 || s->recv_pending);
}

/* Reads while stream_wants_read, at most FXI_NET_READS_PER_EVENT times;
 * cut short with readiness left, it re-queues an event for the rest.
 * True when the socket failed and was closed (slot unlocked). */
static bool read_stream(fxi_net *n, fxi_nslot *sl, uint64_t id, char *buf)
{
    fxi_sock *s = &sl->s;
    for (int i = 0; i < FXI_NET_READS_PER_EVENT && stream_wants_read(s); i++) {
        int r = read_step(n, s, id, buf);
        if (r < 0) {
            fxi_net_slot_close(n, sl, id, true);
            return true;
        }
        if (r == 0)
            return false;
    }
    if (stream_wants_read(s))
        fxi_net_kick(n, s, id);
    return false;
}

static void read_udp(fxi_net *n, fxi_sock *s, uint64_t id, char *buf)
{
    size_t room =
        n->read_max > sizeof(fx_net_dgram) ? n->read_max - sizeof(fx_net_dgram) : 0;
    int i;
    for (i = 0; i < FXI_NET_READS_PER_EVENT && s->credit > 0 && s->rd_ready; i++) {
        fx_net_dgram h;
        memset(&h, 0, sizeof h);
        h.from.len = sizeof(h).from.sa;
        ssize_t r = recvfrom(s->fd, buf + sizeof h, room, MSG_TRUNC,
                             (struct sockaddr *) (h).from.sa, &h.from.len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                s->rd_ready = false;
                return;
            }
            /* A pending error (ICMP unreachable) was consumed by this
             * call: tell the owner and go on reading. */
            fxi_net_notify_error(n, s->owner, id, fxi_net_errno_code(errno), errno);
            continue;
        }
        if ((size_t) r > room) {
            fxi_net_notify_error(n, s->owner, id, FX_EMSGSIZE, EMSGSIZE);
            continue;
        }
        memcpy(buf, &h, sizeof h);
        deliver_bytes(n, s, id, buf, sizeof h + (size_t) r);
        if (--s->credit == 0)
            fxi_net_notify(n, s->owner, FX_NET_PASSIVE, id, NULL, 0);
    }
    if (i == FXI_NET_READS_PER_EVENT && s->credit > 0 && s->rd_ready)
        fxi_net_kick(n, s, id); /* cut for fairness: an event for the rest */
}

/* ---- accepting ----------------------------------------------------------- */

/* Out of descriptors: close the spare, accept and close the connection
 * (the peer sees it refused), take the spare back. False when even the
 * spare is gone: accepting pauses until the next fx_net_accept. */
static bool refuse_one(fxi_net *n, int lfd)
{
    bool ok = false;
    fxi_mutex_lock(&n->reserve_mx);
    if (n->reserve_fd >= 0) {
        close(n->reserve_fd);
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            close(fd);
        n->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ok = n->reserve_fd >= 0;
    }
    fxi_mutex_unlock(&n->reserve_mx);
    return ok;
}

/* Accepts while a connection may wait (rd_ready), up to the credit and
 * FXI_NET_READS_PER_EVENT; the new sockets are set up after the listener's
 * lock is released (never two slot locks at once). */
static void do_accept(fxi_net *n, fxi_nslot *sl, uint64_t id)
{
    fxi_sock *s = &sl->s;
    int fds[FXI_NET_READS_PER_EVENT];
    int k = 0;
    bool more = true; /* false: accepting pauses until fx_net_accept */
    while (k < FXI_NET_READS_PER_EVENT && s->credit > 0 && s->rd_ready) {
        int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            fds[k++] = fd;
            s->credit--;
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE) {
            int err = errno;
            more = refuse_one(n, s->fd);
            fxi_net_notify_error(n, s->owner, id, FX_ENOFILE, err);
            break;
        }
        s->rd_ready = false; /* EAGAIN (or an error accept keeps): wait for an edge */
        break;
    }
    /* Cut short with connections perhaps waiting (the bound, or a refusal):
     * an event for the rest. Out of credit: fx_net_accept kicks. */
    if (more && s->credit > 0 && s->rd_ready)
        fxi_net_kick(n, s, id);
    fx_pid owner = s->owner;
    fxi_net_sopts o = s->opts;
    fxi_net_slot_unlock(sl);
    for (int i = 0; i < k; i++) {
        fx_sock ns;
        int rc = fxi_net_adopt(n, fds[i], FXI_SK_STREAM, FXI_ST_OPEN, &o, owner, &ns);
        if (rc == 0)
            fxi_net_notify(n, owner, FX_NET_ACCEPTED, id, &ns, sizeof ns);
        else
            fxi_net_notify_error(n, owner, id, rc, 0);
    }
}

/* ---- readiness ----------------------------------------------------------- */

#define RD_EVENTS (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)

bool fxi_net_ready(fxi_net *n, fxi_nslot *sl, uint64_t id, uint32_t events, fxi_sched *sc)
{
    fxi_sock *s = &sl->s;
    if (s->opts.busy_poll)
        sc->io_busy = true; /* the poll-spin (sched/spin_poll.c) */
    if (events & RD_EVENTS)
        s->rd_ready = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        s->rd_hup = true;
    if (s->kind == FXI_SK_LISTEN) {
        do_accept(n, sl, id);
        return true;
    }
    if (s->state == FXI_ST_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err == 0 && !(events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLOUT))
            return false; /* spurious: the connect's own edge is still to come */
        if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            fxi_net_notify_error(n, s->owner, id,
                                 err ? fxi_net_errno_code(err) : FX_ECONNECT, err);
            fxi_net_slot_close(n, sl, id, true);
            return true;
        }
        s->state = FXI_ST_OPEN;
        fxi_net_timer_stop(n, &s->conn_tmr);
        fxi_net_notify(n, s->owner, FX_NET_CONNECTED, id, NULL, 0);
        /* The sends queued while connecting go now; reads follow below. */
    }
    char *buf = n->rbuf[sc->id];
    if (s->kind == FXI_SK_UDP) {
        read_udp(n, s, id, buf);
        return false;
    }
    /* Also with nothing queued: a write shutdown asked for while
     * connecting happens once the queue (here empty) has drained. */
    if ((s->wq_head || (s->shut_wr && !s->wr_closed)) &&
        (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        (void) fxi_net_flush(n, s, id);
    return read_stream(n, sl, id, buf);
}

bool fxi_net_resume(fxi_net *n, fxi_nslot *sl, uint64_t id)
{
    fxi_sock *s = &sl->s;
    if (!s->rd_ready)
        return false; /* the next edge brings the bytes */
    if (s->kind == FXI_SK_LISTEN) {
        if (s->credit > 0)
            fxi_net_kick(n, s, id);
        return false;
    }
    char *buf = fxi_net_rbuf_here(n);
    if (!buf) { /* not on a scheduler thread: let a poller read */
        fxi_net_kick(n, s, id);
        return false;
    }
    if (s->kind == FXI_SK_UDP) {
        read_udp(n, s, id, buf);
        return false;
    }
    return read_stream(n, sl, id, buf);
}
