/* fauxtp: the VM as a node of an Erlang cluster (the Erlang distribution
 * protocol: epmd, the version 6 handshake with cookies, ETF messages).
 * docs/distribution.md has the whole story: setting up a node, the pid
 * design, the message mapping and what is not supported yet.
 *
 * A started node registers its name with epmd, accepts connections from
 * Erlang (and fauxtp) nodes, and connects on first use. Pids of processes
 * on other nodes become ordinary fx_pid values: fx_send, fx_send_msg and
 * fx_vm_send to them go over the node's connection, and a process replies
 * to a remote sender with fx_send(cx, fx_msg_from(msg), ...) as usual.
 *
 * Message mapping: a message of user type T (< FX_MSG_SYSTEM_BASE) with
 * payload P sent to another node travels as the Erlang term {T, <<P>>};
 * an incoming term that is exactly {T, Binary} with 0 <= T <
 * FX_MSG_SYSTEM_BASE arrives as type T with the binary as payload, and
 * every other term arrives as FX_MSG_TERM whose payload is the term in
 * the external format (starting with the version byte 131). A message of
 * type FX_MSG_TERM sent to a remote process is written out as its payload
 * (which must be one well-formed term with its 131).
 *
 * Links, monitors and exit signals (fx_link, fx_monitor, fx_exit...) work
 * on remote pids with Erlang's semantics; when a connection drops (or
 * stays silent past the net tick timeout) every link over it gets an exit
 * signal and every monitor a DOWN with reason noconnection, which is
 * fx_reason_error(FX_ENODE, "noconnection"). GenServer calls work both
 * ways: Erlang's gen_server:call({Name, Node}, {T, <<B>>}) reaches a fauxtp
 * GenServer as a call of type T and gets the reply as a binary, and
 * fx_gs_call on an Erlang gen_server's pid sends it {T, <<Data>>}
 * (docs/distribution.md).
 *
 * Errors specific to this header: FX_ENOTDIST (the VM is not a running
 * node, or the library was built without distribution), FX_ENODE (no
 * connection to that node: unknown to epmd, unreachable or down), FX_EAUTH
 * (the handshake was refused: wrong cookie, or the name is taken),
 * FX_EDIST (protocol error: epmd refused the name, or a malformed reply). */
#ifndef FAUXTP_DIST_H
#define FAUXTP_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "actor.h"
#include "inbox.h"
#include "msg.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Short or long node names, as Erlang's -sname and -name (fx_dist_opts). */
typedef enum fx_dist_names {
    /* Long names when the name's host part has a dot or is an IP address,
     * short names otherwise (also for a name without a host part). */
    FX_DIST_NAMES_AUTO = 0,
    /* -sname: hosts without dots ("fx@myhost"); a name without host part
     * takes this machine's host name up to its first dot. */
    FX_DIST_SHORTNAMES = 1,
    /* -name: fully qualified hosts or IP addresses ("fx@a.example.org",
     * "fx@127.0.0.1", "fx@::1"); a name without host part takes this
     * machine's fully qualified name. */
    FX_DIST_LONGNAMES = 2
} fx_dist_names;

/* Node options. Zero fields take the defaults. */
typedef struct fx_dist_opts {
    /* "alive" or "alive@host" (required): alive is letters, digits, '_'
     * and '-'; host a host name or an IP address, as `names` says.
     * Borrowed. As in Erlang, a node with short names reaches only peers
     * whose host has no dot, one with long names only peers whose host has
     * a dot or is an IP address (fx_dist_connect answers FX_EINVAL);
     * peers' host names are resolved off the scheduler threads. */
    const char *name;
    /* The cookie; NULL reads ~/.erlang.cookie (first line). Borrowed. */
    const char *cookie;
    /* The address to listen on; NULL = "0.0.0.0" (every interface). */
    const char *listen_ip;
    uint16_t listen_port; /* 0 = any free port */
    uint16_t epmd_port;   /* 0 = $ERL_EPMD_PORT, else 4369 */
    uint32_t tick_ms;     /* Erlang's net_ticktime in ms; 0 = 60,000 */
    uint32_t setup_ms;    /* connection setup timeout; 0 = 7,000 */
    /* false (the default): a hidden node, as Erlang's C nodes and -hidden
     * nodes are: peers leave it out of nodes() and of global's name
     * sync. true: a visible node; global's and rpc's requests to it are
     * dropped (there is no global_name_server or rex here). */
    bool published;
    /* Erlang's dist_buf_busy_limit, in bytes: a connection whose socket
     * queue reaches it is busy (see "Busy connections" below) until the
     * queue drains to a quarter of it. 0 = 64 MiB. */
    uint32_t busy_limit;
    /* --- version 3: names --- */
    fx_dist_names names; /* FX_DIST_NAMES_AUTO (0): from the name */
    /* true: Erlang's -proto_dist inet6_tcp: peers' hosts resolve to IPv6
     * addresses, epmd is asked for them over IPv6, and the node listens
     * on "::" unless listen_ip says otherwise. Registration with the
     * local epmd stays on 127.0.0.1, as Erlang's. */
    bool inet6;
} fx_dist_opts;

