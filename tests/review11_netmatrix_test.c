/* review11: what the second review of net.h checked and found to hold,
 * case by case from the header and gen_tcp/gen_udp/inet's documents
 * (active N and its passive message, passive recv, close ordering,
 * half-close, ownership, watermarks, UDP, IPv6, Unix paths, bad input). */
#include "review11_drv.h"

static void put(int fd, const char *s)
{
    cr_assert_eq(write(fd, s, strlen(s)), (ssize_t) strlen(s));
}

/* The next event is FX_NET_DATA holding exactly s. */
static void expect_data(tvm *t, const char *s)
{
    fx_msg *m = ev_expect(t, FX_NET_DATA, 10000);
    rev h = ev_head(m);
    cr_assert_eq(h.size, strlen(s), "data of %u bytes, wanted \"%s\"", h.size, s);
    cr_assert_arr_eq(ev_bytes(m), s, strlen(s));
    fx_msg_free(m);
}

static void expect(tvm *t, uint32_t type)
{
    fx_msg_free(ev_expect(t, type, 10000));
}

static int64_t error_code(fx_msg *m)
{
    fx_net_error e;
    cr_assert_eq(ev_head(m).size, sizeof e);
    memcpy(&e, ev_bytes(m), sizeof e);
    return e.code;
}

/* {active, N}: N messages, FX_NET_PASSIVE exactly after the Nth; N adds to
 * what is left ({active, 2} then {active, 1} = 3); no reads while passive;
 * {active, once} = 1. */
Test(review11_netmatrix, active_n_counts_and_passive_at_zero, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, NULL);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 2}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 1}), 0);
    put(fd, "a");
    expect_data(&t, "a");
    put(fd, "b");
    expect_data(&t, "b");
    put(fd, "c");
    expect_data(&t, "c");
    expect(&t, FX_NET_PASSIVE);
    put(fd, "d");
    ev_none(&t, 300, "passive socket delivered");
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 1}), 0);
    expect_data(&t, "d");
    expect(&t, FX_NET_PASSIVE);
    /* recv on a socket with credit: FX_EINVAL (OTP: einval). */
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 5}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 1, .b = 100}), FX_EINVAL);
    /* {active, false} at once: nothing read, then recv works. */
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 0}), 0);
    put(fd, "e");
    ev_none(&t, 300, "after fx_net_active(0)");
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 0, .b = FX_INFINITY}), 0);
    expect_data(&t, "e");
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = -1}), FX_EINVAL);
    close(fd);
    tvm_stop(&t);
}

/* Passive recv: exact size across writes, a second request is FX_EINVAL,
 * timeout 0 with nothing there, n == 0 gives what is there, n above
 * max_msg_size is FX_EMSGSIZE. */
Test(review11_netmatrix, passive_recv_matrix, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, NULL);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 6, .b = FX_INFINITY}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 6, .b = FX_INFINITY}), FX_EINVAL);
    put(fd, "abc");
    ev_none(&t, 200, "a 6-byte recv answered after 3 bytes");
    put(fd, "defgh");
    expect_data(&t, "abcdef");
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 0, .b = FX_INFINITY}), 0);
    expect_data(&t, "gh");
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 4, .b = 0}), 0);
    fx_msg *m = ev_expect(&t, FX_NET_ERROR, 10000);
    cr_assert_eq(error_code(m), FX_ETIMEDOUT);
    fx_msg_free(m);
    cr_assert_eq(
        drv(&t, p,
            (rcmd){.op = OP_RECV, .a = (int64_t) fx_vm_max_msg_size(t.vm) + 1, .b = 0}),
        FX_EMSGSIZE);
    /* The same size after a timeout: the kept bytes are completed. */
    put(fd, "wx");
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 4, .b = 200}), 0);
    m = ev_expect(&t, FX_NET_ERROR, 10000);
    cr_assert_eq(error_code(m), FX_ETIMEDOUT);
    fx_msg_free(m);
    put(fd, "yz");
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 4, .b = FX_INFINITY}), 0);
    expect_data(&t, "wxyz");
    close(fd);
    tvm_stop(&t);
}

/* Data then close: every byte comes before FX_NET_CLOSED, in active and in
 * passive mode (a pending recv gets the short rest, then CLOSED); a recv
 * after EOF answers CLOSED again. */
