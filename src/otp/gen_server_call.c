/* GenServer: the client side of calls and casts, and helpers shared with
 * starting and system requests.
 *
 * A call monitors the server and uses the monitor's ref as the call's
 * ref. The reply is an FX_MSG_REPLY on that ref, which the runtime
 * delivers only while the monitor exists: after a timeout the caller
 * demonitors and a late reply is dropped. A call to a dead server fails
 * at once with FX_ENOPROC (the request cannot be sent, or the monitor's
 * DOWN says noproc) and one to a server dying mid-call fails with its
 * reason (the DOWN). */
#include <string.h>

#include "otp/gs_impl.h"

static bool never(const fx_msg *m, void *arg)
{
    (void) m;
    (void) arg;
    return false;
}

int fxi_gs_check_thread(fx_inbox *inbox)
{
    /* fx_inbox_recv answers FX_EWOULDBLOCK on a scheduler thread before
     * touching the inbox; elsewhere this polls for nothing. */
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(inbox, &(fx_match){.pred = never}, 0, &m);
    return rc == FX_ETIMEDOUT ? 0 : rc;
}

int fxi_gs_down(const fx_msg *down, fx_reason *why)
{
    if (fx_msg_type(down) != FX_MSG_DOWN || fx_msg_size(down) != sizeof(fx_down_info))
        return FX_EINVAL;
    const fx_down_info *d = fx_msg_data(down);
    if (d->reason.kind == FX_REASON_NOPROC)
        return FX_ENOPROC;
    if (why)
        *why = d->reason;
    return FX_EEXIT;
}

fx_next fxi_gs_fail_async(fx_ctx *cx, int rc, fx_handler then)
{
    fx_msg *m;
    if (fx_msg_new_behaviour(FXI_GS_FAIL, sizeof(int32_t), &m) != 0)
        fx_crash(cx, "out of memory starting a call");
    int32_t v = rc;
    memcpy(fx_msg_data_mut(m), &v, sizeof v);
    fx_ref ref = fx_make_ref(cx);
    fx_msg_set_ref(m, ref);
    if (fx_send_msg(cx, fx_self(cx), m) != 0) {
        fx_msg_free(m);
        fx_crash(cx, "cannot report a failed call");
    }
    fx_match mt = {.from = fx_self(cx), .ref = ref};
    return fx_receive(cx, then, &mt, FX_INFINITY);
}

int fxi_gs_fail_rc(const fx_msg *m)
{
    int32_t rc;
    if (fx_msg_size(m) != sizeof rc)
        return FX_EINVAL;
    memcpy(&rc, fx_msg_data(m), sizeof rc);
    return rc;
}

int fxi_gs_envelope(uint32_t kind, uint32_t type, const void *data, size_t size,
                    fx_msg **out)
{
    if (size && !data)
        return FX_EINVAL;
    if (size > FX_MSG_SIZE_LIMIT - sizeof(fxi_gs_env))
        return FX_EMSGSIZE;
    int rc = fx_msg_new_behaviour(kind, sizeof(fxi_gs_env) + size, out);
    if (rc != 0)
        return rc;
    fxi_gs_env *e = fx_msg_data_mut(*out);
    e->type = type;
    e->op = 0;
    e->reserved = 0;
    if (size)
        memcpy(e + 1, data, size);
    return 0;
}

/* max_msg_size limits the application's payload, not the envelope around
 * it (FX_MSG_ENVELOPE_MAX in msg.h): the public calls and casts check it
 * here; the runtime's own calls (registry, supervisor requests) do not. */
static bool too_big(fx_vm *vm, size_t size)
{
    return vm && size > fx_vm_max_msg_size(vm);
}

/* ---- calls from a thread outside the VM ---------------------------------- */

FX_API int fx_gs_call(fx_inbox *inbox, fx_pid server, uint32_t type, const void *data,
                      size_t size, int64_t timeout_ms, fx_msg **reply, fx_reason *why)
{
    if (inbox && reply && too_big(fx_inbox_vm(inbox), size)) {
        *reply = NULL;
        return FX_EMSGSIZE;
    }
    return fxi_gs_call(inbox, server, type, data, size, timeout_ms, reply, why);
}

int fxi_gs_call(fx_inbox *inbox, fx_pid server, uint32_t type, const void *data,
                size_t size, int64_t timeout_ms, fx_msg **reply, fx_reason *why)
{
    if (!inbox || !reply || !server.id || fx_pid_eq(server, fx_inbox_pid(inbox)) ||
        (timeout_ms < 0 && timeout_ms != FX_INFINITY))
        return FX_EINVAL; /* calling oneself would wait forever */
    *reply = NULL;
    int rc = fxi_gs_check_thread(inbox);
    if (rc != 0)
        return rc;
    fx_msg *req;
    if ((rc = fxi_gs_envelope(FXI_GS_CALL, type, data, size, &req)) != 0)
        return rc;
    fx_ref ref;
    if ((rc = fx_inbox_monitor(inbox, server, &ref)) != 0) {
        fx_msg_free(req);
        return rc;
    }
    fx_msg_set_ref(req, ref);
    rc = fx_inbox_send_msg(inbox, server, req);
    if (rc != 0) { /* FX_ENOPROC: dead, fail fast with noproc as OTP does */
        fx_msg_free(req);
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        return rc;
    }
    fx_msg *m;
    rc = fx_inbox_recv(inbox, &(fx_match){.ref = ref}, timeout_ms, &m);
    if (rc != 0) {
        /* Timed out: after the demonitor no reply gets through. */
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        return rc;
    }
    if (fx_msg_type(m) == FX_MSG_REPLY) {
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        *reply = m;
        return 0;
    }
    rc = fxi_gs_down(m, why); /* the monitor fired: it is gone */
    fx_msg_free(m);
    return rc;
}

