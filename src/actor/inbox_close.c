/* Closing the inboxes' waits at the start of fx_vm_shutdown, before the
 * stop hooks run (docs/design.md, shutdown): a thread blocked in
 * fx_inbox_recv (a pool job, or a fx_gs_call from outside the VM) would
 * otherwise keep waiting while a stop hook waits for it (the pool's hook
 * waits for running jobs), until the shutdown's deadline or forever.
 * From here on a wait in fx_inbox_recv answers FX_ESHUTDOWN (messages
 * already there are still taken), except on the thread that runs the
 * stop hooks: they may still talk to the VM, which runs until they end. */
#include "actor/inbox.h"

#include "actor/vm.h"
#include "platform/atomic.h"

/* The VM whose stop hooks this thread runs, NULL when none. */
static _Thread_local const fx_vm *stopping_here;

void fxi_inbox_close_waits(fx_vm *vm)
{
    stopping_here = vm;
    /* Relaxed: ordered before the wake stores by the seq_cst fence below,
     * which pairs with the fence in fx_inbox_recv between its store of
     * wake = 0 and its load of inbox_closed: either the receiver sees the
     * flag or its futex wait sees wake set (as for the state, vm.c). */
    fxi_atomic_store_relaxed_32(&vm->inbox_closed, 1);
    fxi_atomic_fence_seq_cst();
    fxi_inbox_wake_all(vm);
}

void fxi_inbox_close_hooks_done(fx_vm *vm)
{
    (void) vm;
    stopping_here = NULL;
}

bool fxi_inbox_waits_closed(const fx_vm *vm)
{
    /* Relaxed: the caller's seq_cst fence orders it (see above); the flag
     * never goes back to 0. */
    return fxi_atomic_load_relaxed_32(&vm->inbox_closed) != 0 && stopping_here != vm;
}