/* Starts vm's node: listens, registers the name with epmd and waits for
 * its answer (at most setup_ms). The VM must be running. Errors:
 * FX_EINVAL (NULL, a bad name: with short names a host with a dot, with
 * long names and no host part no fully qualified name for this machine;
 * no cookie; a bad names value), FX_EEXIST (already a node),
 * FX_ECONNECT (epmd not reachable), FX_EDIST (epmd refused the name: it
 * is taken), FX_EADDR (listen address), FX_ETIMEDOUT, FX_ENOTDIST (built
 * without distribution), FX_ESHUTDOWN, FX_ENOMEM. Any thread outside the
 * VM (it blocks; a name without host part may ask the resolver). */
FX_API int fx_dist_start(fx_vm *vm, const fx_dist_opts *opts);

/* Stops the node: unregisters from epmd, closes every connection
 * (messages queued for them are dropped) and waits for the node process
 * to exit (at most setup_ms). Remote pids become dead pids. A stopped
 * node can be started again (a new incarnation). 0, FX_ENOTDIST (not a
 * node), FX_EINVAL (NULL). Any thread outside the VM. */
FX_API int fx_dist_stop(fx_vm *vm);

/* Copies this node's name, NUL-terminated, into buf (cap bytes) and
 * returns its length; FX_EINVAL (NULL, or cap too small), FX_ENOTDIST.
 * Any thread. */
FX_API int fx_dist_node_name(fx_vm *vm, char *buf, size_t cap);

/* The name of the node of pid: 0 when pid is a local pid (any pid of this
 * VM, dead or alive) with buf set to this node's name (empty when the VM
 * is not a node); the length (> 0) with buf set for a remote pid (or the
 * stand-in of a {Name, Node}, see fx_dist_pid_name); FX_ENOENT for a pid
 * of no known node, which includes the pids of a node incarnation whose
 * connection went down; FX_EINVAL (NULL, cap too small). Any thread. */
FX_API int fx_dist_pid_node(fx_vm *vm, fx_pid pid, char *buf, size_t cap);

/* The registered name that pid stands for, when it is the object of a
 * monitor by name on another node: the pid in the fx_down_info of the
 * DOWN that ends a call to {Name, Node} (fx_gs_call_remote_async; Erlang
 * reports {'DOWN', Ref, process, {Name, Node}, Reason}). Copies Name
 * into buf and returns its length (fx_dist_pid_node gives Node), also
 * after that node went down; one such pid per {Name, Node}, for the
 * VM's life. FX_ENOENT for any other pid (or past 4,096 distinct
 * {Name, Node} pairs, whose pids name the node only), FX_EINVAL (NULL,
 * cap too small). Any thread. */
FX_API int fx_dist_pid_name(fx_vm *vm, fx_pid pid, char *buf, size_t cap);

/* Connects to node now (connections are otherwise made on first use) and
 * waits until the handshake is done, at most timeout_ms (< 0 = setup_ms).
 * 0 when connected. Errors: FX_ENOTDIST, FX_EINVAL (NULL, bad name,
 * this node's own, or a host this node's short or long names do not
 * reach, as Erlang's splitnode refuses it), FX_EADDR (the host does not
 * resolve), FX_ENODE (not registered, unreachable, or the connection
 * failed), FX_EAUTH (refused: cookie or name), FX_ETIMEDOUT (also a
 * resolver that did not answer within setup_ms).
 * Any thread outside the VM. */
FX_API int fx_dist_connect(fx_vm *vm, const char *node, int64_t timeout_ms);

