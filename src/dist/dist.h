/* The distribution layer's shared state (one per VM that is a node) and
 * the functions its files share. See docs/distribution.md.
 *
 * Threads: the node and connection processes run on scheduler threads;
 * senders on any thread reach fxi_dist_route through the send path's
 * "not a pid of this VM" branch. Everything mutable below is protected by
 * fxi_dist.mx (rank FXI_RANK_DIST, held across spawns and sends, never
 * across a blocking wait). The struct itself lives until fx_vm_destroy
 * (the attachment's free hook), so a sender that loaded vm->dist may use
 * it after a stop: it finds the node not running. */
#ifndef FXI_DIST_DIST_H
#define FXI_DIST_DIST_H

#include <fauxtp/dist.h>
#include <fauxtp/vm.h>

#include "actor/actor.h"
#include "actor/ptable.h"
#include "dist/dist_proto.h"
#include "dist/dist_route.h"
#include "ds/u64map.h"
#include "platform/mutex.h"

/* Internal message types (the behaviour range, see msg.h). */
#define FXI_DIST_OUT (FX_MSG_BEHAVIOUR_BASE + 0x500u)  /* a whole frame to write */
#define FXI_DIST_WAIT (FX_MSG_BEHAVIOUR_BASE + 0x501u) /* tell me when up */
#define FXI_DIST_UP (FX_MSG_BEHAVIOUR_BASE + 0x502u)   /* payload int32 rc */
#define FXI_DIST_STOP (FX_MSG_BEHAVIOUR_BASE + 0x503u) /* exit now */
#define FXI_DIST_SOCK (FX_MSG_BEHAVIOUR_BASE + 0x504u) /* the socket is yours */
#define FXI_DIST_TICK (FX_MSG_BEHAVIOUR_BASE + 0x505u) /* tick timer */
/* write the frames held back for one write (dist_conn.c) */
#define FXI_DIST_FLUSH (FX_MSG_BEHAVIOUR_BASE + 0x506u)

typedef struct fxi_rpid {
    uint32_t num, serial, creation;
} fxi_rpid;

/* One remote node incarnation (a name; a new creation takes a new tag). */
typedef struct fxi_rnode {
    char name[256];
    uint32_t creation; /* 0 until known */
    uint32_t tag;      /* pid tag of this incarnation's pids */
    fx_pid conn;       /* connection process, FX_PID_NONE when none */
    bool up;           /* handshake done */
    bool busy;         /* its connection's socket queue is over busy_limit */
    fxi_rpid *pids;    /* remote pid i (low 48 bits) is pids[i - 1] */
    uint32_t npids, cap;
    fxi_u64map index; /* (serial << 32 | num) + 1 -> i */
} fxi_rnode;

typedef struct fxi_dname {
    char node[256];
    char name[256];
} fxi_dname;

/* The longest host part of a node name, NUL included. */
#define FXI_DIST_HOST_MAX 256

typedef struct fxi_dist {
    fxi_dist_hook hook; /* first: vm->dist points here (dist_route.h) */
    fx_vm *vm;
    fxi_mutex mx;
    /* Under mx. Set by fx_dist_start, cleared by fx_dist_stop. */
    bool running;
    char name[256], alive[256], host[FXI_DIST_HOST_MAX];
    bool longnames; /* Erlang's -name (true) or -sname */
    bool inet6;     /* -proto_dist inet6_tcp: peers and epmd over IPv6 */
    char cookie[256];
    uint32_t creation;
    uint16_t epmd_port;
    uint32_t tick_ms, setup_ms, busy_limit;
    bool hidden;
    fx_pid node; /* the node process */
    fxi_rnode **nodes;
    uint32_t nnodes, cap;
    /* This incarnation of the local node (fx_dist_start counts them): a
     * connection spawned for an earlier one never comes up in this one. */
    uint32_t gen;
    /* Every connection process spawned in this incarnation that may still
     * run (dead ones are pruned when the array grows): fx_dist_stop ends
     * them all, handshakes under way included. */
    fx_pid *conns;
    uint32_t nconns, cconns;
    /* Node monitors (dist_nodemon.c): monitor_node and monitor_nodes. */
    struct fxi_nodemon *nmon;
    uint32_t nnmon, cnmon;
    /* {Name, Node} stand-ins (fxi_dist_name_pid): never freed before the
     * VM, so a DOWN's object stays readable. name_tag: set at creation. */
    uint32_t name_tag;
    struct fxi_dname *dnames;
    uint32_t ndn, cdn;
    /* Pid tags of ended node incarnations (a bit per tag): links and
     * monitors to their pids get noconnection, sends are dropped. */
    uint64_t retired[(FXI_PID_TAG_COUNT + 64) / 64];
} fxi_dist;

