/* VM lifecycle and statistics. */
#include "actor/vm.h"

#include <fauxtp/error.h>
#include <stddef.h>
#include <string.h>

#include "actor/det.h"
#include "actor/exit.h"
#include "actor/run.h"
#include "actor/inbox.h"
#include "actor/mute.h"
#include "actor/stats.h"
#include "actor/timing.h"
#include "ctl/ctl.h"
#include "platform/fault.h"
#include "platform/park.h"
#include "pool/bpool.h"
#include "sched/watchdog.h"

#define DEFAULT_BATCH 64u
#define DEFAULT_MAX_PROCESSES (4u * 1024u * 1024u)
#define DEFAULT_MAX_MSG ((size_t) 64 * 1024 * 1024)
#define MAX_THREADS 1023u /* refs carry the scheduler id in 10 bits */
#define DEFAULT_STUCK_MS 100u
#define MAX_STUCK_MS 3600000u
/* OTP's default shutdown time for a worker child (supervisor child spec
 * `shutdown`, 5000 ms): long enough that no well-behaved handler is near
 * it (50x the stuck limit), short enough to finish well within a service
 * manager's stop timeout (systemd 90 s, Kubernetes 30 s). */
#define DEFAULT_SHUTDOWN_MS 5000u

/* Scheduler slots: the threads, then the spares the watchdog may start. */
static uint32_t slots(const fx_vm_config *c)
{
    return c->threads + (c->stuck_ms == FX_WATCHDOG_OFF ? 0 : c->spare_threads);
}

FX_API void fx_vm_config_init(fx_vm_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->version = FX_VM_CONFIG_VERSION;
}

static int resolve_config(const fx_vm_config *in, fx_vm_config *c)
{
    if (in) {
        if (in->version == 1 || in->version == 2) {
            /* Built against an older header: only its fields exist. */
            fx_vm_config_init(c);
            memcpy(c, in,
                   in->version == 1 ? offsetof(fx_vm_config, trap_faults)
                                    : offsetof(fx_vm_config, stuck_ms));
            c->version = FX_VM_CONFIG_VERSION;
        } else if (in->version == FX_VM_CONFIG_VERSION) {
            *c = *in;
        } else {
            return FX_EVERSION;
        }
    } else {
        fx_vm_config_init(c);
    }
    if (c->deterministic && fxi_det_config(c) != 0)
        return FX_EINVAL;
    if (c->threads == 0)
        c->threads = fxi_cpu_count();
    if (c->batch == 0)
        c->batch = DEFAULT_BATCH;
    if (c->max_processes == 0)
        c->max_processes = DEFAULT_MAX_PROCESSES;
    if (c->max_msg_size == 0)
        c->max_msg_size = DEFAULT_MAX_MSG;
    if (fxi_mute_resolve_config(c) != 0 || fxi_log_resolve_config(c) != 0)
        return FX_EINVAL;
    if (c->stuck_ms == 0)
        c->stuck_ms = DEFAULT_STUCK_MS;
    if (c->spare_threads == 0 && c->threads <= MAX_THREADS) {
        /* As many as threads, within what the slot limit and the process
         * table leave (every slot reserves 1,024 pids), so a config valid
         * before version 3 stays valid. */
        uint32_t sp =
            c->threads < MAX_THREADS - c->threads ? c->threads : MAX_THREADS - c->threads;
        uint64_t room = fxi_ptable_max_processes(c->threads);
        room = room > c->max_processes ? (room - c->max_processes) / 1024u : 0;
        c->spare_threads = sp < room ? sp : (uint32_t) room;
        if (c->spare_threads == 0)
            c->spare_threads = FX_SPARE_NONE;
    }
    if (c->spare_threads == FX_SPARE_NONE)
        c->spare_threads = 0;
    if (c->shutdown_timeout_ms == 0)
        c->shutdown_timeout_ms = DEFAULT_SHUTDOWN_MS;
    if (c->threads > MAX_THREADS || c->spare_threads > MAX_THREADS ||
        (c->stuck_ms > MAX_STUCK_MS && c->stuck_ms != FX_WATCHDOG_OFF) ||
        slots(c) > MAX_THREADS || c->max_processes > fxi_ptable_max_processes(slots(c)) ||
        c->max_msg_size > FX_MSG_SIZE_LIMIT || fxi_bpool_config(c) != 0 ||
        fxi_ctl_config(c) != 0 ||
        (c->io_spin_us > 1000 && c->io_spin_us != FX_IO_SPIN_OFF))
        return FX_EINVAL;
    return 0;
}

