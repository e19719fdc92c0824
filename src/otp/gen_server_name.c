/* GenServer: servers started with a name (fx_gs_spec.name).
 *
 * The server registers itself when START arrives, before the user's init
 * runs, with an asynchronous registry call (so other messages stay
 * queued meanwhile): once fx_gs_start returns, fx_whereis finds it. A
 * taken name is answered like an ignore, with an ACK carrying FX_EEXIST
 * and the holder, and the server exits with reason normal without
 * calling init (nor terminate, as in OTP). Any other registry error
 * fails the start as an init that stopped with that error. A restarted
 * server registers again: the registry treats a name whose holder has
 * died as free even before its DOWN arrives (see registry_server.c). */
#include <string.h>

#include "otp/gs_impl.h"
#include "otp/reg_impl.h"

bool fxi_gs_name_ok(const char *name)
{
    return !name || fxi_reg_name_len(name) != 0;
}

void fxi_gs_copy_name(fxi_gs *g, const char *name)
{
    size_t n = name ? fxi_reg_name_len(name) : 0;
    memcpy(g->name, name ? name : "", n);
    g->name[n] = '\0';
}

static fx_next registered(fx_ctx *cx, fx_msg *m)
{
    fxi_gs *g = fx_state(cx);
    fx_pid holder = FX_PID_NONE;
    int rc = fx_registry_result(cx, m, &holder);
    fx_from starter = g->start_from;
    g->start_from = (fx_from){FX_PID_NONE, FX_REF_NONE};
    if (rc == 0)
        return fxi_gs_run_init(cx, g, starter);
    if (rc == FX_EEXIST) {
        (void) fxi_proc_ack(cx, starter, FX_EEXIST, holder);
        return fxi_gs_init_failed(cx, g, fx_reason_normal());
    }
    return fxi_gs_init_failed(cx, g,
                              fx_reason_error(rc, "register: %s", fx_strerror(rc)));
}

fx_next fxi_gs_register_name(fx_ctx *cx, fxi_gs *g, fx_from starter)
{
    g->start_from = starter;
    return fx_register_async(cx, g->name, fx_self(cx), registered);
}
