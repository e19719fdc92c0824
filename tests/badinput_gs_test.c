/* Bad-input table: gen_server.h.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

static char gs_big[BI_MAX_MSG + 1];

/* --- answer builders outside a callback ----------------------------------- */

Test(bi_gs, builders_null_cx,
     .description = "fx_gs_ok, fx_gs_ignore, fx_gs_noreply, fx_gs_reply, fx_gs_stop | cx "
                    "NULL | no crash (header silent)")
{
    (void) fx_gs_ok(NULL);
    (void) fx_gs_ignore(NULL);
    (void) fx_gs_noreply(NULL);
    (void) fx_gs_reply(NULL, "x", 1);
    (void) fx_gs_stop(NULL, fx_reason_normal());
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_gs, init_arg_null,
     .description = "fx_gs_init_arg | cx NULL, state NULL | answers fx_gs_ok, writes "
                    "nothing (header silent)")
{
    int x;
    fx_gs_ret r = fx_gs_init_arg(NULL, &x, NULL);
    void *st = NULL;
    fx_gs_ret r2 = fx_gs_init_arg(NULL, &x, &st);
    cr_assert_eq(r.op, r2.op);
    cr_assert_eq(st, &x);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_gs, modifiers_odd,
     .description = "fx_gs_with_timeout, fx_gs_with_continue | negative timeout -5; cont "
                    "0 on a stop answer | no crash; the -5 answer is no longer a noreply "
                    "(the server stops: bad_return_value)")
{
    fx_gs_ret r = fx_gs_noreply(NULL);
    cr_assert_neq(fx_gs_with_timeout(r, -5).op, r.op);
    cr_assert_eq(fx_gs_with_timeout(r, FX_INFINITY).op, r.op);
    (void) fx_gs_with_continue(fx_gs_stop(NULL, fx_reason_normal()), 0);
    tvm t = bi_start();
    bi_end(&t);
}

/* --- fx_gs_start ------------------------------------------------------------ */

Test(bi_gs, start_null,
     .description = "fx_gs_start | inbox NULL; spec NULL; spec->ops NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &bi_gs_ops};
    fx_pid p;
    bi_expect(fx_gs_start(NULL, &s, &p, NULL), FX_EINVAL);
    bi_expect(fx_gs_start(t.in, NULL, &p, NULL), FX_EINVAL);
    s.ops = NULL;
    bi_expect(fx_gs_start(t.in, &s, &p, NULL), FX_EINVAL);
    bi_end(&t);
}

static const fx_gs_ops gs_no_init = {.handle_call = bi_gs_call};

