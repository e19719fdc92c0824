/* The blocking pool; see bpool.h and include/fauxtp/pool.h.
 *
 * One mutex (rank FXI_RANK_BPOOL, a leaf) guards everything shared: the
 * bounded ring of queued jobs, the thread list, the counters and the
 * stopping flag. Pool threads wait on work_cv for a job or for stopping.
 * Nothing is sent and no other lock is taken while the mutex is held:
 * jobs run, outcomes are sent and `done` callbacks run outside it. The
 * rates here (one blocking job per lock round trip) do not justify a
 * lock-free queue; the scheduler's hot paths never touch this lock.
 *
 * Growth: a submission that leaves more queued jobs than idle threads
 * starts a thread, up to pool_max_threads. Threads never shrink before
 * shutdown (docs/tasks.md). Shutdown (the stop hook, run at the start of
 * fx_vm_shutdown while the schedulers still run): set stopping, take the
 * queued jobs out, wake every thread, send each cancelled job's owner its
 * outcome (status FX_ESHUTDOWN) and run its `done`, then join the threads,
 * which finish the job they are running first. */
#include "pool/bpool.h"

#include <fauxtp/actor.h>
#include <fauxtp/error.h>
#include <fauxtp/pool.h>
#include <string.h>

#include "actor/vm.h"
#include "mem/alloc.h"
#include "platform/mutex.h"
#include "platform/thread_prio.h"

#define DEFAULT_MAX_THREADS 8u
#define LIMIT_MAX_THREADS 1024u
#define DEFAULT_QUEUE 1024u
#define LIMIT_QUEUE (1024u * 1024u)
#define DEFAULT_NICE 10

typedef struct bpool {
    fx_vm *vm;         /* immutable */
    uint32_t max, min; /* immutable: config */
    uint32_t cap;      /* immutable: ring slots (pool_queue) */
    int nice;          /* immutable: pool_nice after defaults; -1 none */
    fxi_mutex mx;      /* guards every field below */
    pthread_cond_t work_cv;
    fx_pool_job *ring; /* cap slots; jobs at head .. head+count-1 */
    uint32_t head, count;
    bool stopping;
    uint32_t nthreads;  /* started (and not yet joined) */
    pthread_t *threads; /* max slots */
    fx_pool_stats st;   /* threads, idle, queued, running: also live */
} bpool;

static const char bpool_key; /* fx_vm_attach key */

