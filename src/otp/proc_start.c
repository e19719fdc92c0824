/* The start handshake shared by GenServer and Supervisor (OTP's proc_lib).
 *
 * The starter spawns the process with a monitor (spawn_monitor, or for a
 * linked start spawn_link and then a monitor), then sends it START
 * carrying the monitor's ref. The process runs user code only after
 * START, so the monitor and the link are in place before anything can
 * fail. It answers with an ACK, a reply on that ref: dropped by the
 * runtime if the starter gave up. A start that fails (init stops or
 * crashes, a supervisor's child fails) is reported by the monitor's DOWN,
 * with the reason. */
#include <string.h>

#include "otp/gs_impl.h"

/* An ACK's status (0, FX_EIGNORE, or FX_EEXIST with *holder: a named
 * GenServer's name was taken), or FX_EINVAL if m is not one. */
static int ack_status(const fx_msg *m, fx_pid *holder)
{
    fxi_gs_ack ack;
    if (fx_msg_type(m) != FX_MSG_REPLY || fx_msg_size(m) != sizeof ack)
        return FX_EINVAL;
    memcpy(&ack, fx_msg_data(m), sizeof ack);
    if (ack.magic != FXI_GS_ACK_MAGIC)
        return FX_EINVAL;
    *holder = ack.holder;
    return ack.status == FX_EIGNORE || ack.status == FX_EEXIST ? ack.status : 0;
}

/* The pid a start reports: the process's when it started, the name's
 * holder when the name was taken. */
static void report(int rc, fx_pid started, fx_pid holder, fx_pid *out)
{
    if ((rc == 0 || rc == FX_EEXIST) && out)
        *out = rc == 0 ? started : holder;
}

int fxi_proc_ack(fx_ctx *cx, fx_from start, int status, fx_pid holder)
{
    fxi_gs_ack ack = {FXI_GS_ACK_MAGIC, status, holder};
    int rc = fx_reply(cx, start, &ack, sizeof ack);
    /* FX_ENOPROC: the starter died; proc_lib's init_ack to it is dropped too. */
    return rc == FX_ENOPROC ? 0 : rc;
}

/* A DOWN during a start: the start failed with its reason. */
static int start_down(const fx_msg *m, fx_reason *why)
{
    int rc = fxi_gs_down(m, why);
    if (rc == FX_ENOPROC) { /* exited with noproc itself */
        if (why)
            *why = fx_reason_noproc();
        rc = FX_EEXIT;
    }
    return rc;
}

/* ---- from a thread outside the VM ---------------------------------------- */

/* Drops the EXIT a linked process's death left in the inbox: the start's
 * return value tells the outcome. Links are signalled before monitors,
 * so once the DOWN is in, the EXIT is too. */
static void flush_exit(fx_inbox *inbox, fx_pid pid)
{
    fx_msg *m;
    fx_match mt = {.type = FX_MSG_EXIT, .from = pid};
    if (fx_inbox_recv(inbox, &mt, 0, &m) == 0)
        fx_msg_free(m);
}

static void send_abort(fx_inbox *inbox, fx_pid pid)
{
    fx_msg *m;
    if (fx_msg_new_behaviour(FXI_GS_ABORT, 0, &m) == 0 &&
        fx_inbox_send_msg(inbox, pid, m) != 0)
        fx_msg_free(m);
}

/* Spawns the process, monitored (and linked), and sends it START. */
static int spawn_inbox(fx_inbox *inbox, const fx_spawn_opts *o, bool link, fx_pid *pid,
                       fx_ref *ref)
{
    fx_msg *start;
    int rc = fx_msg_new_behaviour(FXI_GS_START, 0, &start);
    if (rc != 0)
        return rc;
    if (!link) {
        rc = fx_inbox_spawn_monitor(inbox, o, pid, ref);
    } else if ((rc = fx_inbox_spawn_link(inbox, o, pid)) == 0 &&
               (rc = fx_inbox_monitor(inbox, *pid, ref)) != 0) {
        /* It still waits for START: ABORT instead ends it before init. */
        (void) fx_inbox_unlink(inbox, *pid);
        send_abort(inbox, *pid);
    }
    if (rc != 0) {
        fx_msg_free(start);
        return rc;
    }
    fx_msg_set_ref(start, *ref);
    /* Only FX_ENOPROC can fail here: it died before START, the DOWN tells. */
    if (fx_inbox_send_msg(inbox, *pid, start) != 0)
        fx_msg_free(start);
    return 0;
}

