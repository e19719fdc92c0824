/* Running actors: continuations, the per-message loop (run), the flood
 * hand-off, unwinding after a crash, and the scheduler hooks. Message
 * selection is in receive.c, exits in exit.c, fx_crash in actor.c. */
#include "actor/run.h"

#include <fauxtp/error.h>

#include "actor/exit.h"
#include "actor/mute.h"
#include "actor/outbox.h"
#include "actor/receive.h"
#include "actor/report.h"
#include "actor/timing.h"
#include "platform/park.h"
#include <string.h>

/* ---- continuations (inside a handler) --------------------------------- */

FX_API fx_next fx_continue(fx_ctx *cx)
{
    (void) cx;
    return (fx_next){FXI_NEXT_CONTINUE};
}

FX_API fx_next fx_become(fx_ctx *cx, fx_handler h)
{
    if (!cx || !h)
        return (fx_next){0}; /* invalid: apply() stops the actor, FX_EINVAL */
    cx->next_handler = h;
    return (fx_next){FXI_NEXT_BECOME};
}

FX_API fx_next fx_stop(fx_ctx *cx, fx_reason reason)
{
    if (!cx)
        return (fx_next){0}; /* invalid: apply() stops the actor, FX_EINVAL */
    cx->stop_reason = reason;
    return (fx_next){FXI_NEXT_STOP};
}

/* ---- applying a handler's answer --------------------------------------- */

/* Returns true if the actor exited. Inlined: it runs once per message. */
__attribute__((always_inline)) static inline bool apply(fx_ctx *cx, fxi_actor *a,
                                                        fx_next nx)
{
    /* fx_continue, the common answer, before the switch's jump table. */
    if (__builtin_expect(nx.op == FXI_NEXT_CONTINUE, 1)) {
        a->flags &= (uint16_t) ~FXI_F_RECEIVING;
        fxi_receive_disarm(cx, a);
        return false;
    }
    switch (nx.op) { /* FXI_NEXT_CONTINUE was handled above */
    case FXI_NEXT_BECOME:
        fxi_actor_set_handler(a, cx->next_handler);
        a->flags &= (uint16_t) ~FXI_F_RECEIVING;
        fxi_receive_disarm(cx, a);
        return false;
    case FXI_NEXT_RECEIVE:
        fxi_actor_set_handler(a, cx->next_handler);
        a->flags |= FXI_F_RECEIVING | FXI_F_RESCAN;
        return false;
    case FXI_NEXT_STOP:
        fxi_actor_exit(cx->w, a, &cx->stop_reason, false);
        return true;
    default:
        cx->stop_reason = fx_reason_error(FX_EINVAL, "handler returned no fx_next");
        fxi_actor_exit(cx->w, a, &cx->stop_reason, false);
        return true;
    }
}

/* A function pointer's bits, for the watchdog's report (dladdr). */
static inline uint64_t fn_bits(const void *fn, size_t n)
{
    uint64_t b = 0;
    memcpy(&b, fn, n < sizeof b ? n : sizeof b);
    return b;
}

static bool run_init(fx_ctx *cx, fxi_actor *a)
{
    a->flags &= (uint16_t) ~FXI_F_INIT;
    fxi_actor_ext *x = a->ext;
    cx->cur = NULL;
    fxi_fault_arm(&cx->w->fault);
    fxi_sched_watch_enter(cx->s, a, fn_bits(&x->init, sizeof x->init));
    fx_next nx = x->init(cx, x->init_arg);
    fxi_sched_watch_leave(cx->s);
    fxi_fault_disarm(&cx->w->fault);
    fxi_outbox_flush(cx->w);
    return apply(cx, a, nx);
}

/* ---- flood hand-off ------------------------------------------------------ */

/* A handler call that sent at least a run's worth of messages (batch, and
 * at least one full outbox chain) to the actor waiting in this thread's
 * next slot floods it. The producer then waits in the held slot while the
 * consumer drains, so the pair shares a core and the messages stay in its
 * cache (docs/design.md, "Flood hand-off"). That loses when both halves
 * are slow enough per message that two cores beat the cache-line
 * transfers: at least FLOOD_SPLIT_NS per message on each side, seen in
 * FLOOD_HEAVY_CYCLES hold cycles in a row. Such a producer is left to the
 * ordinary run queue (and to thieves) for its next FLOOD_RETRY floods,
 * then measured again. Two clock reads per hold cycle, none otherwise. */
#define FLOOD_SPLIT_NS 100
#define FLOOD_HEAVY_CYCLES 2
#define FLOOD_RETRY 63 /* fits FXI_F_SPREAD_MASK */

/* Returns true if a was put on hold (its run is over). Kept out of line:
 * it runs once per flood, and run() is the per-message loop. */
