/* review11: net.h promises the code breaks (each test fails today for the
 * reason its comment gives). Peers are plain sockets of the test thread,
 * on loopback; the socket owner is the scripted driver of review11_drv.h. */
#include "review11_drv.h"

/* ---- a zero-length send behind a queued one ------------------------------ */

/* net.h:178: fx_net_send "Writes len bytes (copied as far as they must
 * be queued)"; len 0 is allowed (fx_net_send refuses NULL data only
 * with len > 0). With bytes already queued, a send of 0
 * bytes queues an empty chunk (net_api.c send_locked). When it is the last
 * one, fxi_net_flush (net_sock.c) calls sendmsg with 0 bytes, which
 * returns 0, removes nothing and loops for ever under the socket's lock:
 * a scheduler thread spins and every later call on the socket blocks.
 * (gen_tcp:send(S, <<>>) is a no-op.) */
Test(review11_net, empty_send_behind_a_queue_does_not_wedge_the_socket, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, &(fx_net_opts){.high_water = 64u << 20});
    /* Queue something (the peer reads nothing yet), then send 0 bytes. */
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_FILL, .a = 1}), 0);
    cr_assert_gt(drv(&t, p, (rcmd){.op = OP_QUEUED}), 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SEND, .len = 0}), 0);
    cr_assert_gt(r11_drain(fd), 0);
    /* Everything was written: the queue empties and the socket answers. */
    int64_t q = -1;
    for (int i = 0; i < 200 && q != 0; i++) {
        q = drv(&t, p, (rcmd){.op = OP_QUEUED}); /* fails if the socket is wedged */
        if (q != 0)
            (void) r11_drain(fd);
    }
    cr_assert_eq(q, 0);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SEND, .len = 3, .data = "end"}), 0);
    char got[4] = {0};
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, 10000), 1);
    cr_assert_eq(read(fd, got, 3), 3);
    cr_assert_str_eq(got, "end");
    close(fd);
    tvm_stop(&t);
}

/* ---- a small high-water mark --------------------------------------------- */

/* net.h:22-24 and :86-87: below the low-water mark "each process that got
 * FX_EAGAIN since receives FX_NET_WRITABLE"; low_water 0 means
 * high_water / 4. With high_water 1..3 that is 0, and the wake-up test
 * (net_sock.c fxi_net_flush: wq_bytes < low) can never hold: the queue
 * drains to empty and the refused sender is never told (a gen_tcp:send
 * caller that is never resumed). */
Test(review11_net, tiny_high_water_still_gives_writable, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, &(fx_net_opts){.high_water = 2});
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_FILL}), FX_EAGAIN);
    cr_assert_gt(r11_drain(fd), 0);
    fx_msg *m = ev_next(&t, 10000);
    cr_assert_not_null(m,
                       "the queue drained (queued: %lld) and FX_NET_WRITABLE never came",
                       (long long) drv(&t, p, (rcmd){.op = OP_QUEUED}));
    cr_assert_eq(ev_head(m).type, FX_NET_WRITABLE);
    fx_msg_free(m);
    close(fd);
    tvm_stop(&t);
}

/* ---- a timed-out passive read that read nothing -------------------------- */

/* net.h:168-171: after FX_ETIMEDOUT "the bytes read so far stay, and come
 * first: ... as an FX_NET_DATA of their own before the next request's".
 * When the timed-out request read no byte at all, a next request of
 * another size gets an empty FX_NET_DATA first: net_api.c fx_net_recv
 * delivers recv_buf whenever it exists, with recv_got == 0 (the buffer is
 * allocated by a read that found the kernel queue empty: rd_ready is still
 * set after an exact-size read). Erlang's gen_tcp:recv never returns
 * {ok, <<>>} for a length > 0, and nothing was read here. */
