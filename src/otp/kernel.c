/* The per-VM kernel state and the registry's lazy start; see kernel.h.
 *
 * Finding the registry. The running registry publishes its pid (and its
 * tables) from its init, under k->mx, and withdraws them from its
 * terminate. A request that finds none running adds itself to k->waiters
 * and, if no start is in flight, starts one (start_registry). Whoever
 * learns the outcome tells every waiter with an FXI_REG_READY message on
 * the waiter's ref: the new registry when it publishes, the starter when
 * the start failed, the stop hook when the VM shuts down. Adding a waiter
 * and publishing both happen under k->mx, so no waiter is missed; and a
 * start is triggered only by the request that set k->starting, so two
 * first users never start two registries. Nothing here blocks a
 * scheduler thread: handlers wait through their mailbox. */
#include <stdlib.h>
#include <string.h>

#include "otp/reg_table.h"

struct fxi_waiter {
    fxi_waiter *next;
    fx_pid pid; /* a process or an inbox */
    fx_ref ref;
    fx_handler next_fn; /* async waiters: who gets READY */
    size_t size;        /* of blob */
    _Alignas(16) unsigned char blob[];
};

/* READY's payload: the outcome, then the waiter's blob. */
typedef struct ready_msg {
    int32_t rc;
    uint32_t reserved;
    fx_pid reg;
    fx_handler next;
    uint64_t size;
    _Alignas(16) unsigned char blob[];
} ready_msg;

static const char kernel_key;   /* fx_vm_attach key */
static uint64_t next_kernel_id; /* atomic */

/* ---- telling waiters ------------------------------------------------------------ */

static void tell(fx_vm *vm, fxi_waiter *w, int rc, fx_pid reg)
{
    fx_msg *m;
    if (fx_msg_new_behaviour(FXI_REG_READY, sizeof(ready_msg) + w->size, &m) == 0) {
        ready_msg *r = fx_msg_data_mut(m);
        r->rc = rc;
        r->reserved = 0;
        r->reg = reg;
        r->next = w->next_fn;
        r->size = w->size;
        memcpy(r->blob, w->blob, w->size);
        fx_msg_set_ref(m, w->ref);
        if (fx_vm_send_msg(vm, w->pid, m) != 0)
            fx_msg_free(m); /* the waiter is gone (or the VM stops) */
    }
    /* No memory for the message: the waiter times out, finds itself
     * gone from the list, waits a while longer for this READY and gives
     * up (only under memory exhaustion). */
    free(w);
}

static void tell_all(fxi_kernel *k, fxi_waiter *list, int rc, fx_pid reg)
{
    while (list) {
        fxi_waiter *w = list;
        list = w->next;
        tell(k->vm, w, rc, reg);
    }
}

/* ---- the start: the kernel supervisor and its keeper ------------------------------ */

/* The kernel supervisor's one child: the registry, a permanent worker.
 * Each new instance publishes itself from its init, waking the waiters. */
static fx_next start_registry_child(fx_ctx *cx, void *arg, const void *extra,
                                    size_t extra_size, fx_handler then)
{
    (void) extra;
    (void) extra_size;
    fx_gs_spec spec;
    fxi_registry_spec(arg, &spec);
    spec.link = true;
    return fx_gs_start_async(cx, &spec, then);
}

/* The keeper watches the kernel supervisor: when the tree cannot start,
 * or dies (it gave up restarting the registry, or the VM stops), the
 * waiters are told and the next request starts a new tree. */
