/* dist.h promises checked against a real Erlang peer (private
 * epmd and erl on loopback, dist_helpers.h). */
#include <fauxtp/term.h>

#include "dist_helpers.h"

TestSuite(dist_otp, .fini = kill_kids, .timeout = 120);

enum { R_RCS = 300 };

/* On {hello, ErlPid}: sends ErlPid three FX_MSG_TERM payloads that are
 * not one well-formed term, then the term 7, and reports the three send
 * results to the test's inbox. */
static fx_next relay(fx_ctx *cx, fx_msg *m)
{
    fx_pid *report = fx_state(cx);
    if (fx_msg_type(m) != FX_MSG_TERM)
        return fx_continue(cx);
    fx_term_reader r;
    fx_pid erl;
    if (fx_term_reader_init_msg(&r, m) != 0 || fx_term_match(&r, "hello", 2) != 1 ||
        fx_term_get_pid(&r, fx_ctx_vm(cx), &erl) != 0)
        return fx_continue(cx);
    static const char garbage[] = "\x83zz";           /* tag 'z': no such term */
    static const char two[] = "\x83\x61\x01\x61\x02"; /* two terms */
    static const char cut[] = "\x83\x68\x02\x61\x01"; /* a 2-tuple, one element */
    int32_t rcs[3];
    rcs[0] = fx_send(cx, erl, FX_MSG_TERM, garbage, sizeof garbage - 1);
    rcs[1] = fx_send(cx, erl, FX_MSG_TERM, two, sizeof two - 1);
    rcs[2] = fx_send(cx, erl, FX_MSG_TERM, cut, sizeof cut - 1);
    static const char seven[] = "\x83\x61\x07";
    fx_send(cx, erl, FX_MSG_TERM, seven, sizeof seven - 1);
    fx_send(cx, *report, R_RCS, rcs, sizeof rcs);
    return fx_continue(cx);
}

/* dist.h:17-19: "A message of type FX_MSG_TERM sent to a remote process
 * is written out as its payload (which must be one well-formed term with
 * its 131)"; fx_dist_send_named answers FX_EINVAL for "a FX_MSG_TERM
 * payload that is not one term". A malformed payload sent with fx_send to
 * a remote pid must be refused the same way (never written: the peer
 * would take the frame as a protocol error and drop the connection), and
 * a good message after it must still arrive. Today the frame is refused
 * (nothing reaches the peer) but fx_send answers FX_ENOPROC, "the target
 * is dead": src/actor/outbox.h fxi_deliver_batched turns every non-zero
 * result of the dist route (FX_EINVAL, FX_EMSGSIZE, FX_ENOMEM) into
 * FX_ENOPROC. fx_vm_send from outside the VM (fxi_deliver_quiet) passes
 * the route's code through. */
Test(dist_otp, a_malformed_term_payload_to_a_remote_pid_is_refused)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    fx_pid p = spawn_state(t.vm, relay, &t.me, sizeof t.me);
    cr_assert_eq(fx_register(t.in, "relay", p, NULL), 0);
    pid_t e = start_erl("e8@127.0.0.1", COOKIE,
                        "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
                        "{relay, Fx} ! {hello, self()},"
                        "receive 7 -> halt(0); Other -> io:format(\"~p~n\", [Other]),"
                        "  halt(3) after 15000 -> halt(4) end.");
    fx_msg *m = tvm_recv(&t, R_RCS);
    int32_t rcs[3];
    memcpy(rcs, fx_msg_data(m), sizeof rcs);
    fx_msg_free(m);
    cr_expect_eq(rcs[0], FX_EINVAL, "garbage: %d", rcs[0]);
    cr_expect_eq(rcs[1], FX_EINVAL, "two terms: %d", rcs[1]);
    cr_expect_eq(rcs[2], FX_EINVAL, "truncated tuple: %d", rcs[2]);
    cr_expect_eq(erl_status(e), 0,
                 "Erlang side: 3 another message first, 4 nothing came");
    tvm_stop(&t);
}

enum { R_BAD = 302 };

/* Terms with a sound structure that Erlang's decoder refuses (each is
 * badarg for binary_to_term on OTP 25). */
static const struct {
    const char *what;
    const char *bytes;
    size_t n;
} refused[] = {
    {"NaN float", "\x83\x46\x7f\xf8\0\0\0\0\0\0", 10},
    {"map with a duplicate key",
     "\x83\x74\0\0\0\x02\x77\x01\x61\x61\x01\x77\x01\x61\x61\x02", 16},
    {"atom of invalid UTF-8", "\x83\x77\x01\xff", 4},
};
#define NREFUSED (sizeof refused / sizeof refused[0])

/* On {hello, ErlPid}: sends ErlPid each refused term (FX_MSG_TERM) and
 * reports the results; answers {8, <<>>} from anyone with {9, <<>>}. */
static fx_next bad_relay(fx_ctx *cx, fx_msg *m)
{
    fx_pid *report = fx_state(cx);
    if (fx_msg_type(m) == 8) {
        fx_send(cx, fx_msg_from(m), 9, NULL, 0);
        return fx_continue(cx);
    }
    fx_term_reader r;
    fx_pid erl;
    if (fx_msg_type(m) != FX_MSG_TERM || fx_term_reader_init_msg(&r, m) != 0 ||
        fx_term_match(&r, "hello", 2) != 1 ||
        fx_term_get_pid(&r, fx_ctx_vm(cx), &erl) != 0)
        return fx_continue(cx);
    int32_t rcs[NREFUSED];
    for (size_t i = 0; i < NREFUSED; i++)
        rcs[i] = fx_send(cx, erl, FX_MSG_TERM, refused[i].bytes, refused[i].n);
    fx_send(cx, *report, R_BAD, rcs, sizeof rcs);
    return fx_continue(cx);
}

