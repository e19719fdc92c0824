/* Bad-input rows that FAIL today because of known defects (issue 13's
 * campaign; each row names its defect). NOT in tests/meson.build yet: the
 * lead enables it once the fixes have landed. Same format as the other
 * badinput_*_test.c files. */
#include "badinput.h"

/* Absurd timeouts: 2e13 ms (634 years, past the ~1.8e13 ms where defect 6
 * overflows) and INT64_MAX. Each defect-6 row tries both. */
static const int64_t bi_absurd[] = {20000000000000, INT64_MAX};
#define BI_ABSURD_N 2

#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

Test(
    bi_vm, start_after_shutdown,
    .description =
        "fx_vm_start | after shutdown | FX_ESHUTDOWN (vm.h: further calls fail with "
        "FX_ESHUTDOWN; fx_vm_start lists only FX_EINVAL: ambiguous) [observed FX_EINVAL]")
{
    fx_vm *vm = bi_dead_vm(NULL);
    bi_expect(fx_vm_start(vm), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_spawn, table_full,
     .description = "fx_vm_spawn | process table full, then every process killed and its "
                    "DOWN received | FX_EFULL, then spawns succeed again [defect 1: "
                    "FX_EFULL with free slots]")
{
    fx_vm_config c = bi_config();
    c.max_processes = 16;
    tvm t = tvm_start_with(&c);
    fx_pid kids[64];
    int n = 0, rc = 0;
    while (n < 64 && (rc = fx_vm_spawn(t.vm, bi_echo, NULL, &kids[n])) == 0)
        n++;
    bi_expect(rc, FX_EFULL);
    cr_assert_lt(n, 16);
    /* Free the table again (monitor each kill so the slots are really
     * free), then check the VM. */
    for (int i = 0; i < n; i++) {
        fx_ref r;
        cr_assert_eq(fx_inbox_monitor(t.in, kids[i], &r), 0);
        cr_assert_eq(fx_vm_exit(t.vm, kids[i], fx_reason_kill()), 0);
        fx_match m = {.type = FX_MSG_DOWN, .ref = r};
        fx_msg *msg;
        cr_assert_eq(fx_inbox_recv(t.in, &m, 10000, &msg), 0);
        fx_msg_free(msg);
    }
    bi_end(&t);
}

/* --- defect 2: destroying an idle inbox ---------------------------------------- */

static fx_next trap_init_fwd(fx_ctx *cx, fx_msg *m);

static fx_next trap_fwd(fx_ctx *cx, fx_msg *m)
{
    fx_pid *owner = fx_state(cx);
    if (fx_msg_type(m) == FX_MSG_EXIT) {
        const fx_exit_info *e = fx_msg_data(m);
        fx_send(cx, *owner, 12, &e->reason, sizeof e->reason);
    }
    return fx_continue(cx);
}

static fx_next trap_init_fwd(fx_ctx *cx, fx_msg *m)
{
    fx_pid *owner = fx_state(cx);
    fx_trap_exit(cx, true);
    fx_send(cx, *owner, 13, NULL, 0);
    (void) m;
    return fx_become(cx, trap_fwd);
}

Test(bi_known, inbox_destroy_linked,
     .description = "fx_inbox_destroy | idle inbox linked to a live process (trapping or "
                    "not) | the inbox exits normal: a trapping process gets EXIT normal, "
                    "one not trapping survives [defect 2: noproc; passes in this "
                    "branch's runs, the trigger was not reproduced]")
{
    tvm t = bi_start();
    fx_inbox *in2;
    cr_assert_eq(fx_inbox_create(t.vm, &in2), 0);
    fx_pid p, q;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &p), 0);
    cr_assert_eq(fx_vm_spawn(t.vm, trap_init_fwd, &t.me, &q), 0);
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

/* --- defect 3: timers to exited processes -------------------------------------- */

Test(bi_known, timer_to_exited,
     .description = "fx_read_timer, fx_cancel_timer | timer whose target has exited | "
                    "FX_ENOENT (cancelled with its target, as in Erlang; timer.h does "
                    "not say) [defect 3: time left]")
{
    tvm t = bi_start();
    fx_timer tm;
    fx_pid q;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &q), 0);
    cr_assert_eq(fx_vm_send_after(t.vm, 100000, q, 1, NULL, 0, &tm), 0);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t.in, q, &r), 0);
    cr_assert_eq(fx_vm_exit(t.vm, q, fx_reason_kill()), 0);
    fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    bi_expect(fx_read_timer(t.vm, tm), FX_ENOENT);
    bi_expect(fx_cancel_timer(t.vm, tm), FX_ENOENT);
    bi_end(&t);
}

