/* The life of a node and its peers (docs/distribution.md): fx_dist_stop
 * ends handshakes under way, and a node whose connection goes down takes
 * its remote pids with it (sends dropped, links and monitors
 * noconnection, the pid table freed). Loopback, a private epmd, peers
 * stopped by pid. */
#include <string.h>

#include "dist/dist.h"
#include "dist_helpers.h"
#include "dist_wire.h"

TestSuite(dist, .fini = kill_kids, .timeout = 180);

/* fx_dist_start again on a stopped node (epmd may take a moment to
 * forget the previous registration). */
static void restart(tvm *t, const char *name)
{
    fx_dist_opts o = {.name = name,
                      .cookie = COOKIE,
                      .listen_ip = "127.0.0.1",
                      .epmd_port = (uint16_t) atoi(epmd_port)};
    int rc = FX_EDIST;
    for (int i = 0; i < 100 && (rc == FX_EDIST || rc == FX_ECONNECT); i++)
        if ((rc = fx_dist_start(t->vm, &o)) == FX_EDIST || rc == FX_ECONNECT)
            usleep(50000);
    cr_assert_eq(rc, 0, "fx_dist_start again: %s", fx_strerror(rc));
}

Test(dist, a_handshake_under_way_ends_with_fx_dist_stop_and_never_completes_later)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    uint16_t port = node_port("fx");
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 20};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(s, (struct sockaddr *) &a, sizeof a), 0);
    uint8_t b[512];
    size_t n =
        fxi_hs_send_name(b, sizeof b, fxi_dist_flags_ours(false), 1, "late@127.0.0.1");
    cr_assert_eq(send(s, b, n, 0), (ssize_t) n);
    ssize_t r = hs_read(s, b, sizeof b);
    cr_assert(r == 3 && memcmp(b, "sok", 3) == 0, "no ok status");
    r = hs_read(s, b, sizeof b);
    fxi_hs_peer pi;
    cr_assert(r > 0 && fxi_hs_parse_n(b, (size_t) r, true, &pi) == 0, "no challenge");
    cr_assert_eq(fx_dist_stop(t.vm), 0);
    /* the node's next incarnation is running when the answer comes */
    restart(&t, FXNODE);
    uint8_t dig[16];
    fxi_dist_digest(pi.challenge, COOKIE, dig);
    n = fxi_hs_reply(b, sizeof b, 12345, dig);
    (void) send(s, b, n, MSG_NOSIGNAL); /* may fail: the socket is closed */
    r = hs_read(s, b, sizeof b);
    cr_assert(r<0, "a handshake of the stopped incarnation completed (%c)", r> 0 ? b[0]
                                                                                 : '?');
    close(s);
    cr_assert_eq(node_entries(t.vm), 0, "the late handshake made a node entry");
    cr_assert_eq(fx_dist_nodes(t.vm, NULL, 0), 0);
    tvm_stop(&t);
}

/* On type 1: asks B's echo by name (type 5); forwards the echo's pid as
 * 43. On type 3 with a pid: monitors it, reports the DOWN's reason as 101. */
typedef struct ask_st {
    fx_pid report;
} ask_st;

static fx_next asker(fx_ctx *cx, fx_msg *m)
{
    ask_st *s = fx_state(cx);
    uint32_t t = fx_msg_type(m);
    if (t == 1) {
        cr_assert_eq(fx_dist_send_named(cx, "b@127.0.0.1", "echo", 5, NULL, 0), 0);
    } else if (t == 6) {
        fx_pid from = fx_msg_from(m);
        fx_send(cx, s->report, 43, &from, sizeof from);
    } else if (t == 3) {
        fx_pid p;
        fx_ref ref;
        memcpy(&p, fx_msg_data(m), sizeof p);
        cr_assert_eq(fx_monitor(cx, p, &ref), 0);
    } else if (t == FX_MSG_DOWN) {
        const fx_down_info *d = fx_msg_data(m);
        fx_send(cx, s->report, 101, &d->reason, sizeof d->reason);
    }
    return fx_continue(cx);
}

static fx_pid ask_echo(tvm *a, fx_pid asker_pid)
{
    cr_assert_eq(fx_vm_send(a->vm, asker_pid, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(a, 43);
    fx_pid p;
    memcpy(&p, fx_msg_data(m), sizeof p);
    fx_msg_free(m);
    return p;
}

/* The number of remote pids A holds for node `name` (0 without an entry). */
static uint32_t pids_of(fx_vm *vm, const char *name)
{
    fxi_dist *d = fxi_dist_get(vm);
    fxi_mutex_lock(&d->mx);
    fxi_rnode *n = fxi_dist_find(d, name);
    uint32_t k = n ? n->npids : 0;
    fxi_mutex_unlock(&d->mx);
    return k;
}

Test(dist, a_node_that_goes_down_takes_its_remote_pids_with_it)
{
    skip_unless_ready();
    start_epmd();
    tvm a = node_vm("a@127.0.0.1");
    tvm b = node_vm("b@127.0.0.1");
    start_echo(&b);
    ask_st st = {.report = a.me};
    fx_spawn_opts o = {.handler = asker, .state_size = sizeof st, .state_init = &st};
    fx_pid ask;
    cr_assert_eq(fx_vm_spawn_opt(a.vm, &o, &ask), 0);
    fx_pid rp = ask_echo(&a, ask);
    char nb[64];
    cr_assert_gt(fx_dist_pid_node(a.vm, rp, nb, sizeof nb), 0);
    cr_assert_str_eq(nb, "b@127.0.0.1");
    cr_assert_geq(pids_of(a.vm, "b@127.0.0.1"), 1);
    cr_assert_eq(fx_inbox_monitor_node(a.in, "b@127.0.0.1", true), 0);
    cr_assert_eq(fx_dist_stop(b.vm), 0);
    fx_msg_free(tvm_recv(&a, FX_MSG_NODEDOWN));
    /* the incarnation is over: its pids name no node, the table is empty */
    cr_assert_eq(fx_dist_pid_node(a.vm, rp, nb, sizeof nb), FX_ENOENT);
    cr_assert_eq(pids_of(a.vm, "b@127.0.0.1"), 0);
    cr_assert_eq(fx_vm_send(a.vm, rp, 5, NULL, 0), FX_ENOPROC);
    cr_assert_eq(fx_vm_send(a.vm, ask, 3, &rp, sizeof rp), 0);
    fx_msg *m = tvm_recv(&a, 101);
    fx_reason r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    cr_assert(r.kind == FX_REASON_ERROR && r.code == FX_ENODE &&
                  strcmp(r.text, "noconnection") == 0,
              "DOWN of a pid of a gone incarnation is not noconnection");
    /* B comes back: a new incarnation, new pids; the old one stays dead */
    restart(&b, "b@127.0.0.1");
    fx_pid rp2 = ask_echo(&a, ask);
    cr_assert_neq(rp2.id, rp.id);
    cr_assert_eq(fx_vm_send(a.vm, rp, 5, NULL, 0), FX_ENOPROC);
    cr_assert_eq(fx_vm_send(a.vm, rp2, 5, NULL, 0), 0);
    tvm_stop(&a);
    tvm_stop(&b);
}
