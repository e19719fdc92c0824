/* The owner's side of the mailbox: plain and selective receive over the
 * save queue, and emptying a dead process's mailbox. */
#include "actor/receive.h"

#include <fauxtp/error.h>
#include <string.h>

#include "actor/signal.h"
#include "actor/timers.h"
#include "actor/vm.h"

/* Unmatched messages moved to the save queue per call before yielding. */
#define SKIP_BUDGET 256

bool fxi_match_msg(const fx_match *mt, const fx_msg *m)
{
    if (!mt)
        return true;
    if (mt->type && m->type != mt->type)
        return false;
    if (mt->from.id && m->from.id != mt->from.id)
        return false;
    if (mt->ref.id && m->ref.id != mt->ref.id)
        return false;
    return !mt->pred || mt->pred(m, mt->pred_arg);
}

void fxi_saved_append(fxi_actor *a, fx_msg *m)
{
    fxi_mnode *n = &m->node;
    if (!a->saved) {
        n->next = n;
    } else {
        n->next = a->saved->node.next;
        a->saved->node.next = n;
    }
    a->saved = m;
    /* Relaxed, one writer: read by process info. Counted only with an
     * extension record: every selective receive has one. */
    if (a->ext)
        fxi_atomic_store_relaxed_32(&a->ext->saved_n, a->ext->saved_n + 1);
}

/* Where a scan for mt may start: after the marker of mt's ref, if it
 * has one (actor/marker.h), else at the oldest saved message (NULL). */
static fx_msg *scan_start(fxi_actor *a, const fx_match *mt)
{
    fxi_mark *mk = mt ? fxi_mark_find(a, mt->ref.id) : NULL;
    return mk ? mk->after : NULL;
}

/* m leaves the save queue; pred: the kept message before it, NULL when
 * m was the oldest. */
static inline void unlinked(fxi_actor *a, const fx_msg *m, fxi_mnode *pred)
{
    fxi_actor_ext *x = a->ext;
    if (!x)
        return;
    if (x->saved_n) /* relaxed, one writer: as in fxi_saved_append */
        fxi_atomic_store_relaxed_32(&x->saved_n, x->saved_n - 1);
    if (x->marks.live)
        fxi_mark_unlinked(&x->marks, m, (fx_msg *) pred);
}

fx_msg *fxi_saved_take(fxi_actor *a, const fx_match *mt)
{
    if (!a->saved)
        return NULL;
    fx_msg *after = scan_start(a, mt);
    if (after == a->saved)
        return NULL; /* everything saved predates mt's ref */
    /* pred: the message before cur, NULL while cur is the oldest. */
    fxi_mnode *tail = &a->saved->node, *pred = after ? &after->node : NULL;
    fxi_mnode *cur = pred ? pred->next : tail->next;
    for (;;) {
        fx_msg *m = (fx_msg *) cur;
        fxi_mnode *prev = pred ? pred : tail;
        if (fxi_match_msg(mt, m)) {
            if (cur == prev) {
                a->saved = NULL; /* it was the only one */
            } else {
                prev->next = cur->next;
                if (cur == tail)
                    a->saved = (fx_msg *) prev;
            }
            unlinked(a, m, pred);
            return m;
        }
        if (cur == tail)
            return NULL;
        pred = cur;
        cur = cur->next;
    }
}

void fxi_saved_drop(fxi_actor *a, const fx_match *mt)
{
    if (!a->saved)
        return;
    fx_msg *after = scan_start(a, mt);
    if (after == a->saved)
        return;
    /* Walk the circle once from the oldest entry (or the marker), unlinking
     * matches; pred: the last kept entry, NULL while none was kept before
     * cur and the walk started at the oldest. */
    fxi_mnode *tail = &a->saved->node, *pred = after ? &after->node : NULL;
    fxi_mnode *cur = pred ? pred->next : tail->next;
    for (;;) {
        fxi_mnode *next = cur->next;
        fxi_mnode *prev = pred ? pred : tail;
        bool last = cur == tail;
        if (fxi_match_msg(mt, (fx_msg *) cur)) {
            if (cur == prev) { /* the only entry */
                a->saved = NULL;
                unlinked(a, (fx_msg *) cur, NULL);
                fxi_msg_release((fx_msg *) cur);
                return;
            }
            prev->next = next;
            if (last)
                a->saved = (fx_msg *) prev;
            unlinked(a, (fx_msg *) cur, pred);
            fxi_msg_release((fx_msg *) cur);
        } else {
            pred = cur;
        }
        if (last)
            return;
        cur = next;
    }
}