__attribute__((noinline)) static bool flood_hold(fxi_worker *w, fxi_sched *s,
                                                 fxi_actor *a)
{
    if (a->flags & FXI_F_SPREAD_MASK) {
        a->flags = (uint16_t) (a->flags - (1u << FXI_F_SPREAD_SHIFT));
        return false;
    }
    uint64_t now = fxi_now_ns();
    uint64_t t_run = fxi_sched_resumed_held_ns(s); /* 0: not resumed from held */
    uint32_t n = w->out.flood_n;
    if (t_run && w->hold_last == a) {
        /* t_run - hold_t: the consumer draining the previous flood (and
         * whatever else ran meanwhile); now - t_run: this flood. */
        bool heavy = t_run - w->hold_t > (uint64_t) FLOOD_SPLIT_NS * w->hold_n &&
                     now - t_run > (uint64_t) FLOOD_SPLIT_NS * n;
        w->hold_heavy = heavy ? w->hold_heavy + 1 : 0;
        if (w->hold_heavy >= FLOOD_HEAVY_CYCLES) {
            a->flags |= (uint16_t) (FLOOD_RETRY << FXI_F_SPREAD_SHIFT);
            w->hold_last = NULL;
            w->hold_heavy = 0;
            return false;
        }
    } else {
        w->hold_heavy = 0;
    }
    w->hold_last = a;
    w->hold_t = now;
    w->hold_n = n;
    /* Enough runs for the consumer to take in this flood, and one more for
     * messages that arrive meanwhile; then the producer runs anyway. */
    fxi_sched_hold_owner(s, a, s->next, n / w->cx.vm->cfg.batch + 2);
    return true;
}

/* A run also ends once its handler calls have published this many
 * messages (Erlang charges reductions for sends): a process that floods
 * many others (fjthrput: one sender, 60 receivers) yields to them after
 * about one burst instead of 64 calls' worth, so their queues, and the
 * memory the messages occupy, stay small enough to stay in cache. Senders
 * of one message per call (every other benchmark) never reach it. */
#define SEND_BUDGET 1024

/* The common cases of fxi_receive_next, inline. With nothing saved, an
 * empty mailbox answers FXI_RECV_EMPTY at once, whatever the handler
 * (plain or a selective receive: it has nothing to scan); that ends every
 * run of a process that sleeps between messages (both sides of a call,
 * ping-pong). A plain handler (no selective receive) whose next message
 * is an ordinary one (below FX_MSG_TIMEOUT: neither a signal nor a
 * timeout, which fxi_receive_next would hand over as it is) gets it
 * popped here. -1: ask fxi_receive_next (a signal or timeout first, a
 * receive, saved messages, an in-flight message). Saves two calls per
 * message on a receiver's path and per idle check (docs/design.md,
 * "Mailbox"). */
__attribute__((always_inline)) static inline int next_fast(fxi_actor *a, fx_msg **out)
{
    if (__builtin_expect(a->saved != NULL, 0))
        return -1;
    fx_msg *m = (fx_msg *) fxi_mailbox_peek_sc(&a->mb);
    if (m == NULL) {
        /* The pop would find nothing either (peek's contract), and a
         * rescan of the empty save queue nothing. */
        a->flags &= (uint16_t) ~FXI_F_RESCAN;
        return FXI_RECV_EMPTY;
    }
    if ((a->flags & FXI_F_RECEIVING) || m->type >= FX_MSG_TIMEOUT)
        return -1;
    /* The peeked node, or NULL if its producer has not linked the next
     * one yet (then fxi_receive_next sees the same). */
    *out = (fx_msg *) fxi_mailbox_pop_sc(&a->mb);
    return *out ? FXI_RECV_MSG : -1;
}

/* One actor run: up to a batch of messages. Inlined into run(), its only
 * caller. */
