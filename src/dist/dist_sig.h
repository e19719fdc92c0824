/* Links, monitors and exit signals across nodes, as a connection process
 * keeps them (dist_sig.c). A local process's own side is unchanged
 * (actor/link.c, monitor.c): its LINK, UNLINK, MONITOR, DEMONITOR, EXIT
 * and DOWN signals to a remote pid reach the connection through
 * fxi_dist_route, retyped to the FXI_DIST_S_* types below so the
 * connection's handler sees them, and the connection plays the remote
 * process's part: it keeps the promises (actor/signal.h) that a remote
 * EXIT, MONITOR_P_EXIT or the loss of the connection (noconnection)
 * fulfils. Owner (the connection process) only. */
#ifndef FXI_DIST_SIG_H
#define FXI_DIST_SIG_H

#include "dist/dist.h"

/* Retyped signals (m->from is the local process in each):
 * LINK, UNLINK, EXIT (a link's), EXIT2 (fx_exit): ref.id = the remote pid;
 * MONITOR: ref = the monitor's, fx_down_info.pid = the remote target;
 * DEMONITOR: ref; DOWN: ref = the local ref of a remote watcher's monitor. */
#define FXI_DIST_S_LINK (FX_MSG_BEHAVIOUR_BASE + 0x510u)
#define FXI_DIST_S_UNLINK (FX_MSG_BEHAVIOUR_BASE + 0x511u)
#define FXI_DIST_S_EXIT (FX_MSG_BEHAVIOUR_BASE + 0x512u)
#define FXI_DIST_S_EXIT2 (FX_MSG_BEHAVIOUR_BASE + 0x513u)
#define FXI_DIST_S_MONITOR (FX_MSG_BEHAVIOUR_BASE + 0x514u)
#define FXI_DIST_S_DEMONITOR (FX_MSG_BEHAVIOUR_BASE + 0x515u)
#define FXI_DIST_S_DOWN (FX_MSG_BEHAVIOUR_BASE + 0x516u)
/* A GenServer's reply (FX_MSG_REPLY) to a remote caller: ref = the call's. */
#define FXI_DIST_S_REPLY (FX_MSG_BEHAVIOUR_BASE + 0x517u)
/* The name of the monitor by name that follows from the same sender:
 * ref = the monitor's, payload = the name (no NUL). dist_call.c sends it
 * to the connection just before the monitor's request (FIFO per sender). */
#define FXI_DIST_S_MONNAME (FX_MSG_BEHAVIOUR_BASE + 0x518u)
#define FXI_DIST_S_FIRST FXI_DIST_S_LINK
#define FXI_DIST_S_LAST FXI_DIST_S_MONNAME

typedef struct fxi_dlink {
    fx_pid local, remote;
    fx_msg *promise; /* the EXIT from remote to local */
} fxi_dlink;

typedef struct fxi_dmon_out { /* a local process monitors a remote one */
    fx_ref ref;
    fx_pid watcher, target;
    fx_msg *promise; /* the DOWN to watcher */
    char *name;      /* a monitor of {name, node} (owned), or NULL */
} fxi_dmon_out;

typedef struct fxi_dmon_name { /* a FXI_DIST_S_MONNAME waiting for its monitor */
    fx_ref ref;
    char *name; /* owned */
} fxi_dmon_name;

typedef struct fxi_dmon_in { /* a remote process monitors a local one */
    fx_ref ref;              /* the local monitor's ref */
    erlang_ref eref;         /* the remote's */
    erlang_pid ewatcher;     /* the remote watcher */
    fx_pid watcher, target;
    bool by_name;
    char name[256];
} fxi_dmon_in;

/* A remote gen_server:call to a local server, until the server replies.
 * The caller's monitor on the server (gen:do_call's, whose ref is the
 * Tag, or the Alias of an OTP 24+ Tag [alias | Alias]) ends the entry
 * too: when the caller demonitors (it got the reply or gave up) or the
 * server's DOWN goes back to it, the entry is dropped, so a call the
 * server never answers costs nothing once its caller has moved on. */
typedef struct fxi_dcall {
    fx_ref ref;
    erlang_pid caller;
    uint8_t *tag; /* the call's Tag term, as received (no 131) */
    size_t taglen;
    erlang_ref mref; /* the ref inside Tag (has_mref), the caller's monitor's */
    bool has_mref;
} fxi_dcall;

typedef struct fxi_dist_sigs {
    fxi_dlink *links;
    uint32_t nl, cl;
    fxi_dmon_out *mo;
    uint32_t nmo, cmo;
    fxi_dmon_in *mi;
    uint32_t nmi, cmi;
    fxi_dcall *calls;
    uint32_t nc, cc;
    fxi_dmon_name *pn;
    uint32_t npn, cpn;
    uint64_t unlink_id;
} fxi_dist_sigs;

/* A retyped signal from the mailbox (the message being handled): updates
 * the tables (keeping m as a promise where it is one) and fills *ctl with
 * the control message to write. 1 when *ctl was filled (the caller writes
 * and frees it), 0 when there is nothing to write. */
int fxi_dsig_out(fx_ctx *cx, fxi_dist *d, fxi_dist_sigs *s, fx_msg *m, ei_x_buff *ctl);
/* A link, monitor or exit operation from the peer: applied locally. 1
 * with *reply filled when an answer must go back (noproc, an unlink ack). */
int fxi_dsig_in(fx_ctx *cx, fxi_dist *d, fxi_dist_sigs *s, const fxi_dist_ctl *c,
                const uint8_t *frame, ei_x_buff *reply);
/* The connection is gone: every link gets an exit signal and every
 * monitor a DOWN with reason noconnection; remote watchers' monitors are
 * withdrawn. Empties the tables. Inside the connection's handler. */
void fxi_dsig_down(fx_ctx *cx, fxi_dist_sigs *s);
/* Frees the tables and their promises without firing them (VM shutdown). */
void fxi_dsig_free(fxi_dist_sigs *s);

/* GenServer interop, for a message term sent to local process `to`
 * (FX_PID_NONE when unknown) by remote `from`: {'$gen_call', {Pid, Tag},
 * Req} becomes a GenServer call (the reply goes back as {Tag, Reply}),
 * {'$gen_cast', Req} a cast, and {Ref, Reply} with a ref of this node the
 * reply of a call a local process made. 1 when the term was one of these
 * (and delivered or dropped), 0 when it is an ordinary message. */
int fxi_dsig_gen_in(fx_ctx *cx, fxi_dist *d, fxi_dist_sigs *s, fx_pid to, fx_pid from,
                    const uint8_t *term, size_t len);
/* A local server's reply (FXI_DIST_S_REPLY) to a remote caller: 1 with
 * the control message in *ctl and the {Tag, <<Reply>>} term (with its
 * 131) in *msg, 0 when no such call is pending. The control message is
 * ALIAS_SEND to the caller's alias when its Tag is OTP 24's
 * [alias | Alias] and the peer takes aliases (alias_ok), so a reply after
 * the caller gave up is dropped by the peer as in Erlang; else SEND to
 * the caller's pid. */
int fxi_dsig_reply(fxi_dist *d, fxi_dist_sigs *s, fx_msg *m, bool alias_ok,
                   ei_x_buff *ctl, ei_x_buff *msg);

/* noconnection, as an fx_reason: error FX_ENODE "noconnection". */
fx_reason fxi_dist_noconnection(void);

#endif
