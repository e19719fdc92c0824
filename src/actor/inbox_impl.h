/* Inboxes: process-table entries whose "scheduling" wakes a thread. */
#ifndef FXI_ACTOR_INBOX_IMPL_H
#define FXI_ACTOR_INBOX_IMPL_H

#include <fauxtp/inbox.h>

#include "actor/actor_impl.h"

struct fx_inbox {
    fx_vm *vm;
    fxi_actor *a;  /* kind FXI_KIND_INBOX; a->u.live.state == this */
    uint32_t wake; /* atomic futex word: 1 = a sender found us idle */
};

/* A sender found the inbox idle: wake its thread. Any thread. */
void fxi_inbox_wake(fxi_actor *a);

#endif
