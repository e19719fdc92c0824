/* GenServer calls and casts to {Name, Node} from fauxtp (dist.h,
 * fx_gs_call_remote and friends) against a real Erlang gen_server, on
 * loopback with a private epmd; peers are killed by pid (suite fini). */
#include "dist_helpers.h"

TestSuite(dist, .fini = kill_kids, .timeout = 180);

#define ERLNODE "e21@127.0.0.1"

/* A gen_server module compiled from source on the Erlang node, registered
 * as erlgs: {T, B} calls answer <<"erl", T, ":", B>>, a cast {T, B} keeps
 * B, the call {0, _} answers the kept binary. Then the node tells the
 * test's inbox (tester) it is ready. */
static const char erl_gs[] =
    "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
    "Src = [\"-module(fxgs).\", \"-export([init/1, handle_call/3, handle_cast/2]).\","
    "  \"init(_) -> {ok, <<>>}.\","
    "  \"handle_call({0, _}, _, S) -> {reply, S, S};"
    "   handle_call({T, B}, _, S) -> {reply, <<\\\"erl\\\", "
    "(integer_to_binary(T))/binary,"
    "     \\\":\\\", B/binary>>, S}.\","
    "  \"handle_cast({_, B}, _) -> {noreply, B}.\"],"
    "Forms = [begin {ok, Ts, _} = erl_scan:string(L), {ok, F} = erl_parse:parse_form(Ts),"
    "  F end || L <- Src],"
    "{ok, fxgs, Bin} = compile:forms(Forms),"
    "{module, fxgs} = code:load_binary(fxgs, \"fxgs.erl\", Bin),"
    "{ok, _} = gen_server:start({local, erlgs}, fxgs, [], []),"
    "{tester, Fx} ! {1, <<>>},"
    "receive never -> ok after 60000 -> halt(0) end.";

static void reply_is(fx_msg *reply, const char *want)
{
    size_t n = strlen(want);
    cr_assert_eq(fx_msg_size(reply), n, "reply size %zu", (size_t) fx_msg_size(reply));
    cr_assert_eq(memcmp(fx_msg_data(reply), want, n), 0);
    fx_msg_free(reply);
}

/* A process that casts {9, "c"} to {erlgs, ERLNODE}, then calls {5,
 * "async"} with fx_gs_call_remote_async and reports the outcome to
 * report: type 50 with the reply, or type 51 with the error code. */
typedef struct rcli {
    fx_pid report;
} rcli;

static fx_next rcli_done(fx_ctx *cx, fx_msg *m)
{
    rcli *c = fx_state(cx);
    const void *data = NULL;
    size_t size = 0;
    int rc = fx_gs_call_result(cx, m, &data, &size, NULL);
    if (rc == 0)
        fx_send(cx, c->report, 50, data, size);
    else
        fx_send(cx, c->report, 51, &rc, sizeof rc);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next rcli_start(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    int rc = fx_gs_cast_remote(cx, ERLNODE, "erlgs", 9, "c", 1);
    cr_assert_eq(rc, 0, "fx_gs_cast_remote: %s", fx_strerror(rc));
    return fx_gs_call_remote_async(cx, ERLNODE, "erlgs", 5, "async", 5, 30000, rcli_done);
}

Test(dist, fauxtp_calls_and_casts_an_erlang_gen_server_by_name)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    cr_assert_eq(fx_register(t.in, "tester", t.me, NULL), 0);
    pid_t e = start_erl(ERLNODE, COOKIE, erl_gs);
    fx_msg_free(tvm_recv(&t, 1)); /* erlgs is up */

    fx_msg *reply = NULL;
    fx_reason why;
    int rc = fx_gs_call_remote(t.in, ERLNODE, "erlgs", 5, "hey", 3, 30000, &reply, &why);
    cr_assert_eq(rc, 0, "fx_gs_call_remote: %s", fx_strerror(rc));
    reply_is(reply, "erl5:hey");

    /* from a handler: a cast, then a call (in order on one connection) */
    rcli c = {.report = t.me};
    fx_pid p = spawn_state(t.vm, rcli_start, &c, sizeof c);
    cr_assert_eq(fx_vm_send(t.vm, p, 1, NULL, 0), 0);
    reply_is(tvm_recv(&t, 50), "erl5:async");
    rc = fx_gs_call_remote(t.in, ERLNODE, "erlgs", 0, NULL, 0, 30000, &reply, &why);
    cr_assert_eq(rc, 0, "fx_gs_call_remote: %s", fx_strerror(rc));
    reply_is(reply, "c"); /* the cast arrived */

    /* a name not registered there: noproc at once (well before the
     * timeout, which would say FX_ETIMEDOUT) */
    rc = fx_gs_call_remote(t.in, ERLNODE, "nogs", 5, "x", 1, 60000, &reply, &why);
    cr_assert_eq(rc, FX_ENOPROC, "unregistered name: %s", fx_strerror(rc));
    cr_assert_null(reply);

    /* the node goes down: noconnection */
    kill(e, SIGKILL);
    cr_assert_eq(erl_status(e), 128 + SIGKILL);
    rc = fx_gs_call_remote(t.in, ERLNODE, "erlgs", 5, "x", 1, 60000, &reply, &why);
    cr_assert_eq(rc, FX_EEXIT, "call to a dead node: %s", fx_strerror(rc));
    cr_assert_eq(why.kind, FX_REASON_ERROR);
    cr_assert_eq(why.code, FX_ENODE);
    tvm_stop(&t);
}

