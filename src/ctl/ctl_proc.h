/* The control socket's per-process commands (`ps`, `info`) and `timing`,
 * on the process-info API (include/fauxtp/info.h). */
#ifndef FXI_CTL_PROC_H
#define FXI_CTL_PROC_H

#include <fauxtp/types.h>

#include "ctl/ctl_out.h"

/* ps [--sort queue|runtime|memory|messages] [--top N]: argv are the words
 * after "ps". Writes JSON lines (no terminator). */
void fxi_ctl_ps(fx_vm *vm, int argc, const char *const *argv, fxi_ctl_out *o);
/* info PID|NAME: one JSON line, or an error line. */
void fxi_ctl_info(fx_vm *vm, const char *who, fxi_ctl_out *o);
/* timing on|off: {"timing":true,"was":false}. */
void fxi_ctl_timing(fx_vm *vm, const char *arg, fxi_ctl_out *o);

/* "<1.42.3>" or "1.42.3" (as fx_pid_format prints it) to a pid: 0, or
 * FX_EINVAL when s is not one. */
int fxi_ctl_parse_pid(const char *s, fx_pid *out);

#endif
