/* Monitors: DOWN messages, demonitor (+flush), noproc, spawn_monitor. */
#include "agent.h"

static const fx_reason boom = {FX_REASON_ERROR, 3, "bad"};

Test(monitors, down_carries_ref_pid_and_reason)
{
    tvm t = ag_start(2, false);
    fx_pid a = ag_spawn(&t, NULL), b = ag_spawn(&t, NULL);
    ag_report m1 = ag_do(&t, a, AG_MONITOR, (ag_cmd){.pid = b});
    ag_report m2 = ag_do(&t, a, AG_MONITOR, (ag_cmd){.pid = b});
    cr_assert_eq(m1.rc, 0);
    cr_assert(m1.ref.id != 0 && m1.ref.id != m2.ref.id, "each monitor has its own ref");
    ag_send(&t, b, AG_STOP, (ag_cmd){.reason = boom});
    /* Two monitors, two DOWNs, in either order. */
    bool seen1 = false, seen2 = false;
    for (int i = 0; i < 2; i++) {
        ag_report r = ag_next(&t, a);
        cr_assert_eq(r.type, FX_MSG_DOWN);
        cr_assert(fx_pid_eq(r.pid, b));
        assert_reason(r.reason, boom);
        seen1 |= fx_ref_eq(r.ref, m1.ref);
        seen2 |= fx_ref_eq(r.ref, m2.ref);
    }
    cr_assert(seen1 && seen2);
    /* The watcher is not affected by the death. */
    ag_assert_alive(&t, a);
    tvm_stop(&t);
}

Test(monitors, of_a_dead_pid_gives_noproc_at_once)
{
    tvm t = ag_start(2, false);
    fx_ref rb;
    fx_pid a = ag_spawn(&t, NULL), b = ag_spawn(&t, &rb);
    ag_send(&t, b, AG_STOP, (ag_cmd){.reason = fx_reason_normal()});
    assert_reason(ag_down(&t, rb), fx_reason_normal());
    ag_report m = ag_do(&t, a, AG_MONITOR, (ag_cmd){.pid = b});
    cr_assert_eq(m.rc, 0);
    ag_report r = ag_next(&t, a);
    cr_assert_eq(r.type, FX_MSG_DOWN);
    cr_assert(fx_ref_eq(r.ref, m.ref));
    cr_assert(fx_pid_eq(r.pid, b));
    assert_reason(r.reason, fx_reason_noproc());
    /* A pid that never existed (stale generation) too. */
    fx_pid never = {b.id + (1ull << 40)};
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t.in, never, &ref), 0);
    assert_reason(ag_down(&t, ref), fx_reason_noproc());
    cr_assert_eq(fx_inbox_monitor(t.in, FX_PID_NONE, &ref), FX_EINVAL);
    cr_assert_eq(fx_inbox_monitor(t.in, b, NULL), FX_EINVAL);
    tvm_stop(&t);
}

Test(monitors, demonitor_before_death_means_no_down)
{
    tvm t = ag_start(2, false);
    fx_pid b = ag_spawn(&t, NULL);
    fx_ref r1, r2;
    cr_assert_eq(fx_inbox_monitor(t.in, b, &r1), 0);
    cr_assert_eq(fx_inbox_demonitor(t.in, r1, 0), 0);
    cr_assert_eq(fx_inbox_demonitor(t.in, r1, 0), FX_ENOENT, "already removed");
    cr_assert_eq(fx_inbox_monitor(t.in, b, &r2), 0);
    cr_assert_eq(fx_vm_exit(t.vm, b, fx_reason_kill()), 0);
    assert_reason(ag_down(&t, r2), fx_reason_killed());
    fx_msg *m = NULL;
    fx_match down1 = {.type = FX_MSG_DOWN, .ref = r1};
    cr_assert_eq(fx_inbox_recv(t.in, &down1, 0, &m), FX_ETIMEDOUT);
    tvm_stop(&t);
}

/* Records whether a DOWN with the given ref went by, matching nothing. */
static bool saw_down(const fx_msg *m, void *arg)
{
    fx_ref *ref = arg;
    if (fx_msg_type(m) == FX_MSG_DOWN && fx_ref_eq(fx_msg_ref(m), *ref))
        ref->id = 0;
    return false;
}

