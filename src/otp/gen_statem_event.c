/* gen_statem: events the machine owns (queued, postponed, a timeout's
 * content) and the queues that hold them. */
#include <stdlib.h>
#include <string.h>

#include "otp/sm_impl.h"

fxi_sm_ev *fxi_sm_ev_new(int32_t kind, uint32_t type, const void *data, size_t size)
{
    if (size > SIZE_MAX - sizeof(fxi_sm_ev))
        return NULL;
    fxi_sm_ev *e = malloc(sizeof *e + size);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->type = type;
    e->size = size;
    if (size)
        memcpy(e->data, data, size);
    return e;
}

void fxi_sm_ev_free(fxi_sm_ev *e)
{
    if (!e)
        return;
    fx_msg_free(e->msg);
    free(e);
}

void fxi_sm_q_push(fxi_sm_q *q, fxi_sm_ev *e)
{
    e->next = NULL;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
}

fxi_sm_ev *fxi_sm_q_pop(fxi_sm_q *q)
{
    fxi_sm_ev *e = q->head;
    if (e) {
        q->head = e->next;
        if (!q->head)
            q->tail = NULL;
        e->next = NULL;
    }
    return e;
}

void fxi_sm_q_prepend(fxi_sm_q *dst, fxi_sm_q *src)
{
    if (!src->head)
        return;
    src->tail->next = dst->head;
    if (!dst->head)
        dst->tail = src->tail;
    dst->head = src->head;
    src->head = src->tail = NULL;
}

void fxi_sm_q_append(fxi_sm_q *dst, fxi_sm_q *src)
{
    if (!src->head)
        return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    src->head = src->tail = NULL;
}

void fxi_sm_q_free(fxi_sm_q *q)
{
    fxi_sm_ev *e;
    while ((e = fxi_sm_q_pop(q)))
        fxi_sm_ev_free(e);
}

void fxi_sm_ev_view(const fx_sm *sm, const fxi_sm_ev *e, fx_sm_event *v)
{
    memset(v, 0, sizeof *v);
    v->kind = e->kind;
    v->type = e->type;
    v->from = e->from;
    v->name = e->name;
    v->state = sm->state;
    if (e->msg) {
        v->msg = e->msg;
        v->data = fx_msg_data(e->msg);
        v->size = fx_msg_size(e->msg);
    } else {
        v->data = e->size ? e->data : NULL;
        v->size = e->size;
    }
    if (e->kind == FX_SM_RESPONSE)
        v->res = &e->res;
}

fxi_sm_ev *fxi_sm_ev_own(fx_sm *sm, const fx_sm_event *v, uint64_t seq)
{
    bool info = v->kind == FX_SM_INFO && v->msg;
    fxi_sm_ev *e = info ? fxi_sm_ev_new(v->kind, v->type, NULL, 0)
                        : fxi_sm_ev_new(v->kind, v->type, v->data, v->size);
    if (!e)
        return NULL;
    e->from = v->from;
    e->name = v->name;
    e->seq = seq;
    if (info) {
        /* The message being handled by the GenServer's handle_info. */
        fx_msg_keep(sm->cx, v->msg);
        e->msg = v->msg;
    }
    if (v->kind == FX_SM_RESPONSE && v->res) {
        e->res = *v->res;
        e->res.data = e->size ? e->data : NULL;
        e->res.size = e->size;
    }
    return e;
}
