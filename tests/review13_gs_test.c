/* review13: gen_server.h against OTP's gen_server.
 *
 * gen_server.h:52-55: FX_MSG_TIMEOUT goes to handle_info "when a timeout
 * requested with fx_gs_with_timeout elapsed", and handle_info "may be
 * NULL (messages are then dropped)". In OTP a timeout is `receive ...
 * after T`: it fires once, and a message handle_info does not take (OTP
 * logs "undefined handle_info" for a module without it) leaves the
 * server in {noreply, State}: no timeout any more. Here a dropped
 * message re-arms the timeout the last callback asked for
 * (gen_server_loop.c: `if (!ops->handle_info) return fxi_gs_resume(cx,
 * g)` keeps g->timeout_ms), so with a NULL handle_info the timeout fires
 * again and again, for ever: with 0 ms the server spins on a scheduler
 * thread. */
#include <unistd.h>

#include "helpers.h"

static fx_gs_ret reply_then_timeout(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                                    const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) type;
    (void) data;
    (void) size;
    return fx_gs_with_timeout(fx_gs_reply(cx, "ok", 2), 0);
}

static const fx_gs_ops no_info_ops = {.init = fx_gs_init_arg,
                                      .handle_call = reply_then_timeout};

static uint64_t handled(fx_vm *vm, fx_pid p)
{
    fx_proc_info pi = {.version = FX_PROC_INFO_VERSION};
    cr_assert_eq(fx_process_info(vm, p, &pi), 0);
    return pi.handled;
}

Test(review13_gs, timeout_with_null_handle_info_fires_once)
{
    tvm t = tvm_start_quiet(2);
    fx_gs_spec spec = {.ops = &no_info_ops};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    uint64_t before = handled(t.vm, s);
    fx_msg *reply = NULL;
    cr_assert_eq(fx_gs_call(t.in, s, 1, NULL, 0, 10000, &reply, NULL), 0);
    fx_msg_free(reply);
    /* The call and its one timeout: 2 handler calls. Wait for them
     * (bounded), then give a broken loop room to show itself: the count
     * must stay where it is, whatever the machine's speed. */
    for (int i = 0; i < 5000 && handled(t.vm, s) < before + 2; i++)
        usleep(1000);
    usleep(200000);
    uint64_t n = handled(t.vm, s) - before;
    cr_expect_leq(n, 2,
                  "%llu handler calls after one call with a 0 ms timeout: the dropped "
                  "timeout keeps re-arming",
                  (unsigned long long) n);
    tvm_stop(&t);
}

/* gen_server.h:47-50 allows handle_cast only fx_gs_noreply or fx_gs_stop
 * and makes a reply there, in handle_info or in handle_continue OTP's
 * bad_return_value; gen_server.h:87-91 makes fx_gs_stop_reply a
 * handle_call answer. In OTP, {stop, Reason, Reply, State} from
 * handle_cast, handle_info or handle_continue is a bad_return_value too
 * (gen_server:handle_common_reply accepts only {stop, Reason, State}
 * there), so the server crashes whatever Reason says. Here
 * fx_gs_stop_reply outside a call quietly becomes fx_gs_stop(reason): with
 * reason normal the server exits normal, no crash report, and a transient
 * child is not restarted. */
static fx_gs_ret stop_reply_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                                 size_t size)
{
    (void) state, (void) type, (void) data, (void) size;
    return fx_gs_stop_reply(cx, fx_reason_normal(), "x", 1);
}

static fx_gs_ret stop_reply_info(fx_ctx *cx, void *state, fx_msg *m)
{
    (void) state;
    if (fx_msg_type(m) == 2)
        return fx_gs_with_continue(fx_gs_noreply(cx), 1);
    return fx_gs_stop_reply(cx, fx_reason_normal(), "x", 1);
}

static fx_gs_ret stop_reply_continue(fx_ctx *cx, void *state, uint64_t cont)
{
    (void) state, (void) cont;
    return fx_gs_stop_reply(cx, fx_reason_normal(), "x", 1);
}