static fx_next keeper_down(fx_ctx *cx, fx_msg *m)
{
    fxi_kernel *k = fx_state(cx);
    if (fx_msg_type(m) != FX_MSG_DOWN)
        return fx_continue(cx);
    /* Relaxed: a pid value; reaching the process goes through the
     * process table, which orders itself. */
    fxi_atomic_store_relaxed_64(&k->sup_pid, 0);
    fxi_kernel_start_failed(k, FX_EEXIT);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next keeper_started(fx_ctx *cx, fx_msg *m)
{
    fxi_kernel *k = fx_state(cx);
    fx_pid sup;
    fx_ref ref;
    int rc = fx_gs_start_result(cx, m, &sup, NULL);
    if (rc == 0 && (rc = fx_monitor(cx, sup, &ref)) == 0) {
        /* Read by the stop hook, which stops the tree in order. Relaxed:
         * a pid value, as in keeper_down. */
        fxi_atomic_store_relaxed_64(&k->sup_pid, sup.id);
        return fx_become(cx, keeper_down);
    }
    fxi_kernel_start_failed(k, rc);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next keeper_init(fx_ctx *cx, void *arg)
{
    fxi_kernel *k = arg;
    fx_child_spec child = {
        .id = "registry",
        .start = start_registry_child,
        .arg = k,
        .restart = FX_PERMANENT,
        .type = FX_WORKER,
    };
    fx_sup_spec spec;
    fx_sup_spec_init(&spec);
    spec.strategy = FX_ONE_FOR_ONE;
    spec.intensity = 10;
    spec.period_ms = 5000;
    spec.children = &child;
    spec.nchildren = 1;
    spec.label = "fauxtp_kernel_sup";
    return fx_sup_start_async(cx, &spec, keeper_started); /* spec is copied */
}

/* Starts the kernel supervisor, whose child is the registry. This is the
 * ONE place the kernel starts its processes; the caller set k->starting
 * and has its waiter queued. The supervisor restarts a registry that
 * dies (each new one publishes itself); the keeper reports a tree that
 * could not start or gave up with fxi_kernel_start_failed, after which
 * the next request starts a new tree. */
static int start_registry(fxi_kernel *k)
{
    /* A running tree is restarting the registry: its publish tells. */
    fx_pid sup = {fxi_atomic_load_relaxed_64(&k->sup_pid)}; /* relaxed: a pid value */
    if (sup.id && fx_is_alive(k->vm, sup) == 1)
        return 0;
    fx_spawn_opts o = {
        .init = keeper_init,
        .init_arg = k,
        .state = k,
        .label = "fauxtp_kernel",
    };
    return fx_vm_spawn_opt(k->vm, &o, NULL);
}

void fxi_kernel_start_failed(fxi_kernel *k, int rc)
{
    fxi_mutex_lock(&k->mx);
    fxi_waiter *list = k->waiters;
    k->waiters = NULL;
    k->starting = false;
    fxi_mutex_unlock(&k->mx);
    tell_all(k, list, rc ? rc : FX_EEXIT, FX_PID_NONE);
}

/* ---- publication ------------------------------------------------------------------ */

int fxi_kernel_publish(fxi_kernel *k, fxi_reg_tables *t, fx_pid pid)
{
    fxi_mutex_lock(&k->mx);
    if (k->stopping) {
        fxi_mutex_unlock(&k->mx);
        return FX_ESHUTDOWN;
    }
    /* Release: the tables are fully built; orders their initialisation
     * before the pointer. Pairs with the acquire loads of k->tables in
     * readers (registry.c, registry_send.c), inside a read section. */
    fxi_atomic_store_release_ptr(&k->tables, t);
    /* Release: orders the tables' publication before the pid; pairs with
     * the acquire load in fxi_kernel_registry. */
    fxi_atomic_store_release_64(&k->reg_pid, pid.id);
    fxi_waiter *list = k->waiters;
    k->waiters = NULL;
    k->starting = false;
    fxi_mutex_unlock(&k->mx);
    tell_all(k, list, 0, pid);
    return 0;
}

void fxi_kernel_unpublish(fxi_kernel *k, fxi_reg_tables *t)
{
    fxi_mutex_lock(&k->mx);
    /* Relaxed: k->tables is only written under k->mx, which we hold. */
    if (fxi_atomic_load_relaxed_ptr(&k->tables) == t) {
        /* New read sections no longer find t; the caller waits out the
         * ones that may have (ck_epoch_barrier) before freeing it.
         * Relaxed: NULL and 0 publish nothing. */
        fxi_atomic_store_relaxed_ptr(&k->tables, NULL);
        fxi_atomic_store_relaxed_64(&k->reg_pid, 0);
    }
    fxi_mutex_unlock(&k->mx);
}

fx_pid fxi_kernel_registry(fxi_kernel *k)
{
    /* Acquire: pairs with the release store in fxi_kernel_publish. */
    fx_pid pid = {fxi_atomic_load_acquire_64(&k->reg_pid)};
    if (pid.id && fx_is_alive(k->vm, pid) != 1)
        pid = FX_PID_NONE; /* died; its terminate has not withdrawn it yet */
    return pid;
}

/* ---- waiting ---------------------------------------------------------------------- */

static fxi_waiter *waiter_new(fx_pid who, fx_ref ref, fx_handler next, const void *blob,
                              size_t size)
{
    fxi_waiter *w = malloc(sizeof *w + size);
    if (!w)
        return NULL;
    w->next = NULL;
    w->pid = who;
    w->ref = ref;
    w->next_fn = next;
    w->size = size;
    if (size)
        memcpy(w->blob, blob, size);
    return w;
}

/* Queues w, starting the registry if nobody is, or tells it at once if
 * one runs by now. 0; FX_ESHUTDOWN leaves w with the caller. */
static int enqueue(fxi_kernel *k, fxi_waiter *w)
{
    fxi_mutex_lock(&k->mx);
    if (k->stopping) {
        fxi_mutex_unlock(&k->mx);
        return FX_ESHUTDOWN;
    }
    fx_pid reg = fxi_kernel_registry(k);
    bool start = false;
    if (!reg.id) {
        w->next = k->waiters;
        k->waiters = w;
        start = !k->starting;
        k->starting = true;
    }
    fxi_mutex_unlock(&k->mx);
    if (reg.id) {
        tell(k->vm, w, 0, reg); /* published meanwhile */
    } else if (start) {
        int rc = start_registry(k);
        if (rc != 0)
            fxi_kernel_start_failed(k, rc);
    }
    return 0;
}

/* Takes the waiter with ref off the list, or NULL if it was told
 * already (its READY is on the way). */
static fxi_waiter *dequeue(fxi_kernel *k, fx_ref ref)
{
    fxi_waiter *w = NULL;
    fxi_mutex_lock(&k->mx);
    for (fxi_waiter **p = &k->waiters; *p; p = &(*p)->next) {
        if (fx_ref_eq((*p)->ref, ref)) {
            w = *p;
            *p = w->next;
            break;
        }
    }
    fxi_mutex_unlock(&k->mx);
    return w;
}

static fx_ref new_ref(fxi_kernel *k)
{
    /* Unique per kernel; READY is matched on its type and ref. Relaxed:
     * only uniqueness is needed, which any RMW gives. */
    return (fx_ref){fxi_atomic_fetch_add_relaxed_64(&k->next_ref, 1) + 1};
}

int fxi_kernel_ready(const fx_msg *m, fx_pid *reg, const void **blob, size_t *size)
{
    if (fx_msg_type(m) != FXI_REG_READY || fx_msg_size(m) < sizeof(ready_msg))
        return FX_EINVAL;
    const ready_msg *r = fx_msg_data(m);
    if (reg)
        *reg = r->reg;
    if (blob)
        *blob = r->blob;
    if (size)
        *size = r->size;
    return r->rc;
}

int fxi_kernel_registry_wait(fxi_kernel *k, fx_inbox *inbox, int64_t timeout_ms,
                             fx_pid *out)
{
    if ((*out = fxi_kernel_registry(k)).id != 0)
        return 0;
    fx_ref ref = new_ref(k);
    fxi_waiter *w = waiter_new(fx_inbox_pid(inbox), ref, NULL, NULL, 0);
    if (!w)
        return FX_ENOMEM;
    int rc = enqueue(k, w);
    if (rc != 0) {
        free(w);
        return rc;
    }
    fx_match mt = {.type = FXI_REG_READY, .ref = ref};
    fx_msg *m;
    rc = fx_inbox_recv(inbox, &mt, timeout_ms, &m);
    if (rc == FX_ETIMEDOUT) {
        w = dequeue(k, ref);
        if (w)
            free(w);
        else /* told meanwhile: the READY is on its way */
            rc = fx_inbox_recv(inbox, &mt, FX_REGISTRY_TIMEOUT, &m);
    }
    if (rc != 0)
        return rc;
    rc = fxi_kernel_ready(m, out, NULL, NULL);
    fx_msg_free(m);
    return rc;
}

/* The async waiter's continuation: hands READY to the waiter's `next`.
 * On a timeout, a waiter still queued answers itself with FX_ETIMEDOUT
 * (same message, same blob); one already told waits for that READY. */
static fx_next async_late(fx_ctx *cx, fx_msg *m);

static fx_next async_ready(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == FXI_REG_READY) {
        const ready_msg *r = fx_msg_data(m);
        return r->next(cx, m);
    }
    const fx_timeout_info *ti = fx_msg_data(m); /* our receive's timeout */
    fxi_kernel *k = fxi_kernel_find(fx_ctx_vm(cx));
    fxi_waiter *w = k ? dequeue(k, ti->ref) : NULL;
    fx_match mt = {.type = FXI_REG_READY, .ref = ti->ref};
    if (w) {
        tell(k->vm, w, FX_ETIMEDOUT, FX_PID_NONE);
        return fx_receive(cx, async_ready, &mt, FX_INFINITY);
    }
    return fx_receive(cx, async_late, &mt, FX_REGISTRY_TIMEOUT);
}

/* Told already, and the READY did not come in time: it could not be
 * allocated, and with it went the waiter's `next`. */
static fx_next async_late(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == FXI_REG_READY)
        return async_ready(cx, m);
    fx_crash(cx, "registry: out of memory");
}

