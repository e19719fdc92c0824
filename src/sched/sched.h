/* Scheduler threads: per-thread run queues with work stealing, a one-slot
 * "next" hand-off, a global inject queue for threads outside the pool, and
 * spin-then-park on a futex with at most one searching thread woken per
 * enqueue. The pool schedules opaque units (void *); the layer above runs
 * them through fxi_sched_hooks. See docs/design.md ("Scheduling"). */
#ifndef FXI_SCHED_SCHED_H
#define FXI_SCHED_SCHED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ds/deque.h"
#include "platform/atomic.h"
#include "mem/msgcache.h"
#include "platform/mutex.h"

#define FXI_CACHELINE 64

typedef struct fxi_sched fxi_sched;
typedef struct fxi_pool fxi_pool;

/* An I/O poller plugged into the pool (src/io/poller.c; docs/net.md,
 * "The poller"). The pool calls it; it never calls the pool back except
 * through the normal wake paths of the units it makes runnable. */
typedef struct fxi_poller {
    /* Non-blocking: handles ready events on this scheduler thread (which
     * is online: it may send messages): first those its last wait() took,
     * else what epoll has now. Returns the events handled. */
    int (*poll)(struct fxi_poller *io, fxi_sched *s);
    /* Blocks up to timeout_ns (< 0: forever) until events are ready or
     * wake() is called, and keeps the events it took for this thread's
     * next poll(); handles nothing (the thread is offline). Returns > 0
     * when events were taken: the caller must poll() once online. */
    int (*wait)(struct fxi_poller *io, fxi_sched *s, int64_t timeout_ns);
    /* Makes a wait() in progress (or the next one) return. Any thread. */
    void (*wake)(struct fxi_poller *io);
} fxi_poller;

typedef struct fxi_sched_hooks {
    /* Thread body: sets up per-thread state, then calls fxi_sched_loop
     * (possibly again after a crash unwound it). */
    void (*thread_body)(fxi_sched *s);
    /* Runs one unit taken from a queue. */
    void (*run)(fxi_sched *s, void *unit);
    /* Periodic maintenance (timers, reclamation), every few runs and
     * before parking. */
    void (*tick)(fxi_sched *s);
    /* Nanoseconds until this thread must wake for maintenance, < 0 for
     * none. Called before each sleep; timer_duty is true for the one
     * thread that sleeps on the timer deadline. */
    int64_t (*park_timeout_ns)(fxi_sched *s, bool timer_duty);
    /* The thread is about to sleep / has woken (quiescent-state hooks). */
    void (*offline)(fxi_sched *s);
    void (*online)(fxi_sched *s);
    /* The watchdog (sched/watchdog.c) saw `unit` in one handler call
     * on s for at least running_ns; at_shutdown: fx_vm_shutdown's
     * deadline passed. Called on the watchdog thread or the shutting-down
     * thread, never on s's; `seq` is the call's fxi_sched_watch value,
     * which the hook re-checks before touching the unit (it may have
     * returned meanwhile). */
    void (*stuck)(fxi_sched *s, void *unit, uint64_t seq, uint64_t running_ns,
                  bool at_shutdown);
    /* The watchdog is taking the slots of s's stuck call (docs/
     * watchdog.md): the layer above hands over, with fxi_pool_inject,
     * the units the call holds back until it returns (muted senders,
     * deferred wake-ups). Called on the watchdog thread while it holds
     * the claim: the owner is inside the call and outside every
     * fxi_sched_defer_begin/end and fxi_sched_wake_owner, and waits for
     * the claim before it touches those lists again. May be NULL. */
    void (*hand_over)(fxi_sched *s);
} fxi_sched_hooks;

