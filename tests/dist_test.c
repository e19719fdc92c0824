/* The distribution layer against real Erlang nodes and between two
 * fauxtp nodes, all on loopback with a private epmd started here and
 * stopped by pid (also on failure: the suite's fini and atexit). Skips
 * with a reason when the library has no distribution or erl is absent. */
#include <pthread.h>

#ifdef FXT_DIST_ON /* the internals some tests use (meson defines it) */
#include "dist/dist.h"
#endif
#include "dist_helpers.h"
#ifdef FXT_DIST_ON
#include "dist_wire.h"
#endif

TestSuite(dist, .fini = kill_kids, .timeout = 120);

Test(dist, erlang_sends_to_registered_fauxtp_process_and_gets_replies)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    start_echo(&t);
    pid_t e =
        start_erl("e1@127.0.0.1", COOKIE,
                  "Fx = 'fx@127.0.0.1',"
                  "true = net_kernel:connect_node(Fx),"
                  "{echo, Fx} ! {42, <<\"hi\">>},"
                  "R1 = receive {43, <<\"hi\">>} -> ok after 10000 -> halt(3) end,"
                  "{echo, Fx} ! {hello, [1,2,3], 3.5},"
                  "R2 = receive {hello, [1,2,3], 3.5} -> ok after 10000 -> halt(4) end,"
                  "ok = R1, ok = R2, halt(0).");
    cr_assert_eq(erl_status(e), 0,
                 "the Erlang side failed (3: no reply, 4: no term echo)");
    fx_dist_node_info ni[4];
    cr_assert_geq(fx_dist_nodes(t.vm, ni, 4), 0);
    cr_assert_eq(fx_dist_stop(t.vm), 0);
    tvm_stop(&t);
}

Test(dist, fauxtp_sends_to_erlang_name_and_erlang_replies_to_fauxtp_name)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    cr_assert_eq(fx_register(t.in, "tester", t.me, NULL), 0);
    pid_t e = start_erl("e2@127.0.0.1", COOKIE,
                        "register(erlecho, self()),"
                        "receive {T, B} -> {tester, 'fx@127.0.0.1'} ! {T + 1, B} "
                        "after 30000 -> halt(3) end,"
                        "timer:sleep(1000), halt(0).");
    cr_assert_eq(connect_retry(t.vm, "e2@127.0.0.1"), 0);
    fx_dist_node_info ni[4];
    cr_assert_eq(fx_dist_nodes(t.vm, ni, 4), 1);
    cr_assert_str_eq(ni[0].name, "e2@127.0.0.1");
    /* the registered name may not be there yet: erl registers it first
     * thing, but resend until the reply comes */
    fx_msg *m = NULL;
    for (int i = 0; i < 50 && !m; i++) {
        cr_assert_eq(fx_dist_vm_send_named(t.vm, "e2@127.0.0.1", "erlecho", 7, "abc", 3),
                     0);
        fx_match mt = {.type = 8};
        if (fx_inbox_recv(t.in, &mt, 200, &m) != 0)
            m = NULL;
    }
    cr_assert_not_null(m, "no reply from Erlang");
    cr_assert_eq(fx_msg_size(m), 3);
    cr_assert_eq(memcmp(fx_msg_data(m), "abc", 3), 0);
    char node[256];
    cr_assert_gt(fx_dist_pid_node(t.vm, fx_msg_from(m), node, sizeof node), 0);
    cr_assert_str_eq(node, "e2@127.0.0.1");
    fx_msg_free(m);
    cr_assert_eq(erl_status(e), 0);
    tvm_stop(&t);
}

Test(dist, wrong_cookie_is_refused_both_ways)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    pid_t e = start_erl("e3@127.0.0.1", "not" COOKIE,
                        "timer:sleep(500),"
                        "false = net_kernel:connect_node('fx@127.0.0.1'),"
                        "timer:sleep(3000), halt(0).");
    int rc = connect_retry(t.vm, "e3@127.0.0.1");
    cr_assert_eq(rc, FX_EAUTH, "connect with a wrong cookie: %s", fx_strerror(rc));
    cr_assert_eq(erl_status(e), 0, "Erlang got in with a wrong cookie");
    cr_assert_eq(fx_dist_nodes(t.vm, NULL, 0), 0);
    tvm_stop(&t);
}

