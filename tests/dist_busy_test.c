/* Busy connections (dist.h, "Busy connections"): a flood to a stalled
 * Erlang peer (SIGSTOP) is held back without loss or reordering: a sender
 * outside the VM gets FX_EAGAIN, fx_dist_send_nosuspend too, a process
 * using plain sends is paced; once the peer runs again every frame
 * arrives, in order. Loopback, a private epmd, peers killed by pid. */
#include <string.h>

#include "dist_helpers.h"

TestSuite(dist, .fini = kill_kids, .timeout = 240);

#define FRAME (64u * 1024u)
/* Frames any flood may get accepted while the peer is stopped: the
 * kernel's socket buffers (a few MiB each way on loopback), busy_limit
 * and the connection's mailbox (256 messages) come to well under this
 * (64 MiB of frames). */
#define BOUND 1000u

/* The Erlang sink: registered as sink, says hello to {tester, Fx}, then
 * takes {1, <<Seq:32, _/binary>>} in order until {2, <<Count:32>>}. */
static const char *const sink_script =
    "Fx = 'fx@127.0.0.1', true = net_kernel:connect_node(Fx),"
    "register(sink, self()), {tester, Fx} ! {7, <<>>},"
    "Loop = fun L(N) -> receive"
    "  {1, <<S:32, _/binary>>} when S =:= N -> L(N + 1);"
    "  {1, <<S:32, _/binary>>} -> io:format(\"order ~p ~p~n\", [S, N]), halt(3);"
    "  {2, <<C:32>>} when C =:= N -> halt(0);"
    "  {2, <<C:32>>} -> io:format(\"got ~p of ~p~n\", [N, C]), halt(4)"
    "  end end,"
    "Loop(0).";

typedef struct flood_st {
    fx_pid report, sink;
    uint32_t seq;   /* next sequence number */
    uint32_t limit; /* stop after this many (plain sends) */
    bool nosuspend;
} flood_st;

static void put_seq(uint8_t *buf, uint32_t seq)
{
    buf[0] = (uint8_t) (seq >> 24);
    buf[1] = (uint8_t) (seq >> 16);
    buf[2] = (uint8_t) (seq >> 8);
    buf[3] = (uint8_t) seq;
}

/* Type 1: sends up to 16 frames, then again (a message to itself); with
 * nosuspend it stops at the first FX_EAGAIN, else after `limit` frames,
 * and reports its next sequence number as 30. */
static fx_next flooder(fx_ctx *cx, fx_msg *m)
{
    flood_st *s = fx_state(cx);
    if (fx_msg_type(m) != 1)
        return fx_continue(cx);
    static uint8_t buf[FRAME];
    for (int i = 0; i < 16; i++) {
        if (!s->nosuspend && s->seq == s->limit)
            break;
        put_seq(buf, s->seq);
        int rc = s->nosuspend ? fx_dist_send_nosuspend(cx, s->sink, 1, buf, sizeof buf)
                              : fx_send(cx, s->sink, 1, buf, sizeof buf);
        if (rc == FX_EAGAIN) {
            fx_send(cx, s->report, 30, &s->seq, sizeof s->seq);
            return fx_continue(cx);
        }
        cr_assert_eq(rc, 0);
        s->seq++;
        cr_assert_lt(s->seq, BOUND, "the connection never refused a frame");
    }
    if (!s->nosuspend && s->seq == s->limit) {
        fx_send(cx, s->report, 30, &s->seq, sizeof s->seq);
        return fx_continue(cx);
    }
    fx_send(cx, fx_self(cx), 1, NULL, 0);
    return fx_continue(cx);
}

static uint32_t run_flood(tvm *t, fx_pid sink, uint32_t from, bool nosuspend,
                          uint32_t limit)
{
    flood_st st = {.report = t->me,
                   .sink = sink,
                   .seq = from,
                   .limit = limit,
                   .nosuspend = nosuspend};
    fx_spawn_opts o = {.handler = flooder, .state_size = sizeof st, .state_init = &st};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, &p), 0);
    cr_assert_eq(fx_vm_send(t->vm, p, 1, NULL, 0), 0);
    fx_match mt = {.type = 30};
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t->in, &mt, 120000, &m), 0, "the flooder never finished");
    uint32_t next;
    memcpy(&next, fx_msg_data(m), sizeof next);
    fx_msg_free(m);
    return next;
}

Test(dist, a_flood_to_a_stalled_peer_is_held_back_without_loss_or_reordering)
{
    skip_unless_ready();
    start_epmd();
    tvm t = tvm_start(2);
    fx_dist_opts o = {.name = FXNODE,
                      .cookie = COOKIE,
                      .listen_ip = "127.0.0.1",
                      .epmd_port = (uint16_t) atoi(epmd_port),
                      .busy_limit = 256u * 1024u};
    int rc = FX_ECONNECT;
    for (int i = 0; i < 100 && rc == FX_ECONNECT; i++)
        if ((rc = fx_dist_start(t.vm, &o)) == FX_ECONNECT)
            usleep(50000);
    if (rc == FX_ENOTDIST) {
        tvm_stop(&t);
        cr_skip_test("built without distribution (-Ddist)");
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(fx_register(t.in, "tester", t.me, NULL), 0);
    pid_t e = start_erl("sink@127.0.0.1", COOKIE, sink_script);
    fx_msg *hello = tvm_recv(&t, 7);
    fx_pid sink = fx_msg_from(hello);
    fx_msg_free(hello);
    cr_assert_neq(sink.id, 0);
    kill(e, SIGSTOP); /* alive, connected, reading nothing */

    /* 1. outside the VM: FX_EAGAIN before BOUND frames, nothing taken */
    static uint8_t buf[FRAME];
    uint32_t seq = 0;
    for (;;) {
        put_seq(buf, seq);
        rc = fx_vm_send(t.vm, sink, 1, buf, sizeof buf);
        if (rc == FX_EAGAIN)
            break;
        cr_assert_eq(rc, 0);
        seq++;
        cr_assert_lt(seq, BOUND, "fx_vm_send never answered FX_EAGAIN");
    }
    cr_assert_gt(seq, 0);
    fprintf(stderr, "busy: %u frames taken from outside before FX_EAGAIN\n", seq);
    cr_assert_eq(
        fx_dist_vm_send_named(t.vm, "sink@127.0.0.1", "sink", 1, buf, sizeof buf),
        FX_EAGAIN);
    /* 2. a process with fx_dist_send_nosuspend: refused while busy */
    seq = run_flood(&t, sink, seq, true, 0);
    /* 3. a process with plain sends: paced, never refused (a bounded
     * number, so this test's memory stays small whatever the pacing) */
    seq = run_flood(&t, sink, seq, false, seq + 64);

    kill(e, SIGCONT);
    /* 4. everything arrives, in order; the end marker waits its turn */
    uint8_t end[4];
    put_seq(end, seq);
    rc = FX_EAGAIN;
    for (int i = 0; i < 600 && rc == FX_EAGAIN; i++)
        if ((rc = fx_vm_send(t.vm, sink, 2, end, sizeof end)) == FX_EAGAIN)
            usleep(50000);
    cr_assert_eq(rc, 0, "the connection stayed busy after the peer resumed");
    cr_assert_eq(erl_status(e), 0, "Erlang side: 3 out of order, 4 frames missing");
    tvm_stop(&t);
}
