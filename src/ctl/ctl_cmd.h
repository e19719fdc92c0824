/* The control socket's commands: one request line in, one response out
 * (docs/observability.md, "Control socket"). Public API only; runs on the
 * control thread (or any thread outside the VM's schedulers). */
#ifndef FXI_CTL_CMD_H
#define FXI_CTL_CMD_H

#include <fauxtp/types.h>
#include <stdbool.h>

#include "ctl/ctl_out.h"

/* The request line without its line end (len bytes; any bytes at all:
 * garbage gets an error line). Writes the whole response into out
 * (fxi_ctl_out_end included). Returns true when the connection should be
 * closed once the response is written (`quit`). */
bool fxi_ctl_exec(fx_vm *vm, const char *line, size_t len, fxi_ctl_out *out);

#endif
