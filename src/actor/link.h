/* Links and exit signals: a process's own side. Internal. */
#ifndef FXI_ACTOR_LINK_H
#define FXI_ACTOR_LINK_H

#include "actor/actor.h"

/* Operations of a process on its own links (owner of self, inside a
 * section; w as for fxi_deliver). Semantics as fx_link / fx_unlink. */
int fxi_link(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid);
int fxi_unlink(fx_vm *vm, fxi_worker *w, fxi_actor *self, fx_pid pid);

#endif
