/* VM lifecycle and statistics. */
#include "actor/vm.h"

#include <fauxtp/error.h>
#include <stddef.h>
#include <string.h>

#include "actor/exit.h"
#include "actor/run.h"
#include "platform/fault.h"
#include "platform/park.h"

#define DEFAULT_BATCH 64u
#define DEFAULT_MAX_PROCESSES (4u * 1024u * 1024u)
#define DEFAULT_MAX_MSG ((size_t) 64 * 1024 * 1024)
#define MAX_THREADS 1023u /* refs carry the scheduler id in 10 bits */

FX_API void fx_vm_config_init(fx_vm_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->version = FX_VM_CONFIG_VERSION;
}

static int resolve_config(const fx_vm_config *in, fx_vm_config *c)
{
    if (in) {
        if (in->version == 1) {
            /* Built against the version 1 header: only its fields exist. */
            fx_vm_config_init(c);
            memcpy(c, in, offsetof(fx_vm_config, trap_faults));
            c->version = FX_VM_CONFIG_VERSION;
        } else if (in->version == FX_VM_CONFIG_VERSION) {
            *c = *in;
        } else {
            return FX_EVERSION;
        }
    } else {
        fx_vm_config_init(c);
    }
    if (c->threads == 0)
        c->threads = fxi_cpu_count();
    if (c->batch == 0)
        c->batch = DEFAULT_BATCH;
    if (c->max_processes == 0)
        c->max_processes = DEFAULT_MAX_PROCESSES;
    if (c->max_msg_size == 0)
        c->max_msg_size = DEFAULT_MAX_MSG;
    if (c->threads > MAX_THREADS || c->max_processes > (1u << 30) ||
        c->max_msg_size > FX_MSG_SIZE_LIMIT)
        return FX_EINVAL;
    return 0;
}

FX_API int fx_vm_create(const fx_vm_config *cfg, fx_vm **out)
{
    if (!out)
        return FX_EINVAL;
    *out = NULL;
    fx_vm_config c;
    int rc = resolve_config(cfg, &c);
    if (rc)
        return rc;
    fx_vm *vm = fxi_alloc_aligned(sizeof *vm, FXI_CACHELINE);
    if (!vm)
        return FX_ENOMEM;
    vm->cfg = c;
    vm->state = FXI_VM_CREATED;
    vm->workers = fxi_alloc_aligned(c.threads * sizeof *vm->workers, FXI_CACHELINE);
    if (!vm->workers)
        goto fail_vm;
    if ((rc = fxi_ptable_init(&vm->pt, c.max_processes, c.threads)) != 0)
        goto fail_workers;
    if ((rc = fxi_qsbr_init(&vm->qsbr, c.threads)) != 0)
        goto fail_pt;
    if ((rc = fxi_pool_init(&vm->pool, c.threads, &fxi_actor_hooks)) != 0)
        goto fail_qsbr;
    fxi_timers_init(&vm->timers);
    pthread_mutex_init(&vm->attach_mx, NULL);
    vm->attached = NULL;
    vm->attach_closed = false;
    for (uint32_t i = 0; i < c.threads; i++) {
        fxi_worker *w = &vm->workers[i];
        w->cx.vm = vm;
        w->cx.s = &vm->pool.scheds[i];
        w->cx.w = w;
        vm->pool.scheds[i].user = w;
    }
    *out = vm;
    return 0;
fail_qsbr:
    fxi_qsbr_fini(&vm->qsbr);
fail_pt:
    fxi_ptable_fini(&vm->pt);
fail_workers:
    fxi_free_aligned(vm->workers, c.threads * sizeof *vm->workers, FXI_CACHELINE);
fail_vm:
    fxi_free_aligned(vm, sizeof *vm, FXI_CACHELINE);
    return rc ? rc : FX_ENOMEM;
}

FX_API int fx_vm_start(fx_vm *vm)
{
    if (!vm || ck_pr_load_32(&vm->state) != FXI_VM_CREATED)
        return FX_EINVAL;
    if (vm->cfg.trap_faults && fxi_fault_install() != 0)
        return FX_ESYS;
    /* Running before the threads exist, so their first actors may send. */
    ck_pr_store_32(&vm->state, FXI_VM_RUNNING);
    int rc = fxi_pool_start(&vm->pool);
    if (rc) {
        ck_pr_store_32(&vm->state, FXI_VM_STOPPED);
        if (vm->cfg.trap_faults)
            fxi_fault_uninstall();
        return rc;
    }
    return 0;
}

/* ---- attached values ------------------------------------------------------ */

FX_API int fx_vm_attach(fx_vm *vm, const void *key, void *value, const fx_vm_hooks *hooks)
{
    /* A NULL value would read as "nothing attached" (fx_vm_attached), so
     * a second attach under the key could not see it. */
    if (!vm || !key || !value)
        return FX_EINVAL;
    fxi_attachment *a = fxi_alloc(sizeof *a);
    if (!a)
        return FX_ENOMEM;
    a->key = key;
    a->value = value;
    if (hooks)
        a->hooks = *hooks;
    else
        memset(&a->hooks, 0, sizeof a->hooks);
    int rc = 0;
    pthread_mutex_lock(&vm->attach_mx);
    if (vm->attach_closed)
        rc = FX_ESHUTDOWN;
    else if (fx_vm_attached(vm, key))
        rc = FX_EEXIST;
    if (rc == 0) {
        a->next = vm->attached;
        /* Publishes a fully built node: the release orders its fields
         * before the head store; pairs with the load in fx_vm_attached. */
        ck_pr_fence_store();
        ck_pr_store_ptr(&vm->attached, a);
    }
    pthread_mutex_unlock(&vm->attach_mx);
    if (rc)
        fxi_free(a, sizeof *a);
    return rc;
}

