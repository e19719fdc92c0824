/* Calls from callbacks (docs/genserver.md): a GenServer ("front") calls
 * another ("back") from its callbacks with fx_gs_call_then and gets the
 * reply, the timeout or the exit reason in a continuation with its state;
 * several calls in flight; late replies dropped; a server that stops
 * with calls pending leaks nothing (run under ASan). And the same for any
 * actor with fx_send_request / fx_check_response. Mirrors OTP's
 * gen_server:send_request / check_response tests. */
#include "helpers.h"

#include <stdint.h>

/* back's calls and casts */
enum { SQ = 1, HOLD, DIE, RELEASE };
/* front's calls and casts */
enum { F_SQUARE = 10, F_SLOW, F_DIE, F_DEAD, F_FAN, F_INFO, F_HOLD_MANY, F_START_HOLD };
enum { EVT = 50, GO = 60, OTHER };

/* ---- back: squares, holds calls until RELEASE, or dies ------------------ */

#define HELD_MAX 64

typedef struct back {
    fx_from held[HELD_MAX];
    int nheld;
} back;

static fx_gs_ret back_init(fx_ctx *cx, void *arg, void **state)
{
    *state = arg;
    return fx_gs_ok(cx);
}

static fx_gs_ret back_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                           const void *data, size_t size)
{
    back *b = state;
    uint64_t n = 0;
    if (size == sizeof n)
        memcpy(&n, data, sizeof n);
    switch (type) {
    case SQ:
        n *= n;
        return fx_gs_reply(cx, &n, sizeof n);
    case HOLD:
        if (b->nheld < HELD_MAX)
            b->held[b->nheld++] = from;
        return fx_gs_noreply(cx);
    case DIE:
        return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "boom"));
    default: /* the test's sync: everything before it is handled */
        return fx_gs_reply(cx, &b->nheld, sizeof b->nheld);
    }
}

static fx_gs_ret back_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                           size_t size)
{
    (void) type;
    (void) data;
    (void) size;
    back *b = state;
    uint64_t v = 7;
    for (int i = 0; i < b->nheld; i++)
        (void) fx_reply(cx, b->held[i], &v, sizeof v);
    b->nheld = 0;
    return fx_gs_noreply(cx);
}

static const fx_gs_ops back_ops = {
    .init = back_init, .handle_call = back_call, .handle_cast = back_cast};

/* ---- front ------------------------------------------------------------------ */

typedef struct front {
    fx_pid back, report;
    int infos; /* messages that reached handle_info */
    int fan, got, held;
    uint64_t sum;
} front;

/* What front's callers get. */
typedef struct outcome {
    int32_t rc;
    int32_t reason_kind;
    int32_t reason_code;
    int32_t pad;
    uint64_t value;
} outcome;

static outcome decode(const fx_response *res)
{
    outcome o = {.rc = res->rc};
    if (res->rc == 0 && res->size == sizeof o.value)
        memcpy(&o.value, res->data, sizeof o.value);
    if (res->rc == FX_EEXIT) {
        o.reason_kind = res->reason.kind;
        o.reason_code = res->reason.code;
    }
    return o;
}

static fx_gs_ret front_init(fx_ctx *cx, void *arg, void **state)
{
    *state = arg;
    return fx_gs_ok(cx);
}

/* Replies to the call that made the request with its outcome. */
static fx_gs_ret then_reply(fx_ctx *cx, void *state, const fx_response *res)
{
    (void) state;
    outcome o = decode(res);
    return fx_gs_reply(cx, &o, sizeof o);
}

static fx_gs_ret then_fan(fx_ctx *cx, void *state, const fx_response *res)
{
    front *f = state;
    outcome o = decode(res);
    uint64_t i = (uint64_t) (uintptr_t) res->tag;
    /* Each reply must be its own request's square. */
    f->sum += o.rc == 0 && o.value == i * i ? o.value : UINT64_MAX / 4;
    if (++f->got < f->fan)
        return fx_gs_noreply(cx);
    return fx_gs_reply(cx, &f->sum, sizeof f->sum);
}

/* Tells the test (no call to answer: the request came from a cast). */
static fx_gs_ret then_report(fx_ctx *cx, void *state, const fx_response *res)
{
    front *f = state;
    outcome o = decode(res);
    fx_send(cx, f->report, EVT, &o, sizeof o);
    return fx_gs_noreply(cx);
}

