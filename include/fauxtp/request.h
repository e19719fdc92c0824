/* fauxtp: requests, calls whose answer comes back later as a message
 * (Erlang/OTP's gen_server:send_request / check_response and OTP 25's
 * request-id collections).
 *
 * An actor sends a GenServer call with fx_send_request and goes on
 * handling other messages; the reply, the server's death or the timeout
 * arrives later as a message, which fx_check_response recognises and
 * decodes. Any number of requests may be in flight at once, each with its
 * own ref and timeout; a collection (fx_reqids) tracks them. A GenServer
 * does not need any of this: fx_gs_call_then (gen_server.h) calls back
 * into the server with its state. See docs/genserver.md, "Calls from
 * callbacks". */
#ifndef FAUXTP_REQUEST_H
#define FAUXTP_REQUEST_H

#include "actor.h"
#include "reason.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The outcome of one request. */
typedef struct fx_response {
    /* 0: the server replied (data, size); FX_ETIMEDOUT; FX_ENOPROC (the
     * server was not alive); FX_EEXIT (it died first: reason); or the
     * error that kept the request from being sent (fx_gs_call_then). */
    int rc;
    const void *data; /* rc 0: the reply payload, borrowed from the message */
    size_t size;
    fx_reason reason; /* rc FX_EEXIT: the server's exit reason */
    fx_ref req;       /* the request's ref (fx_send_request's *req) */
    void *tag;        /* what the request was sent with (borrowed) */
} fx_response;

/* A collection of requests in flight, owned by one actor. */
typedef struct fx_reqids fx_reqids;

/* fx_check_response's answers. */
#define FX_NO_RESPONSE 0    /* not an answer to a request of the collection */
#define FX_RESPONSE 1       /* *res is filled; the request is finished */
#define FX_RESPONSE_STALE 2 /* a leftover of a finished request: ignore it */

/* An empty collection in *out; FX_EINVAL (NULL out), FX_ENOMEM. Any thread. */
FX_API int fx_reqids_create(fx_reqids **out);
/* Frees the collection and cancels its timeouts (vm may be NULL: the
 * timers of a process that exits are cancelled anyway). It does not
 * demonitor: call it from the owner's cleanup (fx_cleanup_fn), or after
 * fx_reqids_abandon. NULL ids is a no-op. Any thread, once the owner no
 * longer uses it. */
FX_API void fx_reqids_destroy(fx_vm *vm, fx_reqids *ids);
/* Requests in flight; 0 for NULL. The owner. */
FX_API size_t fx_reqids_size(const fx_reqids *ids);

/* Sends server a GenServer call (type, data, size: copied) and returns at
 * once; the answer reaches the calling actor as a message for
 * fx_check_response. timeout_ms: FX_INFINITY or >= 0 (beyond
 * FX_TIMEOUT_MAX counts as FX_TIMEOUT_MAX). *req (may be NULL): the
 * request's ref. The server is monitored meanwhile, so a dead server's
 * answer is FX_ENOPROC and a dying one's FX_EEXIT, never a wait for the
 * timeout; after a timeout a late reply is dropped by the runtime. tag is
 * handed back in the response. Errors (nothing sent, nothing pending):
 * FX_EINVAL (NULL cx or ids, no server or the actor itself, data NULL
 * with size > 0, timeout_ms < 0 other than FX_INFINITY), FX_EMSGSIZE
 * (over max_msg_size), FX_ENOMEM. Inside a handler only, by ids' owner. */
FX_API int fx_send_request(fx_ctx *cx, fx_reqids *ids, fx_pid server, uint32_t type,
                           const void *data, size_t size, int64_t timeout_ms, void *tag,
                           fx_ref *req);

/* Looks at a message the actor received: FX_RESPONSE when it answers a
 * request of ids (that request leaves ids; *res is filled, its data valid
 * while msg is), FX_RESPONSE_STALE for a timeout that fired as its
 * request was being answered (ignore it), FX_NO_RESPONSE for anything
 * else (handle it as usual). FX_EINVAL: NULL cx, ids, msg or res. Inside a
 * handler only, by ids' owner. */
FX_API int fx_check_response(fx_ctx *cx, fx_reqids *ids, fx_msg *msg, fx_response *res);

/* Gives up request req (FX_REF_NONE: every request of ids): it leaves ids,
 * its monitor and timeout go, and a late answer is dropped (a timeout
 * already queued comes as FX_RESPONSE_STALE). 0, or FX_ENOENT (req is not
 * in ids), FX_EINVAL (NULL cx or ids). Inside a handler only, by ids'
 * owner. */
FX_API int fx_reqids_abandon(fx_ctx *cx, fx_reqids *ids, fx_ref req);

#ifdef __cplusplus
}
#endif
#endif