Test(review11_netmatrix, data_then_close_ordering, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, NULL);
    put(fd, "hello");
    close(fd);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 10, .b = FX_INFINITY}), 0);
    expect_data(&t, "hello");
    expect(&t, FX_NET_CLOSED);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 10, .b = FX_INFINITY}), 0);
    expect(&t, FX_NET_CLOSED);

    fx_pid q = drv_spawn(&t);
    fd = r11_pair(&t, q, NULL);
    for (int i = 0; i < 50; i++)
        put(fd, "0123456789");
    close(fd);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_ACTIVE, .a = 1000}), 0);
    size_t got = 0;
    for (;;) {
        fx_msg *m = ev_next(&t, 10000);
        cr_assert_not_null(m);
        rev h = ev_head(m);
        fx_msg_free(m);
        if (h.type == FX_NET_CLOSED)
            break;
        cr_assert_eq(h.type, FX_NET_DATA);
        got += h.size;
    }
    cr_assert_eq(got, 500);
    tvm_stop(&t);
}

/* The peer's half-close: FX_NET_CLOSED, and sending still reaches it.
 * Our shutdown(write): the peer sees EOF after the bytes, and sends answer
 * FX_ECONNECT. A send after the peer closed fails within a few tries. */
Test(review11_netmatrix, half_close_both_ways, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, NULL);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 10}), 0);
    cr_assert_eq(shutdown(fd, SHUT_WR), 0);
    expect(&t, FX_NET_CLOSED);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SEND, .len = 4, .data = "late"}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SHUTDOWN, .a = FX_NET_SHUT_WR}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SEND, .len = 1, .data = "x"}), FX_ECONNECT);
    cr_assert_eq(posix_read_to_end(fd, 10000), 4);
    close(fd);

    fx_pid q = drv_spawn(&t);
    fd = r11_pair(&t, q, NULL);
    close(fd);
    int64_t rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = drv(&t, q, (rcmd){.op = OP_SEND, .len = 4, .data = "ping"});
    cr_assert(rc == FX_ECONNECT || rc == FX_EBADF, "send after the peer closed: %lld",
              (long long) rc);
    tvm_stop(&t);
}

/* Ownership: a non-owner may not close, hand over, set credit or recv
 * (FX_ENOTOWNER) but may send; a hand-over to a dead process is FX_ENOPROC
 * and changes nothing; after a hand-over the new owner gets the data; the
 * owner's exit closes the socket (the peer sees EOF). */
Test(review11_netmatrix, ownership_matrix, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    fx_pid q = drv_spawn(&t);
    rcmd c = {.op = OP_CONNECT, .a = 10000};
    int lfd = r11_listen(&c.addr);
    cr_assert_eq(drv(&t, p, c), 0);
    int fd = r11_accept(lfd);
    fx_msg *m = ev_expect(&t, FX_NET_CONNECTED, 10000);
    uint64_t id = ev_head(m).sock;
    fx_msg_free(m);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_ADOPT, .a = (int64_t) id}), 0);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_CLOSE}), FX_ENOTOWNER);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_CTL, .pid = q}), FX_ENOTOWNER);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_ACTIVE, .a = 1}), FX_ENOTOWNER);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_RECV, .a = 1, .b = 0}), FX_ENOTOWNER);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_SHUTDOWN, .a = FX_NET_SHUT_WR}),
                 FX_ENOTOWNER);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_SEND, .len = 2, .data = "q:"}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_CTL, .pid = FX_PID_NONE}), FX_ENOPROC);
    fx_pid dead = drv_spawn(&t);
    cr_assert_eq(fx_vm_send(t.vm, dead, R_CMD, &(rcmd){.op = OP_EXIT}, sizeof(rcmd)), 0);
    for (int i = 0; i < 1000 && fx_is_alive(t.vm, dead) == 1; i++)
        usleep(1000);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_CTL, .pid = dead}), FX_ENOPROC);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 1}), 0); /* still p's */
    put(fd, "1");
    expect_data(&t, "1");
    expect(&t, FX_NET_PASSIVE);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_CTL, .pid = q}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 1}), FX_ENOTOWNER);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_ACTIVE, .a = 1}), 0);
    put(fd, "2");
    expect_data(&t, "2");
    expect(&t, FX_NET_PASSIVE);
    /* q exits: the socket closes, the peer reads the "q:" and then EOF. */
    cr_assert_eq(fx_vm_send(t.vm, q, R_CMD, &(rcmd){.op = OP_EXIT}, sizeof(rcmd)), 0);
    cr_assert_eq(posix_read_to_end(fd, 10000), 2);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_QUEUED, .idx = 0}), FX_EBADF);
    close(fd);
    close(lfd);
    tvm_stop(&t);
}

