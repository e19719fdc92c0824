/* Hierarchical timing wheel (Varghese & Lauck, "Hashed and Hierarchical
 * Timing Wheels", SOSP 1987), with the slot-selection rule of tokio's timer
 * driver: an entry lives at the level of the highest 6-bit digit in which
 * its deadline differs from the wheel's time. Entries cascade to lower
 * levels as time reaches their slot, so they fire exactly on time.
 * docs/timer-wheel.md argues the invariants used below. */
#include "ds/timer_wheel.h"

#define LEVELS FXI_TWHEEL_LEVELS
#define SLOT_BITS FXI_TWHEEL_SLOT_BITS
#define SLOT_MASK ((uint64_t) FXI_TWHEEL_SLOTS - 1)
#define SPAN_BITS (LEVELS * SLOT_BITS) /* 36: the wheel covers 2^36 ms */

/* entry->level values besides 0..LEVELS-1. */
enum { LIST_OVERFLOW = LEVELS, LIST_DUE = LEVELS + 1 };

/* ---- lists: head->prev is the tail, tail->next is NULL ---------------- */

static void list_append(fxi_twheel_entry **head, fxi_twheel_entry *e)
{
    fxi_twheel_entry *h = *head;
    e->next = NULL;
    if (!h) {
        e->prev = e;
        *head = e;
        return;
    }
    fxi_twheel_entry *tail = h->prev;
    tail->next = e;
    e->prev = tail;
    h->prev = e;
}

static void list_unlink(fxi_twheel_entry **head, fxi_twheel_entry *e)
{
    fxi_twheel_entry *h = *head;
    if (e == h) {
        *head = e->next;
        if (e->next)
            e->next->prev = e->prev; /* the new head inherits the tail */
    } else {
        e->prev->next = e->next;
        if (e->next)
            e->next->prev = e->prev;
        else
            h->prev = e->prev; /* e was the tail */
    }
}

/* Output list of advance(): singly linked through next, with a tail. */
struct out {
    fxi_twheel_entry *head, *tail;
};

static void out_append(struct out *o, fxi_twheel_entry *e)
{
    e->next = NULL;
    e->prev = NULL;
    e->linked = 0;
    if (o->tail)
        o->tail->next = e;
    else
        o->head = e;
    o->tail = e;
}

/* ---- placement -------------------------------------------------------- */

/* Start of the slot-s interval of level l, for a wheel at time now. */
static uint64_t slot_start(uint64_t now, unsigned l, unsigned s)
{
    unsigned shift = SLOT_BITS * l;
    uint64_t level_mask = ((uint64_t) 1 << (shift + SLOT_BITS)) - 1;
    return (now & ~level_mask) | ((uint64_t) s << shift);
}

/* Start of the 2^36 ms block containing t: the point where entries in the
 * overflow list can move into the levels. */
static uint64_t block_start(uint64_t t)
{
    return t & ~(((uint64_t) 1 << SPAN_BITS) - 1);
}

/* Links e (deadline > w->now) into the list its deadline selects. The level
 * is that of the highest digit in which deadline and now differ, so the
 * slot's digit is greater than now's digit at that level. */
static void place(fxi_twheel *w, fxi_twheel_entry *e)
{
    uint64_t diff = e->deadline ^ w->now; /* != 0 because deadline > now */
    unsigned high_bit = 63u - (unsigned) __builtin_clzll(diff);
    unsigned l = high_bit / SLOT_BITS;
    if (l >= LEVELS) {
        e->level = LIST_OVERFLOW;
        e->slot = 0;
        if (e->deadline < w->over_min)
            w->over_min = e->deadline;
        list_append(&w->overflow, e);
        return;
    }
    unsigned s = (unsigned) ((e->deadline >> (SLOT_BITS * l)) & SLOT_MASK);
    e->level = (uint8_t) l;
    e->slot = (uint8_t) s;
    w->occupied[l] |= (uint64_t) 1 << s;
    list_append(&w->slots[l][s], e);
}

void fxi_twheel_init(fxi_twheel *w, uint64_t now_ms)
{
    *w = (fxi_twheel){0};
    w->now = now_ms;
    w->due_min = UINT64_MAX;
    w->over_min = UINT64_MAX;
}

