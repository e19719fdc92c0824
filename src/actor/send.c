/* The message path: every send, from a handler, from outside the VM, from
 * a timer, ends in fxi_deliver. */
#include "actor/send.h"

#include <fauxtp/error.h>
#include <string.h>

#include "actor/outbox.h"
#include "actor/section.h"
#include "actor/signal.h"
#include "actor/stats.h"
#include "actor/wake.h"
#include "dist/dist_route.h"

void fxi_outbox_flush_slow(fxi_worker *w)
{
    fxi_outbox *o = &w->out;
    /* Relaxed: the watchdog may empty the list of a stuck call (run.c's
     * hand_over); a stale count takes the deferring path, which checks
     * under the protocol (outbox.h). */
    if (fxi_atomic_load_relaxed_32(&w->nwakes) == 0) { /* nothing deferred */
        outbox_publish_upto(w, o->hi, false);
        return;
    }
    outbox_publish_upto(w, o->hi, true);
    outbox_wakes(w);
}

void fxi_outbox_publish_full(fxi_worker *w, fxi_ochain *c)
{
    outbox_publish_full(w, c);
}

/* See outbox.h. */
int fxi_outbox_deliver_slow(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m, fxi_ochain *c,
                            uint32_t s)
{
    fxi_actor *a = fxi_ptable_lookup(&vm->pt, to);
    if (__builtin_expect(a == NULL, 0)) {
        /* A pid of a remote node goes to its connection (dist/), whose
         * refusal (a malformed term, a busy connection) is the answer;
         * FX_ENOPROC means it is no pid of a node we know. */
        if (fxi_pid_tag(to) != vm->pt.tag) {
            int rc = fxi_dist_route_foreign(vm, w, to, m);
            if (rc != FX_ENOPROC)
                return rc;
        }
        fxi_atomic_store_relaxed_64(&w->stat_dropped,
                                    w->stat_dropped + 1); /* relaxed: stat, one writer */
        if (__builtin_expect(fxi_log_on(&vm->log, FX_LOG_DEBUG), 0))
            fxi_log_dead_send(vm, to, m->type);
        return FX_ENOPROC;
    }
    if (__builtin_expect(a->kind == FXI_KIND_INBOX, 0)) {
        /* A thread outside the VM may be blocked waiting for exactly this
         * message while the handler goes on: publish it now (after the
         * open chains, which keeps this thread's order). */
        fxi_outbox_flush(w);
        uint32_t len;
        fxi_stats_count_sent(vm, w, 1);
        if (fxi_mailbox_push_mpsc(&a->mb, &m->node, false, &len)) /* no inbox limits */
            fxi_wake(vm, w, a);
        return 0;
    }
    fxi_outbox *o = &w->out;
    if (__builtin_expect(a->lim != 0, 0)) {
        int rc = fxi_limit_check(a, m->type, outbox_pending(o, a), false);
        if (rc != 0) {
            fxi_atomic_store_relaxed_64(
                &w->stat_dropped, w->stat_dropped + 1); /* relaxed: stat, one writer */
            fxi_atomic_store_relaxed_64(&w->stat_dropped_full,
                                        w->stat_dropped_full + 1); /* as above */
            return rc;
        }
        if (c) {
            outbox_append(w, c, m);
            return 0;
        }
    }
    if (o->hi - o->lo == FXI_OUTBOX_CHAINS) {
        /* Full table: the oldest chain makes room (its wake-up deferred);
         * its slot may now end the probe earlier. */
        outbox_publish_upto(w, o->lo + 1, true);
        (void) outbox_find(o, to, &s);
    }
    outbox_open(o, to, a, m, s);
    return 0;
}

int fxi_deliver_quiet(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m)
{
    if (w)
        fxi_outbox_flush(w); /* keeps this thread's deliveries in order */
    fxi_actor *a = fxi_ptable_lookup(&vm->pt, to);
    if (__builtin_expect(a == NULL, 0)) /* another VM's or node's pid? (dist/) */
        return fxi_pid_tag(to) != vm->pt.tag ? fxi_dist_route_foreign(vm, w, to, m)
                                             : FX_ENOPROC;
    uint32_t len;
    fxi_stats_count_sent(vm, w, 1);
    if (fxi_mailbox_push_mpsc(&a->mb, &m->node, fxi_mb_counted(a), &len))
        fxi_wake(vm, w, a);
    return 0;
}

/* A sender outside the VM never queues past a limit (actor/mute.h). */
static int limit_ext(fx_vm *vm, fx_pid to, const fx_msg *m)
{
    fxi_actor *a = fxi_ptable_lookup(&vm->pt, to);
    if (a == NULL || a->lim == 0)
        return 0;
    return fxi_limit_check(a, m->type, 0, true);
}

