/* The blocking pool; see bpool.h and include/fauxtp/pool.h.
 *
 * One mutex (rank FXI_RANK_BPOOL, a leaf) guards everything shared: the
 * bounded ring of queued jobs, the thread slots, the idle stack, the
 * counters and the stopping flag. Nothing is sent and no other lock is
 * taken while the mutex is held: jobs run, outcomes are sent and `done`
 * callbacks run outside it. The rates here (one blocking job per lock
 * round trip) do not justify a lock-free queue; the scheduler's hot paths
 * never touch this lock.
 *
 * Idle threads wait on their own condition variable, on a stack: a
 * submission wakes the thread that went idle last (LIFO), so under a
 * light load the same few threads do the work and the others stay idle
 * long enough to exit. Growth: a submission that finds no idle thread
 * starts one, up to pool_max_threads. Shrinking: a thread that has waited
 * pool_idle_ms without a job leaves while more than pool_min_threads
 * live; its slot is joined by the next thread start or by the shutdown.
 *
 * Crashes: each thread has a fault site; jobs run armed (job_run.c), so a
 * trapped fault or fx_crash(NULL) ends the job, not the process.
 *
 * Shutdown (the stop hook, run at the start of fx_vm_shutdown while the
 * schedulers still run): set stopping, take the queued jobs out, wake
 * every thread, send each cancelled job's owner its outcome (status
 * FX_ESHUTDOWN) and run its `done`, then wait for the threads, which
 * finish the job they are running first, until the shutdown's deadline.
 * Threads still in a job then are waited for again by fx_vm_shutdown
 * (fxi_bpool_wait_stopped), which answers FX_ESTUCK while any runs. */
#include "pool/bpool.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <fauxtp/actor.h>
#include <fauxtp/error.h>
#include <fauxtp/pool.h>
#include <fauxtp/report.h>
#include <string.h>

#include "actor/vm.h"
#include "mem/alloc.h"
#include "platform/mutex.h"
#include "platform/park.h"
#include "platform/thread_prio.h"
#include "pool/bpool_int.h"
#include "pool/job_run.h"

static const char bpool_key; /* fx_vm_attach key */

int fxi_bpool_config(fx_vm_config *c)
{
    if (c->pool_max_threads == 0)
        c->pool_max_threads = DEFAULT_MAX_THREADS;
    if (c->pool_queue == 0)
        c->pool_queue = DEFAULT_QUEUE;
    if (c->pool_nice == 0)
        c->pool_nice = DEFAULT_NICE;
    if (c->pool_idle_ms == 0)
        c->pool_idle_ms = DEFAULT_IDLE_MS;
    if (c->pool_max_threads > LIMIT_MAX_THREADS || c->pool_queue > LIMIT_QUEUE ||
        c->pool_min_threads > c->pool_max_threads || c->pool_nice < -1 ||
        c->pool_nice > FX_POOL_NICE_IDLE || c->pool_idle_ms > LIMIT_IDLE_MS)
        return FX_EINVAL;
    return 0;
}

/* ---- outcomes ------------------------------------------------------------ */

/* Sends job's outcome; consumes result (may be NULL). Outside the lock. */
static void send_outcome(fx_vm *vm, const fx_pool_job *job, int status, fx_msg *result)
{
    if (fx_pid_is_none(job->reply_to)) {
        fx_msg_free(result);
        return;
    }
    size_t rsize = result ? fx_msg_size(result) : 0;
    fx_outcome h = {.ref = job->ref,
                    .status = status,
                    .type = result ? fx_msg_type(result) : 0,
                    .size = rsize};
    if (rsize > fx_vm_max_msg_size(vm)) {
        h.status = FX_EMSGSIZE; /* the result cannot travel: say so */
        h.type = 0;
        h.size = 0;
    }
    fx_msg *m = NULL;
    if (fx_msg_new_behaviour(FX_MSG_POOL_DONE, sizeof h + h.size, &m) != 0) {
        /* No room for the result: try the bare header, status FX_ENOMEM. */
        h.status = FX_ENOMEM;
        h.type = 0;
        h.size = 0;
        if (fx_msg_new_behaviour(FX_MSG_POOL_DONE, sizeof h, &m) != 0)
            m = NULL;
    }
    if (m) {
        unsigned char *p = fx_msg_data_mut(m);
        memcpy(p, &h, sizeof h);
        if (h.size)
            memcpy(p + sizeof h, fx_msg_data(result), h.size);
        fx_msg_set_ref(m, job->ref);
        if (fx_vm_send_msg(vm, job->reply_to, m) != 0)
            fx_msg_free(m); /* dead owner, or the VM stopped: dropped */
    }
    fx_msg_free(result);
}

