/* Scheduler threads: run queues, stealing, parking. */
#include "sched/sched.h"

#include <fauxtp/error.h>
#include <stdlib.h>
#include <string.h>

#include "mem/alloc.h"
#include "platform/atomic.h"
#include "platform/park.h"
#include "sched/det.h"
#include "sched/gather.h"
#include "sched/watchdog.h"

/* Runs from the next and held slots in a row before their occupants
 * must queue like everyone else, when others are waiting. */
#define NEXT_SLOT_CAP 32
/* Every this many runs the inject queue is checked before local work. */
#define INJECT_INTERVAL 61
/* A busy thread polls the I/O poller (a syscall) at most this often. */
#define POLL_INTERVAL_NS 50000
/* A poller batch that left at least this many units in the thread's
 * queue wakes a parked thread to share them; fewer run here. */
#define POLL_SHARE_MIN 8

static _Thread_local fxi_sched *tls_sched;

fxi_sched *fxi_sched_current(const fxi_pool *p)
{
    fxi_sched *s = tls_sched;
    return (s && s->pool == p) ? s : NULL;
}

/* ---- inject queue ------------------------------------------------------ */

static int inject_push_locked(fxi_pool *p, void *u)
{
    if (p->inject_len == p->inject_cap) {
        uint32_t ncap = p->inject_cap ? p->inject_cap * 2 : 256;
        void **nr = fxi_alloc(ncap * sizeof *nr);
        if (!nr)
            return FX_ENOMEM;
        for (uint32_t i = 0; i < p->inject_len; i++)
            nr[i] = p->inject_ring[(p->inject_head + i) % p->inject_cap];
        fxi_free(p->inject_ring, p->inject_cap * sizeof *nr);
        p->inject_ring = nr;
        p->inject_cap = ncap;
        p->inject_head = 0;
    }
    p->inject_ring[(p->inject_head + p->inject_len) % p->inject_cap] = u;
    /* Relaxed: readers use inject_len only as a hint (work_available,
     * inject_pop); the ring itself is handed over by inject_mx. */
    fxi_atomic_store_relaxed_32(&p->inject_len, p->inject_len + 1);
    return 0;
}

static void *inject_pop(fxi_pool *p)
{
    /* Relaxed, hint only: a stale zero is re-checked before parking. */
    if (fxi_atomic_load_relaxed_32(&p->inject_len) == 0)
        return NULL;
    void *u = NULL;
    fxi_mutex_lock(&p->inject_mx);
    if (p->inject_len) {
        u = p->inject_ring[p->inject_head];
        p->inject_head = (p->inject_head + 1) % p->inject_cap;
        fxi_atomic_store_relaxed_32(&p->inject_len, p->inject_len - 1); /* hint */
    }
    fxi_mutex_unlock(&p->inject_mx);
    return u;
}

void *fxi_pool_inject_pop(fxi_pool *p)
{
    return inject_pop(p);
}

void fxi_sched_bind(fxi_sched *s)
{
    tls_sched = s;
}

/* ---- waking ------------------------------------------------------------ */

/* Wakes a thread whose park_word the caller just changed: the futex, and
 * the poller's wait if that thread is the one waiting in it. */
static void wake_parked(fxi_pool *p, fxi_sched *w)
{
    fxi_futex_wake(&w->park_word, 1);
    /* Dekker with park()'s claim of io_sleeper: our park_word store before
     * this load; its io_sleeper store before its park_word load. Either
     * we see it waiting in the poller, or it sees the new word. */
    fxi_atomic_fence_seq_cst();
    if (fxi_atomic_load_relaxed_32(&p->io_sleeper) == w->id + 1) {
        /* Acquire: pairs with fxi_pool_set_poller's release cas, so the
         * poller's fields (its eventfd) are visible to this waker. */
        fxi_poller *io = fxi_atomic_load_acquire_ptr(&p->poller);
        io->wake(io);
    }
}

/* Handles ready I/O events on this (online) thread. The owners the events
 * make runnable queue here; a parked thread is woken to share them only
 * when the batch left POLL_SHARE_MIN or more: waking one (a futex wake and
 * a context switch on each side) for a few short runs cost an HTTP server
 * on two threads a third more CPU per request than on one (docs/net.md,
 * "The poller"). The units stay stealable by any awake thread, and this
 * thread runs them before it parks. */
