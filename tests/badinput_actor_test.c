/* Bad-input table: actor.h (continuations, context accessors, spawning)
 * and the handler-only calls made from outside (NULL ctx).
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

#include <signal.h>

/* --- handler-only calls from outside a handler (no ctx: NULL) ---------- */

Test(
    bi_actor, continue_null,
    .description = "fx_continue | cx NULL (outside a handler) | no crash (header silent)")
{
    (void) fx_continue(NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_actor, accessors_null,
     .description = "fx_self, fx_ctx_vm, fx_state, fx_set_state | cx NULL | FX_PID_NONE "
                    "/ NULL / ignored (header silent)")
{
    cr_assert(fx_pid_is_none(fx_self(NULL)));
    cr_assert_null(fx_ctx_vm(NULL));
    cr_assert_null(fx_state(NULL));
    fx_set_state(NULL, (void *) 1);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_actor, keep_null,
     .description = "fx_msg_keep | cx NULL, msg NULL | ignored (header silent)")
{
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 8, &m), 0);
    fx_msg_keep(NULL, m);
    fx_msg_keep(NULL, NULL);
    fx_msg_free(m);
    tvm t = bi_start();
    bi_end(&t);
}

static int run_keep_other(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_msg *other;
    if (fx_msg_new(1, 8, &other) != 0)
        return FX_ENOMEM;
    fx_msg_keep(cx, other); /* not the message being handled */
    fx_msg_keep(cx, NULL);
    fx_msg_free(other);
    return 0;
}

Test(bi_actor, keep_other_msg,
     .description = "fx_msg_keep | a message that is not the one being handled; NULL | "
                    "ignored; the handled one is freed as usual")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_keep_other, NULL), 0);
    bi_end(&t);
}

Test(bi_actor, trap_exit_null,
     .description = "fx_trap_exit | cx NULL | false (header silent)")
{
    cr_assert_not(fx_trap_exit(NULL, true));
    tvm t = bi_start();
    bi_end(&t);
}

/* --- spawning ---------------------------------------------------------------- */

typedef struct spawn_arg {
    const fx_spawn_opts *opts;
    fx_handler h;
    fx_pid out;
} spawn_arg;

static int run_spawn_opt(fx_ctx *cx, void *arg)
{
    spawn_arg *a = arg;
    return fx_spawn_opt(cx, a->opts, &a->out);
}

static int run_spawn(fx_ctx *cx, void *arg)
{
    spawn_arg *a = arg;
    return fx_spawn(cx, a->h, NULL, &a->out);
}

