/* The actor (process) record, its extension, the handler context and the
 * per-scheduler state of the actor layer. Internal. */
#ifndef FXI_ACTOR_ACTOR_H
#define FXI_ACTOR_ACTOR_H

#include <fauxtp/actor.h>
#include <fauxtp/reason.h>
#include <setjmp.h>
#include <string.h>

#include "actor/marker.h"
#include "actor/msg.h"
#include "actor/recv_timer.h"
#include "ds/mailbox.h"
#include "ds/u64map.h"
#include "platform/fault.h"
#include "sched/sched.h"

/* kind: fixed at creation, read by senders. */
enum { FXI_KIND_ACTOR = 0, FXI_KIND_INBOX = 1 };

/* flags: owner thread only. */
enum {
    FXI_F_INIT = 1u << 0,      /* init function not run yet */
    FXI_F_RECEIVING = 1u << 1, /* selective receive: ext->match applies */
    FXI_F_RESCAN = 1u << 2,    /* continuation changed: rescan saved queue */
    FXI_F_INLINE = 1u << 3,    /* state allocated with the actor */
    FXI_F_TRAP = 1u << 4,      /* traps exits */
    FXI_F_LAZYTMO = 1u << 5,   /* the receive timeout is lazy (recv_timer.h) */
    FXI_F_RECVTMO = 1u << 6,   /* ext->recv_ref is set: lets the per-message
                                  disarm skip the (cold) ext record */
};
/* flags bits 10-15: the flood hand-off countdown (run.c). While nonzero,
 * this producer was measured as one half of a pipeline that runs faster
 * on two cores, and its floods are not held on its consumer's core. */
#define FXI_F_SPREAD_SHIFT 10
#define FXI_F_SPREAD_MASK (0x3fu << FXI_F_SPREAD_SHIFT)

/* Rarely needed parts of an actor, allocated on first use. Owner only. */
typedef struct fxi_actor_ext {
    fx_match match;  /* current selective-receive pattern */
    fx_ref recv_ref; /* ref of the pending receive timeout, 0 = none */
    /* init_arg until the init call starts (run.c reads it for the call);
     * from then on recv_timer, the timer of recv_ref (read only while
     * recv_ref is set). Sharing the word keeps the record at 224 bytes,
     * in jemalloc's 224-byte class: the 256-byte class above it has a
     * thread cache of only 32 records, whose fills and flushes cost
     * skynet about 15 % more instructions (callgrind). */
    union {
        void *init_arg;
        fx_timer recv_timer;
    };
    fx_cleanup_fn cleanup;
    fx_init_fn init;
    const char *label;   /* for crash reports; borrowed */
    fxi_u64map links;    /* pid id -> promise (actor/signal.h): links */
    fxi_u64map monitors; /* ref id -> pid id: monitors this process holds */
    fxi_u64map watchers; /* ref id -> promise: monitors on this process */
    fxi_marks marks;     /* receive markers (actor/marker.h) */
    /* Process info (src/info): written by the owner, read by anyone with
     * relaxed loads. parent: immutable, set at spawn; saved_n: messages in
     * the save queue; trap: mirrors FXI_F_TRAP (flags are owner only). */
    fx_pid parent;
    uint32_t saved_n;
    uint32_t trap;
    /* The mailbox limit (when lim != 0): immutable, read by senders. */
    uint32_t mb_limit;
} fxi_actor_ext;

_Static_assert(sizeof(void *) != 8 || sizeof(fxi_actor_ext) <= 224,
               "fxi_actor_ext outgrew jemalloc's 224-byte class");

typedef struct fxi_actor {
    /* Written by senders (head, pushed); the rest of mb is the owner's. */
    fxi_mailbox mb;
    /* Immutable while the process lives. */
    fx_pid pid;
    uint8_t kind;
    /* 0: no mailbox limit; else its fx_mailbox_policy + 1, the limit is
     * ext->mb_limit and mb counts every message (ds/mailbox.h "exact"). */
    uint8_t lim;
    /* Owner thread only (the scheduler running the actor). */
    uint16_t flags;
    uint32_t state_size; /* inline state bytes after the struct */
    union {
        struct {
            fx_handler handler;
            void *state;
        } live;
        struct { /* after death, in the limbo list */
            struct fxi_actor *next;
            uint64_t stamp;
        } dead;
    } u;
    fx_msg *saved; /* save queue: circular, points at the newest entry */
    /* Written by the owner (release store on lazy allocation), read by
     * process-info readers (acquire). For a process with a limit it is
     * set before the process is published and never changes while it
     * lives, so senders read ext->mb_limit. */
    fxi_actor_ext *ext;
    /* Messages handed to the handler. Owner writes (relaxed stores),
     * process-info readers load (relaxed). It takes the record from 80
     * bytes to 88, in jemalloc's 96-byte class. */
    uint64_t handled;
    /* Gathering producers (docs/design.md): 1 + the scheduler thread that
     * last queued this process pinned as a bottleneck, 0 if none. Owner
     * writes, muted senders' threads read (relaxed: a hint). */
    uint32_t home;
} fxi_actor;

