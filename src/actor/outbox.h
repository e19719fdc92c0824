/* Sender-side batching ("outbox"): consecutive sends from one handler call
 * to the same process are linked into a private chain and published with
 * a single mailbox exchange when the handler returns, when the target
 * changes, when the chain reaches FXI_OUTBOX_MAX, or before any other
 * delivery from the same scheduler thread. See docs/design.md ("Sender-side
 * batching") for why order and delivery guarantees are unchanged. The
 * type is part of the worker (actor/actor.h).
 * Scheduler thread only; the caller is inside its thread's implicit QSBR
 * section for as long as a chain is pending, so the target actor cannot
 * be freed before the chain is published. */
#ifndef FXI_ACTOR_OUTBOX_H
#define FXI_ACTOR_OUTBOX_H

#include <fauxtp/error.h>
#include <string.h>

#include "actor/mute.h"
#include "actor/stats.h"
#include "actor/wake.h"
#include "dist/dist_route.h"

/* Schedules the processes whose wake-up was deferred, in order. The list
 * is taken between fxi_sched_defer_begin/end: during a stuck call the
 * watchdog may hand it over (docs/watchdog.md), and each wake below
 * enters and leaves that protocol itself. */
static inline void outbox_wakes(fxi_worker *w)
{
    fxi_actor *wakes[FXI_WAKES_MAX];
    uint32_t n = 0;
    if (fxi_sched_defer_begin(w->cx.s)) {
        n = w->nwakes;
        memcpy(wakes, w->wakes, n * sizeof *wakes);
    }
    /* Relaxed: also read without the protocol (fxi_outbox_flush). */
    fxi_atomic_store_relaxed_32(&w->nwakes, 0);
    fxi_sched_defer_end(w->cx.s);
    for (uint32_t i = 0; i < n; i++)
        fxi_wake(w->cx.vm, w, wakes[i]);
}

/* Publishes the pending chain, if any: one exchange on the target's
 * mailbox. If the target was idle it is scheduled, or, with defer, noted
 * in w->wakes to be scheduled by the next fxi_outbox_flush (or when the
 * list is full: at most FXI_WAKES_MAX wait). */
static inline void outbox_publish(fxi_worker *w, bool defer)
{
    fxi_outbox *o = &w->out;
    fxi_actor *a = o->to;
    if (!a)
        return;
    o->to = NULL;
    o->run_sent += o->n;
    uint32_t len;
    fxi_stats_count_sent(w->cx.vm, w, o->n);
    if (fxi_mailbox_push_chain_mpsc(&a->mb, o->first, o->last, o->n, fxi_mb_counted(a),
                                    &len)) {
        if (defer && w->nwakes == FXI_WAKES_MAX) /* full: schedule those, in order */
            outbox_wakes(w);
        /* Deferred only while the watchdog has not taken this call's
         * list (a stuck call: wake at once from then on). */
        if (defer && fxi_sched_defer_begin(w->cx.s)) {
            w->wakes[w->nwakes] = a;
            /* Relaxed: as in outbox_wakes. */
            fxi_atomic_store_relaxed_32(&w->nwakes, w->nwakes + 1);
            fxi_sched_defer_end(w->cx.s);
        } else {
            if (defer)
                fxi_sched_defer_end(w->cx.s);
            fxi_wake(w->cx.vm, w, a);
        }
    }
    /* Over its mark: the running actor is muted after its handler call
     * (actor/mute.h). One compare on the target's hot line. */
    if (__builtin_expect(len > fxi_mute_mark(w->mute_mark, a), 0))
        w->mute_to = a;
}

/* Publishes the pending chain and schedules every process the sends woke.
 * Deferred wake-ups: a send that changes target publishes the previous
 * chain at once (order across targets is unchanged), but a process it
 * wakes is scheduled here, at the end of the handler call (or before any
 * other delivery from this thread), so a handler that sends to many
 * processes in turn (fjthrput's round robin) wakes each once per call,
 * not once per message. The woken processes cannot be freed meanwhile:
 * they are alive (busy mailbox, they must run to exit) and this thread is
 * inside its QSBR section until the flush. */
static inline void fxi_outbox_flush(fxi_worker *w)
{
    /* Relaxed: the watchdog may empty the list meanwhile (a stale count
     * only takes the slower path, which re-reads it under the protocol). */
    if (fxi_atomic_load_relaxed_32(&w->nwakes) == 0) { /* the common case */
        outbox_publish(w, false);
        return;
    }
    outbox_publish(w, true);
    outbox_wakes(w);
}

/* Send from a handler: like fxi_deliver (0 takes m; FX_ENOPROC for a dead
 * target, FX_EMAILBOX_FULL for a full one under the drop policy, leave it
 * with the caller), but m is appended to the outbox
 * instead of being published at once, unless the target is an inbox. */
static inline int fxi_deliver_batched(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m)
{
    fxi_actor *a = fxi_ptable_lookup(&vm->pt, to);
    if (__builtin_expect(a == NULL, 0)) {
        /* A pid of a remote node goes to its connection (dist/). */
        if (fxi_pid_tag(to) != vm->pt.tag && fxi_dist_route_foreign(vm, w, to, m) == 0)
            return 0;
        fxi_atomic_store_relaxed_64(&w->stat_dropped,
                                    w->stat_dropped + 1); /* relaxed: stat, one writer */
        if (__builtin_expect(fxi_log_on(&vm->log, FX_LOG_DEBUG), 0))
            fxi_log_dead_send(vm, to, m->type);
        return FX_ENOPROC;
    }
    if (__builtin_expect(a->kind == FXI_KIND_INBOX, 0)) {
        /* A thread outside the VM may be blocked waiting for exactly this
         * message while the handler goes on: publish it now (after any
         * pending chain, which keeps this thread's order). */
        fxi_outbox_flush(w);
        uint32_t len;
        fxi_stats_count_sent(vm, w, 1);
        if (fxi_mailbox_push_mpsc(&a->mb, &m->node, false, &len)) /* no inbox limits */
            fxi_wake(vm, w, a);
        return 0;
    }
    fxi_outbox *o = &w->out;
    if (__builtin_expect(a->lim != 0, 0)) {
        int rc = fxi_limit_check(a, m->type, o->to == a ? o->n : 0, false);
        if (rc != 0) {
            fxi_atomic_store_relaxed_64(
                &w->stat_dropped, w->stat_dropped + 1); /* relaxed: stat, one writer */
            fxi_atomic_store_relaxed_64(&w->stat_dropped_full,
                                        w->stat_dropped_full + 1); /* as above */
            return rc;
        }
    }
    if (o->to == a) {
        /* Plain store: the chain is private until the flush publishes it. */
        o->last->next = &m->node;
        o->last = &m->node;
        if (++o->n >= FXI_OUTBOX_MAX) {
            /* Full chains are what a flood is made of: count them towards
             * flood detection (run.c). Only here, so the common short
             * chains pay nothing for it. */
            if (a == o->flood_to) {
                o->flood_n += o->n; /* from 0 if a stale flood_to matches */
            } else {
                o->flood_to = a;
                o->flood_n = o->n;
            }
            /* Not deferred: a consumer on another core starts on a long
             * burst early. */
            outbox_publish(w, false);
        }
        return 0;
    }
    outbox_publish(w, true);
    o->to = a;
    o->first = o->last = &m->node;
    o->n = 1;
    return 0;
}

#endif
