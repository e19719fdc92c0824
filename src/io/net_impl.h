/* The network layer's internal state: the per-VM socket table, the
 * sockets, the poller and the janitor process. Layer: src/io sits above
 * src/actor (it is written against the public API, plus the scheduler's
 * poller hook reached through the VM record) and below src/otp. See
 * docs/net.md. */
#ifndef FXI_IO_NET_IMPL_H
#define FXI_IO_NET_IMPL_H

#include <fauxtp/error.h>
#include <fauxtp/net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "mem/alloc.h"
#include "platform/mutex.h"
#include "sched/sched.h"

_Static_assert(sizeof(((fx_net_addr *) 0)->sa) >= sizeof(struct sockaddr_storage),
               "fx_net_addr holds any socket address");
/* An address's family, copied out of its uint64_t storage (a sockaddr
 * lvalue there would break strict aliasing). */
static inline sa_family_t fxi_sa_family(const fx_net_addr *a)
{
    sa_family_t f;
    memcpy(&f, (const char *) a->sa + offsetof(struct sockaddr, sa_family), sizeof f);
    return f;
}
#define SA_FAMILY(a) fxi_sa_family(a)

/* Largest read per FX_NET_DATA in active mode. */
#define FXI_NET_READ_MAX 65536u
/* Reads (or accepts) in a row before a socket yields its thread: after
 * that many, an event is re-queued for the rest (fairness). */
#define FXI_NET_READS_PER_EVENT 8
/* Slots: FXI_NET_CHUNKS chunks of FXI_NET_CHUNK sockets. */
#define FXI_NET_CHUNK 256u
#define FXI_NET_CHUNKS 4096u

enum { FXI_SK_LISTEN = 1, FXI_SK_STREAM, FXI_SK_UDP };
enum { FXI_ST_OPEN = 1, FXI_ST_CONNECTING };

/* Options kept per socket (accepted sockets inherit the listener's). */
typedef struct fxi_net_sopts {
    uint32_t high, low;
    bool nodelay;
    bool busy_poll; /* events make the polling thread spin before it parks */
} fxi_net_sopts;

/* One queued write: a message whose payload from `off` is still unsent. */
typedef struct fxi_wchunk {
    struct fxi_wchunk *next;
    fx_msg *m;
    size_t off;
} fxi_wchunk;

/* A socket. Every field is protected by its slot's mutex. The fields
 * every readiness event and every send touch come first, in one cache
 * line (the slot aligns it): with 1,000 connections a socket's state is
 * cold each time its event comes, and each line is a cache miss
 * (docs/net.md, "Cost per request"). */
typedef struct fxi_sock {
    /* ---- hot: the first cache line ---- */
    int fd;
    uint8_t kind, state;
    bool eof;       /* read side finished (EOF, error or SHUT_RD): no reads */
    bool shut_wr;   /* shut the write side once the queue drains */
    bool wr_closed; /* write side shut (or failed): sends answer FX_ECONNECT */
    bool recv_pending;
    /* Edge-triggered readiness (docs/net.md, "The poller"): rd_ready is set
     * by every read-side event (EPOLLIN/RDHUP/HUP/ERR) and cleared only by a
     * read or accept that found the kernel queue empty (EAGAIN, or a short
     * stream read); while it is set nobody waits for an edge, so the
     * owner's next credit reads at once. ep_out: EPOLLOUT is in the
     * registration (added the first time a write queues). */
    bool rd_ready;
    bool rd_hup; /* EPOLLRDHUP/HUP/ERR seen: EOF or an error waits behind
                    the bytes, and a short read no longer means drained */
    bool ep_out;
    int32_t credit; /* FX_NET_DATA messages (accepts on a listener) left */
    fx_pid owner;
    fxi_net_sopts opts;
    uint32_t wr_n; /* processes in wr_wait */
    /* write queue */
    fxi_wchunk *wq_head;
    size_t wq_bytes;
    /* ---- the rest ---- */
    fxi_wchunk *wq_tail;
    /* fx_net_recv: wanted bytes, the message being filled, bytes in it */
    size_t recv_want, recv_got;
    fx_msg *recv_buf;
    uint32_t recv_seq; /* bumped per request: stale timeouts are ignored */
    uint32_t conn_seq;
    /* The janitor's timers for a pending recv's and a connect's timeout
     * (id 0: none): cancelled when the request ends first, so a server
     * that reads with timeouts keeps no timer per finished read. */
    fx_timer recv_tmr, conn_tmr;
    /* Every process refused with FX_EAGAIN since the queue last drained:
     * each gets FX_NET_WRITABLE below the low mark or when the socket
     * fails or closes (fxi_net_wake_writers). */
    fx_pid *wr_wait;
    uint32_t wr_cap;
} fxi_sock;

