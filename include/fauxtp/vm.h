/* fauxtp: the virtual machine: scheduler threads, the process table and
 * the timer wheel. Several VMs may live in one process.
 *
 * fork(): a VM belongs to the process that created it. In a child forked
 * from that process (which has the VM's memory but none of its threads)
 * every function that takes the VM or one of its inboxes and would need
 * its threads answers FX_EFORKED: the fx_vm_* functions below and in
 * actor.h and timer.h, the fx_inbox_* functions, and the calls built on
 * them (GenServer calls, supervisor and registry functions).
 * fx_is_alive answers 0; fx_vm_destroy and fx_inbox_destroy do nothing
 * (fx_inbox_destroy answers FX_EFORKED);
 * fx_vm_threads, fx_vm_max_msg_size and fx_vm_attached read the child's
 * copy. A VM the child creates itself is the child's and works normally.
 * The check is one load of a process-wide fork generation, bumped by a
 * pthread_atfork child handler (docs/failures.md, "fork"). */
#ifndef FAUXTP_VM_H
#define FAUXTP_VM_H

#include "log.h"
#include "report.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2 added trap_faults and the crash logger, 3 the watchdog, the
 * shutdown deadline, the blocking pool and muting. A config of an older
 * version (built against an older header) is still accepted: the newer
 * fields take their defaults. */
#define FX_VM_CONFIG_VERSION 3

/* fx_vm_config.stuck_ms: no watchdog (no stuck reports, no spare
 * threads, no hand-over of a stuck thread's next slot). */
#define FX_WATCHDOG_OFF UINT32_MAX
/* fx_vm_config.spare_threads: never start a spare scheduler thread. */
#define FX_SPARE_NONE UINT32_MAX
/* fx_vm_config.io_spin_us: no poll-spin before parking. */
#define FX_IO_SPIN_OFF UINT32_MAX
/* fx_vm_config.io_spin_us's default, in microseconds. Only events on
 * sockets with fx_net_opts.busy_poll (distribution connections) start a
 * spin; a spin that finds its thread descheduled backs off for 200 ms
 * (docs/net.md, "The poller"). */
#define FX_IO_SPIN_DEFAULT_US 30u
/* fx_vm_config.shutdown_timeout_ms: fx_vm_shutdown waits for running
 * handlers without a deadline (the behaviour of config version 2). */
#define FX_SHUTDOWN_WAIT_FOREVER UINT32_MAX
/* fx_vm_config.pool_nice: pool threads run in Linux's SCHED_IDLE class,
 * below nice 19, with a starvation guard (the default; docs/tasks.md,
 * "Priority"). */
#define FX_POOL_NICE_IDLE 20
/* fx_vm_config.mute: muting backpressure (docs/overload.md). */
enum { FX_MUTE_DEFAULT = 0, FX_MUTE_ON = 1, FX_MUTE_OFF = 2 };

/* VM configuration. Initialise with fx_vm_config_init, then override
 * fields; zero fields take the defaults below. */
