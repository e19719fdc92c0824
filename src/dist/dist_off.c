/* The library built without the distribution feature (no libei or
 * nettle, or -Ddist=disabled; the aarch64 cross build): the public
 * functions answer FX_ENOTDIST, and vm->dist stays NULL, so the send
 * path finds no remote pids (dist_route.h). */
#include <fauxtp/dist.h>
#include <fauxtp/error.h>

#include "actor/vm.h"
#include "otp/gs_impl.h"

FX_API int fx_dist_start(fx_vm *vm, const fx_dist_opts *opts)
{
    return vm && opts && opts->name ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_dist_stop(fx_vm *vm)
{
    return vm ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_dist_node_name(fx_vm *vm, char *buf, size_t cap)
{
    return vm && buf && cap ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_dist_pid_node(fx_vm *vm, fx_pid pid, char *buf, size_t cap)
{
    if (!vm || !buf || !cap)
        return FX_EINVAL;
    buf[0] = '\0';
    return pid.id && fxi_pid_tag(pid) == vm->pt.tag ? 0 : FX_ENOENT;
}

FX_API int fx_dist_connect(fx_vm *vm, const char *node, int64_t timeout_ms)
{
    (void) timeout_ms;
    return vm && node ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_dist_send_named(fx_ctx *cx, const char *node, const char *name,
                              uint32_t type, const void *data, size_t size)
{
    (void) type;
    return cx && node && name && *name && (data || !size) ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_dist_vm_send_named(fx_vm *vm, const char *node, const char *name,
                                 uint32_t type, const void *data, size_t size)
{
    (void) type, (void) data, (void) size;
    return vm && node && name ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_dist_nodes(fx_vm *vm, fx_dist_node_info *out, size_t cap)
{
    return vm && (out || !cap) ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_gs_call_remote(fx_inbox *inbox, const char *node, const char *name,
                             uint32_t type, const void *data, size_t size,
                             int64_t timeout_ms, fx_msg **reply, fx_reason *why)
{
    (void) type, (void) timeout_ms, (void) why;
    if (reply)
        *reply = NULL;
    return inbox && reply && node && name && *name && (data || !size) ? FX_ENOTDIST
                                                                      : FX_EINVAL;
}

FX_API fx_next fx_gs_call_remote_async(fx_ctx *cx, const char *node, const char *name,
                                       uint32_t type, const void *data, size_t size,
                                       int64_t timeout_ms, fx_handler then)
{
    (void) type, (void) timeout_ms;
    if (!cx || !then)
        return fx_stop(NULL, fx_reason_normal()); /* the invalid fx_next */
    return fxi_gs_fail_async(
        cx, node && name && (data || !size) ? FX_ENOTDIST : FX_EINVAL, then);
}

FX_API int fx_gs_cast_remote(fx_ctx *cx, const char *node, const char *name,
                             uint32_t type, const void *data, size_t size)
{
    (void) type;
    return cx && node && name && *name && (data || !size) ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_vm_gs_cast_remote(fx_vm *vm, const char *node, const char *name,
                                uint32_t type, const void *data, size_t size)
{
    (void) type;
    return vm && node && name && *name && (data || !size) ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_dist_monitor_node(fx_ctx *cx, const char *node, bool on)
{
    (void) on;
    return cx && node ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_inbox_monitor_node(fx_inbox *inbox, const char *node, bool on)
{
    (void) on;
    return inbox && node ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_dist_monitor_nodes(fx_ctx *cx, bool on)
{
    (void) on;
    return cx ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_inbox_monitor_nodes(fx_inbox *inbox, bool on)
{
    (void) on;
    return inbox ? FX_ENOTDIST : FX_EINVAL;
}

FX_API int fx_dist_send_nosuspend(fx_ctx *cx, fx_pid to, uint32_t type, const void *data,
                                  size_t size)
{
    return fx_send(cx, to, type, data, size); /* no connection is ever busy */
}

FX_API int fx_dist_pid_name(fx_vm *vm, fx_pid pid, char *buf, size_t cap)
{
    (void) pid;
    return vm && buf && cap ? FX_ENOENT : FX_EINVAL;
}
