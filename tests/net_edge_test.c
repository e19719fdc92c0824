/* The edge-triggered poller's races (docs/net.md, "The poller"): bytes
 * that arrive while the owner is passive must be read when credit comes
 * back (their edge is gone by then), also when credit and bytes arrive at
 * the same moment; EOF behind a short read must not be lost; passive
 * reads find bytes that came earlier. The peer is a plain socket of the
 * test thread, on loopback. */
#include "helpers.h"
#include "net_actors.h"

enum {
    T_RECV = 100, /* test -> owner: fx_net_recv(u64 len) */
    T_DATA,       /* owner -> test: the bytes of an FX_NET_DATA */
};

typedef struct own_st {
    fx_net_addr addr;
    fx_pid report;
    fx_sock ls, s;
} own_st;

/* Owns one accepted connection and does what the test says. */
static fx_next owner_loop(fx_ctx *cx, fx_msg *m)
{
    own_st *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case T_START: {
        fx_net_addr a;
        if (fx_net_listen(cx, &st->addr, NULL, &st->ls) != 0 ||
            fx_net_sockname(cx, st->ls, &a) != 0 || fx_net_accept(cx, st->ls, 1) != 0)
            report_u64(cx, st->report, T_FAIL, (uint64_t) __LINE__);
        else
            report_u64(cx, st->report, T_PORT, fx_net_addr_port(&a));
        break;
    }
    case FX_NET_ACCEPTED:
        memcpy(&st->s, fx_msg_data(m), sizeof st->s);
        report_u64(cx, st->report, T_EVENT, FX_NET_ACCEPTED);
        break;
    case T_GO: {
        int32_t n;
        memcpy(&n, fx_msg_data(m), sizeof n);
        int rc = fx_net_active(cx, st->s, n);
        if (rc != 0)
            report_u64(cx, st->report, T_FAIL, (uint64_t) (int64_t) rc);
        break;
    }
    case T_RECV: {
        uint64_t len;
        memcpy(&len, fx_msg_data(m), sizeof len);
        int rc = fx_net_recv(cx, st->s, len, 10000);
        if (rc != 0)
            report_u64(cx, st->report, T_FAIL, (uint64_t) (int64_t) rc);
        break;
    }
    case FX_NET_DATA:
        fx_send(cx, st->report, T_DATA, fx_msg_data(m), fx_msg_size(m));
        break;
    case FX_NET_PASSIVE:
    case FX_NET_CLOSED:
        report_u64(cx, st->report, T_EVENT, fx_msg_type(m));
        break;
    case FX_NET_ERROR:
        report_u64(cx, st->report, T_FAIL, (uint64_t) (int64_t) FX_NET_ERROR);
        break;
    default:
        break;
    }
    return fx_continue(cx);
}

/* Starts the owner and connects a plain socket to it; *owner gets its pid. */
static int setup(tvm *t, fx_pid *owner)
{
    own_st o = {.report = t->me};
    fx_net_addr_ip("127.0.0.1", 0, &o.addr);
    *owner = spawn_state(t->vm, owner_loop, &o, sizeof o);
    cr_assert_eq(fx_vm_send(t->vm, *owner, T_START, NULL, 0), 0);
    uint16_t port = (uint16_t) tvm_recv_u64(t, T_PORT);
    fx_net_addr a;
    fx_net_addr_ip("127.0.0.1", port, &a);
    int fd = posix_connect(&a);
    cr_assert_geq(fd, 0);
    cr_assert_eq(tvm_recv_u64(t, T_EVENT), FX_NET_ACCEPTED);
    return fd;
}

static void go(tvm *t, fx_pid owner, int32_t n)
{
    cr_assert_eq(fx_vm_send(t->vm, owner, T_GO, &n, sizeof n), 0);
}

static void ask_recv(tvm *t, fx_pid owner, uint64_t len)
{
    cr_assert_eq(fx_vm_send(t->vm, owner, T_RECV, &len, sizeof len), 0);
}

/* Receives the next message from the owner: T_DATA (appended to buf, at
 * most cap bytes in all, *len counts) or the T_EVENT type it carried. */
static uint32_t next_event(tvm *t, uint8_t *buf, size_t cap, size_t *len)
{
    fx_msg *m = tvm_recv(t, 0);
    uint32_t type = fx_msg_type(m);
    cr_assert_neq(type, T_FAIL, "the owner failed: %lld",
                  (long long) *(const int64_t *) fx_msg_data(m));
    if (type == T_DATA) {
        size_t n = fx_msg_size(m);
        cr_assert_leq(*len + n, cap, "more bytes than were sent");
        memcpy(buf + *len, fx_msg_data(m), n);
        *len += n;
    } else {
        cr_assert_eq(type, T_EVENT);
        uint64_t v;
        memcpy(&v, fx_msg_data(m), sizeof v);
        type = (uint32_t) v;
    }
    fx_msg_free(m);
    return type;
}

static void write_all(int fd, const void *p, size_t n)
{
    cr_assert_eq(write(fd, p, n), (ssize_t) n);
}

