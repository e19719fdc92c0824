/* Bad-input table: inbox.h.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

#include <pthread.h>

static char ib_big[BI_MAX_MSG + 1];

Test(bi_inbox, create_null,
     .description = "fx_inbox_create | vm NULL, out NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_inbox *in;
    bi_expect(fx_inbox_create(NULL, &in), FX_EINVAL);
    bi_expect(fx_inbox_create(t.vm, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_inbox, create_after_shutdown,
     .description = "fx_inbox_create | after shutdown | FX_ESHUTDOWN")
{
    fx_vm *vm = bi_dead_vm(NULL);
    fx_inbox *in;
    bi_expect(fx_inbox_create(vm, &in), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_inbox, destroy_null, .description = "fx_inbox_destroy | inbox NULL | ignored")
{
    fx_inbox_destroy(NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_inbox, pid_vm_null,
     .description =
         "fx_inbox_pid, fx_inbox_vm | inbox NULL | FX_PID_NONE (header silent), NULL")
{
    cr_assert(fx_pid_is_none(fx_inbox_pid(NULL)));
    cr_assert_null(fx_inbox_vm(NULL));
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_inbox, send_bad,
     .description =
         "fx_inbox_send | inbox NULL; data NULL size 8; reserved type | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_inbox_send(NULL, t.me, 1, "x", 1), FX_EINVAL);
    bi_expect(fx_inbox_send(t.in, t.me, 1, NULL, 8), FX_EINVAL);
    bi_expect(fx_inbox_send(t.in, t.me, FX_MSG_REPLY, "x", 1), FX_EINVAL);
    bi_end(&t);
}

Test(bi_inbox, send_oversized,
     .description = "fx_inbox_send | size max_msg_size + 1 | FX_EMSGSIZE")
{
    tvm t = bi_start();
    bi_expect(fx_inbox_send(t.in, t.me, 1, ib_big, sizeof ib_big), FX_EMSGSIZE);
    bi_end(&t);
}

Test(bi_inbox, send_dead,
     .description = "fx_inbox_send | stale pid, garbage pid | FX_ENOPROC")
{
    tvm t = bi_start();
    bi_expect(fx_inbox_send(t.in, bi_stale(&t), 1, "x", 1), FX_ENOPROC);
    bi_expect(fx_inbox_send(t.in, BI_GARBAGE_PID, 1, "x", 1), FX_ENOPROC);
    bi_end(&t);
}

Test(
    bi_inbox, send_after_shutdown,
    .description = "fx_inbox_send | VM shut down, inbox not yet destroyed | FX_ESHUTDOWN")
{
    tvm t = bi_start();
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &p), 0);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    bi_expect(fx_inbox_send(t.in, p, 1, "x", 1), FX_ESHUTDOWN);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
    tvm u = bi_start();
    bi_end(&u);
}

Test(bi_inbox, send_msg_bad,
     .description =
         "fx_inbox_send_msg | inbox NULL; msg NULL | FX_EINVAL, caller keeps msg")
{
    tvm t = bi_start();
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 8, &m), 0);
    bi_expect(fx_inbox_send_msg(NULL, t.me, m), FX_EINVAL);
    fx_msg_free(m);
    bi_expect(fx_inbox_send_msg(t.in, t.me, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_inbox, send_msg_oversized,
     .description =
         "fx_inbox_send_msg | message over max_msg_size | FX_EMSGSIZE, caller keeps msg")
{
    tvm t = bi_start();
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, BI_MAX_MSG + 1, &m), 0);
    bi_expect(fx_inbox_send_msg(t.in, t.me, m), FX_EMSGSIZE);
    fx_msg_free(m);
    bi_end(&t);
}

Test(bi_inbox, recv_null,
     .description = "fx_inbox_recv | inbox NULL, out NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_msg *m;
    bi_expect(fx_inbox_recv(NULL, NULL, 0, &m), FX_EINVAL);
    bi_expect(fx_inbox_recv(t.in, NULL, 0, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_inbox, recv_poll_empty,
     .description = "fx_inbox_recv | timeout 0 on an empty inbox; pattern nobody matches "
                    "| FX_ETIMEDOUT")
{
    tvm t = bi_start();
    fx_msg *m = (fx_msg *) 1;
    bi_expect(fx_inbox_recv(t.in, NULL, 0, &m), FX_ETIMEDOUT);
    cr_assert_null(m);
    cr_assert_eq(fx_vm_send(t.vm, t.me, 3, NULL, 0), 0);
    fx_match never = {.type = 4};
    bi_expect(fx_inbox_recv(t.in, &never, 1, &m), FX_ETIMEDOUT);
    fx_msg_free(tvm_recv(&t, 3)); /* still queued */
    bi_end(&t);
}

