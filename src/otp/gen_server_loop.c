/* GenServer: the server process. Its state is an fxi_gs (inline, see
 * gs_impl.h); the loop hands calls, casts and other messages to the
 * user's callbacks and carries out their answers. */
#include <string.h>

#include "otp/gs_impl.h"

/* Calls terminate at most once, and only once init was called. */
static void terminate(fxi_gs *g, const fx_reason *reason)
{
    if (!g->init_called || g->terminated)
        return;
    g->terminated = true;
    if (g->ops->terminate)
        g->ops->terminate(g->vm, g->state, reason);
}

void fxi_gs_cleanup(void *inst, const fx_reason *reason)
{
    fxi_gs *g = inst;
    /* Any exit: the stop paths have terminated already; a crash, a kill,
     * an exit signal or VM shutdown has not. */
    terminate(g, reason);
    fx_msg_free(g->stop_reply);
    g->stop_reply = NULL;
    fx_reqids_destroy(g->vm, g->reqs); /* pending calls: never answered */
    g->reqs = NULL;
}

fx_next fxi_gs_stop_now(fx_ctx *cx, fxi_gs *g, fx_reason reason)
{
    terminate(g, &reason);
    if (g->stop_reply) {
        /* The caller gets the reply, then the DOWN. */
        fx_msg *m = g->stop_reply;
        g->stop_reply = NULL;
        (void) fx_reply(cx, g->stop_to, fx_msg_data(m), fx_msg_size(m));
        fx_msg_free(m);
    }
    return fx_stop(cx, reason);
}

fx_next fxi_gs_resume(fx_ctx *cx, fxi_gs *g)
{
    if (g->timeout_ms >= 0)
        return fx_receive(cx, fxi_gs_loop, NULL, g->timeout_ms);
    return fx_become(cx, fxi_gs_loop);
}

/* handle_cast, handle_info and handle_continue have no caller to answer:
 * OTP stops a server that returns {reply, ...} or {stop, R, Reply, S}
 * from them with bad_return_value. */
static fx_gs_ret no_caller(fx_ctx *cx, fx_gs_ret r, const char *callback)
{
    if (r.op == FXI_GS_REPLY)
        return fx_gs_stop(
            cx, fx_reason_error(FX_EINVAL, "bad_return_value: reply from %s", callback));
    if (r.op == FXI_GS_STOP && (r.flags & FXI_GS_F_REPLY))
        return fx_gs_stop(
            cx,
            fx_reason_error(FX_EINVAL, "bad_return_value: stop_reply from %s", callback));
    return r;
}

fx_next fxi_gs_after(fx_ctx *cx, fxi_gs *g, fx_gs_ret r)
{
    for (;;) {
        switch (r.op) {
        case FXI_GS_OK: /* init's answer (fxi_gs_run_init makes it noreply) */
            return fxi_gs_stop_now(
                cx, g, fx_reason_error(FX_EINVAL, "bad_return_value: ok outside init"));
        case FXI_GS_NOREPLY:
        case FXI_GS_REPLY:
            break;
        case FXI_GS_STOP:
            return fxi_gs_stop_now(cx, g, r.reason);
        case FXI_GS_BAD_TIMEOUT:
            return fxi_gs_stop_now(
                cx, g, fx_reason_error(FX_EINVAL, "bad_return_value: negative timeout"));
        case FXI_GS_IGNORE:
            return fxi_gs_stop_now(
                cx, g, fx_reason_error(FX_EINVAL, "fx_gs_ignore outside init"));
        default:
            return fxi_gs_stop_now(cx, g,
                                   fx_reason_error(FX_EINVAL, "bad callback answer"));
        }
        if (r.flags & FXI_GS_F_CONTINUE) {
            /* Before any other message, without leaving the handler. */
            if (!g->ops->handle_continue)
                return fxi_gs_stop_now(cx, g,
                                       fx_reason_error(FX_EINVAL, "no handle_continue"));
            r = no_caller(cx, g->ops->handle_continue(cx, g->state, r.cont),
                          "handle_continue");
            continue;
        }
        g->timeout_ms = (r.flags & FXI_GS_F_TIMEOUT) ? r.timeout_ms : -1;
        return fxi_gs_resume(cx, g);
    }
}

/* ---- start-up ---------------------------------------------------------- */

static fx_next started(fx_ctx *cx, fx_msg *m);

fx_next fxi_gs_init(fx_ctx *cx, void *unused)
{
    (void) unused;
    fxi_gs *g = fx_state(cx);
    g->vm = fx_ctx_vm(cx);
    g->timeout_ms = -1;
    /* The starter sends START (with its monitor's ref) right after the
     * spawn; user code runs only after it, so the monitor (and, for a
     * linked start, the link) is in place before anything can fail. */
    return fx_receive(cx, started, &(fx_match){.from = g->starter}, FX_INFINITY);
}

/* A failed init. As in OTP 25, a server whose init stops (or fails)
 * with an abnormal reason exits while still linked: a linked starter
 * that does not trap exits dies with the reason, one that traps gets the
 * EXIT (an inbox starter's is removed by fx_gs_start). With reason normal
 * (ignore, a taken name, stop normal) the link goes first, so a trapping
 * starter gets no EXIT normal to skip (OTP sends one). */
fx_next fxi_gs_init_failed(fx_ctx *cx, fxi_gs *g, fx_reason reason)
{
    if (g->parent.id && reason.kind == FX_REASON_NORMAL)
        (void) fx_unlink(cx, g->parent);
    return fxi_gs_stop_now(cx, g, reason);
}

