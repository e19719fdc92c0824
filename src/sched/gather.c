/* Gathering producers (docs/design.md, "Gathering producers"): each
 * scheduler thread's pinned ring, served every other pick and never seen
 * by thieves, and its hand-over list, through which other threads queue
 * units on it (under xfer_mx). */
#include "sched/gather.h"

#include <string.h>

#include "mem/alloc.h"
#include "platform/atomic.h"
#include "platform/park.h"

/* xfer_closed bits */
#define XFER_PARKED 1u /* offline: parked, or left the loop */
#define XFER_WD 2u     /* the watchdog took the lists of a stuck call */

/* Appends to the pinned ring; false out of memory. Owner (or the
 * watchdog holding the claim). */
static bool pin_push(fxi_sched *s, void *u)
{
    if (s->pin_len == s->pin_cap) {
        uint32_t ncap = s->pin_cap ? 2 * s->pin_cap : 64;
        void **n = fxi_alloc(ncap * sizeof *n);
        if (!n)
            return false;
        for (uint32_t i = 0; i < s->pin_len; i++)
            n[i] = s->pin[(s->pin_head + i) % s->pin_cap];
        fxi_free(s->pin, s->pin_cap * sizeof *n);
        s->pin = n;
        s->pin_cap = ncap;
        s->pin_head = 0;
    }
    s->pin[(s->pin_head + s->pin_len++) % s->pin_cap] = u;
    return true;
}

static void *pin_pop(fxi_sched *s)
{
    void *u = s->pin[s->pin_head];
    s->pin_head = (s->pin_head + 1) % s->pin_cap;
    s->pin_len--;
    return u;
}

/* The pinned ring's oldest unit, to run now: the gathering policy's
 * measurement starts (one clock read per pinned run). */
void *fxi_sched_pin_run(fxi_sched *s)
{
    s->pinned_ns = fxi_now_ns();
    s->pinned_tick = s->ticks; /* ticks counts this run once it ends */
    return pin_pop(s);
}

void fxi_sched_pin_owner(fxi_sched *s, void *unit)
{
    if ((unit == s->held_for && s->next == NULL) || s->pool->det != NULL ||
        !pin_push(s, unit))
        fxi_sched_yield_owner(s, unit);
}

bool fxi_sched_hand_to(fxi_sched *s, uint32_t to, void *unit)
{
    fxi_pool *p = s->pool;
    if (to == s->id) {
        fxi_sched_pin_owner(s, unit);
        return true;
    }
    if (to >= p->n || p->det != NULL)
        return false;
    fxi_sched *t = &p->scheds[to];
    bool ok = false;
    fxi_mutex_lock(&t->xfer_mx);
    if (t->xfer_closed == 0) {
        if (t->xfer_len == t->xfer_cap) {
            uint32_t ncap = t->xfer_cap ? 2 * t->xfer_cap : 64;
            void **n = fxi_alloc(ncap * sizeof *n);
            if (n) {
                if (t->xfer_len)
                    memcpy(n, t->xfer, t->xfer_len * sizeof *n);
                fxi_free(t->xfer, t->xfer_cap * sizeof *n);
                t->xfer = n;
                t->xfer_cap = ncap;
            }
        }
        if (t->xfer_len < t->xfer_cap) {
            t->xfer[t->xfer_len++] = unit;
            /* Relaxed: a hint for the owner's pick, which takes the list
             * under xfer_mx (that lock orders the list and the unit). */
            fxi_atomic_store_relaxed_32(&t->xfer_flag, 1);
            ok = true;
        }
    }
    fxi_mutex_unlock(&t->xfer_mx);
    return ok;
}

/* The owner's pick found xfer_flag set: the handed units join the pinned
 * ring (in their order), and a watchdog incident is over. Those that do
 * not fit (out of memory) go to the run queue, or the inject queue after
 * the unlock (its lock ranks below this one). */
void fxi_sched_xfer_take(fxi_sched *s)
{
    fxi_mutex_lock(&s->xfer_mx);
    uint32_t n = s->xfer_len, left = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!pin_push(s, s->xfer[i]) && fxi_deque_push_owner(&s->dq, s->xfer[i]) != 0)
            s->xfer[left++] = s->xfer[i];
    void **rest = left ? s->xfer : NULL;
    uint32_t cap = s->xfer_cap;
    if (left) { /* the array leaves with them */
        s->xfer = NULL;
        s->xfer_cap = 0;
    }
    s->xfer_len = 0;
    s->xfer_closed &= ~XFER_WD;
    /* Relaxed: under xfer_mx, as in fxi_sched_hand_to. */
    fxi_atomic_store_relaxed_32(&s->xfer_flag, 0);
    fxi_mutex_unlock(&s->xfer_mx);
    for (uint32_t i = 0; i < left; i++)
        fxi_pool_inject(s->pool, rest[i]);
    fxi_free(rest, cap * sizeof *rest);
}

/* Closes the list (bits) and moves what it held, with the pinned ring,
 * out: to the run queue, or with to_inject (or out of memory) to the
 * inject queue, after the unlock. */
static void xfer_drain(fxi_sched *s, uint32_t bits, bool to_inject)
{
    fxi_mutex_lock(&s->xfer_mx);
    s->xfer_closed |= bits;
    uint32_t n = s->xfer_len;
    void **items = s->xfer;
    uint32_t cap = s->xfer_cap;
    s->xfer = NULL;
    s->xfer_len = s->xfer_cap = 0;
    /* Relaxed: under xfer_mx. A watchdog incident keeps the flag up so
     * the owner's next pick reopens the list. */
    fxi_atomic_store_relaxed_32(&s->xfer_flag, (s->xfer_closed & XFER_WD) ? 1 : 0);
    fxi_mutex_unlock(&s->xfer_mx);
    while (s->pin_len > 0) {
        void *u = pin_pop(s);
        if (to_inject || fxi_deque_push_owner(&s->dq, u) != 0)
            fxi_pool_inject(s->pool, u);
    }
    for (uint32_t i = 0; i < n; i++)
        if (to_inject || fxi_deque_push_owner(&s->dq, items[i]) != 0)
            fxi_pool_inject(s->pool, items[i]);
    fxi_free(items, cap * sizeof *items);
}

void fxi_sched_xfer_close(fxi_sched *s)
{
    xfer_drain(s, XFER_PARKED, false);
}

void fxi_sched_xfer_open(fxi_sched *s)
{
    fxi_mutex_lock(&s->xfer_mx);
    s->xfer_closed &= ~XFER_PARKED;
    fxi_mutex_unlock(&s->xfer_mx);
}

void fxi_sched_xfer_hand_over(fxi_sched *s)
{
    xfer_drain(s, XFER_WD, true);
}

void fxi_sched_xfer_retire(fxi_sched *s)
{
    xfer_drain(s, XFER_PARKED, true);
}
