/* A connection's write path (dist_conn.h): frames go out whole and in
 * arrival order, coalesced into one write while more messages wait,
 * queued behind each other when the socket refuses them. */
#include <fauxtp/error.h>
#include <stdlib.h>
#include <string.h>

#include "actor/actor.h"
#include "actor/msg.h"
#include "dist/dist_conn.h"

int fxi_dc_write_raw(fx_ctx *cx, conn *c, const void *p, size_t n)
{
    int rc = fx_net_send(cx, c->sock, p, n);
    if (rc == 0)
        c->wrote = true;
    return rc;
}

/* Queues f (taken) behind the refused frames. 0 or FX_ENOMEM. */
static int queue_push(conn *c, fx_msg *f)
{
    if (c->qh + c->qn == c->qcap) {
        if (c->qh) { /* slide to the front */
            memmove(c->q, c->q + c->qh, c->qn * sizeof *c->q);
            c->qh = 0;
        } else {
            uint32_t cap = c->qcap ? c->qcap * 2 : 8;
            fx_msg **a = realloc(c->q, cap * sizeof *a);
            if (!a)
                return FX_ENOMEM;
            c->q = a;
            c->qcap = cap;
        }
    }
    c->q[c->qh + c->qn++] = f;
    return 0;
}

/* Writes the held-back frames (c->ob) as one write, or queues them as one
 * refused frame when the socket is over its high-water mark (fx_net_send
 * refuses before writing anything, so they stay whole). 0 or an error. */
int fxi_dc_out_flush(fx_ctx *cx, conn *c)
{
    if (!c->olen)
        return 0;
    size_t n = c->olen;
    c->olen = 0;
    int rc = fx_net_send(cx, c->sock, c->ob, n);
    if (rc == 0) {
        c->wrote = true;
        return 0;
    }
    if (rc != FX_EAGAIN)
        return rc;
    fx_msg *f = fxi_msg_alloc(FXI_DIST_OUT, (uint32_t) n);
    if (!f)
        return FX_ENOMEM;
    memcpy(f->data, c->ob, n);
    rc = queue_push(c, f);
    if (rc != 0) {
        fx_msg_free(f);
        return rc;
    }
    c->blocked = true;
    return 0;
}

/* Whether more messages wait for this process (the owner's view: exact
 * up to pushes in flight, whose messages make it run again anyway). */
static bool more_queued(fx_ctx *cx)
{
    return cx->self->saved || fxi_mailbox_len(&cx->self->mb) != 0;
}

/* Holds small frame f back in c->ob (f is freed) when more messages wait
 * or frames() runs, so that several frames go out in one write. true when
 * held; false: send it now (c->ob was written first, or queued). */
static bool hold_frame(fx_ctx *cx, conn *c, fx_msg *f, int *rc)
{
    size_t n = fx_msg_size(f);
    *rc = 0;
    if (n > COALESCE_MAX || (!c->batch && !c->olen && !more_queued(cx))) {
        *rc = fxi_dc_out_flush(cx, c);
        return false;
    }
    if (c->olen + n > COALESCE_MAX) {
        *rc = fxi_dc_out_flush(cx, c);
        if (*rc != 0 || c->qn)
            return false;
    }
    if (!c->ob && !(c->ob = malloc(COALESCE_MAX))) {
        *rc = fxi_dc_out_flush(cx, c);
        return false;
    }
    memcpy(c->ob + c->olen, fx_msg_data(f), n);
    c->olen += n;
    fx_msg_keep(cx, f); /* it may be the message being handled */
    fx_msg_free(f);
    if (!c->batch && !c->flush_sent) {
        fx_msg *fl = NULL;
        if (fx_msg_new_behaviour(FXI_DIST_FLUSH, 0, &fl) == 0 &&
            fx_send_msg(cx, fx_self(cx), fl) == 0)
            c->flush_sent = true;
        else {
            if (fl)
                fx_msg_free(fl);
            *rc = fxi_dc_out_flush(cx, c); /* no reminder: write now */
        }
    }
    return true;
}

/* Sends frame f (taken, also on failure) as one write, coalesced with
 * the frames before it (hold_frame), or queues it when frames wait
 * already or the socket is over its high-water mark: so a frame is never
 * cut, dropped or overtaken. 0, or an error (the connection is broken:
 * the caller takes it down). */
int fxi_dc_send_frame(fx_ctx *cx, conn *c, fx_msg *f)
{
    int rc = 0;
    if (!c->qn && hold_frame(cx, c, f, &rc))
        return rc;
    if (rc != 0) {
        fx_msg_keep(cx, f); /* it may be the message being handled */
        fx_msg_free(f);
        return rc;
    }
    /* f may be the message being handled: fx_net_send_msg then keeps it
     * when the socket takes it, or leaves it to the runtime to free. */
    rc = c->qn ? FX_EAGAIN : fx_net_send_msg(cx, c->sock, f);
    if (rc == 0) {
        c->wrote = true;
        return 0;
    }
    fx_msg_keep(cx, f); /* from here on this code frees or queues it */
    if (rc == FX_EAGAIN) {
        rc = queue_push(c, f);
        if (rc == 0) {
            c->blocked = true;
            return 0;
        }
    }
    fx_msg_free(f);
    return rc;
}

/* Writes the queued frames until the socket refuses one. 0 or an error. */
int fxi_dc_flush(fx_ctx *cx, conn *c)
{
    while (c->qn) {
        int rc = fx_net_send_msg(cx, c->sock, c->q[c->qh]);
        if (rc == FX_EAGAIN)
            return 0;
        if (rc != 0)
            return rc;
        c->wrote = true;
        c->qh++;
        c->qn--;
    }
    c->qh = 0;
    c->blocked = false;
    return 0;
}

/* A control message (and a message term, y may be NULL) as one frame
 * through send_frame. 0 or an error. */
int fxi_dc_write_ctl2(fx_ctx *cx, conn *c, const ei_x_buff *x, const ei_x_buff *y)
{
    size_t body = 1 + (size_t) x->index + (y ? (size_t) y->index : 0);
    if (body > UINT32_MAX - 4)
        return FX_EMSGSIZE;
    fx_msg *f = fxi_msg_alloc(FXI_DIST_OUT, (uint32_t) (4 + body));
    if (!f)
        return FX_ENOMEM;
    uint8_t *o = (uint8_t *) f->data;
    o[0] = (uint8_t) (body >> 24);
    o[1] = (uint8_t) (body >> 16);
    o[2] = (uint8_t) (body >> 8);
    o[3] = (uint8_t) body;
    o[4] = 112;
    memcpy(o + 5, x->buff, (size_t) x->index);
    if (y)
        memcpy(o + 5 + x->index, y->buff, (size_t) y->index);
    return fxi_dc_send_frame(cx, c, f);
}

int fxi_dc_write_ctl(fx_ctx *cx, conn *c, const ei_x_buff *x)
{
    return fxi_dc_write_ctl2(cx, c, x, NULL);
}
