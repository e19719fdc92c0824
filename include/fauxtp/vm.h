/* fauxtp: the virtual machine: scheduler threads, the process table and
 * the timer wheel. Several VMs may live in one process. */
#ifndef FAUXTP_VM_H
#define FAUXTP_VM_H

#include "report.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2 added trap_faults and the crash logger. A config of version 1 (built
 * against the older header) is still accepted: the new fields take their
 * defaults. */
#define FX_VM_CONFIG_VERSION 2

/* VM configuration. Initialise with fx_vm_config_init, then override
 * fields; zero fields take the defaults below. */
typedef struct fx_vm_config {
    uint32_t version;       /* FX_VM_CONFIG_VERSION */
    uint32_t threads;       /* scheduler threads; 0 = one per online core */
    uint32_t batch;         /* messages per actor run; 0 = 64 */
    uint32_t max_processes; /* process-table size; 0 = 4,194,304 */
    size_t max_msg_size;    /* largest payload; 0 = 64 MiB */
    /* --- version 2 --- */
    /* Turn SIGSEGV, SIGFPE, SIGBUS and SIGILL raised while a handler (or
     * init function) runs on a scheduler thread into that actor's crash,
     * reason {error, FX_EFAULT, "SIGSEGV at 0x..."}. Off by default;
     * outside handlers the signals stay fatal. Installs process-wide
     * signal handlers while such a VM runs, chaining to the previous
     * ones. Read the caveats in docs/failures.md. */
    bool trap_faults;
    /* Receives crash reports; NULL = fx_crash_logger_stderr. */
    fx_crash_logger crash_logger;
    void *crash_logger_arg;
} fx_vm_config;

/* Fills *cfg with the version and defaults. Any thread. */
FX_API void fx_vm_config_init(fx_vm_config *cfg);

/* Creates a VM (threads not started yet). cfg may be NULL for defaults.
 * Errors: FX_EINVAL (NULL out, out-of-range field), FX_EVERSION, FX_ENOMEM,
 * FX_ESYS. Any thread outside a VM. */
FX_API int fx_vm_create(const fx_vm_config *cfg, fx_vm **out);

/* Starts the scheduler threads. Errors: FX_EINVAL (NULL, already started),
 * FX_ESYS (thread creation). Outside the VM only. */
FX_API int fx_vm_start(fx_vm *vm);

/* Orderly shutdown: stops accepting work, kills every live process with
 * reason shutdown (cleanup callbacks run on the calling thread), joins the
 * scheduler threads and frees every queued message. Further calls on the
 * VM fail with FX_ESHUTDOWN. Idempotent. Outside the VM only
 * (FX_ECONTEXT from a scheduler thread). */
FX_API int fx_vm_shutdown(fx_vm *vm);

/* Shuts down if needed and frees the VM. NULL is ignored. Outside the VM
 * only. */
FX_API void fx_vm_destroy(fx_vm *vm);

/* The number of scheduler threads. */
FX_API uint32_t fx_vm_threads(const fx_vm *vm);

/* Counters, for tests, benchmarks and operators. Any thread; values are
 * sums of per-thread counters read without stopping the world. */
typedef struct fx_vm_stats {
    uint64_t processes;        /* live processes (spawned - exited) */
    uint64_t spawned;          /* processes ever spawned */
    uint64_t messages_dropped; /* sent to a dead process */
    uint64_t steals;           /* actors taken from another scheduler */
    uint64_t parks;            /* times a scheduler thread went to sleep */
} fx_vm_stats;
FX_API int fx_vm_stats_get(fx_vm *vm, fx_vm_stats *out);

#ifdef __cplusplus
}
#endif
#endif
