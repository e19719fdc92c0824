/* Quiescent-state-based reclamation over the scheduler threads, plus a few
 * short-lived records for threads outside the VM.
 *
 * A retiring thread stamps a batch of retired objects with
 * E = fxi_qsbr_stamp() (a fetch-and-add of the global period, after the
 * objects were unpublished). Every participant publishes the period it
 * last saw at a quiescent point, when it holds no reference to shared
 * objects. A batch stamped E may be freed once fxi_qsbr_min() > E: every
 * participant has since passed a quiescent point after the stamp, so none
 * can still hold a reference it obtained before the unpublication. See
 * docs/design.md ("Pid reuse"). */
#ifndef FXI_SCHED_QSBR_H
#define FXI_SCHED_QSBR_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"

#define FXI_QSBR_EXT 32
#define FXI_QSBR_OFFLINE UINT64_MAX

typedef struct fxi_qsbr_rec {
    _Alignas(FXI_CACHELINE)
        uint64_t seen; /* atomic (platform/atomic.h): period seen, or OFFLINE */
} fxi_qsbr_rec;

typedef struct fxi_qsbr {
    _Alignas(FXI_CACHELINE) uint64_t period; /* atomic, only grows */
    uint32_t nsched;
    fxi_qsbr_rec *sched;            /* one per scheduler thread */
    fxi_qsbr_rec ext[FXI_QSBR_EXT]; /* OFFLINE = free */
} fxi_qsbr;

int fxi_qsbr_init(fxi_qsbr *q, uint32_t nsched);
void fxi_qsbr_fini(fxi_qsbr *q);

/* Stamp for objects unpublished before this call. Any participant. */
uint64_t fxi_qsbr_stamp(fxi_qsbr *q);
/* Scheduler i is quiescent (holds no references). Its thread only. */
void fxi_qsbr_quiescent(fxi_qsbr *q, uint32_t i);
/* Scheduler i stops / resumes participating (parking). */
void fxi_qsbr_offline(fxi_qsbr *q, uint32_t i);
void fxi_qsbr_online(fxi_qsbr *q, uint32_t i);
/* Smallest period seen by any online participant (OFFLINE if none). */
uint64_t fxi_qsbr_min(fxi_qsbr *q);

/* A thread outside the VM enters / leaves a read section. enter returns
 * the record index. Any thread; spins (yielding) if all records are busy. */
uint32_t fxi_qsbr_ext_enter(fxi_qsbr *q);
void fxi_qsbr_ext_exit(fxi_qsbr *q, uint32_t idx);
/* True when no outside thread is in a read section. */
bool fxi_qsbr_ext_idle(fxi_qsbr *q);

#endif
