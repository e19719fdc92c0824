/* Receive markers (docs/design.md, "Receive markers"): a receive for a
 * ref the actor created starts after the messages saved before the ref
 * existed. These tests check that the shortcut never changes what a
 * selective receive returns: the first matching message in arrival
 * order, with markers whose message is taken by another receive, several
 * refs outstanding, more refs than markers, and calls made with a long
 * queue. */
#include "helpers.h"

enum { A = 1, B, C, D, E, GO, GO2, REF, OUT, J, T1, T2, T3, T4, T5, T6 };

typedef struct st {
    fx_pid me;
    fx_ref ref[8];
    int nref, got;
    fx_pid server;
    int calls;
} st;

static void report(fx_ctx *cx, uint64_t v)
{
    st *s = fx_state(cx);
    fx_send(cx, s->me, OUT, &v, sizeof v);
}

static fx_ref new_ref(fx_ctx *cx)
{
    st *s = fx_state(cx);
    fx_ref r = fx_make_ref(cx);
    s->ref[s->nref++] = r;
    fx_send(cx, s->me, REF, &r, sizeof r);
    return r;
}

static fx_next report_all(fx_ctx *cx, fx_msg *m)
{
    report(cx, fx_msg_type(m));
    return fx_continue(cx);
}

static fx_next recv_ref(fx_ctx *cx, fx_handler h, fx_ref r)
{
    return fx_receive(cx, h, &(fx_match){.ref = r}, FX_INFINITY);
}

static fx_pid spawn_st(tvm *t, fx_init_fn init, fx_pid server)
{
    st s = {.me = t->me, .server = server};
    fx_spawn_opts o = {.init = init, .state_size = sizeof s, .state_init = &s};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, &p), 0);
    return p;
}

static void send_ref(tvm *t, fx_pid to, uint32_t type, fx_ref ref)
{
    fx_msg *m;
    cr_assert_eq(fx_msg_new(type, 0, &m), 0);
    fx_msg_set_ref(m, ref);
    cr_assert_eq(fx_vm_send_msg(t->vm, to, m), 0);
}

static fx_ref recv_ref_of(tvm *t)
{
    fx_msg *m = tvm_recv(t, REF);
    fx_ref r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

static void expect(tvm *t, const uint64_t *want, int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(tvm_recv_u64(t, OUT), want[i], "position %d", i);
}

/* ---- the marked message is taken by another receive -------------------- */

static fx_next t1_second(fx_ctx *cx, fx_msg *m)
{
    st *s = fx_state(cx);
    report(cx, fx_msg_type(m));
    if (++s->got == 2)
        return fx_become(cx, report_all);
    return recv_ref(cx, t1_second, s->ref[0]);
}

static fx_next t1_got_b(fx_ctx *cx, fx_msg *m)
{
    st *s = fx_state(cx);
    report(cx, fx_msg_type(m)); /* B: the marked message left the queue */
    return recv_ref(cx, t1_second, s->ref[0]);
}

static fx_next t1_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    new_ref(cx); /* marker after B, the newest saved message */
    return fx_receive(cx, t1_got_b, &(fx_match){.type = B}, FX_INFINITY);
}

static fx_next t1_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_receive(cx, t1_go, &(fx_match){.type = GO}, FX_INFINITY);
}

Test(marker, marked_message_taken_by_another_receive)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_st(&t, t1_init, FX_PID_NONE);
    cr_assert_eq(fx_vm_send(t.vm, p, A, NULL, 0), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, B, NULL, 0), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    fx_ref r = recv_ref_of(&t);
    cr_assert_eq(tvm_recv_u64(&t, OUT), B);
    cr_assert_eq(fx_vm_send(t.vm, p, C, NULL, 0), 0);
    send_ref(&t, p, D, r);
    send_ref(&t, p, E, r);
    uint64_t want[] = {D, E, A, C};
    expect(&t, want, 4);
    tvm_stop(&t);
}

/* ---- several refs outstanding, markers at different places ------------- */

static fx_next t2_tail(fx_ctx *cx, fx_msg *m)
{
    st *s = fx_state(cx);
    report(cx, fx_msg_type(m));
    /* Order of receives: ref 1 (R2), ref 0 (R1), ref 2 (R3), ref 1 again. */
    static const int order[] = {1, 0, 2, 1};
    if (++s->got == 4)
        return fx_become(cx, report_all);
    return recv_ref(cx, t2_tail, s->ref[order[s->got]]);
}

static fx_next t2_go2(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    new_ref(cx); /* R2, after A2 */
    new_ref(cx); /* R3, after A2 too */
    st *s = fx_state(cx);
    return recv_ref(cx, t2_tail, s->ref[1]);
}

static fx_next t2_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    new_ref(cx); /* R1, after A1 */
    return fx_receive(cx, t2_go2, &(fx_match){.type = GO2}, FX_INFINITY);
}

static fx_next t2_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_receive(cx, t2_go, &(fx_match){.type = GO}, FX_INFINITY);
}

Test(marker, several_refs_outstanding)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_st(&t, t2_init, FX_PID_NONE);
    cr_assert_eq(fx_vm_send(t.vm, p, A, NULL, 0), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    fx_ref r1 = recv_ref_of(&t);
    cr_assert_eq(fx_vm_send(t.vm, p, B, NULL, 0), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, GO2, NULL, 0), 0);
    fx_ref r2 = recv_ref_of(&t), r3 = recv_ref_of(&t);
    send_ref(&t, p, T3, r3);
    send_ref(&t, p, T1, r1);
    send_ref(&t, p, T2, r2);
    send_ref(&t, p, T4, r2);
    uint64_t want[] = {T2, T1, T3, T4, A, B};
    expect(&t, want, 6);
    tvm_stop(&t);
}