static int io_poll(fxi_sched *s, fxi_poller *io)
{
    s->polled_ns = fxi_now_ns();
    s->in_poll = true;
    s->poll_pushed = false;
    s->io_busy = false;
    int k = io->poll(io, s);
    s->in_poll = false;
    if (s->io_busy) /* events on a busy-poll socket: spin before parking */
        s->io_seen_ns = s->polled_ns;
    if (s->poll_pushed && fxi_deque_size_hint(&s->dq) >= POLL_SHARE_MIN)
        fxi_pool_notify(s->pool);
    return k;
}

void fxi_pool_set_poller(fxi_pool *p, fxi_poller *io)
{
    /* Release: the poller's fields before its pointer; pairs with the
     * acquire loads in the loop and park(). */
    if (!fxi_atomic_cas_release_ptr(&p->poller, NULL, io))
        return;
    for (uint32_t i = 0; i < p->n; i++) {
        fxi_sched *w = &p->scheds[i];
        /* Release, as in fxi_pool_deadline_changed: a parked thread
         * re-runs its wait loop and claims the poller. */
        if (fxi_atomic_cas_release_32(&w->park_word, FXI_PARKED, FXI_KICKED))
            wake_parked(p, w);
    }
}

/* Wakes one parked thread if nobody is searching. Called after making work
 * visible (a queue push). */
void fxi_pool_notify(fxi_pool *p)
{
    /* Dekker with park(): orders our queue push before the loads of
     * searching/nparked below; park() orders its nparked increment before
     * re-checking the queues. One of the two sees the other. */
    fxi_atomic_fence_seq_cst();
    /* Relaxed: the fence above orders these loads; the counters carry no
     * data. */
    if (fxi_atomic_load_relaxed_32(&p->searching) != 0 ||
        fxi_atomic_load_relaxed_32(&p->nparked) == 0)
        return;
    fxi_sched *w = NULL;
    fxi_mutex_lock(&p->idle_mx);
    if (p->nidle > 0) {
        w = &p->scheds[p->idle[--p->nidle]];
        /* Relaxed counters: idle_mx orders them with park/unregister_idle;
         * lock-free readers (notify, deadline_changed) order their loads
         * with a seq_cst fence. */
        fxi_atomic_fetch_add_relaxed_32(&p->nparked, (uint32_t) -1);
        /* The woken thread starts out searching; it leaves that state
         * when it finds work or parks again. */
        fxi_atomic_fetch_add_relaxed_32(&p->searching, 1);
        /* Release: orders the searching count (and the caller's queue
         * push) before the wake; pairs with the acquire loads of park_word
         * in park(). */
        fxi_atomic_store_release_32(&w->park_word, FXI_POPPED);
    }
    fxi_mutex_unlock(&p->idle_mx);
    if (w)
        wake_parked(p, w);
}

static void push_local(fxi_sched *s, void *u)
{
    if (fxi_deque_push_owner(&s->dq, u) != 0) {
        /* Out of memory growing the deque: queue globally instead. */
        fxi_pool_inject(s->pool, u);
        return;
    }
    if (s->in_poll) {
        s->poll_pushed = true; /* io_poll decides once for the batch */
        return;
    }
    fxi_pool_notify(s->pool);
}

void fxi_sched_wake_owner(fxi_sched *s, void *unit)
{
    /* Relaxed store, compiler barrier, load: the owner's half of the
     * asymmetric Dekker pair with the watchdog's claim (its membarrier
     * is the full fence; docs/watchdog.md). */
    fxi_atomic_store_relaxed_32(&s->wd_in_wake, 1);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    /* Acquire: pairs with the watchdog's release of CLAIMING/TAKEN. */
    if (__builtin_expect(fxi_atomic_load_acquire_32(&s->wd_claim) != 0, 0) &&
        fxi_watchdog_owner_wake(s, unit)) {
        /* Release: as below. */
        fxi_atomic_store_release_32(&s->wd_in_wake, 0);
        return;
    }
    if (s->next)
        push_local(s, s->next);
    s->next = unit;
    /* Release: our slot writes before the watchdog's acquire load. */
    fxi_atomic_store_release_32(&s->wd_in_wake, 0);
}

void fxi_sched_push_owner(fxi_sched *s, void *unit)
{
    push_local(s, unit);
}

