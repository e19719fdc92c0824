/* Ranked mutexes: pthread mutexes with a lock-order check in debug builds.
 *
 * Every mutex of the library has a rank (fxi_lock_rank below). A thread
 * may take a mutex only while every mutex it already holds has a strictly
 * lower rank, so no two threads can wait for each other in a cycle. With
 * FXI_LOCK_ORDER set (the default when NDEBUG is not defined, i.e. every
 * build but buildtype=release; the meson option `lock_order` forces it
 * on or off), each thread keeps a small stack of the mutexes it holds and
 * aborts with a message naming both locks on a lock taken out of order, on
 * an unlock of a mutex it does not hold and on a fini of a mutex it holds.
 * Without it these are plain inlined pthread calls. The model is
 * jemalloc's witness (src/witness.c): ranks, per-thread held list, abort.
 *
 * The table of ranks and what each lock protects is in docs/design.md
 * ("Locks"). Rules for every function below: the mutex is caller-owned
 * storage; call from any thread; there are no error returns (glibc's
 * default mutexes cannot fail to initialise, and lock/unlock errors are
 * misuse that the debug check turns into an abort). Never take or release
 * one of these in a signal handler. */
#ifndef FXI_PLATFORM_MUTEX_H
#define FXI_PLATFORM_MUTEX_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#ifndef FXI_LOCK_ORDER
#ifdef NDEBUG
#define FXI_LOCK_ORDER 0
#else
#define FXI_LOCK_ORDER 1
#endif
#endif

/* The one allowed acquisition order: a thread holding a lock of rank r
 * may take only locks of rank > r. Outer layers first, so a lock may be
 * held while calling down the layers, never up. Keep in step with the
 * table in docs/design.md. */
typedef enum fxi_lock_rank {
    FXI_RANK_NONE = 0, /* below every lock; not a valid rank for a mutex */
    /* otp/app.c: the list of running applications. Held across a send
     * (fx_app_stop), so below everything the send path takes. */
    FXI_RANK_APP,
    /* otp/kernel.c: a VM's registry waiters and start/stop flags. Held
     * across fx_is_alive (a QSBR section and a lock-free lookup). */
    FXI_RANK_KERNEL,
    /* otp/kernel_epoch.c: the live-kernel list and every kernel's epoch
     * records (process-wide). Leaf today. */
    FXI_RANK_EPOCH,
    /* dist/: a VM's node table (remote nodes, their pids, connections).
     * Held across spawns, sends and fx_is_alive; never across a wait. */
    FXI_RANK_DIST,
    /* io/net_table.c: creation of a VM's network state (process-wide).
     * Held across fx_vm_attach and a spawn. */
    FXI_RANK_NET_CREATE,
    /* io: one socket (its slot). Held across sends and timer starts;
     * never two at once. */
    FXI_RANK_NET_SOCK,
    /* io/net_table.c: a VM's free socket slots and slot chunks. Leaf. */
    FXI_RANK_NET_TABLE,
    /* io/net_sock.c: the spare descriptor for refusing connections when
     * out of fds. Leaf. */
    FXI_RANK_NET_RESERVE,
    /* actor/vm.c: a VM's attached values (the list and its closing). */
    FXI_RANK_ATTACH,
    /* actor/inbox.c: a VM's list of inboxes (shutdown wakes their
     * waiters). Leaf. */
    FXI_RANK_INBOXES,
    /* actor/timers.c: a VM's timer wheel and timer records. Leaf today
     * (allocates; looks pids up without a lock). */
    FXI_RANK_TIMERS,
    /* actor/ptable.c: a VM's shared list of free process-table slots. */
    FXI_RANK_PTABLE,
    /* sched/sched.c: a pool's inject queue (ring and head). */
    FXI_RANK_INJECT,
    /* sched/sched.c: a pool's idle list (parked threads). */
    FXI_RANK_IDLE,
    /* sched/sched.c: the units handed to one scheduler thread
     * (fxi_sched_hand_to). Leaf: nothing is queued or woken under it. */
    FXI_RANK_XFER,
    /* mem/msgcache.c: a pool's depot of full message magazines. */
    FXI_RANK_DEPOT,
    /* platform/fault.c: the fault handlers' install count and the
     * handlers they replaced (process-wide). */
    FXI_RANK_FAULT,
    /* pool/bpool.c: a VM's blocking pool (job queue, thread list,
     * counters). Leaf: nothing is sent or locked while it is held. */
    FXI_RANK_BPOOL,
    /* testing/: a crash capture's or a probe's records. Leaf: held only
     * to copy records in or out. */
    FXI_RANK_TESTING,
    FXI_RANK_COUNT
} fxi_lock_rank;

