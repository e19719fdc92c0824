/* fauxtp: sockets owned by processes (TCP, Unix-domain stream, UDP; IPv4
 * and IPv6). The model is Erlang's gen_tcp/gen_udp; docs/net.md has the
 * whole story and a complete echo server.
 *
 * Every socket has one owning process (Erlang's controlling process).
 * What happens on the socket arrives in the owner's mailbox as messages
 * of the FX_NET_* types below; every one of them carries the socket in its
 * ref: fx_net_msg_sock(msg) (== fx_msg_ref(msg).id), so a selective
 * receive can wait for one socket. The socket is closed when its owner
 * exits (whatever the reason), when the owner calls fx_net_close, and at
 * VM shutdown at the latest.
 *
 * Reads are credit-based, like {active, N}: a socket delivers at most as
 * many FX_NET_DATA messages as its credit allows (fx_net_active), then
 * one FX_NET_PASSIVE, and reads nothing more until it gets credit again:
 * the kernel's buffer then fills and pushes back on the peer. In passive
 * mode (credit 0, the state of a new socket) fx_net_recv asks for one
 * FX_NET_DATA of an exact size.
 *
 * Writes never block: fx_net_send writes what the kernel takes now and
 * queues the rest on the socket. While the queue holds at least the
 * high-water mark, sends fail with FX_EAGAIN and take nothing; once the
 * queue drains below the low-water mark, each process that got FX_EAGAIN
 * since receives FX_NET_WRITABLE (once). They get it too if the write
 * side fails or the socket closes first: their next send then answers
 * FX_ECONNECT or FX_EBADF.
 *
 * Threads: every function taking an fx_ctx runs inside a handler only
 * (FX_ECONTEXT never arises: the context proves it). Errors common to all:
 * FX_EINVAL (NULL or out-of-range argument), FX_EBADF (closed or unknown
 * socket), FX_ENOTOWNER (the caller does not own the socket, where
 * ownership is required), FX_ENOMEM, FX_ESYS (an unexpected OS error). */
#ifndef FAUXTP_NET_H
#define FAUXTP_NET_H

#include <stddef.h>
#include <stdint.h>

#include "actor.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A socket handle. Handles are never reused within a VM: one whose socket
 * was closed answers FX_EBADF. 0 is never a socket. */
typedef struct fx_sock {
    uint64_t id;
} fx_sock;

static inline bool fx_sock_eq(fx_sock a, fx_sock b)
{
    return a.id == b.id;
}

/* An address: IPv4, IPv6 or a Unix-domain path. `sa` holds a struct
 * sockaddr of `len` bytes, as the kernel takes it (cast &addr.sa to
 * struct sockaddr *); this header stays free of <sys/socket.h>. */
typedef struct fx_net_addr {
    uint32_t len;
    uint32_t reserved_;
    uint64_t sa[16]; /* the size and alignment of sockaddr_storage */
} fx_net_addr;

/* A numeric IPv4 or IPv6 address ("127.0.0.1", "::1"; no name lookup)
 * and a port. 0 or FX_EINVAL. Any thread. */
FX_API int fx_net_addr_ip(const char *ip, uint16_t port, fx_net_addr *out);
/* A Unix-domain path (at most 107 bytes). 0 or FX_EINVAL. Any thread. */
FX_API int fx_net_addr_unix(const char *path, fx_net_addr *out);
/* The port of an IP address, 0 for anything else. Any thread. */
FX_API uint16_t fx_net_addr_port(const fx_net_addr *addr);

/* Socket options. Zero fields take the defaults. */
typedef struct fx_net_opts {
    int backlog;    /* listen backlog; 0 = SOMAXCONN */
    bool reuseport; /* SO_REUSEPORT on a listening or UDP socket */
    bool nodelay;   /* TCP_NODELAY on TCP connections */
    /* Latency over CPU, as Linux's SO_BUSY_POLL: after events on this
     * socket, the scheduler thread that handled them polls for up to
     * fx_vm_config.io_spin_us (30 us by default) before it sleeps, so a
     * reply that comes soon needs no wake-up. For request/reply traffic
     * (distribution connections set it); a streaming server pays CPU for
     * it. Accepted sockets inherit it from the listener. */
    bool busy_poll;
    uint32_t high_water; /* queued bytes at which sends answer FX_EAGAIN; 0 = 256 KiB */
    uint32_t low_water;  /* FX_NET_WRITABLE below this; 0 = high_water / 4 (at least 1) */
} fx_net_opts;