Test(dist, garbage_on_the_listen_port_is_survived)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    start_echo(&t);
    /* find our port through epmd's names list is not needed: try a raw
     * connection through the port epmd gives Erlang; simplest is to let
     * Erlang find it, so the garbage goes first through a helper erl. */
    pid_t g = start_erl("g@127.0.0.1", COOKIE,
                        "{port, P, _} = erl_epmd:port_please(\"fx\", {127,0,0,1}),"
                        "[begin {ok, S} = gen_tcp:connect({127,0,0,1}, P, []),"
                        "  gen_tcp:send(S, rand:bytes(N)), timer:sleep(50),"
                        "  gen_tcp:close(S) end || N <- [1, 2, 3, 7, 100, 5000]],"
                        "{ok, S2} = gen_tcp:connect({127,0,0,1}, P, []),"
                        "gen_tcp:send(S2, <<0, 200, $N, 0:64>>), gen_tcp:close(S2),"
                        "true = net_kernel:connect_node('fx@127.0.0.1'),"
                        "{echo, 'fx@127.0.0.1'} ! {1, <<\"x\">>},"
                        "receive {2, <<\"x\">>} -> halt(0) after 10000 -> halt(3) end.");
    cr_assert_eq(erl_status(g), 0, "node did not survive garbage (3: no reply)");
    tvm_stop(&t);
}

/* A client on node A: sends {42, "hi"} to echo on node B and forwards
 * the reply to the test's inbox. */
typedef struct cli {
    fx_pid report;
    const char *peer; /* NULL: b@127.0.0.1 */
} cli;

