/* Node monitoring (dist.h: fx_dist_monitor_node, fx_dist_monitor_nodes
 * and their inbox forms): nodeup/nodedown with Erlang's semantics against
 * a real erl node that is killed, an unreachable node and a fauxtp peer
 * that stops; a private epmd on loopback, peers killed by pid. */
#include <string.h>

#include "dist_helpers.h"

TestSuite(dist, .fini = kill_kids, .timeout = 180);

/* The next node event of `type` (waits up to 10 s). */
static fx_dist_node_event recv_event(tvm *t, uint32_t type)
{
    fx_msg *m = tvm_recv(t, type);
    fx_dist_node_event ev;
    cr_assert_eq(fx_msg_size(m), sizeof ev);
    memcpy(&ev, fx_msg_data(m), sizeof ev);
    fx_msg_free(m);
    return ev;
}

/* How many messages of `type` are queued before a marker sent now (every
 * event that has been sent before is counted). */
static int count_queued(tvm *t, uint32_t type)
{
    cr_assert_eq(fx_vm_send(t->vm, t->me, 999, NULL, 0), 0);
    int n = 0;
    for (;;) {
        fx_msg *m;
        cr_assert_eq(fx_inbox_recv(t->in, NULL, 10000, &m), 0);
        uint32_t ty = fx_msg_type(m);
        fx_msg_free(m);
        if (ty == 999)
            return n;
        if (ty == type)
            n++;
    }
}

Test(dist, monitor_node_and_monitor_nodes_see_an_erlang_node_killed)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    cr_assert_eq(fx_inbox_monitor_nodes(t.in, true), 0);
    pid_t e = start_erl("n1@127.0.0.1", COOKIE, "receive never -> ok end.");
    cr_assert_eq(connect_retry(t.vm, "n1@127.0.0.1"), 0);
    fx_dist_node_event ev = recv_event(&t, FX_MSG_NODEUP);
    cr_assert_str_eq(ev.node, "n1@127.0.0.1");
    cr_assert_neq(ev.creation, 0u);
    cr_assert_str_eq(ev.reason, "");
    uint32_t creation = ev.creation;
    /* three monitors, one removed: two nodedowns; a second subscription
     * doubles the subscriber's */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(fx_inbox_monitor_node(t.in, "n1@127.0.0.1", true), 0);
    cr_assert_eq(fx_inbox_monitor_node(t.in, "n1@127.0.0.1", false), 0);
    cr_assert_eq(fx_inbox_monitor_nodes(t.in, true), 0);
    cr_assert_eq(fx_inbox_monitor_node(t.in, FXNODE, true), 0); /* own: never fires */
    kill(e, SIGKILL);
    for (int i = 0; i < 4; i++) {
        ev = recv_event(&t, FX_MSG_NODEDOWN);
        cr_assert_str_eq(ev.node, "n1@127.0.0.1");
        cr_assert_eq(ev.creation, creation);
        cr_assert_str_eq(ev.reason, "connection_closed");
    }
    cr_assert_eq(count_queued(&t, FX_MSG_NODEDOWN), 0, "more nodedowns than monitors");
    /* monitor_node fired once: a new connection and its loss give only
     * the subscriber's two */
    pid_t e2 = start_erl("n1@127.0.0.1", COOKIE, "receive never -> ok end.");
    cr_assert_eq(connect_retry(t.vm, "n1@127.0.0.1"), 0);
    ev = recv_event(&t, FX_MSG_NODEUP);
    cr_assert_neq(ev.creation, creation, "a new incarnation");
    fx_msg_free(tvm_recv(&t, FX_MSG_NODEUP));
    cr_assert_eq(fx_inbox_monitor_nodes(t.in, false), 0); /* one of two left */
    kill(e2, SIGKILL);
    recv_event(&t, FX_MSG_NODEDOWN);
    cr_assert_eq(count_queued(&t, FX_MSG_NODEDOWN), 0);
    tvm_stop(&t);
}

