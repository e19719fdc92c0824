/* The message path, for the other actor-layer files: every send, from a
 * handler, from outside the VM, from a timer, ends in fxi_deliver (or, from
 * a handler, in the outbox: actor/outbox.h). Internal. */
#ifndef FXI_ACTOR_SEND_H
#define FXI_ACTOR_SEND_H

#include "actor/vm.h"

/* Delivers m to `to` (message path of every send). The ownership rule of
 * <fauxtp/msg.h>: 0 takes m; FX_ENOPROC (a dead target, counted as
 * dropped) leaves m with the caller. w is the calling scheduler's worker,
 * or NULL from outside the VM (caller holds a QSBR external section). */
int fxi_deliver(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m);
/* fxi_deliver without counting a dead target as a dropped message: for
 * link and monitor requests, which a dead target turns into their own
 * noproc answer (signal.c, link.c, monitor.c). */
int fxi_deliver_quiet(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m);
/* fxi_deliver for the runtime's own messages (signals, timers, replies):
 * takes m in all cases, a dead target's message is freed (Erlang drops
 * it). Same answer as fxi_deliver. */
int fxi_deliver_or_drop(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m);

/* Sends from outside a handler with the given sender (fx_vm_send*,
 * fx_inbox_send). Same contract as fx_vm_send_msg / fx_vm_send. */
int fxi_send_ext(fx_vm *vm, fx_pid from, fx_pid to, fx_msg *msg);
int fxi_send_copy_ext(fx_vm *vm, fx_pid from, fx_pid to, uint32_t type, const void *data,
                      size_t size);

#endif