static fx_next cli_wait(fx_ctx *cx, fx_msg *m)
{
    cli *c = fx_state(cx);
    if (fx_msg_type(m) == 43) {
        fx_send(cx, c->report, 43, fx_msg_data(m), fx_msg_size(m));
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_continue(cx);
}

static fx_next cli_start(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    cli *c = fx_state(cx);
    int rc =
        fx_dist_send_named(cx, c->peer ? c->peer : "b@127.0.0.1", "echo", 42, "hi", 2);
    cr_assert_eq(rc, 0);
    return fx_become(cx, cli_wait);
}

Test(dist, two_fauxtp_nodes_exchange_messages)
{
    skip_unless_ready();
    start_epmd();
    tvm a = node_vm("a@127.0.0.1");
    tvm b = node_vm("b@127.0.0.1");
    start_echo(&b);
    int rc = fx_dist_connect(a.vm, "b@127.0.0.1", 10000);
    cr_assert_eq(rc, 0, "connect: %s", fx_strerror(rc));
    cli c = {.report = a.me};
    fx_pid p = spawn_state(a.vm, cli_start, &c, sizeof c);
    cr_assert_eq(fx_vm_send(a.vm, p, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(&a, 43);
    cr_assert_eq(fx_msg_size(m), 2);
    cr_assert_eq(memcmp(fx_msg_data(m), "hi", 2), 0);
    fx_msg_free(m);
    tvm_stop(&a);
    tvm_stop(&b);
}

/* A burst of small frames (held back and coalesced by the connection)
 * with a frame over the 64 KiB coalescing limit every tenth: echo's
 * replies must come back whole and in order, both connections having
 * coalesced them (dist_conn.c, send_frame). */
#define BURST 300
#define BIG (100u * 1024u)

typedef struct burst {
    fx_pid report;
    uint32_t next, bad;
} burst;

static size_t burst_size(uint32_t i)
{
    return i % 10 == 5 ? BIG : 8;
}

static fx_next burst_wait(fx_ctx *cx, fx_msg *m)
{
    burst *b = fx_state(cx);
    if (fx_msg_type(m) != 51)
        return fx_continue(cx);
    uint32_t seq = UINT32_MAX;
    if (fx_msg_size(m) >= sizeof seq)
        memcpy(&seq, fx_msg_data(m), sizeof seq);
    if (seq != b->next || fx_msg_size(m) != burst_size(b->next))
        b->bad++;
    if (++b->next < BURST)
        return fx_continue(cx);
    fx_send(cx, b->report, 43, &b->bad, sizeof b->bad);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next burst_start(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    static uint8_t buf[BIG];
    for (uint32_t i = 0; i < BURST; i++) {
        memcpy(buf, &i, sizeof i);
        cr_assert_eq(
            fx_dist_send_named(cx, "b@127.0.0.1", "echo", 50, buf, burst_size(i)), 0);
    }
    return fx_become(cx, burst_wait);
}

Test(dist, a_burst_of_small_and_big_frames_keeps_its_order)
{
    skip_unless_ready();
    start_epmd();
    tvm a = node_vm("a@127.0.0.1");
    tvm b = node_vm("b@127.0.0.1");
    start_echo(&b);
    int rc = fx_dist_connect(a.vm, "b@127.0.0.1", 10000);
    cr_assert_eq(rc, 0, "connect: %s", fx_strerror(rc));
    burst st = {.report = a.me};
    fx_pid p = spawn_state(a.vm, burst_start, &st, sizeof st);
    cr_assert_eq(fx_vm_send(a.vm, p, 1, NULL, 0), 0);
    fx_msg *r = tvm_recv(&a, 43);
    uint32_t bad;
    cr_assert_eq(fx_msg_size(r), sizeof bad);
    memcpy(&bad, fx_msg_data(r), sizeof bad);
    fx_msg_free(r);
    cr_assert_eq(bad, 0, "%u replies out of order or cut", bad);
    tvm_stop(&a);
    tvm_stop(&b);
}

/* The poll-spin before parking (fx_vm_config.io_spin_us) on both nodes:
 * the burst still arrives whole and in order, and once it is over the
 * spinning stops (it follows recent I/O only): the two idle VMs use far
 * less than one CPU (a spin that never stopped would burn a thread). */
Test(dist, the_poll_spin_keeps_order_and_stops_when_idle)
{
    skip_unless_ready();
    start_epmd();
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.io_spin_us = 200;
    tvm a = node_vm_cfg("a@127.0.0.1", 0, &c);
    tvm b = node_vm_cfg("b@127.0.0.1", 0, &c);
    start_echo(&b);
    int rc = fx_dist_connect(a.vm, "b@127.0.0.1", 10000);
    cr_assert_eq(rc, 0, "connect: %s", fx_strerror(rc));
    burst st = {.report = a.me};
    fx_pid p = spawn_state(a.vm, burst_start, &st, sizeof st);
    cr_assert_eq(fx_vm_send(a.vm, p, 1, NULL, 0), 0);
    fx_msg *r = tvm_recv(&a, 43);
    uint32_t bad;
    cr_assert_eq(fx_msg_size(r), sizeof bad);
    memcpy(&bad, fx_msg_data(r), sizeof bad);
    fx_msg_free(r);
    cr_assert_eq(bad, 0, "%u replies out of order or cut", bad);
    usleep(100000); /* the last spins run out */
    struct timespec c0, c1, w0, w1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    clock_gettime(CLOCK_MONOTONIC, &w0);
    usleep(1000000);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    double cpu =
        (double) (c1.tv_sec - c0.tv_sec) + (double) (c1.tv_nsec - c0.tv_nsec) / 1e9;
    double wall =
        (double) (w1.tv_sec - w0.tv_sec) + (double) (w1.tv_nsec - w0.tv_nsec) / 1e9;
    cr_assert_lt(cpu, wall / 2, "idle nodes used %.3f s of CPU in %.3f s", cpu, wall);
    tvm_stop(&a);
    tvm_stop(&b);
}

/* ---- links and monitors across nodes ---------------------------------- */

/* Links to and monitors each process that sends it type 1 or 3, answers
 * with type + 1, and reports EXIT (100) and DOWN (101) reasons, and 102
 * when it has linked to a type-3 sender. Traps exits. */
typedef struct watch_st {
    fx_pid report;
} watch_st;

static fx_next watcher(fx_ctx *cx, fx_msg *m)
{
    watch_st *w = fx_state(cx);
    uint32_t t = fx_msg_type(m);
    if (t == 1 || t == 3) {
        fx_ref ref;
        cr_assert_eq(fx_link(cx, fx_msg_from(m)), 0);
        cr_assert_eq(fx_monitor(cx, fx_msg_from(m), &ref), 0);
        fx_send(cx, fx_msg_from(m), t + 1, NULL, 0);
        if (t == 3)
            fx_send(cx, w->report, 102, NULL, 0);
    } else if (t == FX_MSG_EXIT) {
        const fx_exit_info *e = fx_msg_data(m);
        fx_send(cx, w->report, 100, &e->reason, sizeof e->reason);
    } else if (t == FX_MSG_DOWN) {
        const fx_down_info *d = fx_msg_data(m);
        fx_send(cx, w->report, 101, &d->reason, sizeof d->reason);
    }
    return fx_continue(cx);
}

static fx_next watcher_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_trap_exit(cx, true);
    return fx_become(cx, watcher);
}

static fx_reason recv_reason(tvm *t, uint32_t type)
{
    fx_msg *m = tvm_recv(t, type);
    fx_reason r;
    cr_assert_eq(fx_msg_size(m), sizeof r);
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

Test(dist, links_and_monitors_on_erlang_processes_see_exits_and_noconnection)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    watch_st ws = {.report = t.me};
    fx_spawn_opts o = {.init = watcher_init, .state_size = sizeof ws, .state_init = &ws};
    fx_pid w;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &w), 0);
    cr_assert_eq(fx_register(t.in, "watcher", w, NULL), 0);
    pid_t e = start_erl("e4@127.0.0.1", COOKIE,
                        "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
                        "spawn(fun() -> {watcher, Fx} ! {1, <<>>},"
                        "  receive {2, _} -> exit(boom) end end),"
                        "spawn(fun() -> {watcher, Fx} ! {3, <<>>},"
                        "  receive never -> ok end end),"
                        "receive never -> ok end.");
    char text[128];
    fx_reason r = recv_reason(&t, 100);
    fx_reason_format(&r, text, sizeof text);
    cr_assert(r.kind == FX_REASON_ERROR && r.code == FX_EEXIT &&
                  strcmp(r.text, "boom") == 0,
              "EXIT reason %s", text);
    r = recv_reason(&t, 101);
    fx_reason_format(&r, text, sizeof text);
    cr_assert(r.kind == FX_REASON_ERROR && strcmp(r.text, "boom") == 0, "DOWN reason %s",
              text);
    fx_msg_free(tvm_recv(&t, 102));
    kill(e, SIGKILL); /* the remote node dies: noconnection */
    r = recv_reason(&t, 100);
    fx_reason_format(&r, text, sizeof text);
    cr_assert(r.kind == FX_REASON_ERROR && r.code == FX_ENODE &&
                  strcmp(r.text, "noconnection") == 0,
              "EXIT reason %s", text);
    r = recv_reason(&t, 101);
    cr_assert(r.kind == FX_REASON_ERROR && r.code == FX_ENODE);
    cr_assert_eq(fx_dist_nodes(t.vm, NULL, 0), 0);
    tvm_stop(&t);
}

static fx_next victim(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == 5)
        fx_send(cx, fx_msg_from(m), 6, NULL, 0);
    if (fx_msg_type(m) == 7)
        return fx_stop(cx, fx_reason_shutdown_with("bye"));
    return fx_continue(cx);
}