int fxi_deliver(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m)
{
    int rc = fxi_deliver_quiet(vm, w, to, m);
    if (__builtin_expect(rc != 0, 0)) {
        if (w)
            fxi_atomic_store_relaxed_64(
                &w->stat_dropped, w->stat_dropped + 1); /* relaxed: stat, one writer */
        else
            fxi_atomic_fetch_add_relaxed_64(&vm->ext_dropped, 1); /* relaxed: stat only */
        if (__builtin_expect(fxi_log_on(&vm->log, FX_LOG_DEBUG), 0))
            fxi_log_dead_send(vm, to, m->type);
    }
    return rc;
}

int fxi_deliver_or_drop(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m)
{
    int rc = fxi_deliver(vm, w, to, m);
    if (rc != 0)
        fxi_msg_release(m);
    return rc;
}

/* max_msg_size limits the application's payload; behaviour messages and
 * replies get room for their header (FX_MSG_ENVELOPE_MAX, msg.h). */
static uint64_t size_limit(const fx_vm *vm, uint32_t type)
{
    return fxi_msg_size_limit(vm->cfg.max_msg_size, type);
}

static int check_send(fx_vm *vm, uint32_t type, const void *data, size_t size)
{
    if ((type >= FX_MSG_SYSTEM_BASE && type != FX_MSG_TERM) || (size && !data))
        return FX_EINVAL;
    if (size > vm->cfg.max_msg_size)
        return FX_EMSGSIZE;
    return 0;
}

/* fx_send, every case; slot: the free index slot of the pid's probe
 * when the caller found no open chain to it (send_indexed), else
 * NO_SLOT. */
#define NO_SLOT UINT32_MAX
__attribute__((noinline)) static int send_any_at(fx_ctx *cx, fx_pid to, uint32_t type,
                                                 const void *data, size_t size,
                                                 uint32_t slot)
{
    if (!cx)
        return FX_EINVAL;
    int rc = check_send(cx->vm, type, data, size);
    if (rc)
        return rc;
    fx_msg *m = fxi_msg_alloc(type, (uint32_t) size);
    if (!m)
        return FX_ENOMEM;
    m->from = cx->self->pid;
    fxi_msg_copy_in(m->data, data, size);
    rc = slot == NO_SLOT ? fxi_deliver_batched(cx->vm, cx->w, to, m)
                         : fxi_deliver_unopened(cx->vm, cx->w, to, m, slot);
    if (rc != 0)
        fxi_msg_release(m);
    return rc;
}

static inline int send_any(fx_ctx *cx, fx_pid to, uint32_t type, const void *data,
                           size_t size)
{
    return send_any_at(cx, to, type, data, size, NO_SLOT);
}

/* fx_send's common case: a user message of at most 16 bytes
 * (fxi_msg_copy_in's inline moves, checked by the caller) appended to
 * the open chain c to its target, when that does not fill the chain and
 * the loaded magazine has a block. Calls nothing, so the functions it is
 * inlined into save no registers for it (about 15 of the ~100
 * instructions of a send were the prologue and epilogue); anything else
 * goes to send_any as a tail call. */
__attribute__((always_inline)) static inline int send_into(fx_ctx *cx, fxi_ochain *c,
                                                           fx_pid to, uint32_t type,
                                                           const void *data, size_t size)
{
    if (c->lim != 0 || c->n + 1 >= FXI_OUTBOX_MAX || size > cx->vm->cfg.max_msg_size)
        return send_any(cx, to, type, data, size);
    fx_msg *m = (fx_msg *) fxi_mc_alloc_fast(fxi_mc_block_size(fxi_msg_alloc_size(size)));
    if (__builtin_expect(m == NULL, 0))
        return send_any(cx, to, type, data, size);
    m->type = type;
    m->size = (uint32_t) size;
    m->from = cx->self->pid;
    m->ref = FX_REF_NONE;
    fxi_msg_copy_in(m->data, data, size);
    /* As outbox_append, which cannot fill the chain here. Plain stores:
     * the chain is private until it is published. */
    c->last->next = &m->node;
    c->last = &m->node;
    c->n++;
    return 0;
}

/* fx_send to a process whose chain is not the newest (a fan-out:
 * fjthrput), found by the index; apart from fx_send so that the probe
 * loop's registers do not weigh on the flood's path. */
__attribute__((noinline)) static int send_indexed(fx_ctx *cx, fx_pid to, uint32_t type,
                                                  const void *data, size_t size)
{
    uint32_t slot;
    fxi_ochain *c = outbox_find(&cx->w->out, to, &slot);
    if (c == NULL) /* the call's first send to it: open a chain there */
        return send_any_at(cx, to, type, data, size, slot);
    return send_into(cx, c, to, type, data, size);
}

/* The common cases inline (send_into): the newest open chain's process
 * here (the sends of a flood after the first of each chain), another
 * open chain's in send_indexed. Everything else, including every error,
 * goes to send_any, as a tail call. */
