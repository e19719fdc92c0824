/* Receive timeouts armed lazily (docs/design.md, "Lazy receive
 * timeouts"). A receive with a timeout of at least FXI_LAZY_MIN_MS does
 * not touch the VM's timer wheel (a mutex shared by every thread): its
 * deadline goes into a small ring owned by the scheduler thread that ran
 * the receive. Most such receives end before the clock's next
 * millisecond (a call's reply arrives in microseconds), and ending one
 * that is still in its own thread's ring only clears the slot: no lock,
 * no allocation, no message. The thread moves the entries that are
 * still pending into the wheel at its next tick in a later millisecond
 * (actor/run.c's tick hook) and all of them before it sleeps, so a
 * timeout fires as before, never early, at most about a tick late.
 *
 * An entry moved to the wheel is found again by its ref (the receive's
 * TIMEOUT ref) in the timers' `lazy` map, under the timers' mutex; a
 * receive that ends on another thread than the one holding its entry
 * (the actor was stolen meanwhile) cancels by ref too, and when the entry
 * has not reached the wheel yet it leaves a tombstone there that the
 * entry meets when it is moved, so no cancelled timeout ever fires or
 * lingers. Internal. */
#ifndef FXI_ACTOR_RECV_TIMER_H
#define FXI_ACTOR_RECV_TIMER_H

#include <fauxtp/msg.h>
#include <stdbool.h>
#include <stdint.h>

struct fx_vm;
struct fxi_worker;
struct fxi_actor;

/* Shorter timeouts go to the wheel at once: a tick's delay would matter. */
#define FXI_LAZY_MIN_MS 20
/* Entries per thread; when the ring is full the oldest moves to the wheel. */
#define FXI_LAZY_RING 32

typedef struct fxi_lazy_tmo {
    uint64_t ref;       /* the TIMEOUT's ref; 0: free slot */
    fx_pid to;          /* the receiving process */
    fx_timeout_info ti; /* the TIMEOUT's payload */
    uint64_t deadline;  /* absolute, in the timers' milliseconds */
    uint64_t armed_ms;  /* when it was armed */
} fxi_lazy_tmo;

/* A thread's ring. Entry number s (counting from 1) sits in slot
 * s % FXI_LAZY_RING; entries head..tail-1 are pending or cleared. */
typedef struct fxi_lazy_ring {
    fxi_lazy_tmo slot[FXI_LAZY_RING]; /* owner thread only */
    uint64_t head, tail;              /* owner thread only */
    /* Under the timers' mutex (written by the owner, read by a cancel on
     * another thread): every entry numbered below it has left the ring,
     * moved to the wheel (its ref then in the lazy map until it fires or
     * is cancelled) or cleared. Entries leave in order, oldest first. */
    uint64_t flushed;
} fxi_lazy_ring;

/* Arms the running actor a's receive timeout (ref, payload ti) after
 * delay_ms; stores the handle to cancel it with in *handle and sets
 * FXI_F_LAZYTMO on a when it went into the ring. Scheduler thread w,
 * running a. FX_ENOMEM (nothing armed). */
int fxi_recv_timer_arm(struct fx_vm *vm, struct fxi_worker *w, struct fxi_actor *a,
                       int64_t delay_ms, fx_ref ref, const fx_timeout_info *ti,
                       uint64_t *handle);
/* Cancels a's pending receive timeout (ref, handle as armed). w: the
 * thread running a (NULL outside the VM's threads). */
void fxi_recv_timer_cancel(struct fx_vm *vm, struct fxi_worker *w, struct fxi_actor *a,
                           fx_ref ref, uint64_t handle);
/* Moves entries armed before the current millisecond (all: every
 * entry) into the wheel. Owner thread of w, at a tick or before a
 * sleep. */
void fxi_recv_timer_flush(struct fx_vm *vm, struct fxi_worker *w, bool all);

#endif