void fxi_saved_free_all(fxi_actor *a)
{
    fx_msg *m;
    while ((m = fxi_saved_take(a, NULL)) != NULL)
        fxi_msg_release(m);
}

uint64_t fxi_mailbox_discard(fx_vm *vm, fxi_worker *w, fxi_actor *a, bool answer)
{
    fxi_mnode *n;
    uint64_t dropped = 0;
    while ((n = fxi_mailbox_pop_sc(&a->mb)) != NULL) {
        fx_msg *m = (fx_msg *) n;
        if (m->type < FX_MSG_SYSTEM_BASE)
            dropped++;
        fx_reason noproc = fx_reason_noproc();
        fxi_sig_discard(vm, w, a->pid, m, answer ? &noproc : NULL);
    }
    return dropped;
}

/* A receive is over: its timeout must not fire into a later one. */
static void end_receive(fx_ctx *cx, fxi_actor_ext *x)
{
    if (x->recv_ref.id) {
        fxi_recv_timer_cancel(cx->vm, cx->w, cx->self, x->recv_ref, x->recv_timer.id);
        x->recv_ref = FX_REF_NONE;
    }
    cx->self->flags &= (uint16_t) ~FXI_F_RECVTMO;
}

void fxi_receive_disarm_slow(fx_ctx *cx, fxi_actor *a)
{
    end_receive(cx, a->ext);
}

fx_msg *fxi_pop_message(fxi_actor *a, fx_reason *why, bool *died)
{
    fxi_mnode *n;
    while ((n = fxi_mailbox_pop_sc(&a->mb)) != NULL) {
        fx_msg *m = (fx_msg *) n;
        if (__builtin_expect(m->type <= FX_MSG_TIMEOUT, 1))
            return m;
        int st = fxi_sig_apply(a, m, why);
        if (st == FXI_SIG_DELIVER)
            return m;
        if (st == FXI_SIG_REFUSED) {
            /* Kept in the save queue until it is answered: at exit for an
             * actor, at once for an inbox (see fxi_sig_apply). */
            fxi_saved_append(a, m);
            *died = true;
            return NULL;
        }
        if (st == FXI_SIG_DIE) {
            *died = true;
            return NULL;
        }
    }
    return NULL;
}

fx_msg *fxi_mailbox_find_sc(fxi_actor *a, bool (*match)(const fx_msg *m, const void *arg),
                            const void *arg)
{
    /* The nodes between the consumer's tail and the last linked one are
     * ours to read: only the consumer pops and frees them. */
    for (fxi_mnode *n = fxi_mailbox_peek_sc(&a->mb); n;
         /* Acquire: as fxi_mailbox_pop_sc's load of ->next (the node's
          * contents are visible once its link is). */
         n = fxi_atomic_load_acquire_ptr(&n->next)) {
        if (n != &a->mb.stub && match((const fx_msg *) n, arg))
            return (fx_msg *) n;
    }
    return NULL;
}

/* A selective receive's predicate is user code: it runs with the fault
 * site armed, so a fault in it (trap_faults) or fx_crash(NULL) crashes
 * the actor like one in its handler. cur: the message being tested when
 * it is in no queue (the crash path frees it), NULL for one still in the
 * save queue. */