void fxi_twheel_insert(fxi_twheel *w, fxi_twheel_entry *e, uint64_t deadline_ms)
{
    e->deadline = deadline_ms;
    e->linked = 1;
    w->count++;
    if (deadline_ms <= w->now) {
        e->level = LIST_DUE;
        e->slot = 0;
        if (deadline_ms < w->due_min)
            w->due_min = deadline_ms;
        list_append(&w->due, e);
        return;
    }
    place(w, e);
}

void fxi_twheel_remove(fxi_twheel *w, fxi_twheel_entry *e)
{
    if (e->level == LIST_DUE) {
        list_unlink(&w->due, e);
        if (!w->due)
            w->due_min = UINT64_MAX;
    } else if (e->level == LIST_OVERFLOW) {
        list_unlink(&w->overflow, e);
        if (!w->overflow)
            w->over_min = UINT64_MAX;
    } else {
        fxi_twheel_entry **head = &w->slots[e->level][e->slot];
        list_unlink(head, e);
        if (!*head)
            w->occupied[e->level] &= ~((uint64_t) 1 << e->slot);
    }
    e->prev = e->next = NULL;
    e->linked = 0;
    w->count--;
}

bool fxi_twheel_contains(const fxi_twheel_entry *e)
{
    return e->linked != 0;
}

size_t fxi_twheel_count(const fxi_twheel *w)
{
    return w->count;
}

/* The earliest point at which the levels or the overflow list need work:
 * the start of the first occupied slot of the lowest occupied level (every
 * slot of a lower level ends before any slot of a higher one), else the
 * start of the block holding the overflow list's earliest deadline.
 * Sets *level to the level, or LIST_OVERFLOW, and returns false if both
 * are empty. */
static bool next_point(const fxi_twheel *w, unsigned *level, uint64_t *point)
{
    for (unsigned l = 0; l < LEVELS; l++) {
        if (w->occupied[l]) {
            unsigned s = (unsigned) __builtin_ctzll(w->occupied[l]);
            *level = l;
            *point = slot_start(w->now, l, s);
            return true;
        }
    }
    *level = LIST_OVERFLOW;
    *point = block_start(w->over_min);
    return w->overflow != NULL;
}

uint64_t fxi_twheel_next_deadline(const fxi_twheel *w)
{
    if (w->due)
        return w->due_min;
    unsigned level;
    uint64_t point;
    return next_point(w, &level, &point) ? point : UINT64_MAX;
}

/* Takes every entry off *head and either expires it (deadline == w->now,
 * the point being processed) or places it again relative to w->now, which
 * puts it at a lower level (or leaves it in overflow). */
static void redistribute(fxi_twheel *w, fxi_twheel_entry *list, struct out *o)
{
    while (list) {
        fxi_twheel_entry *next = list->next;
        if (list->deadline <= w->now) {
            out_append(o, list);
            w->count--;
        } else {
            place(w, list);
        }
        list = next;
    }
}

fxi_twheel_entry *fxi_twheel_advance(fxi_twheel *w, uint64_t now_ms)
{
    struct out o = {NULL, NULL};
    if (now_ms < w->now)
        now_ms = w->now;

    /* Entries inserted already due go first; their deadlines are <= the
     * old time, below everything still in the levels. */
    fxi_twheel_entry *due = w->due;
    w->due = NULL;
    w->due_min = UINT64_MAX;
    while (due) {
        fxi_twheel_entry *next = due->next;
        out_append(&o, due);
        w->count--;
        due = next;
    }

    /* Visit occupied slots in time order, jumping over empty time. Each
     * visited slot starts at or before now_ms and after the wheel time. */
    for (;;) {
        unsigned l;
        uint64_t point;
        if (!next_point(w, &l, &point) || point > now_ms)
            break;
        w->now = point;
        fxi_twheel_entry *list;
        if (l == LIST_OVERFLOW) {
            list = w->overflow;
            w->overflow = NULL;
            w->over_min = UINT64_MAX; /* recomputed by place() */
        } else {
            unsigned s = (unsigned) __builtin_ctzll(w->occupied[l]);
            list = w->slots[l][s];
            w->slots[l][s] = NULL;
            w->occupied[l] &= ~((uint64_t) 1 << s);
        }
        redistribute(w, list, &o);
    }
    w->now = now_ms;
    return o.head;
}