/* Sends (type, data, size) to the process registered as `name` on `node`
 * (Erlang's {Name, Node} ! Msg), from the running process; the mapping
 * above applies (FX_MSG_TERM allowed). Connects on first use. As in
 * Erlang, delivery is not confirmed: 0 means handed to the connection.
 * Errors: FX_EINVAL (NULL, bad name, reserved type, data NULL with size >
 * 0, a FX_MSG_TERM payload that is not one term), FX_EMSGSIZE,
 * FX_ENOTDIST, FX_ENOMEM. Inside a handler only. */
FX_API int fx_dist_send_named(fx_ctx *cx, const char *node, const char *name,
                              uint32_t type, const void *data, size_t size);
/* The same from outside the VM (the sender is no process); also FX_EAGAIN
 * while the connection is busy (see "Busy connections"; the caller keeps
 * nothing to free: data is copied only on success). Any thread. */
FX_API int fx_dist_vm_send_named(fx_vm *vm, const char *node, const char *name,
                                 uint32_t type, const void *data, size_t size);

/* --- GenServer calls and casts to {Name, Node} ------------------------- */

/* gen_server:call({Name, Node}, Req) from fauxtp: calls the process
 * registered as `name` on `node` (an Erlang gen_server or a fauxtp
 * GenServer), sending {'$gen_call', {From, Ref}, Req} with Req = {T,
 * <<Data>>} (or the term itself for type FX_MSG_TERM, which must be one
 * term with its 131). The call monitors {Name, Node} by name first, so a
 * name not registered there fails at once with FX_ENOPROC and a node that
 * cannot be reached, or goes down during the call, with FX_EEXIT and the
 * reason noconnection (fx_reason_error(FX_ENODE, "noconnection")); a
 * server that dies during the call gives FX_EEXIT with its reason. The
 * reply: a binary as its bytes, any other term as the term (with its
 * 131). When node is this node's own name these are fx_gs_call_named,
 * fx_gs_call_named_async and fx_gs_cast_named (FX_ENOENT for a name not
 * registered here, as there). Connects on first use.
 *
 * fx_gs_call_remote: blocking, from a thread outside the VM through its
 * inbox, as fx_gs_call (*reply, caller frees; *why may be NULL).
 * fx_gs_call_remote_async: inside a handler, as fx_gs_call_async: `then`
 * gets the outcome and decodes it with fx_gs_call_result. Errors (besides
 * fx_gs_call's): FX_EINVAL (NULL node or name, an empty name or one over
 * 255 bytes, a bad node name, a reserved type, data NULL with size > 0, a
 * negative timeout other than FX_INFINITY), FX_EMSGSIZE (over
 * max_msg_size), FX_ENOTDIST (the VM is not a running node), and for
 * fx_gs_call_remote FX_EAGAIN while the connection is busy (see "Busy
 * connections"). A NULL cx or then returns the invalid fx_next and sends
 * nothing. */
FX_API int fx_gs_call_remote(fx_inbox *inbox, const char *node, const char *name,
                             uint32_t type, const void *data, size_t size,
                             int64_t timeout_ms, fx_msg **reply, fx_reason *why);
FX_API fx_next fx_gs_call_remote_async(fx_ctx *cx, const char *node, const char *name,
                                       uint32_t type, const void *data, size_t size,
                                       int64_t timeout_ms, fx_handler then);
/* gen_server:cast({Name, Node}, Req): sends {'$gen_cast', Req} (Req as
 * above); as in Erlang, 0 means handed to the connection, not delivered.
 * Errors as above (a NULL cx or vm: FX_EINVAL). fx_gs_cast_remote inside a
 * handler only; fx_vm_gs_cast_remote from any thread outside the VM (also
 * FX_ESHUTDOWN, and FX_EAGAIN while the connection is busy). */
FX_API int fx_gs_cast_remote(fx_ctx *cx, const char *node, const char *name,
                             uint32_t type, const void *data, size_t size);
FX_API int fx_vm_gs_cast_remote(fx_vm *vm, const char *node, const char *name,
                                uint32_t type, const void *data, size_t size);

/* --- Node monitoring ------------------------------------------------------
 * Erlang's erlang:monitor_node(Node, Flag) and net_kernel:monitor_nodes(Flag)
 * as plain fauxtp messages (not terms: a handler switches on the type, as
 * for DOWN). Each event is one message of type FX_MSG_NODEUP or
 * FX_MSG_NODEDOWN whose payload is an fx_dist_node_event; its sender is
 * the connection process (or FX_PID_NONE). */
