/* Bad-input table: gen_statem.h.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

#define BI_SM_LOG 0x7101u

static fx_pid bi_sm_obs;

/* A machine that takes, on a cast, the bad action its type names, sends
 * the action's return value to the observer, and answers keep_state (or
 * the invalid answer). Its exit reason says what the refusal did. */
enum {
    BAD_NEG_TIMEOUT = 1,
    BAD_NULL_DATA,
    BAD_BIG,
    BAD_INVALID_ANSWER,
    BAD_NULL_STATE,
    BAD_UPDATE_NONE,
    BAD_REPLY_EMPTY
};

static char bi_sm_big[BI_MAX_MSG + 1];

static fx_sm_ret bi_sm_state(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    (void) data;
    if (ev->kind != FX_SM_CAST)
        return fx_sm_keep_state(sm);
    int64_t rc = 0;
    fx_sm_ret r = fx_sm_keep_state(sm);
    switch (ev->type) {
    case BAD_NEG_TIMEOUT:
        rc = fx_sm_state_timeout(sm, -5, 0, NULL, 0);
        break;
    case BAD_NULL_DATA:
        rc = fx_sm_next_event(sm, 0, NULL, 8);
        break;
    case BAD_BIG:
        rc = fx_sm_timeout(sm, 1, 10, 0, bi_sm_big, sizeof bi_sm_big);
        break;
    case BAD_INVALID_ANSWER:
        r = fx_sm_keep_state(NULL);
        break;
    case BAD_NULL_STATE:
        r = fx_sm_next_state(sm, fx_sm_fn(NULL));
        break;
    case BAD_UPDATE_NONE:
        rc = fx_sm_update_timeout(sm, 77, 0, NULL, 0);
        break;
    case BAD_REPLY_EMPTY:
        rc = fx_sm_reply(sm, (fx_from){FX_PID_NONE, FX_REF_NONE}, NULL, 0);
        break;
    }
    fx_send(fx_sm_ctx(sm), bi_sm_obs, BI_SM_LOG, &rc, sizeof rc);
    return r;
}

static fx_sm_ret bi_sm_init(fx_sm *sm, void *arg, void **data)
{
    (void) arg;
    (void) data;
    return fx_sm_next_state(sm, fx_sm_fn(bi_sm_state));
}

static const fx_sm_ops bi_sm_ops = {.init = bi_sm_init};
static const fx_sm_spec bi_sm_spec = {.ops = &bi_sm_ops};

/* Casts `what` to a fresh machine; returns the action's result and, in
 * *why, the machine's exit reason (kind -1: it is still alive). */
static int64_t bi_sm_try(tvm *t, int what, fx_reason *why)
{
    bi_sm_obs = t->me;
    fx_pid p;
    cr_assert_eq(fx_sm_start(t->in, &bi_sm_spec, &p, NULL), 0);
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t->in, p, &ref), 0);
    cr_assert_eq(fx_vm_gs_cast(t->vm, p, (uint32_t) what, NULL, 0), 0);
    int64_t rc = (int64_t) tvm_recv_u64(t, BI_SM_LOG);
    /* A refused action stops the machine when its callback returns; one
     * that is only an error return does not (no DOWN within 300 ms: not a
     * timing assertion, a live machine passes either way). */
    fx_match m = {.type = FX_MSG_DOWN, .ref = ref};
    fx_msg *down = NULL;
    why->kind = -1;
    if (fx_inbox_recv(t->in, &m, 300, &down) == 0) {
        *why = ((const fx_down_info *) fx_msg_data(down))->reason;
        fx_msg_free(down);
    } else {
        cr_assert_eq(fx_gs_stop_server(t->in, p, fx_reason_normal(), 10000, NULL), 0);
    }
    return rc;
}

static void bi_sm_expect(int what, int64_t rc, int code)
{
    tvm t = bi_start();
    fx_reason why;
    bi_expect(bi_sm_try(&t, what, &why), rc);
    if (code) {
        cr_assert_eq(why.kind, FX_REASON_ERROR, "kind %d", why.kind);
        cr_assert_eq(why.code, code, "code %d", why.code);
    } else {
        cr_assert_eq(why.kind, -1, "the machine exited (%d)", why.kind);
    }
    bi_end(&t);
}

