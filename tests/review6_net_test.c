/* review6: net.h promises that the code breaks (each test fails today for
 * the reason its comment gives). The peer is a plain socket of the test
 * thread, on loopback. */
#include "helpers.h"
#include "net_actors.h"

/* A plain listening socket on 127.0.0.1 with a port picked by the kernel;
 * *a gets its address. */
static int plain_listen(fx_net_addr *a)
{
    fx_net_addr_ip("127.0.0.1", 0, a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(bind(fd, (const struct sockaddr *) a->sa, a->len), 0);
    cr_assert_eq(listen(fd, 16), 0);
    socklen_t len = sizeof a->sa;
    cr_assert_eq(getsockname(fd, (struct sockaddr *) a->sa, &len), 0);
    a->len = len;
    return fd;
}

/* Accepts one connection within 10 s. */
static int plain_accept(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, 10000), 1, "no connection came");
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    cr_assert_geq(fd, 0);
    return fd;
}

/* ---- shutdown(write) asked for while the connect is under way ----------- */

typedef struct shut_st {
    fx_net_addr addr;
    fx_pid report;
    fx_sock s;
} shut_st;

static fx_next shut_loop(fx_ctx *cx, fx_msg *m)
{
    shut_st *st = fx_state(cx);
    if (fx_msg_type(m) == T_START) {
        int rc = fx_net_connect(cx, &st->addr, NULL, 10000, &st->s);
        if (rc == 0)
            rc = fx_net_shutdown(cx, st->s, FX_NET_SHUT_WR);
        report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) rc);
    }
    return fx_continue(cx);
}

/* net.h:182: FX_NET_SHUT_WR "shuts down the write side once the queue has
 * drained". Asked for right after fx_net_connect (a TCP connect on
 * loopback is still in progress then), with nothing queued, the write
 * side is never shut down: fx_net_shutdown only flushes an open socket,
 * and the connect's completion flushes only when something is queued
 * (net_sock.c fxi_net_ready), so the peer never sees EOF (Erlang's
 * gen_tcp:shutdown(S, write) sends the FIN). */
Test(review6_net, shutdown_write_while_connecting_reaches_the_peer, .timeout = 60)
{
    tvm t = tvm_start(2);
    shut_st st = {.report = t.me};
    int lfd = plain_listen(&st.addr);
    fx_pid p = spawn_state(t.vm, shut_loop, &st, sizeof st);
    cr_assert_eq(fx_vm_send(t.vm, p, T_START, NULL, 0), 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), 0);
    int fd = plain_accept(lfd);
    /* EOF (0 bytes) expected; -1 is 10 s without it. */
    cr_assert_eq(posix_read_to_end(fd, 10000), 0, "the peer never saw the FIN");
    close(fd);
    close(lfd);
    tvm_stop(&t);
}

/* ---- FX_NET_WRITABLE for every sender that got FX_EAGAIN --------------- */

enum { T_WRITABLE = 200, T_SENDER_GO };

typedef struct wr_st {
    fx_net_addr addr;
    fx_pid report;
    fx_pid other; /* the second sender (owner only) */
    fx_sock s;
    uint64_t id;
} wr_st;

/* Sends 64 KiB blocks until FX_EAGAIN (bounded), reports the code. */
static void fill(fx_ctx *cx, wr_st *st)
{
    static char block[65536];
    int rc = 0;
    for (int i = 0; i < 100000 && rc == 0; i++)
        rc = fx_net_send(cx, st->s, block, sizeof block);
    report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) rc);
}

static fx_next sender_loop(fx_ctx *cx, fx_msg *m)
{
    wr_st *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case T_START: /* the owner */
        if (fx_net_connect(cx, &st->addr, &(fx_net_opts){.high_water = 4096}, 10000,
                           &st->s) != 0)
            report_u64(cx, st->report, T_FAIL, __LINE__);
        break;
    case FX_NET_CONNECTED:
        fill(cx, st);
        /* The second sender tries once the queue is full. */
        fx_send(cx, st->other, T_SENDER_GO, &st->s, sizeof st->s);
        break;
    case T_SENDER_GO: /* the other sender */
        memcpy(&st->s, fx_msg_data(m), sizeof st->s);
        fill(cx, st);
        break;
    case FX_NET_WRITABLE:
        report_u64(cx, st->report, T_WRITABLE, st->id);
        break;
    default:
        break;
    }
    return fx_continue(cx);
}

/* net.h:22-24 and :168: a sender that got FX_EAGAIN "gets FX_NET_WRITABLE
 * later". With two senders (net.h:167: "Any process of the VM may send")
 * only the last one to be refused is told (net_api.c send_locked keeps one
 * writable_to), so the first waits for ever, like a gen_tcp:send caller
 * never woken. */
