/* The per-VM kernel state of src/otp: attached to the VM with
 * fx_vm_attach on first use, it holds the registry's published tables,
 * the ck_epoch domain that protects them, and what is needed to start
 * the registry lazily and to wait for it.
 *
 * Threads: readers (whereis and friends) on any thread; the writer is the
 * registry process, on whichever scheduler thread runs it.
 *
 * Lock order: kernel mutex (k->mx), then the process-wide epoch lock
 * (kernel_epoch.c). Neither is held while a process is waited for. */
#ifndef FXI_OTP_KERNEL_H
#define FXI_OTP_KERNEL_H

#include <ck_epoch.h>
#include <fauxtp/actor.h>
#include <fauxtp/inbox.h>
#include <fauxtp/supervisor.h>
#include <fauxtp/vm.h>
#include <pthread.h>

#include "otp/reg_impl.h"
#include "platform/mutex.h"
#include "platform/atomic.h"

typedef struct fxi_reg_tables fxi_reg_tables; /* reg_table.h */
typedef struct fxi_epoch_rec fxi_epoch_rec;   /* kernel_epoch.c */
typedef struct fxi_waiter fxi_waiter;         /* kernel.c */

typedef struct fxi_kernel {
    /* immutable after creation */
    fx_vm *vm;
    uint64_t id; /* process-wide unique, never reused: keys per-thread caches */
    /* atomic */
    fxi_reg_tables *tables; /* published by the running registry, or NULL */
    uint64_t reg_pid;       /* its pid (fx_pid.id), 0 when none */
    uint64_t sup_pid;       /* the kernel supervisor's, 0 when none */
    uint64_t next_ref;      /* refs of READY notifications */
    /* ck_epoch: readers' and writers' records (kernel_epoch.c) */
    ck_epoch_t epoch;
    fxi_epoch_rec *recs;          /* every record ever allocated; under the epoch lock */
    struct fxi_kernel *next_live; /* under the epoch lock: live kernels */
    /* under mx */
    fxi_mutex mx;
    fxi_waiter *waiters; /* who waits for a registry to run */
    bool starting;       /* a start is in flight */
    bool stopping;       /* the VM shuts down: no more starts */
} fxi_kernel;

/* ---- kernel.c ---------------------------------------------------------------- */

/* vm's kernel state, or NULL when nothing created it yet. Any thread. */
fxi_kernel *fxi_kernel_find(fx_vm *vm);
/* The same, created on first use. FX_EINVAL, FX_ENOMEM, FX_ESHUTDOWN. */
int fxi_kernel_get(fx_vm *vm, fxi_kernel **out);

/* The pid of the running registry, live at the time of the check, or
 * FX_PID_NONE. Any thread (fx_is_alive outside the VM costs a section). */
fx_pid fxi_kernel_registry(fxi_kernel *k);

/* Blocking, outside the VM: a running registry's pid, starting one and
 * waiting for it (up to timeout_ms) if needed. FX_ETIMEDOUT,
 * FX_ESHUTDOWN, the start's error. The inbox's owner thread. */
int fxi_kernel_registry_wait(fxi_kernel *k, fx_inbox *inbox, int64_t timeout_ms,
                             fx_pid *out);

/* Inside a handler: like fxi_kernel_registry_wait without blocking. The
 * returned continuation calls next(cx, m) once, with an FXI_REG_READY
 * message carrying the outcome and a copy of blob (size bytes), which
 * next decodes with fxi_kernel_ready. A registry already running is
 * reported too (through the mailbox). */
fx_next fxi_kernel_registry_async(fxi_kernel *k, fx_ctx *cx, const void *blob,
                                  size_t size, int64_t timeout_ms, fx_handler next);
/* Decodes READY: 0 with *reg, or the error; *blob points into m. */
int fxi_kernel_ready(const fx_msg *m, fx_pid *reg, const void **blob, size_t *size);

/* The registry's side (registry_server.c). */
/* Publishes a new registry's tables (its pid inside) and tells the
 * waiters. FX_ESHUTDOWN when the VM is stopping (not published). From
 * the registry's init. */
int fxi_kernel_publish(fxi_kernel *k, fxi_reg_tables *t, fx_pid pid);
/* Withdraws t if it is still the published one. From its terminate. */
void fxi_kernel_unpublish(fxi_kernel *k, fxi_reg_tables *t);
/* A start failed: the waiters get rc, the next user starts again. */
void fxi_kernel_start_failed(fxi_kernel *k, int rc);

/* ---- kernel_epoch.c: epoch records ------------------------------------------ */

/* The calling thread's read record for k (cached per thread), or NULL
 * (no memory). Any thread. */
ck_epoch_record_t *fxi_kernel_reader(fxi_kernel *k);

/* A record for a registry instance (the single writer), or NULL. */
ck_epoch_record_t *fxi_kernel_writer(fxi_kernel *k);
/* Gives it back; its deferred frees must have run (ck_epoch_barrier). */
void fxi_kernel_writer_release(fxi_kernel *k, ck_epoch_record_t *r);

/* Kernel lifetime (kernel.c calls these). */
void fxi_kernel_epoch_init(fxi_kernel *k); /* registers k as live */
void fxi_kernel_epoch_fini(fxi_kernel *k); /* unregisters, frees records */

/* ThreadSanitizer cannot see inside libck (ck_epoch, ck_hs): these mark
 * the orderings it provides. No-ops in other builds. */
#if defined(__SANITIZE_THREAD__)
#define FXI_OTP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FXI_OTP_TSAN 1
#endif
#endif
#ifdef FXI_OTP_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define fxi_tsan_acquire(p) __tsan_acquire((void *) (p))
#define fxi_tsan_release(p) __tsan_release((void *) (p))
#else
#define fxi_tsan_acquire(p) ((void) 0)
#define fxi_tsan_release(p) ((void) 0)
#endif
/* Readers release it when they leave a section; deferred frees acquire
 * it before freeing (one address for every kernel, TSan builds only). */
extern char fxi_epoch_tsan_sync;

/* A read section on r (r from fxi_kernel_reader, on the same thread).
 * Sections nest. Never block, wait or crash inside one: the registry
 * cannot free what it removed while any section that began before the
 * removal is open. */
static inline void fxi_kernel_read_begin(ck_epoch_record_t *r)
{
    /* Publishes r as active (with a full fence inside ck_epoch_begin)
     * before the section's loads of the tables. */
    ck_epoch_begin(r, NULL);
}

static inline void fxi_kernel_read_end(ck_epoch_record_t *r)
{
    fxi_tsan_release(&fxi_epoch_tsan_sync);
    /* ck_epoch_end's release fence orders the section's loads before
     * the store that marks r inactive, which the writer's scan reads. */
    ck_epoch_end(r, NULL);
}

#endif
