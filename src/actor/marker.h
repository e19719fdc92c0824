/* Receive markers (Erlang/OTP 24's recv_marker): a process remembers,
 * for a few refs it created, how far its save queue reached at that
 * moment. No message that was already saved then can carry the ref (the
 * ref did not exist when it was sent), so a selective receive, a take or
 * a flush matching that ref starts after the marked message instead of
 * rescanning the whole save queue: a call made by a process with a long
 * queue costs the same as one made with an empty queue. See
 * docs/design.md, "Receive markers". Owner thread only. */
#ifndef FXI_ACTOR_MARKER_H
#define FXI_ACTOR_MARKER_H

#include <stdint.h>

#include "actor/msg.h"

struct fxi_actor;

/* Markers per process: as many refs as a process usually waits on at
 * once (a call's monitor ref, a start's ref...). When all are in use a
 * new marker replaces them in turn; a ref without a marker is matched by
 * a full scan. */
#define FXI_MARKS 4

typedef struct fxi_mark {
    uint64_t ref;  /* 0 = free slot */
    fx_msg *after; /* saved messages up to and including this one predate
                      ref; NULL: none does (scan from the oldest) */
} fxi_mark;

typedef struct fxi_marks {
    fxi_mark slot[FXI_MARKS];
    uint16_t live; /* slots in use: 0 keeps the save queue's hooks cheap */
    uint16_t next; /* the slot the next marker takes when all are in use */
} fxi_marks;

/* Records a marker for ref at the current end of a's save queue. Does
 * nothing when the save queue is empty (a marker would change nothing)
 * or the process's extension cannot be allocated (a marker is only a
 * shortcut). a: the running actor. */
void fxi_mark_insert(struct fxi_actor *a, fx_ref ref);

/* The marker of ref, or NULL (none, or ref 0). */
fxi_mark *fxi_mark_find(struct fxi_actor *a, uint64_t ref);

/* Forgets ref's marker (demonitor: the ref is no longer waited for). */
void fxi_mark_clear(struct fxi_actor *a, uint64_t ref);

/* m is leaving the save queue; pred is the saved message before it, or
 * NULL when m was the oldest. Markers on m move back to pred. */
void fxi_mark_unlinked(fxi_marks *mk, const fx_msg *m, fx_msg *pred);

#endif