/* --- defect 5: blocking waits across shutdown, calls after shutdown ------------ */

typedef struct waiter {
    fx_inbox *in;
    int64_t timeout;
    int rc;
} waiter;

static void *wait_body(void *arg)
{
    waiter *w = arg;
    fx_match never = {.type = 4242};
    fx_msg *m = NULL;
    w->rc = fx_inbox_recv(w->in, &never, w->timeout, &m);
    return NULL;
}

static void shutdown_while_waiting(int64_t timeout)
{
    tvm t = bi_start();
    waiter w = {t.in, timeout, 1};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, wait_body, &w), 0);
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

Test(bi_known, recv_infinite_across_shutdown, .timeout = 30,
     .description = "fx_inbox_recv | FX_INFINITY wait while another thread shuts the VM "
                    "down | FX_ESHUTDOWN [defect 5: never returns]")
{
    shutdown_while_waiting(FX_INFINITY);
}

Test(bi_known, recv_finite_across_shutdown, .timeout = 30,
     .description = "fx_inbox_recv | 20 s wait while another thread shuts the VM down | "
                    "FX_ESHUTDOWN [defect 5: FX_ETIMEDOUT]")
{
    shutdown_while_waiting(20000);
}

Test(bi_known, by_name_after_shutdown,
     .description = "fx_vm_send_named, fx_vm_group_send, fx_cancel_timer, fx_read_timer "
                    "| after shutdown | FX_ESHUTDOWN [defect 5: FX_ENOENT, 0, time left]")
{
    tvm t = bi_start();
    cr_assert_eq(fx_register(t.in, "me", t.me, NULL), 0);
    cr_assert_eq(fx_group_join(t.in, "g", t.me), 0);
    fx_timer tm;
    cr_assert_eq(fx_vm_send_after(t.vm, 100000, t.me, 1, NULL, 0, &tm), 0);
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    bi_expect(fx_vm_send_named(t.vm, "me", 1, "x", 1), FX_ESHUTDOWN);
    bi_expect(fx_vm_group_send(t.vm, "g", 1, "x", 1), FX_ESHUTDOWN);
    bi_expect(fx_cancel_timer(t.vm, tm), FX_ESHUTDOWN);
    bi_expect(fx_read_timer(t.vm, tm), FX_ESHUTDOWN);
    fx_vm_destroy(t.vm);
    tvm u = bi_start();
    bi_end(&u);
}

/* --- defect 6: absurd timeouts ---------------------------------------------------- */

Test(bi_known, send_after_int64_max,
     .description = "fx_vm_send_after | delay_ms 2e13, INT64_MAX | 0; read/cancel report "
                    "a huge time left, nothing delivered [defect 6: overflow]")
{
    tvm t = bi_start();
    for (int i = 0; i < BI_ABSURD_N; i++) {
        fx_timer tm;
        bi_expect(fx_vm_send_after(t.vm, bi_absurd[i], t.me, 9, NULL, 0, &tm), 0);
        cr_assert_gt(fx_read_timer(t.vm, tm), (int64_t) 1 << 50);
        /* A message sent after the timer: if the timer had fired at once it
         * would come first. */
        cr_assert_eq(fx_vm_send_after(t.vm, 1, t.me, 10, NULL, 0, NULL), 0);
        fx_msg *m = tvm_recv(&t, 0);
        cr_assert_eq(fx_msg_type(m), 10, "the 2e13 ms timer fired");
        fx_msg_free(m);
        cr_assert_gt(fx_cancel_timer(t.vm, tm), (int64_t) 1 << 50);
    }
    bi_end(&t);
}

Test(bi_known, recv_int64_max,
     .description = "fx_inbox_recv | timeout 2e13 ms, INT64_MAX; a message comes 5 ms "
                    "later | 0, that message [defect 6: FX_ETIMEDOUT at once]")
{
    tvm t = bi_start();
    for (int i = 0; i < BI_ABSURD_N; i++) {
        cr_assert_eq(fx_vm_send_after(t.vm, 5, t.me, 9, NULL, 0, NULL), 0);
        fx_msg *m = NULL;
        bi_expect(fx_inbox_recv(t.in, NULL, bi_absurd[i], &m), 0);
        fx_msg_free(m);
    }
    bi_end(&t);
}