static bool match_user(fx_ctx *cx, const fx_match *mt, fx_msg *m, fx_msg *cur)
{
    if (!mt->pred)
        return fxi_match_msg(mt, m);
    cx->cur = cur;
    cx->kept = false;
    fxi_fault_arm(&cx->w->fault);
    bool ok = fxi_match_msg(mt, m);
    fxi_fault_disarm(&cx->w->fault);
    cx->cur = NULL;
    return ok;
}

/* fxi_saved_take with the predicate armed (see match_user). */
static fx_msg *saved_take_user(fx_ctx *cx, fxi_actor *a, const fx_match *mt)
{
    if (!mt->pred)
        return fxi_saved_take(a, mt);
    cx->cur = NULL;
    fxi_fault_arm(&cx->w->fault);
    fx_msg *m = fxi_saved_take(a, mt);
    fxi_fault_disarm(&cx->w->fault);
    return m;
}

int fxi_receive_next(fx_ctx *cx, fxi_actor *a, fx_msg **out)
{
    fx_msg *m;
    bool died = false;
    if (!(a->flags & FXI_F_RECEIVING)) {
        /* Plain handler: saved messages first, in arrival order. */
        if (a->saved) {
            *out = fxi_saved_take(a, NULL);
            return FXI_RECV_MSG;
        }
        while ((m = fxi_pop_message(a, &cx->stop_reason, &died)) != NULL) {
            if (__builtin_expect(m->type == FX_MSG_TIMEOUT, 0)) {
                fxi_msg_release(m); /* a stale receive timeout */
                continue;
            }
            *out = m;
            return FXI_RECV_MSG;
        }
        return died ? FXI_RECV_DIED : FXI_RECV_EMPTY;
    }
    fxi_actor_ext *x = a->ext;
    if (a->flags & FXI_F_RESCAN) {
        a->flags &= (uint16_t) ~FXI_F_RESCAN;
        fx_msg *m = a->saved ? saved_take_user(cx, a, &x->match) : NULL;
        if (m) {
            end_receive(cx, x);
            *out = m;
            return FXI_RECV_MSG;
        }
    }
    for (int budget = SKIP_BUDGET; budget > 0; budget--) {
        m = fxi_pop_message(a, &cx->stop_reason, &died);
        if (!m)
            return died ? FXI_RECV_DIED : FXI_RECV_EMPTY;
        if (m->type == FX_MSG_TIMEOUT) {
            if (x->recv_ref.id && m->ref.id == x->recv_ref.id) {
                x->recv_ref = FX_REF_NONE; /* fired: nothing to cancel */
                a->flags &= (uint16_t) ~FXI_F_RECVTMO;
                *out = m;
                return FXI_RECV_MSG;
            }
            fxi_msg_release(m);
            continue;
        }
        if (match_user(cx, &x->match, m, m)) {
            end_receive(cx, x);
            *out = m;
            return FXI_RECV_MSG;
        }
        fxi_saved_append(a, m);
    }
    return FXI_RECV_BUSY;
}

FX_API fx_next fx_receive(fx_ctx *cx, fx_handler h, const fx_match *match,
                          int64_t timeout_ms)
{
    if (!cx || !h)
        return (fx_next){0}; /* invalid: apply() stops the actor, FX_EINVAL */
    fxi_actor *a = cx->self;
    fxi_actor_ext *x = fxi_actor_ext_get(a);
    if (!x)
        fx_crash(cx, "out of memory in fx_receive");
    end_receive(cx, x);
    if (match)
        x->match = *match;
    else
        memset(&x->match, 0, sizeof x->match);
    cx->next_handler = h;
    if (timeout_ms >= 0) {
        fx_timeout_info ti = {.from = x->match.from, .ref = x->match.ref};
        fx_ref ref = fxi_make_ref(cx->vm, cx->w); /* no marker: see marker.h */
        if (fxi_recv_timer_arm(cx->vm, cx->w, a, timeout_ms, ref, &ti,
                               &x->recv_timer.id) != 0)
            fx_crash(cx, "out of memory in fx_receive");
        x->recv_ref = ref;
        a->flags |= FXI_F_RECVTMO;
    }
    return (fx_next){FXI_NEXT_RECEIVE};
}
