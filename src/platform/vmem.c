#include "platform/vmem.h"

#include <sys/mman.h>

void *fxi_vmem_reserve(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void fxi_vmem_release(void *p, size_t size)
{
    munmap(p, size);
}