Test(bi_gs, start_no_init,
     .description = "fx_gs_start | ops without init (required) | FX_EINVAL")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &gs_no_init};
    fx_pid p;
    bi_expect(fx_gs_start(t.in, &s, &p, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_gs, start_bad_name,
     .description = "fx_gs_start | name empty; name of FX_NAME_MAX bytes | FX_EINVAL")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &bi_gs_ops, .name = ""};
    fx_pid p;
    bi_expect(fx_gs_start(t.in, &s, &p, NULL), FX_EINVAL);
    char longname[FX_NAME_MAX + 1];
    memset(longname, 'n', FX_NAME_MAX);
    longname[FX_NAME_MAX] = 0;
    s.name = longname;
    bi_expect(fx_gs_start(t.in, &s, &p, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_gs, start_after_shutdown,
     .description = "fx_gs_start | VM shut down, inbox alive | FX_ESHUTDOWN")
{
    tvm t = bi_start();
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    fx_gs_spec s = {.ops = &bi_gs_ops};
    fx_pid p;
    bi_expect(fx_gs_start(t.in, &s, &p, NULL), FX_ESHUTDOWN);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
    tvm u = bi_start();
    bi_end(&u);
}

typedef struct gs_arg {
    fx_inbox *in;
    fx_pid server;
    const fx_gs_spec *spec;
    uint32_t type;
    const void *data;
    size_t size;
    int64_t timeout;
} gs_arg;

static int run_gs_start(fx_ctx *cx, void *arg)
{
    (void) cx;
    gs_arg *a = arg;
    fx_pid p;
    return fx_gs_start(a->in, a->spec, &p, NULL);
}

static int run_gs_call(fx_ctx *cx, void *arg)
{
    (void) cx;
    gs_arg *a = arg;
    fx_msg *r = NULL;
    int rc = fx_gs_call(a->in, a->server, 1, "x", 1, 1000, &r, NULL);
    fx_msg_free(r);
    return rc;
}

static int run_gs_stop(fx_ctx *cx, void *arg)
{
    (void) cx;
    gs_arg *a = arg;
    return fx_gs_stop_server(a->in, a->server, fx_reason_normal(), 1000, NULL);
}

static void noop_fn(void *state, void *arg)
{
    (void) state;
    (void) arg;
}

static void *noop_replace(void *state, void *arg)
{
    (void) arg;
    return state;
}

static int run_gs_get_state(fx_ctx *cx, void *arg)
{
    (void) cx;
    gs_arg *a = arg;
    return fx_gs_get_state(a->in, a->server, noop_fn, NULL, 1000);
}

static int run_gs_replace_state(fx_ctx *cx, void *arg)
{
    (void) cx;
    gs_arg *a = arg;
    return fx_gs_replace_state(a->in, a->server, noop_replace, NULL, 1000);
}

Test(bi_gs, blocking_from_handler,
     .description =
         "fx_gs_start, fx_gs_call, fx_gs_stop_server, fx_gs_get_state, "
         "fx_gs_replace_state | from a handler (scheduler thread) | FX_EWOULDBLOCK")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    fx_inbox *other;
    cr_assert_eq(fx_inbox_create(t.vm, &other), 0);
    fx_gs_spec s = {.ops = &bi_gs_ops};
    gs_arg a = {.in = other, .server = srv, .spec = &s};
    bi_expect(bi_in_handler(&t, run_gs_start, &a), FX_EWOULDBLOCK);
    bi_expect(bi_in_handler(&t, run_gs_call, &a), FX_EWOULDBLOCK);
    bi_expect(bi_in_handler(&t, run_gs_stop, &a), FX_EWOULDBLOCK);
    bi_expect(bi_in_handler(&t, run_gs_get_state, &a), FX_EWOULDBLOCK);
    bi_expect(bi_in_handler(&t, run_gs_replace_state, &a), FX_EWOULDBLOCK);
    fx_inbox_destroy(other);
    bi_end(&t);
}

/* --- fx_gs_start_async / fx_gs_start_result ------------------------------------ */

static fx_next start_async_null_spec(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) arg;
    return fx_gs_start_async(cx, NULL, then);
}

static int decode_start(fx_ctx *cx, fx_msg *m, void *arg)
{
    (void) arg;
    fx_pid p;
    return fx_gs_start_result(cx, m, &p, NULL);
}

Test(bi_gs, start_async_null_spec,
     .description = "fx_gs_start_async | spec NULL | `then` gets FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler_next(&t, start_async_null_spec, decode_start, NULL),
              FX_EINVAL);
    bi_end(&t);
}

static int run_start_result_foreign(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_msg *m;
    if (fx_msg_new(1, 8, &m) != 0)
        return FX_ENOMEM;
    fx_pid p;
    int rc = fx_gs_start_result(cx, m, &p, NULL);
    fx_msg_free(m);
    if (rc != FX_EINVAL)
        return rc;
    return fx_gs_start_result(cx, NULL, &p, NULL);
}

Test(bi_gs, start_result_foreign,
     .description = "fx_gs_start_result | a message that is not a start outcome; msg "
                    "NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_start_result_foreign, NULL), FX_EINVAL);
    bi_end(&t);
}

/* --- fx_gs_call ------------------------------------------------------------------ */

