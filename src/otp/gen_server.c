/* GenServer: building a callback's answer (fx_gs_ok, fx_gs_reply...).
 * The server loop is in gen_server_loop.c, starting in
 * gen_server_start.c, calls and casts in gen_server_call.c, stop and
 * get/replace_state in gen_server_sys.c. */
#include <string.h>

#include "otp/gs_impl.h"

static fx_gs_ret ret(int op)
{
    fx_gs_ret r;
    r.op = op;
    r.flags = 0;
    r.timeout_ms = 0;
    r.cont = 0;
    r.reason.kind = FX_REASON_NORMAL; /* code and text only matter for stops */
    return r;
}

FX_API fx_gs_ret fx_gs_ok(fx_ctx *cx)
{
    (void) cx;
    return ret(FXI_GS_OK);
}

FX_API fx_gs_ret fx_gs_init_arg(fx_ctx *cx, void *arg, void **state)
{
    if (state)
        *state = arg;
    return fx_gs_ok(cx);
}

FX_API fx_gs_ret fx_gs_ignore(fx_ctx *cx)
{
    (void) cx;
    return ret(FXI_GS_IGNORE);
}

FX_API fx_gs_ret fx_gs_noreply(fx_ctx *cx)
{
    (void) cx;
    return ret(FXI_GS_NOREPLY);
}

FX_API fx_gs_ret fx_gs_reply(fx_ctx *cx, const void *data, size_t size)
{
    fxi_gs *g = fx_state(cx);
    if (g && g->call.ref.id) {
        /* Sent at once: the data is copied now, the callback may free it. */
        int rc = fx_reply(cx, g->call, data, size);
        g->call.ref = FX_REF_NONE; /* one reply per call */
        if (rc == FX_ENOPROC)
            rc = 0; /* the caller died: OTP drops the reply too */
        if (rc != 0)
            fx_crash(cx, "fx_gs_reply: %s", fx_strerror(rc));
    }
    return ret(FXI_GS_REPLY);
}

FX_API fx_gs_ret fx_gs_stop(fx_ctx *cx, fx_reason reason)
{
    (void) cx;
    fx_gs_ret r = ret(FXI_GS_STOP);
    r.reason = reason;
    return r;
}

FX_API fx_gs_ret fx_gs_stop_reply(fx_ctx *cx, fx_reason reason, const void *data,
                                  size_t size)
{
    fxi_gs *g = fx_state(cx);
    if (g && g->call.ref.id && !g->stop_reply) {
        /* Kept until terminate has run (OTP order: terminate, then the
         * reply, then the exit). Bad data is the server's bug, treated
         * as fx_gs_reply treats it. */
        if (size && !data)
            fx_crash(cx, "fx_gs_stop_reply: %s", fx_strerror(FX_EINVAL));
        fx_msg *m;
        int rc = fx_msg_new_behaviour(FXI_GS_PENDING, size, &m);
        if (rc != 0)
            fx_crash(cx, "fx_gs_stop_reply: %s", fx_strerror(rc));
        if (size)
            memcpy(fx_msg_data_mut(m), data, size);
        g->stop_reply = m;
        g->stop_to = g->call;
        g->call.ref = FX_REF_NONE;
    }
    fx_gs_ret r = fx_gs_stop(cx, reason);
    r.flags |= FXI_GS_F_REPLY; /* for the loop: not from handle_call? */
    return r;
}

FX_API fx_gs_ret fx_gs_with_timeout(fx_gs_ret r, int64_t ms)
{
    if (ms >= 0) {
        r.flags |= FXI_GS_F_TIMEOUT;
        r.timeout_ms = ms;
    } else {
        r.flags &= ~FXI_GS_F_TIMEOUT; /* FX_INFINITY: no timeout */
        if (ms != FX_INFINITY && r.op != FXI_GS_STOP)
            r.op = FXI_GS_BAD_TIMEOUT; /* OTP: bad_return_value */
    }
    return r;
}

FX_API fx_gs_ret fx_gs_with_continue(fx_gs_ret r, uint64_t cont)
{
    r.flags |= FXI_GS_F_CONTINUE;
    r.cont = cont;
    return r;
}
