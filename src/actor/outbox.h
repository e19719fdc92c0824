/* Sender-side batching ("outbox"): the sends of one handler call are
 * linked into private chains, one per target process, and each chain is
 * published with a single mailbox exchange: all of them, in the order of
 * their first send, when the handler returns and before any other
 * delivery from the same scheduler thread; a chain that reaches
 * FXI_OUTBOX_MAX is published at once with every older chain before it;
 * when FXI_OUTBOX_CHAINS chains are open, the oldest makes room. See
 * docs/design.md ("Sender-side batching") for why order and delivery
 * guarantees hold. The type is part of the worker (actor/actor.h).
 * Scheduler thread only; the caller is inside its thread's implicit QSBR
 * section for as long as a chain is open, so a target actor cannot be
 * freed before its chain is published. */
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

static inline fxi_ochain *outbox_chain(fxi_outbox *o, uint32_t k)
{
    return &o->ring[k % FXI_OUTBOX_CHAINS];
}

/* Publishes chain c: one exchange on the target's mailbox. If the target
 * was idle it is scheduled, or, with defer, noted in w->wakes to be
 * scheduled by the next fxi_outbox_flush (or when the list is full: at
 * most FXI_WAKES_MAX wait). */
static inline void outbox_publish_chain(fxi_worker *w, fxi_ochain *c, bool defer)
{
    fxi_actor *a = c->to;
    w->out.run_sent += c->n;
    uint32_t len;
    fxi_stats_count_sent(w->cx.vm, w, c->n);
    if (fxi_mailbox_push_chain_mpsc(&a->mb, c->first, c->last, c->n, fxi_mb_counted(a),
                                    &len)) {
        /* Full: schedule those, in order. Relaxed: outside the defer
         * protocol the watchdog may empty the list meanwhile (run.c's
         * hand_over, during a long handler call that keeps sending); a
         * stale count is the old one, never lower than the list, and
         * outbox_wakes takes the list under the protocol. A plain read
         * here was a data race (TSan, flood_stress). */
        if (defer && fxi_atomic_load_relaxed_32(&w->nwakes) == FXI_WAKES_MAX)
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

/* Publishes the open chains numbered below `end`, oldest first. */
static inline void outbox_publish_upto(fxi_worker *w, uint32_t end, bool defer)
{
    fxi_outbox *o = &w->out;
    while (o->lo != end) {
        fxi_ochain *c = outbox_chain(o, o->lo);
        o->lo++;
        outbox_publish_chain(w, c, defer);
    }
}

/* Publishes every open chain and schedules every process the sends
 * woke (send.c). Deferred wake-ups: a chain published before the end of
 * the handler call (the table was full, or an older chain went with a
 * full one) may wake its process, which is scheduled here, at the end of
 * the call (or before any other delivery from this thread), so a handler
 * that sends to many processes wakes each once per call. The woken
 * processes cannot be freed meanwhile: they are alive (busy mailbox,
 * they must run to exit) and this thread is inside its QSBR section
 * until the flush. */
void fxi_outbox_flush_slow(fxi_worker *w);

/* As fxi_outbox_flush_slow; inline for the common cases: nothing to
 * publish (a handler call that sent nothing), or one chain and nothing
 * deferred (a reply, a ping, a hop of a ring), whose process is woken at
 * once. */
static inline void fxi_outbox_flush(fxi_worker *w)
{
    fxi_outbox *o = &w->out;
    /* Relaxed: the watchdog may empty the list meanwhile (a stale count
     * only takes the slower path, which re-reads it under the protocol). */
    if (fxi_atomic_load_relaxed_32(&w->nwakes) == 0) { /* the common cases */
        if (o->hi == o->lo)
            return;
        if (o->hi - o->lo == 1) {
            outbox_publish_chain(w, outbox_chain(o, o->lo++), false);
            return;
        }
    }
    fxi_outbox_flush_slow(w);
}

/* The index slot where a pid's probe starts (Fibonacci hashing). */
static inline uint32_t outbox_hash(fx_pid pid)
{
    return (uint32_t) ((pid.id * 0x9E3779B97F4A7C15ull) >> 56) % FXI_OUTBOX_SLOTS;
}

/* The newest open chain to pid, or NULL with *free_slot set to the first
 * unused slot of its probe. A slot is in use iff the chain number it
 * holds is open and that chain records this slot. A published chain frees
 * its slot, which may end a later probe early: then a second open chain
 * to the same process is made. That keeps order: it is newer than the
 * first, so it is published after it, and it sits earlier on the probe
 * (the probe that made it stopped before the first's slot), so every
 * later send finds it, not the first. */
static inline fxi_ochain *outbox_find(fxi_outbox *o, fx_pid pid, uint32_t *free_slot)
{
    uint32_t s = outbox_hash(pid);
    uint32_t open = o->hi - o->lo;
    for (;;) {
        uint32_t k = o->index[s];
        fxi_ochain *c = outbox_chain(o, k);
        if (k - o->lo >= open || c->slot != s) {
            *free_slot = s;
            return NULL;
        }
        if (c->pid.id == pid.id)
            return c;
        s = (s + 1) % FXI_OUTBOX_SLOTS;
    }
}

/* Messages in a's open chains (a limit's check; not the hot path). */
static inline uint32_t outbox_pending(fxi_outbox *o, const fxi_actor *a)
{
    uint32_t n = 0;
    for (uint32_t k = o->lo; k != o->hi; k++)
        if (outbox_chain(o, k)->to == a)
            n += outbox_chain(o, k)->n;
    return n;
}

/* Publishes the open chain c, just filled, and every older one (send.c). */
void fxi_outbox_publish_full(fxi_worker *w, fxi_ochain *c);

/* Appends m to the open chain c and publishes it when full. */
__attribute__((always_inline)) static inline void outbox_append(fxi_worker *w,
                                                                fxi_ochain *c, fx_msg *m)
{
    /* Plain store: the chain is private until it is published. */
    c->last->next = &m->node;
    c->last = &m->node;
    if (__builtin_expect(++c->n >= FXI_OUTBOX_MAX, 0))
        fxi_outbox_publish_full(w, c);
}

/* Out of line: once per FXI_OUTBOX_MAX messages at most. */
static inline void outbox_publish_full(fxi_worker *w, fxi_ochain *c)
{
    fxi_outbox *o = &w->out;
    fxi_actor *a = c->to;
    /* Full chains are what a flood is made of: count them towards flood
     * detection (run.c). Only here, so the common short chains pay
     * nothing for it. */
    if (a == o->flood_to) {
        o->flood_n += c->n; /* from 0 if a stale flood_to matches */
    } else {
        o->flood_to = a;
        o->flood_n = c->n;
    }
    /* Every older chain first (their wake-ups deferred), then this one,
     * not deferred: a consumer on another core starts on a long burst
     * early. */
    uint32_t k = o->lo + (((uint32_t) (c - o->ring) - o->lo) % FXI_OUTBOX_CHAINS);
    outbox_publish_upto(w, k, true);
    o->lo = k + 1;
    outbox_publish_chain(w, c, false);
}

/* The general case of fxi_deliver_batched (send.c): a dead pid, an
 * inbox, a process with a mailbox limit (c its open chain, if any), or a
 * full table; s is the free index slot of the pid's probe when c is
 * NULL. */
int fxi_outbox_deliver_slow(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m, fxi_ochain *c,
                            uint32_t s);

/* Opens a chain to a (pid `to`, index slot s) holding m. */
static inline void outbox_open(fxi_outbox *o, fx_pid to, fxi_actor *a, fx_msg *m,
                               uint32_t s)
{
    uint32_t k = o->hi++;
    fxi_ochain *c = outbox_chain(o, k);
    c->pid = to;
    c->to = a;
    c->lim = a->lim;
    c->first = c->last = &m->node;
    c->n = 1;
    c->slot = (uint16_t) s;
    o->index[s] = k;
}

/* fxi_deliver_batched for a process that has no open chain, s being the
 * free index slot of its pid's probe (outbox_find's answer). */
static inline int fxi_deliver_unopened(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m,
                                       uint32_t s)
{
    fxi_outbox *o = &w->out;
    if (o->hi - o->lo == FXI_OUTBOX_CHAINS)
        return fxi_outbox_deliver_slow(vm, w, to, m, NULL, s);
    fxi_actor *a = fxi_ptable_lookup(&vm->pt, to);
    if (__builtin_expect(a == NULL || a->kind == FXI_KIND_INBOX || a->lim != 0, 0))
        return fxi_outbox_deliver_slow(vm, w, to, m, NULL, s);
    outbox_open(o, to, a, m, s);
    return 0;
}

/* Send from a handler: like fxi_deliver (0 takes m; FX_ENOPROC for a dead
 * target, FX_EMAILBOX_FULL for a full one under the drop policy, leave it
 * with the caller), but m is appended to its target's open chain instead
 * of being published at once, unless the target is an inbox. Only the
 * first send of the call to a process looks it up: a later one finds its
 * chain by pid, and is accepted even if the process died meanwhile (the
 * message is then freed with it, as one that arrived just before the
 * death; docs/design.md, "Sender-side batching"). */
static inline int fxi_deliver_batched(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m)
{
    fxi_outbox *o = &w->out;
    uint32_t s = 0;
    if (o->hi == o->lo) { /* nothing open: the call's first send (ping-pong) */
        s = outbox_hash(to);
    } else {
        /* The newest chain is the likeliest (runs of sends to one process). */
        fxi_ochain *c = outbox_chain(o, o->hi - 1);
        if (__builtin_expect(c->pid.id == to.id && c->lim == 0, 1)) {
            outbox_append(w, c, m);
            return 0;
        }
        c = outbox_find(o, to, &s);
        if (c) {
            if (c->lim == 0) {
                outbox_append(w, c, m);
                return 0;
            }
            return fxi_outbox_deliver_slow(vm, w, to, m, c, s);
        }
    }
    return fxi_deliver_unopened(vm, w, to, m, s);
}

#endif
