/* Monitors: a process's own side, and the public functions. */
#include "actor/monitor.h"

#include <fauxtp/error.h>

#include "actor/outbox.h"
#include "actor/receive.h"
#include "actor/send.h"
#include "actor/signal.h"

/* Sends a MONITOR request. From the watcher's own handler to a live
 * actor it joins the handler's outbox (actor/outbox.h), so a call's
 * request and its monitor reach the server in one chain with one wake-up;
 * otherwise (an inbox, another VM or node, a dead pid, a mailbox limit)
 * it is published at once. */
static int deliver_request(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid,
                           fx_msg *req)
{
    if (w && w->cx.self == self) {
        const fxi_actor *a = fxi_ptable_lookup(&vm->pt, pid);
        if (a && a->kind == FXI_KIND_ACTOR && a->lim == 0)
            return fxi_deliver_batched(vm, w, pid, req);
    }
    return fxi_deliver_quiet(vm, w, pid, req);
}

static int monitor_ref(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid, fx_ref r,
                       bool call)
{
    fx_ref *ref = &r;
    fxi_actor_ext *x = fxi_actor_ext_get(self);
    if (pid.id == self->pid.id) {
        /* As Erlang: a monitor of oneself is recorded (demonitor finds
         * it, process info counts it) and can never fire. */
        return x && fxi_u64map_put(&x->monitors, ref->id, pid.id) >= 0 ? 0 : FX_ENOMEM;
    }
    if (x && w && w->cx.self == self) /* a call's reply receive (marker.h) */
        fxi_mark_insert(self, *ref);
    /* The request is the target's promise of our DOWN (actor/signal.h). */
    fx_msg *req = fxi_sig_promise_down(FXI_SIG_MONITOR, self->pid, *ref);
    if (req && call) /* the reply with this ref ends it */
        ((fx_down_info *) req->data)->ref = *ref;
    if (!x || !req || fxi_u64map_put(&x->monitors, ref->id, pid.id) < 0) {
        if (req)
            fxi_msg_release(req);
        return FX_ENOMEM;
    }
    if (deliver_request(vm, w, self, pid, req) == FX_ENOPROC) {
        /* A dead target: the request becomes the noproc DOWN. */
        fx_reason noproc = fx_reason_noproc();
        (void) fxi_sig_fire_down(vm, w, req, pid, &noproc);
    }
    return 0;
}

int fxi_monitor(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid, fx_ref *ref)
{
    if (!ref || !pid.id)
        return FX_EINVAL;
    *ref = fxi_make_ref(vm, w);
    return monitor_ref(vm, w, self, pid, *ref, false);
}

int fxi_monitor_ref(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid, fx_ref r)
{
    return monitor_ref(vm, w, self, pid, r, false);
}

static bool is_down_for(const fx_msg *m, const void *ref)
{
    return m->type == FX_MSG_DOWN && m->ref.id == *(const uint64_t *) ref;
}

/* Whether the monitor ref on target has fired: its DOWN is in self's
 * mailbox, not yet reached. Only a dead local target can have sent it, so
 * the common case (a live server after a call) costs one lookup and no
 * walk; a remote target's DOWN counts as still in transit. */
static bool down_queued(fx_vm *vm, fxi_actor *self, uint64_t target, fx_ref ref)
{
    /* The caller is in a section already (a handler, or an inbox call's
     * WITH_SECTION): a plain lookup, no nested section. */
    return target != self->pid.id && fxi_ptable_gone(&vm->pt, (fx_pid){target}) &&
           fxi_mailbox_find_sc(self, is_down_for, &ref.id) != NULL;
}

int fxi_demonitor(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_ref ref, unsigned flags)
{
    if (!ref.id || (flags & ~FX_DEMONITOR_FLUSH))
        return FX_EINVAL;
    int rc = FX_ENOENT;
    fxi_u64pair *e;
    if (self->ext && (e = fxi_u64map_find(&self->ext->monitors, ref.id)) != NULL) {
        uint64_t target = e->val;
        if (!down_queued(vm, self, target, ref)) {
            fxi_u64map_del_found(&self->ext->monitors, e); /* e: no change since */
            if (target != self->pid.id)
                (void) fxi_sig_send(vm, w, FXI_SIG_DEMONITOR, self->pid, (fx_pid){target},
                                    ref);
            rc = 0;
        } else if (flags & FX_DEMONITOR_FLUSH) {
            /* Fired: FX_ENOENT, and the DOWN is dropped when reached (no
             * record). Without FLUSH the record stays, so the DOWN already
             * queued is delivered, as a message in Erlang's queue is. */
            (void) fxi_u64map_del(&self->ext->monitors, ref.id, NULL);
        }
    }
    if ((flags & FX_DEMONITOR_FLUSH) && self->saved) {
        /* The DOWN, and a reply of a call with this ref (the common end
         * of a call has nothing saved: no walk). */
        fxi_saved_drop(self, &(fx_match){.type = FX_MSG_DOWN, .ref = ref});
        fxi_saved_drop(self, &(fx_match){.type = FX_MSG_REPLY, .ref = ref});
    }
    fxi_mark_clear(self, ref.id);
    return rc;
}

FX_API int fx_monitor(fx_ctx *cx, fx_pid pid, fx_ref *ref)
{
    return cx ? fxi_monitor(cx->vm, cx->w, cx->self, pid, ref) : FX_EINVAL;
}

FX_API int fx_monitor_call(fx_ctx *cx, fx_pid pid, fx_ref *ref)
{
    if (!cx || !ref || !pid.id)
        return FX_EINVAL;
    *ref = fxi_make_ref(cx->vm, cx->w);
    return monitor_ref(cx->vm, cx->w, cx->self, pid, *ref, true);
}

FX_API int fx_demonitor(fx_ctx *cx, fx_ref ref, unsigned flags)
{
    return cx ? fxi_demonitor(cx->vm, cx->w, cx->self, ref, flags) : FX_EINVAL;
}