static fx_gs_ret front_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                            const void *data, size_t size)
{
    (void) from;
    front *f = state;
    uint64_t n = 0;
    if (size == sizeof n)
        memcpy(&n, data, sizeof n);
    switch (type) {
    case F_SQUARE: /* the one-liner */
        return fx_gs_call_then(cx, f->back, SQ, &n, sizeof n, 5000, then_reply, NULL);
    case F_SLOW: /* n: the timeout */
        return fx_gs_call_then(cx, f->back, HOLD, NULL, 0, (int64_t) n, then_reply, NULL);
    case F_DIE:
        return fx_gs_call_then(cx, f->back, DIE, NULL, 0, 5000, then_reply, NULL);
    case F_DEAD: { /* n: a pid that is no longer alive */
        fx_pid dead = {n};
        return fx_gs_call_then(cx, dead, SQ, &n, sizeof n, 5000, then_reply, NULL);
    }
    case F_FAN:
        f->fan = (int) n;
        f->got = 0;
        f->sum = 0;
        for (uint64_t i = 1; i <= n; i++)
            (void) fx_gs_call_then(cx, f->back, SQ, &i, sizeof i, 5000, then_fan,
                                   (void *) (uintptr_t) i);
        return fx_gs_noreply(cx);
    case F_HOLD_MANY: /* n calls to back that it holds, half with a timeout */
        for (uint64_t i = 0; i < n; i++)
            (void) fx_gs_call_then(cx, f->back, HOLD, NULL, 0,
                                   i % 2 ? 60000 : FX_INFINITY, then_report, NULL);
        return fx_gs_reply(cx, NULL, 0);
    default: { /* F_INFO */
        int32_t v[2] = {f->infos, f->held};
        return fx_gs_reply(cx, v, sizeof v);
    }
    }
}

static fx_gs_ret front_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                            size_t size)
{
    (void) type;
    (void) data;
    (void) size;
    front *f = state;
    f->held++;
    return fx_gs_call_then(cx, f->back, HOLD, NULL, 0, FX_INFINITY, then_report, NULL);
}

static fx_gs_ret front_info(fx_ctx *cx, void *state, fx_msg *m)
{
    (void) m;
    front *f = state;
    f->infos++;
    return fx_gs_noreply(cx);
}

static const fx_gs_ops front_ops = {.init = front_init,
                                    .handle_call = front_call,
                                    .handle_cast = front_cast,
                                    .handle_info = front_info};

typedef struct pair {
    tvm t;
    back b;
    front f;
    fx_pid back_pid, front_pid;
} pair;

static void pair_start(pair *p)
{
    p->t = tvm_start_quiet(2);
    memset(&p->b, 0, sizeof p->b);
    memset(&p->f, 0, sizeof p->f);
    fx_gs_spec bs = {.ops = &back_ops, .arg = &p->b};
    cr_assert_eq(fx_gs_start(p->t.in, &bs, &p->back_pid, NULL), 0);
    p->f.back = p->back_pid;
    p->f.report = p->t.me;
    fx_gs_spec fs = {.ops = &front_ops, .arg = &p->f};
    cr_assert_eq(fx_gs_start(p->t.in, &fs, &p->front_pid, NULL), 0);
}

static outcome call_front(pair *p, uint32_t type, uint64_t n)
{
    fx_msg *reply;
    int rc = fx_gs_call(p->t.in, p->front_pid, type, &n, sizeof n, 10000, &reply, NULL);
    cr_assert_eq(rc, 0, "call front: %s", fx_strerror(rc));
    outcome o;
    cr_assert_eq(fx_msg_size(reply), sizeof o);
    memcpy(&o, fx_msg_data(reply), sizeof o);
    fx_msg_free(reply);
    return o;
}

/* front's handle_info count and held count, after everything before. */
static void front_info_of(pair *p, int32_t v[2])
{
    fx_msg *reply;
    cr_assert_eq(fx_gs_call(p->t.in, p->front_pid, F_INFO, NULL, 0, 10000, &reply, NULL),
                 0);
    memcpy(v, fx_msg_data(reply), 2 * sizeof v[0]);
    fx_msg_free(reply);
}

/* back's held count, once back has handled everything sent before. */
static int back_sync(pair *p)
{
    fx_msg *reply;
    cr_assert_eq(fx_gs_call(p->t.in, p->back_pid, 99, NULL, 0, 10000, &reply, NULL), 0);
    int v;
    memcpy(&v, fx_msg_data(reply), sizeof v);
    fx_msg_free(reply);
    return v;
}

