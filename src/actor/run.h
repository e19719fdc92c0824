/* Running actors on the scheduler threads. Internal. */
#ifndef FXI_ACTOR_RUN_H
#define FXI_ACTOR_RUN_H

#include "sched/sched.h"

/* How the scheduler pool runs actors (actor/run.c). */
extern const fxi_sched_hooks fxi_actor_hooks;

#endif
