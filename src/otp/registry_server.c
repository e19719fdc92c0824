/* The registry process: a GenServer, the single writer of the published
 * tables (reg_table.h). It monitors every pid that has a name or is in a
 * group (one monitor per pid) and forgets it on the DOWN. Its state is
 * private to it: the tables it publishes, its ck_epoch record and an
 * index of the pids it knows.
 *
 * A registry that dies takes its names with it: its terminate withdraws
 * the tables, waits for the readers that may still see them
 * (ck_epoch_barrier: read sections are short and never block) and frees
 * everything. A new instance starts empty. */
#include <stdlib.h>
#include <string.h>

#include "otp/reg_table.h"

/* A pid the registry knows: its name and groups. Writer only. */
typedef struct proc {
    fx_pid pid; /* first: the index's key */
    fx_ref mon;
    fxi_reg_name *name;
    uint32_t ngroups, cap;
    fxi_reg_group **groups;
} proc;

typedef struct reg {
    fxi_kernel *k;
    fx_vm *vm;
    ck_epoch_record_t *w;
    fxi_reg_tables *t;
    ck_hs_t procs; /* of proc, by pid (private: nobody else reads it) */
    bool procs_ok;
} reg;

/* Reclaim pending frees this often (ms) while idle. */
#define RECLAIM_MS 10

/* ---- the pid index ------------------------------------------------------------- */

static unsigned long proc_hash(const void *obj, unsigned long seed)
{
    uint64_t h = ((const proc *) obj)->pid.id ^ seed;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (unsigned long) h;
}

static bool proc_eq(const void *a, const void *b)
{
    return fx_pid_eq(((const proc *) a)->pid, ((const proc *) b)->pid);
}

static proc *proc_find(reg *r, fx_pid pid)
{
    proc key = {.pid = pid};
    return ck_hs_get(&r->procs, CK_HS_HASH(&r->procs, proc_hash, &key), &key);
}

/* The proc of pid, created and monitored if new; NULL: no memory. */
static proc *proc_get(fx_ctx *cx, reg *r, fx_pid pid)
{
    proc *p = proc_find(r, pid);
    if (p)
        return p;
    if (!(p = calloc(1, sizeof *p)))
        return NULL;
    p->pid = pid;
    if (fx_monitor(cx, pid, &p->mon) != 0) {
        free(p);
        return NULL;
    }
    if (!ck_hs_put(&r->procs, CK_HS_HASH(&r->procs, proc_hash, p), p)) {
        (void) fx_demonitor(cx, p->mon, FX_DEMONITOR_FLUSH);
        free(p);
        return NULL;
    }
    return p;
}

static void proc_forget(reg *r, proc *p)
{
    ck_hs_remove(&r->procs, CK_HS_HASH(&r->procs, proc_hash, p), p);
    free(p->groups);
    free(p);
}

/* Drops p once it has neither a name nor a group. */
static void proc_release(fx_ctx *cx, reg *r, proc *p)
{
    if (p->name || p->ngroups)
        return;
    (void) fx_demonitor(cx, p->mon, FX_DEMONITOR_FLUSH);
    proc_forget(r, p);
}

static int proc_group_index(const proc *p, const fxi_reg_group *g)
{
    for (uint32_t i = 0; i < p->ngroups; i++)
        if (p->groups[i] == g)
            return (int) i;
    return -1;
}

/* ---- the operations ------------------------------------------------------------ */

static void drop_name(fx_ctx *cx, reg *r, fxi_reg_name *e)
{
    proc *p = proc_find(r, e->pid);
    fxi_reg_del(r->t, e);
    if (p) {
        p->name = NULL;
        proc_release(cx, r, p);
    }
}

static int op_register(fx_ctx *cx, reg *r, fxi_name *key, fx_pid pid, fx_pid *holder)
{
    if (fx_is_alive(r->vm, pid) != 1)
        return FX_ENOPROC;
    fxi_reg_name *e = (fxi_reg_name *) fxi_reg_lookup(r->t, key);
    if (e) {
        if (fx_is_alive(r->vm, e->pid) == 1) {
            *holder = e->pid;
            return FX_EEXIST;
        }
        /* The holder died and its DOWN is on the way (a restarted
         * server re-registering can get here first): as if it came. */
        drop_name(cx, r, e);
    }
    proc *p = proc_get(cx, r, pid);
    if (!p)
        return FX_ENOMEM;
    if (p->name) {
        *holder = pid;
        return FX_EEXIST;
    }
    int rc = fxi_reg_put(r->t, key, pid, &p->name);
    if (rc != 0)
        proc_release(cx, r, p);
    return rc;
}

static int op_unregister(fx_ctx *cx, reg *r, fxi_name *key)
{
    fxi_reg_name *e = (fxi_reg_name *) fxi_reg_lookup(r->t, key);
    if (!e)
        return FX_ENOENT;
    int alive = fx_is_alive(r->vm, e->pid) == 1;
    drop_name(cx, r, e); /* a dead holder's DOWN is on the way: as if it came */
    return alive ? 0 : FX_ENOENT;
}

