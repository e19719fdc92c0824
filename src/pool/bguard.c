/* The pool's starvation guard: pool threads run in Linux's SCHED_IDLE
 * class by default (a waking scheduler thread preempts a job at once),
 * and this thread, in the normal class, watches the jobs that run there.
 * docs/tasks.md, "Priority", says why and what it costs.
 *
 * While at least one job runs it wakes every GUARD_PERIOD_NS (and sleeps
 * without a timeout otherwise: an idle VM costs nothing). Per running
 * idle-class job it samples the thread's CPU time and run-queue wait
 * (/proc/self/task/<tid>/schedstat). When, over STARVE_WINDOW_NS, the
 * idle-class jobs together ran less than 5 % of one core, each of them
 * that waited runnable more than half the window is starving (normal
 * threads, ours or not, want every core). Jobs sharing the cores among
 * themselves do not trip it (8 jobs on 2 cores run a quarter of the time
 * each, 2 cores in all), nor does a pool that gets a small but fair share
 * of a loaded machine. A starving job's thread is moved
 * back to the normal class, at nice RAISED_NICE, for the rest of the
 * job (the thread returns to SCHED_IDLE after it). Leaving SCHED_IDLE
 * needs CAP_SYS_NICE or a permissive RLIMIT_NICE: without them the pool
 * degrades for DEGRADE_NS: idle-class threads leave instead of taking
 * another job, and the guard starts normal-class threads (at nice
 * RAISED_NICE) to run the queue, as the pool did before SCHED_IDLE was
 * the default. The starving job itself then finishes when the kernel
 * gives its thread time (SCHED_IDLE's weight is 3 against 1,024).
 *
 * Everything under the pool's mutex except the /proc reads. */
#include <errno.h>
#include <stdlib.h>

#include "mem/alloc.h"
#include "platform/park.h"
#include "platform/thread_prio.h"
#include "pool/bpool_int.h"

#define GUARD_PERIOD_NS (50u * 1000000u)
#define STARVE_WINDOW_NS (200u * 1000000u)
#define DEGRADE_NS (10ull * 1000000000u)
/* Starving: the pool's idle-class jobs together ran less than this many
 * thousandths of one core over the window. */
#define STARVE_SHARE 50u

typedef struct sample_job {
    uint32_t slot;
    int32_t tid;
    uint64_t job_no;
    uint64_t cpu, wait;
    bool ok;
} sample_job;

bool fxi_bguard_degraded_locked(const bpool *p)
{
    return p->degraded_ns != 0 && fxi_now_ns() < p->degraded_ns;
}

/* Under p->mx, degraded: starts normal-class threads for queued jobs. */
static void top_up_locked(bpool *p)
{
    if (!fxi_bguard_degraded_locked(p))
        return;
    for (uint32_t want = p->count; want > 0 && !p->stopping && p->st.threads < p->max;
         want--)
        if (fxi_bpool_start_thread_locked(p) != 0)
            return;
}

/* One round: samples the idle-class jobs (without the lock), then judges
 * them (with it). Entered and left with p->mx held. */