Test(bi_spawn, opt_null_cx, .description = "fx_spawn_opt | cx NULL | FX_EINVAL")
{
    fx_spawn_opts o = {.handler = bi_echo};
    bi_expect(fx_spawn_opt(NULL, &o, NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_spawn, opt_null_opts, .description = "fx_spawn_opt | opts NULL | FX_EINVAL")
{
    tvm t = bi_start();
    spawn_arg a = {.opts = NULL};
    bi_expect(bi_in_handler(&t, run_spawn_opt, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, opt_no_handler,
     .description = "fx_spawn_opt | neither handler nor init | FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.state = NULL};
    spawn_arg a = {.opts = &o};
    bi_expect(bi_in_handler(&t, run_spawn_opt, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, opt_oversized_state,
     .description = "fx_spawn_opt | state_size 64 KiB + 1, SIZE_MAX | FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.handler = bi_echo, .state_size = 64 * 1024 + 1};
    spawn_arg a = {.opts = &o};
    bi_expect(bi_in_handler(&t, run_spawn_opt, &a), FX_EINVAL);
    o.state_size = SIZE_MAX;
    bi_expect(bi_in_handler(&t, run_spawn_opt, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, spawn_null, .description = "fx_spawn | cx NULL; handler NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_spawn(NULL, bi_echo, NULL, NULL), FX_EINVAL);
    spawn_arg a = {.h = NULL};
    bi_expect(bi_in_handler(&t, run_spawn, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, vm_opt_bad,
     .description = "fx_vm_spawn_opt | vm NULL; opts NULL; no handler; state_size 64 KiB "
                    "+ 1 | FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.handler = bi_echo};
    bi_expect(fx_vm_spawn_opt(NULL, &o, NULL), FX_EINVAL);
    bi_expect(fx_vm_spawn_opt(t.vm, NULL, NULL), FX_EINVAL);
    fx_spawn_opts none = {.state = NULL};
    bi_expect(fx_vm_spawn_opt(t.vm, &none, NULL), FX_EINVAL);
    o.state_size = 64 * 1024 + 1;
    bi_expect(fx_vm_spawn_opt(t.vm, &o, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, vm_spawn_bad,
     .description = "fx_vm_spawn | vm NULL; handler NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_vm_spawn(NULL, bi_echo, NULL, NULL), FX_EINVAL);
    bi_expect(fx_vm_spawn(t.vm, NULL, NULL, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_spawn, vm_after_shutdown,
     .description = "fx_vm_spawn, fx_vm_spawn_opt | after shutdown | FX_ESHUTDOWN")
{
    fx_vm *vm = bi_dead_vm(NULL);
    fx_spawn_opts o = {.handler = bi_echo};
    bi_expect(fx_vm_spawn(vm, bi_echo, NULL, NULL), FX_ESHUTDOWN);
    bi_expect(fx_vm_spawn_opt(vm, &o, NULL), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

static int run_vm_spawn(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_pid p;
    int rc = fx_vm_spawn(fx_ctx_vm(cx), bi_echo, NULL, &p);
    if (rc == 0)
        fx_exit(cx, p, fx_reason_kill());
    return rc;
}

Test(bi_spawn, vm_spawn_from_handler,
     .description = "fx_vm_spawn | from a handler | 0 (allowed)")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_vm_spawn, NULL), 0);
    bi_end(&t);
}

/* --- absurd receive timeouts ---------------------------------------------- */

static const int64_t ac_absurd[] = {20000000000000, INT64_MAX};

static fx_next recv_got(fx_ctx *cx, fx_msg *m)
{
    uint32_t type = fx_msg_type(m);
    fx_pid *owner = fx_state(cx);
    fx_send(cx, *owner, 11, &type, sizeof type);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next recv_long(fx_ctx *cx, fx_msg *m)
{
    return fx_receive(cx, recv_got, NULL, ac_absurd[fx_msg_type(m) - 1]);
}

Test(bi_actor, receive_absurd_timeout,
     .description = "fx_receive | timeout_ms 2e13, INT64_MAX | waits (the next message "
                    "is handed over, no TIMEOUT)")
{
    tvm t = bi_start();
    for (int i = 0; i < 2; i++) {
        fx_pid p;
        cr_assert_eq(fx_vm_spawn(t.vm, recv_long, &t.me, &p), 0);
        cr_assert_eq(fx_inbox_send(t.in, p, (uint32_t) i + 1, NULL, 0), 0);
        cr_assert_eq(fx_vm_send_after(t.vm, 5, p, 7, NULL, 0, NULL), 0);
        fx_msg *m = tvm_recv(&t, 11);
        cr_assert_eq(*(const uint32_t *) fx_msg_data(m), 7, "got type %x",
                     *(const uint32_t *) fx_msg_data(m));
        fx_msg_free(m);
    }
    bi_end(&t);
}

/* --- the process table -------------------------------------------------------- */

Test(bi_spawn, table_full,
     .description = "fx_vm_spawn | process table full, then every process killed and its "
                    "DOWN received | FX_EFULL, then spawns succeed again")
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

/* --- a pid of another VM ---------------------------------------------------------- */

Test(bi_actor, foreign_pid,
     .description = "fx_is_alive, fx_vm_send, fx_vm_exit | a live pid of another VM | 0, "
                    "FX_ENOPROC, FX_ENOPROC (as a dead pid: docs/design.md \"Pids\")")
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
    cr_assert_eq(fx_is_alive(b.vm, pb), 1, "the kill reached VM b");
    bi_end(&b);
    bi_end(&a);
}

/* --- continuations and fx_crash with a NULL ctx --------------------------------- */

Test(bi_actor, continuations_null_cx,
     .description = "fx_become, fx_stop, fx_receive, fx_make_ref | cx NULL | one invalid "
                    "fx_next for the three, FX_REF_NONE; nothing changes")
{
    fx_next a = fx_become(NULL, bi_echo);
    fx_next b = fx_stop(NULL, fx_reason_normal());
    fx_next c = fx_receive(NULL, bi_echo, NULL, FX_INFINITY);
    cr_assert_eq(a.op, b.op);
    cr_assert_eq(c.op, b.op);
    cr_assert_eq(fx_make_ref(NULL).id, FX_REF_NONE.id);
    tvm t = bi_start();
    bi_end(&t);
}

static fx_next returns_invalid(fx_ctx *cx, fx_msg *m)
{
    /* The message type picks the mistake: a NULL ctx or a NULL handler. */
    return fx_msg_type(m) == 1 ? fx_stop(NULL, fx_reason_normal()) : fx_become(cx, NULL);
}

Test(bi_actor, invalid_next_returned,
     .description = "fx_stop, fx_become | a handler returns fx_stop(NULL, ...); "
                    "fx_become(cx, NULL) | that actor exits {error, FX_EINVAL}, the VM "
                    "lives")
{
    tvm t = bi_start();
    for (uint32_t type = 1; type <= 2; type++) {
        fx_pid p;
        fx_ref r;
        fx_spawn_opts o = {.handler = returns_invalid};
        cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
        cr_assert_eq(fx_inbox_send(t.in, p, type, NULL, 0), 0);
        fx_msg *m = tvm_recv(&t, FX_MSG_DOWN);
        const fx_down_info *d = fx_msg_data(m);
        cr_assert_eq(d->reason.kind, FX_REASON_ERROR, "kind %d", d->reason.kind);
        bi_expect(d->reason.code, FX_EINVAL);
        fx_msg_free(m);
    }
    bi_end(&t);
}

static fx_next crashes_null(fx_ctx *cx, fx_msg *m)
{
    (void) cx;
    (void) m;
    fx_crash(NULL, "null ctx");
}

Test(bi_actor, crash_null_cx_in_handler,
     .description = "fx_crash | cx NULL inside a handler | that actor crashes {error, "
                    "FX_ECRASHED, \"null ctx\"}")
{
    tvm t = bi_start();
    fx_pid p;
    fx_ref r;
    fx_spawn_opts o = {.handler = crashes_null};
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, FX_MSG_DOWN);
    const fx_down_info *d = fx_msg_data(m);
    cr_assert_eq(d->reason.kind, FX_REASON_ERROR, "kind %d", d->reason.kind);
    cr_assert_eq(d->reason.code, FX_ECRASHED);
    cr_assert_str_eq(d->reason.text, "null ctx");
    fx_msg_free(m);
    bi_end(&t);
}

Test(bi_actor, crash_null_cx, .signal = SIGABRT,
     .description = "fx_crash | cx NULL outside any handler | prints a diagnostic and "
                    "aborts (SIGABRT): it cannot return")
{
    tvm t = bi_start();
    bi_end(&t);
    fx_crash(NULL, "outside");
}

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

Test(bi_actor, fault_in_predicate,
     .description =
         "fx_receive | a match predicate that segfaults, trap_faults on | that actor "
         "crashes {error, FX_EFAULT}, the VM lives")
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