int fxi_proc_start_inbox(fx_inbox *inbox, const fx_spawn_opts *o, bool link,
                         int64_t timeout_ms, fx_pid *out, fx_reason *why)
{
    if (timeout_ms < 0 && timeout_ms != FX_INFINITY)
        return FX_EINVAL;
    int rc = fxi_gs_check_thread(inbox);
    if (rc != 0)
        return rc;
    fx_pid pid;
    fx_ref ref;
    if ((rc = spawn_inbox(inbox, o, link, &pid, &ref)) != 0)
        return rc;
    fx_msg *m;
    fx_match mt = {.from = pid, .ref = ref};
    rc = fx_inbox_recv(inbox, &mt, timeout_ms, &m);
    if (rc == FX_ETIMEDOUT) {
        /* The process goes: unlinked first (no EXIT for us), then ABORT,
         * which it reaches after its current step (nothing preempts it). */
        if (link)
            (void) fx_inbox_unlink(inbox, pid);
        send_abort(inbox, pid);
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        if (link)
            flush_exit(inbox, pid);
        return FX_ETIMEDOUT;
    }
    if (rc != 0) {
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        return rc;
    }
    if (fx_msg_type(m) == FX_MSG_DOWN) {
        rc = start_down(m, why);
        fx_msg_free(m);
        if (link)
            flush_exit(inbox, pid);
        return rc;
    }
    fx_pid holder;
    rc = ack_status(m, &holder);
    fx_msg_free(m);
    (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
    report(rc, pid, holder, out);
    return rc;
}

/* ---- from inside a handler ------------------------------------------------ */

fx_next fxi_proc_start_async(fx_ctx *cx, const fx_spawn_opts *o, bool link,
                             int64_t timeout_ms, fx_handler then)
{
    fx_msg *start;
    int rc = fx_msg_new_behaviour(FXI_GS_START, 0, &start);
    if (rc != 0)
        return fxi_gs_fail_async(cx, rc, then);
    fx_pid pid;
    fx_ref ref;
    if (!link) {
        rc = fx_spawn_monitor(cx, o, &pid, &ref);
    } else if ((rc = fx_spawn_link(cx, o, &pid)) == 0 &&
               (rc = fx_monitor(cx, pid, &ref)) != 0) {
        (void) fx_unlink(cx, pid);
        (void) fx_exit(cx, pid, fx_reason_kill());
    }
    if (rc != 0) {
        fx_msg_free(start);
        return fxi_gs_fail_async(cx, rc, then);
    }
    fx_msg_set_ref(start, ref);
    /* Only FX_ENOPROC can fail here: it died before START, the DOWN tells. */
    if (fx_send_msg(cx, pid, start) != 0)
        fx_msg_free(start);
    fx_match mt = {.from = pid, .ref = ref};
    return fx_receive(cx, then, &mt, timeout_ms);
}

fx_next fxi_proc_started_async(fx_ctx *cx, fx_pid pid, fx_handler then)
{
    fx_msg *m;
    if (fx_msg_new_behaviour(FXI_GS_STARTED, sizeof pid, &m) != 0)
        fx_crash(cx, "out of memory starting a child");
    memcpy(fx_msg_data_mut(m), &pid, sizeof pid);
    fx_ref ref = fx_make_ref(cx);
    fx_msg_set_ref(m, ref);
    if (fx_send_msg(cx, fx_self(cx), m) != 0) {
        fx_msg_free(m);
        fx_crash(cx, "cannot report a started child");
    }
    return fx_receive(cx, then, &(fx_match){.from = fx_self(cx), .ref = ref},
                      FX_INFINITY);
}

FX_API int fx_gs_start_result(fx_ctx *cx, fx_msg *msg, fx_pid *out, fx_reason *why)
{
    if (!cx || !msg)
        return FX_EINVAL;
    int rc;
    fx_pid holder;
    switch (fx_msg_type(msg)) {
    case FX_MSG_REPLY:
        if ((rc = ack_status(msg, &holder)) == FX_EINVAL)
            return rc;
        (void) fx_demonitor(cx, fx_msg_ref(msg), FX_DEMONITOR_FLUSH);
        report(rc, fx_msg_from(msg), holder, out);
        return rc;
    case FX_MSG_DOWN:
        return start_down(msg, why);
    case FX_MSG_TIMEOUT: {
        const fx_timeout_info *ti = fx_msg_data(msg);
        if (ti->from.id) {
            /* Unlinked first, so its death does not reach us. */
            (void) fx_unlink(cx, ti->from);
            (void) fx_exit(cx, ti->from, fx_reason_kill());
        }
        if (ti->ref.id)
            (void) fx_demonitor(cx, ti->ref, FX_DEMONITOR_FLUSH);
        return FX_ETIMEDOUT;
    }
    case FXI_GS_STARTED:
        if (fx_msg_size(msg) != sizeof(fx_pid))
            return FX_EINVAL;
        if (out)
            memcpy(out, fx_msg_data(msg), sizeof *out);
        return 0;
    case FXI_GS_FAIL:
        return fxi_gs_fail_rc(msg);
    default:
        return FX_EINVAL;
    }
}