Test(bi_gs, call_null_inbox, .description = "fx_gs_call | inbox NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    fx_msg *r;
    bi_expect(fx_gs_call(NULL, srv, 1, "x", 1, 1000, &r, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_gs, call_self,
     .description = "fx_gs_call | server is the inbox itself | FX_EINVAL")
{
    tvm t = bi_start();
    fx_msg *r;
    bi_expect(fx_gs_call(t.in, t.me, 1, "x", 1, 1000, &r, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_gs, call_dead,
     .description = "fx_gs_call | stale pid, garbage pid | FX_ENOPROC at once (even with "
                    "FX_INFINITY)")
{
    tvm t = bi_start();
    fx_msg *r;
    bi_expect(fx_gs_call(t.in, bi_stale(&t), 1, "x", 1, FX_INFINITY, &r, NULL),
              FX_ENOPROC);
    bi_expect(fx_gs_call(t.in, BI_GARBAGE_PID, 1, "x", 1, FX_INFINITY, &r, NULL),
              FX_ENOPROC);
    bi_end(&t);
}

Test(bi_gs, call_bad_data, .description = "fx_gs_call | data NULL, size 8 | FX_EINVAL")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    fx_msg *r;
    bi_expect(fx_gs_call(t.in, srv, 1, NULL, 8, 1000, &r, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_gs, call_oversized,
     .description = "fx_gs_call | request of max_msg_size + 1 | FX_EMSGSIZE")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    fx_msg *r;
    bi_expect(fx_gs_call(t.in, srv, 1, gs_big, sizeof gs_big, 1000, &r, NULL),
              FX_EMSGSIZE);
    bi_end(&t);
}

static fx_gs_ret slow_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                           const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) type;
    (void) data;
    (void) size;
    return fx_gs_noreply(cx); /* never replies */
}

static const fx_gs_ops gs_silent = {.init = bi_gs_init, .handle_call = slow_call};

Test(
    bi_gs, call_timeout_zero,
    .description = "fx_gs_call | timeout 0 to a server that never replies | FX_ETIMEDOUT")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &gs_silent};
    fx_pid srv;
    cr_assert_eq(fx_gs_start(t.in, &s, &srv, NULL), 0);
    fx_msg *r;
    bi_expect(fx_gs_call(t.in, srv, 1, "x", 1, 0, &r, NULL), FX_ETIMEDOUT);
    cr_assert_eq(fx_vm_exit(t.vm, srv, fx_reason_kill()), 0);
    bi_end(&t);
}

Test(bi_gs, call_null_reply, .description = "fx_gs_call | reply NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    bi_expect(fx_gs_call(t.in, srv, 1, "x", 1, 1000, NULL, NULL), FX_EINVAL);
    bi_end(&t);
}

/* --- fx_gs_call_async / fx_gs_call_result --------------------------------------- */

static fx_next call_async(fx_ctx *cx, void *arg, fx_handler then)
{
    gs_arg *a = arg;
    return fx_gs_call_async(cx, a->server, a->type, a->data, a->size, a->timeout, then);
}

static int decode_call(fx_ctx *cx, fx_msg *m, void *arg)
{
    (void) arg;
    const void *d;
    size_t n;
    return fx_gs_call_result(cx, m, &d, &n, NULL);
}