static void yield_owner(fxi_sched *s, void *unit)
{
    if (unit == s->held_for && s->next == NULL) {
        /* The consumer of a held producer goes on draining here, within
         * the runs the producer granted it and the streak cap. */
        s->next = unit;
        return;
    }
    /* Nothing else is queued here (deque, slots, inject queue): this
     * thread's next pick is this unit, so no thread is woken for it. A
     * woken thread could only steal it, moving the actor and the
     * messages queued for it to another core while this one goes idle:
     * in `mailbox` on a quiet machine a run of the receiver's ended that
     * way thousands of times per second, each with a futex wake-up
     * (docs/design.md, "Scheduling"). The inject queue is checked so
     * that find_local cannot pick anything before it. Pinned units do not
     * count: they take turns with the deque, so this unit runs within two
     * picks, and a thread woken for it would take it off the core where
     * its gathered peers run (docs/design.md, "Gathering producers"). */
    if (s->next == NULL && s->held == NULL && !s->in_poll &&
        fxi_deque_size_hint(&s->dq) == 0 &&
        fxi_atomic_load_relaxed_32(&s->pool->inject_len) == 0 && /* relaxed: a hint */
        fxi_deque_push_owner(&s->dq, unit) == 0)
        return;
    push_local(s, unit);
}

void fxi_sched_yield_owner(fxi_sched *s, void *unit)
{
    /* Called inside a handler call too (a spawn's first run, a sender
     * released by a drain): the slots it reads and writes are then the
     * watchdog's to claim, so it is a wake for the Dekker pair, as
     * fxi_sched_wake_owner. A claimed thread queues the unit on its deque
     * (the watchdog never touches the deque; thieves take it from there). */
    fxi_atomic_store_relaxed_32(&s->wd_in_wake, 1);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    /* Acquire: pairs with the watchdog's release of CLAIMING/TAKEN. */
    if (__builtin_expect(fxi_atomic_load_acquire_32(&s->wd_claim) != 0, 0))
        push_local(s, unit);
    else
        yield_owner(s, unit);
    /* Release: our slot writes before the watchdog's acquire load. */
    fxi_atomic_store_release_32(&s->wd_in_wake, 0);
}

void fxi_sched_hold_owner(fxi_sched *s, void *unit, void *consumer, uint32_t runs)
{
    if (s->held)
        push_local(s, s->held);
    s->held = unit;
    s->held_for = consumer;
    s->held_runs = runs;
}

void fxi_pool_inject(fxi_pool *p, void *unit)
{
    fxi_mutex_lock(&p->inject_mx);
    int rc = inject_push_locked(p, unit);
    fxi_mutex_unlock(&p->inject_mx);
    if (rc != 0) {
        /* Cannot grow the ring: fall back to spinning until there is room
         * rather than lose a runnable actor. */
        for (;;) {
            fxi_cpu_relax();
            fxi_mutex_lock(&p->inject_mx);
            rc = inject_push_locked(p, unit);
            fxi_mutex_unlock(&p->inject_mx);
            if (rc == 0)
                break;
        }
    }
    fxi_pool_notify(p);
}

void fxi_pool_deadline_changed(fxi_pool *p, uint64_t deadline_ns)
{
    /* Relaxed loads: hints. A sleeper that claimed the role after this
     * load recomputes its timeout from the timers before sleeping. */
    uint32_t sl = fxi_atomic_load_relaxed_32(&p->timer_sleeper);
    if (sl == 0) {
        /* Nobody sleeps on the timer: if everyone is parked, wake one so
         * it becomes the sleeper with the new deadline. */
        if (fxi_atomic_load_relaxed_32(&p->nparked) ==
            fxi_atomic_load_relaxed_32(&p->nactive))
            fxi_pool_notify(p);
        return;
    }
    if (deadline_ns >= fxi_atomic_load_relaxed_64(&p->sleeper_deadline_ns))
        return;
    fxi_sched *w = &p->scheds[sl - 1];
    /* FXI_PARKED -> FXI_KICKED makes a futex_wait that has not started yet return
     * at once; a notifier's FXI_POPPED wins and needs no kick. */
    /* Release: orders the caller's timer insertion before the kick; pairs
     * with the acquire loads of park_word in park(). */
    if (fxi_atomic_cas_release_32(&w->park_word, FXI_PARKED, FXI_KICKED))
        wake_parked(p, w);
}

/* ---- finding work ------------------------------------------------------ */

static bool others_waiting(fxi_sched *s)
{
    return s->pin_len > 0 || fxi_deque_size_hint(&s->dq) > 0 ||
           fxi_atomic_load_relaxed_32(&s->pool->inject_len) > 0; /* hint */
}

