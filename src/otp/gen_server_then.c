/* GenServer: calls from callbacks (fx_gs_call_then). The server keeps a
 * request collection (request.c) whose entries carry the continuation
 * and the call the server was handling; the loop hands every message that
 * may answer one to fxi_gs_then_dispatch first. */
#include "otp/request_impl.h"

FX_API fx_gs_ret fx_gs_call_then(fx_ctx *cx, fx_pid server, uint32_t type,
                                 const void *data, size_t size, int64_t timeout_ms,
                                 fx_gs_then then, void *tag)
{
    fxi_gs *g = cx ? fx_state(cx) : NULL;
    if (!g)
        return fx_gs_noreply(cx);
    if (!g->reqs && fx_reqids_create(&g->reqs) != 0)
        fx_crash(cx, "out of memory in fx_gs_call_then");
    fxi_req proto = {.tag = tag, .then = then, .from = g->call};
    int rc = then ? fxi_req_send(cx, g->reqs, server, type, data, size, timeout_ms,
                                 &proto, NULL)
                  : FX_EINVAL;
    if (rc != 0) {
        if (!then) /* nobody to tell */
            return fx_gs_noreply(cx);
        if (fxi_req_fail(cx, g->reqs, rc, &proto) != 0)
            fx_crash(cx, "out of memory in fx_gs_call_then");
    }
    return fx_gs_noreply(cx);
}

int fxi_gs_then_dispatch(fx_ctx *cx, fxi_gs *g, fx_msg *m, fx_gs_ret *r)
{
    fx_response res;
    fxi_req done;
    int k = fxi_req_check(cx, g->reqs, m, &res, &done);
    if (k != FX_RESPONSE)
        return k == FX_RESPONSE_STALE ? k : FX_NO_RESPONSE;
    /* fx_gs_reply in the continuation answers the call being handled
     * when the request was made. */
    fx_from saved = g->call;
    g->call = done.from;
    *r = done.then(cx, g->state, &res);
    g->call = saved;
    return FX_RESPONSE;
}