Test(review6_net, every_refused_sender_gets_writable, .timeout = 120)
{
    tvm t = tvm_start(2);
    wr_st b = {.report = t.me, .id = 2};
    fx_pid pb = spawn_state(t.vm, sender_loop, &b, sizeof b);
    wr_st a = {.report = t.me, .id = 1, .other = pb};
    int lfd = plain_listen(&a.addr);
    fx_pid pa = spawn_state(t.vm, sender_loop, &a, sizeof a);
    cr_assert_eq(fx_vm_send(t.vm, pa, T_START, NULL, 0), 0);
    int fd = plain_accept(lfd);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), FX_EAGAIN);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), FX_EAGAIN);
    /* Drain everything: the queue empties and both should hear of it. */
    char buf[65536];
    for (int i = 0; i < 1000000; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 500) <= 0)
            break;
        if (read(fd, buf, sizeof buf) <= 0)
            break;
    }
    uint64_t first = tvm_recv_u64(&t, T_WRITABLE);
    fx_match mt = {.type = T_WRITABLE};
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t.in, &mt, 10000, &m);
    cr_assert_eq(rc, 0, "only sender %llu got FX_NET_WRITABLE",
                 (unsigned long long) first);
    uint64_t second;
    memcpy(&second, fx_msg_data(m), sizeof second);
    fx_msg_free(m);
    cr_assert_eq(first + second, 3u);
    close(fd);
    close(lfd);
    tvm_stop(&t);
}

/* ---- a reset while a refused sender waits for FX_NET_WRITABLE ----------- */

typedef struct rst_st {
    fx_net_addr addr;
    fx_pid report;
    fx_sock s;
} rst_st;

static fx_next rst_loop(fx_ctx *cx, fx_msg *m)
{
    rst_st *st = fx_state(cx);
    uint32_t ty = fx_msg_type(m);
    if (ty == T_START) {
        if (fx_net_connect(cx, &st->addr, &(fx_net_opts){.high_water = 4096}, 10000,
                           &st->s) != 0)
            report_u64(cx, st->report, T_FAIL, __LINE__);
    } else if (ty == FX_NET_CONNECTED) {
        static char block[65536];
        int rc = 0;
        for (int i = 0; i < 100000 && rc == 0; i++)
            rc = fx_net_send(cx, st->s, block, sizeof block);
        report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) rc);
    } else if (ty >= FX_NET_MSG_BASE && ty <= FX_NET_WRITABLE) {
        /* Anything about the socket: WRITABLE, ERROR or CLOSED. */
        report_u64(cx, st->report, T_WRITABLE, ty);
    }
    return fx_continue(cx);
}

/* net.h:22-24/:168 (a sender that got FX_EAGAIN "gets FX_NET_WRITABLE
 * later") and :92-93 (an error on a connection is an FX_NET_ERROR and
 * closes the socket): a passive owner whose send was refused, whose peer
 * then resets the connection, hears nothing at all. The poller's flush
 * fails (net_sock.c fxi_net_flush: wr_closed, queue dropped, FX_ECONNECT
 * returned and ignored by fxi_net_ready), sends no FX_NET_WRITABLE and no
 * FX_NET_ERROR, and leaves the socket open; the sender waits for ever
 * (gen_tcp:send would return {error, econnreset}/closed). */
Test(review6_net, a_reset_wakes_the_sender_waiting_for_writable, .timeout = 60)
{
    tvm t = tvm_start(2);
    rst_st st = {.report = t.me};
    int lfd = plain_listen(&st.addr);
    fx_pid p = spawn_state(t.vm, rst_loop, &st, sizeof st);
    cr_assert_eq(fx_vm_send(t.vm, p, T_START, NULL, 0), 0);
    int fd = plain_accept(lfd);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), FX_EAGAIN);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(fd); /* RST */
    fx_match mt = {.type = T_WRITABLE};
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t.in, &mt, 10000, &m);
    cr_assert_eq(rc, 0, "the refused sender heard nothing after the reset");
    fx_msg_free(m);
    close(lfd);
    tvm_stop(&t);
}

/* ---- bytes kept by a timed-out passive read, then active mode ----------- */

enum { T_RECV = 300, T_DATA, T_ACTIVE, T_RECV_FOREVER, T_SHUT_RD };

typedef struct keep_st {
    fx_net_addr addr;
    fx_pid report;
    fx_sock ls, s;
} keep_st;

static fx_next keep_loop(fx_ctx *cx, fx_msg *m)
{
    keep_st *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case T_START: {
        fx_net_addr a;
        if (fx_net_listen(cx, &st->addr, NULL, &st->ls) != 0 ||
            fx_net_sockname(cx, st->ls, &a) != 0 || fx_net_accept(cx, st->ls, 1) != 0)
            report_u64(cx, st->report, T_FAIL, __LINE__);
        else
            report_u64(cx, st->report, T_PORT, fx_net_addr_port(&a));
        break;
    }
    case FX_NET_ACCEPTED:
        memcpy(&st->s, fx_msg_data(m), sizeof st->s);
        report_u64(cx, st->report, T_EVENT, FX_NET_ACCEPTED);
        break;
    case T_RECV: /* 10 bytes, 1 s */
        report_u64(cx, st->report, T_EVENT,
                   (uint64_t) (int64_t) fx_net_recv(cx, st->s, 10, 1000));
        break;
    case T_ACTIVE:
        report_u64(cx, st->report, T_EVENT,
                   (uint64_t) (int64_t) fx_net_active(cx, st->s, 100));
        break;
    case T_RECV_FOREVER: /* 10 bytes, no timeout */
        report_u64(cx, st->report, T_EVENT,
                   (uint64_t) (int64_t) fx_net_recv(cx, st->s, 10, FX_INFINITY));
        break;
    case T_SHUT_RD:
        report_u64(cx, st->report, T_EVENT,
                   (uint64_t) (int64_t) fx_net_shutdown(cx, st->s, FX_NET_SHUT_RD));
        break;
    case FX_NET_CLOSED:
        report_u64(cx, st->report, T_EVENT, FX_NET_CLOSED);
        break;
    case FX_NET_DATA:
        fx_send(cx, st->report, T_DATA, fx_msg_data(m), fx_msg_size(m));
        break;
    case FX_NET_ERROR: {
        fx_net_error e;
        memcpy(&e, fx_msg_data(m), sizeof e);
        report_u64(cx, st->report, T_EVENT, (uint64_t) (int64_t) e.code);
        break;
    }
    default:
        break;
    }
    return fx_continue(cx);
}