Test(bi_gs, call_async_dead,
     .description = "fx_gs_call_async | stale pid | `then` gets FX_ENOPROC")
{
    tvm t = bi_start();
    gs_arg a = {.server = bi_stale(&t),
                .type = 1,
                .data = "x",
                .size = 1,
                .timeout = FX_INFINITY};
    bi_expect(bi_in_handler_next(&t, call_async, decode_call, &a), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_gs, call_async_oversized,
     .description =
         "fx_gs_call_async | request of max_msg_size + 1 | `then` gets FX_EMSGSIZE")
{
    tvm t = bi_start();
    gs_arg a = {.server = bi_gs(&t),
                .type = 1,
                .data = gs_big,
                .size = sizeof gs_big,
                .timeout = 1000};
    bi_expect(bi_in_handler_next(&t, call_async, decode_call, &a), FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_gs, call_async_null_data,
     .description = "fx_gs_call_async | data NULL, size 8 | `then` gets FX_EINVAL")
{
    tvm t = bi_start();
    gs_arg a = {.server = bi_gs(&t), .type = 1, .data = NULL, .size = 8, .timeout = 1000};
    bi_expect(bi_in_handler_next(&t, call_async, decode_call, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_gs, call_async_timeout_zero,
     .description =
         "fx_gs_call_async | timeout 0, server never replies | `then` gets FX_ETIMEDOUT")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &gs_silent};
    fx_pid srv;
    cr_assert_eq(fx_gs_start(t.in, &s, &srv, NULL), 0);
    gs_arg a = {.server = srv, .type = 1, .data = "x", .size = 1, .timeout = 0};
    bi_expect(bi_in_handler_next(&t, call_async, decode_call, &a), FX_ETIMEDOUT);
    cr_assert_eq(fx_vm_exit(t.vm, srv, fx_reason_kill()), 0);
    bi_end(&t);
}

static int run_call_result_foreign(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_msg *m;
    if (fx_msg_new(1, 8, &m) != 0)
        return FX_ENOMEM;
    const void *d;
    size_t n;
    int rc = fx_gs_call_result(cx, m, &d, &n, NULL);
    fx_msg_free(m);
    if (rc != FX_EINVAL)
        return rc;
    return fx_gs_call_result(cx, NULL, &d, &n, NULL);
}

Test(bi_gs, call_result_foreign,
     .description =
         "fx_gs_call_result | a message that is not a call outcome; msg NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_call_result_foreign, NULL), FX_EINVAL);
    bi_end(&t);
}

/* --- casts ------------------------------------------------------------------------ */

static int run_cast(fx_ctx *cx, void *arg)
{
    gs_arg *a = arg;
    return fx_gs_cast(cx, a->server, a->type, a->data, a->size);
}

Test(bi_gs, cast_null,
     .description = "fx_gs_cast, fx_vm_gs_cast | cx NULL, vm NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    bi_expect(fx_gs_cast(NULL, srv, 1, "x", 1), FX_EINVAL);
    bi_expect(fx_vm_gs_cast(NULL, srv, 1, "x", 1), FX_EINVAL);
    bi_end(&t);
}

Test(bi_gs, cast_dead,
     .description =
         "fx_gs_cast, fx_vm_gs_cast | stale pid | FX_ENOPROC (a hint: the cast is "
         "dropped)")
{
    tvm t = bi_start();
    fx_pid dead = bi_stale(&t);
    gs_arg a = {.server = dead, .type = 1, .data = "x", .size = 1};
    bi_expect(bi_in_handler(&t, run_cast, &a), FX_ENOPROC);
    bi_expect(fx_vm_gs_cast(t.vm, dead, 1, "x", 1), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_gs, cast_bad_data,
     .description = "fx_gs_cast, fx_vm_gs_cast | data NULL size 8; size max_msg_size + 1 "
                    "| FX_EINVAL; FX_EMSGSIZE")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    gs_arg a = {.server = srv, .type = 1, .data = NULL, .size = 8};
    bi_expect(bi_in_handler(&t, run_cast, &a), FX_EINVAL);
    a.data = gs_big;
    a.size = sizeof gs_big;
    bi_expect(bi_in_handler(&t, run_cast, &a), FX_EMSGSIZE);
    bi_expect(fx_vm_gs_cast(t.vm, srv, 1, NULL, 8), FX_EINVAL);
    bi_expect(fx_vm_gs_cast(t.vm, srv, 1, gs_big, sizeof gs_big), FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_gs, vm_cast_after_shutdown,
     .description = "fx_vm_gs_cast | after shutdown | FX_ESHUTDOWN")
{
    fx_pid p;
    fx_vm *vm = bi_dead_vm(&p);
    bi_expect(fx_vm_gs_cast(vm, p, 1, "x", 1), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

/* --- stop / get_state / replace_state ---------------------------------------------- */

Test(bi_gs, stop_server_bad,
     .description = "fx_gs_stop_server | inbox NULL; stale pid | FX_EINVAL; FX_ENOPROC")
{
    tvm t = bi_start();
    bi_expect(fx_gs_stop_server(NULL, t.me, fx_reason_normal(), 1000, NULL), FX_EINVAL);
    bi_expect(fx_gs_stop_server(t.in, bi_stale(&t), fx_reason_normal(), 1000, NULL),
              FX_ENOPROC);
    bi_end(&t);
}

Test(bi_gs, stop_server_not_gs,
     .description =
         "fx_gs_stop_server | a plain actor that never answers, timeout 0 | FX_ETIMEDOUT")
{
    tvm t = bi_start();
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &p), 0);
    bi_expect(fx_gs_stop_server(t.in, p, fx_reason_normal(), 0, NULL), FX_ETIMEDOUT);
    cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
    bi_end(&t);
}

Test(bi_gs, get_state_bad,
     .description = "fx_gs_get_state, fx_gs_replace_state | inbox NULL; fn NULL; stale "
                    "pid | FX_EINVAL; FX_EINVAL; FX_ENOPROC")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    bi_expect(fx_gs_get_state(NULL, srv, noop_fn, NULL, 1000), FX_EINVAL);
    bi_expect(fx_gs_replace_state(NULL, srv, noop_replace, NULL, 1000), FX_EINVAL);
    bi_expect(fx_gs_get_state(t.in, srv, NULL, NULL, 1000), FX_EINVAL);
    bi_expect(fx_gs_replace_state(t.in, srv, NULL, NULL, 1000), FX_EINVAL);
    fx_pid dead = bi_stale(&t);
    bi_expect(fx_gs_get_state(t.in, dead, noop_fn, NULL, 1000), FX_ENOPROC);
    bi_expect(fx_gs_replace_state(t.in, dead, noop_replace, NULL, 1000), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_gs, get_state_supervisor,
     .description =
         "fx_gs_get_state, fx_gs_replace_state | a supervisor | FX_EINVAL at once")
{
    tvm t = bi_start();
    fx_gs_spec gs = {.ops = &bi_gs_ops};
    fx_child_spec kid = {.id = "k", .start = fx_child_gen_server, .arg = &gs};
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.children = &kid;
    s.nchildren = 1;
    fx_pid sup;
    cr_assert_eq(fx_sup_start(t.in, &s, &sup, NULL), 0);
    bi_expect(fx_gs_get_state(t.in, sup, noop_fn, NULL, 1000), FX_EINVAL);
    bi_expect(fx_gs_replace_state(t.in, sup, noop_replace, NULL, 1000), FX_EINVAL);
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    bi_end(&t);
}

/* --- absurd timeouts, odd replies, NULL ctx or then ----------------------------------
 */

Test(bi_gs, call_absurd_timeout,
     .description = "fx_gs_call | timeout 2e13 ms, INT64_MAX | 0, the reply "
                    "(FX_TIMEOUT_MAX)")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    for (int i = 0; i < BI_ABSURD_N; i++) {
        fx_msg *r = NULL;
        bi_expect(fx_gs_call(t.in, srv, 1, "x", 1, bi_absurd[i], &r, NULL), 0);
        cr_assert_eq(fx_msg_size(r), 1);
        fx_msg_free(r);
    }
    bi_end(&t);
}

static fx_gs_ret stop_reply_null(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                                 const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) type;
    (void) data;
    (void) size;
    return fx_gs_stop_reply(cx, fx_reason_normal(), NULL, 8);
}

static const fx_gs_ops ops_stop_reply_null = {.init = bi_gs_init,
                                              .handle_call = stop_reply_null};

Test(bi_gs, stop_reply_null_data,
     .description = "fx_gs_stop_reply | data NULL, size 8 | the server crashes "
                    "(FX_ECRASHED), the caller gets FX_EEXIT with that reason")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &ops_stop_reply_null};
    fx_pid srv;
    cr_assert_eq(fx_gs_start(t.in, &s, &srv, NULL), 0);
    fx_msg *r = NULL;
    fx_reason why;
    bi_expect(fx_gs_call(t.in, srv, 1, "x", 1, 10000, &r, &why), FX_EEXIT);
    cr_assert_null(r);
    cr_assert_eq(why.kind, FX_REASON_ERROR, "kind %d", why.kind);
    cr_assert_eq(why.code, FX_ECRASHED);
    bi_end(&t);
}