Test(bi_known, gs_call_int64_max,
     .description =
         "fx_gs_call | timeout 2e13 ms, INT64_MAX | 0, the reply [defect 6: overflow]")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    for (int i = 0; i < BI_ABSURD_N; i++) {
        fx_msg *r = NULL;
        bi_expect(fx_gs_call(t.in, srv, 1, "x", 1, bi_absurd[i], &r, NULL), 0);
        fx_msg_free(r);
    }
    bi_end(&t);
}

/* --- defect 7: a pid of another VM ---------------------------------------------- */

Test(
    bi_known, foreign_pid,
    .description =
        "fx_is_alive, fx_vm_send, fx_vm_exit | a live pid of another VM | 0, FX_ENOPROC, "
        "FX_ENOPROC (types.h: not a process of this VM) [defect 7: taken as local]")
{
    tvm a = bi_start(), b = bi_start();
    fx_pid pa, pb;
    /* The same spawn sequence in both VMs gives the same slot numbers. */
    cr_assert_eq(fx_vm_spawn(a.vm, bi_echo, NULL, &pa), 0);
    cr_assert_eq(fx_vm_spawn(b.vm, bi_echo, NULL, &pb), 0);
    cr_assert_eq(fx_is_alive(a.vm, pb), 0, "a pid of VM b is alive in VM a");
    bi_expect(fx_vm_send(a.vm, pb, 1, "x", 1), FX_ENOPROC);
    bi_expect(fx_vm_exit(a.vm, pb, fx_reason_kill()), FX_ENOPROC);
    cr_assert_eq(fx_is_alive(a.vm, pa), 1);
    bi_end(&b);
    bi_end(&a);
}

/* --- defect 9: NULL arguments that crash ---------------------------------------- */

Test(bi_known, continuations_null_cx,
     .description = "fx_become, fx_stop, fx_receive, fx_make_ref | cx NULL | no crash "
                    "(header silent on the value) [defect 9: segfault]")
{
    (void) fx_become(NULL, bi_echo);
    (void) fx_stop(NULL, fx_reason_normal());
    (void) fx_receive(NULL, bi_echo, NULL, FX_INFINITY);
    (void) fx_make_ref(NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(
    bi_known, crash_null_cx,
    .description =
        "fx_crash | cx NULL (outside a handler) | no crash of the caller (header: inside "
        "a handler only; no code possible, it does not return) [defect 9: segfault]")
{
    tvm t = bi_start();
    bi_end(&t);
    fx_crash(NULL, "outside");
}

static fx_gs_ret stop_reply_null(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                                 const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) type;
    (void) data;
    (void) size;
    return fx_gs_stop_reply(cx, fx_reason_normal(), NULL, 8);
}

static const fx_gs_ops ops_stop_reply_null = {.init = bi_gs_init,
                                              .handle_call = stop_reply_null};

Test(bi_known, gs_stop_reply_null_data,
     .description =
         "fx_gs_stop_reply | data NULL, size 8 | the server stops, the caller gets an "
         "error (FX_EEXIT), no crash (header silent) [defect 9: segfault]")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &ops_stop_reply_null};
    fx_pid srv;
    cr_assert_eq(fx_gs_start(t.in, &s, &srv, NULL), 0);
    fx_msg *r = NULL;
    int rc = fx_gs_call(t.in, srv, 1, "x", 1, 10000, &r, NULL);
    cr_assert_lt(rc, 0);
    cr_assert_neq(rc, FX_ETIMEDOUT);
    bi_end(&t);
}

static fx_next start_async_null_then(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) then;
    static const fx_gs_spec s = {.ops = &bi_gs_ops};
    (void) arg;
    return fx_gs_start_async(cx, &s, NULL);
}

static fx_next call_async_null_then(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) then;
    return fx_gs_call_async(cx, *(fx_pid *) arg, 1, "x", 1, 1000, NULL);
}

static int decode_none(fx_ctx *cx, fx_msg *m, void *arg)
{
    (void) cx;
    (void) m;
    (void) arg;
    return 0;
}

static void null_then(fx_next (*fn)(fx_ctx *, void *, fx_handler), void *arg, tvm *t)
{
    bi_job j = {.run_next = fn, .decode = decode_none, .arg = arg, .owner = t->me};
    fx_pid p;
    fx_ref r;
    fx_spawn_opts o = {.handler = bi_job_go, .state = &j};
    cr_assert_eq(fx_inbox_spawn_monitor(t->in, &o, &p, &r), 0);
    cr_assert_eq(fx_inbox_send(t->in, p, 1, NULL, 0), 0);
    fx_msg_free(tvm_recv(t, FX_MSG_DOWN));
}

