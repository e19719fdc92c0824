/* The registry's client side: writes (calls to the registry process,
 * blocking or as continuations) and the lock-free reads. */
#include <string.h>

#include "otp/gs_impl.h"
#include "otp/reg_table.h"

int fxi_reg_req_init(fxi_reg_req *req, uint32_t op, const char *name, fx_pid pid)
{
    size_t n = fxi_reg_name_len(name);
    if (!n || (op != FXI_REG_OP_UNREGISTER && !pid.id))
        return FX_EINVAL;
    memset(req, 0, sizeof *req);
    req->pid = pid;
    req->len = (uint32_t) n;
    memcpy(req->name, name, n);
    return 0;
}

/* Decodes a registry answer (a reply payload). */
static int answer(const void *data, size_t size, fx_pid *holder)
{
    fxi_reg_ans ans;
    if (size != sizeof ans)
        return FX_EINVAL;
    memcpy(&ans, data, sizeof ans);
    if (ans.rc == FX_EEXIST && holder)
        *holder = ans.holder;
    return ans.rc;
}

/* ---- writes from a thread outside the VM ------------------------------------------ */

static int write_blocking(fx_inbox *inbox, uint32_t op, const char *name, fx_pid pid,
                          fx_pid *holder)
{
    fxi_reg_req req;
    int rc = inbox ? fxi_reg_req_init(&req, op, name, pid) : FX_EINVAL;
    if (rc == 0)
        rc = fxi_gs_check_thread(inbox);
    fxi_kernel *k = NULL;
    if (rc == 0)
        rc = fxi_kernel_get(fx_inbox_vm(inbox), &k);
    /* A registry that dies between the lookup and the call is replaced
     * by the next lookup: one retry (it lost every name anyway). */
    for (int attempt = 0; rc == 0; attempt++) {
        fx_pid server;
        if ((rc = fxi_kernel_registry_wait(k, inbox, FX_REGISTRY_TIMEOUT, &server)) != 0)
            break;
        fx_msg *reply;
        rc = fxi_gs_call(inbox, server, op, &req, sizeof req, FX_REGISTRY_TIMEOUT, &reply,
                         NULL);
        if (rc == 0) {
            rc = answer(fx_msg_data(reply), fx_msg_size(reply), holder);
            fx_msg_free(reply);
            break;
        }
        if (rc == FX_ENOPROC || rc == FX_EEXIT)
            rc = attempt == 0 ? 0 : FX_EEXIT; /* the registry died */
    }
    return rc;
}

FX_API int fx_register(fx_inbox *inbox, const char *name, fx_pid pid, fx_pid *holder)
{
    return write_blocking(inbox, FXI_REG_OP_REGISTER, name, pid, holder);
}

FX_API int fx_unregister(fx_inbox *inbox, const char *name)
{
    return write_blocking(inbox, FXI_REG_OP_UNREGISTER, name, FX_PID_NONE, NULL);
}

FX_API int fx_group_join(fx_inbox *inbox, const char *group, fx_pid pid)
{
    return write_blocking(inbox, FXI_REG_OP_JOIN, group, pid, NULL);
}

FX_API int fx_group_leave(fx_inbox *inbox, const char *group, fx_pid pid)
{
    return write_blocking(inbox, FXI_REG_OP_LEAVE, group, pid, NULL);
}

/* ---- writes from inside a handler ----------------------------------------------- */

/* What waits with the kernel while no registry runs. */
typedef struct async_req {
    fx_handler then;
    uint32_t op;
    fxi_reg_req req;
} async_req;

/* A registry runs now (or will not): make the call. */
static fx_next write_ready(fx_ctx *cx, fx_msg *m)
{
    fx_pid server;
    const void *blob;
    size_t size;
    int rc = fxi_kernel_ready(m, &server, &blob, &size);
    async_req a;
    memcpy(&a, blob, sizeof a);
    if (rc != 0)
        return fxi_gs_fail_async(cx, rc, a.then);
    return fxi_gs_call_async(cx, server, a.op, &a.req, sizeof a.req, FX_REGISTRY_TIMEOUT,
                             a.then);
}

