/* review8: request.h's fx_reqids_abandon (request.h:79-84), with a
 * GenServer that holds calls and answers them when told: an abandoned
 * request's late reply is dropped, the other request still answers. */
#include "helpers.h"

enum { HOLD = 1, RELEASE, REPORT, GO };

typedef struct holder {
    fx_from held[2];
    int n;
} holder;

static fx_gs_ret h_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = calloc(1, sizeof(holder));
    return fx_gs_ok(cx);
}

static fx_gs_ret h_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    (void) type, (void) data, (void) size;
    holder *h = state;
    if (h->n < 2)
        h->held[h->n++] = from;
    return fx_gs_noreply(cx);
}

static fx_gs_ret h_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size)
{
    (void) type, (void) data, (void) size;
    holder *h = state;
    for (int i = 0; i < h->n; i++) {
        int64_t v = i;
        (void) fx_reply(cx, h->held[i], &v, sizeof v);
    }
    h->n = 0;
    return fx_gs_noreply(cx);
}

static void h_term(fx_vm *vm, void *state, const fx_reason *why)
{
    (void) vm, (void) why;
    free(state);
}

static const fx_gs_ops h_ops = {
    .init = h_init, .handle_call = h_call, .handle_cast = h_cast, .terminate = h_term};

typedef struct asker {
    fx_pid inbox, server;
    fx_reqids *ids;
    fx_ref req[2];
    int got;
} asker;

static void say(fx_ctx *cx, int64_t a, int64_t b)
{
    asker *s = fx_state(cx);
    int64_t v[2] = {a, b};
    (void) fx_send(cx, s->inbox, REPORT, v, sizeof v);
}

static fx_next a_wait(fx_ctx *cx, fx_msg *m)
{
    asker *s = fx_state(cx);
    if (fx_msg_type(m) == FX_MSG_TIMEOUT) { /* quiet for 300 ms: done */
        int64_t left = (int64_t) fx_reqids_size(s->ids);
        say(cx, 100 + s->got, left);
        fx_reqids_destroy(fx_ctx_vm(cx), s->ids);
        s->ids = NULL;
        return fx_stop(cx, fx_reason_normal());
    }
    fx_response r;
    int k = fx_check_response(cx, s->ids, m, &r);
    if (k == FX_RESPONSE) {
        s->got++;
        say(cx,
            fx_ref_eq(r.req, s->req[1])   ? 1
            : fx_ref_eq(r.req, s->req[0]) ? 0
                                          : -1,
            r.rc);
    } else if (k == FX_NO_RESPONSE && fx_ref_eq(fx_msg_ref(m), s->req[0])) {
        say(cx, -2, 0); /* the abandoned request's reply reached the actor */
    }
    return fx_receive(cx, a_wait, NULL, 300);
}

static fx_next a_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    asker *s = fx_state(cx);
    cr_assert_eq(fx_reqids_create(&s->ids), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(fx_send_request(cx, s->ids, s->server, HOLD, NULL, 0, 10000, NULL,
                                     &s->req[i]),
                     0);
    int rc = fx_reqids_abandon(cx, s->ids, s->req[0]);
    say(cx, rc, (int64_t) fx_reqids_size(s->ids));
    say(cx, fx_reqids_abandon(cx, s->ids, s->req[0]), 0); /* again: FX_ENOENT */
    /* The server answers both now (the cast comes after both calls). */
    cr_assert_eq(fx_gs_cast(cx, s->server, RELEASE, NULL, 0), 0);
    return fx_receive(cx, a_wait, NULL, 300);
}

static int64_t *recv2(tvm *t, int64_t out[2])
{
    fx_msg *m = tvm_recv(t, REPORT);
    memcpy(out, fx_msg_data(m), 2 * sizeof *out);
    fx_msg_free(m);
    return out;
}

Test(review8_request, abandoned_request_reply_is_dropped)
{
    tvm t = tvm_start_quiet(2);
    fx_gs_spec sp = {.ops = &h_ops};
    fx_pid server;
    cr_assert_eq(fx_gs_start(t.in, &sp, &server, NULL), 0);
    asker init = {.inbox = t.me, .server = server};
    fx_pid a = spawn_state(t.vm, a_go, &init, sizeof init);
    cr_assert_eq(fx_vm_send(t.vm, a, GO, NULL, 0), 0);
    int64_t v[2];
    recv2(&t, v);
    cr_assert_eq(v[0], 0, "abandon: %d", (int) v[0]);
    cr_assert_eq(v[1], 1, "size after abandon: %d", (int) v[1]);
    recv2(&t, v);
    cr_assert_eq(v[0], FX_ENOENT);
    recv2(&t, v);
    cr_assert_eq(v[0], 1, "the kept request's reply (got %d)", (int) v[0]);
    cr_assert_eq(v[1], 0);
    recv2(&t, v);
    cr_assert_eq(v[0], 101, "exactly one response, then quiet (got %d)", (int) v[0]);
    cr_assert_eq(v[1], 0);
    tvm_stop(&t);
}
