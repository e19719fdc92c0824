/* fauxtp: inboxes, mailboxes for threads outside the VM.
 *
 * An inbox has a pid like a process, so actors can send to it (replies,
 * results), and a thread outside the VM receives from it, blocking with a
 * timeout. It is what the main thread of a program or a test uses to talk
 * to actors. */
#ifndef FAUXTP_INBOX_H
#define FAUXTP_INBOX_H

#include "actor.h"
#include "link.h"
#include "monitor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fx_inbox fx_inbox;

/* Creates an inbox in vm. Errors: FX_EINVAL, FX_ESHUTDOWN, FX_EFULL,
 * FX_ENOMEM, FX_ECONTEXT on one of vm's scheduler threads (a handler:
 * such an inbox could never be destroyed there). Any thread outside the
 * VM. */
FX_API int fx_inbox_create(fx_vm *vm, fx_inbox **out);
/* Destroys it: it exits with reason normal (its links and monitors are
 * told, as for a process, including links and monitors other processes
 * made on it that no fx_inbox_recv has seen yet), queued messages are
 * freed and its pid becomes stale. Call it before fx_vm_destroy. 0 (also
 * for NULL); FX_ECONTEXT on one of its VM's scheduler threads (it would
 * wait for a grace period that thread cannot reach) and FX_EFORKED in a
 * forked child: both leave the inbox as it was. FX_ESTUCK after
 * fx_vm_shutdown answered FX_ESTUCK and a stuck handler still ran when
 * the shutdown timeout passed once more: the inbox is gone (it must not
 * be used again) but its memory is leaked, since that handler may still
 * hold its address (docs/watchdog.md). The owner thread only, outside
 * the VM. */
FX_API int fx_inbox_destroy(fx_inbox *inbox);
FX_API fx_pid fx_inbox_pid(const fx_inbox *inbox);
/* The VM the inbox belongs to (NULL for NULL). Any thread. */
FX_API fx_vm *fx_inbox_vm(const fx_inbox *inbox);

/* Sends a copy of (type, data, size) to `to` with the inbox as sender, so
 * the receiver can reply with fx_send(cx, fx_msg_from(msg), ...). Errors
 * as fx_vm_send. Any thread. */
FX_API int fx_inbox_send(fx_inbox *inbox, fx_pid to, uint32_t type, const void *data,
                         size_t size);

/* Sends a message built with fx_msg_new / fx_msg_new_behaviour, with the
 * inbox as sender. Ownership as in <fauxtp/msg.h>: 0 takes msg; any
 * error, FX_ENOPROC included, leaves it with the caller. Errors as
 * fx_vm_send_msg. Any thread. */
FX_API int fx_inbox_send_msg(fx_inbox *inbox, fx_pid to, fx_msg *msg);

/* Waits for the first message matching *match (NULL: any), in arrival
 * order, up to timeout_ms (FX_INFINITY: forever; 0: poll; beyond
 * FX_TIMEOUT_MAX: FX_TIMEOUT_MAX; any other negative value: FX_EINVAL,
 * as for every blocking call that takes a timeout). Unmatched
 * messages stay queued. On success *out is the caller's (fx_msg_free).
 * Errors: FX_EINVAL, FX_ETIMEDOUT, FX_EWOULDBLOCK on a scheduler thread
 * of the inbox's VM (fx_vm_on_scheduler; a handler of another VM may
 * wait, and holds that VM's thread while it does),
 * FX_ESHUTDOWN when no matching message is queued and the VM is not
 * running (fx_vm_shutdown wakes every waiter, even with FX_INFINITY;
 * its stop hooks can still receive). One thread at a time per inbox:
 * the inbox's owner thread (the one that receives). */
FX_API int fx_inbox_recv(fx_inbox *inbox, const fx_match *match, int64_t timeout_ms,
                         fx_msg **out);

/* Links and monitors for the thread owning the inbox, with the inbox as
 * the process. An inbox always traps exits: exit signals, even `kill`,
 * arrive as FX_MSG_EXIT messages; DOWNs as FX_MSG_DOWN. Semantics and
 * errors as fx_link, fx_unlink, fx_monitor, fx_demonitor, fx_spawn_link
 * and fx_spawn_monitor, plus FX_ESHUTDOWN. The owner thread only: the
 * thread that receives, never while another thread is in fx_inbox_recv
 * on the same inbox (unlink and demonitor may read its queue). */
FX_API int fx_inbox_link(fx_inbox *inbox, fx_pid pid);
FX_API int fx_inbox_unlink(fx_inbox *inbox, fx_pid pid);
FX_API int fx_inbox_monitor(fx_inbox *inbox, fx_pid pid, fx_ref *ref);
FX_API int fx_inbox_demonitor(fx_inbox *inbox, fx_ref ref, unsigned flags);
FX_API int fx_inbox_spawn_link(fx_inbox *inbox, const fx_spawn_opts *opts, fx_pid *out);
FX_API int fx_inbox_spawn_monitor(fx_inbox *inbox, const fx_spawn_opts *opts, fx_pid *out,
                                  fx_ref *ref);

#ifdef __cplusplus
}
#endif
#endif
