/* Inboxes: process-table entries whose "scheduling" wakes a thread
 * (actor/wake.h). The functions are all public (fauxtp/inbox.h). */
#ifndef FXI_ACTOR_INBOX_H
#define FXI_ACTOR_INBOX_H

#include <fauxtp/inbox.h>

#include "actor/actor.h"

struct fx_inbox {
    fx_vm *vm;
    fxi_actor *a;  /* kind FXI_KIND_INBOX; a->u.live.state == this */
    uint32_t wake; /* atomic futex word: 1 = a sender found us idle */
    /* Under vm->inbox_mx: the VM's list of inboxes (for the shutdown). */
    struct fx_inbox *prev, *next;
};

/* Shutdown, after the VM left RUNNING: wakes every thread blocked in
 * fx_inbox_recv, which then answers FX_ESHUTDOWN. Outside the VM. */
void fxi_inbox_wake_all(fx_vm *vm);

#endif