/* An idle actor's record must stay in jemalloc's 96-byte class (the
 * 128-byte-per-idle-actor target, process-table slot included). */
_Static_assert(sizeof(void *) != 8 || sizeof(fxi_actor) <= 96,
               "fxi_actor outgrew its size class");

/* Sets the current handler. Owner thread only; a relaxed store because
 * process-info readers load it from other threads. */
static inline void fxi_actor_set_handler(fxi_actor *a, fx_handler h)
{
    _Static_assert(sizeof h == sizeof(uint64_t), "handler pointers are 64-bit");
    uint64_t bits;
    memcpy(&bits, &h, sizeof bits);
    /* Relaxed: a snapshot value for readers; orders nothing. */
    fxi_atomic_store_relaxed_64(&a->u.live.handler, bits);
}

#define FXI_UNSTAMPED UINT64_MAX

/* Where inline state starts: past the record, on a 16-byte boundary
 * (max_align_t's), as the payload of a message. */
#define FXI_ACTOR_STATE_OFF ((sizeof(fxi_actor) + 15) & ~(size_t) 15)

static inline size_t fxi_actor_alloc_size(const fxi_actor *a)
{
    return a->state_size ? FXI_ACTOR_STATE_OFF + a->state_size : sizeof(fxi_actor);
}

/* What a handler invocation asked for (fx_next.op). */
enum { FXI_NEXT_CONTINUE = 1, FXI_NEXT_BECOME, FXI_NEXT_RECEIVE, FXI_NEXT_STOP };

/* The handler context: one per scheduler thread. */
struct fx_ctx {
    fx_vm *vm;
    fxi_sched *s;
    struct fxi_worker *w;
    fxi_actor *self;
    fx_msg *cur; /* the message being handled, NULL during init */
    bool kept;   /* fx_msg_keep called on cur */
    fx_handler next_handler;
    fx_reason stop_reason;
};

/* Sender-side batching ("outbox"): the open chains of a scheduler thread,
 * one per target; the operations are in actor/outbox.h. */

/* Messages per chain before it is published anyway: bounds how long a
 * consumer on another core waits for the first of them. */
#define FXI_OUTBOX_MAX 64

/* Open chains per thread (a power of two): a handler call that sends to
 * more processes than this publishes its oldest chain to open a new one.
 * 64 covers a fan-out to 60 processes (fjthrput). */
#define FXI_OUTBOX_CHAINS 64

/* Slots of the index from target to chain (a power of two, at least
 * four times FXI_OUTBOX_CHAINS so probes stay short and always end). */
#define FXI_OUTBOX_SLOTS 256

/* Wake-ups a handler call may defer (actor/outbox.h). */
#define FXI_WAKES_MAX 64

/* One open chain: messages to `to` (whose pid and limit policy are
 * copied here, so later sends to it touch neither the process table nor
 * its record), linked first..last, not published. */
typedef struct fxi_ochain {
    fx_pid pid;
    struct fxi_actor *to;
    fxi_mnode *first, *last;
    uint32_t n;
    uint16_t slot; /* its slot in fxi_outbox.index */
    uint8_t lim;   /* to->lim */
} fxi_ochain;

/* Owner thread only. */
typedef struct fxi_outbox {
    /* Open chains, in the order of their first send: the chains numbered
     * lo..hi-1 (mod 2^32), chain k in ring[k % FXI_OUTBOX_CHAINS]. */
    uint32_t lo, hi;
    /* Flood detection (run.c, fxi_sched_hold_owner): the process the last
     * full chain (FXI_OUTBOX_MAX messages) went to, and how many messages
     * in full chains went to it in a row in the current handler call
     * (reset before each call; flood_to is meaningful only while
     * flood_n > 0). A call that reaches flood_min (max(batch,
     * FXI_OUTBOX_MAX), set when the thread starts) floods flood_to. */
    struct fxi_actor *flood_to;
    uint32_t flood_n, flood_min;
    /* Messages published by the current run (run.c's send budget). */
    uint32_t run_sent;
    fxi_ochain ring[FXI_OUTBOX_CHAINS];
    /* Open addressing (linear probing) from a target's pid to the number
     * of its chain. A slot is in use iff the number it holds is
     * open and that chain's slot is this one, so publishing chains needs
     * no clean-up here (actor/outbox.h). */
    uint32_t index[FXI_OUTBOX_SLOTS];
} fxi_outbox;