Test(dist, erlang_monitor_by_name_sees_the_fauxtp_exit_reason)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    fx_pid v;
    cr_assert_eq(fx_vm_spawn(t.vm, victim, NULL, &v), 0);
    cr_assert_eq(fx_register(t.in, "victim", v, NULL), 0);
    pid_t e =
        start_erl("e5@127.0.0.1", COOKIE,
                  "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
                  "Ref = erlang:monitor(process, {victim, Fx}),"
                  "{victim, Fx} ! {5, <<>>},"
                  "receive {6, _} -> ok after 10000 -> halt(3) end,"
                  "R0 = erlang:monitor(process, {nobody, Fx}),"
                  "receive {'DOWN', R0, process, {nobody, Fx}, noproc} -> ok "
                  "after 10000 -> halt(5) end,"
                  "{victim, Fx} ! {7, <<>>},"
                  "receive {'DOWN', Ref, process, {victim, Fx}, {shutdown, <<\"bye\">>}}"
                  " -> halt(0); Other -> io:format(\"~p~n\", [Other]), halt(4) "
                  "after 10000 -> halt(6) end.");
    cr_assert_eq(erl_status(e), 0,
                 "Erlang side: 3 no reply, 4 wrong DOWN, 5 no noproc DOWN, 6 no DOWN");
    tvm_stop(&t);
}

Test(dist, a_silent_peer_is_dropped_at_the_net_tick_timeout)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm_tick(FXNODE, 2000); /* nothing heard for 2 s: down */
    watch_st ws = {.report = t.me};
    fx_spawn_opts o = {.init = watcher_init, .state_size = sizeof ws, .state_init = &ws};
    fx_pid w;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &w), 0);
    cr_assert_eq(fx_register(t.in, "watcher", w, NULL), 0);
    pid_t e = start_erl("e6@127.0.0.1", COOKIE,
                        "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
                        "spawn(fun() -> {watcher, Fx} ! {3, <<>>},"
                        "  receive never -> ok end end),"
                        "receive never -> ok end.");
    fx_msg_free(tvm_recv(&t, 102));
    kill(e, SIGSTOP); /* alive but silent: the socket stays open */
    fx_reason r = recv_reason(&t, 100);
    cr_assert(r.kind == FX_REASON_ERROR && r.code == FX_ENODE, "not noconnection");
    r = recv_reason(&t, 101);
    cr_assert(r.kind == FX_REASON_ERROR && r.code == FX_ENODE);
    cr_assert_eq(fx_dist_nodes(t.vm, NULL, 0), 0);
    kill(e, SIGKILL);
    tvm_stop(&t);
}

/* ---- GenServer interop ------------------------------------------------- */

static fx_gs_ret gs_init(fx_ctx *cx, void *arg, void **state)
{
    *state = arg;
    return fx_gs_ok(cx);
}

