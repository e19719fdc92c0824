/* Bad-input table: net.h.
 * One Test per row; .description is "function | bad input | result". */
#include <fcntl.h>
#include <fauxtp/net.h>

#include "badinput.h"

/* Every per-socket operation, with valid arguments besides the socket. */
enum {
    OP_ACCEPT,
    OP_ACTIVE,
    OP_RECV,
    OP_SEND,
    OP_SEND_MSG,
    OP_SENDTO,
    OP_SHUTDOWN,
    OP_CLOSE,
    OP_CONTROL,
    OP_SOCKNAME,
    OP_QUEUED,
    OP_COUNT
};

static int64_t sock_op(fx_ctx *cx, int op, fx_sock s, fx_pid other)
{
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", 9, &a);
    switch (op) {
    case OP_ACCEPT:
        return fx_net_accept(cx, s, 1);
    case OP_ACTIVE:
        return fx_net_active(cx, s, 1);
    case OP_RECV:
        return fx_net_recv(cx, s, 1, 10);
    case OP_SEND:
        return fx_net_send(cx, s, "x", 1);
    case OP_SEND_MSG: {
        fx_msg *m;
        fx_msg_new(1, 1, &m);
        int rc = fx_net_send_msg(cx, s, m);
        if (rc != 0)
            fx_msg_free(m);
        return rc;
    }
    case OP_SENDTO:
        return fx_net_sendto(cx, s, &a, "x", 1);
    case OP_SHUTDOWN:
        return fx_net_shutdown(cx, s, FX_NET_SHUT_WR);
    case OP_CLOSE:
        return fx_net_close(cx, s);
    case OP_CONTROL:
        return fx_net_controlling_process(cx, s, other);
    case OP_SOCKNAME:
        return fx_net_sockname(cx, s, &a);
    default:
        return fx_net_queued(cx, s);
    }
}

typedef struct net_arg {
    fx_pid other;
    fx_sock s;
    int64_t rc[OP_COUNT];
    int64_t extra[4];
} net_arg;

/* Runs every operation on a handle: never issued, 0, and closed. */
static int run_stale(fx_ctx *cx, void *arg)
{
    net_arg *a = arg;
    fx_net_addr addr;
    fx_net_addr_ip("127.0.0.1", 0, &addr);
    fx_sock ls;
    if (fx_net_listen(cx, &addr, NULL, &ls) != 0 || fx_net_close(cx, ls) != 0)
        return -1000;
    fx_sock bad[3] = {{0}, {0x8000000500000007ull}, ls};
    for (int b = 0; b < 3; b++)
        for (int op = 0; op < OP_COUNT; op++) {
            int64_t rc = sock_op(cx, op, bad[b], a->other);
            if (rc != FX_EBADF)
                return (int) (op * 10 + b + 1); /* which one failed */
        }
    return 0;
}

Test(bi_net, stale_socket,
     .description =
         "fx_net_accept, _active, _recv, _send, _send_msg, _sendto, _shutdown, "
         "_close, _controlling_process, _sockname, _queued | socket 0, never "
         "issued, or closed | FX_EBADF")
{
    tvm t = bi_start();
    net_arg a = {.other = t.me};
    bi_expect(bi_in_handler(&t, run_stale, &a), 0);
    bi_end(&t);
}

Test(bi_net, null_cx,
     .description =
         "fx_net_accept, _active, _recv, _send, _send_msg, _sendto, _shutdown, "
         "_close, _controlling_process, _sockname, _queued, _listen, _connect, "
         "_udp_open | cx NULL | FX_EINVAL")
{
    tvm t = bi_start();
    for (int op = 0; op < OP_COUNT; op++)
        bi_expect(sock_op(NULL, op, (fx_sock){0}, t.me), FX_EINVAL);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", 0, &a);
    fx_sock s;
    bi_expect(fx_net_listen(NULL, &a, NULL, &s), FX_EINVAL);
    bi_expect(fx_net_connect(NULL, &a, NULL, 10, &s), FX_EINVAL);
    bi_expect(fx_net_udp_open(NULL, &a, NULL, &s), FX_EINVAL);
    bi_end(&t);
}