typedef struct fx_vm_config {
    uint32_t version; /* FX_VM_CONFIG_VERSION */
    uint32_t threads; /* scheduler threads; 0 = one per online core */
    uint32_t batch;   /* messages per actor run; 0 = 64 */
    /* Live processes (inboxes included); 0 = 4,194,304. At most
     * 15,728,640 - 1,024 x threads (a pid's 24-bit index also names the
     * free slots threads keep and slots in their grace period), else
     * fx_vm_create answers FX_EINVAL. */
    uint32_t max_processes;
    size_t max_msg_size; /* largest payload; 0 = 64 MiB */
    /* --- version 2 --- */
    /* Turn SIGSEGV, SIGFPE, SIGBUS and SIGILL raised while a handler (or
     * init function) runs on a scheduler thread into that actor's crash,
     * reason {error, FX_EFAULT, "SIGSEGV at 0x..."}. Off by default;
     * outside handlers the signals stay fatal. Installs process-wide
     * signal handlers while such a VM runs, chaining to the previous
     * ones. Read the caveats in docs/failures.md. */
    bool trap_faults;
    /* Receives crash and stuck reports; NULL = they go to the log sink
     * (log_sink below; report.h says how the two relate). */
    fx_crash_logger crash_logger;
    void *crash_logger_arg;
    /* --- version 3: watchdog and bounded shutdown (docs/watchdog.md) --- */
    /* A handler call (or init function) running longer than this is
     * "stuck": it is reported once to crash_logger (report kind
     * FX_REPORT_STUCK), counted in fx_vm_stats.stuck, and the rest of the
     * VM keeps serving without its thread. 0 = 100 ms; FX_WATCHDOG_OFF
     * turns the watchdog off. At most 3,600,000 (one hour). */
    uint32_t stuck_ms;
    /* Scheduler threads the watchdog may start while every scheduler
     * thread is stuck, each retiring when a stuck handler returns.
     * 0 = as many as `threads`; FX_SPARE_NONE = none. At most 1023 in all
     * with `threads`. */
    uint32_t spare_threads;
    /* How long fx_vm_shutdown waits for the scheduler threads to leave
     * their handlers before it answers FX_ESTUCK. 0 = 5000 ms;
     * FX_SHUTDOWN_WAIT_FOREVER waits without a deadline. */
    uint32_t shutdown_timeout_ms;

    /* --- version 3: blocking pool (include/fauxtp/pool.h) --- */
    /* Pool threads kept from fx_vm_start on; 0 = none (threads start on
     * the first submission). At most pool_max_threads. */
    uint32_t pool_min_threads;
    /* Cap on pool threads, grown on demand; 0 = 8. At most 1024. */
    uint32_t pool_max_threads;
    /* Jobs queued (not yet running) before fx_pool_submit answers
     * FX_EAGAIN; 0 = 1024. At most 1,048,576. */
    uint32_t pool_queue;
    /* Pool threads' CPU priority, so jobs yield the cores to the
     * schedulers: 0 = FX_POOL_NICE_IDLE = Linux's SCHED_IDLE class (a
     * waking scheduler thread preempts a job at once) with a starvation
     * guard (a job that hardly runs for 200 ms while runnable is raised
     * to nice 10, or, without CAP_SYS_NICE, the pool avoids the class
     * for 10 s); 1..19 = that much nicer than the thread that started
     * them (capped at nice 19), no guard; -1 = same priority. Best
     * effort. Trade-offs: docs/tasks.md, "Priority". */
    int32_t pool_nice;

    /* --- version 3: overload --- */
    /* Muting backpressure (docs/overload.md): an actor that sent to a
     * process whose queue is longer than mute_high is descheduled after
     * its handler call until that queue is shorter than mute_low.
     * FX_MUTE_DEFAULT (0) = on. Any other value is FX_EINVAL. */
    uint32_t mute;
    uint32_t mute_high; /* 0 = 8192 messages */
    uint32_t mute_low;  /* 0 = mute_high / 2; must be < mute_high */

    /* --- version 3: logger (include/fauxtp/log.h) --- */
    /* Where log events go; NULL = fx_log_sink_stderr. */
    fx_log_sink log_sink;
    void *log_sink_arg;
    /* Threshold: FX_LOG_EMERGENCY..FX_LOG_DEBUG or FX_LOG_OFF; 0 =
     * FX_LOG_NOTICE. Anything else is FX_EINVAL. */
    int32_t log_level;
    /* Rate limit: events per second (0 = 500; FX_LOG_UNLIMITED = none),
     * in bursts of up to log_burst (0 = 500, at most 1,000,000). */
    uint32_t log_rate;
    uint32_t log_burst;
    /* --- version 3: deterministic mode --- */
    /* One scheduler slot and no scheduler, watchdog or pool thread: the
     * test thread runs the actors with fx_test_step and friends, picking
     * among runnable ones with a PRNG seeded by `seed`, and timers follow
     * a manual clock (fx_test_advance). threads must be 0 or 1; the
     * watchdog is off; batch 0 means 1. See include/fauxtp/testing.h and
     * docs/testing.md. */
    bool deterministic;
    uint64_t seed; /* any value, 0 included */
    /* --- version 3: control socket --- */
    /* Path of the VM's control socket (include/fauxtp/control.h,
     * docs/observability.md): a Unix-domain stream socket, mode 0600,
     * opened by fx_vm_start and served by a thread of the VM's own until
     * fx_vm_shutdown, which removes the file. NULL = none. Borrowed: the
     * string is copied by fx_vm_create. 1..107 bytes (what sun_path
     * holds), else fx_vm_create answers FX_EINVAL. A stale socket file
     * (nothing listening) is replaced; fx_vm_start answers FX_EADDR when
     * a live server answers at the path, FX_EEXIST when the path is not
     * a socket (it is left alone), FX_ESYS for other failures. */
    const char *control_path;
    /* --- version 3: blocking pool (idle threads exit) --- */
    /* A pool thread beyond pool_min_threads that has waited this long
     * for a job exits (docs/tasks.md). 0 = 10,000 ms; at most 3,600,000. */
    uint32_t pool_idle_ms;
    /* --- version 3: poll-spin before parking (docs/net.md, "The poller") --- */
    /* A scheduler thread about to sleep in the poller after events on a
     * busy-poll socket (fx_net_opts.busy_poll) within 2 ms first polls
     * (epoll_wait with no timeout) for up to this many microseconds, so
     * a reply that comes within it is taken without a sleep and a
     * wake-up; the spin halves each time it finds nothing and comes back
     * in full when a sleep ends with events soon after. No such I/O, no
     * spin: an idle VM still sleeps at once.
     * 0 = FX_IO_SPIN_DEFAULT_US (30); FX_IO_SPIN_OFF = never;
     * at most 1000. */
    uint32_t io_spin_us;
} fx_vm_config;