static fx_gs_ret gs_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                         const void *data, size_t size)
{
    (void) state, (void) from;
    if (type == FX_MSG_TERM)
        return fx_gs_reply(cx, "term", 4);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "re%u:%.*s", type, (int) size, (const char *) data);
    return fx_gs_reply(cx, buf, (size_t) n);
}

static fx_gs_ret gs_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                         size_t size)
{
    fx_pid *report = state;
    fx_send(cx, *report, type, data, size);
    return fx_gs_noreply(cx);
}

static const fx_gs_ops gs_ops = {
    .init = gs_init, .handle_call = gs_call, .handle_cast = gs_cast};

Test(dist, erlang_gen_server_call_and_cast_reach_a_fauxtp_gen_server)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    fx_gs_spec spec = {.ops = &gs_ops, .arg = &t.me, .name = "gs"};
    fx_pid gs;
    cr_assert_eq(fx_gs_start(t.in, &spec, &gs, NULL), 0);
    pid_t e =
        start_erl("e7@127.0.0.1", COOKIE,
                  "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
                  "R1 = (catch gen_server:call({gs, Fx}, {7, <<\"ping\">>}, 10000)),"
                  "R2 = (catch gen_server:call({gs, Fx}, hello, 10000)),"
                  "R3 = (catch gen_server:call({nogs, Fx}, hello, 10000)),"
                  "gen_server:cast({gs, Fx}, {9, <<\"c\">>}),"
                  "io:format(\"~p ~p ~p~n\", [R1, R2, R3]),"
                  "case {R1, R2, R3} of"
                  "  {<<\"re7:ping\">>, <<\"term\">>, {'EXIT', {noproc, _}}} -> ok;"
                  "  _ -> halt(3) end,"
                  "timer:sleep(500), halt(0).");
    fx_msg *m = tvm_recv(&t, 9);
    cr_assert_eq(fx_msg_size(m), 1);
    fx_msg_free(m);
    cr_assert_eq(erl_status(e), 0, "the Erlang side's calls failed");
    tvm_stop(&t);
}

/* Type 1: never answered; type 2: answered. */
static fx_gs_ret silent_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                             const void *data, size_t size)
{
    (void) state, (void) from, (void) data, (void) size;
    if (type == 1)
        return fx_gs_noreply(cx);
    return fx_gs_reply(cx, "answered", 8);
}

static const fx_gs_ops silent_ops = {.init = gs_init, .handle_call = silent_call};

/* Every remote call waits in the connection for its reply; before, a
 * server that never answered kept its callers' entries until the
 * connection closed and past 65,536 of them every new call was dropped.
 * Now an entry ends with its caller's monitor (the caller gave up and
 * demonitored), so 70,000 unanswered calls leave the next call served. */
Test(dist, unanswered_remote_calls_cost_nothing_once_their_callers_gave_up)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    fx_gs_spec spec = {.ops = &silent_ops, .arg = &t.me, .name = "silent"};
    fx_pid gs;
    cr_assert_eq(fx_gs_start(t.in, &spec, &gs, NULL), 0);
    pid_t e = start_erl(
        "e8@127.0.0.1", COOKIE,
        "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
        "L = fun L(0) -> ok; L(N) ->"
        "  {'EXIT', {timeout, _}} = (catch gen_server:call({silent, Fx}, {1, <<>>}, 0)),"
        "  L(N - 1) end,"
        "L(70000),"
        "R = (catch gen_server:call({silent, Fx}, {2, <<>>}, 60000)),"
        "io:format(\"~p~n\", [R]),"
        "case R of <<\"answered\">> -> halt(0); _ -> halt(3) end.");
    cr_assert_eq(erl_status_within(e, 120), 0,
                 "the call after 70,000 unanswered ones failed");
    tvm_stop(&t);
}

Test(dist, fauxtp_gen_server_call_reaches_an_erlang_process_and_gets_the_reply)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    cr_assert_eq(fx_register(t.in, "tester", t.me, NULL), 0);
    pid_t e =
        start_erl("e8@127.0.0.1", COOKIE,
                  "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
                  "{tester, Fx} ! {1, <<>>},"
                  "Loop = fun L() -> receive {'$gen_call', From, {T, B}} ->"
                  "  gen:reply(From, <<\"erl\", (integer_to_binary(T))/binary, \":\","
                  "  B/binary>>), L() after 15000 -> halt(0) end end,"
                  "Loop().");
    fx_msg *hello = tvm_recv(&t, 1);
    fx_pid server = fx_msg_from(hello);
    fx_msg_free(hello);
    fx_msg *reply = NULL;
    fx_reason why;
    int rc = fx_gs_call(t.in, server, 5, "hey", 3, 10000, &reply, &why);
    cr_assert_eq(rc, 0, "fx_gs_call: %s", fx_strerror(rc));
    cr_assert_eq(fx_msg_size(reply), 8);
    cr_assert_eq(memcmp(fx_msg_data(reply), "erl5:hey", 8), 0);
    fx_msg_free(reply);
    kill(e, SIGKILL);
    /* a call to a process of a node that is gone fails fast */
    rc = fx_gs_call(t.in, server, 5, "hey", 3, 10000, &reply, &why);
    cr_assert(rc == FX_EEXIT || rc == FX_ENOPROC, "call after node death: %s",
              fx_strerror(rc));
    tvm_stop(&t);
}