static void check_locked(bpool *p, sample_job *js)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->max; i++) {
        pthr *t = &p->slots[i];
        if (t->state == SLOT_LIVE && t->job_fn && t->idle_cls && !t->raised)
            js[n++] = (sample_job){.slot = i, .tid = t->tid, .job_no = t->job_no};
    }
    if (n == 0)
        return;
    fxi_mutex_unlock(&p->mx);
    /* The thread may finish its job (or leave) meanwhile: the job number
     * is checked under the lock below before anything is done to it. */
    for (uint32_t k = 0; k < n; k++)
        js[k].ok = fxi_thread_sched_times(js[k].tid, &js[k].cpu, &js[k].wait) == 0;
    uint64_t now = fxi_now_ns();
    fxi_mutex_lock(&p->mx);
    for (uint32_t k = 0; k < n; k++) {
        pthr *t = &p->slots[js[k].slot];
        js[k].ok = js[k].ok && t->job_fn && t->job_no == js[k].job_no && t->idle_cls;
    }
    if (p->g_start == 0)
        p->g_start = now;
    bool judge = now - p->g_start >= STARVE_WINDOW_NS;
    /* The pool's share of the CPU over the window, in 1/1000 of a core,
     * over the jobs sampled at both ends for at least half of it. */
    uint64_t share = 0;
    uint32_t judged = 0;
    for (uint32_t k = 0; judge && k < n; k++) {
        pthr *t = &p->slots[js[k].slot];
        uint64_t span = now - t->g_t;
        if (!js[k].ok || t->g_job != js[k].job_no || 2 * span < STARVE_WINDOW_NS)
            continue;
        share += (js[k].cpu - t->g_cpu) * 1000 / span;
        judged++;
    }
    bool starving = judged > 0 && share < STARVE_SHARE;
    for (uint32_t k = 0; k < n; k++) {
        pthr *t = &p->slots[js[k].slot];
        if (!js[k].ok)
            continue;
        bool seen = t->g_job == js[k].job_no;
        uint64_t span = now - t->g_t, waited = js[k].wait - t->g_wait;
        if (starving && seen && 2 * span >= STARVE_WINDOW_NS && 2 * waited > span) {
            /* Runnable most of the window, and the pool hardly ran.
             * Counted once per job (a job left in the class, without
             * the privilege, is found again window after window). */
            if (t->g_starved != js[k].job_no)
                p->st.starved++;
            t->g_starved = js[k].job_no;
            if (fxi_thread_leave_idle_class(t->tid) == 0) {
                t->raised = true;
                t->idle_cls = false;
            } else {
                p->degraded_ns = now + DEGRADE_NS;
            }
        }
        if (!seen || judge) { /* a new baseline */
            t->g_job = js[k].job_no;
            t->g_t = now;
            t->g_cpu = js[k].cpu;
            t->g_wait = js[k].wait;
        }
    }
    if (judge)
        p->g_start = now;
}

static void *guard_main(void *arg)
{
    bpool *p = arg;
    sample_job *js = fxi_alloc(p->max * sizeof *js);
    fxi_mutex_lock(&p->mx);
    while (!p->stopping && js) {
        top_up_locked(p);
        if (p->st.running == 0) {
            fxi_cond_wait(&p->guard_cv, &p->mx); /* a job starts, or stop */
            continue;
        }
        uint64_t until = fxi_now_ns() + GUARD_PERIOD_NS;
        struct timespec ts = {.tv_sec = (time_t) (until / 1000000000u),
                              .tv_nsec = (long) (until % 1000000000u)};
        (void) fxi_cond_timedwait(&p->guard_cv, &p->mx, &ts);
        if (!p->stopping)
            check_locked(p, js);
    }
    fxi_mutex_unlock(&p->mx);
    if (js)
        fxi_free(js, p->max * sizeof *js);
    return NULL;
}

void fxi_bguard_start_locked(bpool *p)
{
    if (p->nice != FX_POOL_NICE_IDLE || p->guard_live || p->stopping)
        return;
    /* The guard takes its creator's class: a submitter, normally a
     * scheduler thread (the normal class). Best effort: without it,
     * jobs are not watched. Asynchronous signals blocked, as in pool
     * threads. */
    p->guard_live = fxi_bpool_thread_create(&p->guard, guard_main, p) == 0;
}

void fxi_bguard_job_started_locked(bpool *p)
{
    if (p->guard_live && p->st.running == 1)
        pthread_cond_signal(&p->guard_cv); /* it may wait without a timeout */
}

void fxi_bguard_stop(bpool *p)
{
    fxi_mutex_lock(&p->mx);
    bool live = p->guard_live;
    p->guard_live = false;
    p->stopping = true;
    pthread_cond_signal(&p->guard_cv);
    fxi_mutex_unlock(&p->mx);
    if (live)
        pthread_join(p->guard, NULL);
}