/* Fills *cfg with the version and defaults; NULL is ignored. Any thread. */
FX_API void fx_vm_config_init(fx_vm_config *cfg);

/* Creates a VM (threads not started yet). cfg may be NULL for defaults.
 * Errors: FX_EINVAL (NULL out, out-of-range field), FX_EVERSION, FX_ENOMEM,
 * FX_ESYS. Any thread outside a VM. */
FX_API int fx_vm_create(const fx_vm_config *cfg, fx_vm **out);

/* Starts the scheduler threads. Errors: FX_EINVAL (NULL, already started),
 * FX_ESHUTDOWN (fx_vm_shutdown was called: a VM does not start again),
 * FX_ESYS (thread creation), FX_EFORKED (forked child). Outside the VM
 * only. */
FX_API int fx_vm_start(fx_vm *vm);

/* Orderly shutdown: stops accepting work, kills every live process with
 * reason shutdown (cleanup callbacks run on the calling thread), joins the
 * scheduler threads and frees every queued message. Further calls on the
 * VM fail with FX_ESHUTDOWN. Idempotent and thread-safe: a call while
 * another thread is shutting the VM down waits until that shutdown has
 * finished, then returns 0, as does any call after it. Errors:
 * FX_EINVAL (NULL), FX_ECONTEXT on one of vm's scheduler threads (a
 * handler), FX_ESHUTDOWN when called from inside the shutdown itself (a
 * stop hook or a cleanup callback on the shutting-down thread),
 * FX_EFORKED in a forked child (see the top of this file), FX_ESTUCK
 * (below). Outside the VM only.
 *
 * Bounded (config shutdown_timeout_ms, default 5 s, counted from the
 * call; stop hooks are not cut short, but the built-in ones wait only
 * until the deadline and yours can ask fx_vm_shutdown_time_left): if a
 * scheduler thread is still inside a handler call, or a blocking-pool
 * job still runs, at the deadline, each such process (or job) is
 * reported to crash_logger (kind FX_REPORT_STUCK_AT_SHUTDOWN) and the
 * call returns FX_ESTUCK having joined the other threads and freed
 * nothing: the VM
 * stays allocated and stopping (calls on it answer FX_ESHUTDOWN,
 * fx_vm_running 0). The next fx_vm_shutdown or fx_vm_destroy resumes:
 * it waits once more, up to the same timeout, and completes (0) if the
 * handlers and jobs have returned, else answers FX_ESTUCK again (fx_vm_destroy
 * then frees nothing, as documented there). docs/watchdog.md. */
FX_API int fx_vm_shutdown(fx_vm *vm);

/* How long the running fx_vm_shutdown has left before its deadline
 * (shutdown_timeout_ms from the call), for stop hooks (fx_vm_hooks.stop)
 * and other code that waits while the VM shuts down: a hook is not cut
 * short by the deadline, so it should bound its own waits with this.
 * *ms gets the milliseconds left (rounded up; 0 once passed), or
 * FX_INFINITY when shutdown_timeout_ms is FX_SHUTDOWN_WAIT_FOREVER. After
 * the shutdown it keeps answering about that (last) shutdown's deadline.
 * Errors: FX_EINVAL (NULL vm or ms), FX_ENOENT (no fx_vm_shutdown has
 * begun), FX_EFORKED (forked child). Any thread. */
FX_API int fx_vm_shutdown_time_left(fx_vm *vm, int64_t *ms);

/* Shuts down if needed (as fx_vm_shutdown: an in-progress shutdown on
 * another thread is waited for) and frees the VM. NULL is ignored.
 * Outside the VM only: where fx_vm_shutdown would fail (on one of vm's
 * scheduler threads, or inside a stop hook or cleanup callback of its
 * shutdown) it does nothing and the VM stays valid. Where fx_vm_shutdown
 * answers FX_ESTUCK (a handler still runs at the deadline) it frees
 * nothing either, and the VM and all it holds are leaked for good if no
 * later call is made (the stuck thread may touch any of it; see
 * docs/watchdog.md). Once it has returned,
 * no other thread may use vm. In a forked child it returns at once and
 * frees nothing: the VM's threads and locks are the parent's, so neither
 * joining nor freeing is safe; the memory is the child's copy and goes
 * with its exit or exec. */
FX_API void fx_vm_destroy(fx_vm *vm);

