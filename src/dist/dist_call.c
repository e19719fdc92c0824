/* GenServer calls and casts to {Name, Node}: gen_server:call({Name, Node},
 * Req) from fauxtp. A call monitors {Name, Node} by name (MONITOR_P with
 * the name's atom), so an unregistered name or a lost connection ends it
 * at once with noproc / noconnection, then sends {'$gen_call', {From,
 * Ref}, Req} by REG_SEND; the reply {Ref, Reply} comes back as the pid
 * calls' does (dist_sig.c). The caller's monitor table names the node's
 * stand-in pid (fxi_dist_name_pid), so its demonitor and its exit reach
 * the connection, which keeps the name (FXI_DIST_S_MONNAME, sent just
 * before the monitor: messages from one sender arrive in order). */
#include <fauxtp/dist.h>
#include <fauxtp/error.h>
#include <fauxtp/registry.h>
#include <string.h>

#include "actor/inbox.h"
#include "actor/monitor.h"
#include "actor/msg.h"
#include "actor/section.h"
#include "actor/send.h"
#include "actor/vm.h"
#include "dist/dist.h"
#include "dist/dist_sig.h"
#include "otp/gs_impl.h"

/* 0 when (node, name, data) are acceptable and node is another node's
 * name, 1 when node is this node's own name; else an error. */
static int check(fx_vm *vm, fxi_dist *d, const char *node, const char *name,
                 uint32_t type, const void *data, size_t size)
{
    if (!node || !name || !*name || strlen(name) > 255 || (size && !data))
        return FX_EINVAL;
    if (!d)
        return FX_ENOTDIST;
    char alive[256], host[FXI_DIST_HOST_MAX];
    if (fxi_dist_split_name(node, alive, sizeof alive, host, sizeof host) != 0)
        return FX_EINVAL;
    if (size > vm->cfg.max_msg_size)
        return FX_EMSGSIZE;
    char own[256];
    if (fx_dist_node_name(vm, own, sizeof own) < 0)
        return FX_ENOTDIST;
    if (strcmp(own, node) == 0)
        return 1;
    /* Req is {T, <<Data>>} or the FX_MSG_TERM term itself (dist_table.c). */
    return type >= FX_MSG_SYSTEM_BASE && type != FX_MSG_TERM ? FX_EINVAL : 0;
}

/* self monitors {name, node}; *ref is the monitor's (the call's) ref. */
static int monitor_name(fx_vm *vm, fxi_worker *w, fxi_actor *self, fxi_dist *d,
                        const char *node, const char *name, fx_ref *ref)
{
    fx_pid stand = fxi_dist_name_pid(d, node, name);
    if (!stand.id)
        return FX_ENOMEM;
    size_t len = strlen(name);
    fx_msg *nm = fxi_msg_alloc(FXI_DIST_S_MONNAME, (uint32_t) len);
    if (!nm)
        return FX_ENOMEM;
    memcpy(nm->data, name, len);
    *ref = fxi_make_ref(vm, w);
    nm->from = self->pid;
    nm->ref = *ref;
    /* Dropped with the connection: the monitor then gets noconnection. */
    (void) fxi_deliver_or_drop(vm, w, stand, nm);
    return fxi_monitor_ref(vm, w, self, stand, *ref);
}

/* The request (kind FXI_GS_CALL or FXI_GS_CAST; ref for a call) to
 * {name, node}, by REG_SEND. */
static int send_req(fxi_dist *d, fxi_worker *w, fx_pid self, const char *node,
                    const char *name, uint32_t kind, fx_ref ref, uint32_t type,
                    const void *data, size_t size)
{
    fx_msg *req;
    int rc = fxi_gs_envelope(kind, type, data, size, &req);
    if (rc != 0)
        return rc;
    req->from = self;
    req->ref = ref;
    ei_x_buff gen;
    rc = fxi_dist_gen_term(d, req, &gen);
    fx_msg_free(req);
    if (rc != 0)
        return rc;
    rc = fxi_dist_send_name(d, w, self, node, name, FX_MSG_TERM, gen.buff,
                            (size_t) gen.index);
    ei_x_free(&gen);
    return rc;
}

