/* Reserving address space: large zero-filled regions whose pages cost
 * memory only once touched. Internal. */
#ifndef FXI_PLATFORM_VMEM_H
#define FXI_PLATFORM_VMEM_H

#include <stddef.h>

/* Reserves size bytes of readable, writable, zero-filled memory without
 * committing swap for it (pages are backed on first touch). NULL on
 * failure. Any thread. */
void *fxi_vmem_reserve(size_t size);
/* Releases a region from fxi_vmem_reserve; size as reserved. */
void fxi_vmem_release(void *p, size_t size);

#endif
