/* The send path's hook into the distribution layer (dist/dist.h has the
 * rest). Kept apart so actor/ code does not see ei, and called through a
 * pointer that fx_dist_start publishes, so actor/ never links dist/: a
 * program that never starts a node does not pull dist/ (and ei, nettle)
 * out of the static library. */
#ifndef FXI_DIST_ROUTE_H
#define FXI_DIST_ROUTE_H

#include <fauxtp/error.h>
#include <fauxtp/types.h>

#include "actor/vm.h"
#include "platform/atomic.h"

struct fxi_worker;

/* The first member of the node state (fxi_dist) that vm->dist points to. */
typedef struct fxi_dist_hook {
    /* A send to a pid that is not this VM's: FX_ENOPROC when it names no
     * process of a connected or known node (m stays with the caller), 0
     * when m was taken for a remote node. Any thread; w NULL outside the
     * schedulers. */
    int (*route)(fx_vm *vm, struct fxi_worker *w, fx_pid to, fx_msg *m);
} fxi_dist_hook;

/* A send to a pid whose tag is not this VM's (one compare decided that):
 * the node's route, or FX_ENOPROC when the VM never became a node. */
static inline int fxi_dist_route_foreign(fx_vm *vm, struct fxi_worker *w, fx_pid to,
                                         fx_msg *m)
{
    /* Acquire: pairs with the release that published the node state
     * (dist_node.c), so the hook and what it reads are initialised. */
    const fxi_dist_hook *h =
        (const fxi_dist_hook *) fxi_atomic_load_acquire_ptr(&vm->dist);
    return h ? h->route(vm, w, to, m) : FX_ENOPROC;
}

#endif