static fx_next write_async(fx_ctx *cx, uint32_t op, const char *name, fx_pid pid,
                           fx_handler then)
{
    async_req a = {.then = then, .op = op};
    int rc = fxi_reg_req_init(&a.req, op, name, pid);
    fxi_kernel *k = NULL;
    if (rc == 0)
        rc = fxi_kernel_get(fx_ctx_vm(cx), &k);
    if (rc != 0)
        return fxi_gs_fail_async(cx, rc, then);
    fx_pid server = fxi_kernel_registry(k);
    if (server.id)
        return fxi_gs_call_async(cx, server, op, &a.req, sizeof a.req,
                                 FX_REGISTRY_TIMEOUT, then);
    return fxi_kernel_registry_async(k, cx, &a, sizeof a, FX_REGISTRY_TIMEOUT,
                                     write_ready);
}

FX_API fx_next fx_register_async(fx_ctx *cx, const char *name, fx_pid pid,
                                 fx_handler then)
{
    return write_async(cx, FXI_REG_OP_REGISTER, name, pid, then);
}

FX_API fx_next fx_unregister_async(fx_ctx *cx, const char *name, fx_handler then)
{
    return write_async(cx, FXI_REG_OP_UNREGISTER, name, FX_PID_NONE, then);
}

FX_API fx_next fx_group_join_async(fx_ctx *cx, const char *group, fx_pid pid,
                                   fx_handler then)
{
    return write_async(cx, FXI_REG_OP_JOIN, group, pid, then);
}

FX_API fx_next fx_group_leave_async(fx_ctx *cx, const char *group, fx_pid pid,
                                    fx_handler then)
{
    return write_async(cx, FXI_REG_OP_LEAVE, group, pid, then);
}

FX_API int fx_registry_result(fx_ctx *cx, fx_msg *msg, fx_pid *holder)
{
    if (!cx || !msg)
        return FX_EINVAL;
    const void *data;
    size_t size;
    int rc = fx_gs_call_result(cx, msg, &data, &size, NULL);
    if (rc == 0)
        return answer(data, size, holder);
    if (fx_msg_type(msg) == FX_MSG_DOWN)
        return FX_EEXIT; /* the registry died before answering */
    return rc;
}

/* ---- reads --------------------------------------------------------------------------
 */

/* A read section on vm's published tables. t is NULL when no registry
 * runs; FX_ENOENT when nothing ever created the kernel, FX_ENOMEM. */
typedef struct reader {
    ck_epoch_record_t *rec;
    fxi_reg_tables *t;
} reader;

static int read_begin(fx_vm *vm, reader *rd)
{
    /* A forked child: the epoch records may be locked by parent threads
     * that do not exist here. */
    if (fx_vm_running(vm) == FX_EFORKED)
        return FX_EFORKED;
    fxi_kernel *k = fxi_kernel_find(vm);
    if (!k)
        return FX_ENOENT;
    if (!(rd->rec = fxi_kernel_reader(k)))
        return FX_ENOMEM;
    fxi_kernel_read_begin(rd->rec);
    /* Acquire: pairs with the release store in fxi_kernel_publish; inside
     * the section, so the tables cannot be freed under us. */
    rd->t = fxi_atomic_load_acquire_ptr(&k->tables);
    return 0;
}

FX_API int fx_whereis(fx_vm *vm, const char *name, fx_pid *out)
{
    fxi_name key;
    if (!vm || !out || !fxi_name_key(&key, name))
        return FX_EINVAL;
    reader rd;
    int rc = read_begin(vm, &rd);
    if (rc != 0)
        return rc;
    const fxi_reg_name *e = rd.t ? fxi_reg_lookup(rd.t, &key) : NULL;
    fx_pid pid = e ? e->pid : (fx_pid){0};
    fxi_kernel_read_end(rd.rec);
    /* A holder that has exited has no name any more (Erlang unregisters
     * it as the process exits), even before the registry handles its
     * DOWN: by the time anyone sees that DOWN, this answers FX_ENOENT. */
    if (!e || fx_is_alive(vm, pid) != 1)
        return FX_ENOENT;
    *out = pid;
    return 0;
}