Test(bi_sm, builders_null_sm,
     .description = "fx_sm_next_state, fx_sm_keep_state, fx_sm_repeat_state, fx_sm_stop, "
                    "fx_sm_stop_reply, fx_sm_ignore | sm NULL | the invalid answer, no "
                    "crash")
{
    (void) fx_sm_next_state(NULL, fx_sm_id(1));
    (void) fx_sm_keep_state(NULL);
    (void) fx_sm_repeat_state(NULL);
    (void) fx_sm_stop(NULL, fx_reason_normal());
    (void) fx_sm_stop_reply(NULL, fx_reason_normal(), (fx_from){FX_PID_NONE, FX_REF_NONE},
                            NULL, 5);
    (void) fx_sm_ignore(NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_sm, invalid_answer,
     .description = "fx_sm_keep_state | its invalid answer (sm NULL) returned by a state "
                    "function | the machine stops with {error, FX_EACTION}")
{
    bi_sm_expect(BAD_INVALID_ANSWER, 0, FX_EACTION);
}

Test(bi_sm, next_state_without_function,
     .description = "fx_sm_next_state | state function NULL (state-functions mode) | the "
                    "machine stops with {error, FX_EACTION}")
{
    bi_sm_expect(BAD_NULL_STATE, 0, FX_EACTION);
}

Test(bi_sm, actions_null_sm,
     .description = "fx_sm_reply, fx_sm_postpone, fx_sm_next_event, fx_sm_event_timeout, "
                    "fx_sm_state_timeout, fx_sm_timeout, fx_sm_update_timeout, "
                    "fx_sm_call_then, fx_sm_set_data | sm NULL | FX_EINVAL")
{
    fx_from none = {FX_PID_NONE, FX_REF_NONE};
    bi_expect(fx_sm_reply(NULL, none, "x", 1), FX_EINVAL);
    bi_expect(fx_sm_postpone(NULL), FX_EINVAL);
    bi_expect(fx_sm_next_event(NULL, 1, "x", 1), FX_EINVAL);
    bi_expect(fx_sm_event_timeout(NULL, 5, 1, NULL, 0), FX_EINVAL);
    bi_expect(fx_sm_state_timeout(NULL, 5, 1, NULL, 0), FX_EINVAL);
    bi_expect(fx_sm_timeout(NULL, 1, 5, 1, NULL, 0), FX_EINVAL);
    bi_expect(fx_sm_update_timeout(NULL, 1, 1, NULL, 0), FX_EINVAL);
    bi_expect(fx_sm_call_then(NULL, FX_PID_NONE, 1, NULL, 0, 5, NULL), FX_EINVAL);
    bi_expect(fx_sm_set_data(NULL, NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_sm, ctx_null, .description = "fx_sm_ctx | sm NULL | NULL")
{
    cr_assert_null(fx_sm_ctx(NULL));
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_sm, negative_timeout,
     .description = "fx_sm_state_timeout, fx_sm_event_timeout, fx_sm_timeout | ms < 0 "
                    "other than FX_INFINITY | FX_EINVAL; the machine stops with {error, "
                    "FX_EINVAL}")
{
    bi_sm_expect(BAD_NEG_TIMEOUT, FX_EINVAL, FX_EINVAL);
}

Test(bi_sm, null_data,
     .description = "fx_sm_next_event (and every action with data) | data NULL with size "
                    "> 0 | FX_EINVAL; the machine stops with {error, FX_EINVAL}")
{
    bi_sm_expect(BAD_NULL_DATA, FX_EINVAL, FX_EINVAL);
}

Test(bi_sm, oversized_data,
     .description = "fx_sm_timeout (and every action with data) | data over max_msg_size "
                    "| FX_EMSGSIZE; the machine stops with {error, FX_EMSGSIZE}")
{
    bi_sm_expect(BAD_BIG, FX_EMSGSIZE, FX_EMSGSIZE);
}

Test(bi_sm, update_unknown,
     .description = "fx_sm_update_timeout | no generic timeout of that name running | "
                    "0: starts it with time 0, as OTP (statem_generic_timeout::"
                    "update_with_none_running_fires_at_once)")
{
    bi_sm_expect(BAD_UPDATE_NONE, 0, 0);
}

Test(bi_sm, reply_empty,
     .description =
         "fx_sm_reply | empty `to` | FX_EINVAL (as fx_reply); the machine goes "
         "on")
{
    bi_sm_expect(BAD_REPLY_EMPTY, FX_EINVAL, 0);
}

static const fx_sm_ops bi_sm_no_init = {.handle_event = bi_sm_state};

Test(bi_sm, start_null,
     .description = "fx_sm_start | inbox NULL; spec NULL; spec->ops NULL; ops without "
                    "init | FX_EINVAL")
{
    tvm t = bi_start();
    fx_sm_spec s = {.ops = &bi_sm_ops};
    fx_pid p;
    bi_expect(fx_sm_start(NULL, &s, &p, NULL), FX_EINVAL);
    bi_expect(fx_sm_start(t.in, NULL, &p, NULL), FX_EINVAL);
    s.ops = NULL;
    bi_expect(fx_sm_start(t.in, &s, &p, NULL), FX_EINVAL);
    s.ops = &bi_sm_no_init;
    bi_expect(fx_sm_start(t.in, &s, &p, NULL), FX_EINVAL);
    bi_end(&t);
}

static int run_sm_start(fx_ctx *cx, void *arg)
{
    (void) cx;
    fx_pid p;
    return fx_sm_start(arg, &bi_sm_spec, &p, NULL);
}

Test(bi_sm, start_on_scheduler,
     .description = "fx_sm_start | called on a scheduler thread | FX_EWOULDBLOCK")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_sm_start, t.in), FX_EWOULDBLOCK);
    bi_end(&t);
}

static fx_next run_async_null(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) arg;
    return fx_sm_start_async(cx, NULL, then);
}

static fx_next run_child_null(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) arg;
    return fx_child_gen_statem(cx, NULL, NULL, 0, then);
}

static int decode_start(fx_ctx *cx, fx_msg *m, void *arg)
{
    (void) arg;
    fx_pid p;
    return fx_gs_start_result(cx, m, &p, NULL);
}

Test(bi_sm, start_async_null,
     .description = "fx_sm_start_async, fx_child_gen_statem | spec (arg) NULL | `then` "
                    "gets FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler_next(&t, run_async_null, decode_start, NULL), FX_EINVAL);
    bi_expect(bi_in_handler_next(&t, run_child_null, decode_start, NULL), FX_EINVAL);
    bi_end(&t);
}

static int run_async_null_cx(fx_ctx *cx, void *arg)
{
    (void) cx;
    (void) arg;
    fx_next n = fx_sm_start_async(NULL, &bi_sm_spec, bi_job_then);
    fx_next m = fx_sm_start_async(cx, &bi_sm_spec, NULL);
    fx_next o = fx_stop(NULL, fx_reason_normal());
    return n.op == o.op && m.op == o.op ? 0 : FX_EINVAL;
}

Test(bi_sm, start_async_null_cx,
     .description = "fx_sm_start_async | cx NULL; then NULL | the invalid fx_next, "
                    "nothing started")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_async_null_cx, NULL), 0);
    bi_end(&t);
}
