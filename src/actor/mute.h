/* Muting backpressure (Pony's muting): an actor whose handler call sent to
 * a process over its mark is descheduled after the call and held by its
 * scheduler thread until that process drains below its low mark. See
 * docs/overload.md for the rules and why they cannot deadlock. Internal. */
#ifndef FXI_ACTOR_MUTE_H
#define FXI_ACTOR_MUTE_H

#include <fauxtp/error.h>
#include <fauxtp/overload.h>
#include <fauxtp/vm.h>

#include "actor/actor.h"

/* One muted actor: held by the thread whose worker lists it. */
typedef struct fxi_muted {
    fxi_actor *a;
    fx_pid on;      /* the process it waits for */
    uint32_t burst; /* messages its last run published (release pacing) */
} fxi_muted;

/* Validates and fills in the overload block of a resolved config:
 * 0 or FX_EINVAL. */
int fxi_mute_resolve_config(fx_vm_config *c);

/* The limit of a new actor spawned with `lim` (NULL or max 0: unbounded),
 * kept in a's extension, allocated here. 0, FX_EINVAL for an unknown
 * policy, FX_ENOMEM. */
int fxi_mute_init_actor(const fx_vm *vm, fxi_actor *a, const fx_mailbox_limit *lim);

/* After a handler call of a on w's thread whose sends found w->mute_to
 * over its mark: mutes a (true: its run is over, the thread holds it) or
 * not (false). Clears w->mute_to. Owner thread only. */
bool fxi_mute_after_call(fxi_worker *w, fxi_actor *a);

/* Reschedules the muted actors whose process drained below its low mark,
 * died, or whose own queue went over their mark (the rule that rules out
 * deadlock), and all of them once the VM stops running. Owner thread
 * only, inside its QSBR section (the tick hook). */
void fxi_mute_poll(fxi_worker *w);

/* How often a thread holding muted actors looks again while it has
 * nothing else to run (park timeout, ns). */
#define FXI_MUTE_POLL_NS 50000

/* Whether a, at the end of a run on w's thread that leaves it runnable,
 * is a bottleneck to pin there (fxi_mute_pin): its queue is over its
 * mark, or it was pinned here (home) and its queue is not empty yet.
 * Owner thread only. */
bool fxi_mute_pin_due(const fxi_worker *w, const fxi_actor *a);

/* Queues a, whose run ended with its queue over its mark (a bottleneck),
 * pinned on w's thread (fxi_sched_pin_owner), and records that thread as
 * a's home, where the senders muted on a are released (docs/design.md,
 * "Gathering producers"). Owner thread only. */
void fxi_mute_pin(fxi_worker *w, fxi_actor *a);

/* A gathered producer whose run spent this many ns or more per message
 * it sent keeps its own core (docs/design.md, "Gathering producers"):
 * 100. A test hook: tests set it before creating their VM (a debug or
 * sanitizer build's sends cost several times a release build's, and
 * a loaded machine's preemptions add to any run), never while a VM
 * runs. */
extern uint64_t fxi_gather_split_ns;

/* a's run, taken from the pinned ring (a gathered producer), ends
 * runnable after publishing a send budget's worth of messages without
 * being muted: it goes back to the ring (true), so a producer that keeps
 * flooding stays with its consumer instead of going to the stealable
 * deque between mutes; false if the run was not a pinned one or the
 * producer is heavy (the caller queues it as usual). Owner thread only. */
bool fxi_mute_repin(fxi_worker *w, fxi_actor *a);

/* a, whose run ends with its queue empty, is no bottleneck any more:
 * its home is forgotten (its senders are released where they are, and
 * it is stealable again). Owner thread only. */
static inline void fxi_mute_unpin(fxi_actor *a)
{
    /* Relaxed: a hint, as in fxi_mute_pin. */
    if (__builtin_expect(fxi_atomic_load_relaxed_32(&a->home) != 0, 0))
        fxi_atomic_store_relaxed_32(&a->home, 0);
}

/* Frees the worker's list (VM destroy; no actor is held any more). */
void fxi_mute_fini(fxi_worker *w);

/* Makes every actor w holds muted runnable again on w's thread, muted or
 * not: for a scheduler thread about to leave its loop (a retiring spare,
 * whose queued units then go to the others), so no muted actor is left
 * with a thread that will never poll it. Owner thread only. */
void fxi_mute_release_all(fxi_worker *w);

/* The watchdog's hand-over of a stuck call (fxi_sched_hooks.hand_over):
 * makes every actor w holds muted runnable on the inject queue, so they
 * do not wait for the call to return. On the watchdog thread, holding
 * the claim of w's scheduler (the owner does not touch the list). */
void fxi_mute_hand_over(fxi_worker *w);

/* The VM's mark: the queue length above which senders are muted
 * (UINT32_MAX with muting off). */
uint32_t fxi_mute_vm_mark(const fx_vm *vm);

/* a's mark: vm_mark (fxi_mute_vm_mark), or a's backpressure limit if that
 * is lower (it is its mark, muting on or off). Any thread. */
static inline uint32_t fxi_mute_mark(uint32_t vm_mark, const fxi_actor *a)
{
    if (__builtin_expect(a->lim == FX_MAILBOX_BACKPRESSURE + 1, 0) &&
        a->ext->mb_limit < vm_mark)
        return a->ext->mb_limit;
    return vm_mark;
}

/* A process with a limit refuses this message type: application messages
 * (Erlang terms, FX_MSG_TERM, included) and behaviour messages marked
 * FX_MSG_REFUSABLE (calls, casts) only; replies, signals and behaviours'
 * own protocol always get through. */
static inline bool fxi_limit_refusable(uint32_t type)
{
    return type < FX_MSG_SYSTEM_BASE || type == FX_MSG_TERM ||
           (type >= FX_MSG_BEHAVIOUR_BASE && type < FX_MSG_INTERNAL_BASE &&
            (type & FX_MSG_REFUSABLE));
}

/* The length a limit is held to: the mailbox and the messages a
 * selective receive set aside (they are still queued, as in Erlang's
 * message_queue_len). saved_n: relaxed, one writer (receive.c). */
static inline uint32_t fxi_limit_len(const fxi_actor *a)
{
    return fxi_mailbox_len_exact(&a->mb) + fxi_atomic_load_relaxed_32(&a->ext->saved_n);
}

/* Checks a send of a message of `type` to a, which has a limit, with
 * `pending` more messages of the same sender not yet published: 0 to go
 * ahead, or the refusal (FX_EMAILBOX_FULL inside the VM under the drop
 * policy, FX_EAGAIN for a sender outside the VM under any policy). */
static inline int fxi_limit_check(const fxi_actor *a, uint32_t type, uint32_t pending,
                                  bool outside)
{
    if (!fxi_limit_refusable(type))
        return 0;
    if (!outside && a->lim != FX_MAILBOX_DROP + 1)
        return 0;
    if (fxi_limit_len(a) + pending < a->ext->mb_limit)
        return 0;
    return outside ? FX_EAGAIN : FX_EMAILBOX_FULL;
}

/* The kill policy: true if a, about to run, is over its limit and must
 * exit (reason in *why). Owner thread only. */
static inline bool fxi_limit_kill_due(const fxi_actor *a)
{
    return a->lim == FX_MAILBOX_KILL + 1 && fxi_limit_len(a) > a->ext->mb_limit;
}

/* Ends a's life for the kill policy: reason {error, FX_EMAILBOX_FULL,
 * "message queue over its limit of N"}. Owner thread only. */
void fxi_limit_kill(fxi_worker *w, fxi_actor *a);

#endif
