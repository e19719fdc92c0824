/* The public face of links, exit signals, trap_exit and monitors. */
#include <fauxtp/error.h>

#include "actor/signal.h"
#include "actor/vm_impl.h"

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

FX_API int fx_spawn_link(fx_ctx *cx, const fx_spawn_opts *opts, fx_pid *out)
{
    return cx ? fxi_spawn_tied(cx->vm, cx->w, cx->self, opts, out, true, NULL)
              : FX_EINVAL;
}

FX_API int fx_monitor(fx_ctx *cx, fx_pid pid, fx_ref *ref)
{
    return cx ? fxi_monitor(cx->vm, cx->w, cx->self, pid, ref) : FX_EINVAL;
}

FX_API int fx_demonitor(fx_ctx *cx, fx_ref ref, unsigned flags)
{
    return cx ? fxi_demonitor(cx->vm, cx->w, cx->self, ref, flags) : FX_EINVAL;
}

FX_API int fx_spawn_monitor(fx_ctx *cx, const fx_spawn_opts *opts, fx_pid *out,
                            fx_ref *ref)
{
    if (!cx || !ref)
        return FX_EINVAL;
    return fxi_spawn_tied(cx->vm, cx->w, cx->self, opts, out, false, ref);
}