fx_next fxi_kernel_registry_async(fxi_kernel *k, fx_ctx *cx, const void *blob,
                                  size_t size, int64_t timeout_ms, fx_handler next)
{
    fx_ref ref = new_ref(k);
    fxi_waiter *w = waiter_new(fx_self(cx), ref, next, blob, size);
    if (!w)
        fx_crash(cx, "registry: out of memory");
    fx_match mt = {.type = FXI_REG_READY, .ref = ref};
    int rc = enqueue(k, w);
    if (rc != 0) {
        /* Not queued: answer ourselves with the error. */
        tell(k->vm, w, rc, FX_PID_NONE);
        return fx_receive(cx, async_late, &mt, FX_REGISTRY_TIMEOUT);
    }
    return fx_receive(cx, async_ready, &mt, timeout_ms);
}

/* ---- the kernel's lifetime ------------------------------------------------------- */

/* Stop hook: at the start of fx_vm_shutdown, schedulers still running.
 * No new start; waiters are told; the kernel supervisor is stopped in
 * order (the registry's terminate frees its tables) while the VM still
 * runs. */
static void kernel_stop(fx_vm *vm, void *value)
{
    fxi_kernel *k = value;
    fxi_mutex_lock(&k->mx);
    k->stopping = true;
    fxi_waiter *list = k->waiters;
    k->waiters = NULL;
    fxi_mutex_unlock(&k->mx);
    tell_all(k, list, FX_ESHUTDOWN, FX_PID_NONE);
    fx_pid sup = {fxi_atomic_load_relaxed_64(&k->sup_pid)}; /* relaxed: a pid value */
    fx_inbox *in;
    if (!sup.id || fx_inbox_create(vm, &in) != 0)
        return; /* the VM's shutdown kills it (terminate still runs) */
    /* Otherwise stuck (or already gone): the shutdown kills it later.
     * At most 5 s, and no longer than the shutdown's deadline allows. */
    int64_t left = 5000;
    if (fx_vm_shutdown_time_left(vm, &left) != 0 || left < 0 || left > 5000)
        left = 5000;
    (void) fx_gs_stop_server(in, sup, fx_reason_shutdown(), left, NULL);
    fx_inbox_destroy(in);
}

