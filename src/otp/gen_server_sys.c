/* GenServer: system requests (gen_server:stop, sys:get_state,
 * sys:replace_state), both sides.
 *
 * get_state and replace_state run the caller's fn(state, arg) inside the
 * server, and arg may point at the caller's stack. So fn must never run
 * after the caller gave up: the server first answers SUSPEND with a reply
 * (dropped by the runtime if the caller already timed out) and waits for
 * the same caller's GO or CANCEL. A caller that got the answer sends GO
 * and waits, without a timeout, for the server to run fn and reply (or to
 * die); one that timed out sends CANCEL. Both messages are allocated
 * before the request goes out, so the one the server waits for is always
 * sent. */
#include <string.h>

#include "otp/gs_impl.h"

/* ---- the server's side ---------------------------------------------------- */

static fx_next suspended(fx_ctx *cx, fx_msg *m)
{
    fxi_gs *g = fx_state(cx);
    if (fx_msg_type(m) == FXI_GS_GO && fx_msg_size(m) == sizeof(fxi_gs_go)) {
        fxi_gs_go go;
        memcpy(&go, fx_msg_data(m), sizeof go);
        if (go.replace)
            g->state = go.replace(g->state, go.arg);
        else if (go.get)
            go.get(g->state, go.arg);
        (void) fx_reply(cx, (fx_from){fx_msg_from(m), fx_msg_ref(m)}, NULL, 0);
    }
    return fxi_gs_resume(cx, g); /* after GO or CANCEL */
}

fx_next fxi_gs_sys(fx_ctx *cx, fxi_gs *g, fx_msg *m)
{
    const fxi_gs_env *e = fx_msg_data(m);
    size_t size = fx_msg_size(m);
    if (size >= sizeof *e + sizeof(fx_reason) && e->op == FXI_GS_SYS_STOP) {
        fx_reason reason;
        memcpy(&reason, e + 1, sizeof reason);
        return fxi_gs_stop_now(cx, g, reason);
    }
    if (size >= sizeof *e && e->op == FXI_GS_SYS_SUSPEND) {
        fx_from from = {fx_msg_from(m), fx_msg_ref(m)};
        if (g->ops == &fxi_sm_gs_ops) { /* refused at once, as a supervisor does */
            int32_t err = FX_EINVAL;
            (void) fx_reply(cx, from, &err, sizeof err);
            return fxi_gs_resume(cx, g);
        }
        if (fx_reply(cx, from, NULL, 0) == 0) {
            fx_match mt = {.from = from.pid, .ref = from.ref};
            return fx_receive(cx, suspended, &mt, FX_INFINITY);
        }
    }
    return fxi_gs_resume(cx, g);
}

/* ---- the caller's side ---------------------------------------------------- */

/* Sends SYS request op (+ extra bytes) on a new monitor's ref. */
static int sys_request(fx_inbox *inbox, fx_pid server, uint32_t op, const void *extra,
                       size_t extra_size, fx_ref *ref)
{
    fx_msg *m;
    int rc = fxi_gs_envelope(FXI_GS_SYS, 0, extra, extra_size, &m);
    if (rc != 0)
        return rc;
    ((fxi_gs_env *) fx_msg_data_mut(m))->op = op;
    if ((rc = fx_inbox_monitor(inbox, server, ref)) != 0) {
        fx_msg_free(m);
        return rc;
    }
    fx_msg_set_ref(m, *ref);
    rc = fx_inbox_send_msg(inbox, server, m);
    if (rc != 0) { /* FX_ENOPROC: dead, fail fast with noproc as OTP does */
        fx_msg_free(m);
        (void) fx_inbox_demonitor(inbox, *ref, FX_DEMONITOR_FLUSH);
        return rc;
    }
    return 0;
}