/* ---- calls from inside a handler ----------------------------------------- */

FX_API fx_next fx_gs_call_async(fx_ctx *cx, fx_pid server, uint32_t type,
                                const void *data, size_t size, int64_t timeout_ms,
                                fx_handler then)
{
    if (cx && then && too_big(fx_ctx_vm(cx), size))
        return fxi_gs_fail_async(cx, FX_EMSGSIZE, then);
    return fxi_gs_call_async(cx, server, type, data, size, timeout_ms, then);
}

fx_next fxi_gs_call_async(fx_ctx *cx, fx_pid server, uint32_t type, const void *data,
                          size_t size, int64_t timeout_ms, fx_handler then)
{
    if (!cx || !then)
        return fx_stop(NULL, fx_reason_normal()); /* the invalid fx_next */
    fx_msg *req;
    int rc = server.id && !fx_pid_eq(server, fx_self(cx))
                 ? fxi_gs_envelope(FXI_GS_CALL, type, data, size, &req)
                 : FX_EINVAL;
    if (rc != 0)
        return fxi_gs_fail_async(cx, rc, then);
    fx_ref ref;
    if ((rc = fx_monitor_call(cx, server, &ref)) != 0) {
        fx_msg_free(req);
        return fxi_gs_fail_async(cx, rc, then);
    }
    fx_msg_set_ref(req, ref);
    rc = fx_send_msg(cx, server, req);
    if (rc != 0) { /* FX_ENOPROC: dead, fail fast with noproc as OTP does */
        fx_msg_free(req);
        (void) fx_demonitor(cx, ref, FX_DEMONITOR_FLUSH);
        return fxi_gs_fail_async(cx, rc, then);
    }
    /* The reply may come from any process (deferred replies): match the
     * ref only. It also matches the monitor's DOWN. */
    return fx_receive(cx, then, &(fx_match){.ref = ref}, timeout_ms);
}

FX_API int fx_gs_call_result(fx_ctx *cx, fx_msg *msg, const void **data, size_t *size,
                             fx_reason *why)
{
    if (!cx || !msg)
        return FX_EINVAL;
    switch (fx_msg_type(msg)) {
    case FX_MSG_REPLY:
        (void) fx_demonitor(cx, fx_msg_ref(msg), FX_DEMONITOR_FLUSH);
        if (data)
            *data = fx_msg_data(msg);
        if (size)
            *size = fx_msg_size(msg);
        return 0;
    case FX_MSG_DOWN:
        return fxi_gs_down(msg, why);
    case FX_MSG_TIMEOUT: {
        const fx_timeout_info *ti = fx_msg_data(msg);
        if (ti->ref.id)
            (void) fx_demonitor(cx, ti->ref, FX_DEMONITOR_FLUSH);
        return FX_ETIMEDOUT;
    }
    case FXI_GS_FAIL:
        return fxi_gs_fail_rc(msg);
    default:
        return FX_EINVAL;
    }
}

/* ---- casts ---------------------------------------------------------------- */

FX_API int fx_gs_cast(fx_ctx *cx, fx_pid server, uint32_t type, const void *data,
                      size_t size)
{
    if (!cx)
        return FX_EINVAL;
    if (too_big(fx_ctx_vm(cx), size))
        return FX_EMSGSIZE;
    fx_msg *m;
    int rc = fxi_gs_envelope(FXI_GS_CAST, type, data, size, &m);
    if (rc != 0)
        return rc;
    rc = fx_send_msg(cx, server, m);
    if (rc != 0)
        fx_msg_free(m);
    return rc;
}

FX_API int fx_vm_gs_cast(fx_vm *vm, fx_pid server, uint32_t type, const void *data,
                         size_t size)
{
    if (!vm)
        return FX_EINVAL;
    if (too_big(vm, size))
        return FX_EMSGSIZE;
    /* A forked child refuses before the envelope is allocated (vm.h). */
    if (fx_vm_running(vm) == FX_EFORKED)
        return FX_EFORKED;
    fx_msg *m;
    int rc = fxi_gs_envelope(FXI_GS_CAST, type, data, size, &m);
    if (rc != 0)
        return rc;
    rc = fx_vm_send_msg(vm, server, m);
    if (rc != 0)
        fx_msg_free(m);
    return rc;
}