static fx_gs_ret ok_from_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                              const void *data, size_t size)
{
    (void) state, (void) from, (void) type, (void) data, (void) size;
    return fx_gs_ok(cx);
}

static fx_gs_ret stop_reply_from_cast(fx_ctx *cx, void *state, uint32_t type,
                                      const void *data, size_t size)
{
    (void) state, (void) type, (void) data, (void) size;
    return fx_gs_stop_reply(cx, fx_reason_normal(), "x", 1);
}

static const fx_gs_ops ops_wrong_answer = {
    .init = bi_gs_init, .handle_call = ok_from_call, .handle_cast = stop_reply_from_cast};

Test(bi_gs, answers_in_the_wrong_callback,
     .description =
         "fx_gs_ok, fx_gs_stop_reply | ok from handle_call; stop_reply (reason "
         "normal) from handle_cast | the server stops with {error, FX_EINVAL, "
         "\"bad_return_value: ...\"}; the caller gets FX_EEXIT")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &ops_wrong_answer};
    fx_pid srv;
    cr_assert_eq(fx_gs_start(t.in, &s, &srv, NULL), 0);
    fx_msg *r = NULL;
    fx_reason why;
    bi_expect(fx_gs_call(t.in, srv, 1, "x", 1, 10000, &r, &why), FX_EEXIT);
    cr_assert_null(r);
    cr_assert_eq(why.code, FX_EINVAL);
    cr_assert_str_eq(why.text, "bad_return_value: ok outside init");
    cr_assert_eq(fx_gs_start(t.in, &s, &srv, NULL), 0);
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t.in, srv, &ref), 0);
    cr_assert_eq(fx_vm_gs_cast(t.vm, srv, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, FX_MSG_DOWN);
    fx_down_info d;
    memcpy(&d, fx_msg_data(m), sizeof d);
    fx_msg_free(m);
    cr_assert_eq(d.reason.code, FX_EINVAL);
    cr_assert_str_eq(d.reason.text, "bad_return_value: stop_reply from handle_cast");
    bi_end(&t);
}

