/* The VM's timers: one hierarchical wheel behind a mutex, driven by the
 * scheduler threads' ticks and by the parked "timer sleeper". */
#ifndef FXI_ACTOR_TIMERS_H
#define FXI_ACTOR_TIMERS_H

#include <fauxtp/timer.h>

#include "ds/timer_wheel.h"
#include "platform/mutex.h"

struct fxi_worker;

typedef struct fxi_trec {
    fxi_twheel_entry e;
    fx_pid to;
    fx_msg *msg;
    uint32_t gen;       /* handle generation */
    uint32_t next_free; /* index + 1 */
    uint32_t idx;       /* own index, fixed */
} fxi_trec;

#define FXI_TCHUNK 1024

typedef struct fxi_timers {
    fxi_mutex mx; /* protects everything below but next_ms */
    fxi_twheel wheel;
    fxi_trec **chunks; /* records live in fixed chunks: stable addresses */
    uint32_t nchunks, chunks_cap;
    uint32_t free_head;
    uint64_t next_ms; /* atomic: earliest deadline hint, UINT64_MAX none */
} fxi_timers;

int fxi_timers_init(fxi_timers *t);
/* Frees pending timers and their messages. No concurrent users. */
void fxi_timers_fini(fxi_timers *t);

/* Arms a timer delivering msg (taken) to `to` after delay_ms. */
int fxi_timer_start(fx_vm *vm, int64_t delay_ms, fx_pid to, fx_msg *msg, fx_timer *out);
/* Cancels: remaining ms, or FX_ENOENT. */
int64_t fxi_timer_cancel(fx_vm *vm, fx_timer t);
/* Fires due timers (scheduler thread, between runs). */
void fxi_timers_poll(fx_vm *vm, struct fxi_worker *w);
/* Nanoseconds until the next deadline, < 0 if none. */
int64_t fxi_timers_timeout_ns(fx_vm *vm);

#endif
