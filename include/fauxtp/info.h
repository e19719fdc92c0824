/* fauxtp: looking into a running VM: process info (Erlang's
 * process_info), a snapshot iterator over every process, per-scheduler
 * statistics, and the switch for handler timing (Erlang's
 * scheduler_wall_time). docs/observability.md, "Process info and
 * statistics".
 *
 * Everything here is read without stopping anyone: per-process counters
 * are written only by the thread running the process and read with
 * relaxed loads, so each answer is a snapshot whose fields were read at
 * slightly different moments (exact for a process that is not running
 * and has no sends in flight towards it). Nothing here takes a lock the
 * message path takes. */
#ifndef FAUXTP_INFO_H
#define FAUXTP_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "export.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a process is doing at the moment it is looked at. */
typedef enum fx_proc_status {
    /* A scheduler thread is inside one of its handler calls (or its init
     * function): also a process blocked or looping in a handler. */
    FX_PROC_RUNNING = 0,
    /* Scheduled, or has messages (or signals) to handle, but no thread is
     * inside its handler right now. */
    FX_PROC_RUNNABLE = 1,
    /* Asleep: its mailbox is empty (a selective receive may hold set-aside
     * messages) and it runs again when a message arrives. */
    FX_PROC_WAITING = 2,
    /* Its exit has begun: the pid is already stale (sends to it are
     * dropped, fx_process_info answers FX_ENOPROC), but its record is not
     * freed yet. Seen only by fx_vm_processes. */
    FX_PROC_EXITING = 3,
} fx_proc_status;

/* fx_proc_info.version: the layout below. Later versions only append
 * fields. */
#define FX_PROC_INFO_VERSION 1
/* Buffer sizes (NUL included) of the text fields; longer text is cut. */
#define FX_PROC_LABEL_MAX 48
#define FX_PROC_NAME_MAX 64 /* = FX_NAME_MAX (registry.h) */
#define FX_PROC_HANDLER_MAX 64

/* One process, copied out: no pointer into the VM, so it may be kept and
 * read on any thread after the call. */
typedef struct fx_proc_info {
    /* In: the layout the caller was built with (FX_PROC_INFO_VERSION, or
     * 0 for version 1); fields of later versions are left alone. Out:
     * the version filled. */
    uint32_t version;
    fx_proc_status status;
    fx_pid pid;
    /* The process that spawned it, from inside a handler (for a
     * supervised child: its supervisor, or the process its start function
     * ran in). Recorded for processes spawned with a label, an init or
     * cleanup function, a link or a monitor (every GenServer, supervisor
     * and task); FX_PID_NONE otherwise, and for processes spawned from
     * outside the VM. */
    fx_pid parent;
    /* fx_spawn_opts.label ("" if none). */
    char label[FX_PROC_LABEL_MAX];
    /* Its registered name (registry.h), "" if none. */
    char name[FX_PROC_NAME_MAX];
    /* The current handler (the init function before it has run) as a
     * symbol name found by dladdr, "0x..." (its address) when the symbol
     * is not exported (build with -rdynamic, or make it non-static, to
     * see the name); "" for an exiting process. */
    char handler[FX_PROC_HANDLER_MAX];
    /* Messages and signals queued: delivered to the mailbox and not yet
     * taken out, plus saved_len. Exact when the process is not running
     * and no send to it is in flight. */
    uint64_t queue_len;
    /* Of queue_len: messages a selective receive took out and set aside
     * (they are handled once a receive matches them). */
    uint64_t saved_len;
    /* Handler calls made with a message (init calls not counted). */
    uint64_t handled;
    /* Nanoseconds spent in its runs (handler calls and the runtime's work
     * between them) while handler timing was on (fx_vm_set_timing); 0 if
     * timing was never on in its life. */
    uint64_t runtime_ns;
    /* Bytes it holds, approximately: its record and inline state
     * (fx_spawn_opts.state_size), its extension record and link/monitor
     * tables, and queue_len times the smallest message block. State it
     * points to (fx_spawn_opts.state without state_size) and the payload
     * bytes of queued messages are not counted. */
    uint64_t memory;
    /* The mailbox limit (fx_spawn_opts.mailbox.max), 0 = unbounded. */
    uint64_t mailbox_max;
    uint32_t links;        /* processes it is linked to */
    uint32_t monitors;     /* monitors it holds on other processes */
    uint32_t monitored_by; /* monitors other processes hold on it */
    /* The scheduler thread running it (0-based, fx_vm_sched_stats) while
     * RUNNING; UINT32_MAX otherwise. */
    uint32_t scheduler;
    bool trap_exit; /* fx_trap_exit is on */
} fx_proc_info;