/* Pops messages into the inbox's queue until the DOWN of ref is there. */
static void wait_queued_down(tvm *t, fx_ref ref)
{
    fx_ref probe = ref;
    fx_match mt = {.type = 0, .pred = saw_down, .pred_arg = &probe};
    for (int i = 0; i < 10000 && probe.id; i++) {
        fx_msg *m = NULL;
        cr_assert_eq(fx_inbox_recv(t->in, &mt, 1, &m), FX_ETIMEDOUT);
    }
    cr_assert_eq(probe.id, 0, "the DOWN never arrived");
}

Test(monitors, demonitor_flush_removes_a_queued_down)
{
    tvm t = ag_start(2, false);
    fx_pid b = ag_spawn(&t, NULL), c = ag_spawn(&t, NULL);
    fx_ref rb, rc;
    cr_assert_eq(fx_inbox_monitor(t.in, b, &rb), 0);
    cr_assert_eq(fx_inbox_monitor(t.in, c, &rc), 0);
    ag_send(&t, b, AG_STOP, (ag_cmd){.reason = boom});
    ag_send(&t, c, AG_STOP, (ag_cmd){.reason = boom});
    wait_queued_down(&t, rb);
    wait_queued_down(&t, rc);
    /* Both DOWNs are in the queue: the monitors have fired. */
    cr_assert_eq(fx_inbox_demonitor(t.in, rb, FX_DEMONITOR_FLUSH), FX_ENOENT);
    cr_assert_eq(fx_inbox_demonitor(t.in, rc, 0), FX_ENOENT);
    fx_msg *m = NULL;
    fx_match down_b = {.type = FX_MSG_DOWN, .ref = rb};
    cr_assert_eq(fx_inbox_recv(t.in, &down_b, 0, &m), FX_ETIMEDOUT, "flushed");
    /* Without flush the DOWN stays. */
    assert_reason(ag_down(&t, rc), boom);
    tvm_stop(&t);
}

Test(monitors, demonitor_of_a_dying_target_is_consistent)
{
    tvm t = ag_start(2, false);
    fx_pid b = ag_spawn(&t, NULL);
    fx_ref rb;
    cr_assert_eq(fx_inbox_link(t.in, b), 0);
    cr_assert_eq(fx_inbox_monitor(t.in, b, &rb), 0);
    ag_send(&t, b, AG_STOP, (ag_cmd){.reason = boom});
    /* Links are signalled before monitors: once the EXIT is received the
     * DOWN is either still in flight or already in the queue. In flight:
     * the monitor was active (0) and the DOWN never comes. Queued: the
     * monitor has fired (FX_ENOENT) and, without FLUSH, the DOWN stays,
     * as a message in Erlang's queue does. */
    fx_msg *m = tvm_recv(&t, FX_MSG_EXIT);
    fx_msg_free(m);
    int rc = fx_inbox_demonitor(t.in, rb, 0);
    cr_assert(rc == 0 || rc == FX_ENOENT, "demonitor answered %d", rc);
    /* The crash report is logged after the DOWN was sent. */
    ag_logged(&t, b);
    fx_match down_b = {.type = FX_MSG_DOWN, .ref = rb};
    cr_assert_eq(fx_inbox_recv(t.in, &down_b, 0, &m), rc == 0 ? FX_ETIMEDOUT : 0,
                 "demonitor answered %d", rc);
    if (m)
        fx_msg_free(m);
    tvm_stop(&t);
}

Test(monitors, spawn_monitor_and_self)
{
    tvm t = ag_start(2, false);
    fx_pid a = ag_spawn(&t, NULL);
    ag_report r = ag_do(&t, a, AG_SPAWN_MONITOR, (ag_cmd){0});
    cr_assert_eq(r.rc, 0);
    cr_assert(r.ref.id != 0);
    fx_pid child = r.pid;
    ag_send(&t, child, AG_STOP, (ag_cmd){.reason = boom});
    ag_report d = ag_next(&t, a);
    cr_assert_eq(d.type, FX_MSG_DOWN);
    cr_assert(fx_ref_eq(d.ref, r.ref));
    cr_assert(fx_pid_eq(d.pid, child));
    assert_reason(d.reason, boom);
    /* Monitoring oneself gives a ref and never a DOWN; the monitor is
     * active until demonitored (Erlang: demonitor(Ref, [info]) is true). */
    ag_report s = ag_do(&t, a, AG_MONITOR, (ag_cmd){.pid = a});
    cr_assert_eq(s.rc, 0);
    cr_assert(s.ref.id != 0);
    cr_assert_eq(ag_do(&t, a, AG_DEMONITOR, (ag_cmd){.ref = s.ref}).rc, 0);
    cr_assert_eq(ag_do(&t, a, AG_DEMONITOR, (ag_cmd){.ref = s.ref}).rc, FX_ENOENT);
    cr_assert_eq(ag_do(&t, a, AG_DEMONITOR, (ag_cmd){.ref = s.ref, .value = 8}).rc,
                 FX_EINVAL, "unknown flag");
    ag_assert_alive(&t, a);
    tvm_stop(&t);
}

