/* The socket operations of a process: credit, passive reads, sends,
 * shutdown, close, hand-over. Each takes the socket's slot lock. */
#include <errno.h>
#include <fauxtp/actor.h>
#include <fauxtp/vm.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actor/actor.h"
#include "io/net_impl.h"
#include "io/net_sys.h"

/* The locked slot of sock, checked for ownership when owner_only. */
static fxi_nslot *get(fx_ctx *cx, fx_sock sock, bool owner_only, fxi_net **np, int *rc)
{
    if (!cx) {
        *rc = FX_EINVAL;
        return NULL;
    }
    fxi_net *n = fxi_net_find(fx_ctx_vm(cx));
    fxi_nslot *sl = n ? fxi_net_slot_lock(n, sock.id) : NULL;
    if (!sl) {
        *rc = FX_EBADF;
        return NULL;
    }
    if (owner_only && !fx_pid_eq(sl->s.owner, fx_self(cx))) {
        fxi_net_slot_unlock(sl);
        *rc = FX_ENOTOWNER;
        return NULL;
    }
    *np = n;
    return sl;
}

FX_API int fx_net_accept(fx_ctx *cx, fx_sock listener, uint32_t count)
{
    fxi_net *n;
    int rc;
    fxi_nslot *sl = get(cx, listener, true, &n, &rc);
    if (!sl)
        return rc;
    if (sl->s.kind != FXI_SK_LISTEN) {
        fxi_net_slot_unlock(sl);
        return FX_EINVAL;
    }
    int64_t c = (int64_t) sl->s.credit + count;
    sl->s.credit = c > INT32_MAX ? INT32_MAX : (int32_t) c;
    (void) fxi_net_resume(n, sl, listener.id); /* a listener is never closed here */
    fxi_net_slot_unlock(sl);
    return 0;
}

FX_API int fx_net_active(fx_ctx *cx, fx_sock sock, int32_t count)
{
    fxi_net *n;
    int rc;
    if (count < 0)
        return FX_EINVAL;
    fxi_nslot *sl = get(cx, sock, true, &n, &rc);
    if (!sl)
        return rc;
    fxi_sock *s = &sl->s;
    if (s->kind == FXI_SK_LISTEN || (count > 0 && s->recv_pending)) {
        fxi_net_slot_unlock(sl);
        return FX_EINVAL;
    }
    if (count == 0) {
        s->credit = 0;
    } else {
        int64_t c = (int64_t) s->credit + count;
        s->credit = c > INT32_MAX ? INT32_MAX : (int32_t) c;
        if (s->recv_buf && s->recv_got > 0) {
            /* Bytes kept from a passive request that timed out: they were
             * read first, so they come first, as one FX_NET_DATA. */
            fxi_net_deliver_partial(n, s, sock.id);
            if (--s->credit == 0) {
                fxi_net_notify(n, s->owner, FX_NET_PASSIVE, sock.id, NULL, 0);
                fxi_net_slot_unlock(sl);
                return 0;
            }
        }
        /* Bytes that came while we were passive are read now, here: their
         * edge is gone (rd_ready remembers it). A read that fails closes
         * the socket; the FX_NET_ERROR is in our mailbox. */
        if (fxi_net_resume(n, sl, sock.id))
            return 0;
    }
    fxi_net_slot_unlock(sl);
    return 0;
}

FX_API int fx_net_recv(fx_ctx *cx, fx_sock sock, size_t len, int64_t timeout_ms)
{
    fxi_net *n;
    int rc;
    fxi_nslot *sl = get(cx, sock, true, &n, &rc);
    if (!sl)
        return rc;
    fxi_sock *s = &sl->s;
    rc = 0;
    if (s->kind != FXI_SK_STREAM || s->credit > 0 || s->recv_pending) {
        rc = FX_EINVAL;
    } else if (len > fx_vm_max_msg_size(fx_ctx_vm(cx))) {
        rc = FX_EMSGSIZE;
    } else if (s->eof) {
        /* Read side finished: what is left, then CLOSED again. */
        fxi_net_deliver_partial(n, s, sock.id);
        fxi_net_notify(n, s->owner, FX_NET_CLOSED, sock.id, NULL, 0);
    } else {
        if (s->recv_buf && s->recv_want != len) {
            /* Bytes kept from a request that timed out, of another size:
             * they come first, on their own (none if it read nothing). */
            fxi_net_deliver_partial(n, s, sock.id);
        }
        s->recv_pending = true;
        s->recv_want = len;
        uint32_t seq = ++s->recv_seq;
        /* What is there already is read now (rd_ready); the rest when its
         * edge comes. The timer is set while the handle is known live. */
        if (timeout_ms >= 0)
            fxi_net_janitor_after(n, timeout_ms, FXI_J_RECV_TIMEOUT, sock.id, seq,
                                  &s->recv_tmr);
        if (fxi_net_resume(n, sl, sock.id))
            return 0; /* failed and closed: FX_NET_ERROR is in our mailbox */
    }
    fxi_net_slot_unlock(sl);
    return rc;
}