Test(dist, remote_calls_refuse_bad_arguments)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    fx_msg *reply = (fx_msg *) 1;
    cr_assert_eq(fx_gs_call_remote(t.in, NULL, "x", 1, NULL, 0, 10, &reply, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_gs_call_remote(t.in, ERLNODE, "", 1, NULL, 0, 10, &reply, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_gs_call_remote(t.in, "nohost", "x", 1, NULL, 0, 10, &reply, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_gs_call_remote(t.in, ERLNODE, "x", 1, NULL, 3, 10, &reply, NULL),
                 FX_EINVAL);
    cr_assert_eq(
        fx_gs_call_remote(t.in, ERLNODE, "x", FX_MSG_DOWN, NULL, 0, 10, &reply, NULL),
        FX_EINVAL);
    cr_assert_null(reply);
    cr_assert_eq(fx_gs_call_remote(t.in, ERLNODE, "x", 1, NULL, 0, 10, NULL, NULL),
                 FX_EINVAL);
    /* our own node: fx_gs_call_named, FX_ENOENT for no such name */
    cr_assert_eq(
        fx_gs_call_remote(t.in, FXNODE, "nobody", 1, NULL, 0, 1000, &reply, NULL),
        FX_ENOENT);
    tvm_stop(&t);
}

/* ---- between two fauxtp nodes ------------------------------------------ */

static fx_gs_ret gs_init(fx_ctx *cx, void *arg, void **state)
{
    *state = arg;
    return fx_gs_ok(cx);
}

static fx_gs_ret gs_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                         const void *data, size_t size)
{
    (void) state, (void) from;
    if (type == 66)
        return fx_gs_stop(cx, fx_reason_shutdown());
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

Test(dist, a_fauxtp_gen_server_on_another_fauxtp_node_is_called_by_name)
{
    skip_unless_ready();
    start_epmd();
    tvm a = node_vm("a@127.0.0.1");
    tvm b = node_vm("b@127.0.0.1");
    fx_gs_spec spec = {.ops = &gs_ops, .arg = &b.me, .name = "gs"};
    fx_pid gs;
    cr_assert_eq(fx_gs_start(b.in, &spec, &gs, NULL), 0);
    fx_msg *reply = NULL;
    fx_reason why;
    int rc =
        fx_gs_call_remote(a.in, "b@127.0.0.1", "gs", 7, "ping", 4, 30000, &reply, &why);
    cr_assert_eq(rc, 0, "fx_gs_call_remote: %s", fx_strerror(rc));
    reply_is(reply, "re7:ping");
    rc = fx_gs_call_remote(a.in, "b@127.0.0.1", "none", 7, "x", 1, 60000, &reply, &why);
    cr_assert_eq(rc, FX_ENOPROC, "unregistered name: %s", fx_strerror(rc));
    /* a cast from outside the VM: gs_cast reports it to b's inbox */
    rc = fx_vm_gs_cast_remote(a.vm, "b@127.0.0.1", "gs", 12, "cast", 4);
    cr_assert_eq(rc, 0, "fx_vm_gs_cast_remote: %s", fx_strerror(rc));
    reply_is(tvm_recv(&b, 12), "cast");
    /* a server that stops during the call: its reason */
    rc = fx_gs_call_remote(a.in, "b@127.0.0.1", "gs", 66, NULL, 0, 60000, &reply, &why);
    cr_assert_eq(rc, FX_EEXIT, "stopping server: %s", fx_strerror(rc));
    cr_assert_eq(why.kind, FX_REASON_SHUTDOWN);
    tvm_stop(&a);
    tvm_stop(&b);
}

/* ---- the DOWN's object of a call to {Name, Node} ------------------------- */

/* Calls {name, b} (type 1: "none", type 2: "gs" with 66, which stops it)
 * and reports the call's DOWN as 44: its reason's code, then the Name and
 * Node its pid stands for. */
typedef struct down_obj {
    uint32_t type; /* the outcome's message type */
    int32_t code;
    char name[32], node[32];
} down_obj;

static fx_pid obj_report;

static fx_next obj_caller(fx_ctx *cx, fx_msg *m);

static fx_next obj_then(fx_ctx *cx, fx_msg *m)
{
    down_obj o = {.type = fx_msg_type(m)};
    if (o.type == FX_MSG_DOWN) {
        const fx_down_info *d = fx_msg_data(m);
        o.code = d->reason.kind == FX_REASON_NOPROC ? FX_ENOPROC : d->reason.code;
        cr_assert_gt(fx_dist_pid_name(fx_ctx_vm(cx), d->pid, o.name, sizeof o.name), 0);
        cr_assert_gt(fx_dist_pid_node(fx_ctx_vm(cx), d->pid, o.node, sizeof o.node), 0);
    }
    const void *data;
    size_t size;
    fx_reason why;
    (void) fx_gs_call_result(cx, m, &data, &size, &why);
    fx_send(cx, obj_report, 44, &o, sizeof o);
    return fx_become(cx, obj_caller);
}

static fx_next obj_caller(fx_ctx *cx, fx_msg *m)
{
    uint32_t t = fx_msg_type(m);
    if (t == 1)
        return fx_gs_call_remote_async(cx, "b@127.0.0.1", "none", 7, "x", 1, 60000,
                                       obj_then);
    if (t == 2)
        return fx_gs_call_remote_async(cx, "b@127.0.0.1", "gs", 66, NULL, 0, 60000,
                                       obj_then);
    return fx_continue(cx);
}

static down_obj recv_obj(tvm *t)
{
    fx_msg *m = tvm_recv(t, 44);
    down_obj o;
    memcpy(&o, fx_msg_data(m), sizeof o);
    fx_msg_free(m);
    return o;
}

Test(dist, the_down_of_a_call_to_a_remote_name_names_name_and_node)
{
    skip_unless_ready();
    start_epmd();
    tvm a = node_vm("a@127.0.0.1");
    tvm b = node_vm("b@127.0.0.1");
    fx_gs_spec spec = {.ops = &gs_ops, .arg = &b.me, .name = "gs"};
    fx_pid gs;
    cr_assert_eq(fx_gs_start(b.in, &spec, &gs, NULL), 0);
    obj_report = a.me;
    fx_pid c;
    cr_assert_eq(fx_vm_spawn(a.vm, obj_caller, NULL, &c), 0);
    /* noproc: {none, b} */
    cr_assert_eq(fx_vm_send(a.vm, c, 1, NULL, 0), 0);
    down_obj o = recv_obj(&a);
    cr_assert_eq(o.code, FX_ENOPROC);
    cr_assert_str_eq(o.name, "none");
    cr_assert_str_eq(o.node, "b@127.0.0.1");
    /* the server's exit: {gs, b} */
    cr_assert_eq(fx_vm_send(a.vm, c, 2, NULL, 0), 0);
    o = recv_obj(&a);
    cr_assert_eq(o.type, FX_MSG_DOWN, "the outcome is of type %#x", o.type);
    cr_assert_str_eq(o.name, "gs");
    cr_assert_str_eq(o.node, "b@127.0.0.1");
    /* B is gone: noconnection, and the object still reads {none, b} */
    cr_assert_eq(fx_dist_stop(b.vm), 0);
    cr_assert_eq(fx_vm_send(a.vm, c, 1, NULL, 0), 0);
    o = recv_obj(&a);
    cr_assert_eq(o.code, FX_ENODE);
    cr_assert_str_eq(o.name, "none");
    cr_assert_str_eq(o.node, "b@127.0.0.1");
    tvm_stop(&a);
    tvm_stop(&b);
}
