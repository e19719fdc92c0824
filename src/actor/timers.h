/* The VM's timers: one hierarchical wheel behind a mutex, driven by the
 * scheduler threads' ticks and by the parked "timer sleeper". */
#ifndef FXI_ACTOR_TIMERS_H
#define FXI_ACTOR_TIMERS_H

#include <fauxtp/timer.h>

#include "ds/timer_wheel.h"
#include "ds/u64map.h"
#include "platform/mutex.h"

struct fxi_worker;

typedef struct fxi_trec {
    fxi_twheel_entry e;
    fx_pid to;
    fx_msg *msg;
    uint32_t gen;       /* handle generation (24 bits: timers.c, ids) */
    uint32_t next_free; /* index + 1 */
    uint32_t idx;       /* own index, fixed */
    bool lazy;          /* a receive timeout in `lazy` (actor/recv_timer.h) */
} fxi_trec;

#define FXI_TCHUNK 1024

typedef struct fxi_timers {
    fxi_mutex mx; /* protects everything below but next_ms */
    fxi_twheel wheel;
    fxi_trec **chunks; /* records live in fixed chunks: stable addresses */
    uint32_t nchunks, chunks_cap;
    uint32_t free_head;
    /* Receive timeouts moved here from a thread's ring (actor/recv_timer.h):
     * TIMEOUT ref -> timer handle id, or 0, a tombstone: cancelled while
     * still in its ring. */
    fxi_u64map lazy;
    uint64_t next_ms; /* atomic: earliest deadline hint, UINT64_MAX none */
} fxi_timers;

int fxi_timers_init(fxi_timers *t);
/* Frees pending timers and their messages. No concurrent users. */
void fxi_timers_fini(fxi_timers *t);

/* Arms a timer delivering msg (taken) to `to` after delay_ms. */
int fxi_timer_start(fx_vm *vm, int64_t delay_ms, fx_pid to, fx_msg *msg, fx_timer *out);
/* A lazily armed receive timeout (actor/recv_timer.h) leaves its ring
 * for the wheel: msg (taken) goes to `to` at the absolute deadline (ms)
 * unless a tombstone for msg's ref says it was cancelled meanwhile (then
 * msg is freed); either way *flushed (the ring's watermark) becomes upto
 * under the mutex. 0, or FX_ENOMEM (msg stays with the caller, nothing
 * changed). */
int fxi_timer_start_lazy(fx_vm *vm, uint64_t deadline, fx_pid to, fx_msg *msg,
                         uint64_t *flushed, uint64_t upto);
/* Cancels the lazily armed receive timeout with TIMEOUT ref `ref`,
 * entry seq of the ring whose watermark is *flushed: the timer if it is
 * in the wheel, nothing if it left the ring (fired), else a tombstone
 * for when it leaves. */
void fxi_timer_cancel_lazy(fx_vm *vm, uint64_t ref, const uint64_t *flushed,
                           uint64_t seq);
/* The timers' clock (ms) and the slack that keeps timers from firing
 * early (fxi_timer_start). */
uint64_t fxi_timers_now_ms(const fx_vm *vm);
uint64_t fxi_timers_slack_ms(const fx_vm *vm);
/* Cancels: remaining ms, or FX_ENOENT. */
int64_t fxi_timer_cancel(fx_vm *vm, fx_timer t);
/* Fires due timers (scheduler thread, between runs). */
void fxi_timers_poll(fx_vm *vm, struct fxi_worker *w);
/* Nanoseconds until the next deadline, < 0 if none. */
int64_t fxi_timers_timeout_ns(fx_vm *vm);

#endif