__attribute__((always_inline)) static inline void run_slice(fxi_sched *s, void *unit)
{
    fxi_worker *w = s->user;
    fx_ctx *cx = &w->cx;
    fxi_actor *a = unit;
    cx->self = a;
    w->mute_to = NULL;
    w->out.run_sent = 0;
    if ((a->flags & FXI_F_INIT) && run_init(cx, a))
        return;
    if (__builtin_expect(a->lim != 0, 0) && fxi_limit_kill_due(a)) {
        fxi_limit_kill(w, a);
        return;
    }
    for (uint32_t n = cx->vm->cfg.batch; n > 0; n--) {
        fx_msg *m = NULL;
        int st = next_fast(a, &m);
        if (st < 0)
            st = fxi_receive_next(cx, a, &m);
        if (st == FXI_RECV_EMPTY) {
            /* Truly empty: sleep until a sender finds us idle (no
             * bottleneck any more: before the mark, after which another
             * thread may run a). */
            fxi_mute_unpin(a);
            if (fxi_mailbox_try_idle_sc(&a->mb, fxi_mb_counted(a)))
                return;
            break; /* a message is in flight: run again later */
        }
        if (st == FXI_RECV_BUSY)
            break;
        if (st == FXI_RECV_DIED) {
            fxi_actor_exit(w, a, &cx->stop_reason, true);
            return;
        }
        cx->cur = m;
        cx->kept = false;
        w->out.flood_n = 0;
        fxi_fault_arm(&w->fault);
        fx_handler h = a->u.live.handler;
        /* Relaxed, one writer: read by process info (src/info). */
        fxi_atomic_store_relaxed_64(&a->handled, a->handled + 1);
        fxi_sched_watch_enter(s, a, fn_bits(&h, sizeof h));
        fx_next nx = h(cx, m);
        fxi_sched_watch_leave(s);
        fxi_fault_disarm(&w->fault);
        fxi_outbox_flush(cx->w); /* before apply: an exit follows our sends */
        cx->cur = NULL;
        if (!cx->kept)
            fxi_msg_release(m);
        if (apply(cx, a, nx))
            return;
        if (__builtin_expect(w->mute_to != NULL, 0) && fxi_mute_after_call(w, a))
            return;
        if (w->out.flood_n >= w->out.flood_min && w->out.flood_to == s->next &&
            flood_hold(w, s, a))
            return;
        /* The run's last call: the batch is done, or a sender's turn ends
         * after SEND_BUDGET messages. If it emptied the mailbox, idle now,
         * not one more run that finds nothing (so a deterministic step,
         * batch 1, calls a handler each time). */
        if (n == 1 || __builtin_expect(w->out.run_sent >= SEND_BUDGET, 0)) {
            if (!a->saved && fxi_mailbox_peek_sc(&a->mb) == NULL) {
                fxi_mute_unpin(a); /* as above */
                if (fxi_mailbox_try_idle_sc(&a->mb, fxi_mb_counted(a)))
                    return;
            }
            break;
        }
    }
    /* A bottleneck (its queue over its mark, so its senders are being
     * muted) stays on this thread, where its senders are gathered
     * (docs/design.md, "Gathering producers"). */
    if ((w->mute_mark != UINT32_MAX || a->lim != 0) && fxi_mute_pin_due(w, a)) {
        fxi_mute_pin(w, a);
        return;
    }
    /* And a gathered producer that goes on flooding stays with it. */
    if (__builtin_expect(w->out.run_sent >= SEND_BUDGET, 0) && fxi_mute_repin(w, a))
        return;
    fxi_sched_yield_owner(s, a);
}

/* A run while handler timing is on (actor/timing.h): two clock reads,
 * and the time charged to the process. A run that crashes is not
 * charged. Out of line, with its own copy of run_slice, so the untimed
 * path pays one relaxed load and a branch. */
__attribute__((noinline)) static void run_timed(fxi_sched *s, void *unit)
{
    fxi_worker *w = s->user;
    fx_vm *vm = w->cx.vm;
    uint64_t t0 = fxi_now_ns();
    run_slice(s, unit);
    uint64_t d = fxi_now_ns() - t0;
    fxi_timing_charge(vm, unit, d);
    /* Relaxed, one writer: a statistic. */
    fxi_atomic_store_relaxed_64(&w->stat_busy_ns, w->stat_busy_ns + d);
}

static void run(fxi_sched *s, void *unit)
{
    fxi_worker *w = s->user;
    if (__builtin_expect(fxi_timing_on(w->cx.vm), 0))
        run_timed(s, unit);
    else
        run_slice(s, unit);
}

/* ---- per-thread body and maintenance ----------------------------------- */

static void crashed(fxi_worker *w)
{
    fx_ctx *cx = &w->cx;
    fxi_actor *a = cx->self;
    if (cx->s->wd_local_seq & 1) /* unwound out of a handler call */
        fxi_sched_watch_leave(cx->s);
    fxi_fault_disarm(&w->fault);
    if (w->fault.signo) {
        /* A hardware fault trapped in user code (trap_faults). */
        char what[FX_REASON_TEXT_MAX];
        fxi_fault_describe(w->fault.signo, w->fault.addr, what, sizeof what);
        cx->stop_reason = fx_reason_error(FX_EFAULT, "%s", what);
        w->fault.signo = 0;
    }
    fxi_outbox_flush(w); /* sends made before the crash are delivered */
    if (cx->cur && !cx->kept)
        fxi_msg_release(cx->cur);
    cx->cur = NULL;
    fxi_actor_exit(w, a, &cx->stop_reason, false);
    cx->self = NULL;
}