Test(dist, monitor_node_of_an_unreachable_node_fires_at_once)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    cr_assert_eq(fx_inbox_monitor_node(t.in, "nobody@127.0.0.1", true), 0);
    cr_assert_eq(fx_inbox_monitor_node(t.in, "nobody@127.0.0.1", true), 0);
    for (int i = 0; i < 2; i++) {
        fx_dist_node_event ev = recv_event(&t, FX_MSG_NODEDOWN);
        cr_assert_str_eq(ev.node, "nobody@127.0.0.1");
        cr_assert_eq(ev.creation, 0u);
        cr_assert_neq(ev.reason[0], '\0');
    }
    cr_assert_eq(count_queued(&t, FX_MSG_NODEDOWN), 0);
    cr_assert_eq(fx_inbox_monitor_node(t.in, "bad name", true), FX_EINVAL);
    tvm_stop(&t);
}

/* An actor that monitors node `peer` from its handler and forwards its
 * node events to `report`. */
typedef struct nm_st {
    fx_pid report;
    char peer[64];
} nm_st;

static fx_next nm_loop(fx_ctx *cx, fx_msg *m)
{
    nm_st *s = fx_state(cx);
    uint32_t t = fx_msg_type(m);
    if (t == 1)
        fx_send(cx, s->report, 2, NULL, 0);
    else if (t == FX_MSG_NODEDOWN || t == FX_MSG_NODEUP)
        fx_send(cx, s->report, t == FX_MSG_NODEUP ? 10 : 11, fx_msg_data(m),
                fx_msg_size(m));
    return fx_continue(cx);
}

static fx_next nm_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    nm_st *s = fx_state(cx);
    cr_assert_eq(fx_dist_monitor_node(cx, s->peer, true), 0);
    cr_assert_eq(fx_dist_monitor_nodes(cx, true), 0);
    return fx_become(cx, nm_loop);
}

Test(dist, a_fauxtp_peer_that_stops_is_a_nodedown_on_both_sides)
{
    skip_unless_ready();
    start_epmd();
    tvm a = node_vm("a@127.0.0.1");
    tvm b = node_vm("b@127.0.0.1");
    cr_assert_eq(fx_inbox_monitor_nodes(b.in, true), 0);
    cr_assert_eq(fx_dist_connect(a.vm, "b@127.0.0.1", 5000), 0);
    nm_st st = {.report = a.me};
    strcpy(st.peer, "b@127.0.0.1");
    fx_spawn_opts o = {.init = nm_init, .state_size = sizeof st, .state_init = &st};
    fx_pid w;
    cr_assert_eq(fx_vm_spawn_opt(a.vm, &o, &w), 0);
    cr_assert_eq(fx_vm_send(a.vm, w, 1, NULL, 0), 0); /* its monitors are set */
    fx_msg_free(tvm_recv(&a, 2));
    fx_dist_node_event ev = recv_event(&b, FX_MSG_NODEUP);
    cr_assert_str_eq(ev.node, "a@127.0.0.1");
    cr_assert_eq(fx_dist_stop(b.vm), 0);
    /* B's own subscriber: the local stop */
    ev = recv_event(&b, FX_MSG_NODEDOWN);
    cr_assert_str_eq(ev.node, "a@127.0.0.1");
    cr_assert_str_eq(ev.reason, "stopped");
    /* A's actor: its monitor_node and its subscription */
    for (int i = 0; i < 2; i++) {
        fx_msg *m = tvm_recv(&a, 11);
        cr_assert_eq(fx_msg_size(m), sizeof ev);
        memcpy(&ev, fx_msg_data(m), sizeof ev);
        fx_msg_free(m);
        cr_assert_str_eq(ev.node, "b@127.0.0.1");
    }
    cr_assert_eq(count_queued(&a, 11), 0);
    cr_assert_eq(fx_inbox_monitor_nodes(b.in, true), FX_ENOTDIST);
    tvm_stop(&a);
    tvm_stop(&b);
}
