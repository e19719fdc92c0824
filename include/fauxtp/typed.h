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
 * Payloads start on a 16-byte boundary, so FX_MSG_AS works for any type
 * aligned to at most 16 (it crashes the receiver for a stricter one).
 * Outside handlers (an inbox on the test's thread) fx_msg_read answers
 * FX_EMSGSIZE instead of crashing. */
#ifndef FAUXTP_TYPED_H
#define FAUXTP_TYPED_H

#include "actor.h"
#include "inbox.h"
#include "msg.h"

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

#ifdef __cplusplus
}
#endif
#endif
