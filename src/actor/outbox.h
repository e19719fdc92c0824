/* Sender-side batching ("outbox"): consecutive sends from one handler call
 * to the same process are linked into a private chain and published with
 * a single mailbox exchange when the handler returns, when the target
 * changes, when the chain reaches FXI_OUTBOX_MAX, or before any other
 * delivery from the same scheduler thread. See docs/design.md ("Sender-side
 * batching") for why order and delivery guarantees are unchanged.
 * Internal; scheduler thread only (the outbox is part of its worker). */
#ifndef FXI_ACTOR_OUTBOX_H
#define FXI_ACTOR_OUTBOX_H

#include <stdint.h>

#include "ds/mailbox.h"

/* Messages per chain before it is published anyway: bounds how long a
 * consumer on another core waits for the first of them. */
#define FXI_OUTBOX_MAX 64

struct fxi_actor;

/* Owner thread only. */
typedef struct fxi_outbox {
    struct fxi_actor *to; /* target of the pending chain, NULL = empty */
    fxi_mnode *first, *last;
    uint32_t n;
    /* Flood detection (run.c, fxi_sched_hold_owner): the process the last
     * full chain (FXI_OUTBOX_MAX messages) went to, and how many messages
     * in full chains went to it in a row in the current handler call
     * (reset before each call; flood_to is meaningful only while
     * flood_n > 0). A call that reaches flood_min (max(batch,
     * FXI_OUTBOX_MAX), set when the thread starts) floods flood_to. */
    struct fxi_actor *flood_to;
    uint32_t flood_n, flood_min;
} fxi_outbox;

#endif
