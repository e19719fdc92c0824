/* fauxtp: the VM's control socket and its metrics dump.
 *
 * With fx_vm_config.control_path set, fx_vm_start opens a Unix-domain
 * stream socket at that path and a thread of the VM's own serves a small
 * line protocol on it (`stats`, `ps`, `info`, `metrics`, `quit`;
 * docs/observability.md, "Control socket"); `fauxtp-top` is its client.
 * fx_vm_shutdown closes it and removes the socket file.
 *
 * fx_vm_metrics_text gives the `metrics` answer to programs that serve
 * it themselves (an HTTP endpoint, a push gateway client). */
#ifndef FAUXTP_CONTROL_H
#define FAUXTP_CONTROL_H

#include <stddef.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The VM's totals in the Prometheus text exposition format, version
 * 0.0.4 (metric names fauxtp_*, with HELP and TYPE lines; counters end
 * in _total; the table is in docs/observability.md). Writes at most size
 * bytes into buf (caller-owned; NUL-terminated when size > 0; buf may be
 * NULL when size is 0) and returns the length of the whole text, without
 * the NUL, as snprintf does: a result >= size means it was cut (call
 * again with a bigger buffer; a few KiB always suffice). Values are a
 * snapshot read without stopping the schedulers. Errors: FX_EINVAL (NULL
 * vm; NULL buf with size > 0), FX_ENOMEM, FX_EFORKED (forked child). Any
 * thread, also before fx_vm_start and after fx_vm_shutdown (final
 * counts). */
FX_API int fx_vm_metrics_text(fx_vm *vm, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