FX_API int fx_vm_create(const fx_vm_config *cfg, fx_vm **out)
{
    if (!out)
        return FX_EINVAL;
    *out = NULL;
    fx_vm_config c;
    int rc = resolve_config(cfg, &c);
    if (rc)
        return rc;
    uint32_t gen = fxi_fork_register(&rc);
    if (rc)
        return rc;
    fx_vm *vm = fxi_alloc_aligned(sizeof *vm, FXI_CACHELINE);
    if (!vm)
        return FX_ENOMEM;
    vm->cfg = c;
    vm->fork_gen = gen;
    vm->state = FXI_VM_CREATED;
    uint32_t n = slots(&c);
    vm->workers = fxi_alloc_aligned(n * sizeof *vm->workers, FXI_CACHELINE);
    if (!vm->workers)
        goto fail_vm;
    if ((rc = fxi_ptable_init(&vm->pt, c.max_processes, n)) != 0)
        goto fail_workers;
    if ((rc = fxi_qsbr_init(&vm->qsbr, n)) != 0)
        goto fail_pt;
    for (uint32_t i = c.threads; i < n; i++)
        fxi_qsbr_offline(&vm->qsbr, i); /* spare slots: no thread yet */
    if ((rc = fxi_pool_init(&vm->pool, n, n - c.threads, &fxi_actor_hooks)) != 0)
        goto fail_qsbr;
    vm->pool.io_spin_max_ns = c.io_spin_us == FX_IO_SPIN_OFF ? 0
                              : c.io_spin_us ? (uint64_t) c.io_spin_us * 1000u
                                             : (uint64_t) FX_IO_SPIN_DEFAULT_US * 1000u;
    if (c.deterministic && (rc = fxi_det_vm_init(vm)) != 0) {
        fxi_pool_fini(&vm->pool);
        goto fail_qsbr;
    }
    if (c.stuck_ms != FX_WATCHDOG_OFF &&
        (rc = fxi_watchdog_init(&vm->pool, (uint64_t) c.stuck_ms * 1000000u,
                                c.spare_threads, c.trap_faults)) != 0) {
        fxi_pool_fini(&vm->pool);
        goto fail_qsbr;
    }
    fxi_timers_init(&vm->timers);
    fxi_log_init(&vm->log, &c);
    if (vm->pool.det) /* the manual clock starts at 0 */
        fxi_twheel_init(&vm->timers.wheel, 0);
    fxi_mutex_init(&vm->attach_mx, FXI_RANK_ATTACH, "vm.attach");
    pthread_cond_init(&vm->stop_cv, NULL);
    fxi_mutex_init(&vm->inbox_mx, FXI_RANK_INBOXES, "vm.inboxes");
    vm->inboxes = NULL;
    vm->attached = NULL;
    vm->attach_closed = false;
    vm->stop_done = false;
    vm->stop_stuck = false;
    vm->gave_up = 0;
    vm->teardowns = 0;
    vm->freeing = false;
    for (uint32_t i = 0; i < n; i++) {
        fxi_worker *w = &vm->workers[i];
        w->cx.vm = vm;
        w->cx.s = &vm->pool.scheds[i];
        w->cx.w = w;
        w->mute_to = NULL;
        w->muted = NULL;
        w->nmuted = w->muted_cap = 0;
        w->mute_mark = fxi_mute_vm_mark(vm);
        w->nwakes = 0;
        memset(&w->tl, 0, sizeof w->tl);
        vm->pool.scheds[i].user = w;
    }
    /* Their live shares, for the table's count (before any spawn). */
    vm->pt.workers = vm->workers;
    vm->pt.nworkers = n;
    if (c.control_path && (rc = fxi_ctl_create(vm)) != 0) {
        fx_vm_destroy(vm); /* never started: frees all of the above */
        return rc;
    }
    *out = vm;
    return 0;
fail_qsbr:
    fxi_qsbr_fini(&vm->qsbr);
fail_pt:
    fxi_ptable_fini(&vm->pt);
fail_workers:
    fxi_free_aligned(vm->workers, n * sizeof *vm->workers, FXI_CACHELINE);
fail_vm:
    fxi_free_aligned(vm, sizeof *vm, FXI_CACHELINE);
    return rc ? rc : FX_ENOMEM;
}