FX_API int fx_outcome_get(const fx_msg *msg, fx_outcome *hdr, const void **data)
{
    if (!msg)
        return FX_EINVAL;
    uint32_t t = fx_msg_type(msg);
    size_t n = fx_msg_size(msg);
    if ((t != FX_MSG_POOL_DONE && t != FX_MSG_REPLY) || n < sizeof(fx_outcome))
        return FX_EINVAL;
    fx_outcome h;
    memcpy(&h, fx_msg_data(msg), sizeof h);
    if (h.size != n - sizeof h)
        return FX_EINVAL;
    if (hdr)
        *hdr = h;
    if (data)
        *data = (const unsigned char *) fx_msg_data(msg) + sizeof h;
    return 0;
}

/* Counts a job that ran (p->mx held): before its outcome goes out, so an
 * owner that got it reads counters that include it. */
static void count_end_locked(bpool *p, const fxi_job_end *end)
{
    p->st.running--;
    p->st.completed++;
    if (end->status != 0)
        p->st.failed++;
    if (end->crashed)
        p->st.crashed++;
}

/* Sends the outcome of a job that ran. A crashed job's: status FX_EFAULT
 * or FX_ECRASHED, its result an FX_MSG_POOL_CRASH message carrying the
 * text (NUL-terminated). */
static void send_end(fx_vm *vm, const fx_pool_job *job, const fxi_job_end *end)
{
    if (!end->crashed) {
        send_outcome(vm, job, end->status, end->result);
        return;
    }
    size_t n = strlen(end->text) + 1;
    fx_msg *m = NULL;
    if (fx_msg_new_behaviour(FX_MSG_POOL_CRASH, n, &m) == 0)
        memcpy(fx_msg_data_mut(m), end->text, n);
    send_outcome(vm, job, end->status, m);
}

/* ---- threads ------------------------------------------------------------- */

static struct timespec abs_monotonic(uint64_t ns)
{
    return (struct timespec){.tv_sec = (time_t) (ns / 1000000000u),
                             .tv_nsec = (long) (ns % 1000000000u)};
}

/* Under p->mx: drops slot i from the idle stack if it is there. */
static void unidle_locked(bpool *p, uint32_t i)
{
    for (uint32_t k = (uint32_t) p->st.idle; k-- > 0;) {
        if (p->idle[k] == i) {
            memmove(&p->idle[k], &p->idle[k + 1], (p->st.idle - k - 1) * sizeof *p->idle);
            p->st.idle--;
            return;
        }
    }
}

/* Under p->mx, with no job queued: waits on top of the idle stack until a
 * submission pops this thread, the pool stops, or pool_idle_ms pass.
 * false: leave (idle for pool_idle_ms with more than pool_min_threads). */
static bool idle_wait(bpool *p, pthr *me)
{
    uint32_t i = (uint32_t) (me - p->slots);
    p->idle[p->st.idle++] = i;
    me->woken = false;
    struct timespec until = abs_monotonic(fxi_now_ns() + p->idle_ns);
    bool timed_out = false;
    while (!me->woken && !p->stopping && !timed_out)
        timed_out = fxi_cond_timedwait(&me->cv, &p->mx, &until) == ETIMEDOUT;
    if (!me->woken)
        unidle_locked(p, i); /* popped by a submission: already off */
    if (me->woken || p->stopping || p->count)
        return true;
    return !(timed_out && p->st.threads > p->min);
}

/* Under p->mx, after a job: a thread the guard raised out of SCHED_IDLE
 * goes back to it (leaving the class needs privilege, entering it does
 * not), unless new jobs avoid the class now. */
