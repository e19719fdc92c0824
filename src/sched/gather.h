/* Gathering producers: the pinned ring and hand-over list of a scheduler
 * thread (sched/gather.c; docs/design.md, "Gathering producers"). The
 * public side (fxi_sched_pin_owner, fxi_sched_hand_to, the xfer
 * open/close/hand-over hooks) is declared in sched/sched.h. */
#ifndef FXI_SCHED_GATHER_H
#define FXI_SCHED_GATHER_H

#include "sched/sched.h"

/* The pinned ring's oldest unit, to run now (pin_len > 0); starts the
 * gathering policy's measurement. Owner. */
void *fxi_sched_pin_run(fxi_sched *s);
/* The owner's pick saw xfer_flag: the handed units join the pinned ring
 * and a watchdog incident is over. Owner. */
void fxi_sched_xfer_take(fxi_sched *s);
/* A retiring spare: closes the list and sends it and the ring to the
 * inject queue. Owner. */
void fxi_sched_xfer_retire(fxi_sched *s);

#endif