/* ---- messages (types reserved for the runtime) -------------------------
 * Every one has ref == the socket and sender FX_PID_NONE. */
#define FX_NET_MSG_BASE 0xFFFF2000u
/* Bytes read. Payload: the bytes (up to 64 KiB per message in active
 * mode; exactly the requested count for fx_net_recv). Keep it and hand it
 * to fx_net_send_msg to write it out without a copy. For UDP: payload is
 * an fx_net_dgram header followed by the datagram. */
#define FX_NET_DATA (FX_NET_MSG_BASE + 0)
/* The peer closed its side (EOF). No payload. The socket stays open (you
 * may still send: half-close) until you close it. Reading stops. */
#define FX_NET_CLOSED (FX_NET_MSG_BASE + 1)
/* An error. Payload: fx_net_error. After a failed connect or an error on
 * a connection the socket is closed and its handle answers FX_EBADF. */
#define FX_NET_ERROR (FX_NET_MSG_BASE + 2)
/* The read credit ran out: no more FX_NET_DATA until fx_net_active. */
#define FX_NET_PASSIVE (FX_NET_MSG_BASE + 3)
/* A connection accepted on the listening socket in ref. Payload: fx_sock,
 * the new socket, owned by the listener's owner, passive. */
#define FX_NET_ACCEPTED (FX_NET_MSG_BASE + 4)
/* fx_net_connect succeeded. No payload. */
#define FX_NET_CONNECTED (FX_NET_MSG_BASE + 5)
/* The write queue fell below the low-water mark after an FX_EAGAIN. */
#define FX_NET_WRITABLE (FX_NET_MSG_BASE + 6)

/* Payload of FX_NET_ERROR. */
typedef struct fx_net_error {
    int32_t code;      /* FX_ECONNECT, FX_ETIMEDOUT, FX_ENOFILE, FX_EMSGSIZE, FX_ESYS */
    int32_t sys_errno; /* the OS's errno, 0 when none */
} fx_net_error;

/* Header of a UDP FX_NET_DATA payload; the datagram follows it. */
typedef struct fx_net_dgram {
    fx_net_addr from;
} fx_net_dgram;

/* The socket a FX_NET_* message is about. */
static inline fx_sock fx_net_msg_sock(const fx_msg *msg)
{
    fx_sock s;
    s.id = fx_msg_ref(msg).id;
    return s;
}

/* ---- opening ------------------------------------------------------------ */

/* A listening stream socket (TCP for IP addresses, Unix-domain for a
 * path; an existing socket file at the path is not removed). Owned by the
 * caller. Port 0 picks a free port (fx_net_sockname tells which). Errors:
 * FX_EADDR (in use or not available), FX_ENOFILE, the common ones. */
FX_API int fx_net_listen(fx_ctx *cx, const fx_net_addr *addr, const fx_net_opts *opts,
                         fx_sock *out);
/* Asks for n more connections on a listening socket: each arrives as
 * FX_NET_ACCEPTED. Out of file descriptors, the runtime refuses the
 * connection (the peer sees it closed), sends FX_NET_ERROR{FX_ENOFILE}
 * and keeps accepting. Owner only. Returns 0, or FX_EINVAL (not a
 * listening socket) or the common errors. */
FX_API int fx_net_accept(fx_ctx *cx, fx_sock listener, uint32_t n);
/* Starts connecting a stream socket (TCP or Unix-domain); owned by the
 * caller. The result arrives as FX_NET_CONNECTED or FX_NET_ERROR
 * (FX_ECONNECT when refused or unreachable, FX_ETIMEDOUT after
 * timeout_ms; < 0 = no timeout beyond the kernel's). *out is valid at
 * once. Errors: FX_ENOFILE, FX_ECONNECT (refused at once), FX_EAGAIN (a
 * Unix-domain listener's backlog is full), the common. */
FX_API int fx_net_connect(fx_ctx *cx, const fx_net_addr *addr, const fx_net_opts *opts,
                          int64_t timeout_ms, fx_sock *out);
/* A UDP socket bound to addr (port 0: any). Owned by the caller,
 * passive. Errors: FX_EADDR, FX_ENOFILE, the common ones. */
