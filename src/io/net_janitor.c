/* The janitor: one hidden process per VM that closes a socket when its
 * owner exits, and fires the timeouts of connects and passive reads.
 *
 * It holds one monitor per socket on the socket's current owner: a new
 * socket or an ownership hand-over sends it FXI_J_WATCH, and it monitors
 * whoever owns the socket when it handles the request (a monitor on a
 * process that already died gives an immediate DOWN, so a hand-over to a
 * dying process cannot leak the socket). A DOWN closes the socket only if
 * the dead process still owns it: a DOWN of a previous owner that raced
 * with a hand-over is ignored (the new owner's WATCH follows). Keeping
 * this here keeps the exit path and the message fast path untouched. */
#include <fauxtp/actor.h>
#include <fauxtp/monitor.h>
#include <fauxtp/timer.h>
#include <string.h>

#include "ds/u64map.h"
#include "io/net_impl.h"
#include "mem/alloc.h"

typedef struct janitor {
    fxi_net *net;
    fxi_u64map by_ref;  /* monitor ref -> socket handle */
    fxi_u64map by_sock; /* socket handle -> monitor ref */
} janitor;

static void forget(fx_ctx *cx, janitor *j, uint64_t sock)
{
    uint64_t ref;
    if (fxi_u64map_del(&j->by_sock, sock, &ref)) {
        fxi_u64map_del(&j->by_ref, ref, NULL);
        fx_demonitor(cx, (fx_ref){ref}, FX_DEMONITOR_FLUSH);
    }
}

static void watch(fx_ctx *cx, janitor *j, uint64_t sock)
{
    forget(cx, j, sock);
    fxi_nslot *sl = fxi_net_slot_lock(j->net, sock);
    if (!sl)
        return; /* closed meanwhile */
    fx_pid owner = sl->s.owner;
    fxi_net_slot_unlock(sl);
    fx_ref ref;
    if (fx_monitor(cx, owner, &ref) != 0)
        return;
    if (fxi_u64map_put(&j->by_ref, ref.id, sock) < 0 ||
        fxi_u64map_put(&j->by_sock, sock, ref.id) < 0) {
        /* Out of memory: the socket is closed rather than left without
         * an owner watch. */
        fxi_u64map_del(&j->by_ref, ref.id, NULL);
        fx_demonitor(cx, ref, FX_DEMONITOR_FLUSH);
        if ((sl = fxi_net_slot_lock(j->net, sock)) != NULL)
            fxi_net_slot_close(j->net, sl, sock, false);
    }
}

static void down(fx_ctx *cx, janitor *j, fx_msg *msg)
{
    (void) cx;
    const fx_down_info *d = fx_msg_data(msg);
    uint64_t sock;
    if (!fxi_u64map_del(&j->by_ref, d->ref.id, &sock))
        return;
    fxi_u64map_del(&j->by_sock, sock, NULL);
    fxi_nslot *sl = fxi_net_slot_lock(j->net, sock);
    if (!sl)
        return;
    if (fx_pid_eq(sl->s.owner, d->pid))
        fxi_net_slot_close(j->net, sl, sock, false);
    else
        fxi_net_slot_unlock(sl); /* handed over: the new owner's WATCH follows */
}

static void timeout(janitor *j, int type, const fxi_jreq *r)
{
    fxi_net *n = j->net;
    fxi_nslot *sl = fxi_net_slot_lock(n, r->sock);
    if (!sl)
        return;
    fxi_sock *s = &sl->s;
    if (type == FXI_J_CONN_TIMEOUT && s->state == FXI_ST_CONNECTING &&
        s->conn_seq == r->seq) {
        s->conn_tmr.id = 0; /* fired */
        fxi_net_notify_error(n, s->owner, r->sock, FX_ETIMEDOUT, 0);
        fxi_net_slot_close(n, sl, r->sock, true);
        return;
    }
    if (type == FXI_J_RECV_TIMEOUT && s->recv_pending && s->recv_seq == r->seq) {
        /* The bytes read so far stay in recv_buf for the next request. */
        s->recv_pending = false;
        s->recv_tmr.id = 0; /* fired */
        fxi_net_notify_error(n, s->owner, r->sock, FX_ETIMEDOUT, 0);
    }
    fxi_net_slot_unlock(sl);
}

static fx_next janitor_loop(fx_ctx *cx, fx_msg *msg)
{
    janitor *j = fx_state(cx);
    uint32_t type = fx_msg_type(msg);
    if (type == FX_MSG_DOWN) {
        down(cx, j, msg);
        return fx_continue(cx);
    }
    if (fx_msg_size(msg) != sizeof(fxi_jreq))
        return fx_continue(cx);
    fxi_jreq r;
    memcpy(&r, fx_msg_data(msg), sizeof r);
    switch (type) {
    case FXI_J_WATCH:
        watch(cx, j, r.sock);
        break;
    case FXI_J_UNWATCH:
        forget(cx, j, r.sock);
        break;
    case FXI_J_RECV_TIMEOUT:
    case FXI_J_CONN_TIMEOUT:
        timeout(j, (int) type, &r);
        break;
    default:
        break;
    }
    return fx_continue(cx);
}

static void janitor_cleanup(void *state, const fx_reason *reason)
{
    janitor *j = state;
    /* The VM's shutdown ends every process, the janitor included: the
     * sockets close with it (their owners are going too). Any other end
     * (killed when the VM's network state could not be attached) leaves
     * j->net alone: it may be gone already. */
    if (reason->kind == FX_REASON_SHUTDOWN)
        fxi_net_close_all(j->net);
    fxi_u64map_fini(&j->by_ref);
    fxi_u64map_fini(&j->by_sock);
    fxi_free(j, sizeof *j);
}

int fxi_net_janitor_start(fxi_net *n)
{
    janitor *j = fxi_zalloc(sizeof *j);
    if (!j)
        return FX_ENOMEM;
    j->net = n;
    fx_spawn_opts o = {
        .handler = janitor_loop,
        .state = j,
        .cleanup = janitor_cleanup,
        .label = "fx_net_janitor",
    };
    int rc = fx_vm_spawn_opt(n->vm, &o, &n->janitor);
    if (rc != 0)
        fxi_free(j, sizeof *j);
    return rc;
}

void fxi_net_janitor_tell(fxi_net *n, int type, uint64_t id, uint32_t seq)
{
    fxi_jreq r = {.sock = id, .seq = seq};
    /* Dropped only when the janitor is gone, i.e. the VM is stopping;
     * the VM's destroy closes what is left. */
    (void) fx_vm_send(n->vm, n->janitor, (uint32_t) type, &r, sizeof r);
}

void fxi_net_janitor_after(fxi_net *n, int64_t ms, int type, uint64_t id, uint32_t seq,
                           fx_timer *tmr)
{
    fxi_jreq r = {.sock = id, .seq = seq};
    fxi_net_timer_stop(n, tmr);
    if (fx_vm_send_after(n->vm, ms, n->janitor, (uint32_t) type, &r, sizeof r, tmr) != 0)
        tmr->id = 0;
}

void fxi_net_timer_stop(fxi_net *n, fx_timer *tmr)
{
    if (tmr->id) {
        (void) fx_cancel_timer(n->vm, *tmr); /* FX_ENOENT if it fired: no matter */
        tmr->id = 0;
    }
}

void fxi_net_recv_over(fxi_net *n, fxi_sock *s)
{
    s->recv_pending = false;
    fxi_net_timer_stop(n, &s->recv_tmr);
}