/* A slot: its mutex (and the handle check) in the first cache line, the
 * socket's hot fields in the second. Chunks of slots are allocated
 * cache-line aligned (net_table.c). */
typedef struct fxi_nslot {
    fxi_mutex mx; /* rank FXI_RANK_NET_SOCK: held across sends */
    uint32_t gen; /* bumped at each close; part of the handle */
    bool used;
    _Alignas(FXI_CACHELINE) fxi_sock s;
    uint32_t next_free;
} __attribute__((aligned(FXI_CACHELINE))) fxi_nslot;
_Static_assert(offsetof(fxi_sock, wq_tail) <= FXI_CACHELINE,
               "a socket's hot fields fit one cache line");

/* Events one poll or wait takes from epoll at most. */
#define FXI_NET_EVENTS 64

/* A scheduler thread's events taken by its wait() (offline), handled by
 * its next poll() (online). Written by its thread only. */
typedef struct fxi_net_evq {
    int n;
    struct epoll_event ev[FXI_NET_EVENTS];
} __attribute__((aligned(FXI_CACHELINE))) fxi_net_evq;

typedef struct fxi_net {
    fxi_poller poller; /* first: the pool calls back with its address */
    fx_vm *vm;
    int epfd, evfd;
    uint32_t no_pwait2; /* atomic: epoll_pwait2 said ENOSYS */
    fxi_net_evq *evq;   /* per scheduler slot (nthreads) */
    uint32_t nthreads;
    char **rbuf; /* per scheduler thread: read buffers (FXI_NET_READ_MAX) */
    size_t read_max;
    fx_pid janitor;
    /* tab_mx (rank FXI_RANK_NET_TABLE) protects the free list and the
     * growth of chunks[]; chunk pointers are published with release
     * stores and read lock-free (acquire). */
    fxi_mutex tab_mx;
    uint32_t nslots, free_head; /* free_head: index+1, 0 = empty */
    fxi_nslot *chunks[FXI_NET_CHUNKS];
    /* The spare descriptor closed to accept-and-refuse when out of fds
     * (rank FXI_RANK_NET_RESERVE). */
    fxi_mutex reserve_mx;
    int reserve_fd;
} fxi_net;

/* Janitor requests (type, payload fxi_jreq). */
enum { FXI_J_WATCH = 1, FXI_J_UNWATCH, FXI_J_RECV_TIMEOUT, FXI_J_CONN_TIMEOUT };
typedef struct fxi_jreq {
    uint64_t sock;
    uint32_t seq;
} fxi_jreq;

/* net_table.c */
/* The VM's network state, created on first use. NULL: out of memory or
 * the VM is stopping (*rc says which). */
fxi_net *fxi_net_get(fx_vm *vm, int *rc);
/* The VM's network state if it exists, else NULL (no socket ever). */
fxi_net *fxi_net_find(fx_vm *vm);
/* A free slot, locked, with a fresh handle in *id; NULL when full. */
fxi_nslot *fxi_net_slot_new(fxi_net *n, uint64_t *id);
/* The slot of a live handle, locked; NULL (FX_EBADF) for a stale one. */
fxi_nslot *fxi_net_slot_lock(fxi_net *n, uint64_t id);
/* Closes the socket of a locked slot (drops queued data, bumps the
 * generation) and unlocks it; the handle is stale from now on. tell_janitor:
 * ask the janitor to drop its monitor. */
void fxi_net_slot_close(fxi_net *n, fxi_nslot *sl, uint64_t id, bool tell_janitor);
/* Closes every socket of the VM (its shutdown). Any thread. */
void fxi_net_close_all(fxi_net *n);
static inline void fxi_net_slot_unlock(fxi_nslot *sl)
{
    fxi_mutex_unlock(&sl->mx);
}

/* The read buffer (FXI_NET_READ_MAX) of the calling scheduler thread, or
 * NULL on a thread that is not one of the VM's. */
char *fxi_net_rbuf_here(fxi_net *n);

/* net_sock.c: I/O on a locked socket. */
/* The epoll registration of a new socket (edge-triggered, once). */
uint32_t fxi_net_ep_events(const fxi_sock *s);
/* Adds EPOLLOUT to the registration if it is not there (a write queued). */
void fxi_net_want_out(fxi_net *n, fxi_sock *s, uint64_t id);
/* Re-queues an event if the socket is ready now (EPOLL_CTL_MOD re-polls
 * an edge-triggered fd): a read loop cut short for fairness, or accept
 * credit given back while a connection waits. */
