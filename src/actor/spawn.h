/* Spawning, for the other actor-layer files. Internal. */
#ifndef FXI_ACTOR_SPAWN_H
#define FXI_ACTOR_SPAWN_H

#include "actor/actor.h"

/* Links and monitors a child gets before it can run (spawn_link /
 * spawn_monitor). */
typedef struct fxi_spawn_ties {
    fx_pid link;    /* link with this pid, or FX_PID_NONE */
    fx_pid watcher; /* monitored by this pid with ref, or FX_PID_NONE */
    fx_ref ref;
    fx_msg *promise; /* the child's promise (actor/signal.h) to link/watcher */
} fxi_spawn_ties;

/* Spawns from any thread inside a section (w: the scheduler's worker or
 * NULL). ties may be NULL; fxi_spawn takes ties->promise (the child's
 * table holds it, or it is freed on failure). Errors as fx_spawn_opt. */
int fxi_spawn(fx_vm *vm, fxi_worker *w, const fx_spawn_opts *o,
              const fxi_spawn_ties *ties, fx_pid *out);

/* Spawn with ties to self (the spawner): reserves the spawner's side first
 * so the spawn cannot half-succeed. Errors as fx_spawn_opt. */
int fxi_spawn_tied(fx_vm *vm, fxi_worker *w, fxi_actor *self, const fx_spawn_opts *o,
                   fx_pid *out, bool link, fx_ref *mon_ref);

#endif
