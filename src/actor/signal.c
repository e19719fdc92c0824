/* Signals: sending, applying on receipt, and the exit-time broadcast.
 * What a process does to its own links and monitors is in link.c and
 * monitor.c. */
#include "actor/signal.h"

#include <fauxtp/error.h>
#include <string.h>

#include "actor/send.h"

/* ---- sending ------------------------------------------------------------ */

static fx_msg *sig_alloc(uint32_t type, uint32_t size, fx_pid from, fx_ref ref)
{
    fx_msg *m = fxi_msg_alloc(type, size);
    if (m) {
        m->from = from;
        m->ref = ref;
    }
    return m;
}

int fxi_sig_send(fx_vm *vm, fxi_worker *w, uint32_t type, fx_pid from, fx_pid to,
                 fx_ref ref)
{
    fx_msg *m = sig_alloc(type, 0, from, ref);
    return m ? fxi_deliver_or_drop(vm, w, to, m) : FX_ENOMEM;
}

int fxi_sig_exit(fx_vm *vm, fxi_worker *w, fx_pid from, fx_pid to, const fx_reason *r,
                 int how)
{
    fx_msg *m =
        sig_alloc(FXI_SIG_EXIT, sizeof(fx_exit_info), from, (fx_ref){(uint64_t) how});
    if (!m)
        return FX_ENOMEM;
    fx_exit_info *e = (fx_exit_info *) m->data;
    e->pid = from;
    e->reason = *r;
    return fxi_deliver_or_drop(vm, w, to, m);
}

int fxi_sig_down(fx_vm *vm, fxi_worker *w, fx_pid dead, fx_pid to, fx_ref ref,
                 const fx_reason *r)
{
    fx_msg *m = sig_alloc(FX_MSG_DOWN, sizeof(fx_down_info), dead, ref);
    if (!m)
        return FX_ENOMEM;
    fx_down_info *d = (fx_down_info *) m->data;
    d->ref = ref;
    d->pid = dead;
    d->reason = *r;
    return fxi_deliver_or_drop(vm, w, to, m);
}

/* ---- receiving ---------------------------------------------------------- */

static int apply_exit(fxi_actor *a, fx_msg *m, fx_reason *why)
{
    fx_exit_info *e = (fx_exit_info *) m->data;
    bool link = m->ref.id == FXI_EXIT_LINK;
    /* A link's signal counts only while the link exists: after fx_unlink
     * (or if the link never reached us) it is ignored. */
    if (link && !(a->ext && fxi_u64map_del(&a->ext->links, e->pid.id, NULL))) {
        fxi_msg_release(m);
        return FXI_SIG_CONSUMED;
    }
    bool kill = !link && e->reason.kind == FX_REASON_KILL;
    if (fxi_actor_traps(a) && !(kill && a->kind == FXI_KIND_ACTOR)) {
        m->type = FX_MSG_EXIT;
        m->ref = FX_REF_NONE;
        return FXI_SIG_DELIVER;
    }
    bool die = kill || e->reason.kind != FX_REASON_NORMAL ||
               (!link && e->pid.id == a->pid.id); /* exit(self(), normal) */
    if (die)
        *why = kill ? fx_reason_killed() : e->reason;
    fxi_msg_release(m);
    return die ? FXI_SIG_DIE : FXI_SIG_CONSUMED;
}

/* A table update failed for lack of memory: the process can no longer
 * keep its links' promises, so it exits (links learn why). */
static int out_of_memory(fx_msg *m, fx_reason *why)
{
    fxi_msg_release(m);
    *why = fx_reason_error(FX_ENOMEM, "out of memory applying a link or monitor");
    return FXI_SIG_DIE;
}

