/* Signals: promises, sending, applying on receipt, and the exit-time
 * broadcast. What a process does to its own links and monitors is in
 * link.c and monitor.c. */
#include "actor/signal.h"

#include <fauxtp/error.h>
#include <string.h>

#include "actor/outbox.h"
#include "actor/send.h"

/* ---- promises ------------------------------------------------------------ */

fx_msg *fxi_sig_promise_exit(uint32_t type, fx_pid to)
{
    fx_msg *m = fxi_msg_alloc(type, sizeof(fx_exit_info));
    if (m)
        m->from = to;
    return m;
}

fx_msg *fxi_sig_promise_down(uint32_t type, fx_pid watcher, fx_ref ref)
{
    fx_msg *m = fxi_msg_alloc(type, sizeof(fx_down_info));
    if (m) {
        m->from = watcher;
        m->ref = ref;
        ((fx_down_info *) m->data)->ref = FX_REF_NONE; /* a plain monitor */
    }
    return m;
}

int fxi_sig_fire_exit(fx_vm *vm, fxi_worker *w, fx_msg *p, fx_pid dead,
                      const fx_reason *r, int how)
{
    fx_pid to = p->from;
    p->type = FXI_SIG_EXIT;
    p->from = dead;
    p->ref = (fx_ref){(uint64_t) how};
    fx_exit_info *e = (fx_exit_info *) p->data;
    e->pid = dead;
    e->reason = *r;
    return fxi_deliver_or_drop(vm, w, to, p);
}

int fxi_sig_fire_down(fx_vm *vm, fxi_worker *w, fx_msg *p, fx_pid dead,
                      const fx_reason *r)
{
    fx_pid to = p->from;
    p->type = FX_MSG_DOWN;
    p->from = dead;
    fx_down_info *d = (fx_down_info *) p->data;
    d->ref = p->ref;
    d->pid = dead;
    d->reason = *r;
    return fxi_deliver_or_drop(vm, w, to, p);
}

/* ---- sending ------------------------------------------------------------ */

int fxi_sig_send(fx_vm *vm, fxi_worker *w, uint32_t type, fx_pid from, fx_pid to,
                 fx_ref ref)
{
    fx_msg *m = fxi_msg_alloc(type, 0);
    if (!m)
        return FX_ENOMEM;
    m->from = from;
    m->ref = ref;
    return fxi_deliver_or_drop(vm, w, to, m);
}

int fxi_sig_exit(fx_vm *vm, fxi_worker *w, fx_pid from, fx_pid to, const fx_reason *r,
                 int how)
{
    fx_msg *m = fxi_sig_promise_exit(FXI_SIG_EXIT, to);
    return m ? fxi_sig_fire_exit(vm, w, m, from, r, how) : FX_ENOMEM;
}

/* ---- receiving ---------------------------------------------------------- */

/* Removes key from a promise table, freeing its promise. */
static bool drop_promise(fxi_u64map *t, uint64_t key)
{
    uint64_t v;
    if (!fxi_u64map_del(t, key, &v))
        return false;
    fxi_msg_release(fxi_sig_promise_of(v));
    return true;
}