static void pair_stop(pair *p)
{
    tvm_stop(&p->t);
}

Test(request, reply_reaches_the_continuation)
{
    pair p;
    pair_start(&p);
    for (uint64_t n = 2; n < 6; n++) {
        outcome o = call_front(&p, F_SQUARE, n);
        cr_assert_eq(o.rc, 0);
        cr_assert_eq(o.value, n * n);
    }
    pair_stop(&p);
}

Test(request, timeout_then_late_reply_is_dropped)
{
    pair p;
    pair_start(&p);
    outcome o = call_front(&p, F_SLOW, 20);
    cr_assert_eq(o.rc, FX_ETIMEDOUT);
    /* back now answers the request that timed out: front must not see it. */
    cr_assert_eq(back_sync(&p), 1);
    cr_assert_eq(fx_vm_gs_cast(p.t.vm, p.back_pid, RELEASE, NULL, 0), 0);
    cr_assert_eq(back_sync(&p), 0); /* the reply was sent before this */
    int32_t v[2];
    front_info_of(&p, v);
    cr_assert_eq(v[0], 0, "a stray message reached handle_info");
    pair_stop(&p);
}

Test(request, callee_dies_gives_its_exit_reason)
{
    pair p;
    pair_start(&p);
    outcome o = call_front(&p, F_DIE, 0);
    cr_assert_eq(o.rc, FX_EEXIT);
    cr_assert_eq(o.reason_kind, FX_REASON_ERROR);
    cr_assert_eq(o.reason_code, FX_EINVAL);
    int32_t v[2];
    front_info_of(&p, v);
    cr_assert_eq(v[0], 0, "the DOWN also reached handle_info");
    pair_stop(&p);
}

Test(request, callee_not_alive_is_noproc)
{
    pair p;
    pair_start(&p);
    fx_pid gone;
    fx_gs_spec bs = {.ops = &back_ops, .arg = &p.b};
    cr_assert_eq(fx_gs_start(p.t.in, &bs, &gone, NULL), 0);
    cr_assert_eq(fx_gs_stop_server(p.t.in, gone, fx_reason_normal(), 10000, NULL), 0);
    outcome o = call_front(&p, F_DEAD, gone.id);
    cr_assert_eq(o.rc, FX_ENOPROC);
    o = call_front(&p, F_DEAD, 0); /* no pid at all: a sending error */
    cr_assert_eq(o.rc, FX_EINVAL);
    pair_stop(&p);
}

Test(request, many_in_flight)
{
    pair p;
    pair_start(&p);
    uint64_t n = 300, want = n * (n + 1) * (2 * n + 1) / 6;
    fx_msg *reply;
    cr_assert_eq(
        fx_gs_call(p.t.in, p.front_pid, F_FAN, &n, sizeof n, 10000, &reply, NULL), 0);
    uint64_t sum;
    memcpy(&sum, fx_msg_data(reply), sizeof sum);
    fx_msg_free(reply);
    cr_assert_eq(sum, want);
    pair_stop(&p);
}

Test(request, server_keeps_serving_while_calls_are_pending)
{
    pair p;
    pair_start(&p);
    cr_assert_eq(fx_vm_gs_cast(p.t.vm, p.front_pid, F_START_HOLD, NULL, 0), 0);
    cr_assert_eq(fx_vm_gs_cast(p.t.vm, p.front_pid, F_START_HOLD, NULL, 0), 0);
    int32_t v[2];
    front_info_of(&p, v); /* answered while two calls wait */
    cr_assert_eq(v[1], 2);
    outcome o = call_front(&p, F_SQUARE, 9); /* and a third call completes */
    cr_assert_eq(o.value, 81);
    cr_assert_eq(back_sync(&p), 2);
    cr_assert_eq(fx_vm_gs_cast(p.t.vm, p.back_pid, RELEASE, NULL, 0), 0);
    for (int i = 0; i < 2; i++) {
        fx_msg *m = tvm_recv(&p.t, EVT);
        cr_assert_eq(((const outcome *) fx_msg_data(m))->rc, 0);
        cr_assert_eq(((const outcome *) fx_msg_data(m))->value, 7);
        fx_msg_free(m);
    }
    pair_stop(&p);
}

