/* The seeded chaos run (tests/stress/chaos*.c): shared declarations.
 *
 * Vocabulary. A "receiver" is one incarnation of a process that records
 * what it handles: GenServer workers and plain actors under supervisors,
 * and temporary actors spawned by the drivers. A "sender" is a driver
 * actor or an outside thread; every message it sends to a receiver
 * carries a tag {sender, seq}. For each (sender, receiver pid) pair the
 * sender counts what the runtime accepted (send returned 0) and the
 * receiver records the last seq it handled; when the receiver dies its
 * record goes to the death ledger. The account (chaos_acct.c) then holds
 * every accepted message to either a handled one or the receiver's death.
 * Uses the public API only. */
#ifndef FX_CHAOS_H
#define FX_CHAOS_H

#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

/* Message types (user range). Every receiver-bound type carries a tag. */
enum {
    M_DATA = 1,  /* tag; recorded */
    M_CRASH,     /* tag; recorded, then the receiver crashes */
    M_STOP,      /* tag; recorded, then the receiver exits normal */
    M_SYNC,      /* from the main thread, payload the round: ack with M_SYNC_ACK */
    M_SYNC_ACK,  /* payload: the receiver's pid */
    M_TICK,      /* a driver's step to itself */
    M_HALT,      /* main -> driver: stop */
    C_ECHO = 20, /* call: reply with the same token */
    C_CRASH,     /* call: crash instead of replying */
    C_STOP,      /* call: stop with an error instead of replying */
};

#define MAX_SENDERS 16 /* drivers + outside threads */
#define TIMER_SEQ 0    /* seq of a timer message: counted, not ordered */

typedef struct tag {
    uint32_t sender;
    uint32_t seq; /* 1, 2, ... per (sender, receiver); TIMER_SEQ for timers */
} tag;

/* Slots: where receivers publish their current pid for the senders. */
enum { K_GS = 1, K_ACTOR };
#define NSLOTS 64
extern _Atomic uint64_t slot_pid[NSLOTS]; /* 0 = never filled */
extern int slot_kind[NSLOTS];             /* K_GS / K_ACTOR; 0 = unused */
extern int slot_named[NSLOTS];            /* GenServer registered as n<slot> */
extern int nslots_tree;                   /* slots [0, nslots_tree) are supervised */
#define DYN_SLOTS_PER_THREAD 4            /* dynamic children, per outside thread */
#define TEMP_SLOTS_PER_DRIVER 4           /* temporaries, per driver */

/* One receiver incarnation's record (owned by it while it lives). */
typedef struct rx {
    fx_pid pid;
    int slot;
    int kind;
    int synced;     /* the last round whose sync it answered (1, 2, ...) */
    uint64_t order; /* order violations seen (gap, duplicate, reorder) */
    uint64_t handled;
    int skipped;                  /* --sabotage: this receiver dropped its one record */
    uint32_t last[MAX_SENDERS];   /* last ordered seq handled, per sender */
    uint64_t timers[MAX_SENDERS]; /* timer messages handled, per sender */
    fx_reason reason;             /* set at death */
    struct rx *prev, *next;       /* live list (under the ledger lock) */
} rx;

/* Receiver side (chaos_acct.c). */
rx *rx_born(fx_pid pid, int slot, int kind); /* births; joins the live list */
void rx_record(rx *r, const void *data, size_t size);
void rx_died(rx *r, const fx_reason *reason); /* to the ledger; frees r */
size_t rx_live_pids(fx_pid *out, size_t cap); /* snapshot of the live list */
extern atomic_int sabotage; /* --sabotage: each receiver drops one record */

/* Sender side: one map per sender, written only by that sender. */
typedef struct pair {
    uint64_t pid;
    uint32_t seq;  /* accepted ordered messages (= last seq sent ok) */
    uint64_t tnet; /* timers started ok minus timers cancelled ok */
} pair;
typedef struct smap {
    pair *v;
    size_t cap, n;
} smap;
pair *smap_get(smap *m, uint64_t pid); /* finds or adds */
extern smap senders[MAX_SENDERS];
void sender_done(void); /* a sender finished: hands its map over */

/* Timers started by anyone, so the end can wait for all to be done. */
void timer_note(fx_timer t);
int timers_wait(fx_vm *vm, int64_t deadline_ms);

/* Call outcomes, summed over every caller. */
typedef struct calls {
    _Atomic uint64_t started, replied, timedout, exited, noproc, noname, bad_reply,
        bad_rc, stray;
} calls;
extern calls call_acct;
void call_ended(int rc, int stray_ok); /* counts one outcome */

/* Operation counters for the report, and API answers that must not
 * happen. */
typedef struct ops {
    _Atomic uint64_t sends, sends_named, casts, timers, cancels, crashes, kills, spawns,
        temp_stops, reg, unreg, sup_ops, mid_kills, unexpected;
} ops;
extern ops op_acct;
void unexpected(const char *what, int rc);

/* The tree (chaos_work.c). */
void tree_build(int outside_threads);
extern fx_sup_spec root_spec;
extern const fx_spawn_opts temp_opts; /* init_arg: the slot, as uintptr_t */
#define NMID 4
#define DYN 3                                 /* index of the dynamic mid supervisor */
extern const char *const static_ids[NMID][8]; /* per static mid, NULL-ended */

/* Drivers and outside threads (chaos_drive.c). */
typedef struct run {
    fx_vm *vm;
    fx_pid root;
    uint64_t seed;
    int64_t deadline_ns;
    uint64_t max_ops; /* per driver / thread; 0 = no cap */
    int drivers, outside;
    atomic_int stop;
} run;
extern run R;
int drivers_start(fx_inbox *in, fx_pid *pids);
void *outside_thread(void *arg); /* arg: sender index, as uintptr_t */
int64_t now_ns(void);
uint64_t rnd(uint64_t *s);

/* The account (chaos_acct.c): prints the table, returns mismatches. Not
 * final (between rounds): receivers may still be alive; the dead are then
 * forgotten. */
int account_check(FILE *out, int final);
extern int round_no; /* 1, 2, ...: the round being accounted (main thread) */

#endif
