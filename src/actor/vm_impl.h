/* The VM record. Internal. */
#ifndef FXI_ACTOR_VM_IMPL_H
#define FXI_ACTOR_VM_IMPL_H

#include <fauxtp/vm.h>

#include "actor/actor_impl.h"
#include "actor/ptable.h"
#include "actor/timers.h"
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
    fx_vm_config cfg; /* immutable after create */
    uint32_t state;   /* atomic: FXI_VM_* */
    fxi_pool pool;
    fxi_qsbr qsbr;
    fxi_ptable pt;
    fxi_timers timers;
    fxi_worker *workers; /* one per scheduler thread */
    /* atomic counters for work done outside the schedulers */
    uint64_t ext_spawned, ext_dropped, ext_exited, ext_refs;
    /* fx_vm_attach: attach_mx serialises attaches against each other and
     * against shutdown closing the list; fx_vm_attached walks the list
     * without it. */
    pthread_mutex_t attach_mx;
    fxi_attachment *attached; /* atomic: list head, newest first */
    bool attach_closed;       /* under attach_mx: shutdown has begun */
};

/* The calling thread's worker when it is one of vm's scheduler threads,
 * else NULL. */
static inline fxi_worker *fxi_vm_worker(fx_vm *vm)
{
    fxi_sched *s = fxi_sched_current(&vm->pool);
    return s ? (fxi_worker *) s->user : NULL;
}

static inline bool fxi_vm_running(fx_vm *vm)
{
    return ck_pr_load_32(&vm->state) == FXI_VM_RUNNING;
}

/* Delivers m to `to` (message path of every send). Takes m in all cases:
 * a dead target drops it and answers FX_ENOPROC. w is the calling
 * scheduler's worker, or NULL from outside the VM (caller holds a QSBR
 * external section). */
int fxi_deliver(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m);

/* Sends from outside a handler with the given sender (fx_vm_send*,
 * fx_inbox_send). Same contract as fx_vm_send_msg / fx_vm_send. */
int fxi_send_ext(fx_vm *vm, fx_pid from, fx_pid to, fx_msg *msg);
int fxi_send_copy_ext(fx_vm *vm, fx_pid from, fx_pid to, uint32_t type, const void *data,
                      size_t size);

/* Runs an operation from any thread inside a QSBR section: on a
 * scheduler thread directly, elsewhere inside an external section, after
 * checking that the VM runs. */
typedef struct fxi_section {
    fxi_worker *w;
    uint32_t ext; /* external record, when w is NULL */
} fxi_section;
int fxi_section_enter(fx_vm *vm, fxi_section *sec);
void fxi_section_exit(fx_vm *vm, fxi_section *sec);

/* How the scheduler pool runs actors (actor/run.c). */
extern const fxi_sched_hooks fxi_actor_hooks;

/* Actor lifecycle (actor/exit.c). */
/* a exits with reason on its scheduler thread: pid made stale, cleanup
 * run, links and monitors told, a crash report unless it died of an exit
 * signal (by_signal), then into limbo until its grace period ends. */
void fxi_actor_exit(fxi_worker *w, fxi_actor *a, const fx_reason *reason, bool by_signal);
/* Frees a dead actor (after its grace period, or with the VM stopped)
 * and whatever is still queued for it. */
void fxi_actor_free(fx_vm *vm, fxi_actor *a, bool count_dropped);
/* Empties a dead process's mailbox; answers late link and monitor
 * requests with noproc when `answer` (caller in a section, w as for
 * fxi_deliver). Returns the number of user messages dropped. */
uint64_t fxi_mailbox_discard(fx_vm *vm, fxi_worker *w, fxi_actor *a, bool answer);
void fxi_worker_reclaim(fx_vm *vm, fxi_worker *w);
/* After the scheduler threads are joined: every live process exits with
 * reason shutdown on the calling thread, and every limbo entry is freed. */
void fxi_vm_free_processes(fx_vm *vm);

#endif
