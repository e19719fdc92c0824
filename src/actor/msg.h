/* Message layout: one allocation, header + inline payload. Small messages
 * come from the scheduler thread's block cache (mem/msgcache.h). */
#ifndef FXI_ACTOR_MSG_H
#define FXI_ACTOR_MSG_H

#include <fauxtp/msg.h>

#include "ds/mailbox.h"
#include "mem/msgcache.h"

struct fx_msg {
    fxi_mnode node; /* mailbox / save-queue link; must stay first */
    uint32_t type;
    uint32_t size;
    fx_pid from;
    fx_ref ref;
    _Alignas(16) unsigned char data[];
};

static inline size_t fxi_msg_alloc_size(uint32_t size)
{
    return sizeof(struct fx_msg) + size;
}

/* Allocates a message (no type/size validation). NULL on ENOMEM. */
static inline fx_msg *fxi_msg_alloc(uint32_t type, uint32_t size)
{
    fx_msg *m = (fx_msg *) fxi_mc_alloc(fxi_msg_alloc_size(size));
    if (m) {
        m->type = type;
        m->size = size;
        m->from = FX_PID_NONE;
        m->ref = FX_REF_NONE;
    }
    return m;
}

/* Types a user or behaviour may send as a built message: user types and
 * the behaviour range (never the runtime's TIMEOUT/EXIT/DOWN/REPLY or
 * internal signals). */
static inline bool fxi_msg_sendable(uint32_t type)
{
    return type < FX_MSG_SYSTEM_BASE ||
           (type >= FX_MSG_BEHAVIOUR_BASE && type < FX_MSG_INTERNAL_BASE) ||
           type == FX_MSG_TERM;
}

/* Any thread: scheduler threads recycle small messages through their
 * cache (mem/msgcache.h). */
static inline void fxi_msg_release(fx_msg *m)
{
    fxi_mc_free(m, fxi_msg_alloc_size(m->size));
}

#endif