struct fxi_sched {
    /* --- owner thread only -------------------------------------------- */
    fxi_pool *pool;
    uint32_t id;
    uint32_t next_streak; /* consecutive runs from the next and held slots */
    void *next;           /* actor woken last: runs next, not stealable */
    void *held;           /* a producer waiting for `next` to catch up */
    void *held_for;       /* the unit `held` floods; NULL once it runs */
    uint32_t held_runs;   /* runs from `next` left before `held` runs anyway */
    uint64_t resumed_ns;  /* clock when the unit being run left `held`, else 0 */
    /* Pinned units (docs/design.md, "Gathering producers"): a FIFO ring
     * served with the run queue but not stealable. */
    void **pin;
    uint32_t pin_cap, pin_head, pin_len;
    uint64_t pinned_ns;   /* clock when the last unit taken from `pin` left it */
    uint64_t pinned_tick; /* the value of ticks while that unit runs */
    uint64_t rng;
    uint64_t ticks;      /* units run; relaxed stores (fx_vm_sched_stats reads it) */
    uint64_t polled_ns;  /* clock of the last non-blocking poll (poller) */
    uint64_t io_seen_ns; /* clock of the last poll with busy-poll socket events */
    bool io_busy;        /* set by the poller: this poll had such events */
    uint64_t io_spin_ns; /* poll-spin before the next park (adaptive, spin_poll.c) */
    uint64_t io_spin_off_until; /* clock: no spin before (CPU contention seen) */
    bool searching;             /* counted in pool->searching */
    uint32_t spin_rounds;       /* search rounds with a spin (adaptive, sched.c) */
    bool in_poll;               /* handling a poller batch: pushes defer notify */
    bool poll_pushed;           /* a push during the batch skipped its notify */
    void *user;                 /* the actor layer's per-thread state */
    pthread_t thread;

    /* --- read by other threads ---------------------------------------- */
    _Alignas(FXI_CACHELINE) fxi_deque dq; /* owner pushes, anyone steals */

    /* --- atomic --------------------------------------------------------- */
    /* 0 while parked; set to 1 by the notifier that popped us from the idle
     * list (and counted us as searching). Futex word. */
    _Alignas(FXI_CACHELINE) uint32_t park_word;
    /* Counters, written by the owner, read by stats readers. */
    uint64_t stat_steals;
    uint64_t stat_parks;

    /* --- units handed to this thread by others (fxi_sched_hand_to) ----- */
    /* xfer_mx (rank FXI_RANK_XFER, a leaf) guards the list and xfer_closed
     * (XFER_PARKED while the thread is offline, XFER_WD once the watchdog
     * took the lists of a stuck call). xfer_flag (atomic) is nonzero
     * while the list is non-empty or XFER_WD is set: the owner's one
     * relaxed load per pick. */
    _Alignas(FXI_CACHELINE) fxi_mutex xfer_mx;
    void **xfer;
    uint32_t xfer_len, xfer_cap, xfer_closed;
    uint32_t xfer_flag;

    /* --- watchdog (sched/watchdog.c, docs/watchdog.md) ------------------ */
    /* Written by the owner once per handler call, read by the watchdog:
     * odd while a handler call runs (incremented on entry and on exit),
     * with the unit it runs and the handler's bits. */
    _Alignas(FXI_CACHELINE) uint64_t wd_seq; /* atomic */
    void *wd_unit;                           /* atomic */
    uint64_t wd_fn;                          /* atomic */
    /* 1 while the owner is inside fxi_sched_wake_owner (atomic). */
    uint32_t wd_in_wake;
    /* Hand-over of the next and held slots of a stuck thread: 0, CLAIMING
     * (the watchdog is checking the owner), TAKEN (it moved them; the
     * owner sends its wakes to the deque until the call returns). */
    uint32_t wd_claim;     /* atomic */
    uint32_t wd_retire;    /* atomic: a spare thread is asked to retire */
    uint32_t wd_exited;    /* atomic futex word: the thread has left */
    bool spare;            /* immutable: a slot for watchdog threads */
    bool started;          /* thread exists, not joined (starter/joiner) */
    uint64_t wd_local_seq; /* owner only: the value of wd_seq */
};

struct fxi_pool {
    fxi_sched_hooks hooks;
    fxi_sched *scheds; /* n entries, cache-line aligned */
    uint32_t n;        /* slots: nbase scheduler threads, then spares */
    uint32_t nbase;
    /* The longest poll-spin before a park after recent I/O; 0: none.
     * Set before the threads start (fx_vm_config.io_spin_us). */
    uint64_t io_spin_max_ns;
    uint32_t nactive;        /* atomic: threads started and not retiring */
    uint32_t spares_live;    /* atomic: spare slots started and not joined */
    uint32_t stopping;       /* atomic: set once by fxi_pool_stop */
    struct fxi_watchdog *wd; /* NULL when off; owned by sched/watchdog.c */
    struct fxi_det *det;     /* deterministic mode (sched/det.h), else NULL */