/* The node's send route (dist_route.h's hook; dist_table.c). */
int fxi_dist_route(fx_vm *vm, struct fxi_worker *w, fx_pid to, fx_msg *m);

/* vm's node state or NULL (acquire load: pairs with fx_dist_start's
 * release store, so the fields set before publication are seen). */
fxi_dist *fxi_dist_get(fx_vm *vm);

/* Sends an internal message (type from FXI_DIST_*, payload an int32 rc
 * when has_rc) to `to`: from a handler (cx) or from anywhere (cx NULL).
 * Dropped when `to` is dead. */
void fxi_dist_signal(fx_vm *vm, fx_ctx *cx, fx_pid to, uint32_t type, bool has_rc,
                     int32_t rc);
/* Arms the connection's next tick (FXI_DIST_TICK to self). */
void fxi_dist_tick_after(fx_ctx *cx, uint32_t ms);

/* ---- dist_table.c (callers hold d->mx unless said otherwise) ----------- */
fxi_rnode *fxi_dist_find(fxi_dist *d, const char *name);
fxi_rnode *fxi_dist_find_tag(fxi_dist *d, uint32_t tag);
/* Finds or adds the node entry; NULL on ENOMEM. */
fxi_rnode *fxi_dist_node_get(fxi_dist *d, const char *name, uint32_t creation);
/* The node's connection process, spawned when there is none. NONE on
 * failure. */
fx_pid fxi_dist_conn_ensure(fxi_dist *d, fxi_rnode *n);
/* The fauxtp pid for an Erlang pid (local or remote); a dead pid when it
 * names a process that cannot exist (old incarnation). Takes d->mx. */
fx_pid fxi_dist_pid_in(fxi_dist *d, const erlang_pid *p);
/* Encodes pid (local, or remote of a known node) as an Erlang pid; false
 * when it is neither. Takes d->mx. */
bool fxi_dist_pid_out(fxi_dist *d, fx_pid pid, erlang_pid *out);
/* The stand-in pid of {name, node} for monitors by name (dist_call.c):
 * the DOWN's object, as Erlang's is {Name, Node} (fx_dist_pid_name and
 * fx_dist_pid_node read it back, also after the node went down). Its
 * monitor and demonitor reach the node's connection. One per {name, node}
 * for the life of the VM (d->dnames, tag d->name_tag); past
 * FXI_DIST_NAMES_MAX of them, a remote pid of that node that no peer
 * process has (it names the node only). NONE when not running or on
 * ENOMEM. Takes d->mx. */
#define FXI_DIST_NAMES_MAX 4096u
fx_pid fxi_dist_name_pid(fxi_dist *d, const char *node, const char *name);
/* The {name, node} of a stand-in pid (d->name_tag) or NULL. Caller holds
 * d->mx. */
const struct fxi_dname *fxi_dist_dname(const fxi_dist *d, fx_pid pid);
/* A GenServer call or cast envelope (FXI_GS_CALL/CAST, from and ref set)
 * as gen_server's term, with its 131, in *x (initialised here). */
int fxi_dist_gen_term(fxi_dist *d, const fx_msg *m, ei_x_buff *x);
/* Messages a connection's mailbox may hold before its senders are held
 * back as for a busy connection (frames not yet written). */
#define FXI_DIST_QUEUE_MAX 256u
/* Pacing a message (not a signal) to connection conn (busy: its node's
 * flag, read under d->mx) from w's thread, w NULL outside the VM; the
 * caller is inside a QSBR section. Before it is handed over: FX_EAGAIN
 * for a sender outside the VM when the connection is busy or its mailbox
 * holds FXI_DIST_QUEUE_MAX messages, else 0. After: a process sending in
 * a handler call to such a connection is muted after the call. */
int fxi_dist_pace_check(fx_vm *vm, fxi_worker *w, fx_pid conn, bool busy);
void fxi_dist_pace_after(fx_vm *vm, fxi_worker *w, fx_pid conn, bool busy);
/* Drops every node entry (stop, destroy). */
void fxi_dist_table_clear(fxi_dist *d);

/* Ends node n's incarnation: its pids become dead pids of a retired tag
 * (noconnection for links and monitors), its pid table is freed and the
 * node gets a fresh tag and an unknown creation. Caller holds d->mx. */
void fxi_dist_retire(fxi_dist *d, fxi_rnode *n);
/* Whether tag is one of an ended incarnation. Caller holds d->mx. */
bool fxi_dist_retired(const fxi_dist *d, uint32_t tag);