Test(request, server_stopping_with_calls_pending_leaks_nothing)
{
    pair p;
    pair_start(&p);
    uint64_t n = 20;
    fx_msg *reply;
    cr_assert_eq(
        fx_gs_call(p.t.in, p.front_pid, F_HOLD_MANY, &n, sizeof n, 10000, &reply, NULL),
        0);
    fx_msg_free(reply);
    cr_assert_eq(back_sync(&p), 20);
    cr_assert_eq(fx_gs_stop_server(p.t.in, p.front_pid, fx_reason_normal(), 10000, NULL),
                 0);
    /* The replies now go to a dead process; no continuation runs. */
    cr_assert_eq(fx_vm_gs_cast(p.t.vm, p.back_pid, RELEASE, NULL, 0), 0);
    cr_assert_eq(back_sync(&p), 0);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(p.t.in, &(fx_match){.type = EVT}, 50, &m), FX_ETIMEDOUT);
    pair_stop(&p); /* LeakSanitizer checks the collection and its timers */
}

/* ---- any actor: fx_send_request / fx_check_response ----------------------- */

typedef struct plain {
    fx_pid me, back;
    fx_reqids *ids;
    int others;
} plain;

static void plain_cleanup(void *state, const fx_reason *reason)
{
    (void) reason;
    plain *s = state;
    fx_reqids_destroy(NULL, s->ids);
}

static fx_next plain_loop(fx_ctx *cx, fx_msg *m)
{
    plain *s = fx_state(cx);
    fx_response res;
    int k = fx_check_response(cx, s->ids, m, &res);
    if (k == FX_NO_RESPONSE) {
        uint32_t t = fx_msg_type(m);
        uint64_t v = t == GO ? 1000 : t == FX_MSG_REPLY ? 3000 : 2000; /* 3000: stray */
        if (fx_msg_type(m) == GO) {
            /* Three requests in flight: two squares, one held (timeout). */
            uint64_t a = 3, b = 4;
            fx_send_request(cx, s->ids, s->back, SQ, &a, sizeof a, 5000, (void *) 1,
                            NULL);
            fx_send_request(cx, s->ids, s->back, HOLD, NULL, 0, 30, (void *) 2, NULL);
            fx_send_request(cx, s->ids, s->back, SQ, &b, sizeof b, FX_INFINITY,
                            (void *) 3, NULL);
            v += fx_reqids_size(s->ids);
        }
        fx_send(cx, s->me, EVT, &v, sizeof v);
        return fx_continue(cx);
    }
    if (k == FX_RESPONSE) {
        outcome o = decode(&res);
        uint64_t v = (uint64_t) (uintptr_t) res.tag * 100 +
                     (o.rc == 0 ? o.value : (o.rc == FX_ETIMEDOUT ? 99 : 98));
        fx_send(cx, s->me, EVT, &v, sizeof v);
    }
    return fx_continue(cx);
}

Test(request, any_actor_with_a_request_collection)
{
    pair p;
    pair_start(&p);
    plain init = {.me = p.t.me, .back = p.back_pid};
    cr_assert_eq(fx_reqids_create(&init.ids), 0);
    fx_spawn_opts o = {.handler = plain_loop,
                       .state_size = sizeof init,
                       .state_init = &init,
                       .cleanup = plain_cleanup};
    fx_pid a;
    cr_assert_eq(fx_vm_spawn_opt(p.t.vm, &o, &a), 0);
    cr_assert_eq(fx_vm_send(p.t.vm, a, GO, NULL, 0), 0);
    cr_assert_eq(tvm_recv_u64(&p.t, EVT), 1003); /* three in flight */
    /* The squares come in order (one server), the held one times out. */
    uint64_t got[3];
    for (int i = 0; i < 3; i++)
        got[i] = tvm_recv_u64(&p.t, EVT);
    cr_assert_eq(got[0], 109);
    cr_assert_eq(got[1] == 316 ? got[2] : got[1], 299);
    cr_assert(got[1] == 316 || got[2] == 316);
    /* Other messages pass through; the late reply to the timed-out
     * request does not arrive. */
    cr_assert_eq(fx_vm_gs_cast(p.t.vm, p.back_pid, RELEASE, NULL, 0), 0);
    cr_assert_eq(back_sync(&p), 0);
    cr_assert_eq(fx_vm_send(p.t.vm, a, OTHER, NULL, 0), 0);
    cr_assert_eq(tvm_recv_u64(&p.t, EVT), 2000);
    pair_stop(&p);
}