/* ---- more refs than markers ---------------------------------------------- */

#define MANY 6

static fx_next t3_tail(fx_ctx *cx, fx_msg *m)
{
    st *s = fx_state(cx);
    report(cx, fx_msg_type(m));
    if (++s->got == MANY)
        return fx_become(cx, report_all);
    return recv_ref(cx, t3_tail, s->ref[s->got]);
}

static fx_next t3_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    for (int i = 0; i < MANY; i++)
        new_ref(cx);
    st *s = fx_state(cx);
    return recv_ref(cx, t3_tail, s->ref[0]);
}

static fx_next t3_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_receive(cx, t3_go, &(fx_match){.type = GO}, FX_INFINITY);
}

Test(marker, more_refs_than_markers)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_st(&t, t3_init, FX_PID_NONE);
    cr_assert_eq(fx_vm_send(t.vm, p, A, NULL, 0), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    fx_ref r[MANY];
    for (int i = 0; i < MANY; i++)
        r[i] = recv_ref_of(&t);
    /* In reverse: each receive finds its message among later ones. */
    for (int i = MANY - 1; i >= 0; i--) {
        cr_assert_eq(fx_vm_send(t.vm, p, B, NULL, 0), 0);
        send_ref(&t, p, (uint32_t) (T1 + i), r[i]);
    }
    uint64_t want[MANY + 1 + MANY];
    for (int i = 0; i < MANY; i++)
        want[i] = T1 + (uint64_t) i;
    want[MANY] = A;
    for (int i = 0; i < MANY; i++)
        want[MANY + 1 + i] = B;
    expect(&t, want, 2 * MANY + 1);
    tvm_stop(&t);
}

/* ---- a matching message that arrived before a later ref ----------------- */

/* A ref made earlier, received after a newer ref's marker was set: its
 * message, saved before the newer marker, is still found (each ref uses
 * its own marker). */
static fx_next t4_old(fx_ctx *cx, fx_msg *m)
{
    report(cx, fx_msg_type(m));
    return fx_become(cx, report_all);
}

static fx_next t4_new(fx_ctx *cx, fx_msg *m)
{
    st *s = fx_state(cx);
    report(cx, fx_msg_type(m));
    return recv_ref(cx, t4_old, s->ref[0]);
}

static fx_next t4_go2(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    new_ref(cx); /* newer, marker after T1's message */
    st *s = fx_state(cx);
    return recv_ref(cx, t4_new, s->ref[1]);
}

static fx_next t4_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    new_ref(cx);
    return fx_receive(cx, t4_go2, &(fx_match){.type = GO2}, FX_INFINITY);
}

static fx_next t4_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_receive(cx, t4_go, &(fx_match){.type = GO}, FX_INFINITY);
}

Test(marker, older_ref_found_before_newer_marker)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_st(&t, t4_init, FX_PID_NONE);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    fx_ref r1 = recv_ref_of(&t);
    send_ref(&t, p, T1, r1); /* saved while waiting for GO2 */
    cr_assert_eq(fx_vm_send(t.vm, p, GO2, NULL, 0), 0);
    fx_ref r2 = recv_ref_of(&t);
    send_ref(&t, p, T2, r2);
    uint64_t want[] = {T2, T1};
    expect(&t, want, 2);
    tvm_stop(&t);
}

/* ---- calls made with a long queue ---------------------------------------- */

static fx_gs_ret echo_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = NULL;
    return fx_gs_ok(cx);
}

static fx_gs_ret echo_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                           const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) type;
    return fx_gs_reply(cx, data, size);
}

static const fx_gs_ops echo_ops = {.init = echo_init, .handle_call = echo_call};

#define QUEUED 1000
#define CALLS 5

static fx_next t5_junk(fx_ctx *cx, fx_msg *m)
{
    uint64_t v = 0;
    if (fx_msg_type(m) == J)
        memcpy(&v, fx_msg_data(m), sizeof v);
    report(cx, fx_msg_type(m) == J ? v : UINT64_MAX);
    return fx_continue(cx);
}

static fx_next t5_reply(fx_ctx *cx, fx_msg *m)
{
    st *s = fx_state(cx);
    const void *data;
    size_t size;
    int rc = fx_gs_call_result(cx, m, &data, &size, NULL);
    int v = -1;
    if (rc == 0 && size == sizeof v)
        memcpy(&v, data, sizeof v);
    report(cx, v == s->calls ? 1000000u + (uint64_t) v : UINT64_MAX);
    if (++s->calls == CALLS)
        return fx_become(cx, t5_junk);
    return fx_gs_call_async(cx, s->server, 1, &s->calls, sizeof s->calls, 10000,
                            t5_reply);
}

static fx_next t5_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    st *s = fx_state(cx);
    for (uint64_t i = 0; i < QUEUED; i++)
        fx_send(cx, fx_self(cx), J, &i, sizeof i);
    return fx_gs_call_async(cx, s->server, 1, &s->calls, sizeof s->calls, 10000,
                            t5_reply);
}

Test(marker, calls_with_a_long_queue_keep_its_order)
{
    tvm t = tvm_start(2);
    fx_pid server;
    fx_gs_spec spec = {.ops = &echo_ops};
    cr_assert_eq(fx_gs_start(t.in, &spec, &server, NULL), 0);
    spawn_st(&t, t5_init, server);
    for (uint64_t i = 0; i < CALLS; i++)
        cr_assert_eq(tvm_recv_u64(&t, OUT), 1000000u + i, "call %d", (int) i);
    for (uint64_t i = 0; i < QUEUED; i++)
        cr_assert_eq(tvm_recv_u64(&t, OUT), i, "queued message %d", (int) i);
    tvm_stop(&t);
}
