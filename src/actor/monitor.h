/* Monitors: a process's own side. Internal. */
#ifndef FXI_ACTOR_MONITOR_H
#define FXI_ACTOR_MONITOR_H

#include "actor/actor.h"

/* Operations of a process on the monitors it holds (owner of self, inside
 * a section; w as for fxi_deliver). Semantics as fx_monitor /
 * fx_demonitor. */
int fxi_monitor(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid, fx_ref *ref);
/* fxi_monitor with a ref made by the caller (a monitor by remote name
 * tells the node's connection its ref first: dist/dist_call.c). */
int fxi_monitor_ref(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid, fx_ref ref);

int fxi_demonitor(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_ref ref, unsigned flags);

#endif