static fx_next started(fx_ctx *cx, fx_msg *m)
{
    fxi_gs *g = fx_state(cx);
    if (fx_msg_type(m) == FXI_GS_ABORT) /* the start failed after the spawn */
        return fx_stop(cx, fx_reason_killed());
    if (fx_msg_type(m) != FXI_GS_START) /* START is the starter's first message */
        return fx_receive(cx, started, &(fx_match){.from = g->starter}, FX_INFINITY);
    fx_from starter = {fx_msg_from(m), fx_msg_ref(m)};
    if (g->name[0]) /* registered first, so it is findable once started */
        return fxi_gs_register_name(cx, g, starter);
    return fxi_gs_run_init(cx, g, starter);
}

fx_next fxi_gs_run_init(fx_ctx *cx, fxi_gs *g, fx_from starter)
{
    g->init_called = true;
    fx_gs_ret r = g->ops->init(cx, g->arg, &g->state);
    switch (r.op) {
    case FXI_GS_OK:
        r.op = FXI_GS_NOREPLY; /* fx_gs_ok is init's answer only (fxi_gs_after) */
        break;
    case FXI_GS_IGNORE:
        (void) fxi_proc_ack(cx, starter, FX_EIGNORE, FX_PID_NONE);
        return fxi_gs_init_failed(cx, g, fx_reason_normal());
    case FXI_GS_STOP:
        if (!(r.flags & FXI_GS_F_REPLY)) /* not fx_gs_stop_reply: handle_call's */
            /* The starter learns the reason from its monitor's DOWN. */
            return fxi_gs_init_failed(cx, g, r.reason);
        /* fall through */
    default:
        return fxi_gs_init_failed(cx, g,
                                  fx_reason_error(FX_EINVAL, "bad answer from init"));
    }
    int rc = fxi_proc_ack(cx, starter, 0, FX_PID_NONE);
    if (rc != 0)
        return fxi_gs_init_failed(cx, g,
                                  fx_reason_error(rc, "init ack: %s", fx_strerror(rc)));
    return fxi_gs_after(cx, g, r);
}

/* ---- the loop ----------------------------------------------------------- */

static fx_next missing(fx_ctx *cx, fxi_gs *g, const char *what)
{
    return fxi_gs_stop_now(cx, g, fx_reason_error(FX_EINVAL, "%s", what));
}

fx_next fxi_gs_loop(fx_ctx *cx, fx_msg *m)
{
    fxi_gs *g = fx_state(cx);
    const fx_gs_ops *ops = g->ops;
    uint32_t type = fx_msg_type(m);
    fx_gs_ret r;
    if ((type == FXI_GS_CALL || type == FXI_GS_CAST) &&
        __builtin_expect(fx_msg_size(m) < sizeof(fxi_gs_env), 0))
        return fxi_gs_resume(cx, g); /* forged, not from this library */
    if (__builtin_expect(g->reqs != NULL, 0) && type >= FX_MSG_SYSTEM_BASE) {
        int k = fxi_gs_then_dispatch(cx, g, m, &r); /* a call it made? */
        if (k == FX_RESPONSE)
            return fxi_gs_after(cx, g, r);
        if (k == FX_RESPONSE_STALE)
            return fxi_gs_resume(cx, g);
    }
    if (type == FXI_GS_CALL) {
        const fxi_gs_env *e = fx_msg_data(m);
        if (__builtin_expect(!ops->handle_call, 0))
            return missing(cx, g, "no handle_call");
        g->call = (fx_from){fx_msg_from(m), fx_msg_ref(m)};
        r = ops->handle_call(cx, g->state, g->call, e->type, e + 1,
                             fx_msg_size(m) - sizeof *e);
        g->call.ref = FX_REF_NONE;
    } else if (type == FXI_GS_CAST) {
        const fxi_gs_env *e = fx_msg_data(m);
        if (!ops->handle_cast)
            return missing(cx, g, "no handle_cast");
        r = no_caller(
            cx,
            ops->handle_cast(cx, g->state, e->type, e + 1, fx_msg_size(m) - sizeof *e),
            "handle_cast");
    } else if (type == FXI_GS_SYS) {
        return fxi_gs_sys(cx, g, m);
    } else if (type == FXI_GS_ABORT && fx_pid_eq(fx_msg_from(m), g->starter)) {
        return fxi_gs_stop_now(cx, g, fx_reason_killed()); /* as if killed */
    } else if (type >= FXI_GS_TYPE(0) && type < FXI_GS_TYPE(0x100)) {
        /* A stray GO/CANCEL (its request was never seen): ignore. */
        return fxi_gs_resume(cx, g);
    } else {
        if (type == FX_MSG_EXIT && g->parent.id) {
            /* Only a process trapping exits receives EXIT messages. Its
             * parent's exit stops it (OTP): terminate, then exit with the
             * same reason. */
            const fx_exit_info *e = fx_msg_data(m);
            if (fx_pid_eq(e->pid, g->parent))
                return fxi_gs_stop_now(cx, g, e->reason);
        }
        if (!ops->handle_info) {
            /* Dropped: {noreply, State} (OTP), so no timeout any more. */
            g->timeout_ms = -1;
            return fxi_gs_resume(cx, g);
        }
        r = no_caller(cx, ops->handle_info(cx, g->state, m), "handle_info");
    }
    return fxi_gs_after(cx, g, r);
}
