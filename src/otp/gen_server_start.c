/* GenServer: starting a server and waiting for its init.
 *
 * The starter spawns the server with a monitor (spawn_monitor, or for a
 * linked start spawn_link and then a monitor), then sends it START
 * carrying the monitor's ref. The server runs init only after START, so
 * the monitor and the link are in place before any user code runs. It
 * answers with an ACK, a reply on that ref: dropped by the runtime if the
 * starter gave up. An init that stops or crashes is reported by the
 * monitor's DOWN, with the reason. */
#include <string.h>

#include "otp/gs_impl.h"

#define DEFAULT_INIT_TIMEOUT 5000

static int64_t init_timeout(const fx_gs_spec *spec)
{
    return spec->timeout_ms == 0 ? DEFAULT_INIT_TIMEOUT : spec->timeout_ms;
}

static bool spec_ok(const fx_gs_spec *spec)
{
    return spec && spec->ops && spec->ops->init && spec->timeout_ms >= FX_INFINITY &&
           fxi_gs_name_ok(spec->name);
}

static fx_spawn_opts server_opts(const fx_gs_spec *spec, fx_pid starter, fxi_gs *g)
{
    memset(g, 0, sizeof *g);
    g->ops = spec->ops;
    g->arg = spec->arg;
    g->starter = starter;
    g->parent = spec->link ? starter : FX_PID_NONE;
    g->timeout_ms = -1;
    fxi_gs_copy_name(g, spec->name);
    fx_spawn_opts o = {
        .init = fxi_gs_init,
        .state_size = sizeof *g,
        .state_init = g,
        .cleanup = fxi_gs_cleanup,
        .label = spec->label ? spec->label : "gen_server",
    };
    return o;
}

/* An ACK's status (0, FX_EIGNORE, or FX_EEXIST with *holder), or
 * FX_EINVAL if m is not one. */
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

/* ---- from a thread outside the VM ---------------------------------------- */

/* Drops the EXIT a linked server's death left in the inbox: the start's
 * return value tells the outcome. Links are signalled before monitors,
 * so once the DOWN is in, the EXIT is too. */
static void flush_exit(fx_inbox *inbox, fx_pid server)
{
    fx_msg *m;
    fx_match mt = {.type = FX_MSG_EXIT, .from = server};
    if (fx_inbox_recv(inbox, &mt, 0, &m) == 0)
        fx_msg_free(m);
}

static void send_abort(fx_inbox *inbox, fx_pid server)
{
    fx_msg *m;
    int rc;
    if (fx_msg_new_behaviour(FXI_GS_ABORT, 0, &m) == 0 &&
        (rc = fx_inbox_send_msg(inbox, server, m)) != 0 && rc != FX_ENOPROC)
        fx_msg_free(m);
}

/* Spawns the server, monitored (and linked), and sends it START. */
static int spawn_inbox(fx_inbox *inbox, const fx_gs_spec *spec, fx_pid *pid, fx_ref *ref)
{
    fx_msg *start;
    int rc = fx_msg_new_behaviour(FXI_GS_START, 0, &start);
    if (rc != 0)
        return rc;
    fxi_gs g;
    fx_spawn_opts o = server_opts(spec, fx_inbox_pid(inbox), &g);
    if (!spec->link) {
        rc = fx_inbox_spawn_monitor(inbox, &o, pid, ref);
    } else if ((rc = fx_inbox_spawn_link(inbox, &o, pid)) == 0 &&
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
    /* Only FX_ENOPROC can fail here (then the DOWN tells). */
    if ((rc = fx_inbox_send_msg(inbox, *pid, start)) != 0 && rc != FX_ENOPROC)
        fx_msg_free(start);
    return 0;
}

FX_API int fx_gs_start(fx_inbox *inbox, const fx_gs_spec *spec, fx_pid *out,
                       fx_reason *why)
{
    if (!inbox || !spec_ok(spec))
        return FX_EINVAL;
    int rc = fxi_gs_check_thread(inbox);
    if (rc != 0)
        return rc;
    fx_pid pid;
    fx_ref ref;
    if ((rc = spawn_inbox(inbox, spec, &pid, &ref)) != 0)
        return rc;
    fx_msg *m;
    fx_match mt = {.from = pid, .ref = ref};
    rc = fx_inbox_recv(inbox, &mt, init_timeout(spec), &m);
    if (rc == FX_ETIMEDOUT) {
        /* The server goes: unlinked first (no EXIT for us), then ABORT,
         * which it reaches after init (nothing preempts a callback). */
        if (spec->link)
            (void) fx_inbox_unlink(inbox, pid);
        send_abort(inbox, pid);
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        if (spec->link)
            flush_exit(inbox, pid);
        return FX_ETIMEDOUT;
    }
    if (rc != 0) {
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        return rc;
    }
    if (fx_msg_type(m) == FX_MSG_DOWN) {
        /* init stopped or crashed. */
        rc = fxi_gs_down(m, why);
        if (rc == FX_ENOPROC) { /* exited with noproc itself */
            if (why)
                *why = fx_reason_noproc();
            rc = FX_EEXIT;
        }
        fx_msg_free(m);
        if (spec->link)
            flush_exit(inbox, pid);
        return rc;
    }
    fx_pid holder;
    rc = ack_status(m, &holder);
    fx_msg_free(m);
    (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
    if ((rc == 0 || rc == FX_EEXIST) && out)
        *out = rc == 0 ? pid : holder;
    return rc;
}

/* ---- from inside a handler ------------------------------------------------ */

FX_API fx_next fx_gs_start_async(fx_ctx *cx, const fx_gs_spec *spec, fx_handler then)
{
    if (!spec_ok(spec))
        return fxi_gs_fail_async(cx, FX_EINVAL, then);
    fx_msg *start;
    int rc = fx_msg_new_behaviour(FXI_GS_START, 0, &start);
    if (rc != 0)
        return fxi_gs_fail_async(cx, rc, then);
    fxi_gs g;
    fx_spawn_opts o = server_opts(spec, fx_self(cx), &g);
    fx_pid pid;
    fx_ref ref;
    if (!spec->link) {
        rc = fx_spawn_monitor(cx, &o, &pid, &ref);
    } else if ((rc = fx_spawn_link(cx, &o, &pid)) == 0 &&
               (rc = fx_monitor(cx, pid, &ref)) != 0) {
        (void) fx_unlink(cx, pid);
        (void) fx_exit(cx, pid, fx_reason_kill());
    }
    if (rc != 0) {
        fx_msg_free(start);
        return fxi_gs_fail_async(cx, rc, then);
    }
    fx_msg_set_ref(start, ref);
    if ((rc = fx_send_msg(cx, pid, start)) != 0 && rc != FX_ENOPROC)
        fx_msg_free(start);
    fx_match mt = {.from = pid, .ref = ref};
    return fx_receive(cx, then, &mt, init_timeout(spec));
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
        if ((rc == 0 || rc == FX_EEXIST) && out)
            *out = rc == 0 ? fx_msg_from(msg) : holder;
        return rc;
    case FX_MSG_DOWN:
        rc = fxi_gs_down(msg, why);
        if (rc == FX_ENOPROC) {
            if (why)
                *why = fx_reason_noproc();
            rc = FX_EEXIT;
        }
        return rc;
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
    case FXI_GS_FAIL: {
        int32_t v;
        memcpy(&v, fx_msg_data(msg), sizeof v);
        return v;
    }
    default:
        return FX_EINVAL;
    }
}