FX_API int fx_vm_start(fx_vm *vm)
{
    if (!vm)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    /* Relaxed: start, shutdown and destroy are called by the VM's owner,
     * which orders them itself; this only tells a second start (RUNNING)
     * from a start after fx_vm_shutdown (STOPPING, STOPPED). */
    uint32_t st = fxi_atomic_load_relaxed_32(&vm->state);
    if (st != FXI_VM_CREATED)
        return st == FXI_VM_RUNNING ? FX_EINVAL : FX_ESHUTDOWN;
    int rc = fxi_ctl_start(vm); /* the control socket, if configured */
    if (rc)
        return rc;
    if (vm->cfg.trap_faults && fxi_fault_install() != 0) {
        fxi_ctl_stop(vm);
        return FX_ESYS;
    }
    /* Running before the threads exist, so their first actors may send.
     * Relaxed: thread creation orders it before the schedulers; outside
     * threads learn of the VM from its creator. */
    fxi_atomic_store_relaxed_32(&vm->state, FXI_VM_RUNNING);
    rc = vm->pool.det ? 0 : fxi_pool_start(&vm->pool); /* det: no threads */
    if (rc == 0 && (rc = fxi_watchdog_start(&vm->pool)) != 0)
        (void) fxi_pool_stop_until(&vm->pool, UINT64_MAX);
    if (rc) {
        /* Release: as the store of STOPPED in fx_vm_shutdown. */
        fxi_atomic_store_release_32(&vm->state, FXI_VM_STOPPED);
        if (vm->cfg.trap_faults)
            fxi_fault_uninstall();
        fxi_ctl_stop(vm);
        return rc;
    }
    fxi_bpool_vm_started(vm);
    return 0;
}

/* ---- attached values ------------------------------------------------------ */

FX_API int fx_vm_attach(fx_vm *vm, const void *key, void *value, const fx_vm_hooks *hooks)
{
    /* A NULL value would read as "nothing attached" (fx_vm_attached), so
     * a second attach under the key could not see it. */
    if (!vm || !key || !value)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED; /* attach_mx may be held by a parent's thread */
    fxi_attachment *a = fxi_alloc(sizeof *a);
    if (!a)
        return FX_ENOMEM;
    a->key = key;
    a->value = value;
    if (hooks)
        a->hooks = *hooks;
    else
        memset(&a->hooks, 0, sizeof a->hooks);
    int rc = 0;
    fxi_mutex_lock(&vm->attach_mx);
    if (vm->attach_closed)
        rc = FX_ESHUTDOWN;
    else if (fx_vm_attached(vm, key))
        rc = FX_EEXIST;
    if (rc == 0) {
        a->next = vm->attached;
        /* Release: publishes a fully built node (its fields before the
         * head store); pairs with the acquire load in fx_vm_attached. */
        fxi_atomic_store_release_ptr(&vm->attached, a);
    }
    fxi_mutex_unlock(&vm->attach_mx);
    if (rc)
        fxi_free(a, sizeof *a);
    return rc;
}

FX_API void *fx_vm_attached(fx_vm *vm, const void *key)
{
    if (!vm || !key)
        return NULL;
    /* Acquire: pairs with the release store in fx_vm_attach, so the
     * node's fields are visible; nodes are immutable once published and
     * freed only by fx_vm_destroy. */
    for (fxi_attachment *a = fxi_atomic_load_acquire_ptr(&vm->attached); a; a = a->next)
        if (a->key == key)
            return a->value;
    return NULL;
}

