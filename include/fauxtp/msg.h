/* fauxtp: messages.
 *
 * A message is one allocation: a small header (type, size, sender, ref) and
 * an inline payload. Payloads are copied at send (fx_send), or built in
 * place and moved (fx_msg_new + fx_send_msg).
 *
 * Ownership (one rule for every function that takes a message, as nng's):
 * a call that returns 0 has taken the message, the runtime owns it from
 * then on and the caller must not touch it again; a call that returns
 * anything else, FX_ENOPROC for a dead target included, has taken nothing
 * and the message is the caller's as before: free it with fx_msg_free,
 * or send it again (to another process, say). A handler forwarding the
 * message it is handling gets it back borrowed, as before the call (the
 * runtime frees it after the handler returns unless fx_msg_keep kept it).
 * Sending to a dead process is not an error in Erlang and the message is
 * simply dropped; FX_ENOPROC is that hint, and with a message built by
 * the caller the caller does the dropping. */
#ifndef FAUXTP_MSG_H
#define FAUXTP_MSG_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Message types at or above FX_MSG_SYSTEM_BASE are reserved for the
 * runtime; sending one as a user message fails with FX_EINVAL, so user
 * messages can never be mistaken for system envelopes. */
#define FX_MSG_SYSTEM_BASE 0xFFFF0000u
/* Delivered to a selective receive whose timeout elapsed. Payload:
 * fx_timeout_info, the `from` and `ref` of the receive's pattern, so a
 * continuation waiting for one of several things knows which timed out. */
#define FX_MSG_TIMEOUT 0xFFFF0001u
/* An exit signal turned into a message: delivered to a process trapping
 * exits (and to inboxes, which always trap). Payload: fx_exit_info (see
 * link.h); the sender is the signal's sender. */
#define FX_MSG_EXIT 0xFFFF0002u
/* A monitored process exited. Payload: fx_down_info (see monitor.h); the
 * message's ref is the monitor's ref, its sender the process that died. */
#define FX_MSG_DOWN 0xFFFF0003u
/* A reply (fx_reply). Its ref is the call's: it is delivered only while
 * the receiver holds a monitor with that ref (the caller monitors the
 * server for the length of a call), so a reply that comes after the
 * caller gave up is dropped instead of polluting its mailbox. */
#define FX_MSG_REPLY 0xFFFF0004u
/* One Erlang term in the external term format (ETF): the payload starts
 * with the version byte 131. This is how a term travels to and from other
 * nodes of a cluster (docs/distribution.md) and what include/fauxtp/term.h
 * builds and reads. Reserved for that use: the distribution layer delivers
 * Erlang messages with this type. */
#define FX_MSG_TERM 0xFFFF0005u
/* Types in [FX_MSG_BEHAVIOUR_BASE, FX_MSG_INTERNAL_BASE) belong to
 * behaviours (GenServer, Supervisor, your own): plain fx_send refuses
 * them; a behaviour builds them with fx_msg_new_behaviour and sends them
 * with fx_send_msg / fx_vm_send_msg / fx_inbox_send_msg. */
#define FX_MSG_BEHAVIOUR_BASE 0xFFFF1000u
/* A behaviour type with this bit set carries the application's work (a
 * GenServer call or cast envelope): a mailbox limit may refuse it like an
 * application message (overload.h). Behaviour types without it (a
 * behaviour's own protocol: start, suspend/resume, ...) always get
 * through. */
#define FX_MSG_REFUSABLE 0x800u
/* Types from FX_MSG_INTERNAL_BASE up are the runtime's own signals (link,
 * monitor, exit...): they travel in mailboxes but are never handed to a
 * handler or an inbox. */
#define FX_MSG_INTERNAL_BASE 0xFFFFFF00u

/* Hard ceiling on payload size, whatever the VM's max_msg_size. */
#define FX_MSG_SIZE_LIMIT 0x7FFFFFFFu

/* The VM's max_msg_size limits the application's payload. A behaviour
 * message (a type from FX_MSG_BEHAVIOUR_BASE up) and a reply (fx_reply)
 * may be up to FX_MSG_ENVELOPE_MAX bytes larger: the header a behaviour
 * puts around that payload (a GenServer envelope, a supervisor's reply
 * header, a registry request) does not count. A behaviour checks the
 * payload it carries against fx_vm_max_msg_size itself. */
#define FX_MSG_ENVELOPE_MAX 256u

/* Allocates a message with an uninitialised payload of `size` bytes, for
 * building in place. *out is owned by the caller until a send that
 * returns 0 (fx_send_msg, fx_vm_send_msg, fx_inbox_send_msg) takes it;
 * free it with fx_msg_free otherwise (Ownership, above). Errors: FX_EINVAL (NULL out,
 * reserved type), FX_EMSGSIZE (size > FX_MSG_SIZE_LIMIT), FX_ENOMEM. Any thread. */
FX_API int fx_msg_new(uint32_t type, size_t size, fx_msg **out);

/* The same for a behaviour's reserved type, in [FX_MSG_BEHAVIOUR_BASE,
 * FX_MSG_INTERNAL_BASE); FX_EINVAL for any other type. */
FX_API int fx_msg_new_behaviour(uint32_t type, size_t size, fx_msg **out);

/* Payload of FX_MSG_TIMEOUT. */
typedef struct fx_timeout_info {
    fx_pid from;
    fx_ref ref;
} fx_timeout_info;

/* Frees a message the caller owns (one it built, or one a handler kept
 * with fx_msg_keep). NULL is ignored. Any thread. */
FX_API void fx_msg_free(fx_msg *msg);

/* Accessors; msg is borrowed. Any thread that holds the message. */
FX_API uint32_t fx_msg_type(const fx_msg *msg);
FX_API size_t fx_msg_size(const fx_msg *msg);
FX_API const void *fx_msg_data(const fx_msg *msg);
FX_API void *fx_msg_data_mut(fx_msg *msg);
/* The sending process, or FX_PID_NONE when sent from outside the VM. */
FX_API fx_pid fx_msg_from(const fx_msg *msg);
/* The message's ref (FX_REF_NONE unless set with fx_msg_set_ref or by the
 * runtime, e.g. on FX_MSG_TIMEOUT). */
FX_API fx_ref fx_msg_ref(const fx_msg *msg);
FX_API void fx_msg_set_ref(fx_msg *msg, fx_ref ref);

#ifdef __cplusplus
}
#endif
#endif
