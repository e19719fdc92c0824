/* Signals: links, monitors and exit signals as messages of reserved types
 * in the ordinary mailbox, so they keep the per-pair order of messages.
 * See docs/failures.md. Internal.
 *
 * Promises. Once a link or monitor exists, the EXIT or DOWN it will
 * produce is already allocated: the tables of the actor extension map a
 * link's pid, or a watcher's ref, to a *promise*, a message of the full
 * EXIT or DOWN size whose `from` is the process to tell (and, for a DOWN,
 * whose ref is the monitor's). The LINK and MONITOR requests are promises
 * too: the receiver keeps the request as its own promise. So exiting,
 * unlinking and answering a late request with noproc allocate nothing,
 * and no signal is lost for lack of memory (docs/failures.md, "Out of
 * memory"). */
#ifndef FXI_ACTOR_SIGNAL_H
#define FXI_ACTOR_SIGNAL_H

#include <fauxtp/link.h>
#include <fauxtp/monitor.h>

#include "actor/actor.h"

/* Internal signal types; m->from is the sender, m->ref as noted. */
#define FXI_SIG_LINK (FX_MSG_INTERNAL_BASE + 0)      /* add a link to from */
#define FXI_SIG_UNLINK (FX_MSG_INTERNAL_BASE + 1)    /* remove the link to from */
#define FXI_SIG_MONITOR (FX_MSG_INTERNAL_BASE + 2)   /* from watches us with ref */
#define FXI_SIG_DEMONITOR (FX_MSG_INTERNAL_BASE + 3) /* from stops watching (ref) */
#define FXI_SIG_EXIT (FX_MSG_INTERNAL_BASE + 4)      /* payload fx_exit_info; ref.id: */
enum { FXI_EXIT_EXPLICIT = 0, FXI_EXIT_LINK = 1 };
/* A reply (as FX_MSG_REPLY, ref = the call's) from the process a call
 * monitor watches, which ended that monitor's promise when it replied
 * (fx_monitor_call): the receiver ends its side and gets an FX_MSG_REPLY. */
#define FXI_SIG_REPLY_END (FX_MSG_INTERNAL_BASE + 5)

/* A table value <-> its promise. */
static inline fx_msg *fxi_sig_promise_of(uint64_t v)
{
    return (fx_msg *) (uintptr_t) v;
}
static inline uint64_t fxi_sig_promise_val(fx_msg *p)
{
    return (uint64_t) (uintptr_t) p;
}

/* The watched side of a call monitor (fx_monitor_call): self replies to
 * `to`; if to.ref is a call monitor of to.pid on self, it ends here (its
 * promise freed) and true says so: the reply is then sent as
 * FXI_SIG_REPLY_END. Owner of self. Inline, so that send.c need not call
 * into monitor.c (the layer's calls form a DAG, docs/design.md). */
static inline bool fxi_monitor_reply_ends(fxi_actor *self, fx_from to)
{
    fxi_actor_ext *x = self->ext;
    fxi_u64pair *e;
    if (!x || !x->watchers.count || !(e = fxi_u64map_find(&x->watchers, to.ref.id)))
        return false;
    fx_msg *p = fxi_sig_promise_of(e->val);
    const fx_down_info *d = (const fx_down_info *) p->data;
    if (p->from.id != to.pid.id || d->ref.id != to.ref.id)
        return false;                      /* a plain monitor, or not the caller's */
    fxi_u64map_del_found(&x->watchers, e); /* one probe for the lookup and the removal */
    fxi_msg_release(p);
    return true;
}

/* ---- promises: any thread. NULL on ENOMEM. */
/* The exit signal a link will send to `to` (type FXI_SIG_EXIT), or with
 * type FXI_SIG_LINK a LINK request from `to` (its receiver keeps it as
 * its promise to `to`). */
fx_msg *fxi_sig_promise_exit(uint32_t type, fx_pid to);
/* The DOWN a monitor with ref will send to watcher (type FX_MSG_DOWN), or
 * with type FXI_SIG_MONITOR the MONITOR request from watcher. Until it
 * fires, the payload's ref says what kind of monitor it is: FX_REF_NONE
 * for a plain one, the monitor's own ref for a call monitor, which the
 * watched process's reply with that ref ends (fx_monitor_call). */
fx_msg *fxi_sig_promise_down(uint32_t type, fx_pid watcher, fx_ref ref);
/* Fulfils promise p (from fxi_sig_promise_exit/down): the exit signal or
 * DOWN from `dead` with reason r goes to p->from. Takes p. Returns
 * fxi_deliver's answer. Any thread inside a QSBR section. */
int fxi_sig_fire_exit(fx_vm *vm, fxi_worker *w, fx_msg *p, fx_pid dead,
                      const fx_reason *r, int how);
int fxi_sig_fire_down(fx_vm *vm, fxi_worker *w, fx_msg *p, fx_pid dead,
                      const fx_reason *r);

/* ---- sending: any thread inside a QSBR section (w as for fxi_deliver).
 * Each returns fxi_deliver_or_drop's answer (0 or FX_ENOPROC) or FX_ENOMEM. */
int fxi_sig_send(fx_vm *vm, fxi_worker *w, uint32_t type, fx_pid from, fx_pid to,
                 fx_ref ref);
/* An exit signal without a link (fx_exit): allocated here. */
int fxi_sig_exit(fx_vm *vm, fxi_worker *w, fx_pid from, fx_pid to, const fx_reason *r,
                 int how);

/* ---- receiving: the owner of a, for a message of type >= FX_MSG_EXIT
 * popped from its mailbox. */
enum { FXI_SIG_DELIVER = 0, FXI_SIG_CONSUMED, FXI_SIG_DIE, FXI_SIG_REFUSED };
/* Applies m. DELIVER: m is now an FX_MSG_EXIT / FX_MSG_DOWN message for
 * the handler. CONSUMED: m was freed. DIE: m was freed and a must exit
 * with *why. REFUSED: m is a LINK or MONITOR request that a could not
 * record for lack of memory; the caller keeps m, answers it with
 * fxi_sig_discard (an actor: it exits with *why and answers with that
 * reason, so the requester learns of the exit). */
int fxi_sig_apply(fxi_actor *a, fx_msg *m, fx_reason *why);

/* ---- death. a's pid is already stale. */
/* Fulfils a's promises to its links (exit signal r) and watchers (DOWN
 * r), withdraws the monitors a holds, and frees the tables. */
void fxi_sig_exit_notify(fx_vm *vm, fxi_worker *w, fxi_actor *a, const fx_reason *r);
/* Frees m, found in the mailbox or save queue of the dead process
 * `dead`; a link or monitor request in it is answered with reason
 * *answer (noproc for a late request) when answer is not NULL (the caller
 * is in a section with the VM running). */
void fxi_sig_discard(fx_vm *vm, fxi_worker *w, fx_pid dead, fx_msg *m,
                     const fx_reason *answer);

#endif