#define FX_MSG_NODEUP (FX_MSG_BEHAVIOUR_BASE + 0x580u)   /* {nodeup, Node} */
#define FX_MSG_NODEDOWN (FX_MSG_BEHAVIOUR_BASE + 0x581u) /* {nodedown, Node} */

typedef struct fx_dist_node_event {
    char node[256];    /* the node's name, NUL-terminated */
    uint32_t creation; /* its incarnation; 0 when it never connected */
    /* nodedown only: why, as Erlang's nodedown_reason names it
     * ("connection_closed", "net_tick_timeout", "stopped" when the local
     * node stopped, "connect_failed" when a monitor_node connection could
     * not be set up, "bad_frame"...); empty for nodeup. */
    char reason[48];
} fx_dist_node_event;

/* erlang:monitor_node(Node, true | false) for the running process (cx) or
 * an inbox's owner thread. on = true adds one monitor of node: when the
 * connection to it goes down, or cannot be set up, the caller gets one
 * FX_MSG_NODEDOWN per monitor it added (they stack) and its monitors of
 * node end. A node not connected is connected to now (as Erlang does);
 * when that fails the nodedown follows. on = false removes one monitor
 * (0 also when there was none). Monitoring this node's own name is
 * accepted and never fires. fx_dist_stop delivers every pending nodedown.
 * A process that exits leaves its monitors behind until the node goes
 * down or another monitor is added (then they are dropped).
 * Errors: FX_EINVAL (NULL, a bad node name), FX_ENOTDIST (the VM is not a
 * running node), FX_ENOMEM. fx_dist_monitor_node inside a handler only;
 * fx_inbox_monitor_node on the inbox's owner thread. */
FX_API int fx_dist_monitor_node(fx_ctx *cx, const char *node, bool on);
FX_API int fx_inbox_monitor_node(fx_inbox *inbox, const char *node, bool on);

/* net_kernel:monitor_nodes(true | false): on = true subscribes the caller
 * to every node's events: an FX_MSG_NODEUP when a connection to a node
 * comes up (either side started it) and an FX_MSG_NODEDOWN when it goes
 * down; hidden and visible nodes alike (Erlang's {node_type, all}).
 * Subscriptions stack (n subscriptions, n messages per event); on =
 * false removes one. Errors, threads: as fx_dist_monitor_node. */
FX_API int fx_dist_monitor_nodes(fx_ctx *cx, bool on);
FX_API int fx_inbox_monitor_nodes(fx_inbox *inbox, bool on);

/* --- Busy connections ----------------------------------------------------
 * A connection whose socket queue reached busy_limit (a slow or stalled
 * peer) is busy, as an Erlang dist port is, until it drains. Senders to
 * it are slowed, never dropped or reordered: a process that sends to a
 * pid or {Name, Node} over a busy connection is muted after its handler
 * call (docs/overload.md), and a sender outside the VM (fx_vm_send,
 * fx_vm_send_msg, fx_dist_vm_send_named, fx_vm_gs_cast_remote) gets
 * FX_EAGAIN and keeps its message. Links, monitors, exits and replies
 * always get through. Muting reschedules the sender once the connection's
 * mailbox is short again, which does not wait for the socket to drain:
 * it paces a flood but does not bound the connection's backlog (see
 * docs/distribution.md); a process that must not queue behind a busy
 * connection uses fx_dist_send_nosuspend. */

/* fx_send, except that a send to a remote pid whose connection is busy is
 * refused with FX_EAGAIN (nothing is sent; Erlang's erlang:send(Pid, Msg,
 * [nosuspend])). Errors as fx_send. Inside a handler only. */
FX_API int fx_dist_send_nosuspend(fx_ctx *cx, fx_pid to, uint32_t type, const void *data,
                                  size_t size);

/* One connected node. */
typedef struct fx_dist_node_info {
    char name[256];
    uint32_t creation;
} fx_dist_node_info;

/* Fills out with up to cap nodes with a connection up now and returns
 * how many there are (may exceed cap). FX_EINVAL (NULL vm, or NULL out
 * with cap > 0), FX_ENOTDIST. Any thread. */
FX_API int fx_dist_nodes(fx_vm *vm, fx_dist_node_info *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