static fx_next start_async_null_then(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) then;
    static const fx_gs_spec s = {.ops = &bi_gs_ops};
    (void) arg;
    return fx_gs_start_async(cx, &s, NULL);
}

static fx_next call_async_null_then(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) then;
    return fx_gs_call_async(cx, *(fx_pid *) arg, 1, "x", 1, 1000, NULL);
}

/* Runs fn in a one-shot actor and returns its DOWN reason. */
static fx_reason null_then_reason(fx_next (*fn)(fx_ctx *, void *, fx_handler), void *arg,
                                  tvm *t)
{
    bi_job j = {.run_next = fn, .arg = arg, .owner = t->me};
    fx_pid p;
    fx_ref r;
    fx_spawn_opts o = {.handler = bi_job_go, .state = &j};
    cr_assert_eq(fx_inbox_spawn_monitor(t->in, &o, &p, &r), 0);
    cr_assert_eq(fx_inbox_send(t->in, p, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(t, FX_MSG_DOWN);
    fx_reason why = ((const fx_down_info *) fx_msg_data(m))->reason;
    fx_msg_free(m);
    return why;
}

Test(bi_gs, async_null_then,
     .description =
         "fx_gs_start_async, fx_gs_call_async | then NULL | the invalid "
         "fx_next: the calling actor exits {error, FX_EINVAL}; nothing started "
         "or sent")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    fx_vm_stats before, after;
    cr_assert_eq(fx_vm_stats_get(t.vm, &before), 0);
    fx_reason why = null_then_reason(start_async_null_then, NULL, &t);
    cr_assert_eq(why.kind, FX_REASON_ERROR, "kind %d", why.kind);
    bi_expect(why.code, FX_EINVAL);
    /* The one-shot actor was the only spawn: no server was started. */
    cr_assert_eq(fx_vm_stats_get(t.vm, &after), 0);
    cr_assert_eq(after.spawned, before.spawned + 1);
    why = null_then_reason(call_async_null_then, &srv, &t);
    cr_assert_eq(why.kind, FX_REASON_ERROR, "kind %d", why.kind);
    bi_expect(why.code, FX_EINVAL);
    bi_end(&t);
}

Test(bi_gs, async_null_cx,
     .description = "fx_gs_start_async, fx_gs_call_async | cx NULL | the invalid fx_next "
                    "of fx_stop(NULL, ...), nothing started or sent")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &bi_gs_ops};
    int bad = fx_stop(NULL, fx_reason_normal()).op;
    fx_vm_stats before, after;
    cr_assert_eq(fx_vm_stats_get(t.vm, &before), 0);
    cr_assert_eq(fx_gs_start_async(NULL, &s, bi_echo).op, bad);
    cr_assert_eq(fx_gs_call_async(NULL, t.me, 1, "x", 1, 1000, bi_echo).op, bad);
    cr_assert_eq(fx_vm_stats_get(t.vm, &after), 0);
    cr_assert_eq(after.spawned, before.spawned);
    fx_msg *m = NULL;
    bi_expect(fx_inbox_recv(t.in, NULL, 0, &m), FX_ETIMEDOUT);
    bi_end(&t);
}

static char known_max[BI_MAX_MSG];

Test(bi_gs, call_exactly_max,
     .description = "fx_gs_call | request of exactly max_msg_size | 0, the reply")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    fx_msg *r = NULL;
    bi_expect(fx_gs_call(t.in, srv, 1, known_max, sizeof known_max, 10000, &r, NULL), 0);
    fx_msg_free(r);
    bi_end(&t);
}