FX_API void *fx_vm_attached(fx_vm *vm, const void *key)
{
    if (!vm || !key)
        return NULL;
    /* Pairs with the store in fx_vm_attach: nodes are immutable once
     * published and freed only by fx_vm_destroy. */
    for (fxi_attachment *a = ck_pr_load_ptr(&vm->attached); a; a = a->next)
        if (a->key == key)
            return a->value;
    return NULL;
}

/* Closes the list to new attachments; true for the one caller that did. */
static bool close_attachments(fx_vm *vm)
{
    pthread_mutex_lock(&vm->attach_mx);
    bool first = !vm->attach_closed;
    vm->attach_closed = true;
    pthread_mutex_unlock(&vm->attach_mx);
    return first;
}

/* ---- shutdown ---------------------------------------------------------------- */

FX_API int fx_vm_shutdown(fx_vm *vm)
{
    if (!vm)
        return FX_EINVAL;
    if (fxi_vm_worker(vm))
        return FX_ECONTEXT;
    uint32_t st = ck_pr_load_32(&vm->state);
    if (st == FXI_VM_STOPPED)
        return 0;
    if (!close_attachments(vm))
        return FX_ESHUTDOWN; /* another thread is shutting it down */
    if (st == FXI_VM_RUNNING) {
        /* The list is closed: no node is added from here on. Newest
         * first is the reverse attach order. The VM still runs. */
        for (fxi_attachment *a = vm->attached; a; a = a->next)
            if (a->hooks.stop)
                a->hooks.stop(vm, a->value);
        st = ck_pr_load_32(&vm->state);
    }
    if (st == FXI_VM_STOPPING || !ck_pr_cas_32(&vm->state, st, FXI_VM_STOPPING))
        return FX_ESHUTDOWN; /* another thread is shutting it down */
    /* Outside threads already inside an operation finish it; new ones see
     * STOPPING and fail (fxi_section_enter re-checks inside the section). */
    while (!fxi_qsbr_ext_idle(&vm->qsbr))
        fxi_cpu_relax();
    if (st == FXI_VM_RUNNING) {
        fxi_pool_stop(&vm->pool);
        if (vm->cfg.trap_faults)
            fxi_fault_uninstall();
    }
    fxi_vm_free_processes(vm);
    ck_pr_store_32(&vm->state, FXI_VM_STOPPED);
    return 0;
}

FX_API void fx_vm_destroy(fx_vm *vm)
{
    if (!vm)
        return;
    fx_vm_shutdown(vm);
    /* Every process has exited, every scheduler thread was joined. */
    while (vm->attached) {
        fxi_attachment *a = vm->attached;
        vm->attached = a->next;
        if (a->hooks.free)
            a->hooks.free(vm, a->value);
        fxi_free(a, sizeof *a);
    }
    pthread_mutex_destroy(&vm->attach_mx);
    fxi_timers_fini(&vm->timers);
    fxi_pool_fini(&vm->pool);
    fxi_qsbr_fini(&vm->qsbr);
    fxi_ptable_fini(&vm->pt);
    fxi_free_aligned(vm->workers, vm->cfg.threads * sizeof *vm->workers, FXI_CACHELINE);
    fxi_free_aligned(vm, sizeof *vm, FXI_CACHELINE);
}

FX_API uint32_t fx_vm_threads(const fx_vm *vm)
{
    return vm ? vm->cfg.threads : 0;
}

FX_API size_t fx_vm_max_msg_size(const fx_vm *vm)
{
    return vm ? vm->cfg.max_msg_size : 0;
}

FX_API int fx_vm_stats_get(fx_vm *vm, fx_vm_stats *out)
{
    if (!vm || !out)
        return FX_EINVAL;
    memset(out, 0, sizeof *out);
    uint64_t exited = ck_pr_load_64(&vm->ext_exited);
    out->spawned = ck_pr_load_64(&vm->ext_spawned);
    out->messages_dropped = ck_pr_load_64(&vm->ext_dropped);
    for (uint32_t i = 0; i < vm->cfg.threads; i++) {
        fxi_worker *w = &vm->workers[i];
        fxi_sched *s = &vm->pool.scheds[i];
        out->spawned += ck_pr_load_64(&w->stat_spawned);
        exited += ck_pr_load_64(&w->stat_exited);
        out->messages_dropped += ck_pr_load_64(&w->stat_dropped);
        out->steals += ck_pr_load_64(&s->stat_steals);
        out->parks += ck_pr_load_64(&s->stat_parks);
    }
    out->processes = out->spawned >= exited ? out->spawned - exited : 0;
    return 0;
}