Test(bi_net, addresses,
     .description = "fx_net_addr_ip, _unix | NULL text or out; \"999.1.1.1\", a host "
                    "name; path \"\" or of 108 bytes | FX_EINVAL")
{
    fx_net_addr a;
    char longpath[109];
    memset(longpath, 'p', 108);
    longpath[108] = 0;
    bi_expect(fx_net_addr_ip(NULL, 1, &a), FX_EINVAL);
    bi_expect(fx_net_addr_ip("127.0.0.1", 1, NULL), FX_EINVAL);
    bi_expect(fx_net_addr_ip("999.1.1.1", 1, &a), FX_EINVAL);
    bi_expect(fx_net_addr_ip("localhost", 1, &a), FX_EINVAL);
    bi_expect(fx_net_addr_unix(NULL, &a), FX_EINVAL);
    bi_expect(fx_net_addr_unix("/tmp/x", NULL), FX_EINVAL);
    bi_expect(fx_net_addr_unix("", &a), FX_EINVAL);
    bi_expect(fx_net_addr_unix(longpath, &a), FX_EINVAL);
}

Test(bi_net, addr_port,
     .description = "fx_net_addr_port | NULL; a Unix-domain address | 0")
{
    fx_net_addr a;
    bi_expect(fx_net_addr_port(NULL), 0);
    fx_net_addr_unix("/tmp/x", &a);
    bi_expect(fx_net_addr_port(&a), 0);
}

static int run_open_bad(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_net_addr a, zero;
    fx_sock s;
    fx_net_addr_ip("127.0.0.1", 0, &a);
    memset(&zero, 0, sizeof zero);
    int rcs[] = {
        fx_net_listen(cx, NULL, NULL, &s),     fx_net_listen(cx, &a, NULL, NULL),
        fx_net_listen(cx, &zero, NULL, &s),    fx_net_connect(cx, NULL, NULL, 1, &s),
        fx_net_connect(cx, &a, NULL, 1, NULL), fx_net_connect(cx, &zero, NULL, 1, &s),
        fx_net_udp_open(cx, NULL, NULL, &s),   fx_net_udp_open(cx, &a, NULL, NULL),
        fx_net_udp_open(cx, &zero, NULL, &s),
    };
    for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++)
        if (rcs[i] != FX_EINVAL)
            return (int) i + 1;
    return 0;
}

Test(bi_net, open_bad_args,
     .description =
         "fx_net_listen, _connect, _udp_open | addr NULL, out NULL, an address "
         "of length 0 | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_open_bad, NULL), 0);
    bi_end(&t);
}

/* A listener and a UDP socket: argument errors that depend on the kind. */
static int run_kind_bad(fx_ctx *cx, void *arg)
{
    net_arg *a = arg;
    fx_net_addr addr;
    fx_net_addr_ip("127.0.0.1", 0, &addr);
    fx_sock ls, us;
    if (fx_net_listen(cx, &addr, NULL, &ls) || fx_net_udp_open(cx, &addr, NULL, &us))
        return -1000;
    int rcs[] = {
        fx_net_active(cx, us, -1),               /* negative credit */
        fx_net_active(cx, ls, 1),                /* credit on a listener */
        fx_net_recv(cx, ls, 1, 10),              /* recv on a listener */
        fx_net_recv(cx, us, 1, 10),              /* recv on UDP */
        fx_net_shutdown(cx, us, FX_NET_SHUT_WR), /* shutdown on UDP */
        fx_net_shutdown(cx, ls, 0),              /* how 0 */
        fx_net_accept(cx, us, 1),                /* accept on UDP */
        fx_net_send(cx, ls, "x", 1),             /* stream send on a listener */
        fx_net_send(cx, us, NULL, 1),            /* data NULL */
        fx_net_sendto(cx, ls, &addr, "x", 1),    /* datagram on a listener */
        fx_net_sendto(cx, us, NULL, "x", 1),     /* to NULL */
        fx_net_send_msg(cx, us, NULL),           /* msg NULL */
        fx_net_sockname(cx, us, NULL),           /* out NULL */
    };
    fx_net_close(cx, ls);
    fx_net_close(cx, us);
    (void) a;
    for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++)
        if (rcs[i] != FX_EINVAL)
            return (int) i + 1;
    return 0;
}