/* Writes or queues len bytes of data; msg (may be NULL) holds them and is
 * taken when queued. *taken says whether msg is now the socket's. */
static int send_locked(fx_ctx *cx, fxi_net *n, fxi_sock *s, uint64_t id, const void *data,
                       size_t len, fx_msg *msg, bool *taken)
{
    *taken = false;
    if (s->kind != FXI_SK_STREAM)
        return FX_EINVAL;
    if (s->wr_closed || s->shut_wr)
        return FX_ECONNECT;
    if (len == 0)
        return 0; /* nothing to write: an empty chunk would never leave the queue */
    if (s->wq_bytes >= s->opts.high) {
        if (fxi_net_wait_writable(s, fx_self(cx)) != 0)
            return FX_ENOMEM; /* refused, and no room to note the caller */
        return FX_EAGAIN;
    }
    size_t done = 0;
    if (!s->wq_head && s->state == FXI_ST_OPEN) {
        while (done < len) {
            ssize_t w = fxi_sys_send(s->fd, (const char *) data + done, len - done,
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w >= 0) {
                done += (size_t) w;
                continue;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            s->wr_closed = true;
            return FX_ECONNECT;
        }
        if (done == len)
            return 0;
    }
    fx_msg *m = msg;
    size_t off = done;
    if (!m) {
        if (fx_msg_new_behaviour(FX_NET_DATA, len - done, &m) != 0)
            return FX_ENOMEM;
        memcpy(fx_msg_data_mut(m), (const char *) data + done, len - done);
        off = 0;
    }
    fxi_wchunk *c = fxi_net_chunk_new(m, off);
    if (!c) {
        if (!msg)
            fx_msg_free(m);
        /* Bytes already written cannot be taken back: report the loss as
         * a failed connection rather than a silent truncation. */
        if (done) {
            s->wr_closed = true;
            return FX_ECONNECT;
        }
        return FX_ENOMEM;
    }
    if (s->wq_tail)
        s->wq_tail->next = c;
    else
        s->wq_head = c;
    s->wq_tail = c;
    s->wq_bytes += len - done;
    *taken = msg != NULL;
    /* The queue was empty and the kernel said EAGAIN (or a connect is
     * under way): the EPOLLOUT edge to come flushes it. */
    fxi_net_want_out(n, s, id);
    return 0;
}

FX_API int fx_net_send(fx_ctx *cx, fx_sock sock, const void *data, size_t len)
{
    fxi_net *n;
    int rc;
    bool taken;
    if (len && !data)
        return FX_EINVAL;
    fxi_nslot *sl = get(cx, sock, false, &n, &rc);
    if (!sl)
        return rc;
    rc = send_locked(cx, n, &sl->s, sock.id, data, len, NULL, &taken);
    fxi_net_slot_unlock(sl);
    return rc;
}

FX_API int fx_net_send_msg(fx_ctx *cx, fx_sock sock, fx_msg *msg)
{
    fxi_net *n;
    int rc;
    bool taken;
    if (!msg)
        return FX_EINVAL;
    fxi_nslot *sl = get(cx, sock, false, &n, &rc);
    if (!sl)
        return rc;
    rc = send_locked(cx, n, &sl->s, sock.id, fx_msg_data(msg), fx_msg_size(msg), msg,
                     &taken);
    fxi_net_slot_unlock(sl);
    if (rc != 0)
        return rc;
    if (msg == cx->cur) {
        if (taken)
            fx_msg_keep(cx, msg); /* the runtime must not free it now */
    } else if (!taken) {
        fx_msg_free(msg); /* written in full */
    }
    return 0;
}

FX_API int fx_net_sendto(fx_ctx *cx, fx_sock sock, const fx_net_addr *to,
                         const void *data, size_t len)
{
    fxi_net *n;
    int rc;
    if (!to || (len && !data) || to->len == 0 || to->len > sizeof(to)->sa)
        return FX_EINVAL;
    fxi_nslot *sl = get(cx, sock, false, &n, &rc);
    if (!sl)
        return rc;
    if (sl->s.kind != FXI_SK_UDP) {
        rc = FX_EINVAL;
    } else {
        ssize_t w;
        do
            w = sendto(sl->s.fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT,
                       (const struct sockaddr *) (to)->sa, to->len);
        while (w < 0 && errno == EINTR);
        rc = w < 0 ? fxi_net_errno_code(errno) : 0;
    }
    fxi_net_slot_unlock(sl);
    return rc;
}

FX_API int fx_net_shutdown(fx_ctx *cx, fx_sock sock, int how)
{
    fxi_net *n;
    int rc;
    if (how < FX_NET_SHUT_RD || how > (FX_NET_SHUT_RD | FX_NET_SHUT_WR))
        return FX_EINVAL;
    fxi_nslot *sl = get(cx, sock, true, &n, &rc);
    if (!sl)
        return rc;
    fxi_sock *s = &sl->s;
    if (s->kind != FXI_SK_STREAM) {
        fxi_net_slot_unlock(sl);
        return FX_EINVAL;
    }
    if (how & FX_NET_SHUT_RD) {
        (void) shutdown(s->fd, SHUT_RD);
        s->eof = true;
        if (s->recv_pending) { /* answered as at EOF: bytes so far, then closed */
            fxi_net_deliver_partial(n, s, sock.id);
            fxi_net_recv_over(n, s);
            fxi_net_notify(n, s->owner, FX_NET_CLOSED, sock.id, NULL, 0);
        }
    }
    if ((how & FX_NET_SHUT_WR) && !s->wr_closed) {
        s->shut_wr = true;
        if (s->state == FXI_ST_OPEN)
            (void) fxi_net_flush(n, s, sock.id); /* shuts down once drained */
    }
    fxi_net_slot_unlock(sl);
    return 0;
}

FX_API int fx_net_close(fx_ctx *cx, fx_sock sock)
{
    fxi_net *n;
    int rc;
    fxi_nslot *sl = get(cx, sock, true, &n, &rc);
    if (!sl)
        return rc;
    fxi_net_slot_close(n, sl, sock.id, true);
    return 0;
}

FX_API int fx_net_controlling_process(fx_ctx *cx, fx_sock sock, fx_pid new_owner)
{
    fxi_net *n;
    int rc;
    if (!cx)
        return FX_EINVAL;
    /* The socket first (FX_EBADF, FX_ENOTOWNER), then the new owner, as
     * Erlang's controlling_process. */
    fxi_nslot *sl = get(cx, sock, true, &n, &rc);
    if (!sl)
        return rc;
    if (fx_is_alive(fx_ctx_vm(cx), new_owner) != 1) {
        fxi_net_slot_unlock(sl);
        return FX_ENOPROC;
    }
    sl->s.owner = new_owner;
    fxi_net_slot_unlock(sl);
    /* If new_owner dies before the janitor monitors it, the monitor fires
     * at once and the socket is closed. */
    fxi_net_janitor_tell(n, FXI_J_WATCH, sock.id, 0);
    return 0;
}

FX_API int fx_net_sockname(fx_ctx *cx, fx_sock sock, fx_net_addr *out)
{
    fxi_net *n;
    int rc;
    if (!out)
        return FX_EINVAL;
    fxi_nslot *sl = get(cx, sock, false, &n, &rc);
    if (!sl)
        return rc;
    memset(out, 0, sizeof *out);
    out->len = sizeof(out)->sa;
    rc = getsockname(sl->s.fd, (struct sockaddr *) (out)->sa, &out->len) == 0
             ? 0
             : fxi_net_errno_code(errno);
    fxi_net_slot_unlock(sl);
    return rc;
}

FX_API int64_t fx_net_queued(fx_ctx *cx, fx_sock sock)
{
    fxi_net *n;
    int rc;
    fxi_nslot *sl = get(cx, sock, false, &n, &rc);
    if (!sl)
        return rc;
    int64_t q = (int64_t) sl->s.wq_bytes;
    fxi_net_slot_unlock(sl);
    return q;
}
