/* Opening sockets: addresses, listen, connect, UDP, and adopting an fd
 * into the table (epoll registration and the janitor's owner watch). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/net_impl.h"

#define DEFAULT_HIGH (256u * 1024u)

FX_API int fx_net_addr_ip(const char *ip, uint16_t port, fx_net_addr *out)
{
    if (!ip || !out)
        return FX_EINVAL;
    memset(out, 0, sizeof *out);
    /* Built apart and copied in: out->sa is uint64_t storage, so no
     * sockaddr lvalue may alias it (strict aliasing). */
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    if (inet_pton(AF_INET, ip, &a4.sin_addr) == 1) {
        memcpy(out->sa, &a4, sizeof a4);
        out->len = sizeof a4;
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &a6.sin6_addr) == 1) {
        memcpy(out->sa, &a6, sizeof a6);
        out->len = sizeof a6;
        return 0;
    }
    return FX_EINVAL;
}

FX_API int fx_net_addr_unix(const char *path, fx_net_addr *out)
{
    if (!path || !out)
        return FX_EINVAL;
    struct sockaddr_un u = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof u.sun_path)
        return FX_EINVAL;
    memset(out, 0, sizeof *out);
    memcpy(u.sun_path, path, len + 1);
    memcpy(out->sa, &u, sizeof u); /* as above */
    out->len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1);
    return 0;
}

FX_API uint16_t fx_net_addr_port(const fx_net_addr *addr)
{
    if (!addr)
        return 0;
    in_port_t port; /* copied out, as SA_FAMILY does */
    if (SA_FAMILY(addr) == AF_INET)
        memcpy(&port, (const char *) addr->sa + offsetof(struct sockaddr_in, sin_port),
               sizeof port);
    else if (SA_FAMILY(addr) == AF_INET6)
        memcpy(&port, (const char *) addr->sa + offsetof(struct sockaddr_in6, sin6_port),
               sizeof port);
    else
        return 0;
    return ntohs(port);
}

void fxi_net_sopts_from(fxi_net_sopts *o, const fx_net_opts *u)
{
    o->high = u && u->high_water ? u->high_water : DEFAULT_HIGH;
    o->low = u && u->low_water && u->low_water <= o->high ? u->low_water : o->high / 4;
    if (o->low == 0)
        o->low = 1; /* below 1 is "empty": a high mark under 4 still wakes */
    o->nodelay = u && u->nodelay;
    o->busy_poll = u && u->busy_poll;
}

int fxi_net_adopt(fxi_net *n, int fd, int kind, int state, const fxi_net_sopts *o,
                  fx_pid owner, fx_sock *out)
{
    uint64_t id;
    fxi_nslot *sl = fxi_net_slot_new(n, &id);
    if (!sl) {
        close(fd);
        return FX_ENOMEM;
    }
    fxi_sock *s = &sl->s;
    s->fd = fd;
    s->kind = (uint8_t) kind;
    s->state = (uint8_t) state;
    s->owner = owner;
    s->opts = *o;
    if (kind == FXI_SK_STREAM && o->nodelay) {
        int one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    /* Registered once, edge-triggered, for reads (and for writes while a
     * connect is under way; fxi_net_want_out adds them when a write
     * queues). A socket readable already gets its first edge at once. */
    s->ep_out = kind == FXI_SK_STREAM && state == FXI_ST_CONNECTING;
    struct epoll_event e = {.events = fxi_net_ep_events(s), .data.u64 = id};
    if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
        int err = errno;
        fxi_net_slot_close(n, sl, id, false);
        return fxi_net_errno_code(err);
    }
    fxi_net_slot_unlock(sl);
    fxi_net_janitor_tell(n, FXI_J_WATCH, id, 0);
    out->id = id;
    return 0;
}

static int open_fd(const fx_net_addr *addr, int type, int *fd)
{
    if (!addr || addr->len == 0 || addr->len > sizeof(addr)->sa)
        return FX_EINVAL;
    int fam = SA_FAMILY(addr);
    if (fam != AF_INET && fam != AF_INET6 && fam != AF_UNIX)
        return FX_EINVAL;
    *fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return *fd < 0 ? fxi_net_errno_code(errno) : 0;
}

static int fail_fd(int fd)
{
    int err = errno;
    close(fd);
    return fxi_net_errno_code(err);
}

/* bind failed: a Unix-domain path that cannot be made (no such directory,
 * read-only file system, ...) is an address not available, as Erlang's
 * posix address errors; the rest as everywhere. */