/* Closes the list to new attachments. 0 for the one caller that did,
 * which must run the shutdown and then call stop_finished. A later caller
 * waits until that shutdown has finished and gets 0 as well, except on
 * the shutting-down thread itself (a stop hook or cleanup callback):
 * FX_ESHUTDOWN, as waiting would never end. */
static int close_attachments(fx_vm *vm)
{
    int rc = 0;
    fxi_mutex_lock(&vm->attach_mx);
    if (!vm->attach_closed) {
        vm->attach_closed = true;
        vm->stop_thread = pthread_self();
        rc = 1;
    } else if (vm->stop_done && vm->stop_stuck) {
        /* The last shutdown gave up at its deadline: this call resumes
         * it (waits again for the threads still in handlers). */
        vm->stop_done = false;
        vm->stop_stuck = false;
        vm->stop_thread = pthread_self();
        rc = 2;
    } else if (!vm->stop_done && pthread_equal(vm->stop_thread, pthread_self())) {
        rc = FX_ESHUTDOWN;
    } else {
        while (!vm->stop_done)
            fxi_cond_wait(&vm->stop_cv, &vm->attach_mx);
    }
    fxi_mutex_unlock(&vm->attach_mx);
    return rc;
}

/* The shutdown is over: wakes the callers waiting in close_attachments.
 * The VM may be freed (by a waiting fx_vm_destroy) once the mutex is
 * released, so nothing touches vm after this. */
static int stop_finished(fx_vm *vm, int rc)
{
    fxi_mutex_lock(&vm->attach_mx);
    vm->stop_done = true;
    vm->stop_stuck = rc == FX_ESTUCK;
    /* Relaxed: a flag polled by fx_inbox_destroy's wait. */
    fxi_atomic_store_relaxed_32(&vm->gave_up, rc == FX_ESTUCK);
    pthread_cond_broadcast(&vm->stop_cv);
    fxi_mutex_unlock(&vm->attach_mx);
    return rc;
}

bool fxi_vm_teardown_begin(fx_vm *vm)
{
    fxi_mutex_lock(&vm->attach_mx);
    bool counted = false;
    if (!(vm->attach_closed && !vm->stop_done &&
          pthread_equal(vm->stop_thread, pthread_self()))) {
        while (vm->freeing && !vm->stop_done)
            fxi_cond_wait(&vm->stop_cv, &vm->attach_mx);
        vm->teardowns++;
        counted = true;
    } /* else inside the shutdown: see vm.h */
    fxi_mutex_unlock(&vm->attach_mx);
    return counted;
}

void fxi_vm_teardown_end(fx_vm *vm, bool counted)
{
    if (!counted)
        return;
    fxi_mutex_lock(&vm->attach_mx);
    if (--vm->teardowns == 0)
        pthread_cond_broadcast(&vm->stop_cv);
    fxi_mutex_unlock(&vm->attach_mx);
}

/* ---- shutdown ---------------------------------------------------------------- */

/* Every scheduler thread has left: frees the processes. */
static int finish(fx_vm *vm)
{
    /* Inbox teardowns that began before the shutdown free their own
     * process; let them finish first (their grace period is over: no
     * scheduler thread is left online). */
    fxi_mutex_lock(&vm->attach_mx);
    while (vm->teardowns)
        fxi_cond_wait(&vm->stop_cv, &vm->attach_mx);
    vm->freeing = true;
    fxi_mutex_unlock(&vm->attach_mx);
    fxi_vm_free_processes(vm);
    /* Release: every process is freed before STOPPED; pairs with the
     * acquire loads of the inbox teardown (inbox.c), which then frees its
     * own process without waiting for a grace period. */
    fxi_atomic_store_release_32(&vm->state, FXI_VM_STOPPED);
    return stop_finished(vm, 0);
}