int fxi_bpool_config(fx_vm_config *c)
{
    if (c->pool_max_threads == 0)
        c->pool_max_threads = DEFAULT_MAX_THREADS;
    if (c->pool_queue == 0)
        c->pool_queue = DEFAULT_QUEUE;
    if (c->pool_nice == 0)
        c->pool_nice = DEFAULT_NICE;
    if (c->pool_max_threads > LIMIT_MAX_THREADS || c->pool_queue > LIMIT_QUEUE ||
        c->pool_min_threads > c->pool_max_threads || c->pool_nice < -1 ||
        c->pool_nice > 19)
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

/* ---- threads ------------------------------------------------------------- */

static void *thread_main(void *arg)
{
    bpool *p = arg;
    if (p->nice > 0)
        (void) fxi_thread_lower_priority(p->nice); /* best effort */
    fxi_mutex_lock(&p->mx);
    for (;;) {
        while (p->count == 0 && !p->stopping) {
            p->st.idle++;
            fxi_cond_wait(&p->work_cv, &p->mx);
            p->st.idle--;
        }
        if (p->stopping)
            break; /* the stop hook took the queued jobs */
        fx_pool_job job = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        p->st.queued--;
        p->st.running++;
        fxi_mutex_unlock(&p->mx);

        fx_msg *result = NULL;
        int status = job.fn(job.arg, &result);
        if (job.done)
            job.done(job.arg); /* before the outcome: the owner may reuse arg */
        /* Counted before the outcome goes out, so an owner that got it
         * reads counters that include it. */
        fxi_mutex_lock(&p->mx);
        p->st.running--;
        p->st.completed++;
        if (status != 0)
            p->st.failed++;
        fxi_mutex_unlock(&p->mx);
        send_outcome(p->vm, &job, status, result);
        fxi_mutex_lock(&p->mx);
    }
    p->st.threads--;
    fxi_mutex_unlock(&p->mx);
    return NULL;
}

/* Under p->mx. 0, or FX_ESYS when the thread could not be created. */
static int start_thread_locked(bpool *p)
{
    fxi_mutex_assert_owner(&p->mx);
    if (pthread_create(&p->threads[p->nthreads], NULL, thread_main, p) != 0)
        return FX_ESYS;
    p->nthreads++;
    p->st.threads++;
    return 0;
}

/* Deterministic mode (docs/testing.md): no pool threads; a job runs on
 * the submitting thread, inside fx_pool_submit, and its outcome is sent
 * as a pool thread would send it. */
static int run_inline(bpool *p, const fx_pool_job *job)
{
    fxi_mutex_lock(&p->mx);
    bool stopping = p->stopping;
    if (!stopping)
        p->st.running++;
    fxi_mutex_unlock(&p->mx);
    if (stopping)
        return FX_ESHUTDOWN;
    fx_msg *result = NULL;
    int status = job->fn(job->arg, &result);
    if (job->done)
        job->done(job->arg);
    fxi_mutex_lock(&p->mx);
    p->st.running--;
    p->st.completed++;
    if (status != 0)
        p->st.failed++;
    fxi_mutex_unlock(&p->mx);
    send_outcome(p->vm, job, status, result);
    return 0;
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
    pthread_cond_broadcast(&p->work_cv);
    fxi_mutex_unlock(&p->mx);
    /* Without memory for the copy the jobs stay in the ring: the free
     * hook cancels them (done runs; no message, the VM is gone then). */
    for (uint32_t i = 0; cancelled && i < n; i++) {
        if (cancelled[i].done)
            cancelled[i].done(cancelled[i].arg);
        send_outcome(vm, &cancelled[i], FX_ESHUTDOWN, NULL);
    }
    if (cancelled)
        fxi_free(cancelled, n * sizeof *cancelled);
    /* Joined without the lock: the threads take it to leave. nthreads
     * only grows under the lock while !stopping, so it is final now. */
    for (uint32_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    fxi_mutex_lock(&p->mx);
    p->nthreads = 0;
    fxi_mutex_unlock(&p->mx);
}

static void destroy(bpool *p)
{
    for (uint32_t i = 0; i < p->count; i++) {
        fx_pool_job *j = &p->ring[(p->head + i) % p->cap];
        if (j->done)
            j->done(j->arg);
    }
    p->st.cancelled += p->count;
    pthread_cond_destroy(&p->work_cv);
    fxi_mutex_fini(&p->mx);
    fxi_free(p->threads, p->max * sizeof *p->threads);
    fxi_free(p->ring, p->cap * sizeof *p->ring);
    fxi_free(p, sizeof *p);
}

static void free_hook(fx_vm *vm, void *value)
{
    (void) vm;
    destroy(value);
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
    p->ring = fxi_alloc(p->cap * sizeof *p->ring);
    p->threads = fxi_alloc(p->max * sizeof *p->threads);
    if (!p->ring || !p->threads) {
        if (p->ring)
            fxi_free(p->ring, p->cap * sizeof *p->ring);
        if (p->threads)
            fxi_free(p->threads, p->max * sizeof *p->threads);
        fxi_free(p, sizeof *p);
        *err = FX_ENOMEM;
        return NULL;
    }
    fxi_mutex_init(&p->mx, FXI_RANK_BPOOL, "bpool");
    pthread_cond_init(&p->work_cv, NULL);
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
    while (!p->stopping && p->nthreads < p->min && start_thread_locked(p) == 0)
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
        if (p->count > p->st.idle && p->nthreads < p->max) {
            if (start_thread_locked(p) != 0 && p->nthreads == 0) {
                /* Nobody would ever run it: take it back. */
                p->count--;
                p->st.queued--;
                rc = FX_ESYS;
            }
        }
        if (rc == 0 && p->st.idle)
            pthread_cond_signal(&p->work_cv);
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
