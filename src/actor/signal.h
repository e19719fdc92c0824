/* Signals: links, monitors and exit signals as messages of reserved types
 * in the ordinary mailbox, so they keep the per-pair order of messages.
 * See docs/failures.md. Internal. */
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

/* ---- sending: any thread inside a QSBR section (w as for fxi_deliver).
 * Each returns fxi_deliver_or_drop's answer (0 or FX_ENOPROC) or FX_ENOMEM. */
int fxi_sig_send(fx_vm *vm, fxi_worker *w, uint32_t type, fx_pid from, fx_pid to,
                 fx_ref ref);
int fxi_sig_exit(fx_vm *vm, fxi_worker *w, fx_pid from, fx_pid to, const fx_reason *r,
                 int how);
int fxi_sig_down(fx_vm *vm, fxi_worker *w, fx_pid dead, fx_pid to, fx_ref ref,
                 const fx_reason *r);

/* ---- receiving: the owner of a, for a message of type >= FX_MSG_EXIT
 * popped from its mailbox. */
enum { FXI_SIG_DELIVER = 0, FXI_SIG_CONSUMED, FXI_SIG_DIE };
/* Applies m. DELIVER: m is now an FX_MSG_EXIT / FX_MSG_DOWN message for
 * the handler. CONSUMED: m was freed. DIE: m was freed and a must exit
 * with *why. */
int fxi_sig_apply(fxi_actor *a, fx_msg *m, fx_reason *why);

/* ---- death. a's pid is already stale. */
/* Tells a's links (exit signal r) and watchers (DOWN r), withdraws the
 * monitors a holds, and frees the tables. */
void fxi_sig_exit_notify(fx_vm *vm, fxi_worker *w, fxi_actor *a, const fx_reason *r);
/* Frees m, found in the mailbox of the dead process `dead`; a link or
 * monitor request in it is answered with noproc when `answer` (the
 * caller is in a section with the VM running). */
void fxi_sig_discard(fx_vm *vm, fxi_worker *w, fx_pid dead, fx_msg *m, bool answer);

#endif
