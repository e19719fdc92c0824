/* Sending, calling and casting by name; sending to a group. All of them
 * read the published tables inside a read section (no registry message),
 * then send as the plain functions do. */
#include <string.h>

#include "otp/gs_impl.h"
#include "otp/reg_table.h"

/* The answer for a VM that does not run: FX_EFORKED in a forked child
 * (vm.h), else FX_ESHUTDOWN (not "no such name"); 0 while it runs. */
static int not_running(fx_vm *vm)
{
    int r = fx_vm_running(vm);
    if (r == 1)
        return 0;
    return r == FX_EFORKED ? FX_EFORKED : FX_ESHUTDOWN;
}

FX_API int fx_send_named(fx_ctx *cx, const char *name, uint32_t type, const void *data,
                         size_t size)
{
    if (!cx)
        return FX_EINVAL;
    fx_pid to;
    int rc = fx_whereis(fx_ctx_vm(cx), name, &to);
    return rc ? rc : fx_send(cx, to, type, data, size);
}

FX_API int fx_vm_send_named(fx_vm *vm, const char *name, uint32_t type, const void *data,
                            size_t size)
{
    int rc = vm ? not_running(vm) : 0;
    if (rc != 0)
        return rc;
    fx_pid to;
    rc = fx_whereis(vm, name, &to);
    return rc ? rc : fx_vm_send(vm, to, type, data, size);
}

FX_API int fx_gs_call_named(fx_inbox *inbox, const char *name, uint32_t type,
                            const void *data, size_t size, int64_t timeout_ms,
                            fx_msg **reply, fx_reason *why)
{
    if (!inbox || !reply)
        return FX_EINVAL;
    *reply = NULL;
    /* The thread is the misuse, whatever the name. */
    if (fx_vm_on_scheduler(fx_inbox_vm(inbox)))
        return FX_EWOULDBLOCK;
    int rc = not_running(fx_inbox_vm(inbox));
    if (rc != 0)
        return rc;
    fx_pid to;
    rc = fx_whereis(fx_inbox_vm(inbox), name, &to);
    return rc ? rc : fx_gs_call(inbox, to, type, data, size, timeout_ms, reply, why);
}

FX_API fx_next fx_gs_call_named_async(fx_ctx *cx, const char *name, uint32_t type,
                                      const void *data, size_t size, int64_t timeout_ms,
                                      fx_handler then)
{
    fx_pid to;
    int rc = fx_whereis(fx_ctx_vm(cx), name, &to);
    if (rc != 0)
        return fxi_gs_fail_async(cx, rc, then);
    return fx_gs_call_async(cx, to, type, data, size, timeout_ms, then);
}

FX_API int fx_gs_cast_named(fx_ctx *cx, const char *name, uint32_t type, const void *data,
                            size_t size)
{
    if (!cx)
        return FX_EINVAL;
    fx_pid to;
    int rc = fx_whereis(fx_ctx_vm(cx), name, &to);
    return rc ? rc : fx_gs_cast(cx, to, type, data, size);
}

FX_API int fx_vm_gs_cast_named(fx_vm *vm, const char *name, uint32_t type,
                               const void *data, size_t size)
{
    int rc = vm ? not_running(vm) : 0;
    if (rc != 0)
        return rc;
    fx_pid to;
    rc = fx_whereis(vm, name, &to);
    return rc ? rc : fx_vm_gs_cast(vm, to, type, data, size);
}

/* Sends to every member of group with cx's fx_send, or vm's fx_vm_send
 * when cx is NULL. */
static int group_send(fx_ctx *cx, fx_vm *vm, const char *group, uint32_t type,
                      const void *data, size_t size)
{
    fxi_name key;
    if (!vm || !fxi_name_key(&key, group))
        return FX_EINVAL;
    int nr = not_running(vm);
    if (nr == FX_EFORKED || (!cx && nr != 0))
        return nr; /* not "no such group" */
    fxi_kernel *k = fxi_kernel_find(vm);
    if (!k)
        return 0; /* no registry ever: no group */
    ck_epoch_record_t *rec = fxi_kernel_reader(k);
    if (!rec)
        return FX_ENOMEM;
    fxi_kernel_read_begin(rec);
    /* Acquire: pairs with the release store in fxi_kernel_publish. */
    fxi_reg_tables *t = fxi_atomic_load_acquire_ptr(&k->tables);
    const fxi_reg_group *g = t ? fxi_reg_group_lookup(t, &key) : NULL;
    const fxi_members *m = g ? fxi_reg_members(g) : NULL;
    int sent = 0, rc = 0;
    /* Sends never block nor crash, so they may run inside the section;
     * the array cannot be freed before it ends. */
    for (uint32_t i = 0; m && i < m->n; i++) {
        rc = cx ? fx_send(cx, m->pids[i], type, data, size)
                : fx_vm_send(vm, m->pids[i], type, data, size);
        if (rc == FX_ENOPROC)
            rc = 0; /* a member that just died: dropped, as Erlang's pg does */
        else if (rc == 0)
            sent++;
        else
            break;
    }
    fxi_kernel_read_end(rec);
    return rc ? rc : sent;
}

FX_API int fx_group_send(fx_ctx *cx, const char *group, uint32_t type, const void *data,
                         size_t size)
{
    if (!cx)
        return FX_EINVAL;
    return group_send(cx, fx_ctx_vm(cx), group, type, data, size);
}

FX_API int fx_vm_group_send(fx_vm *vm, const char *group, uint32_t type, const void *data,
                            size_t size)
{
    return group_send(NULL, vm, group, type, data, size);
}
