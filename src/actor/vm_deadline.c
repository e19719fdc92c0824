/* fx_vm_shutdown_time_left: the shutdown deadline, for stop hooks and
 * other code that waits during a shutdown (docs/watchdog.md). */
#include <fauxtp/error.h>
#include <fauxtp/types.h>

#include "actor/vm.h"
#include "platform/park.h"

FX_API int fx_vm_shutdown_time_left(fx_vm *vm, int64_t *ms)
{
    if (!vm || !ms)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    /* Relaxed: a value stored by the shutting-down thread before its stop
     * hooks run; orders nothing else. */
    uint64_t deadline = fxi_atomic_load_relaxed_64(&vm->stop_deadline_ns);
    if (deadline == 0)
        return FX_ENOENT; /* no shutdown has begun */
    if (deadline == UINT64_MAX) {
        *ms = FX_INFINITY;
        return 0;
    }
    uint64_t now = fxi_now_ns();
    /* Rounded up, so "1" means "not yet passed". */
    *ms = now >= deadline ? 0 : (int64_t) ((deadline - now + 999999u) / 1000000u);
    return 0;
}