typedef struct ib_arg {
    fx_inbox *in;
} ib_arg;

static int run_recv(fx_ctx *cx, void *arg)
{
    (void) cx;
    ib_arg *a = arg;
    fx_msg *m;
    return fx_inbox_recv(a->in, NULL, 0, &m);
}

Test(bi_inbox, recv_from_handler,
     .description = "fx_inbox_recv | from a handler (scheduler thread) | FX_EWOULDBLOCK")
{
    tvm t = bi_start();
    fx_inbox *other;
    cr_assert_eq(fx_inbox_create(t.vm, &other), 0);
    ib_arg a = {other};
    bi_expect(bi_in_handler(&t, run_recv, &a), FX_EWOULDBLOCK);
    fx_inbox_destroy(other);
    bi_end(&t);
}

static int run_create(fx_ctx *cx, void *arg)
{
    fx_inbox **made = arg;
    return fx_inbox_create(fx_ctx_vm(cx), made);
}

Test(bi_inbox, create_from_handler,
     .description = "fx_inbox_create | from a handler (scheduler thread) | FX_ECONTEXT")
{
    tvm t = bi_start();
    fx_inbox *made = NULL;
    bi_expect(bi_in_handler(&t, run_create, &made), FX_ECONTEXT);
    cr_assert_null(made);
    bi_end(&t);
}

static int run_destroy(fx_ctx *cx, void *arg)
{
    (void) cx;
    ib_arg *a = arg;
    return fx_inbox_destroy(a->in);
}

/* Before the fix this row hung: the destroy waited for a grace period
 * its own scheduler thread could never reach (hence the timeout). */
Test(bi_inbox, destroy_from_handler, .timeout = 60,
     .description = "fx_inbox_destroy | from a handler (scheduler thread) | FX_ECONTEXT, "
                    "the inbox stays usable")
{
    tvm t = bi_start();
    fx_inbox *other;
    cr_assert_eq(fx_inbox_create(t.vm, &other), 0);
    ib_arg a = {other};
    bi_expect(bi_in_handler(&t, run_destroy, &a), FX_ECONTEXT);
    /* Still alive: it receives what is sent to it. */
    cr_assert_eq(fx_inbox_send(t.in, fx_inbox_pid(other), 3, "x", 1), 0);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(other, NULL, 10000, &m), 0);
    fx_msg_free(m);
    cr_assert_eq(fx_inbox_destroy(other), 0);
    bi_end(&t);
}

Test(bi_inbox, tie_null,
     .description = "fx_inbox_link, _unlink, _monitor, _demonitor, _spawn_link, "
                    "_spawn_monitor | inbox NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_ref r;
    fx_spawn_opts o = {.handler = bi_echo};
    bi_expect(fx_inbox_link(NULL, t.me), FX_EINVAL);
    bi_expect(fx_inbox_unlink(NULL, t.me), FX_EINVAL);
    bi_expect(fx_inbox_monitor(NULL, t.me, &r), FX_EINVAL);
    bi_expect(fx_inbox_demonitor(NULL, (fx_ref){1}, 0), FX_EINVAL);
    bi_expect(fx_inbox_spawn_link(NULL, &o, NULL), FX_EINVAL);
    bi_expect(fx_inbox_spawn_monitor(NULL, &o, NULL, &r), FX_EINVAL);
    bi_end(&t);
}