Test(review11_net, timed_out_empty_recv_leaves_no_empty_data, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, NULL);
    cr_assert_eq(write(fd, "01234", 5), 5);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 5, .b = FX_INFINITY}), 0);
    fx_msg *m = ev_expect(&t, FX_NET_DATA, 10000);
    cr_assert_eq(ev_head(m).size, 5);
    fx_msg_free(m);
    /* Nothing more comes: this one times out with no byte read. */
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 10, .b = 100}), 0);
    fx_msg_free(ev_expect(&t, FX_NET_ERROR, 10000));
    /* Another size: no bytes are kept, so only its own timeout comes. */
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 3, .b = 100}), 0);
    m = ev_next(&t, 10000);
    cr_assert_not_null(m);
    cr_assert_eq(ev_head(m).type, FX_NET_ERROR,
                 "got event 0x%x of %u bytes before the timeout (an empty FX_NET_DATA)",
                 ev_head(m).type, ev_head(m).size);
    fx_msg_free(m);
    close(fd);
    tvm_stop(&t);
}

/* ---- listen on a Unix path whose directory does not exist ---------------- */

/* net.h:137-138: fx_net_listen's errors are "FX_EADDR (in use or not
 * available), FX_ENOFILE, the common ones". A Unix-domain path in a
 * directory that does not exist is an address not available (bind says
 * ENOENT; Erlang's gen_tcp:listen answers {error, enoent}, a posix
 * address error), but net_sock.c fxi_net_errno_code maps ENOENT to
 * FX_ECONNECT (meant for connect: "nobody listens there"), a code listen
 * does not document. */
typedef struct lu_st {
    fx_pid report;
} lu_st;

static fx_next lu_loop(fx_ctx *cx, fx_msg *m)
{
    lu_st *st = fx_state(cx);
    (void) m;
    fx_net_addr a;
    fx_sock s;
    int rc = fx_net_addr_unix("/nonexistent-review11-dir/sock", &a);
    if (rc == 0)
        rc = fx_net_listen(cx, &a, NULL, &s);
    report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) rc);
    return fx_stop(cx, fx_reason_normal());
}

Test(review11_net, listen_on_a_missing_unix_dir_is_eaddr, .timeout = 60)
{
    tvm t = tvm_start(1);
    lu_st st = {.report = t.me};
    fx_spawn_opts o = {.handler = lu_loop, .state_size = sizeof st, .state_init = &st};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, T_START, NULL, 0), 0);
    int64_t rc = (int64_t) tvm_recv_u64(&t, T_EVENT);
    cr_assert_eq(rc, FX_EADDR, "listen answered %lld (%s)", (long long) rc,
                 fx_strerror((int) rc));
    tvm_stop(&t);
}

/* The same loop from another door: a send of 0 bytes while the connect is
 * under way (net.h:149-150: "*out is valid at once", and sends before
 * FX_NET_CONNECTED are queued) queues an empty chunk; the connect's
 * completion flushes it (net_sock.c fxi_net_ready) and the scheduler
 * thread loops in fxi_net_flush for ever, holding the socket's lock.
 * Under UBSan it stops earlier: queuing fx_net_send(NULL, 0) passes NULL
 * to memcpy (net_api.c send_locked). */
Test(review11_net, empty_send_while_connecting_does_not_wedge_the_socket, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    rcmd c = {.op = OP_CONNECT, .a = 10000, .b = 1};
    int lfd = r11_listen(&c.addr);
    /* Keep the connect in progress: with backlog 0 one connection fills
     * the accept queue and the driver's SYN is dropped (retried ~1 s
     * later), so the send below meets FXI_ST_CONNECTING for sure. */
    cr_assert_eq(listen(lfd, 0), 0);
    int filler = posix_connect(&c.addr);
    cr_assert_geq(filler, 0);
    cr_assert_eq(drv(&t, p, c), 0); /* connect, then send 0 bytes */
    close(r11_accept(lfd));         /* room again: the retried SYN gets in */
    close(filler);
    int fd = r11_accept(lfd);
    close(lfd);
    fx_msg_free(ev_expect(&t, FX_NET_CONNECTED, 10000));
    /* The socket still answers, and a real send reaches the peer. */
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_SEND, .len = 2, .data = "ok"}), 0);
    char got[3] = {0};
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&pf, 1, 10000), 1);
    cr_assert_eq(read(fd, got, 2), 2);
    cr_assert_str_eq(got, "ok");
    close(fd);
    tvm_stop(&t);
}

/* ---- malformed addresses --------------------------------------------------- */

