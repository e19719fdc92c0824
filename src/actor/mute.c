/* Muting backpressure and per-process mailbox limits: the parts outside
 * the send fast path (docs/overload.md). */
#include "actor/mute.h"

#include <fauxtp/error.h>

#include "actor/exit.h"
#include "actor/section.h"
#include "actor/vm.h"
#include "platform/park.h"

#define DEFAULT_HIGH 8192u

int fxi_mute_resolve_config(fx_vm_config *c)
{
    if (c->mute > FX_MUTE_OFF)
        return FX_EINVAL;
    if (c->mute_high == 0)
        c->mute_high = DEFAULT_HIGH;
    if (c->mute_low == 0)
        c->mute_low = c->mute_high / 2;
    if (c->mute_low >= c->mute_high)
        return FX_EINVAL;
    return 0;
}

int fxi_mute_init_actor(const fx_vm *vm, fxi_actor *a, const fx_mailbox_limit *lim)
{
    (void) vm;
    a->lim = 0;
    if (!lim || lim->max == 0)
        return 0;
    if (lim->policy > FX_MAILBOX_BACKPRESSURE)
        return FX_EINVAL;
    fxi_actor_ext *x = fxi_actor_ext_get(a);
    if (!x)
        return FX_ENOMEM;
    x->mb_limit = lim->max;
    a->lim = (uint8_t) (lim->policy + 1);
    fxi_mailbox_set_exact(&a->mb); /* not published yet */
    return 0;
}

uint32_t fxi_mute_vm_mark(const fx_vm *vm)
{
    return vm->cfg.mute != FX_MUTE_OFF ? vm->cfg.mute_high : UINT32_MAX;
}

/* Gathering producers (docs/design.md): the cost per message sent above
 * which a producer keeps its own core (mute.h), and for how many mutes. */
uint64_t fxi_gather_split_ns = 100;
#define GATHER_RETRY 63 /* fits FXI_F_SPREAD_MASK */

/* The low mark of a process whose mark is `high`. */
static uint32_t low_mark(const fx_vm *vm, uint32_t high)
{
    return high == vm->cfg.mute_high ? vm->cfg.mute_low : high / 2;
}

bool fxi_mute_pin_due(const fxi_worker *w, const fxi_actor *a)
{
    uint32_t mark = fxi_mute_mark(w->mute_mark, a);
    if (mark == UINT32_MAX)
        return false; /* muting off and no backpressure limit */
    uint32_t len = fxi_mailbox_len(&a->mb);
    if (len > mark)
        return true;
    /* Pinned here already and not drained yet: it stays (a bottleneck
     * episode ends when its queue empties, fxi_mute_unpin). Relaxed: a's
     * own field (the owner is its one writer). */
    return len > 0 && fxi_atomic_load_relaxed_32(&a->home) == w->cx.s->id + 1;
}

/* A run taken from the pinned ring that spent fxi_gather_split_ns or
 * more per message it sent marks its producer heavy (see below): true
 * if it is marked (now or before). */
static bool gathered_heavy(fxi_worker *w, fxi_actor *a)
{
    if (a->flags & FXI_F_SPREAD_MASK)
        return true;
    uint64_t t0 = fxi_sched_resumed_pinned_ns(w->cx.s);
    if (t0 == 0 || fxi_now_ns() - t0 < fxi_gather_split_ns * (w->out.run_sent + 1))
        return false;
    a->flags |= (uint16_t) (GATHER_RETRY << FXI_F_SPREAD_SHIFT);
    return true;
}

bool fxi_mute_repin(fxi_worker *w, fxi_actor *a)
{
    if (fxi_sched_resumed_pinned_ns(w->cx.s) == 0 || gathered_heavy(w, a))
        return false;
    fxi_sched_pin_owner(w->cx.s, a);
    return true;
}

bool fxi_mute_after_call(fxi_worker *w, fxi_actor *a)
{
    fxi_actor *to = w->mute_to;
    w->mute_to = NULL;
    /* Never muted on itself, nor while its own queue is over its mark
     * (docs/overload.md, "Why muting cannot deadlock"). */
    if (to == a || fxi_mailbox_len(&a->mb) > fxi_mute_mark(w->mute_mark, a))
        return false;
    if (!fxi_vm_running(w->cx.vm))
        return false;
    if (w->nmuted == w->muted_cap) {
        uint32_t cap = w->muted_cap ? 2 * w->muted_cap : 16;
        fxi_muted *n = fxi_alloc(cap * sizeof *n);
        if (!n)
            return false; /* no room to remember it: not muted */
        for (uint32_t i = 0; i < w->nmuted; i++)
            n[i] = w->muted[i];
        fxi_free(w->muted, w->muted_cap * sizeof *n);
        w->muted = n;
        w->muted_cap = cap;
    }
    w->muted[w->nmuted++] = (fxi_muted){a, to->pid, w->out.run_sent};
    /* A run taken from the pinned ring (a gathered producer): if it spent
     * fxi_gather_split_ns or more per message it sent, the producer is heavy
     * enough that its own core beats sharing its consumer's; it is
     * released where it is for its next GATHER_RETRY mutes (and floods:
     * the flood hand-off reads the same count), then measured again. */
    (void) gathered_heavy(w, a);
    return true;
}

/* Release pacing: the targets seen by one poll, each with the messages
 * the senders released on it so far may send (their last runs' bursts). */
#define PACE_TARGETS 8

typedef struct {
    const fxi_actor *on;
    uint64_t granted;
} pace;

