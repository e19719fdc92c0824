/* gen_statem: what a callback answers (transitions) and the actions it
 * takes on the way (reply, postpone, next_event, timeouts, calls). */
#include <string.h>

#include "otp/sm_impl.h"

static fx_sm_ret ret(fx_sm *sm, int op)
{
    fx_sm_ret r;
    memset(&r, 0, sizeof r);
    r.op = sm ? op : 0; /* NULL sm: the invalid answer */
    return r;
}

FX_API fx_sm_ret fx_sm_next_state(fx_sm *sm, fx_sm_state s)
{
    fx_sm_ret r = ret(sm, FXI_SM_NEXT);
    r.state = s;
    return r;
}

FX_API fx_sm_ret fx_sm_keep_state(fx_sm *sm)
{
    return ret(sm, FXI_SM_KEEP);
}

FX_API fx_sm_ret fx_sm_repeat_state(fx_sm *sm)
{
    return ret(sm, FXI_SM_REPEAT);
}

FX_API fx_sm_ret fx_sm_stop(fx_sm *sm, fx_reason reason)
{
    fx_sm_ret r = ret(sm, FXI_SM_STOP);
    r.reason = reason;
    return r;
}

FX_API fx_sm_ret fx_sm_stop_reply(fx_sm *sm, fx_reason reason, fx_from to,
                                  const void *data, size_t size)
{
    fx_sm_ret r = fx_sm_stop(sm, reason);
    if (!sm)
        return r;
    int rc = fx_sm_reply(sm, to, data, size);
    if (rc != 0 && rc != FX_ENOPROC) /* a caller that has gone is no error */
        r.reason = fx_reason_error(rc, "stop_reply: %s", fx_strerror(rc));
    return r;
}

FX_API fx_sm_ret fx_sm_ignore(fx_sm *sm)
{
    return ret(sm, FXI_SM_IGNORE);
}

/* The action may be taken now: 0, or the error (recorded as the
 * callback's bug when sm is a running machine's). */
static int may(fx_sm *sm, bool ok_in_enter, bool ok_in_init, const char *what)
{
    if (!sm)
        return FX_EINVAL;
    if (sm->cb == FXI_SM_CB_NONE || (sm->cb == FXI_SM_CB_ENTER && !ok_in_enter) ||
        (sm->cb == FXI_SM_CB_INIT && !ok_in_init))
        return fxi_sm_refuse(sm, FX_EACTION, what);
    return 0;
}

static bool timeout_ok(int64_t ms)
{
    return ms == FX_INFINITY || ms >= 0;
}

static int64_t clamp(int64_t ms)
{
    return ms > FX_TIMEOUT_MAX ? FX_TIMEOUT_MAX : ms;
}

FX_API int fx_sm_reply(fx_sm *sm, fx_from to, const void *data, size_t size)
{
    int rc = may(sm, true, true, "fx_sm_reply outside a callback");
    if (rc != 0)
        return rc;
    /* A reply that cannot be sent stops the machine (as a GenServer's
     * does); a caller that has gone (FX_ENOPROC) or an empty `to` does not. */
    if (!data && size > 0)
        return fxi_sm_refuse(sm, FX_EINVAL, "fx_sm_reply: NULL data with size > 0");
    rc = fx_reply(sm->cx, to, data, size);
    if (rc == FX_EMSGSIZE || rc == FX_ENOMEM)
        return fxi_sm_refuse(sm, rc, "fx_sm_reply: the reply cannot be sent");
    return rc;
}

FX_API int fx_sm_postpone(fx_sm *sm)
{
    int rc = may(sm, false, false, "postpone in a state enter call or init");
    if (rc != 0)
        return rc;
    sm->postpone = true;
    return 0;
}

/* A new owned event, or the error recorded. A timeout's data travels in
 * a message after its header (gen_statem_timeout.c): the header's bytes
 * count against the limit, so an action that could never be sent is
 * refused now, not when its timer is started (which stopped the machine
 * later). */
static int make(fx_sm *sm, int32_t kind, uint32_t type, const void *data, size_t size,
                fxi_sm_ev **out)
{
    _Static_assert(sizeof(fxi_sm_tmo_hdr) <= FX_SM_TIMEOUT_OVERHEAD,
                   "FX_SM_TIMEOUT_OVERHEAD covers the timeout header");
    size_t max = fx_vm_max_msg_size(sm->vm);
    if (kind != FX_SM_INTERNAL)
        max = max > FX_SM_TIMEOUT_OVERHEAD ? max - FX_SM_TIMEOUT_OVERHEAD : 0;
    if (!data && size > 0)
        return fxi_sm_refuse(sm, FX_EINVAL, "action data NULL with size > 0");
    if (size > max)
        return fxi_sm_refuse(sm, FX_EMSGSIZE, "action data too large");
    if (!(*out = fxi_sm_ev_new(kind, type, data, size)))
        return fxi_sm_refuse(sm, FX_ENOMEM, "action: out of memory");
    return 0;
}

