/* The send path's hook into the distribution layer (dist/dist.h has the
 * rest). Kept apart so actor/ code does not see ei. */
#ifndef FXI_DIST_ROUTE_H
#define FXI_DIST_ROUTE_H

#include <fauxtp/types.h>

struct fxi_worker;

/* A send to a pid that is not this VM's (one compare decided that):
 * FX_ENOPROC when it names no process of a connected or known node (m
 * stays with the caller), 0 when m was taken for a remote node. Any
 * thread; w NULL outside the schedulers. Without the dist feature it
 * always answers FX_ENOPROC (dist_off.c). */
int fxi_dist_route(fx_vm *vm, struct fxi_worker *w, fx_pid to, fx_msg *m);

#endif