static void kernel_free(fx_vm *vm, void *value)
{
    (void) vm;
    fxi_kernel *k = value;
    /* Every process has exited: the registry's terminate withdrew and
     * freed its tables; the stop hook emptied the waiters. */
    tell_all(k, k->waiters, FX_ESHUTDOWN, FX_PID_NONE);
    fxi_kernel_epoch_fini(k);
    fxi_mutex_fini(&k->mx);
    free(k);
}

fxi_kernel *fxi_kernel_find(fx_vm *vm)
{
    return fx_vm_attached(vm, &kernel_key);
}

int fxi_kernel_get(fx_vm *vm, fxi_kernel **out)
{
    if (!vm)
        return FX_EINVAL;
    if ((*out = fxi_kernel_find(vm)) != NULL)
        return 0;
    fxi_kernel *k = calloc(1, sizeof *k);
    if (!k)
        return FX_ENOMEM;
    k->vm = vm;
    k->id = fxi_atomic_fetch_add_relaxed_64(&next_kernel_id, 1) + 1; /* relaxed: unique */
    fxi_mutex_init(&k->mx, FXI_RANK_KERNEL, "kernel");
    fxi_kernel_epoch_init(k);
    static const fx_vm_hooks hooks = {.stop = kernel_stop, .free = kernel_free};
    int rc = fx_vm_attach(vm, &kernel_key, k, &hooks);
    if (rc == 0) {
        *out = k;
        return 0;
    }
    fxi_kernel_epoch_fini(k);
    fxi_mutex_fini(&k->mx);
    free(k);
    if (rc != FX_EEXIST)
        return rc;
    *out = fxi_kernel_find(vm); /* another thread won the race */
    return 0;
}
