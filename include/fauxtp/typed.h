/* fauxtp: typed messages: sending a struct by value and reading it back
 * with its size checked (docs/messages.md).
 *
 * The convention: one message type (tag) per payload type, and the
 * payload is the struct's bytes. The sender copies the value; the
 * receiver checks the size before it reads, and a mismatch is a clear
 * crash of the receiving process, not undefined behaviour:
 *
 *     typedef struct point { int32_t x, y; } point;
 *     enum { MOVE = 1 };
 *     point p = {1, 2};
 *     FX_SEND_T(cx, to, MOVE, p);            // sender: sizeof p bytes
 *
 *     point q;                               // receiver, in a handler
 *     FX_MSG_GET(cx, msg, point, &q);        // crashes on a size mismatch
 *     const point *v = FX_MSG_AS(cx, msg, point); // or read in place
 *
 * The same for GenServers and inboxes (the last part of this header):
 *
 *     const point *r = FX_DATA_AS(cx, data, size, point); // a callback's request
 *     return FX_GS_REPLY_T(cx, moved);                    // handle_call's reply
 *     FX_GS_CALL_T(inbox, server, MOVE, p, &moved, 1000); // call, read the reply
 *     FX_INBOX_RECV_T(inbox, &(fx_match){.type = MOVED}, 1000, &moved);
 *
 * Payloads start on a 16-byte boundary, so FX_MSG_AS works for any type
 * aligned to at most 16; for a stricter type it crashes the receiver
 * when the payload's address is not a multiple of the type's alignment.
 * Outside handlers (an inbox on the test's thread) fx_msg_read answers
 * FX_EMSGSIZE instead of crashing. */
#ifndef FAUXTP_TYPED_H
#define FAUXTP_TYPED_H

#include "actor.h"
#include "gen_server.h"
#include "inbox.h"
#include "msg.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Copies msg's payload to out when it is exactly size bytes: 0. Else
 * FX_EMSGSIZE and out is untouched. FX_EINVAL for a NULL msg, or a NULL
 * out with size > 0. Any thread. */
FX_API int fx_msg_read(const fx_msg *msg, void *out, size_t size);

/* In a handler: as fx_msg_read, but when msg's payload is not exactly
 * size bytes (or msg or out is NULL) the calling process crashes
 * (fx_crash) with reason {error, FX_ECRASHED, "message of type T: N
 * bytes, `what` needs M"} and the call does not return. what (may be
 * NULL) names the expected type, for the report. cx NULL means the
 * process whose handler runs on this thread; with cx NULL outside any
 * handler nothing can crash, and the result is fx_msg_read's. Returns
 * 0 (or, outside handlers, fx_msg_read's error). */
FX_API int fx_msg_read_or_crash(fx_ctx *cx, const fx_msg *msg, void *out, size_t size,
                                const char *what);
/* In a handler: the payload of msg, borrowed for the handler call, after
 * checking it is exactly size bytes and aligned to align (a power of two;
 * other values are not checked); else the calling process crashes as
 * above. With cx NULL outside any handler: NULL instead. */
FX_API const void *fx_msg_view_or_crash(fx_ctx *cx, const fx_msg *msg, size_t size,
                                        size_t align, const char *what);

#ifdef __cplusplus
#define FX_ALIGNOF_(T) alignof(T)
#else
#define FX_ALIGNOF_(T) _Alignof(T)
#endif

/* Sending a value by copy: `value` must be an lvalue or a compound
 * literal (its address is taken); sizeof(value) bytes go. Results as
 * fx_send, fx_vm_send and fx_inbox_send. */
#define FX_SEND_T(cx, to, tag, value) fx_send((cx), (to), (tag), &(value), sizeof(value))
#define FX_VM_SEND_T(vm, to, tag, value)                                                 \
    fx_vm_send((vm), (to), (tag), &(value), sizeof(value))
#define FX_INBOX_SEND_T(ib, to, tag, value)                                              \
    fx_inbox_send((ib), (to), (tag), &(value), sizeof(value))
/* Reading (in a handler): *out (a T *; another pointer type is a
 * compile-time diagnostic) gets the payload, which must be sizeof(T)
 * bytes. */