/* Joins the scheduler threads that leave by the deadline. If some are
 * still in a handler then, reports them and answers FX_ESTUCK, freeing
 * nothing: they may still touch any part of the VM (docs/watchdog.md). */
static int join_threads(fx_vm *vm, uint64_t deadline)
{
    /* Pool jobs first: their stop hook waited up to the deadline; a
     * resumed shutdown waits for them again (docs/watchdog.md). */
    uint32_t jobs_left = fxi_bpool_wait_stopped(vm, deadline);
    if (fxi_pool_stop_until(&vm->pool, deadline) != 0 || jobs_left) {
        fxi_watchdog_report_running(&vm->pool);
        fxi_bpool_report_running(vm);
        return stop_finished(vm, FX_ESTUCK);
    }
    if (vm->cfg.trap_faults)
        fxi_fault_uninstall();
    return finish(vm);
}

FX_API int fx_vm_shutdown(fx_vm *vm)
{
    if (!vm)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED; /* its threads cannot be stopped or joined here */
    if (fxi_vm_worker(vm))
        return FX_ECONTEXT;
    /* The deadline counts from here; stop hooks run first and are not
     * cut short, but may ask for the time left (fx_vm_shutdown_time_left;
     * the pool's hook waits for running jobs only until the deadline:
     * docs/watchdog.md). */
    uint64_t deadline =
        vm->cfg.shutdown_timeout_ms == FX_SHUTDOWN_WAIT_FOREVER
            ? UINT64_MAX
            : fxi_now_ns() + (uint64_t) vm->cfg.shutdown_timeout_ms * 1000000u;
    /* No early return on STOPPED: the thread that stored it may still be
     * in stop_finished, and our caller may be fx_vm_destroy. */
    int first = close_attachments(vm);
    if (first == 1 || first == 2) {
        /* Relaxed: a value for fx_vm_shutdown_time_left; the stop hooks
         * run on this thread. */
        fxi_atomic_store_relaxed_64(&vm->stop_deadline_ns, deadline);
    }
    if (first == 2)
        return join_threads(vm, deadline);
    if (first != 1)
        return first; /* another call did it: 0, or FX_ESHUTDOWN if nested */
    /* Relaxed: only the one caller that closed the list changes the state
     * from here on (close_attachments, under attach_mx). */
    uint32_t st = fxi_atomic_load_relaxed_32(&vm->state);
    if (st == FXI_VM_RUNNING) {
        /* The list is closed: no node is added from here on. Newest
         * first is the reverse attach order. The VM still runs. */
        fxi_inbox_close_waits(vm); /* first: a hook may wait for a waiter */
        for (fxi_attachment *a = vm->attached; a; a = a->next)
            if (a->hooks.stop)
                a->hooks.stop(vm, a->value);
        fxi_inbox_close_hooks_done(vm);
        st = fxi_atomic_load_relaxed_32(&vm->state); /* relaxed: as above */
    }
    /* Relaxed cas: the fence below gives the order. */
    if (st == FXI_VM_STOPPING ||
        !fxi_atomic_cas_relaxed_32(&vm->state, st, FXI_VM_STOPPING))
        return stop_finished(vm, FX_ESHUTDOWN); /* cannot happen: we own it */
    /* Seq_cst fence, store-load: orders STOPPING before the wake stores
     * of fxi_inbox_wake_all and the loads of fxi_qsbr_ext_idle below.
     * Pairs with the seq_cst fence an outside thread runs between
     * publishing itself and loading the state: in fx_inbox_recv (after
     * wake = 0) and in fxi_section_enter (come_online, after claiming its
     * QSBR record). Either that thread sees STOPPING, or we see its
     * record / it sees its wake word set. A locked RMW is not assumed to
     * be a fence: on aarch64 ck's cas is a bare ldxr/stxr loop. */
    fxi_atomic_fence_seq_cst();
    /* After the fence: a waiter that still saw RUNNING is asleep by now
     * or will find its wake word set. */
    fxi_inbox_wake_all(vm);
    /* Outside threads already inside an operation finish it; new ones see
     * STOPPING and fail (fxi_section_enter re-checks inside the section). */
    while (!fxi_qsbr_ext_idle(&vm->qsbr))
        fxi_cpu_relax();
    if (st != FXI_VM_RUNNING)
        return finish(vm);
    fxi_watchdog_stop(&vm->pool);
    return join_threads(vm, deadline);
}