/* A client on node A links to and monitors echo on node B (its pid learned
 * from a reply), then B's echo is killed: the client sees killed; then a
 * second echo is linked and node B stops: noconnection. */
typedef struct lcli {
    fx_pid report;
} lcli;

static fx_next lcli_loop(fx_ctx *cx, fx_msg *m)
{
    lcli *c = fx_state(cx);
    uint32_t t = fx_msg_type(m);
    if (t == 1) /* go: ping echo on B */
        fx_dist_send_named(cx, "b@127.0.0.1", "echo", 42, NULL, 0);
    else if (t == 2) /* a round trip that links nothing */
        fx_dist_send_named(cx, "b@127.0.0.1", "echo", 50, NULL, 0);
    else if (t == 51)
        fx_send(cx, c->report, 51, NULL, 0);
    else if (t == 3) { /* link to and monitor the pid in the payload */
        fx_pid p;
        fx_ref ref;
        memcpy(&p, fx_msg_data(m), sizeof p);
        fx_link(cx, p);
        fx_monitor(cx, p, &ref);
    } else if (t == 43) {
        fx_ref ref;
        fx_link(cx, fx_msg_from(m));
        fx_monitor(cx, fx_msg_from(m), &ref);
        fx_pid p = fx_msg_from(m);
        fx_send(cx, c->report, 43, &p, sizeof p);
    } else if (t == FX_MSG_EXIT) {
        const fx_exit_info *e = fx_msg_data(m);
        fx_send(cx, c->report, 100, &e->reason, sizeof e->reason);
    } else if (t == FX_MSG_DOWN) {
        const fx_down_info *d = fx_msg_data(m);
        fx_send(cx, c->report, 101, &d->reason, sizeof d->reason);
    }
    return fx_continue(cx);
}

static fx_next lcli_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_trap_exit(cx, true);
    return fx_become(cx, lcli_loop);
}