/* Watermarks: FX_EAGAIN only once the queue holds high_water; the queue
 * never exceeds high + one send; FX_NET_WRITABLE once it drained. */
Test(review11_netmatrix, watermarks, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, &(fx_net_opts){.high_water = 100000, .low_water = 1000});
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_FILL}), FX_EAGAIN);
    int64_t q = drv(&t, p, (rcmd){.op = OP_QUEUED});
    cr_assert(q >= 100000 && q < 100000 + 65536, "queued %lld", (long long) q);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SEND, .len = 1, .data = "z"}), FX_EAGAIN);
    cr_assert_gt(r11_drain(fd), 0);
    expect(&t, FX_NET_WRITABLE);
    ev_none(&t, 200, "a second FX_NET_WRITABLE");
    close(fd);
    tvm_stop(&t);
}

/* Listen on port 0 then read the port; accept credit; IPv6 loopback;
 * refused connect; a Unix path of 107 bytes. */
Test(review11_netmatrix, open_matrix, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    rcmd c = {.op = OP_LISTEN, .b = 1};
    fx_net_addr_ip("::1", 0, &c.addr);
    c.opts.reuseport = true;
    c.opts.backlog = 4;
    cr_assert_eq(drv(&t, p, c), 0);
    int64_t port = drv(&t, p, (rcmd){.op = OP_PORT, .idx = 0});
    cr_assert_gt(port, 0);
    fx_net_addr a;
    fx_net_addr_ip("::1", (uint16_t) port, &a);
    int fd = posix_connect(&a);
    cr_assert_geq(fd, 0);
    expect(&t, FX_NET_ACCEPTED);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .idx = 1, .a = 1}), 0);
    put(fd, "v6");
    expect_data(&t, "v6");
    expect(&t, FX_NET_PASSIVE);
    close(fd);
    /* The listening socket's port, refused. */
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_CLOSE, .idx = 0}), 0);
    c = (rcmd){.op = OP_CONNECT, .a = 5000, .addr = a};
    int64_t rc = drv(&t, p, c);
    if (rc >= 0) {
        fx_msg *m = ev_expect(&t, FX_NET_ERROR, 10000);
        cr_assert_eq(error_code(m), FX_ECONNECT);
        fx_msg_free(m);
    } else {
        cr_assert_eq(rc, FX_ECONNECT);
    }
    /* A Unix-domain path of 107 bytes (the most fx_net_addr_unix takes). */
    char path[128];
    int n = snprintf(path, sizeof path, "/tmp/r11-%d-", (int) getpid());
    memset(path + n, 'u', 107 - (size_t) n);
    path[107] = 0;
    unlink(path);
    c = (rcmd){.op = OP_LISTEN, .b = 1};
    cr_assert_eq(fx_net_addr_unix(path, &c.addr), 0);
    int64_t li = drv(&t, p, c);
    cr_assert_geq(li, 0, "listen on a 107-byte path: %lld", (long long) li);
    c = (rcmd){.op = OP_CONNECT, .a = 5000, .addr = c.addr};
    cr_assert_geq(drv(&t, p, c), 0);
    /* ACCEPTED and CONNECTED, in either order. */
    fx_msg *m1 = ev_next(&t, 10000), *m2 = ev_next(&t, 10000);
    cr_assert(m1 && m2);
    cr_assert_eq(ev_head(m1).type + ev_head(m2).type, FX_NET_ACCEPTED + FX_NET_CONNECTED);
    fx_msg_free(m1);
    fx_msg_free(m2);
    unlink(path);
    tvm_stop(&t);
}

/* UDP: datagram boundaries kept, credit per datagram then FX_NET_PASSIVE,
 * an empty datagram, the sender's address in the header. */