Test(bi_net, wrong_kind_or_argument,
     .description =
         "fx_net_active, _recv, _shutdown, _accept, _send, _sendto, _send_msg, "
         "_sockname | negative credit; an operation the socket's kind lacks; how "
         "0; NULL data, address, message or out | FX_EINVAL")
{
    tvm t = bi_start();
    net_arg a = {.other = t.me};
    bi_expect(bi_in_handler(&t, run_kind_bad, &a), 0);
    bi_end(&t);
}

/* A socket handed to the test's inbox: this process no longer owns it. */
static int run_foreign(fx_ctx *cx, void *arg)
{
    net_arg *a = arg;
    fx_net_addr addr;
    fx_net_addr_ip("127.0.0.1", 0, &addr);
    fx_sock ls;
    if (fx_net_listen(cx, &addr, NULL, &ls) ||
        fx_net_controlling_process(cx, ls, a->other))
        return -1000;
    int ops[] = {OP_ACCEPT, OP_ACTIVE, OP_RECV, OP_SHUTDOWN, OP_CLOSE, OP_CONTROL};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (sock_op(cx, ops[i], ls, a->other) != FX_ENOTOWNER)
            return (int) i + 1;
    return 0;
}

Test(bi_net, not_owner,
     .description =
         "fx_net_accept, _active, _recv, _shutdown, _close, _controlling_process "
         "| a socket another process owns | FX_ENOTOWNER")
{
    tvm t = bi_start();
    net_arg a = {.other = t.me};
    bi_expect(bi_in_handler(&t, run_foreign, &a), 0);
    bi_end(&t);
}

static int run_addr_in_use(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_net_addr addr;
    fx_net_addr_ip("127.0.0.1", 0, &addr);
    fx_sock a, b;
    if (fx_net_listen(cx, &addr, NULL, &a) || fx_net_sockname(cx, a, &addr))
        return -1000;
    int rc = fx_net_listen(cx, &addr, NULL, &b);
    fx_net_close(cx, a);
    return rc;
}

Test(bi_net, listen_in_use, .description = "fx_net_listen | address in use | FX_EADDR")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_addr_in_use, NULL), FX_EADDR);
    bi_end(&t);
}

static int run_recv_big(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_net_addr addr;
    fx_net_addr_ip("127.0.0.1", 0, &addr);
    fx_sock ls, c;
    if (fx_net_listen(cx, &addr, NULL, &ls) || fx_net_sockname(cx, ls, &addr) ||
        fx_net_connect(cx, &addr, NULL, 1000, &c))
        return -1000;
    int rc = fx_net_recv(cx, c, BI_MAX_MSG + 1, 10);
    fx_net_close(cx, c);
    fx_net_close(cx, ls);
    return rc;
}

Test(bi_net, recv_oversized,
     .description = "fx_net_recv | n above max_msg_size | FX_EMSGSIZE")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_recv_big, NULL), FX_EMSGSIZE);
    bi_end(&t);
}

static int run_control_dead(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_net_addr addr;
    fx_net_addr_ip("127.0.0.1", 0, &addr);
    fx_sock ls;
    if (fx_net_listen(cx, &addr, NULL, &ls))
        return -1000;
    int rc = fx_net_controlling_process(cx, ls, BI_GARBAGE_PID);
    int rc2 = fx_net_controlling_process(cx, ls, FX_PID_NONE);
    fx_net_close(cx, ls);
    return rc == rc2 ? rc : -1001;
}

Test(bi_net, control_dead_pid,
     .description = "fx_net_controlling_process | garbage pid, FX_PID_NONE | FX_ENOPROC")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_control_dead, NULL), FX_ENOPROC);
    bi_end(&t);
}

static int run_connect_nobody(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_net_addr addr;
    fx_net_addr_unix("/nonexistent-dir-fauxtp/sock", &addr);
    fx_sock s;
    return fx_net_connect(cx, &addr, NULL, 1000, &s);
}

Test(bi_net, connect_nobody,
     .description = "fx_net_connect | a Unix path nobody listens on | FX_ECONNECT")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_connect_nobody, NULL), FX_ECONNECT);
    bi_end(&t);
}