FX_API int fx_registered(fx_vm *vm, fx_registered_name *out, size_t cap)
{
    if (!vm || (cap && !out))
        return FX_EINVAL;
    reader rd;
    int rc = read_begin(vm, &rd);
    if (rc != 0)
        return rc == FX_ENOENT ? 0 : rc;
    size_t n = 0;
    if (rd.t) {
        ck_hs_iterator_t it = CK_HS_ITERATOR_INITIALIZER;
        void *obj;
        while (ck_hs_next_spmc(&rd.t->names, &it, &obj)) {
            const fxi_reg_name *e = obj;
            fxi_tsan_acquire(e); /* published by the writer */
            if (n < cap) {
                memcpy(out[n].name, e->key.s, e->key.len + 1);
                out[n].pid = e->pid;
            }
            n++;
        }
    }
    fxi_kernel_read_end(rd.rec);
    /* A holder that has exited has no name (as in fx_whereis), even before
     * the registry has handled its DOWN: drop it from what was copied.
     * Checked after the read section (fx_is_alive opens one of its own),
     * and only when every name was copied: a short array gets the names
     * as they are and a count above cap, which says to call again. */
    if (n <= cap) {
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
            if (fx_is_alive(vm, out[i].pid) == 1)
                out[kept++] = out[i];
        n = kept;
    }
    return n > INT32_MAX ? INT32_MAX : (int) n;
}

FX_API int fx_group_members(fx_vm *vm, const char *group, fx_pid *out, size_t cap)
{
    fxi_name key;
    if (!vm || (cap && !out) || !fxi_name_key(&key, group))
        return FX_EINVAL;
    reader rd;
    int rc = read_begin(vm, &rd);
    if (rc != 0)
        return rc == FX_ENOENT ? 0 : rc;
    const fxi_reg_group *g = rd.t ? fxi_reg_group_lookup(rd.t, &key) : NULL;
    uint32_t n = 0;
    if (g) {
        const fxi_members *m = fxi_reg_members(g);
        n = m->n;
        if (cap)
            memcpy(out, m->pids, (n < cap ? n : cap) * sizeof *out);
    }
    fxi_kernel_read_end(rd.rec);
    return (int) n;
}

FX_API int fx_registry_pid(fx_vm *vm, fx_pid *out)
{
    if (!vm || !out)
        return FX_EINVAL;
    /* A forked child: no registry runs here (vm.h). */
    if (fx_vm_running(vm) == FX_EFORKED)
        return FX_EFORKED;
    fxi_kernel *k = fxi_kernel_find(vm);
    fx_pid pid = k ? fxi_kernel_registry(k) : FX_PID_NONE;
    if (!pid.id)
        return FX_ENOENT;
    *out = pid;
    return 0;
}

FX_API int fx_registry_stats_get(fx_inbox *inbox, fx_registry_stats *out)
{
    if (!inbox || !out)
        return FX_EINVAL;
    /* The thread is the misuse, whether or not a registry runs. */
    if (fx_vm_on_scheduler(fx_inbox_vm(inbox)))
        return FX_EWOULDBLOCK;
    fx_pid reg; /* FX_EFORKED in a forked child, from fx_registry_pid */
    int rc = fx_registry_pid(fx_inbox_vm(inbox), &reg);
    if (rc != 0)
        return rc;
    fx_msg *reply;
    rc = fxi_gs_call(inbox, reg, FXI_REG_OP_STATS, NULL, 0, FX_REGISTRY_TIMEOUT, &reply,
                     NULL);
    if (rc != 0)
        return rc == FX_ENOPROC ? FX_ENOENT : rc;
    if (fx_msg_size(reply) == sizeof *out)
        memcpy(out, fx_msg_data(reply), sizeof *out);
    else
        rc = FX_EINVAL;
    fx_msg_free(reply);
    return rc;
}