Test(review11_netmatrix, udp_matrix, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    rcmd c = {.op = OP_UDP};
    fx_net_addr_ip("127.0.0.1", 0, &c.addr);
    cr_assert_eq(drv(&t, p, c), 0);
    int64_t port = drv(&t, p, (rcmd){.op = OP_PORT, .idx = 0});
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", (uint16_t) port, &a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    const char *d[3] = {"one", "", "three!"};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(
            sendto(fd, d[i], strlen(d[i]), 0, (const struct sockaddr *) a.sa, a.len),
            (ssize_t) strlen(d[i]));
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 3, .b = 0}), FX_EINVAL);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 3}), 0);
    for (int i = 0; i < 3; i++) {
        fx_msg *m = ev_expect(&t, FX_NET_DATA, 10000);
        rev h = ev_head(m);
        cr_assert_eq(h.size, sizeof(fx_net_dgram) + strlen(d[i]));
        cr_assert_arr_eq(ev_bytes(m) + sizeof(fx_net_dgram), d[i], strlen(d[i]));
        fx_net_dgram g;
        memcpy(&g, ev_bytes(m), sizeof g);
        cr_assert_gt(fx_net_addr_port(&g.from), 0);
        fx_msg_free(m);
    }
    expect(&t, FX_NET_PASSIVE);
    /* sendto back to the plain socket. */
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    cr_assert_eq(getsockname(fd, (struct sockaddr *) &me, &ml), 0);
    c = (rcmd){.op = OP_SENDTO, .len = 2, .data = "ok"};
    fx_net_addr_ip("127.0.0.1", ntohs(me.sin_port), &c.addr);
    cr_assert_eq(drv(&t, p, c), 0);
    char buf[8];
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, 10000), 1);
    cr_assert_eq(recv(fd, buf, sizeof buf, 0), 2);
    close(fd);
    tvm_stop(&t);
}

/* Bad input: closed, never-issued and foreign handles are FX_EBADF;
 * NULL data with len > 0 is FX_EINVAL, with len 0 a no-op. */
Test(review11_netmatrix, bad_handles_and_buffers, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, NULL);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ADOPT, .a = 1}), 1);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ADOPT, .a = (int64_t) (UINT64_MAX >> 1)}), 2);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ADOPT, .a = (int64_t) UINT64_MAX}), 3);
    for (int i = 1; i <= 3; i++) {
        cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SEND, .idx = i, .len = 1}), FX_EBADF);
        cr_assert_eq(drv(&t, p, (rcmd){.op = OP_CLOSE, .idx = i}), FX_EBADF);
        cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .idx = i, .a = 1}), FX_EBADF);
        cr_assert_eq(drv(&t, p, (rcmd){.op = OP_QUEUED, .idx = i}), FX_EBADF);
    }
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_CLOSE}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_CLOSE}), FX_EBADF);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 1}), FX_EBADF);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SHUTDOWN, .a = 3}), FX_EBADF);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_PORT}), FX_EBADF);
    cr_assert_eq(posix_read_to_end(fd, 10000), 0);
    close(fd);
    tvm_stop(&t);
}

/* A reset while the owner has credit: FX_NET_ERROR{FX_ECONNECT} and the
 * handle answers FX_EBADF. Bytes sent before FX_NET_CONNECTED are queued
 * and reach the peer. */
Test(review11_netmatrix, reset_and_early_send, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    rcmd c = {.op = OP_CONNECT, .a = 10000};
    int lfd = r11_listen(&c.addr);
    cr_assert_eq(listen(lfd, 0), 0);
    int filler = posix_connect(&c.addr); /* the driver's connect stays in progress */
    cr_assert_geq(filler, 0);
    cr_assert_eq(drv(&t, p, c), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SEND, .len = 5, .data = "early"}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_QUEUED}), 5);
    close(r11_accept(lfd));
    close(filler);
    int fd = r11_accept(lfd);
    close(lfd);
    expect(&t, FX_NET_CONNECTED);
    char got[6] = {0};
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, 10000), 1);
    cr_assert_eq(read(fd, got, 5), 5);
    cr_assert_str_eq(got, "early");
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 10}), 0);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(fd);
    fx_msg *m = ev_expect(&t, FX_NET_ERROR, 10000);
    cr_assert_eq(error_code(m), FX_ECONNECT);
    fx_msg_free(m);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_QUEUED}), FX_EBADF);
    tvm_stop(&t);
}

