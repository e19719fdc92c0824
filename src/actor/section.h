/* QSBR sections for threads outside the VM: the entry every public
 * function that may run on any thread goes through before it looks up a
 * pid. Internal. */
#ifndef FXI_ACTOR_SECTION_H
#define FXI_ACTOR_SECTION_H

#include "actor/vm.h"

/* Runs an operation from any thread inside a QSBR section: on a
 * scheduler thread directly, elsewhere inside an external section, after
 * checking that the VM runs. */
typedef struct fxi_section {
    fxi_worker *w;
    uint32_t ext; /* external record, when w is NULL */
} fxi_section;
int fxi_section_enter(fx_vm *vm, fxi_section *sec);
void fxi_section_exit(fx_vm *vm, fxi_section *sec);

#endif