#define FX_MSG_GET(cx, msg, T, out)                                                      \
    fx_msg_read_or_crash((cx), (msg), (1 ? (out) : (T *) 0), sizeof(T), #T)
/* Reading in place (in a handler): a const T * into the payload. */
#define FX_MSG_AS(cx, msg, T)                                                            \
    ((const T *) fx_msg_view_or_crash((cx), (msg), sizeof(T), FX_ALIGNOF_(T), #T))
/* Reading outside handlers: 0 or FX_EMSGSIZE (fx_msg_read). */
#define FX_MSG_READ(msg, out) fx_msg_read((msg), (out), sizeof(*(out)))

/* --- Typed GenServer requests and replies, typed inbox receives --------- */

/* In a handler: data (size bytes, borrowed: a GenServer callback's
 * request, or a response's reply, fx_response.data) after checking that
 * it is exactly want bytes and aligned to align (a power of two; other
 * values are not checked; a GenServer's request and a reply are 16-byte
 * aligned, as every payload); else the calling process crashes with
 * reason {error, FX_ECRASHED, "payload of N bytes, `what` needs M"} (or
 * "... not aligned to A for `what`") and the call does not return. what
 * (may be NULL) names the expected type. data NULL is accepted only with
 * want 0. cx NULL means the process whose handler runs on this thread;
 * with cx NULL outside any handler nothing can crash and the answer is
 * NULL instead. */
FX_API const void *fx_data_view_or_crash(fx_ctx *cx, const void *data, size_t size,
                                         size_t want, size_t align, const char *what);
/* A const T * into a callback's request (data, size): the whole check
 * above, in one expression. */
#define FX_DATA_AS(cx, data, size, T)                                                    \
    ((const T *) fx_data_view_or_crash((cx), (data), (size), sizeof(T), FX_ALIGNOF_(T),  \
                                       #T))

/* Receives as fx_inbox_recv, then copies the message's payload to out
 * when it is exactly size bytes, and frees the message: 0. FX_EMSGSIZE
 * when the payload has another size (the message was taken off the
 * inbox and is freed; out is untouched). FX_EINVAL for a NULL out with
 * size > 0 (nothing received); other errors as fx_inbox_recv. The
 * inbox's owner thread. */
FX_API int fx_inbox_recv_read(fx_inbox *inbox, const fx_match *match, int64_t timeout_ms,
                              void *out, size_t size);
/* *out (any object pointer) gets the payload of the first message matching
 * match, which must be sizeof *out bytes. A compound-literal match with
 * several fields goes in parentheses: &((fx_match){.type = 1, .from = p}). */
#define FX_INBOX_RECV_T(ib, match, timeout_ms, out)                                      \
    fx_inbox_recv_read((ib), (match), (timeout_ms), (out), sizeof(*(out)))

/* fx_gs_call (fx_gs_call_named), then copies the reply to out when it is
 * exactly out_size bytes, and frees it: 0. FX_EMSGSIZE when the reply
 * has another size (out untouched). FX_EINVAL for a NULL out with
 * out_size > 0 (nothing sent); other errors, *why and threads as
 * fx_gs_call (fx_gs_call_named: FX_ENOENT when nothing has the name). */
FX_API int fx_gs_call_read(fx_inbox *inbox, fx_pid server, uint32_t type,
                           const void *data, size_t size, int64_t timeout_ms, void *out,
                           size_t out_size, fx_reason *why);
FX_API int fx_gs_call_named_read(fx_inbox *inbox, const char *name, uint32_t type,
                                 const void *data, size_t size, int64_t timeout_ms,
                                 void *out, size_t out_size, fx_reason *why);
/* A call whose request is the value `request` (an lvalue or a compound
 * literal: sizeof(request) bytes go) and whose reply is read into *out
 * (sizeof *out bytes expected). Results as fx_gs_call_read. */
#define FX_GS_CALL_T(ib, server, tag, request, out, timeout_ms)                          \
    fx_gs_call_read((ib), (server), (tag), &(request), sizeof(request), (timeout_ms),    \
                    (out), sizeof(*(out)), NULL)
#define FX_GS_CALL_NAMED_T(ib, name, tag, request, out, timeout_ms)                      \
    fx_gs_call_named_read((ib), (name), (tag), &(request), sizeof(request),              \
                          (timeout_ms), (out), sizeof(*(out)), NULL)
/* In the `then` of fx_gs_call_async (or fx_gs_call_named_async): as
 * fx_gs_call_result (which ends the call), then copies the reply to out,
 * which must be exactly size bytes: else the calling process crashes as
 * with FX_DATA_AS. 0, or the call's error (FX_ETIMEDOUT, FX_ENOPROC,
 * FX_EEXIT with *why, a sending error, FX_EINVAL for a message that is
 * not a call outcome), out untouched. FX_EINVAL too for a NULL out with
 * size > 0 (the call is still ended). Inside a handler only. */
FX_API int fx_gs_call_result_read(fx_ctx *cx, fx_msg *msg, void *out, size_t size,
                                  fx_reason *why);
#define FX_GS_CALL_RESULT_T(cx, msg, out)                                                \
    fx_gs_call_result_read((cx), (msg), (out), sizeof(*(out)), NULL)
/* handle_call's answer with the value `value` as the reply (fx_gs_reply
 * of sizeof(value) bytes), and a cast of a value (fx_gs_cast). */
#define FX_GS_REPLY_T(cx, value) fx_gs_reply((cx), &(value), sizeof(value))
#define FX_GS_CAST_T(cx, server, tag, value)                                             \
    fx_gs_cast((cx), (server), (tag), &(value), sizeof(value))

#ifdef __cplusplus
}
#endif
#endif
