/* The owner's side of the mailbox: message selection for a running actor
 * (plain delivery and selective receive over the save queue), and
 * emptying a dead process's mailbox. Owner thread only. */
#ifndef FXI_ACTOR_RECEIVE_H
#define FXI_ACTOR_RECEIVE_H

#include "actor/actor.h"

enum { FXI_RECV_MSG = 0, FXI_RECV_EMPTY, FXI_RECV_BUSY, FXI_RECV_DIED };

/* Picks the next message to hand to the actor's handler, applying the
 * signals it passes (links, monitors, exit signals). FXI_RECV_MSG sets
 * *out; FXI_RECV_EMPTY: nothing deliverable and the mailbox may be empty;
 * FXI_RECV_BUSY: the budget for skipping unmatched messages ran out or a
 * message is in flight (run again later); FXI_RECV_DIED: an exit signal
 * killed the actor, reason in cx->stop_reason (the caller exits it). */
int fxi_receive_next(fx_ctx *cx, fxi_actor *a, fx_msg **out);

/* Cancels the pending receive timeout (FXI_F_RECVTMO set) of a handler call
 * that did not end up receiving; out of line, fxi_receive_disarm's
 * rare case. */
void fxi_receive_disarm_slow(fx_ctx *cx, fxi_actor *a);

/* Cancels a receive timeout armed by fx_receive in this invocation when
 * the handler did not end up receiving. Inline: it runs after every
 * handler call that continues, and almost never has a timeout to cancel
 * (a call per message before, about 10 instructions). */
static inline void fxi_receive_disarm(fx_ctx *cx, fxi_actor *a)
{
    /* The flag, on the actor's hot line, spares a cache miss on the ext
     * record of every linked or monitored actor. */
    if (__builtin_expect(a->flags & FXI_F_RECVTMO, 0))
        fxi_receive_disarm_slow(cx, a);
}

/* Frees every message in a's save queue. */
void fxi_saved_free_all(fxi_actor *a);

/* Pops the next mailbox entry that is a message (user, TIMEOUT, EXIT or
 * DOWN), applying signals on the way. NULL when the mailbox is empty, or
 * when a signal killed a: then *died is set and *why holds the reason. A
 * link or monitor request a could not record (no memory) is then left in
 * the save queue for the caller to answer (fxi_sig_discard).
 * The owner of a (an actor's scheduler thread, an inbox's thread). */
fx_msg *fxi_pop_message(fxi_actor *a, fx_reason *why, bool *died);

/* The first entry of a's mailbox not yet popped (signals included) for
 * which match(m, arg) holds, left in place; NULL if none. A walk of the
 * whole queue: for the rare paths that must know whether a signal has
 * arrived (fx_demonitor, fx_unlink of a dead peer). The owner of a. */
fx_msg *fxi_mailbox_find_sc(fxi_actor *a, bool (*match)(const fx_msg *m, const void *arg),
                            const void *arg);

/* Empties a dead process's mailbox; answers late link and monitor
 * requests with noproc when `answer` (caller in a section, w as for
 * fxi_deliver). Returns the number of user messages dropped. */
uint64_t fxi_mailbox_discard(fx_vm *vm, fxi_worker *w, fxi_actor *a, bool answer);

/* Save-queue helpers shared with inboxes. */
void fxi_saved_append(fxi_actor *a, fx_msg *m);
/* Removes and returns the first saved message matching mt (NULL: any). */
fx_msg *fxi_saved_take(fxi_actor *a, const fx_match *mt);
/* Removes and frees every saved message matching mt. */
void fxi_saved_drop(fxi_actor *a, const fx_match *mt);
bool fxi_match_msg(const fx_match *mt, const fx_msg *m);

#endif