    /* Inject queue (threads outside the pool). inject_mx protects the
     * ring; inject_len is also read without the lock as a hint. */
    _Alignas(FXI_CACHELINE) fxi_mutex inject_mx;
    void **inject_ring;
    uint32_t inject_cap, inject_head;
    uint32_t inject_len; /* atomic for readers, written under inject_mx */

    /* Parking. idle_mx protects idle[] and nidle; taken after inject_mx
     * never (the two are never held together). */
    _Alignas(FXI_CACHELINE) uint32_t searching; /* atomic */
    uint32_t nparked;                           /* atomic */
    uint32_t timer_sleeper;                     /* atomic: id+1 of the sleeper, 0 none */
    uint64_t sleeper_deadline_ns;               /* atomic: when the sleeper wakes */
    fxi_poller *poller;  /* atomic: set once (fxi_pool_set_poller), else NULL */
    uint32_t io_sleeper; /* atomic: id+1 of the thread waiting in the poller */
    fxi_mutex idle_mx;
    uint32_t *idle;
    uint32_t nidle;

    /* Message blocks passed between the threads' caches (own lock). */
    _Alignas(FXI_CACHELINE) fxi_mc_depot depot;
};

/* Creates n scheduler slots (threads not started), the last nspare of
 * them for spare threads started by the watchdog. 0 or FX_ENOMEM. */
int fxi_pool_init(fxi_pool *p, uint32_t n, uint32_t nspare, const fxi_sched_hooks *hooks);
/* Starts the threads of the non-spare slots. 0 or FX_ESYS (threads
 * already started are stopped). */
int fxi_pool_start(fxi_pool *p);
/* Starts slot i's thread (a spare). 0 or FX_ESYS. Watchdog thread only. */
int fxi_pool_start_slot(fxi_pool *p, uint32_t i);
/* Joins slot i's thread if it has left (wd_exited); true if the slot is
 * free afterwards. Watchdog thread, or the stopping thread once the
 * watchdog is stopped. */
bool fxi_pool_reap_slot(fxi_pool *p, uint32_t i);
/* Asks every thread to leave its loop, wakes them and joins those that
 * leave before deadline_ns (monotonic; UINT64_MAX: no deadline). Returns
 * how many threads are still running (in a handler). May be called again
 * to join the rest. Units still queued stay queued; their owner frees
 * them (fx_vm_shutdown walks the process table). */
uint32_t fxi_pool_stop_until(fxi_pool *p, uint64_t deadline_ns);
void fxi_pool_fini(fxi_pool *p);

/* The scheduler loop; returns when the pool stops. Scheduler thread only. */
void fxi_sched_loop(fxi_sched *s);

/* park_word values (sched.c, spin_poll.c) */
#define FXI_PARKED 0u
#define FXI_POPPED 1u /* a notifier took us off the idle list, counted searching */
#define FXI_KICKED 2u /* timer deadline moved earlier: recompute the timeout */

/* The poll-spin before the poller thread sleeps (spin_poll.c): 1 events
 * taken, -1 park_word changed, 0 sleep. Owner thread, from park(). */
int fxi_sched_spin_poll(fxi_sched *s, fxi_poller *io, int64_t to);

/* Makes a unit runnable from its own scheduler thread: into the next slot
 * (hand-off; the previous occupant goes to the run queue). While the
 * watchdog has taken the slots of a stuck call, into the run queue. */
void fxi_sched_wake_owner(fxi_sched *s, void *unit);

/* The owner enters / leaves a handler call (the watchdog's view; docs/
 * watchdog.md). No clock read: a store per call on a line of the
 * owner's. fn: the handler's bits (for the report). Owner thread only. */