static int op_join(fx_ctx *cx, reg *r, fxi_name *key, fx_pid pid)
{
    if (fx_is_alive(r->vm, pid) != 1)
        return FX_ENOPROC;
    proc *p = proc_get(cx, r, pid);
    if (!p)
        return FX_ENOMEM;
    fxi_reg_group *g = fxi_reg_group_find(r->t, key);
    if (g && proc_group_index(p, g) >= 0)
        return FX_EEXIST;
    if (p->ngroups == p->cap) {
        uint32_t cap = p->cap ? 2 * p->cap : 4;
        fxi_reg_group **gs = realloc(p->groups, cap * sizeof *gs);
        if (!gs) {
            proc_release(cx, r, p);
            return FX_ENOMEM;
        }
        p->groups = gs;
        p->cap = cap;
    }
    int rc = fxi_reg_group_add(r->t, key, pid, &g);
    if (rc != 0) {
        proc_release(cx, r, p);
        return rc;
    }
    p->groups[p->ngroups++] = g;
    return 0;
}

static int op_leave(fx_ctx *cx, reg *r, fxi_name *key, fx_pid pid)
{
    fxi_reg_group *g = fxi_reg_group_find(r->t, key);
    proc *p = g ? proc_find(r, pid) : NULL;
    int i = p ? proc_group_index(p, g) : -1;
    if (i < 0)
        return FX_ENOENT;
    int rc = fxi_reg_group_remove(r->t, g, pid);
    if (rc != 0)
        return rc;
    p->groups[i] = p->groups[--p->ngroups];
    proc_release(cx, r, p);
    return 0;
}

/* A known pid exited: its name and memberships go. */
static void on_down(fx_ctx *cx, reg *r, const fx_msg *m)
{
    if (fx_msg_size(m) != sizeof(fx_down_info))
        return;
    const fx_down_info *d = fx_msg_data(m);
    proc *p = proc_find(r, d->pid);
    if (!p || !fx_ref_eq(p->mon, d->ref))
        return;
    /* A pid still alive did not exit: it could not record our monitor
     * (out of memory; an inbox answers so without exiting, see
     * docs/failures.md) and this DOWN is its refusal. Its name and groups
     * stay: watch it again. If it is exiting meanwhile, the new monitor
     * gets its DOWN (noproc) and that one forgets it. */
    fx_ref again;
    if (fx_is_alive(r->vm, d->pid) == 1 && fx_monitor(cx, d->pid, &again) == 0) {
        p->mon = again;
        return;
    }
    if (p->name)
        fxi_reg_del(r->t, p->name);
    for (uint32_t i = 0; i < p->ngroups; i++)
        if (fxi_reg_group_remove(r->t, p->groups[i], p->pid) != 0)
            fx_crash(cx, "registry: out of memory"); /* restart, empty */
    proc_forget(r, p);
}

/* ---- the answer ----------------------------------------------------------------- */

/* Takes back a register or join that succeeded but could not be answered,
 * so that the request fails as a whole; false when it cannot be (a group
 * remove that itself ran out of memory). Removals are not taken back:
 * re-adding would allocate. */
static bool undo(fx_ctx *cx, reg *r, uint32_t type, fxi_name *key, fx_pid pid)
{
    if (type == FXI_REG_OP_REGISTER) {
        fxi_reg_name *e = (fxi_reg_name *) fxi_reg_lookup(r->t, key);
        if (e && fx_pid_eq(e->pid, pid))
            drop_name(cx, r, e);
        return true;
    }
    if (type == FXI_REG_OP_JOIN) {
        fxi_reg_group *g = fxi_reg_group_find(r->t, key);
        proc *p = g ? proc_find(r, pid) : NULL;
        int i = p ? proc_group_index(p, g) : -1;
        if (i < 0)
            return true;
        if (fxi_reg_group_remove(r->t, g, pid) != 0)
            return false;
        p->groups[i] = p->groups[--p->ngroups];
        proc_release(cx, r, p);
        return true;
    }
    return false;
}

/* Answers a write. A reply that cannot be allocated does not stop the
 * registry (its names would die with it): a register or join is taken
 * back and answered FX_ENOMEM, anything else answered again as it was;
 * if that reply cannot be allocated either, the caller times out
 * (FX_ETIMEDOUT) and the table is as the answer it missed said. */
static void answer(fx_ctx *cx, reg *r, fx_from from, uint32_t type, fxi_name *key,
                   fx_pid pid, fxi_reg_ans *ans)
{
    int rc = fx_reply(cx, from, ans, sizeof *ans);
    if (rc != FX_ENOMEM)
        return; /* sent, or the caller is gone (FX_ENOPROC): nobody to tell */
    if (ans->rc == 0 && undo(cx, r, type, key, pid))
        ans->rc = FX_ENOMEM;
    (void) fx_reply(cx, from, ans, sizeof *ans);
}