static int bind_fail(int fd)
{
    int err = errno;
    if (err != ENOENT && err != ENOTDIR && err != EROFS && err != ELOOP &&
        err != ENAMETOOLONG)
        return fail_fd(fd);
    close(fd);
    return FX_EADDR;
}

static int setup(fx_ctx *cx, fxi_net **n)
{
    if (!cx)
        return FX_EINVAL;
    int rc = 0;
    *n = fxi_net_get(fx_ctx_vm(cx), &rc);
    return *n ? 0 : rc;
}

FX_API int fx_net_listen(fx_ctx *cx, const fx_net_addr *addr, const fx_net_opts *opts,
                         fx_sock *out)
{
    fxi_net *n;
    int fd, rc;
    if (!out || !addr)
        return FX_EINVAL;
    if ((rc = setup(cx, &n)) != 0 || (rc = open_fd(addr, SOCK_STREAM, &fd)) != 0)
        return rc;
    int one = 1;
    if (SA_FAMILY(addr) != AF_UNIX)
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (opts && opts->reuseport &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        return fail_fd(fd);
    if (bind(fd, (const struct sockaddr *) (addr)->sa, addr->len) != 0)
        return bind_fail(fd);
    if (listen(fd, opts && opts->backlog > 0 ? opts->backlog : SOMAXCONN) != 0)
        return fail_fd(fd);
    fxi_net_sopts o;
    fxi_net_sopts_from(&o, opts);
    return fxi_net_adopt(n, fd, FXI_SK_LISTEN, FXI_ST_OPEN, &o, fx_self(cx), out);
}

FX_API int fx_net_connect(fx_ctx *cx, const fx_net_addr *addr, const fx_net_opts *opts,
                          int64_t timeout_ms, fx_sock *out)
{
    fxi_net *n;
    int fd, rc;
    if (!out || !addr)
        return FX_EINVAL;
    if ((rc = setup(cx, &n)) != 0 || (rc = open_fd(addr, SOCK_STREAM, &fd)) != 0)
        return rc;
    int state = FXI_ST_CONNECTING;
    if (connect(fd, (const struct sockaddr *) (addr)->sa, addr->len) == 0)
        state = FXI_ST_OPEN;
    else if (errno == EAGAIN && SA_FAMILY(addr) == AF_UNIX) {
        close(fd); /* a Unix-domain listener's backlog is full */
        return FX_EAGAIN;
    } else if (errno != EINPROGRESS && errno != EAGAIN)
        return fail_fd(fd);
    fxi_net_sopts o;
    fxi_net_sopts_from(&o, opts);
    if ((rc = fxi_net_adopt(n, fd, FXI_SK_STREAM, state, &o, fx_self(cx), out)) != 0)
        return rc;
    if (state == FXI_ST_OPEN)
        fxi_net_notify(n, fx_self(cx), FX_NET_CONNECTED, out->id, NULL, 0);
    else if (timeout_ms >= 0) {
        /* Armed under the slot's lock so that the connect's end (which
         * cancels it) sees it; a connect that ended already needs none. */
        fxi_nslot *sl = fxi_net_slot_lock(n, out->id);
        if (sl) {
            if (sl->s.state == FXI_ST_CONNECTING)
                fxi_net_janitor_after(n, timeout_ms, FXI_J_CONN_TIMEOUT, out->id, 0,
                                      &sl->s.conn_tmr);
            fxi_net_slot_unlock(sl);
        }
    }
    return 0;
}

FX_API int fx_net_udp_open(fx_ctx *cx, const fx_net_addr *addr, const fx_net_opts *opts,
                           fx_sock *out)
{
    fxi_net *n;
    int fd, rc;
    if (!out || !addr || SA_FAMILY(addr) == AF_UNIX)
        return FX_EINVAL;
    if ((rc = setup(cx, &n)) != 0 || (rc = open_fd(addr, SOCK_DGRAM, &fd)) != 0)
        return rc;
    int one = 1;
    if (opts && opts->reuseport &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        return fail_fd(fd);
    if (bind(fd, (const struct sockaddr *) (addr)->sa, addr->len) != 0)
        return bind_fail(fd);
    fxi_net_sopts o;
    fxi_net_sopts_from(&o, opts);
    return fxi_net_adopt(n, fd, FXI_SK_UDP, FXI_ST_OPEN, &o, fx_self(cx), out);
}