static void *find_local(fxi_sched *s)
{
    void *u;
    s->resumed_ns = 0;
    if (s->ticks % INJECT_INTERVAL == 0 && (u = inject_pop(s->pool)) != NULL)
        return u;
    if (s->next_streak >= NEXT_SLOT_CAP && others_waiting(s)) {
        /* Both slots have had their turn: their occupants queue like
         * everyone else. */
        if (s->next) {
            push_local(s, s->next);
            s->next = NULL;
        }
        if (s->held) {
            push_local(s, s->held);
            s->held = NULL;
            s->held_for = NULL;
        }
    } else {
        if (s->next && !(s->held && s->held_runs == 0)) {
            u = s->next;
            s->next = NULL;
            s->next_streak++;
            if (s->held)
                s->held_runs--;
            return u;
        }
        if (s->held) {
            /* The consumer drained (the next slot is empty) or used up the
             * runs the producer granted it. */
            u = s->held;
            s->held = NULL;
            s->held_for = NULL;
            s->next_streak++;
            s->resumed_ns = fxi_now_ns(); /* the flood policy's measurement */
            return u;
        }
    }
    s->next_streak = 0;
    /* Relaxed: a hint; xfer_take reads the list under its lock, and a
     * unit handed over after a stale 0 is seen at the next pick or moved
     * to the run queue when this thread goes offline. */
    if (__builtin_expect(fxi_atomic_load_relaxed_32(&s->xfer_flag) != 0, 0))
        fxi_sched_xfer_take(s);
    /* Pinned units take turns with the run queue (every other pick while
     * both have some): neither starves the other. */
    if (s->pin_len > 0 && ((s->ticks & 1) || fxi_deque_size_hint(&s->dq) == 0))
        return fxi_sched_pin_run(s);
    if ((u = fxi_deque_steal_mc(&s->dq)) != NULL)
        return u;
    if (s->pin_len > 0)
        return fxi_sched_pin_run(s);
    return inject_pop(s->pool);
}

static void leave_searching(fxi_sched *s)
{
    s->searching = false;
    /* The last searcher to find work wakes another thread, so parallelism
     * ramps up while work keeps appearing. */
    /* Relaxed: notify's seq_cst fence orders what it needs. */
    if (fxi_atomic_fetch_add_relaxed_32(&s->pool->searching, (uint32_t) -1) == 1)
        fxi_pool_notify(s->pool);
}

static bool work_available(fxi_pool *p)
{
    /* Relaxed: ordered after nparked++ by park()'s seq_cst fence. */
    if (fxi_atomic_load_relaxed_32(&p->inject_len) > 0)
        return true;
    for (uint32_t i = 0; i < p->n; i++)
        if (fxi_deque_size_hint(&p->scheds[i].dq) > 0)
            return true;
    return false;
}

/* ---- parking ----------------------------------------------------------- */

/* Leaves the idle list after a wake-up nobody asked for (timeout, kick,
 * stop, or work found on the re-check). */
static void unregister_idle(fxi_sched *s)
{
    fxi_pool *p = s->pool;
    fxi_mutex_lock(&p->idle_mx);
    /* Relaxed: FXI_POPPED is stored under idle_mx, which we hold. */
    if (fxi_atomic_load_relaxed_32(&s->park_word) == FXI_POPPED) {
        /* A notifier raced us and already counted us as searching. */
        s->searching = true;
    } else {
        for (uint32_t i = 0; i < p->nidle; i++) {
            if (p->idle[i] == s->id) {
                p->idle[i] = p->idle[--p->nidle];
                fxi_atomic_fetch_add_relaxed_32(&p->nparked, (uint32_t) -1); /* idle_mx */
                break;
            }
        }
    }
    fxi_mutex_unlock(&p->idle_mx);
}

