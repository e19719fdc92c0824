/* A connection process's state (dist_conn.c: handshake, frames in, the
 * process's life) and its write path (dist_write.c: frames out, whole
 * and in order). Both run only in the connection process. */
#ifndef FXI_DIST_CONN_H
#define FXI_DIST_CONN_H

#include <ei.h>
#include <fauxtp/actor.h>
#include <fauxtp/net.h>

#include "dist/dist.h"
#include "dist/dist_proto.h"
#include "dist/dist_sig.h"

typedef struct conn conn;

/* Frames up to this size are held back and coalesced (see fxi_dc_send_frame);
 * also the most bytes held back at once. Bigger frames go out alone. */
#define COALESCE_MAX (64u * 1024u)

struct conn {
    fxi_dist *d;
    fx_pid self;
    bool initiator;
    uint32_t gen; /* the local node's incarnation it was spawned for */
    int phase;
    char peer[256];
    char ip[64];    /* initiator: the peer's address (resolved) */
    fx_ref resolve; /* initiator: the resolver job's ref (P_RESOLVE) */
    fx_sock sock, epmd;
    uint8_t *buf;
    size_t len, cap;
    uint32_t my_chal;
    fxi_hs_peer pi;
    uint64_t rx, rx_seen;
    int idle;
    bool wrote, blocked;
    bool busy;       /* the busy state senders see (rnode.busy): blocked, published */
    int fail;        /* error for waiters when the connection never came up */
    fx_pid *waiters; /* fx_dist_connect callers until up (or failed) */
    uint32_t nw, cw;
    /* Frames the socket refused (FX_EAGAIN), oldest first, each whole:
     * nothing is written past them until FX_NET_WRITABLE drains them.
     * Non-empty exactly when blocked. */
    fx_msg **q;
    uint32_t qh, qn, qcap;
    fxi_dist_sigs sigs; /* links and monitors over this connection */
    fx_pid winner;      /* simultaneous connect: the connection that won */
    char why[48];       /* the exit reason's text, while draining */
    uint32_t polls;
    /* Frames held back to go out in one write, whole and in order, before
     * any other frame: while more messages wait in the mailbox (an
     * FXI_DIST_FLUSH behind them writes them) or while frames() handles
     * one read's frames. Empty while blocked (qn != 0). */
    uint8_t *ob;
    size_t olen;
    bool flush_sent; /* an FXI_DIST_FLUSH is on its way to us */
    bool batch;      /* inside frames(): written at its end */
};

/* Writes n bytes (handshake messages, ticks) straight to the socket. 0 or
 * the socket's error. */
int fxi_dc_write_raw(fx_ctx *cx, conn *c, const void *p, size_t n);
/* Writes the held-back frames (c->ob) as one write, or queues them as one
 * refused frame. 0 or an error. */
int fxi_dc_out_flush(fx_ctx *cx, conn *c);
/* Sends frame f (taken, also on failure; it may be the message being
 * handled) coalesced, written or queued, never cut, dropped or overtaken.
 * 0, or an error (the connection is broken: the caller takes it down). */
int fxi_dc_send_frame(fx_ctx *cx, conn *c, fx_msg *f);
/* Writes the refused frames until the socket refuses one again. 0 or an
 * error. */
int fxi_dc_flush(fx_ctx *cx, conn *c);
/* A control message (and a message term, y may be NULL) as one frame
 * through fxi_dc_send_frame. 0 or an error. */
int fxi_dc_write_ctl2(fx_ctx *cx, conn *c, const ei_x_buff *x, const ei_x_buff *y);
int fxi_dc_write_ctl(fx_ctx *cx, conn *c, const ei_x_buff *x);

#endif
