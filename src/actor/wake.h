/* Waking a process whose mailbox a sender found idle. Internal. */
#ifndef FXI_ACTOR_WAKE_H
#define FXI_ACTOR_WAKE_H

#include "actor/inbox.h"
#include "actor/vm.h"
#include "platform/park.h"

/* A sender found the inbox idle: wake its thread. Any thread. */
static inline void fxi_inbox_wake(fxi_actor *a)
{
    fx_inbox *ib = a->u.live.state;
    /* Relaxed: the receiver's store of wake = 0 happens before this one
     * (it precedes the receiver's release cas that marked the mailbox
     * idle, and our push's acquire exchange read that mark), so this
     * store is later in wake's modification order: the receiver's futex
     * wait sees 1 or is woken below. The message itself is ordered by the
     * mailbox (release link, acquire pop), not by this word. */
    fxi_atomic_store_relaxed_32(&ib->wake, 1);
    fxi_futex_wake(&ib->wake, 1);
}

/* The one wake-up path: a push found a's mailbox idle, so the pushing
 * thread makes a run. An inbox wakes its thread; an actor goes to the
 * calling scheduler (w) or, from outside the VM (w NULL), to the inject
 * queue. Any thread, inside a section. */
static inline void fxi_wake(fx_vm *vm, fxi_worker *w, fxi_actor *a)
{
    if (__builtin_expect(a->kind == FXI_KIND_INBOX, 0))
        fxi_inbox_wake(a);
    else if (w)
        fxi_sched_wake_owner(w->cx.s, a);
    else
        fxi_pool_inject(&vm->pool, a);
}

#endif
