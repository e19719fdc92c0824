/* Handler timing: the switch and the per-slot runtime table. */
#include "actor/timing.h"

#include <fauxtp/error.h>
#include <fauxtp/info.h>

#include "platform/vmem.h"

static size_t table_bytes(const fx_vm *vm)
{
    return (size_t) vm->pt.cap * sizeof(fxi_rt_entry);
}

FX_API int fx_vm_set_timing(fx_vm *vm, bool on)
{
    if (!vm)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    /* Acquire: pairs with the release cas below, so the table's
     * (zero-filled) pages are ours to read. */
    if (on && !fxi_atomic_load_acquire_ptr(&vm->rt)) {
        /* Address space only: pages are touched as processes are timed. */
        void *t = fxi_vmem_reserve(table_bytes(vm));
        if (!t)
            return FX_ENOMEM;
        /* Release: publishes the reservation before timing can be seen on
         * (the store of vm->timing below is after it on this thread, and
         * a thread that sees timing on loads rt with acquire). One winner;
         * the loser gives its reservation back. */
        if (!fxi_atomic_cas_release_ptr(&vm->rt, NULL, t))
            fxi_vmem_release(t, table_bytes(vm));
    }
    /* Exchange, relaxed: the switch itself orders nothing (the table was
     * published above with release, and readers acquire it). */
    return (int) fxi_atomic_exchange_relaxed_32(&vm->timing, on ? 1u : 0u);
}

void fxi_timing_charge(fx_vm *vm, const fxi_actor *a, uint64_t ns)
{
    /* Acquire: pairs with the release cas in fx_vm_set_timing. */
    fxi_rt_entry *t = fxi_atomic_load_acquire_ptr(&vm->rt);
    if (!t)
        return;
    fxi_rt_entry *e = &t[fxi_pid_index(a->pid)];
    /* Relaxed loads of our own (or a grace-period-ordered) writes. */
    if (fxi_atomic_load_relaxed_64(&e->pid) != a->pid.id) {
        fxi_atomic_store_relaxed_64(&e->ns, 0);
        /* Release: a reader that sees the new pid sees the reset too
         * (pairs with the acquire load in fxi_timing_runtime). */
        fxi_atomic_store_release_64(&e->pid, a->pid.id);
    }
    /* Relaxed add, not a store: a run ends after the mailbox was marked
     * idle, so the next run may already be charging on another thread.
     * A statistic; orders nothing. */
    fxi_atomic_fetch_add_relaxed_64(&e->ns, ns);
}

uint64_t fxi_timing_runtime(fx_vm *vm, const fxi_actor *a)
{
    /* Acquire: as in fxi_timing_charge. */
    fxi_rt_entry *t = fxi_atomic_load_acquire_ptr(&vm->rt);
    if (!t)
        return 0;
    const fxi_rt_entry *e = &t[fxi_pid_index(a->pid)];
    /* Acquire: pairs with the release store of the pid in charge. */
    if (fxi_atomic_load_acquire_64(&e->pid) != a->pid.id)
        return 0;
    return fxi_atomic_load_relaxed_64(&e->ns); /* relaxed: a statistic */
}

void fxi_timing_fini(fx_vm *vm)
{
    if (vm->rt)
        fxi_vmem_release(vm->rt, table_bytes(vm));
    vm->rt = NULL;
}
