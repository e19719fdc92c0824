/* Requests: the collection (an open-addressing table of fxi_req keyed by
 * ref, linear probing, backward-shift deletion), fx_send_request and
 * fx_check_response. The protocol is in otp/request_impl.h. */
#include <stdlib.h>
#include <string.h>

#include "otp/request_impl.h"

struct fx_reqids {
    fxi_req *slot;
    uint32_t cap; /* a power of two, or 0 before the first request */
    uint32_t count;
};

static uint32_t home(const fx_reqids *ids, uint64_t ref)
{
    return (uint32_t) ((ref * 0x9E3779B97F4A7C15ull) >> 32) & (ids->cap - 1);
}

static fxi_req *find(const fx_reqids *ids, uint64_t ref)
{
    if (!ids->cap || !ref)
        return NULL;
    for (uint32_t i = home(ids, ref);; i = (i + 1) & (ids->cap - 1)) {
        if (ids->slot[i].ref == ref)
            return &ids->slot[i];
        if (!ids->slot[i].ref)
            return NULL;
    }
}

/* Room for one more (load at most 1/2); FX_ENOMEM. */
static int reserve(fx_reqids *ids)
{
    if ((ids->count + 1) * 2 <= ids->cap)
        return 0;
    uint32_t cap = ids->cap ? ids->cap * 2 : 8;
    if (cap < ids->cap)
        return FX_ENOMEM;
    fxi_req *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return FX_ENOMEM;
    fx_reqids old = *ids;
    ids->slot = slot;
    ids->cap = cap;
    for (uint32_t i = 0; i < old.cap; i++) {
        if (!old.slot[i].ref)
            continue;
        uint32_t j = home(ids, old.slot[i].ref);
        while (ids->slot[j].ref)
            j = (j + 1) & (cap - 1);
        ids->slot[j] = old.slot[i];
    }
    free(old.slot);
    return 0;
}

static void insert(fx_reqids *ids, const fxi_req *r)
{
    uint32_t j = home(ids, r->ref);
    while (ids->slot[j].ref)
        j = (j + 1) & (ids->cap - 1);
    ids->slot[j] = *r;
    ids->count++;
}

/* Removes e (a slot of ids), shifting later entries of its run back. */
static void erase(fx_reqids *ids, fxi_req *e)
{
    uint32_t mask = ids->cap - 1, i = (uint32_t) (e - ids->slot), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!ids->slot[j].ref)
            break;
        uint32_t h = home(ids, ids->slot[j].ref);
        /* Move j into the hole at i unless its home lies in (i, j]. */
        if (((j - h) & mask) >= ((j - i) & mask)) {
            ids->slot[i] = ids->slot[j];
            i = j;
        }
    }
    memset(&ids->slot[i], 0, sizeof ids->slot[i]);
    ids->count--;
}

FX_API int fx_reqids_create(fx_reqids **out)
{
    if (!out)
        return FX_EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? 0 : FX_ENOMEM;
}

FX_API void fx_reqids_destroy(fx_vm *vm, fx_reqids *ids)
{
    if (!ids)
        return;
    for (uint32_t i = 0; vm && i < ids->cap; i++)
        if (ids->slot[i].ref && ids->slot[i].timed)
            (void) fx_cancel_timer(vm, ids->slot[i].timer);
    free(ids->slot);
    free(ids);
}

FX_API size_t fx_reqids_size(const fx_reqids *ids)
{
    return ids ? ids->count : 0;
}

int fxi_req_send(fx_ctx *cx, fx_reqids *ids, fx_pid server, uint32_t type,
                 const void *data, size_t size, int64_t timeout_ms, const fxi_req *proto,
                 fx_ref *req)
{
    if (!cx || !ids || !server.id || fx_pid_eq(server, fx_self(cx)) || (size && !data) ||
        (timeout_ms < 0 && timeout_ms != FX_INFINITY))
        return FX_EINVAL;
    if (size > fx_vm_max_msg_size(fx_ctx_vm(cx)))
        return FX_EMSGSIZE;
    fx_msg *call = NULL, *tmo = NULL;
    int rc = reserve(ids);
    if (rc == 0)
        rc = fxi_gs_envelope(FXI_GS_CALL, type, data, size, &call);
    if (rc == 0 && timeout_ms >= 0)
        rc = fx_msg_new_behaviour(FXI_REQ_TIMEOUT, 0, &tmo);
    if (rc != 0) {
        fx_msg_free(call);
        return rc;
    }
    fxi_req r = *proto;
    fx_ref ref;
    if ((rc = fx_monitor_call(cx, server, &ref)) != 0) {
        fx_msg_free(call);
        fx_msg_free(tmo);
        return rc;
    }
    r.ref = ref.id;
    r.timed = tmo != NULL;
    if (tmo) {
        fx_msg_set_ref(tmo, ref);
        if ((rc = fx_send_after_msg(cx, timeout_ms, fx_self(cx), tmo, &r.timer)) != 0) {
            fx_msg_free(call);
            fx_msg_free(tmo);
            (void) fx_demonitor(cx, ref, FX_DEMONITOR_FLUSH);
            return rc;
        }
    }
    fx_msg_set_ref(call, ref);
    rc = fx_send_msg(cx, server, call);
    if (rc != 0) {
        fx_msg_free(call);
        if (rc != FX_ENOPROC) {
            if (r.timed)
                (void) fx_cancel_timer(fx_ctx_vm(cx), r.timer);
            (void) fx_demonitor(cx, ref, FX_DEMONITOR_FLUSH);
            return rc;
        }
        /* A dead server: the monitor's noproc DOWN answers the request. */
    }
    insert(ids, &r);
    if (req)
        *req = ref;
    return 0;
}

