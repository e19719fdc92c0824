/* A passive recv's and a connect's timeout timers end with their request:
 * a server that reads with a timeout keeps no timer per finished read
 * (net_impl.h, recv_tmr/conn_tmr). Counted in the VM's timer wheel. */
#include <criterion/criterion.h>

#include "actor/vm.h"
#include "review11_drv.h"

static size_t pending_timers(fx_vm *vm)
{
    fxi_mutex_lock(&vm->timers.mx);
    size_t n = fxi_twheel_count(&vm->timers.wheel);
    fxi_mutex_unlock(&vm->timers.mx);
    return n;
}

Test(net_timeout_timer, answered_recvs_leave_no_timer, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    int fd = r11_pair(&t, p, NULL);
    size_t before = pending_timers(t.vm);
    enum { READS = 200 };
    for (int i = 0; i < READS; i++) {
        cr_assert_eq(write(fd, "ab", 2), 2);
        /* an hour: only a cancel removes it before the test ends */
        cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 2, .b = 3600000}), 0);
        fx_msg *m = ev_expect(&t, FX_NET_DATA, 10000);
        cr_assert_eq(ev_head(m).size, 2);
        fx_msg_free(m);
    }
    /* One recv may be between its answer and its cancel: none is. */
    size_t after = pending_timers(t.vm);
    cr_assert_leq(after, before + 1,
                  "%zu timers pending after %d answered recvs (%zu before)", after, READS,
                  before);
    /* A pending recv keeps its timer; the socket's close cancels it. */
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_RECV, .a = 2, .b = 3600000}), 0);
    cr_assert_eq(pending_timers(t.vm), after + 1);
    cr_assert_eq(drv(&t, p, (rcmd){.op = OP_CLOSE}), 0);
    cr_assert_eq(pending_timers(t.vm), after);
    close(fd);
    tvm_stop(&t);
}

Test(net_timeout_timer, connected_socket_leaves_no_connect_timer, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_pid p = drv_spawn(&t);
    size_t before = pending_timers(t.vm);
    int fds[R_NSOCK];
    for (int i = 0; i < R_NSOCK; i++) {
        rcmd c = {.op = OP_CONNECT, .a = 3600000};
        int lfd = r11_listen(&c.addr);
        cr_assert_eq(drv(&t, p, c), i);
        fds[i] = r11_accept(lfd);
        close(lfd);
        fx_msg_free(ev_expect(&t, FX_NET_CONNECTED, 10000));
    }
    cr_assert_leq(pending_timers(t.vm), before, "connect timers outlive their connects");
    for (int i = 0; i < R_NSOCK; i++)
        close(fds[i]);
    tvm_stop(&t);
}