static void thread_body(fxi_sched *s)
{
    fxi_worker *w = s->user;
    uint32_t batch = w->cx.vm->cfg.batch;
    fxi_actor_tls_worker = w;
    fxi_atomic_store_relaxed_32(&w->thread_live, 1); /* relaxed: a statistic */
    w->out.flood_min = batch > FXI_OUTBOX_MAX ? batch : FXI_OUTBOX_MAX;
    if (w->cx.vm->pool.det) /* no flood hand-off: it reads the clock */
        w->out.flood_min = UINT32_MAX;
    w->fault.jb = &w->crash_jb; /* where fx_crash lands (trap_faults or not) */
    /* Without a signal stack, faults on this thread are simply not
     * trapped: they stay fatal, as with trap_faults off. */
    if (w->cx.vm->cfg.trap_faults)
        (void) fxi_fault_thread_enter(&w->fault, &w->crash_jb);
    /* fx_crash and trapped faults land here; the loop then starts
     * afresh. */
    if (_setjmp(w->crash_jb) != 0)
        crashed(w);
    fxi_sched_loop(s);
    fxi_recv_timer_flush(w->cx.vm, w, true); /* no more ticks here */
    /* A retiring spare (docs/watchdog.md) must not keep muted actors:
     * they go to its queue, which it hands to the others. */
    fxi_mute_release_all(w);
    fxi_fault_thread_exit(&w->fault);
    fxi_atomic_store_relaxed_32(&w->thread_live, 0); /* relaxed: a statistic */
}

static void tick(fxi_sched *s)
{
    fxi_worker *w = s->user;
    fx_vm *vm = w->cx.vm;
    fxi_recv_timer_flush(vm, w, false); /* lazy receive timeouts */
    fxi_timers_poll(vm, w);
    fxi_mute_poll(w);
    fxi_worker_reclaim(vm, w);
}

/* Dead actors wait for a grace period that needs the other threads to
 * pass a quiescent point; a thread parking with some retries every
 * millisecond until they are freed, so an idle VM gives memory back. */
#define LIMBO_RETRY_NS 1000000

static int64_t park_timeout_ns(fxi_sched *s, bool timer_duty)
{
    fxi_worker *w = s->user;
    /* Before a sleep every lazy receive timeout goes to the wheel, which
     * the sleeper watches (actor/recv_timer.h). */
    fxi_recv_timer_flush(w->cx.vm, w, true);
    int64_t to = timer_duty ? fxi_timers_timeout_ns(w->cx.vm) : -1;
    if (w->limbo_head && (to < 0 || to > LIMBO_RETRY_NS))
        to = LIMBO_RETRY_NS;
    if (w->nmuted && (to < 0 || to > FXI_MUTE_POLL_NS))
        to = FXI_MUTE_POLL_NS;
    return to;
}

static void offline(fxi_sched *s)
{
    fxi_worker *w = s->user;
    fx_vm *vm = w->cx.vm;
    fxi_qsbr_offline(&vm->qsbr, s->id);
    fxi_sched_xfer_close(s); /* no hand-overs to a parked thread */
    w->park_t0 = fxi_timing_on(vm) ? fxi_now_ns() : 0; /* timing: the sleep */
}

static void online(fxi_sched *s)
{
    fxi_worker *w = s->user;
    fx_vm *vm = w->cx.vm;
    if (w->park_t0) {
        /* Relaxed, one writer: a statistic. */
        fxi_atomic_store_relaxed_64(&w->stat_parked_ns,
                                    w->stat_parked_ns + (fxi_now_ns() - w->park_t0));
        w->park_t0 = 0;
    }
    fxi_qsbr_online(&vm->qsbr, s->id);
    fxi_sched_xfer_open(s);
}

/* The watchdog takes a stuck call's slots (sched/watchdog.c, holding the
 * claim): the muted senders and the deferred wake-ups this thread holds
 * go to the inject queue and its lazy receive timeouts to the wheel, so
 * no one waits for the call to return. */
static void hand_over(fxi_sched *s)
{
    fxi_worker *w = s->user;
    fx_vm *vm = w->cx.vm;
    fxi_mute_hand_over(w);
    /* Lazy receive timeouts wait for this thread's next tick: to the
     * wheel now (the owner touches the ring inside a call only between
     * defer_begin/end, actor/recv_timer.c). */
    fxi_recv_timer_flush(vm, w, true);
    for (uint32_t i = 0; i < w->nwakes; i++)
        fxi_pool_inject(&vm->pool, w->wakes[i]);
    /* Relaxed: as in actor/outbox.h; the claim's release publishes it. */
    fxi_atomic_store_relaxed_32(&w->nwakes, 0);
}

const fxi_sched_hooks fxi_actor_hooks = {
    .thread_body = thread_body,
    .run = run,
    .tick = tick,
    .park_timeout_ns = park_timeout_ns,
    .offline = offline,
    .online = online,
    .stuck = fxi_report_stuck,
    .hand_over = hand_over,
};
