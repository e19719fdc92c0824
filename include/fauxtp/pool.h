/* fauxtp: the blocking pool, plain threads for work that must not run on
 * a scheduler thread (files, DNS, database clients, long computations).
 *
 * A job is a function run to completion on a pool thread; when it returns,
 * its outcome comes back to a process (or inbox) as one FX_MSG_POOL_DONE
 * message. The queue is bounded: when it is full, fx_pool_submit answers
 * FX_EAGAIN at once instead of growing. Threads are started on demand up
 * to the VM config's pool_max_threads; those beyond pool_min_threads exit
 * after pool_idle_ms without a job (fx_vm_config).
 * Most code uses the pool through tasks (<fauxtp/task.h>), which add
 * await, cancel, links and monitors; see docs/tasks.md.
 *
 * Pool threads are not scheduler threads (fx_vm_on_scheduler answers 0
 * there). A job may call what a thread outside the VM may call: the
 * fx_vm_* sends, spawns, exits and timers, fx_msg_*, fx_is_alive, inbox
 * functions, the blocking fx_gen_server_call, and fx_pool_submit. It must
 * never call fx_vm_shutdown or fx_vm_destroy (the shutdown waits for the
 * running jobs: the job would wait for itself). Pool threads start with
 * every asynchronous signal blocked, whatever the submitter's mask (a job
 * that needs one unblocks it itself; docs/tasks.md). */
#ifndef FAUXTP_POOL_H
#define FAUXTP_POOL_H

#include "msg.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The function a job (or a task, <fauxtp/task.h>) runs. It returns 0 on
 * success or any non-zero code of the application's for a failure (the
 * code is reported, nothing crashes). It may set *result to a message it
 * built with fx_msg_new (any type, its payload the result): the runtime
 * takes it, copies its type and payload into the outcome and frees it,
 * also when the function failed. *result is NULL on entry. */
typedef int (*fx_work_fn)(void *arg, fx_msg **result);

/* Header of an outcome: the payload of FX_MSG_POOL_DONE, and of a task's
 * result (<fauxtp/task.h>), followed by `size` bytes of result payload. */
typedef struct fx_outcome {
    fx_ref ref;     /* the job's ref (fx_pool_job.ref) */
    int32_t status; /* the function's return value; FX_ESHUTDOWN: the job
                       was cancelled by VM shutdown and never ran */
    uint32_t type;  /* the result message's type, 0 without one */
    uint64_t size;  /* bytes of result payload after this header */
} fx_outcome;

/* A job's outcome, sent to fx_pool_job.reply_to with the job's ref as the
 * message's ref and sender FX_PID_NONE. Decode with fx_outcome_get. */
#define FX_MSG_POOL_DONE (FX_MSG_BEHAVIOUR_BASE + 0x300u)

/* The result type of a job that crashed: a hardware fault in its fn or
 * done (only when the VM config's trap_faults is on; otherwise a fault
 * stays fatal) gives status FX_EFAULT, fx_crash(NULL, ...) status
 * FX_ECRASHED; the result payload is the NUL-terminated text
 * ("SIGSEGV at 0x10", or fx_crash's formatted text). The pool thread
 * stays usable; a result message fn had built is dropped (not freed). A
 * blocking task whose job crashed exits with reason {error, status,
 * text} (<fauxtp/task.h>). See docs/tasks.md, "Crashing jobs". */
#define FX_MSG_POOL_CRASH (FX_MSG_BEHAVIOUR_BASE + 0x301u)

/* A job to submit. Zero-initialise, then set the fields. */
typedef struct fx_pool_job {
    fx_work_fn fn; /* required */
    void *arg;     /* borrowed until `done` runs; see done */
    /* Optional: called exactly once for every accepted job, on a pool
     * thread after fn returned, or on the shutting-down thread for a job
     * that never ran (VM shutdown cancelled it): the place to free arg.
     * Not called when fx_pool_submit fails: arg is then still the
     * caller's. */
    void (*done)(void *arg);
    fx_pid reply_to; /* gets FX_MSG_POOL_DONE; FX_PID_NONE: no message */
    fx_ref ref;      /* copied into the outcome; any value */
} fx_pool_job;

/* Queues *job (copied) on vm's pool, starting a pool thread when none is
 * idle and fewer than pool_max_threads run. Returns 0 once queued: the
 * job runs (or is cancelled by shutdown) and reply_to hears of it exactly
 * once, unless reply_to is dead by then (the outcome is dropped, as any
 * message to a dead process). Errors: FX_EINVAL (NULL vm or job, no fn),
 * FX_EAGAIN (the queue holds pool_queue jobs: counted as rejected),
 * FX_ESHUTDOWN (the VM is not running, or its shutdown has begun),
 * FX_ENOMEM, FX_EFORKED (forked child), FX_ESYS (no pool thread runs and
 * none could be started: the job was not queued). Any thread, a handler
 * included (it never blocks on the queue). */
FX_API int fx_pool_submit(fx_vm *vm, const fx_pool_job *job);

/* Counters of vm's pool. */
typedef struct fx_pool_stats {
    uint64_t threads;   /* pool threads alive now */
    uint64_t idle;      /* of which waiting for a job */
    uint64_t queued;    /* jobs waiting in the queue now */
    uint64_t running;   /* jobs running now */
    uint64_t completed; /* jobs whose fn returned (failed ones included) */
    uint64_t failed;    /* of which fn returned non-zero */
    uint64_t rejected;  /* submissions refused with FX_EAGAIN */
    uint64_t cancelled; /* queued jobs dropped by VM shutdown */
    uint64_t crashed;   /* of completed: crashed (FX_MSG_POOL_CRASH) */
    /* Jobs in Linux's SCHED_IDLE class (pool_nice FX_POOL_NICE_IDLE, the
     * default) the starvation guard found starving (runnable but hardly
     * run for 200 ms): each was raised to the normal class, or, without
     * the privilege, made the pool avoid SCHED_IDLE for 10 s
     * (docs/tasks.md, "Priority"). */
    uint64_t starved;
} fx_pool_stats;

/* Fills *out (all zero if the pool never started). Also after shutdown:
 * the final counts. Errors: FX_EINVAL (NULL vm or out), FX_EFORKED. Any
 * thread. */
FX_API int fx_pool_stats_get(fx_vm *vm, fx_pool_stats *out);

/* Decodes an outcome message (FX_MSG_POOL_DONE, or a task result:
 * FX_MSG_REPLY carrying an fx_outcome). *hdr (may be NULL) gets the
 * header; *data (may be NULL) points at the result payload inside msg
 * (borrowed: valid while msg is). Errors: FX_EINVAL (NULL msg, another
 * type, a payload too short for its header). Any thread holding msg. */
FX_API int fx_outcome_get(const fx_msg *msg, fx_outcome *hdr, const void **data);

#ifdef __cplusplus
}
#endif
#endif
