/* Requests (include/fauxtp/request.h): the collection's internals, shared
 * with the GenServer's calls from callbacks (gen_server_then.c). Written
 * against the public API only.
 *
 * A request is a GenServer CALL whose ref is a monitor's ref (as for
 * fx_gs_call_async), plus, with a timeout, a timer that sends the owner
 * REQ_TIMEOUT with the same ref. Its answer is whichever comes first: the
 * REPLY (the runtime delivers it only while the monitor exists), the
 * monitor's DOWN, or REQ_TIMEOUT. Finishing a request removes the
 * others: a reply or a timeout demonitors (with flush), a reply or a DOWN
 * cancels the timer; a timer that had already fired leaves its
 * REQ_TIMEOUT queued, which no longer finds its request (stale). A request
 * that could not be sent (gen_server_then.c) gets REQ_FAIL with its error
 * instead. */
#ifndef FXI_OTP_REQUEST_IMPL_H
#define FXI_OTP_REQUEST_IMPL_H

#include <fauxtp/request.h>
#include <fauxtp/timer.h>

#include "otp/gs_impl.h"

#define FXI_REQ_TIMEOUT FXI_GS_TYPE(10) /* timer -> owner; ref = the request's */
#define FXI_REQ_FAIL FXI_GS_TYPE(11)    /* owner -> owner; int32 error; ref */

/* One request in flight. then: the GenServer's continuation, or NULL. */
typedef struct fxi_req {
    uint64_t ref; /* 0 = free slot */
    fx_timer timer;
    bool timed;
    void *tag;
    fx_gs_then then;
    fx_from from; /* the call being handled when it was made (GenServer) */
} fxi_req;

/* Sends the request and records it (fx_send_request's contract). */
int fxi_req_send(fx_ctx *cx, fx_reqids *ids, fx_pid server, uint32_t type,
                 const void *data, size_t size, int64_t timeout_ms, const fxi_req *proto,
                 fx_ref *req);
/* Records a request that failed before it was sent and queues its
 * REQ_FAIL; FX_ENOMEM when even that is impossible. */
int fxi_req_fail(fx_ctx *cx, fx_reqids *ids, int rc, const fxi_req *proto);
/* fx_check_response, also handing back the finished request's record. */
int fxi_req_check(fx_ctx *cx, fx_reqids *ids, fx_msg *msg, fx_response *res,
                  fxi_req *done);

#endif