/* A connect that gets no answer (its SYN dropped: the listener's accept
 * queue is full) ends in FX_NET_ERROR{FX_ETIMEDOUT}, and the handle is
 * closed. */
Test(review11_netmatrix, connect_timeout, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    rcmd c = {.op = OP_CONNECT, .a = 300};
    int lfd = r11_listen(&c.addr);
    cr_assert_eq(listen(lfd, 0), 0);
    int filler = posix_connect(&c.addr);
    cr_assert_geq(filler, 0);
    cr_assert_eq(drv(&t, p, c), 0);
    fx_msg *m = ev_expect(&t, FX_NET_ERROR, 10000);
    cr_assert_eq(error_code(m), FX_ETIMEDOUT);
    fx_msg_free(m);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_QUEUED}), FX_EBADF);
    close(filler);
    close(lfd);
    tvm_stop(&t);
}

/* A Unix-domain listener whose backlog is full: fx_net_connect answers
 * FX_EAGAIN at once (net.h:150-151), never hangs. */
Test(review11_netmatrix, unix_backlog_full_is_eagain, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    char path[64];
    snprintf(path, sizeof path, "/tmp/r11-bl-%d", (int) getpid());
    unlink(path);
    rcmd c = {.op = OP_LISTEN, .opts = {.backlog = 1}};
    cr_assert_eq(fx_net_addr_unix(path, &c.addr), 0);
    cr_assert_eq(drv(&t, p, c), 0);
    c = (rcmd){.op = OP_CONNECT, .a = 1000, .addr = c.addr};
    int64_t rc = 0;
    for (int i = 0; i < 6 && rc >= 0; i++)
        rc = drv(&t, p, c);
    cr_assert_eq(rc, FX_EAGAIN);
    unlink(path);
    tvm_stop(&t);
}

/* Data and the peer's close together, with one message of credit: the
 * data, FX_NET_PASSIVE, and FX_NET_CLOSED only under the next credit.
 * SHUT_RD in active mode: nothing more is delivered. */
Test(review11_netmatrix, close_behind_credit_and_shut_rd, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, NULL);
    put(fd, "last");
    close(fd);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 1}), 0);
    expect_data(&t, "last");
    expect(&t, FX_NET_PASSIVE);
    ev_none(&t, 200, "CLOSED without credit");
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 1}), 0);
    expect(&t, FX_NET_CLOSED);

    fx_pid q = drv_spawn(&t);
    fd = r11_pair(&t, q, NULL);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_ACTIVE, .a = 5}), 0);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_SHUTDOWN, .a = FX_NET_SHUT_RD}), 0);
    put(fd, "ignored");
    ev_none(&t, 300, "data after SHUT_RD");
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_SEND, .len = 3, .data = "out"}), 0);
    char got[4] = {0};
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, 10000), 1);
    cr_assert_eq(read(fd, got, 3), 3);
    close(fd);
    tvm_stop(&t);
}

/* A hand-over with a passive read pending: the new owner gets its
 * answer ("receives everything from now on", net.h:205-206). */
Test(review11_netmatrix, handover_with_pending_recv, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    fx_pid q = drv_spawn(&t);
    rcmd c = {.op = OP_CONNECT, .a = 10000};
    int lfd = r11_listen(&c.addr);
    cr_assert_eq(drv(&t, p, c), 0);
    int fd = r11_accept(lfd);
    close(lfd);
    fx_msg *m = ev_expect(&t, FX_NET_CONNECTED, 10000);
    uint64_t id = ev_head(m).sock;
    fx_msg_free(m);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 4, .b = FX_INFINITY}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_CTL, .pid = q}), 0);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_ADOPT, .a = (int64_t) id}), 0);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_RECV, .a = 4, .b = FX_INFINITY}), FX_EINVAL);
    put(fd, "abcd");
    m = ev_expect(&t, FX_NET_DATA, 10000);
    cr_assert_eq(ev_head(m).who, 2,
                 "the old owner got the answer"); /* q: spawned second */
    fx_msg_free(m);
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_RECV, .a = 2, .b = FX_INFINITY}), 0);
    put(fd, "ef");
    expect_data(&t, "ef");
    close(fd);
    tvm_stop(&t);
}

