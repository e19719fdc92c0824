/* Links, exit signals and trap_exit: a process's own side, and the
 * public functions. */
#include "actor/link.h"

#include <fauxtp/error.h>

#include "actor/section.h"
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
    int rc = fxi_u64map_put(&x->links, pid.id, 1);
    if (rc <= 0)
        return rc < 0 ? FX_ENOMEM : 0; /* already linked */
    rc = fxi_sig_send(vm, w, FXI_SIG_LINK, self->pid, pid, FX_REF_NONE);
    if (rc == 0)
        return 0;
    fxi_u64map_del(&x->links, pid.id, NULL);
    if (rc != FX_ENOPROC || !fxi_actor_traps(self))
        return rc;
    /* Erlang: a trapping caller gets {'EXIT', Pid, noproc} instead. */
    fx_reason noproc = fx_reason_noproc();
    rc = fxi_sig_exit(vm, w, pid, self->pid, &noproc, FXI_EXIT_EXPLICIT);
    return rc == FX_ENOMEM ? rc : 0;
}

int fxi_unlink(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid)
{
    if (!pid.id)
        return FX_EINVAL;
    if (self->ext && fxi_u64map_del(&self->ext->links, pid.id, NULL))
        (void) fxi_sig_send(vm, w, FXI_SIG_UNLINK, self->pid, pid, FX_REF_NONE);
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
    return was;
}