FX_API fx_next fx_gs_call_remote_async(fx_ctx *cx, const char *node, const char *name,
                                       uint32_t type, const void *data, size_t size,
                                       int64_t timeout_ms, fx_handler then)
{
    if (!cx || !then)
        return fx_stop(NULL, fx_reason_normal()); /* the invalid fx_next */
    fxi_dist *d = fxi_dist_get(cx->vm);
    int rc = check(cx->vm, d, node, name, type, data, size);
    if (rc == 1)
        return fx_gs_call_named_async(cx, name, type, data, size, timeout_ms, then);
    fx_ref ref;
    if (rc == 0 && timeout_ms < 0 && timeout_ms != FX_INFINITY)
        rc = FX_EINVAL;
    if (rc == 0)
        rc = monitor_name(cx->vm, cx->w, cx->self, d, node, name, &ref);
    if (rc != 0)
        return fxi_gs_fail_async(cx, rc, then);
    rc = send_req(d, cx->w, fx_self(cx), node, name, FXI_GS_CALL, ref, type, data, size);
    if (rc != 0) {
        (void) fx_demonitor(cx, ref, FX_DEMONITOR_FLUSH);
        return fxi_gs_fail_async(cx, rc, then);
    }
    /* The reply, the monitor's DOWN or the timeout: fx_gs_call_result. */
    return fx_receive(cx, then, &(fx_match){.ref = ref}, timeout_ms);
}

FX_API int fx_gs_call_remote(fx_inbox *inbox, const char *node, const char *name,
                             uint32_t type, const void *data, size_t size,
                             int64_t timeout_ms, fx_msg **reply, fx_reason *why)
{
    if (!inbox || !reply)
        return FX_EINVAL;
    *reply = NULL;
    int rc = fxi_gs_check_thread(inbox);
    if (rc != 0)
        return rc;
    fx_vm *vm = inbox->vm;
    fxi_dist *d = fxi_dist_get(vm);
    rc = check(vm, d, node, name, type, data, size);
    if (rc == 1)
        return fx_gs_call_named(inbox, name, type, data, size, timeout_ms, reply, why);
    if (rc != 0)
        return rc;
    fx_ref ref = {0};
    fxi_section sec;
    if ((rc = fxi_section_enter(vm, &sec)) != 0)
        return rc;
    rc = monitor_name(vm, sec.w, inbox->a, d, node, name, &ref);
    if (rc == 0)
        rc = send_req(d, sec.w, inbox->a->pid, node, name, FXI_GS_CALL, ref, type, data,
                      size);
    fxi_section_exit(vm, &sec);
    if (rc != 0) {
        if (ref.id)
            (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        return rc;
    }
    fx_msg *m;
    rc = fx_inbox_recv(inbox, &(fx_match){.ref = ref}, timeout_ms, &m);
    if (rc != 0) {
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        return rc;
    }
    if (fx_msg_type(m) == FX_MSG_REPLY) {
        (void) fx_inbox_demonitor(inbox, ref, FX_DEMONITOR_FLUSH);
        *reply = m;
        return 0;
    }
    rc = fxi_gs_down(m, why); /* noproc, noconnection or the server's reason */
    fx_msg_free(m);
    return rc;
}

FX_API int fx_gs_cast_remote(fx_ctx *cx, const char *node, const char *name,
                             uint32_t type, const void *data, size_t size)
{
    if (!cx)
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(cx->vm);
    int rc = check(cx->vm, d, node, name, type, data, size);
    if (rc == 1)
        return fx_gs_cast_named(cx, name, type, data, size);
    if (rc != 0)
        return rc;
    return send_req(d, cx->w, fx_self(cx), node, name, FXI_GS_CAST, (fx_ref){0}, type,
                    data, size);
}

FX_API int fx_vm_gs_cast_remote(fx_vm *vm, const char *node, const char *name,
                                uint32_t type, const void *data, size_t size)
{
    if (!vm)
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(vm);
    int rc = check(vm, d, node, name, type, data, size);
    if (rc == 1)
        return fx_vm_gs_cast_named(vm, name, type, data, size);
    if (rc != 0)
        return rc;
    fxi_section sec;
    if ((rc = fxi_section_enter(vm, &sec)) != 0)
        return rc;
    rc = send_req(d, sec.w, FX_PID_NONE, node, name, FXI_GS_CAST, (fx_ref){0}, type, data,
                  size);
    fxi_section_exit(vm, &sec);
    return rc;
}
