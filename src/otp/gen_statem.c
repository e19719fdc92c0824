/* gen_statem: the machine as a GenServer. These GenServer callbacks turn
 * calls, casts, messages, timer messages and call responses into events
 * (gen_statem_loop.c handles them); starting and supervision are the
 * GenServer's. */
#include <stdlib.h>
#include <string.h>

#include <fauxtp/supervisor.h>

#include "otp/sm_impl.h"

static fx_gs_ret gs_init(fx_ctx *cx, void *arg, void **state)
{
    const fx_sm_spec *spec = arg;
    fx_sm *sm = calloc(1, sizeof *sm);
    if (!sm)
        return fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "gen_statem: out of memory"));
    *state = sm;
    sm->ops = spec->ops;
    sm->cx = cx;
    sm->vm = fx_ctx_vm(cx);
    sm->init_called = true;
    fxi_sm_begin(sm, FXI_SM_CB_INIT);
    fx_sm_ret r = sm->ops->init(sm, spec->arg, &sm->data);
    sm->cb = FXI_SM_CB_NONE;
    if (sm->bad)
        return fx_gs_stop(cx, fx_reason_error(sm->bad, "%s", sm->bad_what));
    switch (r.op) {
    case FXI_SM_NEXT:
        if (!sm->ops->handle_event && !r.state.fn)
            return fx_gs_stop(
                cx, fx_reason_error(FX_EACTION, "init: a state without a function"));
        sm->state = r.state;
        /* The enter call and the inserted events run after the starter
         * got its answer (OTP: after init_ack), before any message. */
        return fx_gs_with_continue(fx_gs_ok(cx), 0);
    case FXI_SM_IGNORE:
        return fx_gs_ignore(cx);
    case FXI_SM_STOP:
        return fx_gs_stop(cx, r.reason);
    default:
        return fx_gs_stop(cx, fx_reason_error(FX_EACTION, "bad answer from init"));
    }
}

static fx_gs_ret gs_continue(fx_ctx *cx, void *state, uint64_t cont)
{
    (void) cont;
    fx_sm *sm = state;
    sm->cx = cx;
    return fxi_sm_after_init(sm);
}

static fx_gs_ret gs_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                         const void *data, size_t size)
{
    fx_sm *sm = state;
    sm->cx = cx;
    fx_sm_event v = {.kind = FX_SM_CALL,
                     .type = type,
                     .data = size ? data : NULL,
                     .size = size,
                     .from = from};
    return fxi_sm_handle(sm, &v, NULL);
}

static fx_gs_ret gs_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                         size_t size)
{
    fx_sm *sm = state;
    sm->cx = cx;
    fx_sm_event v = {
        .kind = FX_SM_CAST, .type = type, .data = size ? data : NULL, .size = size};
    return fxi_sm_handle(sm, &v, NULL);
}

static fx_gs_ret gs_info(fx_ctx *cx, void *state, fx_msg *msg)
{
    fx_sm *sm = state;
    sm->cx = cx;
    size_t size = fx_msg_size(msg);
    fx_sm_event v = {0};
    if (fx_msg_type(msg) == FXI_SM_TMO && size >= sizeof(fxi_sm_tmo_hdr) &&
        fx_pid_eq(fx_msg_from(msg), fx_self(cx))) {
        fxi_sm_tmo_hdr h;
        memcpy(&h, fx_msg_data(msg), sizeof h);
        if (!fxi_sm_fire(sm, h.kind, h.name, h.seq))
            return fx_gs_noreply(cx); /* cancelled or restarted: not an event */
        v.kind = h.kind;
        v.type = h.type;
        v.name = h.name;
        v.size = size - sizeof h;
        v.data = v.size ? (const unsigned char *) fx_msg_data(msg) + sizeof h : NULL;
        return fxi_sm_handle(sm, &v, NULL);
    }
    v.kind = FX_SM_INFO;
    v.type = fx_msg_type(msg);
    v.data = size ? fx_msg_data(msg) : NULL;
    v.size = size;
    v.msg = msg;
    return fxi_sm_handle(sm, &v, NULL);
}

static void gs_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    fx_sm *sm = state;
    if (!sm)
        return;
    sm->cb = FXI_SM_CB_NONE;
    if (sm->init_called && sm->ops->terminate)
        sm->ops->terminate(vm, sm->state, sm->data, reason);
    fxi_sm_q_free(&sm->queue);
    fxi_sm_q_free(&sm->postponed);
    fxi_sm_q_free(&sm->next);
    fxi_sm_q_free(&sm->zero);
    fxi_sm_ev_free(sm->et_ev);
    fxi_sm_slots_free(sm); /* pending timers die with the process */
    free(sm);
}

const fx_gs_ops fxi_sm_gs_ops = {
    .init = gs_init,
    .handle_call = gs_call,
    .handle_cast = gs_cast,
    .handle_info = gs_info,
    .handle_continue = gs_continue,
    .terminate = gs_terminate,
};

/* A response to fx_sm_call_then, as an event. */
fx_gs_ret fxi_sm_response(fx_ctx *cx, void *state, const fx_response *res)
{
    fx_sm *sm = state;
    sm->cx = cx;
    fx_sm_event v = {.kind = FX_SM_RESPONSE,
                     .data = res->size ? res->data : NULL,
                     .size = res->size,
                     .res = res};
    return fxi_sm_handle(sm, &v, NULL);
}

/* ---- starting ------------------------------------------------------------ */

static bool spec_ok(const fx_sm_spec *spec)
{
    return spec && spec->ops && spec->ops->init;
}

static fx_gs_spec gs_spec(const fx_sm_spec *spec)
{
    fx_gs_spec g = {
        .ops = &fxi_sm_gs_ops,
        .arg = (void *) (uintptr_t) spec, /* read-only in gs_init */
        .link = spec->link,
        .timeout_ms = spec->timeout_ms,
        .label = spec->label ? spec->label : "gen_statem",
        .name = spec->name,
        .mailbox = spec->mailbox,
    };
    return g;
}

FX_API int fx_sm_start(fx_inbox *inbox, const fx_sm_spec *spec, fx_pid *out,
                       fx_reason *why)
{
    if (!spec_ok(spec))
        return FX_EINVAL;
    fx_gs_spec g = gs_spec(spec);
    return fx_gs_start(inbox, &g, out, why);
}

FX_API fx_next fx_sm_start_async(fx_ctx *cx, const fx_sm_spec *spec, fx_handler then)
{
    static const fx_gs_spec bad = {0}; /* fx_gs_start_async answers FX_EINVAL */
    if (!spec_ok(spec))
        return fx_gs_start_async(cx, &bad, then);
    fx_gs_spec g = gs_spec(spec);
    return fx_gs_start_async(cx, &g, then);
}

FX_API fx_next fx_child_gen_statem(fx_ctx *cx, void *arg, const void *extra,
                                   size_t extra_size, fx_handler then)
{
    (void) extra;
    (void) extra_size;
    static const fx_gs_spec bad = {0};
    const fx_sm_spec *spec = arg;
    if (!spec_ok(spec))
        return fx_gs_start_async(cx, &bad, then);
    fx_gs_spec g = gs_spec(spec);
    g.link = true;
    return fx_gs_start_async(cx, &g, then);
}