static void settle_class_locked(bpool *p, pthr *me)
{
    if (!me->raised)
        return;
    me->raised = false;
    if (!fxi_bguard_degraded_locked(p))
        me->idle_cls = fxi_thread_idle_class() == 1;
}

static void *thread_main(void *arg)
{
    pthr *me = arg;
    bpool *p = me->p;
    int32_t tid = fxi_thread_tid();
    bool idle_cls = false;
    if (p->nice == FX_POOL_NICE_IDLE) {
        fxi_mutex_lock(&p->mx);
        bool degraded = fxi_bguard_degraded_locked(p);
        fxi_mutex_unlock(&p->mx);
        /* The nice value it keeps if the guard raises it (best effort). */
        (void) fxi_thread_lower_priority(RAISED_NICE);
        if (!degraded)
            idle_cls = fxi_thread_idle_class() == 1;
    } else if (p->nice > 0) {
        (void) fxi_thread_lower_priority(p->nice); /* best effort */
    }
    jmp_buf jb; /* unused landing: every job runs under fxi_fault_call */
    /* Without a signal stack, faults in jobs stay fatal, as with
     * trap_faults off; fx_crash(NULL) is trapped either way. */
    if (!p->trap || fxi_fault_thread_enter(&me->site, &jb) != 0)
        fxi_fault_thread_bind(&me->site, &jb);
    fxi_mutex_lock(&p->mx);
    me->tid = tid;
    me->idle_cls = idle_cls;
    for (;;) {
        if (p->stopping)
            break; /* the stop hook took the queued jobs */
        if (p->count == 0) {
            if (!idle_wait(p, me))
                break;
            continue;
        }
        if (me->idle_cls && fxi_bguard_degraded_locked(p)) {
            /* Jobs starve in SCHED_IDLE and this thread cannot leave it:
             * the guard starts a normal-class thread for the queue. */
            pthread_cond_signal(&p->guard_cv);
            break;
        }
        fx_pool_job job = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        p->st.queued--;
        p->st.running++;
        me->job_fn = job.fn;
        me->job_start = fxi_now_ns();
        me->job_no++;
        if (me->idle_cls)
            fxi_bguard_job_started_locked(p);
        fxi_mutex_unlock(&p->mx);

        fxi_job_end end;
        fxi_job_run(&me->site, &job, &end); /* done ran: the owner may reuse arg */
        fxi_mutex_lock(&p->mx);
        me->job_fn = NULL;
        settle_class_locked(p, me);
        count_end_locked(p, &end);
        fxi_mutex_unlock(&p->mx);
        send_end(p->vm, &job, &end);
        fxi_mutex_lock(&p->mx);
    }
    p->st.threads--;
    me->state = SLOT_EXITED; /* joined by the next start or the shutdown */
    pthread_cond_broadcast(&p->gone_cv);
    fxi_mutex_unlock(&p->mx);
    fxi_fault_thread_exit(&me->site);
    return NULL;
}

/* Under p->mx: joins slot's thread if it has exited (it only returns
 * after setting SLOT_EXITED, without the lock: no deadlock). */
static void reap_locked(pthr *slot)
{
    if (slot->state != SLOT_EXITED)
        return;
    pthread_join(slot->t, NULL);
    slot->state = SLOT_FREE;
}