int fxi_sig_apply(fxi_actor *a, fx_msg *m, fx_reason *why)
{
    if (m->type == FXI_SIG_EXIT)
        return apply_exit(a, m, why);
    if (m->type == FX_MSG_DOWN) {
        /* Delivered only while the monitor is active: demonitor stops a
         * DOWN that has not been received yet. */
        if (a->ext && fxi_u64map_del(&a->ext->monitors, m->ref.id, NULL))
            return FXI_SIG_DELIVER;
        fxi_msg_release(m);
        return FXI_SIG_CONSUMED;
    }
    if (m->type == FX_MSG_REPLY) {
        /* Only while the caller waits: its monitor on the server is the
         * call's "alias" (it stays until the caller demonitors). */
        if (a->ext && fxi_u64map_get(&a->ext->monitors, m->ref.id, NULL))
            return FXI_SIG_DELIVER;
        fxi_msg_release(m);
        return FXI_SIG_CONSUMED;
    }
    if (m->type < FX_MSG_INTERNAL_BASE)
        return FXI_SIG_DELIVER; /* the behaviour range: ordinary messages */
    fxi_actor_ext *x = fxi_actor_ext_get(a);
    if (!x)
        return out_of_memory(m, why);
    switch (m->type) {
    case FXI_SIG_LINK:
        if (fxi_u64map_put(&x->links, m->from.id, 1) < 0)
            return out_of_memory(m, why);
        break;
    case FXI_SIG_UNLINK:
        fxi_u64map_del(&x->links, m->from.id, NULL);
        break;
    case FXI_SIG_MONITOR:
        if (fxi_u64map_put(&x->watchers, m->ref.id, m->from.id) < 0)
            return out_of_memory(m, why);
        break;
    case FXI_SIG_DEMONITOR:
        fxi_u64map_del(&x->watchers, m->ref.id, NULL);
        break;
    default:
        break;
    }
    fxi_msg_release(m);
    return FXI_SIG_CONSUMED;
}

/* ---- a process's own links and monitors --------------------------------- */

/* ---- death -------------------------------------------------------------- */

void fxi_sig_exit_notify(fx_vm *vm, fxi_worker *w, fxi_actor *a, const fx_reason *r)
{
    fxi_actor_ext *x = a->ext;
    if (!x)
        return;
    /* Send failures (a dead peer, or no memory for the signal) have no one
     * left to report to: the peer is gone or the VM is out of memory. */
    for (uint32_t i = 0; i < x->links.cap; i++)
        if (x->links.slots[i].key)
            (void) fxi_sig_exit(vm, w, a->pid, (fx_pid){x->links.slots[i].key}, r,
                                FXI_EXIT_LINK);
    for (uint32_t i = 0; i < x->watchers.cap; i++)
        if (x->watchers.slots[i].key)
            (void) fxi_sig_down(vm, w, a->pid, (fx_pid){x->watchers.slots[i].val},
                                (fx_ref){x->watchers.slots[i].key}, r);
    for (uint32_t i = 0; i < x->monitors.cap; i++)
        if (x->monitors.slots[i].key)
            (void) fxi_sig_send(vm, w, FXI_SIG_DEMONITOR, a->pid,
                                (fx_pid){x->monitors.slots[i].val},
                                (fx_ref){x->monitors.slots[i].key});
    fxi_u64map_fini(&x->links);
    fxi_u64map_fini(&x->watchers);
    fxi_u64map_fini(&x->monitors);
}

void fxi_sig_discard(fx_vm *vm, fxi_worker *w, fx_pid dead, fx_msg *m, bool answer)
{
    if (answer && (m->type == FXI_SIG_LINK || m->type == FXI_SIG_MONITOR)) {
        /* The request reached us after our exit: the requester learns
         * noproc, as from a process that no longer exists. */
        fx_reason noproc = fx_reason_noproc();
        if (m->type == FXI_SIG_LINK)
            (void) fxi_sig_exit(vm, w, dead, m->from, &noproc, FXI_EXIT_LINK);
        else
            (void) fxi_sig_down(vm, w, dead, m->from, m->ref, &noproc);
    }
    fxi_msg_release(m);
}
