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