/* ---- dist_nodemon.c (callers hold d->mx) --------------------------------- */
/* Connection `self` to peer ended (why: the reason's text): when it is
 * the node's connection, the node is down: its monitor_node watchers get
 * their nodedown (and lose their monitors), monitor_nodes subscribers get
 * one when the node was up, and an up node's incarnation ends
 * (fxi_dist_retire). cx: the connection's context, or NULL. */
void fxi_dist_node_gone(fxi_dist *d, fx_ctx *cx, const char *peer, fx_pid self,
                        const char *why);
/* Node n came up: monitor_nodes subscribers get their nodeup. */
void fxi_dist_node_up(fxi_dist *d, fx_ctx *cx, const fxi_rnode *n);
/* The local node stops: every monitor_node watcher gets its nodedown,
 * every subscriber one per node that was up; all node monitors end. */
void fxi_dist_nodemon_stop(fxi_dist *d);
/* Frees the node monitor table (VM destroy). */
void fxi_dist_nodemon_free(fxi_dist *d);

/* ---- dist_out.c --------------------------------------------------------- */
/* A frame message (FXI_DIST_OUT) carrying ctl and the message payload of
 * m's type/data, or NULL (FX_ENOMEM or a bad FX_MSG_TERM payload in *rc). */
fx_msg *fxi_dist_frame(fxi_dist *d, const ei_x_buff *ctl, uint32_t type, const void *data,
                       size_t size, int *rc);
/* The same frame as SEND {2, '', To} when frame m is a SEND_SENDER one
 * (for peers that did not offer SEND_SENDER); NULL when it is not one, or
 * on ENOMEM. m stays the caller's. */
fx_msg *fxi_dist_frame_without_sender(const fx_msg *m);
/* Sends type/data to name on node from `from` (a local pid or NONE). */
int fxi_dist_send_name(fxi_dist *d, fxi_worker *w, fx_pid from, const char *node,
                       const char *name, uint32_t type, const void *data, size_t size);

/* ---- dist_sig.c --------------------------------------------------------- */
/* A fauxtp ref as an Erlang reference of this node, and back (false when
 * it is not one of ours). */
void fxi_dist_ref_out(const fxi_dist *d, fx_ref r, erlang_ref *e);
bool fxi_dist_ref_in(const fxi_dist *d, const erlang_ref *e, fx_ref *r);

/* ---- dist_conn.c -------------------------------------------------------- */
/* Spawns a connection process: initiator for peer (sock 0), or acceptor
 * for an accepted socket (peer NULL), for the local node's incarnation
 * d->gen, and lists it in d->conns. Caller holds d->mx. */
int fxi_dist_conn_spawn(fxi_dist *d, const char *peer, fx_pid *out);

/* ---- dist_node.c -------------------------------------------------------- */
/* "alive@host" with a usable host: alive and host split out. 0 or -1. */
int fxi_dist_split_name(const char *name, char *alive, size_t acap, char *host,
                        size_t hcap);

/* ---- names (dist_names.c) ---- */
/* Whether a peer's host part suits this node's names, as Erlang's
 * splitnode checks before connecting: long names want a dot or an IP
 * address, short names no dot. */
bool fxi_dist_host_style_ok(const char *host, bool longnames);
/* fxi_dist_split_name succeeds and the host suits d's names. */
bool fxi_dist_peer_ok(const fxi_dist *d, const char *node);
/* This node's full name from the given one (names: 0 auto, 1 short, 2
 * long; a name without "@host" takes this machine's short host name, or
 * its fully qualified one). May block (getaddrinfo): outside the VM. 0 or
 * -1 (a short name with a dot, no fully qualified name, too long). */
int fxi_dist_own_name(const char *given, int names, char *out, size_t cap,
                      bool *longnames);
/* A host part that needs no lookup: a numeric address of the family, or
 * "localhost" (127.0.0.1, ::1). 0 with ip set, or -1. */
int fxi_dist_numeric_ip(const char *host, bool inet6, char *ip, size_t cap);
/* Resolves host on the blocking pool: reply_to gets FX_MSG_POOL_DONE with
 * ref (decode with fxi_dist_resolved). 0 or the pool's error. Any thread. */
int fxi_dist_resolve_submit(fx_vm *vm, fx_pid reply_to, const char *host, bool inet6,
                            fx_ref ref);
/* The address text of a resolve outcome in ip (or the resolver's
 * complaint): 0, or FX_EADDR (does not resolve), another outcome status. */
int fxi_dist_resolved(const fx_msg *m, char *ip, size_t cap);

#endif
