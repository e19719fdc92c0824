/* The control socket (include/fauxtp/control.h, docs/observability.md,
 * "Control socket"): hooks called by the VM's lifecycle in actor/vm.c.
 * Layer: above src/actor, like src/pool: it uses the public API and reads
 * only the VM's immutable config. */
#ifndef FXI_CTL_CTL_H
#define FXI_CTL_CTL_H

#include <fauxtp/vm.h>

/* Checks the config's control_path: 0, or FX_EINVAL (empty or longer
 * than sun_path holds). Called by fx_vm_create's config check. */
int fxi_ctl_config(const fx_vm_config *c);

/* Called at the end of fx_vm_create when control_path is set: copies the
 * path and attaches the server's state to the VM (nothing is opened yet;
 * the attachment's free hook releases it). 0, FX_ENOMEM, or what
 * fx_vm_attach answers. */
int fxi_ctl_create(fx_vm *vm);

/* Called by fx_vm_start before the scheduler threads start: opens the
 * socket and starts the control thread. 0 (also when the VM has no
 * control socket), or FX_EADDR, FX_EEXIST, FX_ENOFILE, FX_ESYS (see
 * fx_vm_config.control_path). The thread is stopped and the file removed
 * by the attachment's stop hook (start of fx_vm_shutdown), by
 * fxi_ctl_stop, or at the latest by its free hook (fx_vm_destroy). */
int fxi_ctl_start(fx_vm *vm);

/* Stops the control thread and removes the socket file, if running:
 * fx_vm_start calls it when a later step fails. Outside the VM. */
void fxi_ctl_stop(fx_vm *vm);

#endif
