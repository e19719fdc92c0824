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
/* The watched side of a call monitor (fx_monitor_call): self replies to
 * `to`; if to.ref is a call monitor of to.pid on self, it ends here (its
 * promise freed) and true says so: the reply is then sent as
 * FXI_SIG_REPLY_END. Owner of self. */
bool fxi_monitor_reply_ends(fxi_actor *self, fx_from to);
int fxi_demonitor(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_ref ref, unsigned flags);

#endif