static inline void fxi_sched_watch_enter(fxi_sched *s, void *unit, uint64_t fn)
{
    /* Relaxed: read by the watchdog only after its acquire load of
     * wd_seq below. */
    fxi_atomic_store_relaxed_ptr(&s->wd_unit, unit);
    fxi_atomic_store_relaxed_64(&s->wd_fn, fn);
    /* Release: publishes wd_unit, wd_fn and the owner's earlier writes to
     * the next/held slots to a watchdog that acquire-loads this value
     * (it reads them only while the value is unchanged). */
    fxi_atomic_store_release_64(&s->wd_seq, ++s->wd_local_seq);
}
void fxi_sched_watch_settle(fxi_sched *s);
bool fxi_watchdog_owner_defer(fxi_sched *s);
/* The owner is about to change a list the watchdog's hand_over hook may
 * take during a stuck call (the deferred wake-ups): the same asymmetric
 * Dekker half as fxi_sched_wake_owner. false: the watchdog took the
 * lists of this call (they are empty now); do not defer, wake at once.
 * Either way, fxi_sched_defer_end follows. Owner thread only. */
static inline bool fxi_sched_defer_begin(fxi_sched *s)
{
    /* Relaxed store, compiler barrier, load: as in fxi_sched_wake_owner
     * (the watchdog's membarrier is the full fence). */
    fxi_atomic_store_relaxed_32(&s->wd_in_wake, 1);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    /* Acquire: pairs with the watchdog's release of TAKEN (or of 0). */
    if (__builtin_expect(fxi_atomic_load_acquire_32(&s->wd_claim) != 0, 0))
        return fxi_watchdog_owner_defer(s);
    return true;
}
static inline void fxi_sched_defer_end(fxi_sched *s)
{
    /* Release: our list writes before the watchdog's acquire load. */
    fxi_atomic_store_release_32(&s->wd_in_wake, 0);
}
static inline void fxi_sched_watch_leave(fxi_sched *s)
{
    /* Release: as in enter. Then, with only a compiler barrier (the
     * watchdog's membarrier makes it a full one), the load of wd_claim:
     * the asymmetric Dekker pair of docs/watchdog.md. Either the watchdog
     * sees the new wd_seq and backs off, or we see its claim. */
    fxi_atomic_store_release_64(&s->wd_seq, ++s->wd_local_seq);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    /* Acquire: pairs with the watchdog's release of TAKEN (the slots it
     * emptied). */
    if (__builtin_expect(fxi_atomic_load_acquire_32(&s->wd_claim) != 0, 0))
        fxi_sched_watch_settle(s);
}
/* The value fxi_sched_watch_enter/leave last stored (odd: in a call).
 * Any thread (acquire). */
static inline uint64_t fxi_sched_watch(fxi_sched *s)
{
    /* Acquire: pairs with the release stores in enter/leave. */
    return fxi_atomic_load_acquire_64(&s->wd_seq);
}
/* A unit that used up its batch: appends it to the back of the owner's
 * run queue, except the consumer of a held producer, which keeps the next
 * slot (see fxi_sched_hold_owner). */
void fxi_sched_yield_owner(fxi_sched *s, void *unit);
/* Ends a producer's run because it floods `consumer`, the occupant of
 * the owner's next slot: the producer waits in the owner's held slot (not
 * stealable) while the consumer drains, and runs again when the next slot
 * is empty or has had `runs` runs, whichever comes first, or when the
 * streak cap sends both slots to the run queue. Keeps a flooding pair on
 * one core (docs/design.md, "Flood hand-off"). Owner thread only;
 * consumer == s->next. */
void fxi_sched_hold_owner(fxi_sched *s, void *unit, void *consumer, uint32_t runs);
/* While the unit being run was taken from the held slot: the monotonic
 * clock (ns) when it was; otherwise 0. Owner thread only. */
static inline uint64_t fxi_sched_resumed_held_ns(const fxi_sched *s)
{
    return s->resumed_ns;
}
/* Gathering producers (docs/design.md): queues a unit on the owner's
 * pinned ring, served in turn with the run queue but never stolen, so
 * it runs on this thread. The consumer of a held producer keeps the next
 * slot instead, as in fxi_sched_yield_owner. Out of memory, or in a
 * deterministic pool: fxi_sched_yield_owner. Owner thread only. */