static void park(fxi_sched *s)
{
    fxi_pool *p = s->pool;
    if (s->searching) {
        s->searching = false;
        /* Relaxed: ordered before the re-check below by its fence. */
        fxi_atomic_fetch_add_relaxed_32(&p->searching, (uint32_t) -1);
    }
    p->hooks.offline(s);
    fxi_mutex_lock(&p->idle_mx);
    p->idle[p->nidle++] = s->id;
    /* Relaxed, under idle_mx: notifiers change them under it too. */
    fxi_atomic_store_relaxed_32(&s->park_word, FXI_PARKED);
    fxi_atomic_fetch_add_relaxed_32(&p->nparked, 1);
    fxi_mutex_unlock(&p->idle_mx);
    /* Seq_cst fence, Dekker with notify(): our nparked increment before
     * the re-check of the queues; notify's push before its counter loads.
     * One of the two sees the other. */
    fxi_atomic_fence_seq_cst();
    if (work_available(p) || fxi_pool_stopping(p)) {
        unregister_idle(s);
        /* Searching again, so that the unit it takes makes it wake
         * another thread (leave_searching) if it is the last searcher.
         * Notifiers that pushed while this thread was counted searching
         * skipped their wake-ups and left the work to it: the re-check
         * may find several units, and without this it took one and woke
         * nobody for the rest (a second unit waited in the inject queue
         * behind a long handler call on this thread, the other thread
         * parked; review18_signals). */
        if (!s->searching) {
            /* Relaxed: as in fxi_sched_search; leave_searching's notify
             * orders what it needs. */
            fxi_atomic_fetch_add_relaxed_32(&p->searching, 1);
            s->searching = true;
        }
        p->hooks.online(s);
        fxi_watchdog_unparked(p);
        return;
    }
    /* Relaxed: claims the sleeper role (one winner); the deadline it
     * guards is a hint (fxi_pool_deadline_changed). */
    bool sleeper = fxi_atomic_cas_relaxed_32(&p->timer_sleeper, 0, s->id + 1);
    fxi_poller *io = NULL; /* set while this thread waits in the poller */
    bool io_ready = false;
    for (;;) {
        /* Acquire: pairs with the release stores of FXI_POPPED (notify, stop)
         * and the release cas to FXI_KICKED (deadline_changed): the stopping
         * flag and the new timer are visible once we see the word. */
        uint32_t w = fxi_atomic_load_acquire_32(&s->park_word);
        if (w == FXI_POPPED || fxi_pool_stopping(p) || fxi_sched_retiring(s))
            break;
        if (w == FXI_KICKED) /* relaxed: resets our own word; a FXI_POPPED wins */
            fxi_atomic_cas_relaxed_32(&s->park_word, FXI_KICKED, FXI_PARKED);
        /* Acquire: pairs with fxi_pool_set_poller's release cas. */
        fxi_poller *pio = fxi_atomic_load_acquire_ptr(&p->poller);
        /* Relaxed cas: one thread at a time waits in the poller; the
         * fence below orders the claim (see wake_parked). */
        if (pio && !io && fxi_atomic_cas_relaxed_32(&p->io_sleeper, 0, s->id + 1)) {
            io = pio;
            fxi_atomic_fence_seq_cst(); /* claim before re-reading park_word */
            continue;
        }
        int64_t to = p->hooks.park_timeout_ns(s, sleeper);
        uint64_t deadline = to < 0 ? UINT64_MAX : fxi_now_ns() + (uint64_t) to;
        if (sleeper) /* relaxed: a hint for deadline_changed */
            fxi_atomic_store_relaxed_64(&p->sleeper_deadline_ns, deadline);
        if (to == 0)
            break;
        fxi_atomic_store_relaxed_64(&s->stat_parks, s->stat_parks + 1); /* statistic */
        if (io) {
            int sp = fxi_sched_spin_poll(s, io, to);
            if (sp < 0)
                continue;
            /* The sleep is timed only once a busy-poll socket had events
             * (io_seen_ns): before that no spin runs, whatever its budget. */
            uint64_t t0 =
                sp == 0 && p->io_spin_max_ns && s->io_seen_ns ? fxi_now_ns() : 0;
            if (sp > 0 || io->wait(io, s, to) > 0) {
                /* Events within the full budget of the sleep: a spin
                 * would have caught them, so spin again. */
                if (t0 && fxi_now_ns() - t0 < p->io_spin_max_ns)
                    s->io_spin_ns = p->io_spin_max_ns;
                io_ready = true;
                break;
            }
        } else {
            fxi_futex_wait(&s->park_word, FXI_PARKED, to);
        }
        if (to >= 0 && fxi_now_ns() >= deadline)
            break; /* maintenance due: timers or our own limbo */
    }
    if (io) /* relaxed: later wakers just skip the poller's wake */
        fxi_atomic_store_relaxed_32(&p->io_sleeper, 0);
    if (sleeper) {
        /* Relaxed: hints, as above. */
        fxi_atomic_store_relaxed_64(&p->sleeper_deadline_ns, UINT64_MAX);
        fxi_atomic_store_relaxed_32(&p->timer_sleeper, 0);
    }
    /* Acquire: as in the loop above. */
    if (fxi_atomic_load_acquire_32(&s->park_word) == FXI_POPPED)
        s->searching = true;
    else
        unregister_idle(s);
    p->hooks.online(s);
    fxi_watchdog_unparked(p);
    /* Timers that made us wake run now, and the I/O events. */
    p->hooks.tick(s);
    if (io_ready)
        io_poll(s, io);
}