Test(bi_inbox, monitor_null_ref,
     .description = "fx_inbox_monitor, fx_inbox_spawn_monitor | ref NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.handler = bi_echo};
    bi_expect(fx_inbox_monitor(t.in, t.me, NULL), FX_EINVAL);
    bi_expect(fx_inbox_spawn_monitor(t.in, &o, NULL, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(
    bi_inbox, spawn_bad_opts,
    .description =
        "fx_inbox_spawn_link, fx_inbox_spawn_monitor | opts NULL; no handler | FX_EINVAL")
{
    tvm t = bi_start();
    fx_ref r;
    fx_spawn_opts none = {.state = NULL};
    bi_expect(fx_inbox_spawn_link(t.in, NULL, NULL), FX_EINVAL);
    bi_expect(fx_inbox_spawn_link(t.in, &none, NULL), FX_EINVAL);
    bi_expect(fx_inbox_spawn_monitor(t.in, NULL, NULL, &r), FX_EINVAL);
    bi_expect(fx_inbox_spawn_monitor(t.in, &none, NULL, &r), FX_EINVAL);
    bi_end(&t);
}

static void ib_expect_signal(tvm *t, uint32_t type)
{
    fx_msg *m = tvm_recv(t, type);
    const fx_reason *r = type == FX_MSG_EXIT
                             ? &((const fx_exit_info *) fx_msg_data(m))->reason
                             : &((const fx_down_info *) fx_msg_data(m))->reason;
    cr_assert_eq(r->kind, FX_REASON_NOPROC);
    fx_msg_free(m);
}

Test(bi_inbox, link_dead,
     .description = "fx_inbox_link | stale pid, garbage pid | 0 and an FX_MSG_EXIT "
                    "noproc (an inbox traps exits)")
{
    tvm t = bi_start();
    bi_expect(fx_inbox_link(t.in, bi_stale(&t)), 0);
    ib_expect_signal(&t, FX_MSG_EXIT);
    bi_expect(fx_inbox_link(t.in, BI_GARBAGE_PID), 0);
    ib_expect_signal(&t, FX_MSG_EXIT);
    bi_end(&t);
}

Test(bi_inbox, monitor_dead,
     .description = "fx_inbox_monitor | stale pid, garbage pid | 0 and a DOWN noproc")
{
    tvm t = bi_start();
    fx_ref r;
    bi_expect(fx_inbox_monitor(t.in, bi_stale(&t), &r), 0);
    ib_expect_signal(&t, FX_MSG_DOWN);
    bi_expect(fx_inbox_monitor(t.in, BI_GARBAGE_PID, &r), 0);
    ib_expect_signal(&t, FX_MSG_DOWN);
    bi_end(&t);
}

Test(bi_inbox, unlink_none, .description = "fx_inbox_unlink | garbage pid (no link) | 0")
{
    tvm t = bi_start();
    bi_expect(fx_inbox_unlink(t.in, BI_GARBAGE_PID), 0);
    bi_end(&t);
}

Test(bi_inbox, demonitor_unknown,
     .description = "fx_inbox_demonitor | unknown ref | FX_ENOENT")
{
    tvm t = bi_start();
    bi_expect(fx_inbox_demonitor(t.in, (fx_ref){0x123456789}, 0), FX_ENOENT);
    bi_expect(fx_inbox_demonitor(t.in, (fx_ref){0x123456789}, FX_DEMONITOR_FLUSH),
              FX_ENOENT);
    bi_end(&t);
}

Test(bi_inbox, tie_after_shutdown,
     .description = "fx_inbox_link, _monitor, _spawn_link, _spawn_monitor | VM shut "
                    "down, inbox alive | FX_ESHUTDOWN")
{
    tvm t = bi_start();
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &p), 0);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    fx_ref r;
    fx_spawn_opts o = {.handler = bi_echo};
    bi_expect(fx_inbox_link(t.in, p), FX_ESHUTDOWN);
    bi_expect(fx_inbox_monitor(t.in, p, &r), FX_ESHUTDOWN);
    bi_expect(fx_inbox_spawn_link(t.in, &o, NULL), FX_ESHUTDOWN);
    bi_expect(fx_inbox_spawn_monitor(t.in, &o, NULL, &r), FX_ESHUTDOWN);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
    tvm u = bi_start();
    bi_end(&u);
}

/* --- destroying an idle inbox --------------------------------------------------- */

static fx_next ib_trap_fwd(fx_ctx *cx, fx_msg *m)
{
    fx_pid *owner = fx_state(cx);
    if (fx_msg_type(m) == FX_MSG_EXIT) {
        const fx_exit_info *e = fx_msg_data(m);
        fx_send(cx, *owner, 12, &e->reason, sizeof e->reason);
    }
    return fx_continue(cx);
}

static fx_next ib_trap_init(fx_ctx *cx, fx_msg *m)
{
    fx_pid *owner = fx_state(cx);
    fx_trap_exit(cx, true);
    fx_send(cx, *owner, 13, NULL, 0);
    (void) m;
    return fx_become(cx, ib_trap_fwd);
}

Test(bi_inbox, destroy_linked,
     .description = "fx_inbox_destroy | idle inbox linked to a live process (trapping or "
                    "not) | the inbox exits normal: a trapping process gets EXIT normal, "
                    "one not trapping survives")
{
    tvm t = bi_start();
    fx_inbox *in2;
    cr_assert_eq(fx_inbox_create(t.vm, &in2), 0);
    fx_pid p, q;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &p), 0);
    cr_assert_eq(fx_vm_spawn(t.vm, ib_trap_init, &t.me, &q), 0);
    cr_assert_eq(fx_inbox_send(t.in, q, 1, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, 13)); /* q traps exits now */
    cr_assert_eq(fx_inbox_link(in2, p), 0);
    cr_assert_eq(fx_inbox_link(in2, q), 0);
    fx_inbox_destroy(in2);
    fx_msg *m = tvm_recv(&t, 12);
    const fx_reason *why = fx_msg_data(m);
    cr_assert_eq(why->kind, FX_REASON_NORMAL, "EXIT reason kind %d", why->kind);
    fx_msg_free(m);
    /* The echo still answers. */
    cr_assert_eq(fx_inbox_send(t.in, p, 7, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, 7));
    fx_vm_exit(t.vm, q, fx_reason_kill());
    bi_end(&t);
}