FX_API void fx_vm_destroy(fx_vm *vm)
{
    if (!vm)
        return;
    /* In a forked child: nothing. The VM's threads do not exist here and
     * its locks may be held forever, so freeing is unsafe; the memory is
     * the child's copy and is left to the child's exit or exec. */
    if (fxi_vm_forked(vm))
        return;
    /* Frees only a VM that is stopped for good: not from one of its own
     * scheduler threads (FX_ECONTEXT) nor from inside its shutdown (a
     * stop hook or cleanup callback: FX_ESHUTDOWN). A shutdown running on
     * another thread is waited for. */
    if (fx_vm_shutdown(vm) != 0)
        return;
    /* Every process has exited, every scheduler thread was joined. */
    while (vm->attached) {
        fxi_attachment *a = vm->attached;
        vm->attached = a->next;
        if (a->hooks.free)
            a->hooks.free(vm, a->value);
        fxi_free(a, sizeof *a);
    }
    pthread_cond_destroy(&vm->stop_cv);
    fxi_mutex_fini(&vm->inbox_mx);
    fxi_mutex_fini(&vm->attach_mx);
    fxi_timers_fini(&vm->timers);
    fxi_pool_fini(&vm->pool);
    fxi_qsbr_fini(&vm->qsbr);
    fxi_timing_fini(vm);
    fxi_ptable_fini(&vm->pt);
    for (uint32_t i = 0; i < vm->pool.n; i++)
        fxi_mute_fini(&vm->workers[i]);
    fxi_free_aligned(vm->workers, vm->pool.n * sizeof *vm->workers, FXI_CACHELINE);
    fxi_free_aligned(vm, sizeof *vm, FXI_CACHELINE);
}

FX_API int fx_vm_running(fx_vm *vm)
{
    if (!vm)
        return FX_EINVAL;
    return fxi_vm_forked(vm) ? FX_EFORKED : fxi_vm_running(vm);
}

FX_API uint32_t fx_vm_threads(const fx_vm *vm)
{
    return vm ? vm->cfg.threads : 0;
}

FX_API size_t fx_vm_max_msg_size(const fx_vm *vm)
{
    return vm ? vm->cfg.max_msg_size : 0;
}

FX_API int fx_vm_stats_get(fx_vm *vm, fx_vm_stats *out)
{
    if (!vm || !out)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    memset(out, 0, sizeof *out);
    /* Relaxed, every counter: statistics, a snapshot that orders nothing
     * (each is written by one thread or by relaxed adds). */
    uint64_t exited = fxi_atomic_load_relaxed_64(&vm->ext_exited);
    out->spawned = fxi_atomic_load_relaxed_64(&vm->ext_spawned);
    out->messages_dropped = fxi_atomic_load_relaxed_64(&vm->ext_dropped);
    fxi_watchdog_stats(&vm->pool, &out->stuck, &out->spares_started);
    for (uint32_t i = 0; i < vm->pool.n; i++) {
        fxi_worker *w = &vm->workers[i];
        fxi_sched *s = &vm->pool.scheds[i];
        out->spawned += fxi_atomic_load_relaxed_64(&w->stat_spawned);
        exited += fxi_atomic_load_relaxed_64(&w->stat_exited);
        out->messages_dropped += fxi_atomic_load_relaxed_64(&w->stat_dropped);
        out->steals += fxi_atomic_load_relaxed_64(&s->stat_steals);
        out->parks += fxi_atomic_load_relaxed_64(&s->stat_parks);
    }
    out->processes = out->spawned >= exited ? out->spawned - exited : 0;
    fxi_stats_fill(vm, out); /* the version 3 observability fields */
    return 0;
}
