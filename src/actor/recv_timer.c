/* Receive timeouts armed lazily: see actor/recv_timer.h. */
#include "actor/recv_timer.h"

#include <fauxtp/error.h>

#include "actor/actor.h"
#include "actor/timers.h"
#include "actor/vm.h"

/* A lazy handle: the entry's number and its thread's slot + 1. */
#define SLOT_BITS 16

static inline uint64_t handle_of(const fxi_worker *w, uint64_t seq)
{
    return (seq << SLOT_BITS) | (w->cx.s->id + 1);
}

/* Moves entry seq (pending, the oldest) out of w's ring: into the wheel,
 * or nowhere when it is cleared. false on ENOMEM (the entry stays). */
static bool flush_one(fx_vm *vm, fxi_worker *w, uint64_t seq)
{
    fxi_lazy_ring *rg = &w->tl;
    fxi_lazy_tmo *e = &rg->slot[seq % FXI_LAZY_RING];
    if (e->ref) {
        fx_msg *m = fxi_msg_alloc(FX_MSG_TIMEOUT, sizeof(fx_timeout_info));
        if (!m)
            return false;
        *(fx_timeout_info *) m->data = e->ti;
        m->ref = (fx_ref){e->ref};
        m->from = e->to;
        /* Under the timers' mutex it also advances rg->flushed. */
        if (fxi_timer_start_lazy(vm, e->deadline, e->to, m, &rg->flushed, seq + 1) != 0) {
            fxi_msg_release(m);
            return false;
        }
        e->ref = 0;
    }
    rg->head = seq + 1;
    return true;
}

void fxi_recv_timer_flush(fx_vm *vm, fxi_worker *w, bool all)
{
    fxi_lazy_ring *rg = &w->tl;
    if (rg->head == rg->tail)
        return;
    uint64_t now = all ? UINT64_MAX : fxi_timers_now_ms(vm);
    while (rg->head != rg->tail) {
        fxi_lazy_tmo *e = &rg->slot[rg->head % FXI_LAZY_RING];
        if (e->ref && e->armed_ms >= now)
            return; /* armed this millisecond: it may yet be cancelled */
        if (!flush_one(vm, w, rg->head))
            return; /* out of memory: retried at the next tick */
    }
}

int fxi_recv_timer_arm(fx_vm *vm, fxi_worker *w, fxi_actor *a, int64_t delay_ms,
                       fx_ref ref, const fx_timeout_info *ti, uint64_t *handle)
{
    a->flags &= (uint16_t) ~FXI_F_LAZYTMO;
    if (delay_ms > FX_TIMEOUT_MAX)
        delay_ms = FX_TIMEOUT_MAX;
    /* The ring is the owner's, but the watchdog's hand-over empties it
     * into the wheel while a call is stuck (actor/run.c hand_over), and
     * a receive armed inside that call may run then: ring changes inside
     * a call go between defer_begin/end as the deferred wake-ups do, and
     * once the watchdog took this call's lists (defer_begin false) the
     * ring is not used until the call is over. */
    if (w && delay_ms >= FXI_LAZY_MIN_MS && !vm->pool.det) {
        fxi_lazy_ring *rg = &w->tl;
        if (fxi_sched_defer_begin(w->cx.s) &&
            (rg->tail - rg->head < FXI_LAZY_RING || flush_one(vm, w, rg->head))) {
            uint64_t now = fxi_timers_now_ms(vm), seq = rg->tail++;
            fxi_lazy_tmo *e = &rg->slot[seq % FXI_LAZY_RING];
            e->ref = ref.id;
            e->to = a->pid;
            e->ti = *ti;
            /* As fxi_timer_start: never early. */
            e->deadline = now + (uint64_t) delay_ms + fxi_timers_slack_ms(vm);
            e->armed_ms = now;
            *handle = handle_of(w, seq);
            a->flags |= FXI_F_LAZYTMO;
            fxi_sched_defer_end(w->cx.s);
            return 0;
        }
        fxi_sched_defer_end(w->cx.s);
    }
    /* Straight into the wheel. */
    fx_msg *m = fxi_msg_alloc(FX_MSG_TIMEOUT, sizeof(fx_timeout_info));
    if (!m)
        return FX_ENOMEM;
    *(fx_timeout_info *) m->data = *ti;
    m->ref = ref;
    m->from = a->pid;
    fx_timer t;
    if (fxi_timer_start(vm, delay_ms, a->pid, m, &t) != 0) {
        fxi_msg_release(m);
        return FX_ENOMEM;
    }
    *handle = t.id;
    return 0;
}

void fxi_recv_timer_cancel(fx_vm *vm, fxi_worker *w, fxi_actor *a, fx_ref ref,
                           uint64_t handle)
{
    if (!(a->flags & FXI_F_LAZYTMO)) {
        (void) fxi_timer_cancel(vm, (fx_timer){handle});
        return;
    }
    a->flags &= (uint16_t) ~FXI_F_LAZYTMO;
    uint64_t seq = handle >> SLOT_BITS;
    uint32_t owner = (uint32_t) (handle & ((1u << SLOT_BITS) - 1)) - 1;
    if (w && owner == w->cx.s->id) {
        /* Inside the window of arm (above): after a hand-over the ring's
         * entries are in the wheel (head moved past them) and the cancel
         * goes by ref. */
        (void) fxi_sched_defer_begin(w->cx.s);
        if (seq >= w->tl.head) {
            /* Still in our own ring: the fast path, no lock. */
            fxi_lazy_tmo *e = &w->tl.slot[seq % FXI_LAZY_RING];
            if (e->ref == ref.id)
                e->ref = 0;
            /* The oldest entries, cleared, leave at once. */
            while (w->tl.head != w->tl.tail &&
                   !w->tl.slot[w->tl.head % FXI_LAZY_RING].ref)
                w->tl.head++;
            fxi_sched_defer_end(w->cx.s);
            return;
        }
        fxi_sched_defer_end(w->cx.s);
    }
    fxi_timer_cancel_lazy(vm, ref.id, &vm->workers[owner].tl.flushed, seq);
}