int fxi_bpool_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    static const int sync_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof sync_signals / sizeof sync_signals[0]; i++)
        sigdelset(&all, sync_signals[i]);
    int rc = pthread_sigmask(SIG_SETMASK, &all, &old);
    if (rc != 0)
        return rc;
    rc = pthread_create(t, NULL, fn, arg); /* the new thread inherits `all` */
    (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Under p->mx, with fewer than max threads live. 0, or FX_ESYS when the
 * thread could not be created. */
int fxi_bpool_start_thread_locked(bpool *p)
{
    fxi_mutex_assert_owner(&p->mx);
    pthr *slot = NULL;
    for (uint32_t i = 0; i < p->max && !slot; i++) {
        reap_locked(&p->slots[i]);
        if (p->slots[i].state == SLOT_FREE)
            slot = &p->slots[i];
    }
    if (!slot)
        return FX_ESYS; /* cannot happen: fewer than max are live */
    slot->job_fn = NULL;
    if (fxi_bpool_thread_create(&slot->t, thread_main, slot) != 0)
        return FX_ESYS;
    slot->state = SLOT_LIVE;
    p->st.threads++;
    fxi_bguard_start_locked(p);
    return 0;
}

/* Deterministic mode (docs/testing.md): no pool threads; a job runs on
 * the submitting thread, inside fx_pool_submit, with its crashes trapped,
 * and its outcome is sent as a pool thread would send it. */
static int run_inline(bpool *p, const fx_pool_job *job)
{
    fxi_mutex_lock(&p->mx);
    bool stopping = p->stopping;
    if (!stopping)
        p->st.running++;
    fxi_mutex_unlock(&p->mx);
    if (stopping)
        return FX_ESHUTDOWN;
    /* Crashes trapped as on a pool thread: a site of its own on top of
     * the caller's (a handler's crash must not be taken for the job's). */
    fxi_fault_site site;
    jmp_buf jb;
    fxi_fault_site *prev = fxi_fault_thread_push(&site, &jb);
    fxi_job_end end;
    fxi_job_run(&site, job, &end);
    fxi_fault_thread_pop(prev);
    fxi_mutex_lock(&p->mx);
    count_end_locked(p, &end);
    fxi_mutex_unlock(&p->mx);
    send_end(p->vm, job, &end);
    return 0;
}

/* Waits (p->mx held) until no thread is live or deadline (CLOCK_MONOTONIC
 * ns, UINT64_MAX: none), joins the ones that left, answers how many are
 * still live. */
static uint32_t wait_threads_locked(bpool *p, uint64_t deadline)
{
    while (p->st.threads > 0) {
        if (deadline == UINT64_MAX) {
            fxi_cond_wait(&p->gone_cv, &p->mx);
            continue;
        }
        if (fxi_now_ns() >= deadline)
            break;
        struct timespec until = abs_monotonic(deadline);
        (void) fxi_cond_timedwait(&p->gone_cv, &p->mx, &until);
    }
    for (uint32_t i = 0; i < p->max; i++)
        reap_locked(&p->slots[i]);
    return (uint32_t) p->st.threads;
}

/* ---- lifecycle ----------------------------------------------------------- */

static void stop_hook(fx_vm *vm, void *value)
{
    bpool *p = value;
    fxi_mutex_lock(&p->mx);
    p->stopping = true;
    uint32_t n = p->count, head = p->head;
    fx_pool_job *cancelled = NULL;
    if (n) {
        cancelled = fxi_alloc(n * sizeof *cancelled);
        for (uint32_t i = 0; i < n && cancelled; i++)
            cancelled[i] = p->ring[(head + i) % p->cap];
    }
    if (cancelled || n == 0) {
        p->count = 0;
        p->st.queued = 0;
        p->st.cancelled += n;
    }
    for (uint32_t i = 0; i < p->max; i++)
        if (p->slots[i].state == SLOT_LIVE)
            pthread_cond_signal(&p->slots[i].cv);
    pthread_cond_signal(&p->guard_cv);
    fxi_mutex_unlock(&p->mx);
    fxi_bguard_stop(p);
    /* Without memory for the copy the jobs stay in the ring: the free
     * hook cancels them (done runs; no message, the VM is gone then). */
    for (uint32_t i = 0; cancelled && i < n; i++) {
        if (cancelled[i].done)
            cancelled[i].done(cancelled[i].arg);
        send_outcome(vm, &cancelled[i], FX_ESHUTDOWN, NULL);
    }
    if (cancelled)
        fxi_free(cancelled, n * sizeof *cancelled);
    /* Running jobs finish first; threads still in one at the deadline are
     * waited for again by fx_vm_shutdown (fxi_bpool_wait_stopped). */
    (void) fxi_bpool_wait_stopped(vm, fxi_atomic_load_relaxed_64(&vm->stop_deadline_ns));
}

uint32_t fxi_bpool_wait_stopped(fx_vm *vm, uint64_t deadline)
{
    bpool *p = fx_vm_attached(vm, &bpool_key);
    if (!p)
        return 0;
    fxi_mutex_lock(&p->mx);
    uint32_t left = wait_threads_locked(p, deadline);
    fxi_mutex_unlock(&p->mx);
    return left;
}

/* The exported symbol at exactly fn's address, else NULL. */
static const char *fn_name(fx_work_fn fn)
{
    Dl_info info;
    void *addr;
    memcpy(&addr, &fn, sizeof addr < sizeof fn ? sizeof addr : sizeof fn);
    if (dladdr(addr, &info) && info.dli_saddr == addr)
        return info.dli_sname;
    return NULL;
}

void fxi_bpool_report_running(fx_vm *vm)
{
    bpool *p = fx_vm_attached(vm, &bpool_key);
    if (!p)
        return;
    /* Copied out under the lock, logged without it: the logger is user
     * code and may send (other locks), and bpool is a leaf. */
    typedef struct running {
        fx_work_fn fn;
        uint64_t ran;
    } running;
    running *list = fxi_alloc(p->max * sizeof *list);
    if (!list)
        return;
    uint32_t n = 0;
    fxi_mutex_lock(&p->mx);
    uint64_t now = fxi_now_ns();
    for (uint32_t i = 0; i < p->max; i++) {
        pthr *t = &p->slots[i];
        if (t->state == SLOT_LIVE && t->job_fn)
            list[n++] = (running){t->job_fn, now - t->job_start};
    }
    fxi_mutex_unlock(&p->mx);
    fx_crash_logger log =
        vm->cfg.crash_logger ? vm->cfg.crash_logger : fx_crash_logger_stderr;
    for (uint32_t i = 0; i < n; i++) {
        fx_crash_report r = {
            .vm = vm,
            .pid = FX_PID_NONE,
            .reason = fx_reason_error(FX_ESTUCK, "pool job running for %llu ms",
                                      (unsigned long long) (list[i].ran / 1000000u)),
            .label = "pool job",
            .kind = FX_REPORT_STUCK_AT_SHUTDOWN,
            .running_ns = list[i].ran,
            .handler = fn_name(list[i].fn),
        };
        log(vm->cfg.crash_logger_arg, &r);
    }
    fxi_free(list, p->max * sizeof *list);
}

static void destroy(bpool *p)
{
    fxi_bguard_stop(p); /* normally done by the stop hook already */
    for (uint32_t i = 0; i < p->count; i++) {
        fx_pool_job *j = &p->ring[(p->head + i) % p->cap];
        if (j->done)
            j->done(j->arg);
    }
    p->st.cancelled += p->count;
    for (uint32_t i = 0; i < p->max; i++) {
        if (p->slots[i].state == SLOT_EXITED)
            pthread_join(p->slots[i].t, NULL);
        pthread_cond_destroy(&p->slots[i].cv);
    }
    pthread_cond_destroy(&p->gone_cv);
    pthread_cond_destroy(&p->guard_cv);
    fxi_mutex_fini(&p->mx);
    fxi_free(p->idle, p->max * sizeof *p->idle);
    fxi_free(p->slots, p->max * sizeof *p->slots);
    fxi_free(p->ring, p->cap * sizeof *p->ring);
    fxi_free(p, sizeof *p);
}

static void free_hook(fx_vm *vm, void *value)
{
    (void) vm;
    destroy(value);
}

/* A condition variable on CLOCK_MONOTONIC (the clock of the deadlines). */
static void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

/* The VM's pool, created and attached on first use. NULL with *err set
 * (FX_ESHUTDOWN, FX_ENOMEM) when there is none. */
static bpool *get_pool(fx_vm *vm, int *err)
{
    bpool *p = fx_vm_attached(vm, &bpool_key);
    if (p)
        return p;
    p = fxi_alloc(sizeof *p);
    if (!p) {
        *err = FX_ENOMEM;
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->vm = vm;
    p->max = vm->cfg.pool_max_threads;
    p->min = vm->cfg.pool_min_threads;
    p->cap = vm->cfg.pool_queue;
    p->nice = vm->cfg.pool_nice;
    p->idle_ns = (uint64_t) vm->cfg.pool_idle_ms * 1000000u;
    p->trap = vm->cfg.trap_faults;
    p->ring = fxi_alloc(p->cap * sizeof *p->ring);
    p->slots = fxi_zalloc(p->max * sizeof *p->slots);
    p->idle = fxi_alloc(p->max * sizeof *p->idle);
    if (!p->ring || !p->slots || !p->idle) {
        if (p->ring)
            fxi_free(p->ring, p->cap * sizeof *p->ring);
        if (p->slots)
            fxi_free(p->slots, p->max * sizeof *p->slots);
        if (p->idle)
            fxi_free(p->idle, p->max * sizeof *p->idle);
        fxi_free(p, sizeof *p);
        *err = FX_ENOMEM;
        return NULL;
    }
    fxi_mutex_init(&p->mx, FXI_RANK_BPOOL, "bpool");
    cond_init_monotonic(&p->gone_cv);
    cond_init_monotonic(&p->guard_cv);
    for (uint32_t i = 0; i < p->max; i++) {
        p->slots[i].p = p;
        p->slots[i].state = SLOT_FREE;
        cond_init_monotonic(&p->slots[i].cv);
    }
    static const fx_vm_hooks hooks = {.stop = stop_hook, .free = free_hook};
    int rc = fx_vm_attach(vm, &bpool_key, p, &hooks);
    if (rc == 0)
        return p;
    destroy(p);
    if (rc == FX_EEXIST) /* another thread attached first: use its pool */
        return fx_vm_attached(vm, &bpool_key);
    *err = rc;
    return NULL;
}

void fxi_bpool_vm_started(fx_vm *vm)
{
    if (vm->cfg.pool_min_threads == 0 || vm->pool.det) /* det: jobs run inline */
        return;
    int err = 0;
    bpool *p = get_pool(vm, &err);
    if (!p)
        return;
    fxi_mutex_lock(&p->mx);
    while (!p->stopping && p->st.threads < p->min &&
           fxi_bpool_start_thread_locked(p) == 0)
        ;
    fxi_mutex_unlock(&p->mx);
}

FX_API int fx_pool_submit(fx_vm *vm, const fx_pool_job *job)
{
    if (!vm || !job || !job->fn)
        return FX_EINVAL;
    int rc = fx_vm_running(vm);
    if (rc != 1)
        return rc == 0 ? FX_ESHUTDOWN : rc;
    bpool *p = get_pool(vm, &rc);
    if (!p)
        return rc;
    if (vm->pool.det)
        return run_inline(p, job);
    fxi_mutex_lock(&p->mx);
    if (p->stopping) {
        rc = FX_ESHUTDOWN;
    } else if (p->count == p->cap) {
        p->st.rejected++;
        rc = FX_EAGAIN;
    } else {
        p->ring[(p->head + p->count) % p->cap] = *job;
        p->count++;
        p->st.queued++;
        rc = 0;
        if (p->st.idle) {
            /* LIFO: the thread that went idle last takes it. */
            pthr *t = &p->slots[p->idle[--p->st.idle]];
            t->woken = true;
            pthread_cond_signal(&t->cv);
        } else if (p->st.threads < p->max && fxi_bpool_start_thread_locked(p) != 0 &&
                   p->st.threads == 0) {
            /* Nobody would ever run it: take it back. */
            p->count--;
            p->st.queued--;
            rc = FX_ESYS;
        }
    }
    fxi_mutex_unlock(&p->mx);
    return rc;
}

FX_API int fx_pool_stats_get(fx_vm *vm, fx_pool_stats *out)
{
    if (!vm || !out)
        return FX_EINVAL;
    if (fx_vm_running(vm) == FX_EFORKED)
        return FX_EFORKED;
    memset(out, 0, sizeof *out);
    bpool *p = fx_vm_attached(vm, &bpool_key);
    if (!p)
        return 0;
    fxi_mutex_lock(&p->mx);
    *out = p->st;
    fxi_mutex_unlock(&p->mx);
    return 0;
}
