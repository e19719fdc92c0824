/* Hierarchical timing wheel: 6 levels of 64 slots, 1 ms ticks, absolute
 * times in milliseconds. Level L slots are 64^L ms wide, so the wheel spans
 * 2^36 ms (~795 days) ahead of its current time; later deadlines wait in an
 * overflow list. Insert and remove are O(1); advance costs O(expired +
 * cascaded entries), independent of the time skipped. Design and
 * correctness argument: docs/timer-wheel.md.
 *
 * Not thread-safe: every call on one wheel must hold the owner's lock. The
 * wheel points at its entries (intrusive), so neither may move while an
 * entry is inserted. */
#ifndef FXI_DS_TIMER_WHEEL_H
#define FXI_DS_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FXI_TWHEEL_LEVELS 6
#define FXI_TWHEEL_SLOT_BITS 6
#define FXI_TWHEEL_SLOTS (1u << FXI_TWHEEL_SLOT_BITS)

/* Embedded in the caller's timer object. Zero-initialise it before first
 * use so fxi_twheel_contains() is false; the wheel maintains it after. */
typedef struct fxi_twheel_entry {
    /* List links. In a wheel list, the head's prev points at the tail and
     * the tail's next is NULL; in an advance() result only next is
     * meaningful. */
    struct fxi_twheel_entry *prev, *next;
    uint64_t deadline; /* absolute ms, as passed to insert */
    uint8_t level;     /* 0..5 wheel level, or an internal list id */
    uint8_t slot;      /* slot within the level */
    uint8_t linked;    /* 1 while inserted */
} fxi_twheel_entry;

typedef struct fxi_twheel {
    uint64_t now;               /* wheel time: every entry in a level is later */
    size_t count;               /* entries inserted, in any list */
    uint64_t due_min;           /* lower bound of deadlines in due, or UINT64_MAX */
    uint64_t over_min;          /* lower bound of deadlines in overflow, or UINT64_MAX */
    fxi_twheel_entry *due;      /* inserted with deadline <= now */
    fxi_twheel_entry *overflow; /* 2^36 ms or more ahead of now */
    uint64_t occupied[FXI_TWHEEL_LEVELS]; /* bit s: slots[level][s] non-empty */
    fxi_twheel_entry *slots[FXI_TWHEEL_LEVELS][FXI_TWHEEL_SLOTS];
} fxi_twheel;

/* Initialises an empty wheel whose current time is now_ms. */
void fxi_twheel_init(fxi_twheel *w, uint64_t now_ms);

/* Inserts e (borrowed until it is removed or returned by advance), not
 * currently inserted, to expire at deadline_ms. A deadline at or before the
 * wheel's current time expires at the next advance. O(1). */
void fxi_twheel_insert(fxi_twheel *w, fxi_twheel_entry *e, uint64_t deadline_ms);

/* Removes e, which must be inserted in w. O(1). */
void fxi_twheel_remove(fxi_twheel *w, fxi_twheel_entry *e);

/* True while e is inserted (not yet expired or removed). e must have been
 * zero-initialised or used with a wheel before. */
bool fxi_twheel_contains(const fxi_twheel_entry *e);

/* UINT64_MAX if the wheel is empty; otherwise a time no later than the
 * earliest deadline inserted (it may be earlier: a cascade point where the
 * wheel needs an advance to re-sort entries, or a past time if entries are
 * already due). O(levels). */
uint64_t fxi_twheel_next_deadline(const fxi_twheel *w);

/* Moves the wheel's time to now_ms (a smaller value means the current time)
 * and removes every entry with deadline <= now_ms. Returns them as a
 * NULL-terminated list linked through ->next: first the entries that were
 * inserted already due (in no particular order), then the rest in
 * nondecreasing deadline order. Cost: O(returned + cascaded entries). */
fxi_twheel_entry *fxi_twheel_advance(fxi_twheel *w, uint64_t now_ms);

/* Number of inserted entries. */
size_t fxi_twheel_count(const fxi_twheel *w);

#endif