static int apply_exit(fxi_actor *a, fx_msg *m, fx_reason *why)
{
    fx_exit_info *e = (fx_exit_info *) m->data;
    bool link = m->ref.id == FXI_EXIT_LINK;
    /* A link's signal counts only while the link exists: after fx_unlink
     * (or if the link never reached us) it is ignored. Our promise to the
     * dead process goes unused. */
    if (link && !(a->ext && drop_promise(&a->ext->links, e->pid.id))) {
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

/* A LINK or MONITOR request could not be recorded for lack of memory: the
 * process cannot keep the promise, so it exits, and the request (which is
 * the promise itself) tells the requester so. */
static int refuse(fx_reason *why)
{
    *why = fx_reason_error(FX_ENOMEM, "out of memory recording a link or monitor");
    return FXI_SIG_REFUSED;
}

/* Records request m (a LINK: key = requester's pid; a MONITOR: key = ref)
 * in table t as the promise it is. */
static int record(fxi_u64map *t, uint64_t key, fx_msg *m, fx_reason *why)
{
    int rc = fxi_u64map_add(t, key, fxi_sig_promise_val(m));
    if (rc < 0)
        return refuse(why);
    if (rc == 0)            /* already linked (both sides linked at once): one promise */
        fxi_msg_release(m); /* each way is enough */
    return FXI_SIG_CONSUMED;
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
    if (m->type == FXI_SIG_REPLY_END) {
        /* A reply that ended the server's side of our call monitor: ours
         * ends too, and the reply is delivered as any other. */
        if (a->ext && fxi_u64map_del(&a->ext->monitors, m->ref.id, NULL)) {
            m->type = FX_MSG_REPLY;
            return FXI_SIG_DELIVER;
        }
        fxi_msg_release(m);
        return FXI_SIG_CONSUMED;
    }
    fxi_actor_ext *x;
    switch (m->type) {
    case FXI_SIG_LINK:
        if (!(x = fxi_actor_ext_get(a)))
            return refuse(why);
        return record(&x->links, m->from.id, m, why);
    case FXI_SIG_MONITOR:
        if (!(x = fxi_actor_ext_get(a)))
            return refuse(why);
        return record(&x->watchers, m->ref.id, m, why);
    case FXI_SIG_UNLINK:
        if (a->ext)
            (void) drop_promise(&a->ext->links, m->from.id);
        break;
    case FXI_SIG_DEMONITOR:
        if (a->ext)
            (void) drop_promise(&a->ext->watchers, m->ref.id);
        break;
    default:
        break;
    }
    fxi_msg_release(m);
    return FXI_SIG_CONSUMED;
}

/* ---- death -------------------------------------------------------------- */

void fxi_sig_exit_notify(fx_vm *vm, fxi_worker *w, fxi_actor *a, const fx_reason *r)
{
    fxi_actor_ext *x = a->ext;
    if (!x)
        return;
    /* The promises need no memory. A dead peer drops its signal, as it
     * should; a DEMONITOR that cannot be allocated leaves the watched
     * process holding our DOWN promise until it exits, and that DOWN is
     * then dropped (we are gone). */
    for (uint32_t i = 0; i < x->links.cap; i++)
        if (x->links.slots[i].key)
            (void) fxi_sig_fire_exit(vm, w, fxi_sig_promise_of(x->links.slots[i].val),
                                     a->pid, r, FXI_EXIT_LINK);
    for (uint32_t i = 0; i < x->watchers.cap; i++)
        if (x->watchers.slots[i].key)
            (void) fxi_sig_fire_down(vm, w, fxi_sig_promise_of(x->watchers.slots[i].val),
                                     a->pid, r);
    for (uint32_t i = 0; i < x->monitors.cap; i++)
        if (x->monitors.slots[i].key && x->monitors.slots[i].val != a->pid.id)
            (void) fxi_sig_send(vm, w, FXI_SIG_DEMONITOR, a->pid,
                                (fx_pid){x->monitors.slots[i].val},
                                (fx_ref){x->monitors.slots[i].key});
    fxi_u64map_fini(&x->links);
    fxi_u64map_fini(&x->watchers);
    fxi_u64map_fini(&x->monitors);
}

void fxi_sig_discard(fx_vm *vm, fxi_worker *w, fx_pid dead, fx_msg *m,
                     const fx_reason *answer)
{
    /* A request that reached us after our exit (or that we could not
     * record) is its own answer: the requester learns the reason, noproc
     * for a process that no longer exists. */
    if (answer && m->type == FXI_SIG_LINK)
        (void) fxi_sig_fire_exit(vm, w, m, dead, answer, FXI_EXIT_LINK);
    else if (answer && m->type == FXI_SIG_MONITOR)
        (void) fxi_sig_fire_down(vm, w, m, dead, answer);
    else
        fxi_msg_release(m);
}