FX_API int fx_gs_stop_server(fx_inbox *inbox, fx_pid server, fx_reason reason,
                             int64_t timeout_ms, fx_reason *why)
{
    if (!inbox || !server.id || fx_pid_eq(server, fx_inbox_pid(inbox)) ||
        reason.kind < FX_REASON_NORMAL || reason.kind > FX_REASON_KILL ||
        (timeout_ms < 0 && timeout_ms != FX_INFINITY))
        return FX_EINVAL;
    int rc = fxi_gs_check_thread(inbox);
    if (rc != 0)
        return rc;
    fx_ref ref;
    if ((rc = sys_request(inbox, server, FXI_GS_SYS_STOP, &reason, sizeof reason, &ref)))
        return rc;
    fx_msg *m;
    rc = fx_inbox_recv(inbox, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, timeout_ms,
                       &m);
    if (rc != 0) {
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        return rc;
    }
    fx_down_info d;
    memcpy(&d, fx_msg_data(m), sizeof d);
    fx_msg_free(m);
    if (d.reason.kind == FX_REASON_NOPROC)
        return FX_ENOPROC;
    if (fx_reason_eq(&d.reason, &reason))
        return 0;
    if (why)
        *why = d.reason;
    return FX_EEXIT;
}

static int suspend_and_run(fx_inbox *inbox, fx_pid server, fxi_gs_go go,
                           int64_t timeout_ms)
{
    if (!inbox || !server.id || fx_pid_eq(server, fx_inbox_pid(inbox)) ||
        (timeout_ms < 0 && timeout_ms != FX_INFINITY))
        return FX_EINVAL;
    int rc = fxi_gs_check_thread(inbox);
    if (rc != 0)
        return rc;
    fx_msg *gom = NULL, *cancel = NULL;
    if ((rc = fx_msg_new_behaviour(FXI_GS_GO, sizeof go, &gom)) != 0 ||
        (rc = fx_msg_new_behaviour(FXI_GS_CANCEL, 0, &cancel)) != 0) {
        fx_msg_free(gom);
        return rc;
    }
    memcpy(fx_msg_data_mut(gom), &go, sizeof go);
    fx_ref ref;
    if ((rc = sys_request(inbox, server, FXI_GS_SYS_SUSPEND, NULL, 0, &ref)) != 0) {
        fx_msg_free(gom);
        fx_msg_free(cancel);
        return rc;
    }
    fx_msg_set_ref(gom, ref);
    fx_msg_set_ref(cancel, ref);
    fx_match mt = {.ref = ref};
    fx_msg *m;
    rc = fx_inbox_recv(inbox, &mt, timeout_ms, &m);
    if (rc != 0) {
        /* The server will not run fn: it gets CANCEL (its answer to
         * SUSPEND, if it comes, is dropped after the demonitor). */
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        if (fx_inbox_send_msg(inbox, server, cancel) != 0)
            fx_msg_free(cancel);
        fx_msg_free(gom);
        return rc;
    }
    fx_msg_free(cancel);
    if (fx_msg_type(m) == FX_MSG_REPLY && fx_msg_size(m) == sizeof(int32_t)) {
        /* Refused (a supervisor offers no state): the answer is an error. */
        int32_t err;
        memcpy(&err, fx_msg_data(m), sizeof err);
        fx_msg_free(m);
        fx_msg_free(gom);
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        return err < 0 ? err : FX_EINVAL;
    }
    if (fx_msg_type(m) == FX_MSG_REPLY) {
        /* Suspended and waiting for us: from here fn runs or it dies. */
        fx_msg_free(m);
        if (fx_inbox_send_msg(inbox, server, gom) != 0)
            fx_msg_free(gom); /* it died meanwhile: the DOWN tells */
        rc = fx_inbox_recv(inbox, &mt, FX_INFINITY, &m);
        if (rc != 0)
            return rc;
        if (fx_msg_type(m) == FX_MSG_REPLY) {
            fx_msg_free(m);
            (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
            return 0;
        }
    } else {
        fx_msg_free(gom);
    }
    rc = fxi_gs_down(m, NULL);
    fx_msg_free(m);
    return rc;
}

FX_API int fx_gs_get_state(fx_inbox *inbox, fx_pid server,
                           void (*fn)(void *state, void *arg), void *arg,
                           int64_t timeout_ms)
{
    if (!fn)
        return FX_EINVAL;
    return suspend_and_run(inbox, server, (fxi_gs_go){.get = fn, .arg = arg}, timeout_ms);
}

FX_API int fx_gs_replace_state(fx_inbox *inbox, fx_pid server,
                               void *(*fn)(void *state, void *arg), void *arg,
                               int64_t timeout_ms)
{
    if (!fn)
        return FX_EINVAL;
    return suspend_and_run(inbox, server, (fxi_gs_go){.replace = fn, .arg = arg},
                           timeout_ms);
}