Test(monitors, messages_sent_before_death_arrive_before_down)
{
    enum { N = 500 };
    tvm t = ag_start(2, false);
    fx_ref ra;
    fx_pid a = ag_spawn(&t, &ra);
    ag_send(&t, a, AG_SEND, (ag_cmd){.pid = t.me, .value = N});
    ag_send(&t, a, AG_STOP, (ag_cmd){.reason = fx_reason_shutdown()});
    /* Everything from a, in order: N pings, the SEND report, then DOWN. */
    fx_match from_a = {.from = a};
    for (uint64_t i = 0; i <= N + 1; i++) {
        fx_msg *m = NULL;
        cr_assert_eq(fx_inbox_recv(t.in, &from_a, 10000, &m), 0);
        uint32_t want = i < N ? AG_PING : i == N ? AG_REPORT : FX_MSG_DOWN;
        cr_assert_eq(fx_msg_type(m), want, "message %llu", (unsigned long long) i);
        fx_msg_free(m);
    }
    tvm_stop(&t);
}

Test(monitors, many_cycles_do_not_leak)
{
    /* Monitor/demonitor/link/unlink churn on one long-lived process: its
     * tables must shrink back (LeakSanitizer checks the frees). */
    tvm t = ag_start(2, false);
    fx_pid a = ag_spawn(&t, NULL);
    for (int round = 0; round < 20; round++) {
        fx_pid kids[50];
        fx_ref refs[50];
        for (int i = 0; i < 50; i++) {
            kids[i] = ag_spawn(&t, NULL);
            cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = kids[i]}).rc, 0);
            refs[i] = ag_do(&t, a, AG_MONITOR, (ag_cmd){.pid = kids[i]}).ref;
        }
        for (int i = 0; i < 50; i++) {
            cr_assert_eq(ag_do(&t, a, AG_UNLINK, (ag_cmd){.pid = kids[i]}).rc, 0);
            cr_assert_eq(ag_do(&t, a, AG_DEMONITOR, (ag_cmd){.ref = refs[i]}).rc, 0);
            ag_send(&t, kids[i], AG_STOP, (ag_cmd){.reason = boom});
        }
    }
    ag_assert_alive(&t, a);
    tvm_stop(&t);
}

/* --- call monitors (fx_monitor_call) ----------------------------------------- */

enum { CM_REQ = 100, CM_FWD, CM_DIE, CM_RESULT };

/* Replies to CM_REQ itself, has CM_FWD answered by its helper, dies on
 * CM_DIE without replying. */
static fx_next cm_server(fx_ctx *cx, fx_msg *m)
{
    fx_pid *helper = fx_state(cx);
    fx_from from = {fx_msg_from(m), fx_msg_ref(m)};
    if (fx_msg_type(m) == CM_REQ)
        cr_assert_eq(fx_reply(cx, from, "ok", 2), 0);
    else if (fx_msg_type(m) == CM_FWD)
        cr_assert_eq(fx_send(cx, *helper, CM_REQ, &from, sizeof from), 0);
    else if (fx_msg_type(m) == CM_DIE)
        return fx_stop(cx, boom);
    return fx_continue(cx);
}

static fx_next cm_helper(fx_ctx *cx, fx_msg *m)
{
    fx_from from;
    memcpy(&from, fx_msg_data(m), sizeof from);
    cr_assert_eq(fx_reply(cx, from, "ok", 2), 0);
    return fx_continue(cx);
}

typedef struct cm_client {
    fx_pid server, report;
    uint32_t req;
    bool plain; /* fx_monitor instead of fx_monitor_call */
    fx_ref ref;
} cm_client;