/* Whether a sender whose last run published `burst` messages may be
 * released on `on`, whose queue holds len, below its low mark: the first
 * one always (progress), the others while the bursts granted by this poll
 * fit below the mark. Without that, every sender muted on one process was
 * released at once when it drained, and their next runs (1,025 messages
 * each in the mailbox benchmark, 100 senders) took its queue from the low
 * mark to about 100,000 messages: far more memory than the mark allows,
 * beyond the message cache's depot and the CPU caches (docs/overload.md,
 * "How muting works"). A target beyond PACE_TARGETS is not paced. */
static bool pace_allows(pace *pc, uint32_t *npc, const fxi_actor *on, uint32_t len,
                        uint32_t mark, uint32_t burst)
{
    uint32_t i = 0;
    while (i < *npc && pc[i].on != on)
        i++;
    if (i == *npc) {
        if (*npc == PACE_TARGETS)
            return true;
        pc[(*npc)++] = (pace){on, 0};
    }
    uint64_t room = mark > len ? mark - len : 0;
    if (pc[i].granted != 0 && pc[i].granted + burst > room)
        return false;
    pc[i].granted += burst ? burst : 1;
    return true;
}

void fxi_mute_pin(fxi_worker *w, fxi_actor *a)
{
    fxi_sched *s = w->cx.s;
    /* Relaxed: a hint read by the threads that release a's senders. */
    if (fxi_atomic_load_relaxed_32(&a->home) != s->id + 1)
        fxi_atomic_store_relaxed_32(&a->home, s->id + 1);
    fxi_sched_pin_owner(s, a);
}

/* Makes a muted sender runnable again: pinned on the thread of the
 * process it waited for, if that one is pinned as a bottleneck (on's
 * home), so the producers of a bottleneck gather on its thread
 * (docs/design.md, "Gathering producers"); else queued here. on may be
 * NULL (it died, or the VM stops). */
static void release(fxi_worker *w, fxi_actor *a, const fxi_actor *on)
{
    /* Relaxed: a hint (a stale home only sends a to a thread where on
     * ran lately; fxi_sched_hand_to refuses a parked one). */
    uint32_t home = on ? fxi_atomic_load_relaxed_32(&on->home) : 0;
    if (home != 0 && (a->flags & FXI_F_SPREAD_MASK)) {
        a->flags = (uint16_t) (a->flags - (1u << FXI_F_SPREAD_SHIFT)); /* heavy */
        home = 0;
    }
    if (home == 0 || !fxi_sched_hand_to(w->cx.s, home - 1, a))
        fxi_sched_yield_owner(w->cx.s, a);
}

void fxi_mute_poll(fxi_worker *w)
{
    if (w->nmuted == 0)
        return;
    fx_vm *vm = w->cx.vm;
    bool running = fxi_vm_running(vm);
    pace pc[PACE_TARGETS];
    uint32_t npc = 0;
    for (uint32_t i = 0; i < w->nmuted;) {
        fxi_muted *m = &w->muted[i];
        fxi_actor *on = running ? fxi_ptable_lookup(&vm->pt, m->on) : NULL;
        bool keep = false;
        if (on != NULL &&
            fxi_mailbox_len(&m->a->mb) <= fxi_mute_mark(w->mute_mark, m->a)) {
            uint32_t mark = fxi_mute_mark(w->mute_mark, on);
            uint32_t len = fxi_mailbox_len(&on->mb);
            keep = len >= low_mark(vm, mark) ||
                   !pace_allows(pc, &npc, on, len, mark, m->burst);
        }
        if (keep) {
            i++;
            continue;
        }
        release(w, m->a, on);
        *m = w->muted[--w->nmuted];
    }
}

void fxi_mute_release_all(fxi_worker *w)
{
    while (w->nmuted > 0)
        fxi_sched_yield_owner(w->cx.s, w->muted[--w->nmuted].a);
}

void fxi_mute_hand_over(fxi_worker *w)
{
    /* The owner is stuck in a call and waits for the watchdog's claim
     * before it touches the list again (sched/watchdog.c). */
    fx_vm *vm = w->cx.vm;
    while (w->nmuted > 0)
        fxi_pool_inject(&vm->pool, w->muted[--w->nmuted].a);
}

void fxi_mute_fini(fxi_worker *w)
{
    fxi_free(w->muted, w->muted_cap * sizeof *w->muted);
    w->muted = NULL;
    w->nmuted = w->muted_cap = 0;
}

void fxi_limit_kill(fxi_worker *w, fxi_actor *a)
{
    fx_reason why = fx_reason_error(
        FX_EMAILBOX_FULL, "message queue over its limit of %u", a->ext->mb_limit);
    fxi_actor_exit(w, a, &why, false);
}

FX_API int64_t fx_queue_len(const fx_ctx *cx)
{
    if (!cx || !cx->self)
        return FX_EINVAL;
    return fxi_mailbox_len(&cx->self->mb);
}

FX_API int fx_vm_queue_len(fx_vm *vm, fx_pid pid, uint64_t *out)
{
    if (!vm || !out)
        return FX_EINVAL;
    fxi_section sec;
    int rc = fxi_section_enter(vm, &sec);
    if (rc)
        return rc;
    fxi_actor *a = fxi_ptable_lookup(&vm->pt, pid);
    if (a)
        *out = fxi_mailbox_len(&a->mb);
    fxi_section_exit(vm, &sec);
    return a ? 0 : FX_ENOPROC;
}
