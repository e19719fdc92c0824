/* GenServer: starting a server and waiting for its init, through the
 * start handshake of proc_start.c (the server runs init on START and
 * answers with the ACK, see gen_server_loop.c). */
#include <string.h>

#include "otp/gs_impl.h"

#define DEFAULT_INIT_TIMEOUT 5000

static int64_t init_timeout(const fx_gs_spec *spec)
{
    return spec->timeout_ms == 0 ? DEFAULT_INIT_TIMEOUT : spec->timeout_ms;
}

static bool spec_ok(const fx_gs_spec *spec)
{
    return spec && spec->ops && spec->ops->init && spec->timeout_ms >= FX_INFINITY &&
           fxi_gs_name_ok(spec->name);
}

static fx_spawn_opts server_opts(const fx_gs_spec *spec, fx_pid starter, fxi_gs *g)
{
    memset(g, 0, sizeof *g);
    g->ops = spec->ops;
    g->arg = spec->arg;
    g->starter = starter;
    g->parent = spec->link ? starter : FX_PID_NONE;
    g->timeout_ms = -1;
    fxi_gs_copy_name(g, spec->name);
    fx_spawn_opts o = {
        .init = fxi_gs_init,
        .state_size = sizeof *g,
        .state_init = g,
        .cleanup = fxi_gs_cleanup,
        .label = spec->label ? spec->label : "gen_server",
        .mailbox = spec->mailbox,
    };
    return o;
}

FX_API int fx_gs_start(fx_inbox *inbox, const fx_gs_spec *spec, fx_pid *out,
                       fx_reason *why)
{
    if (!inbox || !spec_ok(spec))
        return FX_EINVAL;
    fxi_gs g;
    fx_spawn_opts o = server_opts(spec, fx_inbox_pid(inbox), &g);
    return fxi_proc_start_inbox(inbox, &o, spec->link, init_timeout(spec), out, why);
}

FX_API fx_next fx_gs_start_async(fx_ctx *cx, const fx_gs_spec *spec, fx_handler then)
{
    if (!cx || !then)
        return fx_stop(NULL, fx_reason_normal()); /* the invalid fx_next */
    if (!spec_ok(spec))
        return fxi_gs_fail_async(cx, FX_EINVAL, then);
    fxi_gs g;
    fx_spawn_opts o = server_opts(spec, fx_self(cx), &g);
    return fxi_proc_start_async(cx, &o, spec->link, init_timeout(spec), then);
}