FX_API int fx_send_request(fx_ctx *cx, fx_reqids *ids, fx_pid server, uint32_t type,
                           const void *data, size_t size, int64_t timeout_ms, void *tag,
                           fx_ref *req)
{
    fxi_req proto = {.tag = tag};
    return fxi_req_send(cx, ids, server, type, data, size, timeout_ms, &proto, req);
}

int fxi_req_fail(fx_ctx *cx, fx_reqids *ids, int rc, const fxi_req *proto)
{
    fx_msg *m;
    if (reserve(ids) != 0 || fx_msg_new_behaviour(FXI_REQ_FAIL, sizeof(int32_t), &m) != 0)
        return FX_ENOMEM;
    int32_t v = rc;
    memcpy(fx_msg_data_mut(m), &v, sizeof v);
    fx_ref ref = fx_make_ref(cx);
    fx_msg_set_ref(m, ref);
    if (fx_send_msg(cx, fx_self(cx), m) != 0) {
        fx_msg_free(m);
        return FX_ENOMEM;
    }
    fxi_req r = *proto;
    r.ref = ref.id;
    r.timed = false;
    insert(ids, &r);
    return 0;
}

/* Takes request e out of ids into *done. */
static void finish(fx_reqids *ids, fxi_req *e, fx_response *res, fxi_req *done)
{
    res->req = (fx_ref){e->ref};
    res->tag = e->tag;
    *done = *e;
    erase(ids, e);
}

int fxi_req_check(fx_ctx *cx, fx_reqids *ids, fx_msg *msg, fx_response *res,
                  fxi_req *done)
{
    if (!cx || !ids || !msg || !res)
        return FX_EINVAL;
    uint32_t type = fx_msg_type(msg);
    if (type != FX_MSG_REPLY && type != FX_MSG_DOWN && type != FXI_REQ_TIMEOUT &&
        type != FXI_REQ_FAIL)
        return FX_NO_RESPONSE;
    fx_ref ref = fx_msg_ref(msg);
    fxi_req *e = find(ids, ref.id);
    if (!e) /* a timeout or failure is only ever ours: a leftover */
        return type == FXI_REQ_TIMEOUT || type == FXI_REQ_FAIL ? FX_RESPONSE_STALE
                                                               : FX_NO_RESPONSE;
    memset(res, 0, sizeof *res);
    finish(ids, e, res, done);
    fx_vm *vm = fx_ctx_vm(cx);
    if (type != FXI_REQ_TIMEOUT && done->timed)
        (void) fx_cancel_timer(vm, done->timer); /* fired already: stale later */
    switch (type) {
    case FX_MSG_REPLY:
        /* The monitor goes, and with it a DOWN not yet received. */
        (void) fx_demonitor(cx, ref, FX_DEMONITOR_FLUSH);
        res->data = fx_msg_data(msg);
        res->size = fx_msg_size(msg);
        return FX_RESPONSE;
    case FX_MSG_DOWN:
        res->rc = fxi_gs_down(msg, &res->reason);
        return FX_RESPONSE;
    case FXI_REQ_TIMEOUT:
        /* After the demonitor, a late reply is dropped by the runtime. */
        (void) fx_demonitor(cx, ref, FX_DEMONITOR_FLUSH);
        res->rc = FX_ETIMEDOUT;
        return FX_RESPONSE;
    default: /* FXI_REQ_FAIL */
        res->rc = fxi_gs_fail_rc(msg);
        return FX_RESPONSE;
    }
}

FX_API int fx_check_response(fx_ctx *cx, fx_reqids *ids, fx_msg *msg, fx_response *res)
{
    fxi_req done;
    return fxi_req_check(cx, ids, msg, res, &done);
}

FX_API int fx_reqids_abandon(fx_ctx *cx, fx_reqids *ids, fx_ref req)
{
    if (!cx || !ids)
        return FX_EINVAL;
    if (req.id) {
        fxi_req *e = find(ids, req.id);
        if (!e)
            return FX_ENOENT;
        if (e->timed)
            (void) fx_cancel_timer(fx_ctx_vm(cx), e->timer);
        (void) fx_demonitor(cx, req, FX_DEMONITOR_FLUSH);
        erase(ids, e);
        return 0;
    }
    for (uint32_t i = 0; i < ids->cap; i++) {
        fxi_req *e = &ids->slot[i];
        if (!e->ref)
            continue;
        if (e->timed)
            (void) fx_cancel_timer(fx_ctx_vm(cx), e->timer);
        (void) fx_demonitor(cx, (fx_ref){e->ref}, FX_DEMONITOR_FLUSH);
        memset(e, 0, sizeof *e);
    }
    ids->count = 0;
    return 0;
}
