/* Spawning with a name. The new process starts in a gate: it waits for a
 * GO message that carries the user's init, init_arg and handler (so
 * nothing needs freeing if it dies first: an undelivered message is
 * freed with its mailbox), and runs none of the user's code before its
 * name is registered.
 *
 * - fx_spawn_named (inside a handler, non-blocking): GO says REGISTER.
 *   The process forwards GO to itself (parking it in its own mailbox),
 *   registers itself with fx_register_async, and on success takes the
 *   parked GO back and runs the user's code; on failure it exits with
 *   the error.
 * - fx_inbox_spawn_named (outside, blocking): the caller registers the
 *   gated process itself with fx_register, then sends GO (RUN) or, when
 *   the name is taken, GO (ABORT): the process exits normally.
 *
 * The user's state, state_size, state_init, cleanup and label are the
 * spawn's own, untouched: cleanup runs exactly once, whatever happens. */
#include <string.h>

#include "otp/gs_impl.h"
#include "otp/reg_impl.h"

enum { GO_RUN = 1, GO_REGISTER, GO_ABORT };

typedef struct go_msg {
    uint32_t mode;
    fx_init_fn init;
    void *init_arg;
    fx_handler handler;
    char name[FX_NAME_MAX];
} go_msg;

static fx_next gate_go(fx_ctx *cx, fx_msg *m);

static fx_next gate_registered(fx_ctx *cx, fx_msg *m)
{
    int rc = fx_registry_result(cx, m, NULL);
    if (rc != 0)
        return fx_stop(cx, fx_reason_error(rc, "register: %s", fx_strerror(rc)));
    fx_match mt = {.type = FXI_REG_GO, .from = fx_self(cx)};
    return fx_receive(cx, gate_go, &mt, FX_INFINITY); /* the parked GO */
}

static fx_next gate_go(fx_ctx *cx, fx_msg *m)
{
    go_msg g;
    if (fx_msg_size(m) != sizeof g)
        return fx_stop(cx, fx_reason_error(FX_EINVAL, "bad GO"));
    memcpy(&g, fx_msg_data(m), sizeof g);
    if (g.mode == GO_REGISTER) {
        /* Park GO (now RUN) in our own mailbox while we register. */
        ((go_msg *) fx_msg_data_mut(m))->mode = GO_RUN;
        fx_msg_keep(cx, m);
        int rc = fx_send_msg(cx, fx_self(cx), m);
        if (rc != 0) {
            fx_msg_free(m);
            return fx_stop(cx, fx_reason_error(rc, "register: %s", fx_strerror(rc)));
        }
        return fx_register_async(cx, g.name, fx_self(cx), gate_registered);
    }
    if (g.mode != GO_RUN)
        return fx_stop(cx, fx_reason_normal()); /* the name was taken */
    if (g.init)
        return g.init(cx, g.init_arg);
    return fx_become(cx, g.handler);
}

static fx_next gate_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_match mt = {.type = FXI_REG_GO};
    return fx_receive(cx, gate_go, &mt, FX_INFINITY);
}

/* The gated process's options and its GO message (mode REGISTER). */
static int prepare(const char *name, const fx_spawn_opts *opts, fx_spawn_opts *gated,
                   fx_msg **go)
{
    size_t n = fxi_reg_name_len(name);
    if (!n || !opts || (!opts->handler && !opts->init))
        return FX_EINVAL;
    int rc = fx_msg_new_behaviour(FXI_REG_GO, sizeof(go_msg), go);
    if (rc != 0)
        return rc;
    go_msg *g = fx_msg_data_mut(*go);
    memset(g, 0, sizeof *g);
    g->mode = GO_REGISTER;
    g->init = opts->init;
    g->init_arg = opts->init_arg;
    g->handler = opts->handler;
    memcpy(g->name, name, n);
    *gated = *opts;
    gated->handler = NULL;
    gated->init = gate_init;
    gated->init_arg = NULL;
    return 0;
}

FX_API int fx_spawn_named(fx_ctx *cx, const char *name, const fx_spawn_opts *opts,
                          fx_pid *out, fx_ref *monitor)
{
    if (!cx)
        return FX_EINVAL;
    fx_spawn_opts gated;
    fx_msg *go;
    int rc = prepare(name, opts, &gated, &go);
    if (rc != 0)
        return rc;
    fx_pid pid;
    rc = monitor ? fx_spawn_monitor(cx, &gated, &pid, monitor)
                 : fx_spawn_opt(cx, &gated, &pid);
    if (rc != 0) {
        fx_msg_free(go);
        return rc;
    }
    if ((rc = fx_send_msg(cx, pid, go)) != 0) {
        fx_msg_free(go);
        (void) fx_exit(cx, pid, fx_reason_kill()); /* never ran user code */
        return rc;
    }
    if (out)
        *out = pid;
    return 0;
}

FX_API int fx_inbox_spawn_named(fx_inbox *inbox, const char *name,
                                const fx_spawn_opts *opts, fx_pid *out, fx_pid *holder)
{
    if (!inbox)
        return FX_EINVAL;
    int rc = fxi_gs_check_thread(inbox);
    if (rc != 0)
        return rc;
    fx_spawn_opts gated;
    fx_msg *go;
    if ((rc = prepare(name, opts, &gated, &go)) != 0)
        return rc;
    fx_pid pid;
    if ((rc = fx_vm_spawn_opt(fx_inbox_vm(inbox), &gated, &pid)) != 0) {
        fx_msg_free(go);
        return rc;
    }
    rc = fx_register(inbox, name, pid, holder);
    ((go_msg *) fx_msg_data_mut(go))->mode = rc == 0 ? GO_RUN : GO_ABORT;
    int src = fx_inbox_send_msg(inbox, pid, go);
    if (src != 0) {
        fx_msg_free(go);
        (void) fx_vm_exit(fx_inbox_vm(inbox), pid, fx_reason_kill());
        if (rc == 0)
            rc = src;
    }
    if (rc == 0 && out)
        *out = pid;
    return rc;
}