FX_API int fx_net_udp_open(fx_ctx *cx, const fx_net_addr *addr, const fx_net_opts *opts,
                           fx_sock *out);

/* ---- reading ------------------------------------------------------------ */

/* Adds n to the read credit (n > 0: n more FX_NET_DATA messages, 1 is
 * Erlang's {active, once}), or with n == 0 makes the socket passive at
 * once (as {active, false}: no FX_NET_PASSIVE). Credit is capped at
 * INT32_MAX. Owner only. Returns 0, or FX_EINVAL (n < 0, a listening
 * socket, or n > 0 while an fx_net_recv is pending) or the common errors. */
FX_API int fx_net_active(fx_ctx *cx, fx_sock sock, int32_t n);
/* Passive read: one FX_NET_DATA of exactly n bytes (n == 0: whatever is
 * available, up to 64 KiB), or FX_NET_CLOSED if the peer closes first
 * (bytes already read come first, in a shorter FX_NET_DATA), or
 * FX_NET_ERROR{FX_ETIMEDOUT} after timeout_ms (< 0: none; the bytes read
 * so far stay, and come first: in the next request's FX_NET_DATA if it
 * asks for the same size, else as an FX_NET_DATA of their own before the
 * next request's or the first under fx_net_active). Stream sockets only. Owner only.
 * Errors: FX_EMSGSIZE (n above the VM's max message size), FX_EINVAL
 * (credit > 0, or a request already pending), the common ones. */
FX_API int fx_net_recv(fx_ctx *cx, fx_sock sock, size_t n, int64_t timeout_ms);

/* ---- writing ------------------------------------------------------------ */

/* Writes len bytes (copied as far as they must be queued; len 0 writes
 * nothing and answers 0 once the socket checks pass). Any process of
 * the VM may send. Errors: FX_EAGAIN (queue at the high-water mark:
 * nothing taken; the caller gets FX_NET_WRITABLE later), FX_ECONNECT (the
 * connection was reset or the write side shut down), the common ones
 * (FX_ENOMEM: refused, and no memory to note the caller for
 * FX_NET_WRITABLE). */
FX_API int fx_net_send(fx_ctx *cx, fx_sock sock, const void *data, size_t len);
/* The same with a message's payload, taken on success (msg.h's rule) and
 * written or queued without another copy: an FX_NET_DATA message you
 * kept can be sent back as it is. */
FX_API int fx_net_send_msg(fx_ctx *cx, fx_sock sock, fx_msg *msg);
/* One UDP datagram to addr. FX_EAGAIN when the kernel buffer is full
 * (datagrams are not queued). */
FX_API int fx_net_sendto(fx_ctx *cx, fx_sock sock, const fx_net_addr *to,
                         const void *data, size_t len);

/* ---- control ------------------------------------------------------------ */

/* Shuts down the write side once the queue has drained (FX_NET_SHUT_WR),
 * the read side at once (FX_NET_SHUT_RD; reading stops, and a pending
 * fx_net_recv is answered as at EOF: its bytes so far, then
 * FX_NET_CLOSED) or both. Stream sockets. Owner only. */
#define FX_NET_SHUT_RD 1
#define FX_NET_SHUT_WR 2
FX_API int fx_net_shutdown(fx_ctx *cx, fx_sock sock, int how);
/* Closes the socket now; queued bytes are dropped. Owner only. */
FX_API int fx_net_close(fx_ctx *cx, fx_sock sock);
/* Hands the socket to another process, which receives everything from
 * now on; when it has exited already the socket is closed. Messages
 * already in the old owner's mailbox stay there. Owner only. Errors:
 * FX_ENOPROC (new_owner is not a live process of this VM: nothing
 * changes), the common (checked first, as Erlang: a closed socket answers
 * FX_EBADF and a non-owner FX_ENOTOWNER whatever new_owner is). */
FX_API int fx_net_controlling_process(fx_ctx *cx, fx_sock sock, fx_pid new_owner);
/* The socket's local address (e.g. the port picked for port 0). */
FX_API int fx_net_sockname(fx_ctx *cx, fx_sock sock, fx_net_addr *out);
/* Bytes queued for writing (>= 0), or an error. Any process. */
FX_API int64_t fx_net_queued(fx_ctx *cx, fx_sock sock);

#ifdef __cplusplus
}
#endif

#endif