void fxi_net_kick(fxi_net *n, fxi_sock *s, uint64_t id);
/* The owner gave read credit or asked for a passive read: if readiness is
 * remembered (rd_ready), reads now, on the caller's thread. The slot is
 * locked and stays locked unless the socket was closed (returns true). */
bool fxi_net_resume(fxi_net *n, fxi_nslot *sl, uint64_t id);
/* Handles one readiness event; the slot is locked and stays locked
 * unless the socket was closed (returns true then). */
bool fxi_net_ready(fxi_net *n, fxi_nslot *sl, uint64_t id, uint32_t events,
                   fxi_sched *sc);
/* Writes as much of the queue as the kernel takes. 0, or FX_ECONNECT. */
int fxi_net_flush(fxi_net *n, fxi_sock *s, uint64_t id);
/* Sends a runtime message about socket id to pid (dropped if dead). */
void fxi_net_notify(fxi_net *n, fx_pid to, uint32_t type, uint64_t id, const void *data,
                    size_t size);
void fxi_net_notify_error(fxi_net *n, fx_pid to, uint64_t id, int code, int err);
/* Maps an errno to an FX_E* code. */
int fxi_net_errno_code(int err);
/* Frees the write queue and any receive buffer of s. */
void fxi_net_sock_drop_buffers(fxi_sock *s);
/* Adds pid to the processes waiting for FX_NET_WRITABLE (once each).
 * 0 or FX_ENOMEM. */
int fxi_net_wait_writable(fxi_sock *s, fx_pid pid);
/* Sends FX_NET_WRITABLE to every waiting process and forgets them (the
 * queue drained, or the write side failed or closed: their next send
 * tells which). */
void fxi_net_wake_writers(fxi_net *n, fxi_sock *s, uint64_t id);
/* Forgets the waiting processes without telling them (VM teardown). */
void fxi_net_free_writers(fxi_sock *s);
/* Delivers a passive request's partial buffer short (as FX_NET_DATA to
 * the owner, if it holds bytes) and frees it: at EOF, or when credit or
 * a read shutdown ends the request. Slot locked. */
void fxi_net_deliver_partial(fxi_net *n, fxi_sock *s, uint64_t id);

static inline fxi_wchunk *fxi_net_chunk_new(fx_msg *m, size_t off)
{
    fxi_wchunk *c = fxi_alloc(sizeof *c);
    if (c) {
        c->next = NULL;
        c->m = m;
        c->off = off;
    }
    return c;
}
static inline void fxi_net_chunk_free(fxi_wchunk *c)
{
    fxi_free(c, sizeof *c);
}
static inline void fxi_net_free_writers_array(fxi_sock *s)
{
    if (s->wr_wait)
        fxi_free(s->wr_wait, s->wr_cap * sizeof *s->wr_wait);
}

/* net_open.c */
/* Makes a socket of an open fd (non-blocking, close-on-exec), owned by
 * owner; registers it with epoll and the janitor. On error the fd is
 * closed. 0, FX_ENOMEM (table full or no memory), FX_ESYS. */
int fxi_net_adopt(fxi_net *n, int fd, int kind, int state, const fxi_net_sopts *o,
                  fx_pid owner, fx_sock *out);
/* The options of a public opts struct (NULL: defaults). */
void fxi_net_sopts_from(fxi_net_sopts *o, const fx_net_opts *u);

/* net_poller.c */
int fxi_net_poller_init(fxi_net *n);
void fxi_net_poller_fini(fxi_net *n);

/* net_janitor.c */
int fxi_net_janitor_start(fxi_net *n);
void fxi_net_janitor_tell(fxi_net *n, int type, uint64_t id, uint32_t seq);
/* Arms a timeout for socket id (a message to the janitor after ms);
 * *tmr gets its handle (id 0 if it could not be armed). */
void fxi_net_janitor_after(fxi_net *n, int64_t ms, int type, uint64_t id, uint32_t seq,
                           fx_timer *tmr);
/* Cancels *tmr if armed, and disarms it. Any thread; slot lock held. */
void fxi_net_timer_stop(fxi_net *n, fx_timer *tmr);
/* A pending fx_net_recv is over (answered, or the read side ended): no
 * request, and its timeout's timer cancelled. */
void fxi_net_recv_over(fxi_net *n, fxi_sock *s);

#endif