Test(bi_known, async_null_then,
     .description =
         "fx_gs_start_async, fx_gs_call_async | then NULL | the calling actor exits with "
         "an error, the VM lives (header silent: a guess) [defect 9: segfault]")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    null_then(start_async_null_then, NULL, &t);
    null_then(call_async_null_then, &srv, &t);
    bi_end(&t);
}

Test(bi_known, async_null_cx,
     .description = "fx_gs_start_async, fx_gs_call_async | cx NULL | no crash (header "
                    "silent) [defect 9: segfault]")
{
    tvm t = bi_start();
    fx_gs_spec s = {.ops = &bi_gs_ops};
    (void) fx_gs_start_async(NULL, &s, bi_echo);
    (void) fx_gs_call_async(NULL, t.me, 1, "x", 1, 1000, bi_echo);
    bi_end(&t);
}

static const char known_key;

Test(bi_known, attach_null_value_twice,
     .description = "fx_vm_attach | value NULL attached twice under one key | FX_EEXIST "
                    "the second time [defect 9: 0]")
{
    tvm t = bi_start();
    bi_expect(fx_vm_attach(t.vm, &known_key, NULL, NULL), 0);
    bi_expect(fx_vm_attach(t.vm, &known_key, NULL, NULL), FX_EEXIST);
    bi_end(&t);
}

/* --- defect 10: max_msg_size applied to internal envelopes ------------------------ */

static char known_max[BI_MAX_MSG];

Test(bi_known, gs_call_exactly_max,
     .description = "fx_gs_call | request of exactly max_msg_size | 0, the reply [defect "
                    "10: the envelope exceeds the limit]")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    fx_msg *r = NULL;
    bi_expect(fx_gs_call(t.in, srv, 1, known_max, sizeof known_max, 10000, &r, NULL), 0);
    fx_msg_free(r);
    bi_end(&t);
}

Test(bi_known, register_small_max,
     .description = "fx_register | VM with max_msg_size 16 | 0 [defect 10: registry "
                    "envelopes exceed the limit]")
{
    fx_vm_config c = bi_config();
    c.max_msg_size = 16;
    tvm t = tvm_start_with(&c);
    bi_expect(fx_register(t.in, "small", t.me, NULL), 0);
    cr_assert_eq(fx_unregister(t.in, "small"), 0);
    tvm_stop(&t);
}

/* --- defect 11: fault in a selective-receive predicate -------------------------------
 */

static int *volatile known_wild = (int *) (uintptr_t) 16;

static bool bad_pred(const fx_msg *m, void *arg)
{
    (void) m;
    (void) arg;
    return *known_wild == 1;
}

static fx_next pred_wait(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    fx_match mt = {.pred = bad_pred};
    return fx_receive(cx, bi_echo, &mt, FX_INFINITY);
}

Test(bi_known, fault_in_predicate,
     .description =
         "fx_receive | a match predicate that segfaults, trap_faults on | that actor "
         "crashes {error, FX_EFAULT}, the VM lives [defect 11: not trapped]")
{
    fx_vm_config c = bi_config();
    c.trap_faults = true;
    tvm t = tvm_start_with(&c);
    fx_pid p;
    fx_ref r;
    fx_spawn_opts o = {.handler = pred_wait};
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, 1, NULL, 0), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, 2, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, FX_MSG_DOWN);
    const fx_down_info *d = fx_msg_data(m);
    cr_assert_eq(d->reason.code, FX_EFAULT);
    fx_msg_free(m);
    bi_end(&t);
}

/* --- found by this table ------------------------------------------------------------ */

static int run_stats_from_handler(fx_ctx *cx, void *arg)
{
    (void) cx;
    fx_registry_stats st;
    fx_msg *r = NULL;
    int a = fx_registry_stats_get(arg, &st);
    int b = fx_gs_call_named(arg, "nobody", 1, "x", 1, 1000, &r, NULL);
    return a != FX_EWOULDBLOCK ? a : b;
}

Test(
    bi_known, blocking_precedence,
    .description =
        "fx_registry_stats_get, fx_gs_call_named | from a handler, no registry / unknown "
        "name | FX_EWOULDBLOCK (header lists both, no precedence) [observed FX_ENOENT]")
{
    tvm t = bi_start();
    fx_inbox *other;
    cr_assert_eq(fx_inbox_create(t.vm, &other), 0);
    bi_expect(bi_in_handler(&t, run_stats_from_handler, other), FX_EWOULDBLOCK);
    fx_inbox_destroy(other);
    bi_end(&t);
}