void fxi_sched_pin_owner(fxi_sched *s, void *unit);
/* Hands a runnable unit to scheduler thread `to` of s's pool, which pins
 * it (fxi_sched_pin_owner) at its next pick; to == s->id pins it here.
 * false if that thread is parked or leaving, the watchdog took its lists,
 * or memory ran out: the caller keeps the unit (and queues it itself).
 * s's owner thread only. */
bool fxi_sched_hand_to(fxi_sched *s, uint32_t to, void *unit);
/* The thread goes offline (parks or leaves): refuses hand-overs until
 * fxi_sched_xfer_open, and moves the units handed to it and its pinned
 * ones to its run queue, where the park re-check (or a thief) finds
 * them. Owner thread only (the offline hook). */
void fxi_sched_xfer_close(fxi_sched *s);
/* The thread is online again: accepts hand-overs. Owner thread only. */
void fxi_sched_xfer_open(fxi_sched *s);
/* The watchdog's hand-over of a stuck call (sched/watchdog.c, holding
 * the claim): the pinned ring and the handed units to the inject queue;
 * hand-overs are refused until the owner's next pick. */
void fxi_sched_xfer_hand_over(fxi_sched *s);
/* While the unit being run was taken from the pinned ring: the
 * monotonic clock (ns) when it was; otherwise 0. Owner thread only. */
static inline uint64_t fxi_sched_resumed_pinned_ns(const fxi_sched *s)
{
    /* No store per pick: the run taken from the ring is the one during
     * which ticks still has the value it had then. */
    return s->pinned_tick == s->ticks ? s->pinned_ns : 0;
}
/* Appends a unit to the owner's run queue (stealable). Owner only. */
void fxi_sched_push_owner(fxi_sched *s, void *unit);
/* A spare thread was asked to retire (watchdog). Relaxed: a request the
 * loop polls; the kick that follows it is a release. Any thread. */
static inline bool fxi_sched_retiring(fxi_sched *s)
{
    return fxi_atomic_load_relaxed_32(&s->wd_retire) != 0;
}
/* Makes a parked s re-check its state (after a retire request). Any
 * thread. */
void fxi_pool_kick(fxi_sched *s);
/* Makes a unit runnable from a thread outside the pool. Any thread. */
void fxi_pool_inject(fxi_pool *p, void *unit);
/* Takes the oldest unit of the inject queue, NULL if none. Any thread
 * (the deterministic loop, sched/det.c). */
void *fxi_pool_inject_pop(fxi_pool *p);
/* Wakes one parked thread if nobody is searching; called after making
 * work visible (a queue push). Any thread. */
void fxi_pool_notify(fxi_pool *p);
/* sched/steal.c: a thread out of local work steals (spinning a few
 * rounds while another thread is awake to push work); NULL if it found
 * none. Owner, between runs. */
void *fxi_sched_search(fxi_sched *s);
/* Makes the calling thread slot s's scheduler thread (s NULL: no longer
 * one), for a thread that drives a deterministic pool (sched/det.h). */
void fxi_sched_bind(fxi_sched *s);

/* A timer deadline (ns, monotonic) was set: wakes the timer sleeper if it
 * sleeps past it. Any thread. */
void fxi_pool_deadline_changed(fxi_pool *p, uint64_t deadline_ns);

/* Plugs an I/O poller into the pool, once (later calls are ignored), and
 * kicks parked threads so one of them waits in it. The poller must stay
 * valid until the threads are joined. Any thread. */
void fxi_pool_set_poller(fxi_pool *p, fxi_poller *io);

/* The calling thread's scheduler if it is a scheduler thread of p, else
 * NULL. */
fxi_sched *fxi_sched_current(const fxi_pool *p);

static inline bool fxi_pool_stopping(fxi_pool *p)
{
    /* Relaxed: a flag; the loops re-read it, and park() reads it after
     * its acquire load of park_word (stop's release store of FXI_POPPED). */
    return fxi_atomic_load_relaxed_32(&p->stopping) != 0;
}

#endif