/* A datagram too big for the read buffer (64 KiB less the header) is an
 * FX_NET_ERROR{FX_EMSGSIZE}, as docs/net.md says; it takes no credit and
 * the next datagram comes. */
Test(review11_netmatrix, udp_oversize_datagram, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    rcmd c = {.op = OP_UDP};
    fx_net_addr_ip("127.0.0.1", 0, &c.addr);
    cr_assert_eq(drv(&t, p, c), 0);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", (uint16_t) drv(&t, p, (rcmd){.op = OP_PORT}), &a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    int big = 1 << 20;
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    static char d[65507];
    memset(d, 'x', sizeof d);
    cr_assert_eq(sendto(fd, d, sizeof d, 0, (const struct sockaddr *) a.sa, a.len),
                 (ssize_t) sizeof d);
    cr_assert_eq(sendto(fd, "small", 5, 0, (const struct sockaddr *) a.sa, a.len), 5);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_ACTIVE, .a = 1}), 0);
    fx_msg *m = ev_expect(&t, FX_NET_ERROR, 10000);
    cr_assert_eq(error_code(m), FX_EMSGSIZE);
    fx_msg_free(m);
    m = ev_expect(&t, FX_NET_DATA, 10000);
    cr_assert_eq(ev_head(m).size, sizeof(fx_net_dgram) + 5);
    fx_msg_free(m);
    expect(&t, FX_NET_PASSIVE);
    close(fd);
    tvm_stop(&t);
}

/* A passive read of 1 MiB fills across many reads and comes as one
 * message of exactly that size; the bytes are in order. */
Test(review11_netmatrix, passive_recv_of_a_mebibyte, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, NULL);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 1 << 20, .b = FX_INFINITY}), 0);
    static char buf[1 << 20];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char) pattern_byte(7, i);
    size_t off = 0;
    while (off < sizeof buf) {
        ssize_t w = write(fd, buf + off, sizeof buf - off);
        cr_assert_gt(w, 0);
        off += (size_t) w;
    }
    fx_msg *m = ev_next(&t, 10000);
    cr_assert_not_null(m);
    rev h = ev_head(m);
    cr_assert_eq(h.type, FX_NET_DATA);
    cr_assert_eq(h.size, 1u << 20);
    /* The forwarded copy holds the first R_EV_MAX bytes. */
    cr_assert_arr_eq(ev_bytes(m), buf, R_EV_MAX);
    fx_msg_free(m);
    close(fd);
    tvm_stop(&t);
}

/* shutdown(both): a pending recv is answered with FX_NET_CLOSED, the peer
 * sees EOF, sends answer FX_ECONNECT; a bad `how` is FX_EINVAL. */
Test(review11_netmatrix, shutdown_both, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, NULL);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SHUTDOWN, .a = 0}), FX_EINVAL);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SHUTDOWN, .a = 4}), FX_EINVAL);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 8, .b = FX_INFINITY}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SHUTDOWN, .a = 3}), 0);
    expect(&t, FX_NET_CLOSED);
    cr_assert_eq(posix_read_to_end(fd, 10000), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SEND, .len = 1, .data = "x"}), FX_ECONNECT);
    close(fd);
    tvm_stop(&t);
}

/* SO_REUSEPORT: two listeners on one port with the option, FX_EADDR for a
 * third without it. */
Test(review11_netmatrix, reuseport_listeners, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    rcmd c = {.op = OP_LISTEN, .opts = {.reuseport = true}};
    fx_net_addr_ip("127.0.0.1", 0, &c.addr);
    cr_assert_eq(drv(&t, p, c), 0);
    int64_t port = drv(&t, p, (rcmd){.op = OP_PORT, .idx = 0});
    fx_net_addr_ip("127.0.0.1", (uint16_t) port, &c.addr);
    cr_assert_eq(drv(&t, p, c), 1);
    c.opts.reuseport = false;
    cr_assert_eq(drv(&t, p, c), FX_EADDR);
    tvm_stop(&t);
}