typedef struct fxi_mutex {
    pthread_mutex_t mx;
    fxi_lock_rank rank; /* fixed at init; kept in every build (same layout) */
    const char *name;   /* static string for the abort message */
} fxi_mutex;

/* For static mutexes: static fxi_mutex m = FXI_MUTEX_INITIALIZER(rank, "name"); */
#define FXI_MUTEX_INITIALIZER(rank_, name_)                                              \
    {                                                                                    \
        PTHREAD_MUTEX_INITIALIZER, (rank_), (name_)                                      \
    }

/* Checker entry points (mutex.c), compiled in every build so a test can
 * force the check on; called by the inline functions only with
 * FXI_LOCK_ORDER. Each aborts (after a message on stderr) on misuse. */
void fxi_witness_check(const fxi_mutex *m); /* order against the held locks */
void fxi_witness_push(const fxi_mutex *m);  /* now held */
void fxi_witness_pop(const fxi_mutex *m);   /* released; aborts if not held */
void fxi_witness_owned(const fxi_mutex *m); /* aborts if not held */
void fxi_witness_fini(const fxi_mutex *m);  /* aborts if held by this thread */
unsigned fxi_witness_depth(void);           /* locks this thread holds */

/* rank in (FXI_RANK_NONE, FXI_RANK_COUNT); name a static string. */
static inline void fxi_mutex_init(fxi_mutex *m, fxi_lock_rank rank, const char *name)
{
    pthread_mutex_init(&m->mx, NULL);
    m->rank = rank;
    m->name = name;
}

static inline void fxi_mutex_fini(fxi_mutex *m)
{
#if FXI_LOCK_ORDER
    fxi_witness_fini(m);
#endif
    pthread_mutex_destroy(&m->mx);
}

/* Checked before blocking, so an out-of-order lock aborts rather than
 * deadlocking later. */
static inline void fxi_mutex_lock(fxi_mutex *m)
{
#if FXI_LOCK_ORDER
    fxi_witness_check(m);
#endif
    pthread_mutex_lock(&m->mx);
#if FXI_LOCK_ORDER
    fxi_witness_push(m);
#endif
}

/* 0 when taken, non-zero (EBUSY) when another thread holds it. The order
 * is checked as for fxi_mutex_lock (as jemalloc does): a trylock out of
 * order cannot deadlock, but the rule stays one simple invariant. */
static inline int fxi_mutex_trylock(fxi_mutex *m)
{
#if FXI_LOCK_ORDER
    fxi_witness_check(m);
#endif
    int rc = pthread_mutex_trylock(&m->mx);
#if FXI_LOCK_ORDER
    if (rc == 0)
        fxi_witness_push(m);
#endif
    return rc;
}

static inline void fxi_mutex_unlock(fxi_mutex *m)
{
#if FXI_LOCK_ORDER
    fxi_witness_pop(m);
#endif
    pthread_mutex_unlock(&m->mx);
}

/* pthread_cond_wait on m (held by the caller): m is released while
 * waiting and held again on return, for the checker as for pthread. */
static inline void fxi_cond_wait(pthread_cond_t *cv, fxi_mutex *m)
{
#if FXI_LOCK_ORDER
    fxi_witness_pop(m);
#endif
    pthread_cond_wait(cv, &m->mx);
#if FXI_LOCK_ORDER
    fxi_witness_push(m);
#endif
}

/* pthread_cond_timedwait on m, as fxi_cond_wait; abstime on the clock cv
 * was created with. Returns pthread_cond_timedwait's answer (ETIMEDOUT). */
static inline int fxi_cond_timedwait(pthread_cond_t *cv, fxi_mutex *m,
                                     const struct timespec *abstime)
{
#if FXI_LOCK_ORDER
    fxi_witness_pop(m);
#endif
    int rc = pthread_cond_timedwait(cv, &m->mx, abstime);
#if FXI_LOCK_ORDER
    fxi_witness_push(m);
#endif
    return rc;
}

/* Debug aid for "under mx" helpers: aborts when the calling thread does
 * not hold m. No-op without FXI_LOCK_ORDER. */
static inline void fxi_mutex_assert_owner(const fxi_mutex *m)
{
#if FXI_LOCK_ORDER
    fxi_witness_owned(m);
#else
    (void) m;
#endif
}

#endif