/* ---- the loop ---------------------------------------------------------- */

void fxi_sched_loop(fxi_sched *s)
{
    fxi_pool *p = s->pool;
    if (__builtin_expect(p->det != NULL, 0)) {
        fxi_det_loop(s); /* driven by the test's thread (sched/det.h) */
        return;
    }
    while (!fxi_pool_stopping(p) && !(s->spare && fxi_sched_retiring(s))) {
        void *u = find_local(s);
        if (!u)
            u = fxi_sched_search(s);
        if (!u) {
            p->hooks.tick(s);
            if (s->next || s->held || s->pin_len > 0 || fxi_deque_size_hint(&s->dq) > 0)
                continue;
            /* Acquire: pairs with fxi_pool_set_poller's release cas. */
            fxi_poller *io = fxi_atomic_load_acquire_ptr(&p->poller);
            /* A non-blocking poll only while another thread waits in the
             * poller (relaxed: a hint): taking ready events here spares
             * that thread a wake-up. Otherwise park() waits in the poller
             * itself, and its epoll wait returns at once if events are
             * ready: an empty epoll_wait before each park was a system
             * call per message in a ping-pong (docs/net.md, "The
             * poller"). */
            if (io && fxi_atomic_load_relaxed_32(&p->io_sleeper) != 0 &&
                io_poll(s, io) > 0)
                continue;
            park(s);
            continue;
        }
        if (s->searching)
            leave_searching(s);
        p->hooks.run(s, u);
        /* Relaxed store, one writer: also the run count of
         * fx_vm_sched_stats (read by other threads). */
        fxi_atomic_store_relaxed_64(&s->ticks, s->ticks + 1);
        if ((s->ticks & 63) == 0) {
            p->hooks.tick(s);
            /* Acquire: as above. */
            fxi_poller *io = fxi_atomic_load_acquire_ptr(&p->poller);
            /* Relaxed: a hint. While a parked thread waits in the poller,
             * the kernel wakes it for new events: polling here too would
             * only be a system call racing it. */
            if (io && fxi_atomic_load_relaxed_32(&p->io_sleeper) == 0 &&
                fxi_now_ns() - s->polled_ns >= POLL_INTERVAL_NS)
                io_poll(s, io);
        }
    }
}

/* A retiring spare hands its queued units to the others. */
static void retire(fxi_sched *s)
{
    fxi_pool *p = s->pool;
    if (s->searching)
        leave_searching(s);
    void *u;
    /* Closed first: nobody hands it units from now on. */
    fxi_sched_xfer_retire(s);
    if (s->next)
        fxi_pool_inject(p, s->next);
    if (s->held)
        fxi_pool_inject(p, s->held);
    s->next = s->held = s->held_for = NULL;
    s->next_streak = 0;
    while ((u = fxi_deque_steal_mc(&s->dq)) != NULL)
        fxi_pool_inject(p, u);
}

static void *thread_main(void *arg)
{
    fxi_sched *s = arg;
    fxi_mcache mc;
    fxi_mc_attach(&mc, &s->pool->depot);
    tls_sched = s;
    if (s->spare)
        s->pool->hooks.online(s); /* a spare slot's record starts offline */
    s->pool->hooks.thread_body(s);
    if (s->spare)
        retire(s);
    /* A thread that left holds no references: grace periods (and
     * fx_inbox_destroy) need not wait for it, also while fx_vm_shutdown
     * waits for a stuck one. */
    s->pool->hooks.offline(s);
    if (s->spare) {
        /* Relaxed: a count for the all-parked checks, which are hints
         * re-checked under their own protocols. */
        fxi_atomic_fetch_add_relaxed_32(&s->pool->nactive, (uint32_t) -1);
        /* We will not tick again: if the others are all parked with no
         * timer sleeper, wake one to take the timers over. Seq_cst fence:
         * our decrement before deadline_changed's loads (Dekker with
         * park's registration and fence). */
        fxi_atomic_fence_seq_cst();
        fxi_pool_deadline_changed(s->pool, 0);
    }
    tls_sched = NULL;
    fxi_mc_detach(&mc);
    /* Release: everything this thread did before the joiner's acquire
     * load (fxi_pool_stop_until, fxi_pool_reap_slot). */
    fxi_atomic_store_release_32(&s->wd_exited, 1);
    fxi_futex_wake(&s->wd_exited, 1);
    return NULL;
}