Test(dist, links_and_monitors_between_two_fauxtp_nodes)
{
    skip_unless_ready();
    start_epmd();
    tvm a = node_vm("a@127.0.0.1");
    tvm b = node_vm("b@127.0.0.1");
    start_echo(&b);
    lcli c = {.report = a.me};
    fx_spawn_opts o = {.init = lcli_init, .state_size = sizeof c, .state_init = &c};
    fx_pid cl;
    cr_assert_eq(fx_vm_spawn_opt(a.vm, &o, &cl), 0);
    cr_assert_eq(fx_vm_send(a.vm, cl, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(&a, 43);
    fx_pid echo1_remote;
    memcpy(&echo1_remote, fx_msg_data(m), sizeof echo1_remote);
    fx_msg_free(m);
    /* the link and monitor requests left before this report: once B's
     * echo has them (a round trip later), kill it */
    fx_pid echo1;
    cr_assert_eq(fx_whereis(b.vm, "echo", &echo1), 0);
    cr_assert_eq(fx_vm_send(a.vm, cl, 2, NULL, 0), 0); /* one more round trip */
    fx_msg_free(tvm_recv(&a, 51));
    cr_assert_eq(fx_vm_exit(b.vm, echo1, fx_reason_kill()), 0);
    fx_reason r = recv_reason(&a, 100);
    cr_assert_eq(r.kind, FX_REASON_KILLED);
    r = recv_reason(&a, 101);
    cr_assert_eq(r.kind, FX_REASON_KILLED);
    /* a new echo, linked and monitored, then B goes away */
    fx_inbox_destroy(b.in); /* the registry's owner inbox is not needed */
    cr_assert_eq(fx_inbox_create(b.vm, &b.in), 0);
    b.me = fx_inbox_pid(b.in);
    start_echo(&b);
    cr_assert_eq(fx_vm_send(a.vm, cl, 1, NULL, 0), 0);
    fx_msg_free(tvm_recv(&a, 43));
    cr_assert_eq(fx_vm_send(a.vm, cl, 2, NULL, 0), 0);
    fx_msg_free(tvm_recv(&a, 51));
    cr_assert_eq(fx_dist_stop(b.vm), 0);
    r = recv_reason(&a, 100);
    cr_assert(r.kind == FX_REASON_ERROR && r.code == FX_ENODE, "EXIT not noconnection");
    char text[96];
    r = recv_reason(&a, 101);
    fx_reason_format(&r, text, sizeof text);
    cr_assert(r.kind == FX_REASON_ERROR && r.code == FX_ENODE, "DOWN %s", text);
    /* B is gone (not in epmd): a new link and monitor to one of its pids
     * fail to connect and get noconnection too */
    cr_assert_eq(fx_vm_send(a.vm, cl, 3, &echo1_remote, sizeof echo1_remote), 0);
    r = recv_reason(&a, 100);
    fx_reason_format(&r, text, sizeof text);
    cr_assert(r.kind == FX_REASON_ERROR && r.code == FX_ENODE, "EXIT %s", text);
    r = recv_reason(&a, 101);
    cr_assert(r.kind == FX_REASON_ERROR && r.code == FX_ENODE);
    tvm_stop(&a);
    tvm_stop(&b);
}

/* Both nodes connect to each other at the same moment: one connection
 * wins, the other hands its queued messages over; nothing is lost. Three
 * rounds, each with fresh node incarnations (stop, start again). */
Test(dist, simultaneous_connects_lose_no_message)
{
    skip_unless_ready();
    start_epmd();
    tvm a = node_vm("a@127.0.0.1");
    tvm b = node_vm("b@127.0.0.1");
    start_echo(&a);
    start_echo(&b);
    fx_dist_opts oa = {.name = "a@127.0.0.1",
                       .cookie = COOKIE,
                       .listen_ip = "127.0.0.1",
                       .epmd_port = (uint16_t) atoi(epmd_port)};
    fx_dist_opts ob = oa;
    ob.name = "b@127.0.0.1";
    for (int round = 0; round < 3; round++) {
        cli ca = {.report = a.me, .peer = "b@127.0.0.1"};
        cli cb = {.report = b.me, .peer = "a@127.0.0.1"};
        fx_pid pa = spawn_state(a.vm, cli_start, &ca, sizeof ca);
        fx_pid pb = spawn_state(b.vm, cli_start, &cb, sizeof cb);
        cr_assert_eq(fx_vm_send(a.vm, pa, 1, NULL, 0), 0);
        cr_assert_eq(fx_vm_send(b.vm, pb, 1, NULL, 0), 0);
        fx_msg_free(tvm_recv(&a, 43));
        fx_msg_free(tvm_recv(&b, 43));
        cr_assert_eq(fx_dist_stop(a.vm), 0);
        cr_assert_eq(fx_dist_stop(b.vm), 0);
        cr_assert_eq(fx_dist_start(a.vm, &oa), 0);
        cr_assert_eq(fx_dist_start(b.vm, &ob), 0);
    }
    tvm_stop(&a);
    tvm_stop(&b);
}

#ifdef FXT_DIST_ON
/* ---- unauthenticated peers (review finding 3) --------------------------- */

Test(dist, unauthenticated_names_take_no_node_entries)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    uint16_t port = node_port("fx");
    struct timeval tv = {.tv_sec = 10};
    for (int i = 0; i < 300; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        cr_assert_eq(connect(s, (struct sockaddr *) &a, sizeof a), 0);
        char name[64];
        snprintf(name, sizeof name, "u%d@127.0.0.1", i);
        uint8_t b[300];
        size_t n = fxi_hs_send_name(b, sizeof b, fxi_dist_flags_ours(false), 1, name);
        cr_assert_eq(send(s, b, n, 0), (ssize_t) n);
        /* the status ("sok") says the node has seen the name */
        ssize_t r = recv(s, b, sizeof b, 0);
        cr_assert_geq(r, 5, "no status for %s", name);
        cr_assert_eq(memcmp(b + 2, "sok", 3), 0);
        close(s);
    }
    cr_assert_eq(node_entries(t.vm), 0, "the node table grew");
    /* an authenticated peer still gets its entry */
    start_echo(&t);
    pid_t e = start_erl("e@127.0.0.1", COOKIE,
                        "{echo, 'fx@127.0.0.1'} ! {1, <<\"x\">>},"
                        "receive {2, <<\"x\">>} -> halt(0) after 10000 -> halt(3) end.");
    cr_assert_eq(erl_status(e), 0, "erl got no reply");
    cr_assert_eq(node_entries(t.vm), 1);
    tvm_stop(&t);
}
#endif

/* ---- control frames behind a full socket queue (review finding 4) ------- */

#define BLAST_N 1
#define BLAST_SIZE (8u << 20) /* one 8 MiB message */

/* Links to the Erlang process that asks (type 8), sends it BLAST_N
 * {9, Bin} messages, then exits with an error: the EXIT control frame must
 * reach it after the last message. (Before the fix the 8 MiB frame put the
 * accepted socket's queue above its 256 KiB mark, and the EXIT frame's
 * write got FX_EAGAIN and was dropped.) */
static fx_next blaster(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) != 8)
        return fx_continue(cx);
    fx_pid to = fx_msg_from(m);
    cr_assert_eq(fx_link(cx, to), 0);
    char *b = calloc(1, BLAST_SIZE);
    for (int i = 0; i < BLAST_N; i++)
        fx_send(cx, to, 9, b, BLAST_SIZE);
    free(b);
    return fx_stop(cx, fx_reason_error(FX_EEXIT, "blast"));
}

