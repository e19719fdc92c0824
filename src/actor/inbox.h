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

/* Shutdown, before the stop hooks (actor/inbox_close.c): from now on a
 * wait in fx_inbox_recv answers FX_ESHUTDOWN on every thread but the
 * caller's, and the threads waiting now are woken. The caller marks the
 * end of its hooks with fxi_inbox_close_hooks_done. */
void fxi_inbox_close_waits(fx_vm *vm);
void fxi_inbox_close_hooks_done(fx_vm *vm);
/* Whether a wait in fx_inbox_recv on the calling thread must end with
 * FX_ESHUTDOWN; call after the seq_cst fence that follows wake = 0. */
bool fxi_inbox_waits_closed(const fx_vm *vm);

#endif