static const fx_gs_ops stop_reply_ops = {.init = fx_gs_init_arg,
                                         .handle_cast = stop_reply_cast,
                                         .handle_info = stop_reply_info,
                                         .handle_continue = stop_reply_continue};

static fx_reason down_reason(tvm *t, int how)
{
    fx_gs_spec spec = {.ops = &stop_reply_ops};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t->in, &spec, &s, NULL), 0);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t->in, s, &r), 0);
    if (how == 0)
        cr_assert_eq(fx_vm_gs_cast(t->vm, s, 1, NULL, 0), 0);
    else
        cr_assert_eq(fx_vm_send(t->vm, s, how, NULL, 0), 0);
    fx_msg *m = tvm_recv(t, FX_MSG_DOWN);
    fx_down_info d;
    memcpy(&d, fx_msg_data(m), sizeof d);
    fx_msg_free(m);
    return d.reason;
}

Test(review13_gs, stop_reply_outside_a_call_is_a_bad_return_value)
{
    tvm t = tvm_start_quiet(1);
    static const char *const where[] = {"handle_cast", "handle_info", "handle_continue"};
    for (int how = 0; how < 3; how++) {
        fx_reason why = down_reason(&t, how);
        char text[128];
        fx_reason_format(&why, text, sizeof text);
        cr_expect(why.kind == FX_REASON_ERROR && why.code == FX_EINVAL &&
                      strncmp(why.text, "bad_return_value", 16) == 0,
                  "fx_gs_stop_reply(normal) from %s: the server exited with %s",
                  where[how], text);
    }
    tvm_stop(&t);
}

/* fx_gs_ok is init's answer ("init succeeded", gen_server.h:79). OTP's
 * {ok, State} from handle_call, handle_cast, handle_info or
 * handle_continue is a bad_return_value: the server crashes and a caller
 * gets the reason at once. Here it is taken as noreply (gen_server_loop.c,
 * fxi_gs_after: `case FXI_GS_OK:` with NOREPLY): the caller of a
 * handle_call that answers fx_gs_ok waits for a reply that never comes
 * (for ever with FX_INFINITY; here until the 10 s bound). */
static fx_gs_ret ok_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                         const void *data, size_t size)
{
    (void) state, (void) from, (void) type, (void) data, (void) size;
    return fx_gs_ok(cx);
}

static fx_gs_ret ok_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                         size_t size)
{
    (void) state, (void) type, (void) data, (void) size;
    return fx_gs_ok(cx);
}

static const fx_gs_ops ok_ops = {
    .init = fx_gs_init_arg, .handle_call = ok_call, .handle_cast = ok_cast};

Test(review13_gs, ok_outside_init_is_a_bad_return_value)
{
    tvm t = tvm_start_quiet(1);
    fx_gs_spec spec = {.ops = &ok_ops};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    fx_msg *reply = NULL;
    fx_reason why = {0};
    int rc = fx_gs_call(t.in, s, 1, NULL, 0, 10000, &reply, &why);
    fx_msg_free(reply);
    cr_expect_eq(rc, FX_EEXIT, "fx_gs_ok from handle_call: the call answered %s",
                 fx_strerror(rc));
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t.in, s, &r), 0);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, 1, NULL, 0), 0);
    /* The cast is handled before the probe: a live server answers it. */
    fx_proc_info pi = {.version = FX_PROC_INFO_VERSION};
    fx_match down = {.type = FX_MSG_DOWN};
    fx_msg *m = NULL;
    rc = fx_inbox_recv(t.in, &down, 10000, &m);
    fx_msg_free(m);
    cr_expect_eq(rc, 0, "fx_gs_ok from handle_cast: the server lives on (%s)",
                 fx_process_info(t.vm, s, &pi) == 0 ? "alive" : "gone");
    tvm_stop(&t);
}