Test(dist, an_exit_after_an_8_mib_message_reaches_the_linked_erlang_process)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, blaster, NULL, &p), 0);
    cr_assert_eq(fx_register(t.in, "blaster", p, NULL), 0);
    pid_t e =
        start_erl("e8@127.0.0.1", COOKIE,
                  "process_flag(trap_exit, true),"
                  "{blaster, 'fx@127.0.0.1'} ! {8, <<>>},"
                  "L = fun L(N) -> receive {9, _} -> L(N + 1);"
                  "  {'EXIT', _, {error, _, <<\"blast\">>}} when N =:= 1 -> halt(0);"
                  "  {'EXIT', _, R} -> io:format(\"~p after ~p~n\", [R, N]), halt(4)"
                  "  after 20000 -> io:format(\"~p~n\", [N]), halt(3) end end,"
                  "L(0).");
    cr_assert_eq(erl_status(e), 0,
                 "Erlang side: 3 no EXIT (control frame lost), 4 wrong or early EXIT");
    tvm_stop(&t);
}

#ifdef FXT_DIST_ON
/* ---- many callers waiting for one handshake (review finding 5b) --------- */

#define CONNECTORS 48

typedef struct connector {
    fx_vm *vm;
    pthread_barrier_t *go;
    int rc;
} connector;

static void *connect_one(void *arg)
{
    connector *k = arg;
    pthread_barrier_wait(k->go);
    k->rc = fx_dist_connect(k->vm, "e9@127.0.0.1", 20000);
    return NULL;
}

Test(dist, every_caller_waiting_for_a_handshake_is_answered)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    pid_t e = start_erl("e9@127.0.0.1", COOKIE, "receive never -> ok end.");
    (void) e;
    /* wait until epmd knows it, without connecting */
    for (int i = 0; i < 300; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t) atoi(epmd_port)),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        uint8_t b[64];
        size_t n = fxi_epmd_port2_req(b, sizeof b, "e9");
        uint16_t port = 0;
        if (connect(s, (struct sockaddr *) &a, sizeof a) == 0 &&
            send(s, b, n, 0) == (ssize_t) n) {
            ssize_t r = recv(s, b, sizeof b, MSG_WAITALL);
            if (r > 0 && fxi_epmd_port2_resp(b, (size_t) r, &port) <= 0)
                port = 0;
        }
        close(s);
        if (port)
            break;
        usleep(100000);
    }
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, CONNECTORS);
    connector k[CONNECTORS];
    pthread_t th[CONNECTORS];
    for (int i = 0; i < CONNECTORS; i++) {
        k[i] = (connector){.vm = t.vm, .go = &go, .rc = 1};
        cr_assert_eq(pthread_create(&th[i], NULL, connect_one, &k[i]), 0);
    }
    int bad = 0;
    for (int i = 0; i < CONNECTORS; i++) {
        pthread_join(th[i], NULL);
        bad += k[i].rc != 0;
    }
    pthread_barrier_destroy(&go);
    cr_assert_eq(bad, 0, "%d of %d fx_dist_connect calls failed", bad, CONNECTORS);
    tvm_stop(&t);
}

/* ---- fx_dist_stop during a handshake (review finding 5c) ---------------- */

Test(dist, a_handshake_finished_after_fx_dist_stop_is_refused)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    uint16_t port = node_port("fx");
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 10};
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
    /* the right answer to the challenge, after the stop */
    uint8_t dig[16];
    fxi_dist_digest(pi.challenge, COOKIE, dig);
    n = fxi_hs_reply(b, sizeof b, 12345, dig);
    cr_assert_eq(send(s, b, n, 0), (ssize_t) n);
    r = hs_read(s, b, sizeof b);
    cr_assert(r<0, "the stopped node acknowledged a handshake (%c)", r> 0 ? b[0] : '?');
    close(s);
    cr_assert_eq(node_entries(t.vm), 0, "the stopped node made a node entry");
    tvm_stop(&t);
}
#endif