/* Per-scheduler state of the actor layer. Owner thread only unless noted. */
typedef struct fxi_worker {
    /* Workers sit side by side in one array: whole cache lines each, so
     * one thread's counters never share a line with the next one's
     * context. */
    _Alignas(FXI_CACHELINE) struct fx_ctx cx;
    fxi_outbox out; /* sends not yet published (actor/outbox.h) */
    jmp_buf crash_jb;
    fxi_fault_site fault; /* trap_faults: armed while user code runs */
    /* Dead actors waiting for their grace period, oldest first. */
    fxi_actor *limbo_head, *limbo_tail;
    fxi_actor *limbo_unstamped; /* first entry without a stamp */
    /* Free process-table slots cached by this thread. */
    uint32_t free_head, free_count;
    /* This thread's share of the live-process count (actor/ptable.c):
     * processes it inserted minus those it killed, mod 2^64. Written by
     * the owner only (relaxed stores), read by any spawner that has to
     * count (relaxed loads after a seq_cst fence). */
    uint64_t live_share;
    uint64_t ref_next;
    /* Flood hand-off measurements (run.c): the producer last put on hold,
     * when, how many messages its flood had, and how many hold cycles in a
     * row found both halves of the pair slow. hold_last is only compared,
     * never dereferenced. */
    const fxi_actor *hold_last;
    uint64_t hold_t;
    uint32_t hold_n, hold_heavy;
    /* Counters: written by the owner, read by fx_vm_stats_get. */
    uint64_t stat_spawned, stat_exited, stat_dropped;
    /* More counters (docs/observability.md), the same way: exits by
     * reason kind (other = exited minus these), refusals by full
     * mailboxes (part of stat_dropped), deliveries, and, while
     * timing is on (actor/timing.h), time in runs and parked. park_t0:
     * owner only, when the current sleep began (0: not timed). */
    uint64_t stat_exit_normal, stat_exit_shutdown, stat_exit_killed;
    uint64_t stat_dropped_full, stat_sent;
    uint64_t stat_busy_ns, stat_parked_ns, park_t0;
    uint32_t thread_live; /* atomic: 1 while the thread is in thread_body */
    /* Muting (actor/mute.h): the process a send of the current handler
     * call found over its mark, and the actors muted on this thread. */
    struct fxi_actor *mute_to;
    struct fxi_muted *muted;
    uint32_t nmuted, muted_cap;
    uint32_t mute_mark; /* fxi_mute_vm_mark, set when the thread starts */
    /* Processes the current handler call's sends woke and that are not
     * scheduled yet (actor/outbox.h, "deferred wake-ups"). */
    uint32_t nwakes;
    struct fxi_actor *wakes[FXI_WAKES_MAX];
    /* Receive timeouts not in the timer wheel yet (actor/recv_timer.h). */
    fxi_lazy_ring tl;
} fxi_worker;

/* True if exit signals reach a as FX_MSG_EXIT messages (inboxes always;
 * actors with trap_exit on). Owner of a. */
static inline bool fxi_actor_traps(const fxi_actor *a)
{
    return a->kind == FXI_KIND_INBOX || (a->flags & FXI_F_TRAP);
}

/* Pushes to a count every message (ds/mailbox.h, "exact"): a has a
 * limit. Any thread (lim is immutable). */
static inline bool fxi_mb_counted(const fxi_actor *a)
{
    return a->lim != 0;
}

/* The actor's extension record, allocated on first use (NULL on ENOMEM). */
fxi_actor_ext *fxi_actor_ext_get(fxi_actor *a);
/* Frees it with its link and monitor tables. */
void fxi_actor_ext_free(fxi_actor *a);

/* The calling scheduler thread's worker (set by run.c when the thread
 * starts), NULL on other threads: fx_crash(NULL) finds the running actor
 * through it. */
extern _Thread_local fxi_worker *fxi_actor_tls_worker;

/* A fresh ref from any thread: w is the calling scheduler's worker or
 * NULL. */
fx_ref fxi_make_ref(fx_vm *vm, fxi_worker *w);

#endif