/* ---- lifecycle --------------------------------------------------------- */

int fxi_pool_start(fxi_pool *p)
{
    /* Relaxed: thread creation orders it before the threads' loads. */
    fxi_atomic_store_relaxed_32(&p->nactive, p->nbase);
    for (uint32_t i = 0; i < p->nbase; i++) {
        p->scheds[i].started = true;
        if (pthread_create(&p->scheds[i].thread, NULL, thread_main, &p->scheds[i]) != 0) {
            /* Relaxed: published by the release stores of FXI_POPPED. */
            fxi_atomic_store_relaxed_32(&p->stopping, 1);
            for (uint32_t j = 0; j < i; j++) {
                /* Release: pairs with park()'s acquire load of park_word. */
                fxi_atomic_store_release_32(&p->scheds[j].park_word, FXI_POPPED);
                fxi_futex_wake(&p->scheds[j].park_word, 1);
                pthread_join(p->scheds[j].thread, NULL);
                p->scheds[j].started = false;
            }
            p->scheds[i].started = false;
            return FX_ESYS;
        }
    }
    return 0;
}

int fxi_pool_start_slot(fxi_pool *p, uint32_t i)
{
    fxi_sched *s = &p->scheds[i];
    /* Relaxed: the thread's creation orders these before its loads. */
    fxi_atomic_store_relaxed_32(&s->wd_retire, 0);
    fxi_atomic_store_relaxed_32(&s->wd_exited, 0);
    fxi_atomic_store_relaxed_32(&s->park_word, FXI_POPPED);
    /* Relaxed: a count for the all-parked hints. */
    fxi_atomic_fetch_add_relaxed_32(&p->nactive, 1);
    if (s->spare) /* relaxed: a hint for steal_any */
        fxi_atomic_fetch_add_relaxed_32(&p->spares_live, 1);
    s->started = true;
    if (pthread_create(&s->thread, NULL, thread_main, s) != 0) {
        s->started = false;
        fxi_atomic_fetch_add_relaxed_32(&p->nactive, (uint32_t) -1);
        if (s->spare) /* relaxed: as above */
            fxi_atomic_fetch_add_relaxed_32(&p->spares_live, (uint32_t) -1);
        return FX_ESYS;
    }
    return 0;
}

void fxi_pool_kick(fxi_sched *s)
{
    /* Release: orders the caller's request (wd_retire) before the kick;
     * pairs with park()'s acquire loads of park_word. */
    if (fxi_atomic_cas_release_32(&s->park_word, FXI_PARKED, FXI_KICKED))
        fxi_futex_wake(&s->park_word, 1);
}

uint32_t fxi_pool_stop_until(fxi_pool *p, uint64_t deadline_ns)
{
    /* Every loop and park re-checks `stopping` after waking. */
    /* Relaxed: published by the release stores of FXI_POPPED below (and a
     * running loop re-reads it each iteration). */
    fxi_atomic_store_relaxed_32(&p->stopping, 1);
    for (uint32_t i = 0; i < p->n; i++) {
        /* Release: pairs with park()'s acquire load of park_word. */
        fxi_atomic_store_release_32(&p->scheds[i].park_word, FXI_POPPED);
        wake_parked(p, &p->scheds[i]);
    }
    uint32_t left = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        fxi_sched *s = &p->scheds[i];
        /* Acquire: as in fxi_pool_reap_slot. */
        while (s->started && fxi_atomic_load_acquire_32(&s->wd_exited) == 0) {
            uint64_t now = fxi_now_ns();
            if (deadline_ns != UINT64_MAX && now >= deadline_ns)
                break;
            fxi_futex_wait(&s->wd_exited, 0,
                           deadline_ns == UINT64_MAX ? -1
                                                     : (int64_t) (deadline_ns - now));
        }
        if (!fxi_pool_reap_slot(p, i))
            left++;
    }
    return left;
}