FX_API int fx_sm_next_event(fx_sm *sm, uint32_t type, const void *data, size_t size)
{
    int rc = may(sm, false, true, "next_event in a state enter call");
    fxi_sm_ev *e;
    if (rc != 0 || (rc = make(sm, FX_SM_INTERNAL, type, data, size, &e)) != 0)
        return rc;
    fxi_sm_q_push(&sm->next, e);
    return 0;
}

FX_API int fx_sm_event_timeout(fx_sm *sm, int64_t ms, uint32_t type, const void *data,
                               size_t size)
{
    int rc = may(sm, true, true, "fx_sm_event_timeout outside a callback");
    fxi_sm_ev *e = NULL;
    if (rc != 0)
        return rc;
    if (!timeout_ok(ms))
        return fxi_sm_refuse(sm, FX_EINVAL, "negative event timeout");
    if (ms != FX_INFINITY && (rc = make(sm, FX_SM_TIMEOUT, type, data, size, &e)) != 0)
        return rc;
    fxi_sm_ev_free(sm->et_ev); /* the last one asked for counts */
    sm->et_ev = e;
    sm->et_ms = clamp(ms);
    sm->et_set = true;
    return 0;
}

/* Arms a state or generic timeout now (a later state change of this
 * transition does not cancel a state timeout set here: st_set). */
static int arm(fx_sm *sm, int32_t kind, uint64_t name, int64_t ms, uint32_t type,
               const void *data, size_t size)
{
    int rc = may(sm, true, true, "timeout action outside a callback");
    fxi_sm_ev *e = NULL;
    if (rc != 0)
        return rc;
    if (!timeout_ok(ms))
        return fxi_sm_refuse(sm, FX_EINVAL, "negative timeout");
    if (ms != FX_INFINITY && (rc = make(sm, kind, type, data, size, &e)) != 0)
        return rc;
    fxi_sm_slot *s = fxi_sm_slot_of(sm, kind, name, true);
    if (!s) {
        fxi_sm_ev_free(e);
        return fxi_sm_refuse(sm, FX_ENOMEM, "timeout: out of memory");
    }
    if (e)
        e->name = name;
    if (kind == FX_SM_STATE_TIMEOUT)
        sm->st_set = true;
    if ((rc = fxi_sm_arm(sm, s, clamp(ms), e)) != 0)
        return fxi_sm_refuse(sm, rc, "timeout: cannot start the timer");
    return 0;
}

FX_API int fx_sm_state_timeout(fx_sm *sm, int64_t ms, uint32_t type, const void *data,
                               size_t size)
{
    return arm(sm, FX_SM_STATE_TIMEOUT, 0, ms, type, data, size);
}

FX_API int fx_sm_timeout(fx_sm *sm, uint64_t name, int64_t ms, uint32_t type,
                         const void *data, size_t size)
{
    return arm(sm, FX_SM_GENERIC_TIMEOUT, name, ms, type, data, size);
}

FX_API int fx_sm_update_timeout(fx_sm *sm, uint64_t name, uint32_t type, const void *data,
                                size_t size)
{
    int rc = may(sm, true, true, "timeout action outside a callback");
    if (rc != 0)
        return rc;
    fxi_sm_slot *s = fxi_sm_slot_of(sm, FX_SM_GENERIC_TIMEOUT, name, false);
    if (!s || !s->armed) /* OTP: as if started with time 0 (checked on OTP 25) */
        return arm(sm, FX_SM_GENERIC_TIMEOUT, name, 0, type, data, size);
    /* A timer's message cannot be edited: restart it for the time left. */
    int64_t left = 0;
    if (s->has_timer) {
        left = fx_read_timer(sm->vm, s->timer);
        if (left < 0)
            left = 0; /* firing right now: its message is stale from here on */
    }
    return arm(sm, FX_SM_GENERIC_TIMEOUT, name, left, type, data, size);
}

FX_API int fx_sm_call_then(fx_sm *sm, fx_pid server, uint32_t type, const void *data,
                           size_t size, int64_t timeout_ms, void *tag)
{
    int rc = may(sm, true, true, "fx_sm_call_then outside a callback");
    if (rc != 0)
        return rc;
    (void) fx_gs_call_then(sm->cx, server, type, data, size, timeout_ms, fxi_sm_response,
                           tag);
    return 0;
}

FX_API fx_ctx *fx_sm_ctx(fx_sm *sm)
{
    return sm ? sm->cx : NULL;
}

FX_API int fx_sm_set_data(fx_sm *sm, void *data)
{
    int rc = may(sm, true, true, "fx_sm_set_data outside a callback");
    if (rc != 0)
        return rc;
    sm->data = data;
    return 0;
}