/* 1 while vm runs: started, and no fx_vm_shutdown has got past its stop
 * hooks (they still see 1); 0 before fx_vm_start and from then on, when
 * calls on the VM answer FX_ESHUTDOWN. FX_EINVAL for NULL, FX_EFORKED in
 * a forked child. A snapshot: a shutdown may begin right after. Any
 * thread. */
FX_API int fx_vm_running(fx_vm *vm);

/* The number of scheduler threads; 0 for NULL. Any thread. */
FX_API uint32_t fx_vm_threads(const fx_vm *vm);
/* The largest application payload a send accepts (the config's
 * max_msg_size, after defaults; see FX_MSG_ENVELOPE_MAX in msg.h); 0 for
 * NULL. Any thread. */
FX_API size_t fx_vm_max_msg_size(const fx_vm *vm);

/* Counters, for tests, benchmarks and operators. Any thread; values are
 * sums of per-thread counters read without stopping the world. 0, also
 * after shutdown (processes is then 0); FX_EINVAL for a NULL vm or out. */
typedef struct fx_vm_stats {
    uint64_t processes;        /* live processes (spawned - exited) */
    uint64_t spawned;          /* processes ever spawned */
    uint64_t messages_dropped; /* sent to a dead process, or refused by a
                                  full mailbox (FX_MAILBOX_DROP) */
    uint64_t steals;           /* actors taken from another scheduler */
    uint64_t parks;            /* times a scheduler thread went to sleep */
    /* --- version 3: watchdog --- */
    uint64_t stuck;          /* stuck handler calls reported (one per incident) */
    uint64_t spares_started; /* spare scheduler threads started by the watchdog */
    /* --- version 3: observability (include/fauxtp/info.h) --- */
    uint64_t messages_sent; /* messages and signals delivered to mailboxes */
    /* messages_dropped by reason: the target was dead (or died with the
     * message queued), or a full mailbox refused it (FX_MAILBOX_DROP). */
    uint64_t dropped_noproc;
    uint64_t dropped_full;
    /* Exits by reason kind (fx_reason_kind); other: error, noproc,
     * timeout. Their sum is spawned - processes. */
    uint64_t exits_normal, exits_shutdown, exits_killed, exits_other;
    uint64_t restarts;  /* children restarted by supervisors (fx_vm_count_restart) */
    uint64_t run_queue; /* runnable processes queued on all threads (a snapshot) */
} fx_vm_stats;
/* 0 and *out; FX_EINVAL (NULL), FX_EFORKED (forked child). */
FX_API int fx_vm_stats_get(fx_vm *vm, fx_vm_stats *out);

/* --- Per-VM state for libraries built on the public API ------------------
 *
 * A library (the registry in src/otp, or your own behaviours) can attach
 * one value per key to a VM and find it again from any thread, so it
 * needs no global table of VMs. The key is the address of an object of
 * the library's (`static const char my_key;` then `&my_key`): unique in
 * the process, compared by address only, never dereferenced. */

/* Lifecycle callbacks of an attached value. Both optional. */
typedef struct fx_vm_hooks {
    /* Runs once, at the start of fx_vm_shutdown (and of fx_vm_destroy
     * when that shuts the VM down), on the calling thread, while the
     * scheduler threads still run: the place to stop processes
     * gracefully and wait for them (it may block, e.g. with an inbox).
     * Hooks run in reverse attach order. Not called when the VM was
     * never started. */
    void (*stop)(fx_vm *vm, void *value);
    /* Runs once in fx_vm_destroy, after the VM stopped (every process
     * has exited and every scheduler thread was joined), in reverse
     * attach order: free `value` here. */
    void (*free)(fx_vm *vm, void *value);
} fx_vm_hooks;

/* Attaches `value` to vm under `key`. hooks (may be NULL) is copied;
 * value is borrowed until the free hook runs. One value per key: a
 * second attach under the same key fails with FX_EEXIST and attaches
 * nothing, which makes "create on first use" race-free (the loser frees
 * its value and takes the winner's with fx_vm_attached). Errors:
 * FX_EINVAL (NULL vm, key or value: a NULL value would read as "nothing
 * attached"), FX_EEXIST, FX_ESHUTDOWN (fx_vm_shutdown has
 * begun), FX_ENOMEM, FX_EFORKED (forked child). Any thread. */
FX_API int fx_vm_attach(fx_vm *vm, const void *key, void *value,
                        const fx_vm_hooks *hooks);

/* The value attached under key, or NULL (none, or NULL vm/key). Any
 * thread, lock-free (a short list walk); the value stays valid until
 * fx_vm_destroy runs its free hook. */
FX_API void *fx_vm_attached(fx_vm *vm, const void *key);

#ifdef __cplusplus
}
#endif
#endif