/* What the client saw: the answer's type, the server's monitored_by
 * count once the answer was there, fx_demonitor's answer after it, and
 * the DOWN's reason (if the answer was a DOWN). */
typedef struct cm_result {
    uint32_t type, monitored_by;
    int demonitor;
    fx_reason reason;
} cm_result;

static fx_next cm_got(fx_ctx *cx, fx_msg *m)
{
    cm_client *c = fx_state(cx);
    cm_result r = {.type = fx_msg_type(m), .monitored_by = UINT32_MAX};
    if (r.type == FX_MSG_DOWN)
        r.reason = ((const fx_down_info *) fx_msg_data(m))->reason;
    fx_proc_info info = {.version = FX_PROC_INFO_VERSION};
    if (fx_process_info(fx_ctx_vm(cx), c->server, &info) == 0)
        r.monitored_by = info.monitored_by;
    r.demonitor = fx_demonitor(cx, c->ref, 0);
    cr_assert_eq(fx_send(cx, c->report, CM_RESULT, &r, sizeof r), 0);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next cm_call(fx_ctx *cx, void *arg)
{
    (void) arg;
    cm_client *c = fx_state(cx);
    int rc = c->plain ? fx_monitor(cx, c->server, &c->ref)
                      : fx_monitor_call(cx, c->server, &c->ref);
    cr_assert_eq(rc, 0);
    fx_msg *req;
    cr_assert_eq(fx_msg_new(c->req, 0, &req), 0);
    fx_msg_set_ref(req, c->ref);
    if ((rc = fx_send_msg(cx, c->server, req)) != 0) {
        fx_msg_free(req);
        cr_assert_eq(rc, FX_ENOPROC); /* a dead server: its DOWN comes */
    }
    return fx_receive(cx, cm_got, &(fx_match){.ref = c->ref}, FX_INFINITY);
}

static cm_result cm_run(tvm *t, fx_pid server, uint32_t req, bool plain)
{
    cm_client c = {.server = server, .report = t->me, .req = req, .plain = plain};
    fx_spawn_opts o = {.init = cm_call, .state_size = sizeof c, .state_init = &c};
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, NULL), 0);
    fx_msg *m = tvm_recv(t, CM_RESULT);
    cm_result r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

Test(monitors, call_monitor_ends_with_the_servers_reply)
{
    tvm t = tvm_start(2);
    fx_pid helper = spawn_state(t.vm, cm_helper, NULL, 0);
    fx_pid server = spawn_state(t.vm, cm_server, &helper, sizeof helper);
    /* The server's reply ended the monitor at both ends: the server holds
     * no promise for it any more, and there is nothing to demonitor. */
    cm_result r = cm_run(&t, server, CM_REQ, false);
    cr_assert_eq(r.type, FX_MSG_REPLY);
    cr_assert_eq(r.monitored_by, 0);
    cr_assert_eq(r.demonitor, FX_ENOENT);
    /* A plain monitor outlives the reply. */
    r = cm_run(&t, server, CM_REQ, true);
    cr_assert_eq(r.type, FX_MSG_REPLY);
    cr_assert_eq(r.monitored_by, 1);
    cr_assert_eq(r.demonitor, 0);
    /* A reply from another process (deferred) leaves the call monitor. */
    r = cm_run(&t, server, CM_FWD, false);
    cr_assert_eq(r.type, FX_MSG_REPLY);
    cr_assert_eq(r.monitored_by, 1);
    cr_assert_eq(r.demonitor, 0);
    tvm_stop(&t);
}

Test(monitors, call_monitor_reports_a_server_dying_before_its_reply)
{
    tvm t = tvm_start_quiet(2);
    fx_pid helper = spawn_state(t.vm, cm_helper, NULL, 0);
    fx_pid server = spawn_state(t.vm, cm_server, &helper, sizeof helper);
    cm_result r = cm_run(&t, server, CM_DIE, false);
    cr_assert_eq(r.type, FX_MSG_DOWN);
    assert_reason(r.reason, boom);
    cr_assert_eq(r.demonitor, FX_ENOENT); /* fired */
    /* A dead server: noproc at once, as fx_monitor. */
    r = cm_run(&t, server, CM_REQ, false);
    cr_assert_eq(r.type, FX_MSG_DOWN);
    assert_reason(r.reason, fx_reason_noproc());
    tvm_stop(&t);
}