Test(net_edge, bytes_that_came_while_passive_are_read_when_credit_returns, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid owner;
    int fd = setup(&t, &owner);
    /* The edge is handled (and remembered) while the owner has no credit;
     * the pause only makes that likely, the test holds either way. */
    write_all(fd, "hello", 5);
    usleep(20000);
    go(&t, owner, 1);
    uint8_t buf[16];
    size_t len = 0;
    cr_assert_eq(next_event(&t, buf, sizeof buf, &len), T_DATA);
    cr_assert_eq(len, 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    cr_assert_eq(next_event(&t, buf, sizeof buf, &len), FX_NET_PASSIVE);
    close(fd);
    tvm_stop(&t);
}

Test(net_edge, bytes_and_credit_arriving_together_are_never_lost, .timeout = 120)
{
    tvm t = tvm_start(2);
    fx_pid owner;
    int fd = setup(&t, &owner);
    /* One byte and one message of credit per round, in either order and
     * with no pause: the byte's edge races with the flip from passive to
     * active once. Every byte must come, alone, then PASSIVE. */
    for (int i = 0; i < 300; i++) {
        uint8_t b = (uint8_t) i;
        if (i % 2) {
            write_all(fd, &b, 1);
            go(&t, owner, 1);
        } else {
            go(&t, owner, 1);
            write_all(fd, &b, 1);
        }
        uint8_t got[1];
        size_t len = 0;
        cr_assert_eq(next_event(&t, got, sizeof got, &len), T_DATA, "round %d", i);
        cr_assert_eq(got[0], b, "round %d", i);
        cr_assert_eq(next_event(&t, got, sizeof got, &len), FX_NET_PASSIVE, "round %d",
                     i);
    }
    close(fd);
    tvm_stop(&t);
}

#define SMALL 7
#define WRITES 5000

Test(net_edge, many_small_writes_while_passive_then_eof, .timeout = 120)
{
    tvm t = tvm_start(2);
    fx_pid owner;
    int fd = setup(&t, &owner);
    static uint8_t want[SMALL * WRITES], got[SMALL * WRITES];
    for (size_t i = 0; i < sizeof want; i++)
        want[i] = pattern_byte(3, i);
    /* Half while the owner is passive (an edge each, all remembered as
     * one), then credit, then the rest while it reads, then EOF: the last
     * read is short and stops at the FIN, whose edge has passed, so the
     * FX_NET_CLOSED must come from the remembered RDHUP. */
    for (int i = 0; i < WRITES / 2; i++)
        write_all(fd, want + i * SMALL, SMALL);
    go(&t, owner, 1000000);
    for (int i = WRITES / 2; i < WRITES; i++)
        write_all(fd, want + i * SMALL, SMALL);
    shutdown(fd, SHUT_WR);
    size_t len = 0;
    uint32_t type;
    while ((type = next_event(&t, got, sizeof got, &len)) == T_DATA)
        ;
    cr_assert_eq(type, FX_NET_CLOSED);
    cr_assert_eq(len, sizeof want);
    cr_assert_eq(memcmp(got, want, len), 0);
    close(fd);
    tvm_stop(&t);
}

Test(net_edge, once_at_a_time_through_a_stream_that_ends, .timeout = 120)
{
    tvm t = tvm_start(1);
    fx_pid owner;
    int fd = setup(&t, &owner);
    static uint8_t want[200000], got[200000];
    for (size_t i = 0; i < sizeof want; i++)
        want[i] = pattern_byte(5, i);
    /* Everything, then EOF, before any credit: the owner then takes one
     * message at a time (reads of up to 64 KiB that fill their buffer
     * leave the socket ready; the last, short one meets the FIN). */
    write_all(fd, want, sizeof want);
    shutdown(fd, SHUT_WR);
    usleep(20000);
    size_t len = 0;
    uint32_t type;
    for (;;) {
        go(&t, owner, 1);
        type = next_event(&t, got, sizeof got, &len);
        if (type != T_DATA)
            break;
        cr_assert_eq(next_event(&t, got, sizeof got, &len), FX_NET_PASSIVE);
    }
    cr_assert_eq(type, FX_NET_CLOSED);
    cr_assert_eq(len, sizeof want);
    cr_assert_eq(memcmp(got, want, len), 0);
    close(fd);
    tvm_stop(&t);
}

Test(net_edge, passive_recv_finds_bytes_that_came_earlier, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid owner;
    int fd = setup(&t, &owner);
    write_all(fd, "0123456789", 10);
    usleep(20000);
    uint8_t buf[32];
    size_t len = 0;
    ask_recv(&t, owner, 4);
    cr_assert_eq(next_event(&t, buf, sizeof buf, &len), T_DATA);
    cr_assert_eq(len, 4);
    ask_recv(&t, owner, 6);
    cr_assert_eq(next_event(&t, buf, sizeof buf, &len), T_DATA);
    cr_assert_eq(len, 10);
    cr_assert_eq(memcmp(buf, "0123456789", 10), 0);
    /* Bytes and EOF that came before the request: the bytes, then CLOSED. */
    write_all(fd, "abc", 3);
    shutdown(fd, SHUT_WR);
    usleep(20000);
    ask_recv(&t, owner, 0);
    cr_assert_eq(next_event(&t, buf, sizeof buf, &len), T_DATA);
    cr_assert_eq(len, 13);
    cr_assert_eq(memcmp(buf + 10, "abc", 3), 0);
    ask_recv(&t, owner, 0);
    cr_assert_eq(next_event(&t, buf, sizeof buf, &len), FX_NET_CLOSED);
    close(fd);
    tvm_stop(&t);
}