/* net.h:29-32: "FX_EINVAL (NULL or out-of-range argument) ... FX_ESYS (an
 * unexpected OS error)". An address whose len is too short for its family
 * (3 bytes of an AF_INET address), or a UDP destination port 0, is a bad
 * argument; the kernel says EINVAL and fxi_net_errno_code (net_sock.c)
 * turns that into FX_ESYS, for listen, connect, udp_open and sendto alike
 * (only len 0 and len > sizeof sa are checked, net_open.c open_fd).
 * Erlang answers {error, einval} for such arguments. */
typedef struct ba_st {
    fx_pid report;
} ba_st;

static fx_next ba_loop(fx_ctx *cx, fx_msg *m)
{
    ba_st *st = fx_state(cx);
    if (fx_msg_type(m) != T_START)
        return fx_continue(cx);
    fx_net_addr a, shrt;
    fx_sock s, u;
    fx_net_addr_ip("127.0.0.1", 0, &a);
    shrt = a;
    shrt.len = 3;
    int64_t rc[5];
    rc[0] = fx_net_listen(cx, &shrt, NULL, &s);
    rc[1] = fx_net_connect(cx, &shrt, NULL, 1000, &s);
    rc[2] = fx_net_udp_open(cx, &shrt, NULL, &s);
    rc[3] = rc[4] = FX_ENOMEM;
    if (fx_net_udp_open(cx, &a, NULL, &u) == 0) {
        rc[3] = fx_net_sendto(cx, u, &shrt, "x", 1);
        rc[4] = fx_net_sendto(cx, u, &a, "x", 1); /* 127.0.0.1 port 0 */
        fx_net_close(cx, u);
    }
    (void) fx_send(cx, st->report, T_EVENT, rc, sizeof rc);
    return fx_stop(cx, fx_reason_normal());
}

Test(review11_net, malformed_addresses_are_einval, .timeout = 60)
{
    tvm t = tvm_start(1);
    ba_st st = {.report = t.me};
    fx_spawn_opts o = {.handler = ba_loop, .state_size = sizeof st, .state_init = &st};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, T_START, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, T_EVENT);
    int64_t rc[5];
    memcpy(rc, fx_msg_data(m), sizeof rc);
    fx_msg_free(m);
    const char *what[5] = {"listen, len 3", "connect, len 3", "udp_open, len 3",
                           "sendto, len 3", "sendto, port 0"};
    for (int i = 0; i < 5; i++)
        cr_expect_eq(rc[i], FX_EINVAL, "%s: %lld (%s)", what[i], (long long) rc[i],
                     fx_strerror((int) rc[i]));
    tvm_stop(&t);
}

/* ---- the order of fx_net_controlling_process's checks --------------------- */

/* net.h:205-209 (owner only; FX_ENOPROC for a dead new owner) and Erlang's
 * inet:tcp_controlling_process, which looks at the socket first: a closed
 * socket is {error, closed}/einval and a caller that is not the owner gets
 * {error, not_owner} whatever the new owner is. net_api.c checks the new
 * owner first, so a non-owner handing to a dead process, and a closed
 * socket handed to one, both get FX_ENOPROC instead of FX_ENOTOWNER and
 * FX_EBADF (the other functions answer those first, docs/bad-input.md).
 * Low severity: only the code differs. */
Test(review11_net, controlling_process_checks_the_socket_first, .timeout = 60)
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
    cr_assert_eq(drv(&t, q, (rcmd){.op = OP_ADOPT, .a = (int64_t) id}), 0);
    int64_t rc = drv(&t, q, (rcmd){.op = OP_CTL, .pid = FX_PID_NONE});
    cr_expect_eq(rc, FX_ENOTOWNER, "a non-owner handing to a dead pid: %lld (%s)",
                 (long long) rc, fx_strerror((int) rc));
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_CLOSE}), 0);
    rc = drv(&t, p, (rcmd){.op = OP_CTL, .pid = FX_PID_NONE});
    cr_expect_eq(rc, FX_EBADF, "a closed socket handed to a dead pid: %lld (%s)",
                 (long long) rc, fx_strerror((int) rc));
    close(fd);
    tvm_stop(&t);
}