/* --- blocking waits across shutdown; absurd timeouts ----------------------------- */

typedef struct ib_waiter {
    fx_inbox *in;
    int64_t timeout;
    int rc;
} ib_waiter;

static void *ib_wait_body(void *arg)
{
    ib_waiter *w = arg;
    fx_match never = {.type = 4242};
    fx_msg *m = NULL;
    w->rc = fx_inbox_recv(w->in, &never, w->timeout, &m);
    return NULL;
}

static void ib_shutdown_while_waiting(int64_t timeout)
{
    tvm t = bi_start();
    ib_waiter w = {t.in, timeout, 1};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, ib_wait_body, &w), 0);
    /* Whether the wait begins before or after the shutdown, it must end
     * with FX_ESHUTDOWN. */
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    pthread_join(th, NULL);
    bi_expect(w.rc, FX_ESHUTDOWN);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
    tvm u = bi_start();
    bi_end(&u);
}

Test(bi_inbox, recv_infinite_across_shutdown, .timeout = 30,
     .description = "fx_inbox_recv | FX_INFINITY wait while another thread shuts the VM "
                    "down | FX_ESHUTDOWN")
{
    ib_shutdown_while_waiting(FX_INFINITY);
}

Test(bi_inbox, recv_finite_across_shutdown, .timeout = 30,
     .description = "fx_inbox_recv | 20 s wait while another thread shuts the VM down | "
                    "FX_ESHUTDOWN")
{
    ib_shutdown_while_waiting(20000);
}

