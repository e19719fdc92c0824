/* Bad-input table: request.h, fx_gs_call_then (gen_server.h) and
 * fx_send_after_msg (timer.h). One Test per row; .description is
 * "function | bad input | result". */
#include "badinput.h"

/* ---- fx_send_after_msg ------------------------------------------------ */

typedef struct sa_arg {
    int64_t delay;
    fx_pid to;
    size_t size;
    bool null_msg;
} sa_arg;

static int run_send_after_msg(fx_ctx *cx, void *arg)
{
    sa_arg *a = arg;
    fx_msg *m = NULL;
    if (!a->null_msg && fx_msg_new(9, a->size, &m) != 0)
        return FX_ENOMEM;
    int rc = fx_send_after_msg(cx, a->delay, a->to, m, NULL);
    if (rc != 0)
        fx_msg_free(m); /* an error leaves it with us */
    return rc;
}

Test(bi_request, send_after_msg_null_cx,
     .description = "fx_send_after_msg | cx NULL; msg NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_msg *m;
    cr_assert_eq(fx_msg_new(9, 0, &m), 0);
    bi_expect(fx_send_after_msg(NULL, 1, t.me, m, NULL), FX_EINVAL);
    fx_msg_free(m);
    sa_arg a = {.delay = 1, .to = t.me, .null_msg = true};
    bi_expect(bi_in_handler(&t, run_send_after_msg, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_request, send_after_msg_negative,
     .description = "fx_send_after_msg | delay_ms -1, INT64_MIN | FX_EINVAL")
{
    tvm t = bi_start();
    sa_arg a = {.delay = -1, .to = t.me};
    bi_expect(bi_in_handler(&t, run_send_after_msg, &a), FX_EINVAL);
    a.delay = INT64_MIN;
    bi_expect(bi_in_handler(&t, run_send_after_msg, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_request, send_after_msg_oversized,
     .description = "fx_send_after_msg | size max_msg_size + 1 | FX_EMSGSIZE")
{
    tvm t = bi_start();
    sa_arg a = {.delay = 1, .to = t.me, .size = BI_MAX_MSG + 1};
    bi_expect(bi_in_handler(&t, run_send_after_msg, &a), FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_request, send_after_msg_absurd,
     .description = "fx_send_after_msg | delay 2e13, INT64_MAX; dead target | 0")
{
    tvm t = bi_start();
    for (int i = 0; i < BI_ABSURD_N; i++) {
        sa_arg a = {.delay = bi_absurd[i], .to = t.me};
        bi_expect(bi_in_handler(&t, run_send_after_msg, &a), 0);
    }
    sa_arg a = {.delay = 0, .to = BI_GARBAGE_PID};
    bi_expect(bi_in_handler(&t, run_send_after_msg, &a), 0);
    bi_end(&t);
}

/* ---- the collection ---------------------------------------------------- */

Test(bi_request, reqids_create_null,
     .description = "fx_reqids_create | out NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_reqids_create(NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_request, reqids_destroy_size_null,
     .description = "fx_reqids_destroy, fx_reqids_size | ids NULL | no-op; 0")
{
    tvm t = bi_start();
    fx_reqids_destroy(t.vm, NULL);
    fx_reqids_destroy(NULL, NULL);
    cr_assert_eq(fx_reqids_size(NULL), 0);
    bi_end(&t);
}

typedef struct rq_arg {
    fx_pid server;
    const void *data;
    size_t size;
    int64_t timeout;
    bool null_ids;
    int response; /* out: the response's rc, when the send succeeded */
} rq_arg;

static int run_send_request(fx_ctx *cx, void *arg)
{
    rq_arg *a = arg;
    fx_reqids *ids;
    if (fx_reqids_create(&ids) != 0)
        return FX_ENOMEM;
    int rc = fx_send_request(cx, a->null_ids ? NULL : ids, a->server, 1, a->data, a->size,
                             a->timeout, NULL, NULL);
    if (rc == 0 && fx_reqids_size(ids) != 1)
        rc = -1000;
    fx_reqids_destroy(fx_ctx_vm(cx), ids);
    return rc;
}

Test(bi_request, send_request_null,
     .description = "fx_send_request | cx NULL; ids NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_pid gs = bi_gs(&t);
    fx_reqids *ids;
    cr_assert_eq(fx_reqids_create(&ids), 0);
    bi_expect(fx_send_request(NULL, ids, gs, 1, NULL, 0, 100, NULL, NULL), FX_EINVAL);
    fx_reqids_destroy(t.vm, ids);
    rq_arg a = {.server = gs, .timeout = 100, .null_ids = true};
    bi_expect(bi_in_handler(&t, run_send_request, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_request, send_request_bad_args,
     .description = "fx_send_request | server none; data NULL size 8; timeout -2 | "
                    "FX_EINVAL")
{
    tvm t = bi_start();
    fx_pid gs = bi_gs(&t);
    rq_arg a = {.server = FX_PID_NONE, .timeout = 100};
    bi_expect(bi_in_handler(&t, run_send_request, &a), FX_EINVAL);
    a = (rq_arg){.server = gs, .size = 8, .timeout = 100};
    bi_expect(bi_in_handler(&t, run_send_request, &a), FX_EINVAL);
    a = (rq_arg){.server = gs, .timeout = -2};
    bi_expect(bi_in_handler(&t, run_send_request, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_request, send_request_oversized,
     .description = "fx_send_request | size max_msg_size + 1 | FX_EMSGSIZE")
{
    tvm t = bi_start();
    static char big[BI_MAX_MSG + 1];
    rq_arg a = {.server = bi_gs(&t), .data = big, .size = sizeof big, .timeout = 100};
    bi_expect(bi_in_handler(&t, run_send_request, &a), FX_EMSGSIZE);
    bi_end(&t);
}

/* A garbage pid: sent, and answered with FX_ENOPROC. */
typedef struct garbage {
    fx_reqids *ids;
    fx_pid owner;
} garbage;

static fx_next garbage_then(fx_ctx *cx, fx_msg *m)
{
    garbage *g = fx_state(cx);
    fx_response res;
    int k = fx_check_response(cx, g->ids, m, &res);
    int64_t rc = k == FX_RESPONSE ? res.rc : -1000 - k;
    fx_reqids_destroy(fx_ctx_vm(cx), g->ids);
    fx_send(cx, g->owner, BI_RESULT, &rc, sizeof rc);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next garbage_go(fx_ctx *cx, fx_msg *m)
{
    garbage *g = fx_state(cx);
    g->owner = fx_msg_from(m);
    if (fx_reqids_create(&g->ids) != 0)
        return fx_stop(cx, fx_reason_normal());
    int rc = fx_send_request(cx, g->ids, BI_GARBAGE_PID, 1, NULL, 0, 10000, NULL, NULL);
    if (rc != 0) {
        int64_t v = rc;
        fx_send(cx, g->owner, BI_RESULT, &v, sizeof v);
        fx_reqids_destroy(fx_ctx_vm(cx), g->ids);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_become(cx, garbage_then);
}

Test(bi_request, send_request_garbage_pid,
     .description = "fx_send_request | garbage pid | 0, answered FX_ENOPROC")
{
    tvm t = bi_start();
    fx_pid p;
    fx_spawn_opts o = {.handler = garbage_go, .state_size = sizeof(garbage)};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, 1, NULL, 0), 0);
    bi_expect(tvm_recv_u64(&t, BI_RESULT), FX_ENOPROC);
    bi_end(&t);
}

static int run_check_null(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_reqids *ids;
    fx_msg *m;
    fx_response res;
    if (fx_reqids_create(&ids) != 0 || fx_msg_new(1, 0, &m) != 0)
        return FX_ENOMEM;
    int rcs[3] = {fx_check_response(cx, NULL, m, &res),
                  fx_check_response(cx, ids, NULL, &res),
                  fx_check_response(cx, ids, m, NULL)};
    int plain = fx_check_response(cx, ids, m, &res);
    fx_msg_free(m);
    fx_reqids_destroy(NULL, ids);
    for (int i = 0; i < 3; i++)
        if (rcs[i] != FX_EINVAL)
            return rcs[i] ? rcs[i] : -1000;
    return plain == FX_NO_RESPONSE ? FX_EINVAL : -1001;
}

Test(bi_request, check_response_null,
     .description = "fx_check_response | cx, ids, msg or res NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_reqids *ids;
    fx_msg *m;
    fx_response res;
    cr_assert_eq(fx_reqids_create(&ids), 0);
    cr_assert_eq(fx_msg_new(1, 0, &m), 0);
    bi_expect(fx_check_response(NULL, ids, m, &res), FX_EINVAL);
    fx_msg_free(m);
    fx_reqids_destroy(t.vm, ids);
    bi_expect(bi_in_handler(&t, run_check_null, NULL), FX_EINVAL);
    bi_end(&t);
}

static int run_abandon(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_reqids *ids;
    if (fx_reqids_create(&ids) != 0)
        return FX_ENOMEM;
    int rc = fx_reqids_abandon(cx, NULL, FX_REF_NONE);
    int unknown = fx_reqids_abandon(cx, ids, fx_make_ref(cx));
    int all = fx_reqids_abandon(cx, ids, FX_REF_NONE);
    fx_reqids_destroy(NULL, ids);
    if (rc != FX_EINVAL)
        return -1000;
    return all == 0 ? unknown : -1001;
}

Test(bi_request, reqids_abandon_bad,
     .description = "fx_reqids_abandon | cx or ids NULL; a ref not in ids | FX_EINVAL; "
                    "FX_ENOENT")
{
    tvm t = bi_start();
    fx_reqids *ids;
    cr_assert_eq(fx_reqids_create(&ids), 0);
    bi_expect(fx_reqids_abandon(NULL, ids, FX_REF_NONE), FX_EINVAL);
    fx_reqids_destroy(t.vm, ids);
    bi_expect(bi_in_handler(&t, run_abandon, NULL), FX_ENOENT);
    bi_end(&t);
}

/* ---- fx_gs_call_then ---------------------------------------------------- */

Test(bi_request, gs_call_then_null_cx,
     .description = "fx_gs_call_then | cx NULL | fx_gs_noreply, nothing sent")
{
    tvm t = bi_start();
    fx_gs_ret r = fx_gs_call_then(NULL, t.me, 1, NULL, 0, 100, NULL, NULL);
    fx_gs_ret want = fx_gs_noreply(NULL);
    cr_assert_eq(r.op, want.op);
    fx_msg *m = NULL;
    bi_expect(fx_inbox_recv(t.in, NULL, 20, &m), FX_ETIMEDOUT);
    bi_end(&t);
}

/* A GenServer whose call (type = which bad argument) makes a call from
 * the callback and replies with the continuation's rc. */
static fx_gs_ret gt_then(fx_ctx *cx, void *state, const fx_response *res)
{
    (void) state;
    int32_t rc = res->rc;
    return fx_gs_reply(cx, &rc, sizeof rc);
}

static char gt_big[BI_MAX_MSG + 1];

static fx_gs_ret gt_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                         const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) data;
    (void) size;
    fx_pid self = fx_self(cx);
    switch (type) {
    case 1:
        return fx_gs_call_then(cx, FX_PID_NONE, 1, NULL, 0, 100, gt_then, NULL);
    case 2:
        return fx_gs_call_then(cx, self, 1, NULL, 0, 100, gt_then, NULL);
    case 3:
        return fx_gs_call_then(cx, BI_GARBAGE_PID, 1, NULL, 8, 100, gt_then, NULL);
    case 4:
        return fx_gs_call_then(cx, BI_GARBAGE_PID, 1, NULL, 0, -2, gt_then, NULL);
    case 5:
        return fx_gs_call_then(cx, BI_GARBAGE_PID, 1, gt_big, sizeof gt_big, 100, gt_then,
                               NULL);
    case 6:
        return fx_gs_call_then(cx, BI_GARBAGE_PID, 1, NULL, 0, 100, gt_then, NULL);
    default: /* then NULL: nothing happens, so reply at once */
        (void) fx_gs_call_then(cx, BI_GARBAGE_PID, 1, NULL, 0, 100, NULL, NULL);
        return fx_gs_reply(cx, NULL, 0);
    }
}

static const fx_gs_ops gt_ops = {.init = bi_gs_init, .handle_call = gt_call};

static int64_t gt_run(tvm *t, fx_pid gs, uint32_t which)
{
    fx_msg *reply;
    int rc = fx_gs_call(t->in, gs, which, NULL, 0, 10000, &reply, NULL);
    if (rc != 0)
        return rc;
    int32_t v = -1000;
    if (fx_msg_size(reply) == sizeof v)
        memcpy(&v, fx_msg_data(reply), sizeof v);
    else if (fx_msg_size(reply) == 0)
        v = 0;
    fx_msg_free(reply);
    return v;
}

Test(bi_request, gs_call_then_bad_args,
     .description = "fx_gs_call_then | server none or itself; data NULL size 8; timeout "
                    "-2; size max_msg_size + 1 | then gets FX_EINVAL; FX_EMSGSIZE")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &gt_ops};
    fx_pid gs;
    cr_assert_eq(fx_gs_start(t.in, &s, &gs, NULL), 0);
    for (uint32_t w = 1; w <= 4; w++)
        bi_expect(gt_run(&t, gs, w), FX_EINVAL);
    bi_expect(gt_run(&t, gs, 5), FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_request, gs_call_then_garbage,
     .description = "fx_gs_call_then | garbage pid; then NULL | then gets FX_ENOPROC; "
                    "nothing happens")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &gt_ops};
    fx_pid gs;
    cr_assert_eq(fx_gs_start(t.in, &s, &gs, NULL), 0);
    bi_expect(gt_run(&t, gs, 6), FX_ENOPROC);
    bi_expect(gt_run(&t, gs, 7), 0);
    bi_end(&t);
}
