/* The blocking pool's state, shared by bpool.c (queue, threads,
 * lifecycle) and bguard.c (the starvation guard of SCHED_IDLE threads).
 * Pool files only. */
#ifndef FXI_POOL_BPOOL_INT_H
#define FXI_POOL_BPOOL_INT_H

#include <fauxtp/pool.h>
#include <fauxtp/vm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "platform/fault.h"
#include "platform/mutex.h"

#define DEFAULT_MAX_THREADS 8u
#define LIMIT_MAX_THREADS 1024u
#define DEFAULT_QUEUE 1024u
#define LIMIT_QUEUE (1024u * 1024u)
#define DEFAULT_NICE FX_POOL_NICE_IDLE /* with the guard: docs/tasks.md, "Priority" */
/* A SCHED_IDLE pool thread first lowers its nice value by this much: the
 * priority it has if the guard raises it out of the class. */
#define RAISED_NICE 10
#define DEFAULT_IDLE_MS 10000u
#define LIMIT_IDLE_MS 3600000u

enum { SLOT_FREE, SLOT_LIVE, SLOT_EXITED };

typedef struct bpool bpool;

/* One pool thread. Every field under the pool's mutex, except site and
 * jb (the thread's own). */
typedef struct pthr {
    bpool *p;           /* immutable */
    pthread_t t;        /* SLOT_LIVE, SLOT_EXITED: to join */
    pthread_cond_t cv;  /* this thread's wake-up while idle */
    uint8_t state;      /* SLOT_* */
    bool woken;         /* a submission popped it off the idle stack */
    fx_work_fn job_fn;  /* the job running now, NULL when none */
    uint64_t job_start; /* fxi_now_ns when it started */
    fxi_fault_site site;
    /* --- the starvation guard (bguard.c) --- */
    int32_t tid;     /* kernel thread id, set before the first job */
    bool idle_cls;   /* in SCHED_IDLE (its own class change, under mx) */
    bool raised;     /* the guard moved it out of SCHED_IDLE for this job */
    uint64_t job_no; /* jobs this thread started (identifies the job) */
    uint64_t g_job, g_t, g_cpu, g_wait; /* guard's last sample (guard only) */
    uint64_t g_starved;                 /* the job last counted starving */
} pthr;

struct bpool {
    fx_vm *vm;              /* immutable */
    uint32_t max, min;      /* immutable: config */
    uint32_t cap;           /* immutable: ring slots (pool_queue) */
    int nice;               /* immutable: pool_nice after defaults; -1 none */
    uint64_t idle_ns;       /* immutable: pool_idle_ms */
    bool trap;              /* immutable: trap_faults */
    fxi_mutex mx;           /* guards every field below */
    pthread_cond_t gone_cv; /* a thread left (stopping) */
    fx_pool_job *ring;      /* cap slots; jobs at head .. head+count-1 */
    uint32_t head, count;
    bool stopping;
    pthr *slots;      /* max slots */
    uint32_t *idle;   /* max: slot indexes of idle threads, newest last */
    fx_pool_stats st; /* threads, idle, queued, running: also live */
    /* --- the starvation guard (bguard.c) --- */
    pthread_cond_t guard_cv; /* wakes the guard: a job started, a thread left */
    pthread_t guard;
    bool guard_live;      /* guard thread started (joined by the stop hook) */
    uint64_t degraded_ns; /* until then new jobs avoid SCHED_IDLE (0: no) */
    uint64_t g_start;     /* the guard's current window began (guard only) */
};

/* The guard (bguard.c). Under p->mx: starts the guard thread if the pool
 * uses SCHED_IDLE and it is not running (best effort). */
void fxi_bguard_start_locked(bpool *p);
/* Under p->mx: a job started on an idle-class thread; wakes the guard. */
void fxi_bguard_job_started_locked(bpool *p);
/* The stop hook, after setting stopping, without p->mx: joins the guard. */
void fxi_bguard_stop(bpool *p);
/* Under p->mx: true while new jobs must not run in SCHED_IDLE (the guard
 * found a job starving and could not raise it). */
bool fxi_bguard_degraded_locked(const bpool *p);
/* pthread_create with every asynchronous signal blocked in the new
 * thread (SIGINT, SIGTERM, ...; not the synchronous SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL, SIGTRAP, SIGSYS, which fault traps need), whatever the
 * creating thread's mask, which is restored after. Pool and guard
 * threads are created by whichever thread submits (app.h: fx_app_run
 * blocks SIGINT and SIGTERM in every thread it starts). 0 or an errno
 * (bpool.c). */
int fxi_bpool_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);
/* Under p->mx, fewer than max threads live: starts one. 0, or FX_ESYS
 * (bpool.c). */
int fxi_bpool_start_thread_locked(bpool *p);

#endif