/* Fills *out with a snapshot of process pid (see the top of this file).
 * Set out->version first (FX_PROC_INFO_VERSION; 0 reads as 1). Errors:
 * FX_EINVAL (NULL vm or out, out->version above FX_PROC_INFO_VERSION),
 * FX_ENOPROC (pid is not a live process of vm: dead, exiting, of another
 * VM, or an inbox), FX_ESHUTDOWN (vm not running), FX_EFORKED (forked
 * child). Any thread, inside a handler too; lock-free (the registered
 * name is read from the registry's lock-free table, which may answer
 * FX_ENOMEM the first time a thread reads it). */
FX_API int fx_process_info(fx_vm *vm, fx_pid pid, fx_proc_info *out);

/* Called by fx_vm_processes for each process: info is borrowed for the
 * call (copy what you keep). Return 0 to go on, anything else to stop. */
typedef int (*fx_proc_visit_fn)(void *arg, const fx_proc_info *info);

/* Calls fn for every process of vm (inboxes excepted), in process-table
 * order, on the calling thread. Each process is read as fx_process_info
 * reads it, one at a time: a process that lives through the whole call
 * is visited exactly once; one spawned or exited during the call may or
 * may not be; processes whose exit has begun appear with status
 * FX_PROC_EXITING. It is not one instant's picture of the VM, and it
 * holds nothing back meanwhile (no lock, no stopped thread; fn may send,
 * spawn and call fx_process_info). Returns the number of processes
 * visited, or fn's non-zero value if fn stopped the walk (as an int,
 * whatever its sign), or FX_EINVAL (NULL vm or fn), FX_ESHUTDOWN,
 * FX_EFORKED, FX_ENOMEM (reading the names). Any thread; from inside a
 * handler the walk delays the reclamation of exited processes on that
 * thread until the handler returns. */
FX_API int fx_vm_processes(fx_vm *vm, fx_proc_visit_fn fn, void *arg);

/* --- Handler timing --------------------------------------------------------
 *
 * Reading the clock costs about as much as a message on some machines,
 * so timing is off by default (as Erlang's scheduler_wall_time). While
 * on, every scheduler thread reads the monotonic clock twice per actor
 * run (a run handles up to the config's batch of messages) and around
 * each sleep: fx_proc_info.runtime_ns and the busy/parked times of
 * fx_sched_stats grow. Switching it off keeps the totals. */

/* Turns timing on (on = true) or off. Returns the previous setting (1 on,
 * 0 off), or FX_EINVAL (NULL vm), FX_ENOMEM (the first time on: the
 * per-process time table, address space only), FX_EFORKED. Any
 * thread; takes effect within each thread's current run. */
FX_API int fx_vm_set_timing(fx_vm *vm, bool on);

/* --- Per-scheduler statistics ---------------------------------------------- */

#define FX_SCHED_STATS_VERSION 1

/* One scheduler thread slot: the configured threads come first, then the
 * watchdog's spare slots (docs/watchdog.md). Counters count from
 * fx_vm_start; times only while timing was on. */
typedef struct fx_sched_stats {
    /* In/out, as fx_proc_info.version. */
    uint32_t version;
    uint32_t index;
    bool spare;   /* a slot for spare threads */
    bool running; /* its thread is in its loop (spares come and go; a
                     thread just started may not be there yet) */
    /* Runnable processes waiting in this thread's run queue (a snapshot;
     * its next and held slots are not counted). */
    uint64_t run_queue;
    uint64_t runs;          /* actor runs (each up to `batch` messages) */
    uint64_t steals;        /* actors taken from other threads */
    uint64_t parks;         /* times it went to sleep */
    uint64_t messages_sent; /* sends from handlers on this thread */
    uint64_t busy_ns;       /* inside actor runs (timing on) */
    uint64_t parked_ns;     /* asleep (timing on); the rest is searching */
} fx_sched_stats;

/* Fills *out for scheduler slot idx (0 <= idx < fx_vm_sched_count).
 * Set out->version first (as fx_proc_info). Errors: FX_EINVAL (NULL,
 * bad version), FX_ENOENT (idx out of range), FX_EFORKED. Any thread. */
FX_API int fx_vm_sched_stats(fx_vm *vm, uint32_t idx, fx_sched_stats *out);

/* The number of scheduler slots (threads + spare slots); 0 for NULL. Any
 * thread. */
FX_API uint32_t fx_vm_sched_count(const fx_vm *vm);

/* --- For supervisors -------------------------------------------------------- */

/* Counts one child restart in fx_vm_stats.restarts. fauxtp's supervisors
 * call it each time they decide to restart a child (the events OTP's
 * restart intensity counts: a group restart of one_for_all counts once, a
 * retried failed restart again); so should your own restarting
 * behaviours. 0, FX_EINVAL (NULL),
 * FX_EFORKED. Any thread. */
FX_API int fx_vm_count_restart(fx_vm *vm);

#ifdef __cplusplus
}
#endif
#endif
