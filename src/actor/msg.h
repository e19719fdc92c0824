/* Message layout: one allocation, header + inline payload. Small messages
 * come from the scheduler thread's block cache (mem/msgcache.h). */
#ifndef FXI_ACTOR_MSG_H
#define FXI_ACTOR_MSG_H

#include <fauxtp/msg.h>

#include "ds/mailbox.h"
#include "mem/msgcache.h"
#include <string.h>

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

/* Copies a payload of n bytes into a new message. Payloads of up to 16
 * bytes (most: a counter, a pid, a pair) are copied with two overlapping
 * fixed-size moves (three byte moves below 4 bytes), which the compiler inlines, instead
 * of a call to memcpy through the PLT (about 2 % of a fjthrput profile); both read and
 * write only within the n bytes. */
static inline void fxi_msg_copy_in(unsigned char *dst, const void *src, size_t n)
{
    const unsigned char *s = src;
    if (n == 0) /* first: empty payloads (signals, pings) pay one test */
        return;
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else if (n < 4) { /* 1 to 3 bytes: no call either (fx_send's fast path) */
        unsigned char a = s[0], b = s[n / 2], c = s[n - 1];
        dst[0] = a;
        dst[n / 2] = b;
        dst[n - 1] = c;
    } else {
        memcpy(dst, s, n);
    }
}

/* Types a user or behaviour may send as a built message: user types, an
 * Erlang term (term.h builds those) and the behaviour range (never the
 * runtime's TIMEOUT/EXIT/DOWN/REPLY or internal signals). */
static inline bool fxi_msg_sendable(uint32_t type)
{
    return type < FX_MSG_SYSTEM_BASE || type == FX_MSG_TERM ||
           (type >= FX_MSG_BEHAVIOUR_BASE && type < FX_MSG_INTERNAL_BASE);
}

/* The size limit of a message of this type (msg.h, FX_MSG_ENVELOPE_MAX):
 * a behaviour's message or a reply has room for its envelope; a user
 * message and an Erlang term (FX_MSG_TERM) do not. */
static inline uint64_t fxi_msg_size_limit(size_t max_msg_size, uint32_t type)
{
    bool env = type == FX_MSG_REPLY || type >= FX_MSG_BEHAVIOUR_BASE;
    return (uint64_t) max_msg_size + (env ? FX_MSG_ENVELOPE_MAX : 0);
}

/* Any thread: scheduler threads recycle small messages through their
 * cache (mem/msgcache.h). */
static inline void fxi_msg_release(fx_msg *m)
{
    fxi_mc_free(m, fxi_msg_alloc_size(m->size));
}

#endif