/* dist.h:17-19 (an FX_MSG_TERM payload sent to a remote process "must be
 * one well-formed term"), term.h:117-118 (Erlang floats cannot hold NaN).
 * The connection's check (fxi_etf_skip, the term validator) looks at
 * lengths and tags only, so a NaN float, a map with a duplicate key (which
 * fx_term_format("#{a => 1, a => 2}") builds without complaint) or an atom
 * of invalid UTF-8 is accepted, fx_send answers 0 and writes it; the
 * Erlang node logs "got a corrupted external term" and drops the whole
 * connection (every link and monitor over it gets noconnection). Seen
 * here: the Erlang side's monitor_node gets nodedown before the answer to
 * its next message. Expected: FX_EINVAL for each, nothing written, the
 * connection stays up. */
Test(dist_otp, terms_erlang_refuses_are_not_written_to_the_connection)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    fx_pid p = spawn_state(t.vm, bad_relay, &t.me, sizeof t.me);
    cr_assert_eq(fx_register(t.in, "badrelay", p, NULL), 0);
    pid_t e = start_erl("e5@127.0.0.1", COOKIE,
                        "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
                        "true = erlang:monitor_node(Fx, true),"
                        "{badrelay, Fx} ! {hello, self()},"
                        "receive {8, _} -> halt(7) after 1000 -> ok end," /* scans them */
                        "{badrelay, Fx} ! {8, <<>>},"
                        "receive {nodedown, Fx} -> halt(3); {9, _} -> halt(0)"
                        "  after 15000 -> halt(4) end.");
    fx_msg *m = tvm_recv(&t, R_BAD);
    int32_t rcs[NREFUSED];
    memcpy(rcs, fx_msg_data(m), sizeof rcs);
    fx_msg_free(m);
    for (size_t i = 0; i < NREFUSED; i++)
        cr_expect_eq(rcs[i], FX_EINVAL, "fx_send of a %s: %d", refused[i].what, rcs[i]);
    cr_expect_eq(erl_status(e), 0,
                 "Erlang side: 3 the connection went down, 4 no answer");
    tvm_stop(&t);
}

/* A fauxtp GenServer that defers the reply of call type 1; cast type 2
 * then replies to that caller and, after the reply, sends it {3, <<>>}. */
static fx_gs_ret late_init(fx_ctx *cx, void *arg, void **state)
{
    *state = arg;
    return fx_gs_ok(cx);
}

static fx_gs_ret late_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                           const void *data, size_t size)
{
    (void) data, (void) size;
    fx_from *held = state;
    if (type == 1) {
        *held = from;
        return fx_gs_noreply(cx);
    }
    return fx_gs_reply(cx, "now", 3);
}

static fx_gs_ret late_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                           size_t size)
{
    (void) data, (void) size;
    fx_from *held = state;
    if (type == 2 && held->pid.id) {
        fx_reply(cx, *held, "late", 4);
        fx_send(cx, held->pid, 3, NULL, 0); /* same sender, same connection: after it */
    }
    return fx_gs_noreply(cx);
}

static const fx_gs_ops late_ops = {
    .init = late_init, .handle_call = late_call, .handle_cast = late_cast};

/* dist.h:25-28: gen_server:call({Name, Node}, {T, <<B>>}) from Erlang
 * reaches a fauxtp GenServer "with Erlang's semantics". Since OTP 24 a
 * gen_server:call that timed out never sees the late reply (gen:call
 * sends Tag = [alias | Mref]; an OTP server replies to the alias, which
 * the caller deactivated, so the runtime drops it; gen_server docs,
 * call/3). The fauxtp connection answers with a plain SEND to the
 * caller's pid (dist_sig.c fxi_dsig_reply; no DFLAG_ALIAS / ALIAS_SEND),
 * so the late reply lands in the Erlang caller's mailbox as garbage. */
Test(dist_otp, a_late_reply_to_a_timed_out_erlang_call_is_dropped)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    static fx_from held;
    fx_pid gs;
    cr_assert_eq(
        fx_gs_start(t.in, &(fx_gs_spec){.ops = &late_ops, .arg = &held, .name = "late"},
                    &gs, NULL),
        0);
    pid_t e = start_erl(
        "e6@127.0.0.1", COOKIE,
        "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
        "<<\"now\">> = gen_server:call({late, Fx}, {5, <<>>}, 10000),"
        "{'EXIT', {timeout, _}} = (catch gen_server:call({late, Fx}, {1, <<>>}, 200)),"
        "gen_server:cast({late, Fx}, {2, <<>>}),"
        "receive {3, _} -> ok after 15000 -> halt(4) end,"
        "receive Stray -> io:format(\"stray: ~p~n\", [Stray]), halt(3)"
        "  after 0 -> halt(0) end.");
    cr_expect_eq(
        erl_status(e), 0,
        "Erlang side: 3 the late reply reached the caller's mailbox, 4 no marker, "
        "other: a call failed");
    tvm_stop(&t);
}
