/* fauxtp: inboxes, mailboxes for threads outside the VM.
 *
 * An inbox has a pid like a process, so actors can send to it (replies,
 * results), and a thread outside the VM receives from it, blocking with a
 * timeout. It is what the main thread of a program or a test uses to talk
 * to actors. */
#ifndef FAUXTP_INBOX_H
#define FAUXTP_INBOX_H

#include "actor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fx_inbox fx_inbox;

/* Creates an inbox in vm. Errors: FX_EINVAL, FX_ESHUTDOWN, FX_EFULL,
 * FX_ENOMEM. Any thread outside the VM. */
FX_API int fx_inbox_create(fx_vm *vm, fx_inbox **out);
/* Destroys it; queued messages are freed and its pid becomes stale.
 * Call it before fx_vm_destroy. The owner thread only. */
FX_API void fx_inbox_destroy(fx_inbox *inbox);
FX_API fx_pid fx_inbox_pid(const fx_inbox *inbox);

/* Sends a copy of (type, data, size) to `to` with the inbox as sender, so
 * the receiver can reply with fx_send(cx, fx_msg_from(msg), ...). Errors
 * as fx_vm_send. Any thread. */
FX_API int fx_inbox_send(fx_inbox *inbox, fx_pid to, uint32_t type, const void *data,
                         size_t size);

/* Waits for the first message matching *match (NULL: any), in arrival
 * order, up to timeout_ms (FX_INFINITY: forever; 0: poll). Unmatched
 * messages stay queued. On success *out is the caller's (fx_msg_free).
 * Errors: FX_EINVAL, FX_ETIMEDOUT, FX_EWOULDBLOCK on a scheduler thread.
 * One thread at a time per inbox. */
FX_API int fx_inbox_recv(fx_inbox *inbox, const fx_match *match, int64_t timeout_ms,
                         fx_msg **out);

#ifdef __cplusplus
}
#endif
#endif