FX_API int fx_send(fx_ctx *cx, fx_pid to, uint32_t type, const void *data, size_t size)
{
    /* Nothing open (the call's first send: ping-pong, a ring) is tested
     * first, so those sends pay four instructions here. */
    if (cx == NULL)
        return send_any(cx, to, type, data, size);
    fxi_outbox *o = &cx->w->out;
    if (o->hi == o->lo || type >= FX_MSG_SYSTEM_BASE || size > 16 || (size && !data))
        return send_any(cx, to, type, data, size);
    fxi_ochain *c = outbox_chain(o, o->hi - 1);
    if (c->pid.id != to.id)
        return send_indexed(cx, to, type, data, size);
    return send_into(cx, c, to, type, data, size);
}

FX_API int fx_send_msg(fx_ctx *cx, fx_pid to, fx_msg *msg)
{
    if (!cx || !msg || !fxi_msg_sendable(msg->type))
        return FX_EINVAL;
    if (msg->size > size_limit(cx->vm, msg->type))
        return FX_EMSGSIZE;
    msg->from = cx->self->pid;
    int rc = fxi_deliver_batched(cx->vm, cx->w, to, msg);
    if (rc == 0 && msg == cx->cur)
        cx->kept = true; /* forwarded the message being handled: not ours to free */
    return rc;
}

int fxi_send_ext(fx_vm *vm, fx_pid from, fx_pid to, fx_msg *msg)
{
    if (!vm || !msg || !fxi_msg_sendable(msg->type))
        return FX_EINVAL;
    if (msg->size > size_limit(vm, msg->type))
        return FX_EMSGSIZE;
    fxi_section sec;
    int rc = fxi_section_enter(vm, &sec);
    if (rc)
        return rc;
    msg->from = from;
    rc = limit_ext(vm, to, msg);
    if (rc == 0)
        rc = fxi_deliver(vm, sec.w, to, msg);
    fxi_section_exit(vm, &sec);
    return rc;
}

FX_API int fx_vm_send_msg(fx_vm *vm, fx_pid to, fx_msg *msg)
{
    return fxi_send_ext(vm, FX_PID_NONE, to, msg);
}

int fxi_send_copy_ext(fx_vm *vm, fx_pid from, fx_pid to, uint32_t type, const void *data,
                      size_t size)
{
    if (!vm)
        return FX_EINVAL;
    int rc = check_send(vm, type, data, size);
    if (rc)
        return rc;
    fx_msg *m = fxi_msg_alloc(type, (uint32_t) size);
    if (!m)
        return FX_ENOMEM;
    fxi_msg_copy_in(m->data, data, size);
    rc = fxi_send_ext(vm, from, to, m);
    if (rc != 0)
        fxi_msg_release(m);
    return rc;
}

FX_API int fx_vm_send(fx_vm *vm, fx_pid to, uint32_t type, const void *data, size_t size)
{
    return fxi_send_copy_ext(vm, FX_PID_NONE, to, type, data, size);
}

/* A reply: FX_MSG_REPLY with the call's ref, from `self` (a, the running
 * actor, or NULL from outside the VM). */
static int reply(fx_vm *vm, fxi_worker *w, fxi_actor *a, fx_pid self, fx_from to,
                 const void *data, size_t size)
{
    if (!to.pid.id || !to.ref.id || (size && !data))
        return FX_EINVAL;
    if (size > size_limit(vm, FX_MSG_REPLY))
        return FX_EMSGSIZE;
    fx_msg *m = fxi_msg_alloc(FX_MSG_REPLY, (uint32_t) size);
    if (!m)
        return FX_ENOMEM;
    m->from = self;
    m->ref = to.ref;
    if (a && fxi_monitor_reply_ends(a, to)) /* a call monitor ends here */
        m->type = FXI_SIG_REPLY_END;
    fxi_msg_copy_in(m->data, data, size);
    return fxi_deliver_or_drop(vm, w, to.pid, m);
}

FX_API int fx_reply(fx_ctx *cx, fx_from to, const void *data, size_t size)
{
    return cx ? reply(cx->vm, cx->w, cx->self, cx->self->pid, to, data, size) : FX_EINVAL;
}

FX_API int fx_vm_reply(fx_vm *vm, fx_from to, const void *data, size_t size)
{
    if (!vm)
        return FX_EINVAL;
    fxi_section sec;
    int rc = fxi_section_enter(vm, &sec);
    if (rc)
        return rc;
    rc = reply(vm, sec.w, NULL, FX_PID_NONE, to, data, size);
    fxi_section_exit(vm, &sec);
    return rc;
}

FX_API int fx_vm_on_scheduler(fx_vm *vm)
{
    return vm && fxi_vm_worker(vm) != NULL;
}

FX_API int fx_is_alive(fx_vm *vm, fx_pid pid)
{
    if (!vm)
        return FX_EINVAL;
    fxi_section sec;
    if (fxi_section_enter(vm, &sec) != 0)
        return 0;
    int alive = fxi_ptable_lookup(&vm->pt, pid) != NULL;
    fxi_section_exit(vm, &sec);
    return alive;
}