/* ---- the GenServer -------------------------------------------------------------- */

/* Frees what has outlived its readers; polls again later if some wait. */
static fx_gs_ret reclaim(reg *r, fx_gs_ret ret)
{
    return fxi_reg_reclaim(r->t) ? fx_gs_with_timeout(ret, RECLAIM_MS) : ret;
}

static fx_gs_ret reg_init(fx_ctx *cx, void *arg, void **state)
{
    reg *r = calloc(1, sizeof *r);
    *state = r; /* terminate frees whatever is here */
    if (!r)
        return fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "registry: no memory"));
    r->k = arg;
    r->vm = fx_ctx_vm(cx);
    if (!(r->w = fxi_kernel_writer(r->k)) ||
        !(r->t = fxi_reg_tables_new(r->w, fx_self(cx))))
        return fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "registry: no memory"));
    r->procs_ok = ck_hs_init(&r->procs, CK_HS_MODE_OBJECT, proc_hash, proc_eq,
                             &fxi_reg_allocator, 64, (unsigned long) (uintptr_t) r);
    if (!r->procs_ok)
        return fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "registry: no memory"));
    if (fxi_kernel_publish(r->k, r->t, fx_self(cx)) != 0)
        return fx_gs_stop(cx, fx_reason_shutdown()); /* the VM is stopping */
    return fx_gs_ok(cx);
}

static fx_gs_ret reg_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                          const void *data, size_t size)
{
    reg *r = state;
    fxi_reg_ans ans = {0, 0, FX_PID_NONE};
    fxi_reg_req req = {0};
    fxi_name key;
    if (type == FXI_REG_OP_STATS) {
        fx_registry_stats info;
        fxi_reg_stats(r->t, &info);
        /* Not fx_gs_reply: a reply that cannot be allocated must not stop
         * the registry. The caller then times out. */
        (void) fx_reply(cx, from, &info, sizeof info);
        return reclaim(r, fx_gs_noreply(cx));
    }
    if (size != sizeof req) {
        ans.rc = FX_EINVAL;
    } else {
        memcpy(&req, data, sizeof req);
        req.name[FX_NAME_MAX - 1] = '\0';
        if (!fxi_name_key(&key, req.name) || key.len != req.len)
            ans.rc = FX_EINVAL;
    }
    if (ans.rc == 0) {
        bool needs_pid = type != FXI_REG_OP_UNREGISTER;
        if (needs_pid && !req.pid.id)
            ans.rc = FX_EINVAL;
        else if (type == FXI_REG_OP_REGISTER)
            ans.rc = op_register(cx, r, &key, req.pid, &ans.holder);
        else if (type == FXI_REG_OP_UNREGISTER)
            ans.rc = op_unregister(cx, r, &key);
        else if (type == FXI_REG_OP_JOIN)
            ans.rc = op_join(cx, r, &key, req.pid);
        else if (type == FXI_REG_OP_LEAVE)
            ans.rc = op_leave(cx, r, &key, req.pid);
        else
            ans.rc = FX_EINVAL;
    }
    answer(cx, r, from, type, &key, req.pid, &ans);
    return reclaim(r, fx_gs_noreply(cx));
}

static fx_gs_ret reg_info(fx_ctx *cx, void *state, fx_msg *msg)
{
    reg *r = state;
    if (fx_msg_type(msg) == FX_MSG_DOWN)
        on_down(cx, r, msg);
    /* FX_MSG_TIMEOUT: time to reclaim; anything else: ignored. */
    return reclaim(r, fx_gs_noreply(cx));
}

static void reg_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm;
    (void) reason;
    reg *r = state;
    if (!r)
        return;
    if (r->t)
        fxi_kernel_unpublish(r->k, r->t);
    if (r->w) {
        /* No new reader finds the tables; wait out those that may have
         * (sections are short) and run every deferred free. */
        ck_epoch_barrier(r->w);
    }
    if (r->t)
        fxi_reg_tables_free(r->t);
    if (r->procs_ok) {
        ck_hs_iterator_t it = CK_HS_ITERATOR_INITIALIZER;
        void *obj;
        while (ck_hs_next(&r->procs, &it, &obj)) {
            free(((proc *) obj)->groups);
            free(obj);
        }
        ck_hs_destroy(&r->procs);
    }
    if (r->w)
        fxi_kernel_writer_release(r->k, r->w);
    free(r);
}

static const fx_gs_ops reg_ops = {
    .init = reg_init,
    .handle_call = reg_call,
    .handle_info = reg_info,
    .terminate = reg_terminate,
};

void fxi_registry_spec(struct fxi_kernel *k, fx_gs_spec *out)
{
    memset(out, 0, sizeof *out);
    out->ops = &reg_ops;
    out->arg = k;
    out->label = "fauxtp_registry";
}
