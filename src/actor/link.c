/* Links, exit signals and trap_exit: a process's own side, and the
 * public functions. */
#include "actor/link.h"

#include <fauxtp/error.h>

#include "actor/receive.h"
#include "actor/section.h"
#include "actor/send.h"
#include "actor/signal.h"

int fxi_link(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid)
{
    if (!pid.id)
        return FX_EINVAL;
    if (pid.id == self->pid.id)
        return 0;
    fxi_actor_ext *x = fxi_actor_ext_get(self);
    if (!x)
        return FX_ENOMEM;
    if (fxi_u64map_get(&x->links, pid.id, NULL))
        return 0; /* already linked */
    /* Both promises first (actor/signal.h): ours to pid, and the request,
     * which pid keeps as its promise to us. Nothing can fail after the
     * table entry is in. */
    fx_msg *own = fxi_sig_promise_exit(FXI_SIG_EXIT, pid);
    fx_msg *req = fxi_sig_promise_exit(FXI_SIG_LINK, self->pid);
    if (!own || !req || fxi_u64map_put(&x->links, pid.id, fxi_sig_promise_val(own)) < 0) {
        if (own)
            fxi_msg_release(own);
        if (req)
            fxi_msg_release(req);
        return FX_ENOMEM;
    }
    int rc = fxi_deliver_quiet(vm, w, pid, req);
    if (rc == 0)
        return 0;
    fxi_u64map_del(&x->links, pid.id, NULL);
    fxi_msg_release(own);
    if (!fxi_actor_traps(self)) {
        fxi_msg_release(req);
        return rc;
    }
    /* Erlang: a trapping caller gets {'EXIT', Pid, noproc} instead. The
     * request is that message. */
    fx_reason noproc = fx_reason_noproc();
    (void) fxi_sig_fire_exit(vm, w, req, pid, &noproc, FXI_EXIT_EXPLICIT);
    return 0;
}

static bool is_link_exit_from(const fx_msg *m, const void *pid)
{
    return m->type == FXI_SIG_EXIT && m->ref.id == FXI_EXIT_LINK &&
           ((const fx_exit_info *) m->data)->pid.id == *(const uint64_t *) pid;
}

int fxi_unlink(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid)
{
    if (!pid.id)
        return FX_EINVAL;
    uint64_t v;
    if (self->ext && fxi_u64map_del(&self->ext->links, pid.id, &v)) {
        /* A trapping caller keeps the EXIT its dead peer's link already
         * put in its mailbox (link.h, as Erlang's queue keeps it): the
         * signal, not reached yet, becomes the message it would have
         * been. Only a dead local peer can have sent one. */
        if (fxi_actor_traps(self) && fxi_ptable_gone(&vm->pt, pid)) { /* in a section */
            fx_msg *e = fxi_mailbox_find_sc(self, is_link_exit_from, &pid.id);
            if (e) {
                e->type = FX_MSG_EXIT;
                e->ref = FX_REF_NONE;
            }
        }
        /* Our unused promise carries the UNLINK: no allocation. */
        fx_msg *m = fxi_sig_promise_of(v);
        m->type = FXI_SIG_UNLINK;
        m->from = self->pid;
        m->ref = FX_REF_NONE;
        (void) fxi_deliver_or_drop(vm, w, pid, m);
    }
    return 0;
}

FX_API int fx_link(fx_ctx *cx, fx_pid pid)
{
    return cx ? fxi_link(cx->vm, cx->w, cx->self, pid) : FX_EINVAL;
}

FX_API int fx_unlink(fx_ctx *cx, fx_pid pid)
{
    return cx ? fxi_unlink(cx->vm, cx->w, cx->self, pid) : FX_EINVAL;
}

static bool reason_valid(const fx_reason *r)
{
    return r->kind >= FX_REASON_NORMAL && r->kind <= FX_REASON_KILL;
}

FX_API int fx_exit(fx_ctx *cx, fx_pid pid, fx_reason reason)
{
    if (!cx || !reason_valid(&reason))
        return FX_EINVAL;
    return fxi_sig_exit(cx->vm, cx->w, cx->self->pid, pid, &reason, FXI_EXIT_EXPLICIT);
}

FX_API int fx_vm_exit(fx_vm *vm, fx_pid pid, fx_reason reason)
{
    if (!vm || !reason_valid(&reason))
        return FX_EINVAL;
    fxi_section sec;
    int rc = fxi_section_enter(vm, &sec);
    if (rc)
        return rc;
    rc = fxi_sig_exit(vm, sec.w, FX_PID_NONE, pid, &reason, FXI_EXIT_EXPLICIT);
    fxi_section_exit(vm, &sec);
    return rc;
}

FX_API bool fx_trap_exit(fx_ctx *cx, bool on)
{
    if (!cx)
        return false;
    fxi_actor *a = cx->self;
    bool was = (a->flags & FXI_F_TRAP) != 0;
    if (on)
        a->flags |= FXI_F_TRAP;
    else
        a->flags &= (uint16_t) ~FXI_F_TRAP;
    /* Mirrored for process info (flags are owner only). An actor without
     * an extension record gets one (trapping processes link: they need
     * it anyway); without memory only the mirror is missing. Relaxed, one
     * writer: a snapshot value. */
    fxi_actor_ext *x = fxi_actor_ext_get(a);
    if (x)
        fxi_atomic_store_relaxed_32(&x->trap, on ? 1u : 0u);
    return was;
}