/* net.h:158-159: after FX_ETIMEDOUT "the bytes read so far stay for the
 * next request". When the next request is credit (fx_net_active), they are
 * not delivered: active reads go straight to the kernel (net_sock.c
 * read_step) and the kept bytes stay in recv_buf, delivered only by a
 * later fx_net_recv of another size, after the newer bytes (out of order),
 * or never. Erlang keeps such bytes in the socket's buffer, and
 * {active, N} delivers them first. */
Test(review6_net, bytes_kept_by_a_timed_out_recv_come_first_in_active_mode, .timeout = 60)
{
    tvm t = tvm_start(2);
    keep_st st = {.report = t.me};
    fx_net_addr_ip("127.0.0.1", 0, &st.addr);
    fx_pid p = spawn_state(t.vm, keep_loop, &st, sizeof st);
    cr_assert_eq(fx_vm_send(t.vm, p, T_START, NULL, 0), 0);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", (uint16_t) tvm_recv_u64(&t, T_PORT), &a);
    int fd = posix_connect(&a);
    cr_assert_geq(fd, 0);
    cr_assert_eq(tvm_recv_u64(&t, T_EVENT), FX_NET_ACCEPTED);
    cr_assert_eq(write(fd, "01234", 5), 5);
    cr_assert_eq(fx_vm_send(t.vm, p, T_RECV, NULL, 0), 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), FX_ETIMEDOUT);
    cr_assert_eq(fx_vm_send(t.vm, p, T_ACTIVE, NULL, 0), 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), 0);
    cr_assert_eq(write(fd, "56789", 5), 5);
    char got[16];
    size_t n = 0;
    while (n < 10) {
        fx_match mt = {.type = T_DATA};
        fx_msg *m = NULL;
        if (fx_inbox_recv(t.in, &mt, 3000, &m) != 0)
            break;
        size_t k = fx_msg_size(m);
        cr_assert_leq(n + k, sizeof got);
        memcpy(got + n, fx_msg_data(m), k);
        n += k;
        fx_msg_free(m);
    }
    cr_assert_eq(n, 10, "got %zu bytes (\"%.*s\"): the 5 kept ones never came", n,
                 (int) n, got);
    cr_assert_arr_eq(got, "0123456789", 10);
    close(fd);
    tvm_stop(&t);
}

/* net.h fx_net_shutdown: FX_NET_SHUT_RD with a passive request pending
 * (no timeout) answers it as at EOF: the bytes so far, then FX_NET_CLOSED
 * (Erlang: gen_tcp:recv answers {error, closed}). It was never answered. */
Test(review6_net, shutdown_read_answers_a_pending_recv, .timeout = 60)
{
    tvm t = tvm_start(2);
    keep_st st = {.report = t.me};
    fx_net_addr_ip("127.0.0.1", 0, &st.addr);
    fx_pid p = spawn_state(t.vm, keep_loop, &st, sizeof st);
    cr_assert_eq(fx_vm_send(t.vm, p, T_START, NULL, 0), 0);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", (uint16_t) tvm_recv_u64(&t, T_PORT), &a);
    int fd = posix_connect(&a);
    cr_assert_geq(fd, 0);
    cr_assert_eq(tvm_recv_u64(&t, T_EVENT), FX_NET_ACCEPTED);
    cr_assert_eq(write(fd, "012", 3), 3);
    cr_assert_eq(fx_vm_send(t.vm, p, T_RECV_FOREVER, NULL, 0), 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, T_SHUT_RD, NULL, 0), 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, T_EVENT), FX_NET_CLOSED,
                 "the pending recv was not answered with FX_NET_CLOSED");
    /* The 3 bytes read before the shutdown (if the poller had read them)
     * came first as a short FX_NET_DATA; none may come after. */
    fx_match mt = {.type = T_DATA};
    fx_msg *m = NULL;
    if (fx_inbox_recv(t.in, &mt, 0, &m) == 0) {
        cr_assert_eq(fx_msg_size(m), 3);
        fx_msg_free(m);
    }
    close(fd);
    tvm_stop(&t);
}
