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
};

#endif
