/* QSBR sections for threads outside the VM. */
#include "actor/section.h"

#include <fauxtp/error.h>

int fxi_section_enter(fx_vm *vm, fxi_section *sec)
{
    sec->w = NULL;
    sec->ext = 0;
    /* First: a child forked from a handler inherits the thread's worker
     * pointer, but not the VM's other threads. */
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    sec->w = fxi_vm_worker(vm);
    if (sec->w)
        return 0; /* scheduler threads are always inside a section */
    sec->ext = fxi_qsbr_ext_enter(&vm->qsbr);
    /* Checked inside the section: shutdown waits for open sections. The
     * seq_cst fence in come_online (after the record claim) orders the
     * claim before this load; pairs with fx_vm_shutdown's fence. */
    if (!fxi_vm_running(vm)) {
        fxi_qsbr_ext_exit(&vm->qsbr, sec->ext);
        return FX_ESHUTDOWN;
    }
    return 0;
}

void fxi_section_exit(fx_vm *vm, fxi_section *sec)
{
    if (!sec->w)
        fxi_qsbr_ext_exit(&vm->qsbr, sec->ext);
}