Test(bi_inbox, recv_absurd_timeout,
     .description = "fx_inbox_recv | timeout 2e13 ms, INT64_MAX; a message comes 5 ms "
                    "later | 0, that message (FX_TIMEOUT_MAX)")
{
    tvm t = bi_start();
    for (int i = 0; i < BI_ABSURD_N; i++) {
        cr_assert_eq(fx_vm_send_after(t.vm, 5, t.me, 9, NULL, 0, NULL), 0);
        fx_msg *m = NULL;
        bi_expect(fx_inbox_recv(t.in, NULL, bi_absurd[i], &m), 0);
        cr_assert_eq(fx_msg_type(m), 9);
        fx_msg_free(m);
    }
    bi_end(&t);
}

/* --- from a fork()ed child (docs/failures.md, "fork") ------------------- */

static int fork_inbox(tvm *t)
{
    fx_inbox *ib;
    fx_msg *m;
    fx_ref r;
    fx_pid p;
    BI_FORKED(fx_inbox_send(t->in, t->me, 1, "x", 1));
    BI_FORKED(fx_inbox_recv(t->in, NULL, FX_INFINITY, &m));
    BI_FORKED(fx_inbox_create(t->vm, &ib));
    BI_FORKED(fx_inbox_link(t->in, t->me));
    BI_FORKED(fx_inbox_monitor(t->in, t->me, &r));
    BI_FORKED(fx_inbox_spawn_link(t->in, &(fx_spawn_opts){.handler = bi_echo}, &p));
    return FX_EFORKED;
}

Test(bi_inbox, calls_from_forked_child,
     .description =
         "fx_inbox_send, _recv, _create, _link, _monitor, _spawn_link | from a "
         "fork()ed child (the VM's threads are not there) | FX_EFORKED")
{
    tvm t = bi_start();
    bi_expect(bi_in_child(&t, fork_inbox), FX_EFORKED);
    bi_end(&t);
}

static int fork_inbox_destroy(tvm *t)
{
    fx_inbox_destroy(t->in);
    return 0;
}

Test(bi_inbox, destroy_from_forked_child,
     .description = "fx_inbox_destroy | from a fork()ed child | returns at once, frees "
                    "nothing")
{
    tvm t = bi_start();
    bi_expect(bi_in_child(&t, fork_inbox_destroy), 0);
    bi_end(&t);
}

static int never_run(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    return 0;
}

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

Test(bi_inbox, negative_timeouts,
     .description = "fx_inbox_recv, fx_gs_call, fx_gs_stop_server, fx_vm_task_run | "
                    "a negative timeout other than FX_INFINITY | FX_EINVAL at once, "
                    "nothing sent (not a wait forever)")
{
    tvm t = bi_start();
    fx_pid other;
    cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &other), 0);
    const int64_t bad[] = {-2, -1000, INT64_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_msg *m = NULL;
        bi_expect(fx_inbox_recv(t.in, NULL, bad[i], &m), FX_EINVAL);
        cr_assert_null(m);
        fx_reason why;
        bi_expect(fx_gs_call(t.in, other, 1, NULL, 0, bad[i], &m, &why), FX_EINVAL);
        bi_expect(fx_gs_stop_server(t.in, other, fx_reason_normal(), bad[i], &why),
                  FX_EINVAL);
        int st;
        bi_expect(fx_vm_task_run(t.vm, &(fx_task_opts){.fn = never_run}, bad[i], &st, &m),
                  FX_EINVAL);
    }
    cr_assert_eq(fx_is_alive(t.vm, other), 1, "nothing reached it");
    bi_end(&t);
}
