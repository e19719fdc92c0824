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
    /* Ordered after the push that found the mailbox idle (the exchange is
     * a full barrier); pairs with the load in fx_inbox_recv. */
    ck_pr_store_32(&ib->wake, 1);
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
