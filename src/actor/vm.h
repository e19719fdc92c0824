/* The VM record, read by every part of the actor layer. The functions on
 * it live in the files named for them (vm.c: create/start/shutdown). */
#ifndef FXI_ACTOR_VM_H
#define FXI_ACTOR_VM_H

#include <fauxtp/vm.h>

#include "actor/actor.h"
#include "actor/log.h"
#include "actor/ptable.h"
#include "actor/timers.h"
#include "platform/atomic.h"
#include "platform/fork.h"
#include "sched/qsbr.h"
#include "sched/sched.h"

enum { FXI_VM_CREATED = 0, FXI_VM_RUNNING, FXI_VM_STOPPING, FXI_VM_STOPPED };

/* A value attached with fx_vm_attach. Immutable once linked. */
typedef struct fxi_attachment {
    struct fxi_attachment *next; /* older attachment */
    const void *key;
    void *value;
    fx_vm_hooks hooks;
} fxi_attachment;

struct fx_vm {
    fx_vm_config cfg;  /* immutable after create */
    uint32_t fork_gen; /* immutable: fxi_fork_gen at create (fxi_vm_forked) */
    uint32_t state;    /* atomic: FXI_VM_* */
    /* Handler timing (actor/timing.h), read at every actor run, written
     * rarely: beside the config, away from the counters outside threads
     * add to. atomic: timing on; rt: the per-slot runtime table (NULL
     * until timing is first switched on). */
    uint32_t timing;
    struct fxi_rt_entry *rt;
    fxi_pool pool;
    fxi_qsbr qsbr;
    fxi_ptable pt;
    fxi_timers timers;
    fxi_worker *workers; /* one per scheduler slot (pool.n: threads, then spares) */
    /* atomic counters for work done outside the schedulers */
    uint64_t ext_spawned, ext_dropped, ext_exited, ext_refs;
    /* Observability (actor/stats.c), atomic: sends from outside the VM,
     * restarts counted by supervisors. */
    uint64_t ext_sent, restarts;
    /* atomic: src/dist's node state (fxi_dist), set once, NULL when the
     * VM never became a node. Read only on the send path's foreign-pid
     * branch. */
    void *dist;
    /* fx_vm_attach: attach_mx serialises attaches against each other and
     * against shutdown closing the list; fx_vm_attached walks the list
     * without it. */
    fxi_mutex attach_mx;
    fxi_attachment *attached; /* atomic: list head, newest first */
    bool attach_closed;       /* under attach_mx: shutdown has begun */
    /* Under attach_mx too: the one thread running fx_vm_shutdown, and
     * whether it has finished; other callers wait on stop_cv for it. */
    bool stop_done;
    /* Under attach_mx: the shutdown gave up at its deadline with handlers
     * still running (FX_ESTUCK); the next fx_vm_shutdown resumes it. */
    bool stop_stuck;
    uint32_t gave_up; /* atomic: stop_stuck, for fx_inbox_destroy */
    pthread_t stop_thread;
    pthread_cond_t stop_cv;
    /* Under attach_mx: inbox teardowns under way on outside threads
     * (fxi_vm_teardown_begin). The shutdown frees every process only
     * once none is left (then sets freeing), and a teardown that begins
     * while it frees waits for it to finish (stop_cv serves both). */
    uint32_t teardowns;
    bool freeing;
    /* atomic: the running (or last) shutdown's deadline, CLOCK_MONOTONIC
     * ns; UINT64_MAX waits forever; 0 before fx_vm_shutdown began.
     * Stored before the stop hooks run (fx_vm_shutdown_time_left). */
    uint64_t stop_deadline_ns;
    /* Every inbox of this VM, so shutdown can wake their waiters. */
    fxi_mutex inbox_mx;
    struct fx_inbox *inboxes; /* under inbox_mx */
    /* atomic: 1 once fx_vm_shutdown closed the inboxes' waits, before its
     * stop hooks (actor/inbox_close.c). */
    uint32_t inbox_closed;
    fxi_log log; /* the logger (actor/log.h): immutable sink, atomic rest */
};

/* An outside thread is about to free one of vm's processes (an inbox)
 * itself. While a shutdown on another thread is in its final pass (which
 * frees every process and must not meet ours half-freed) this waits for
 * the shutdown to finish; otherwise it counts the teardown, which that
 * final pass then waits for (so a stop hook may wait for a thread that
 * destroys its inbox). On the shutting-down thread itself (a stop hook or a
 * cleanup callback) it does neither: that thread is not freeing anything
 * at the same time. Returns whether it counted; pass that to
 * fxi_vm_teardown_end when the process is freed. */
bool fxi_vm_teardown_begin(fx_vm *vm);
void fxi_vm_teardown_end(fx_vm *vm, bool counted);

/* The calling thread's worker when it is one of vm's scheduler threads,
 * else NULL. */
static inline fxi_worker *fxi_vm_worker(fx_vm *vm)
{
    fxi_sched *s = fxi_sched_current(&vm->pool);
    return s ? (fxi_worker *) s->user : NULL;
}

/* True in a process forked from the one that created vm: the VM's
 * threads do not exist here, so every entry point refuses with
 * FX_EFORKED (docs/failures.md, "fork"). One plain load. */
static inline bool fxi_vm_forked(const fx_vm *vm)
{
    return fxi_forked_since(vm->fork_gen);
}

/* Relaxed: a caller whose correctness depends on seeing the shutdown
 * (fxi_section_enter, fx_inbox_recv) puts a seq_cst fence between its own
 * publication and this load, pairing with the one in fx_vm_shutdown. */
static inline bool fxi_vm_running(fx_vm *vm)
{
    return fxi_atomic_load_relaxed_32(&vm->state) == FXI_VM_RUNNING;
}

#endif
