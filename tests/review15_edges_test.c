/* review15: bad input and limits (actor.h), exit signals of reason
 * normal (link.h), the registry's names around exits (registry.h) and
 * timers cancelled at expiry (timer.h), as an independent tester would
 * write them from the headers and the OTP docs. */
#include <stdint.h>
#include <string.h>

#include "helpers.h"

#define T_REPORT 100u

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static void send_i64(fx_ctx *cx, fx_pid to, uint32_t type, int64_t v)
{
    (void) fx_send(cx, to, type, &v, sizeof v);
}

/* ---- spawn limits -------------------------------------------------------------- */

/* actor.h:108 "inline state (<= 64 KiB)", and an oversized state or an
 * unknown mailbox policy with max > 0 is FX_EINVAL (actor.h:117-120).
 * Holds. */
Test(review15_edges, spawn_limits)
{
    tvm t = tvm_start(1);
    fx_pid p;
    fx_spawn_opts o = {.handler = idle, .state_size = 64u * 1024u};
    cr_expect_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    o.state_size = 64u * 1024u + 1u;
    cr_expect_eq(fx_vm_spawn_opt(t.vm, &o, &p), FX_EINVAL);
    o.state_size = SIZE_MAX;
    cr_expect_eq(fx_vm_spawn_opt(t.vm, &o, &p), FX_EINVAL);
    o.state_size = 0;
    o.mailbox = (fx_mailbox_limit){.max = 10, .policy = 3};
    cr_expect_eq(fx_vm_spawn_opt(t.vm, &o, &p), FX_EINVAL);
    o.mailbox = (fx_mailbox_limit){.max = 10, .policy = UINT32_MAX};
    cr_expect_eq(fx_vm_spawn_opt(t.vm, &o, &p), FX_EINVAL);
    o.mailbox = (fx_mailbox_limit){.max = 0, .policy = 3};
    cr_expect_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    tvm_stop(&t);
}

/* ---- a handler's garbage answer ------------------------------------------------ */

static fx_next garbage(fx_ctx *cx, fx_msg *m)
{
    (void) cx;
    (void) m;
    return (fx_next){0x7777};
}

/* actor.h:41-44: an invalid fx_next stops the actor with error FX_EINVAL;
 * an arbitrary op value must not crash the VM either. Holds. */
Test(review15_edges, garbage_fx_next_stops_with_einval)
{
    tvm t = tvm_start_quiet(1);
    fx_spawn_opts o = {.handler = garbage};
    fx_pid p;
    fx_ref r;
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, 1, NULL, 0), 0);
    fx_msg *d = tvm_recv(&t, FX_MSG_DOWN);
    const fx_down_info *di = fx_msg_data(d);
    cr_expect_eq(di->reason.kind, FX_REASON_ERROR);
    cr_expect_eq(di->reason.code, FX_EINVAL);
    fx_msg_free(d);
    tvm_stop(&t);
}

/* ---- exit signals of reason normal ------------------------------------------ */

typedef struct ex_state {
    fx_pid report, target;
    bool trap;
} ex_state;

static fx_next ex_report(fx_ctx *cx, fx_msg *m)
{
    ex_state *s = fx_state(cx);
    if (fx_msg_type(m) == FX_MSG_EXIT) {
        const fx_exit_info *e = fx_msg_data(m);
        send_i64(cx, s->report, T_REPORT + 1, (int64_t) e->pid.id);
        send_i64(cx, s->report, T_REPORT + 1, e->reason.kind);
        return fx_continue(cx);
    }
    if (fx_msg_type(m) == 1) { /* exit(Target, normal) */
        fx_pid to = s->target.id ? s->target : fx_self(cx);
        send_i64(cx, s->report, T_REPORT, fx_exit(cx, to, fx_reason_normal()));
        return fx_continue(cx);
    }
    send_i64(cx, s->report, T_REPORT + 2, fx_msg_type(m)); /* still alive */
    return fx_continue(cx);
}

static fx_next ex_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    ex_state *s = fx_state(cx);
    fx_trap_exit(cx, s->trap);
    return fx_become(cx, ex_report);
}

static fx_pid spawn_ex(tvm *t, fx_pid target, bool trap, fx_ref *mon)
{
    ex_state st = {.report = t->me, .target = target, .trap = trap};
    fx_spawn_opts o = {.init = ex_init, .state_size = sizeof st, .state_init = &st};
    fx_pid p;
    cr_assert_eq(fx_inbox_spawn_monitor(t->in, &o, &p, mon), 0);
    return p;
}

/* OTP exit/2 with Reason normal: a process not trapping exits ignores it
 * (unless it is the caller itself, which exits normal); a trapping one
 * gets {'EXIT', From, normal}, also when From is itself (link.h:55-58).
 * Holds. */
Test(review15_edges, exit_normal_matrix)
{
    tvm t = tvm_start(2);
    fx_ref r1, r2, r3, r4;
    /* Another process, not trapping: ignored. */
    fx_pid victim = spawn_ex(&t, FX_PID_NONE, false, &r1);
    fx_pid sender = spawn_ex(&t, victim, false, &r2);
    cr_assert_eq(fx_vm_send(t.vm, sender, 1, NULL, 0), 0);
    cr_expect_eq(tvm_recv_u64(&t, T_REPORT), 0);
    cr_assert_eq(fx_vm_send(t.vm, victim, 7, NULL, 0), 0);
    cr_expect_eq(tvm_recv_u64(&t, T_REPORT + 2), 7, "the victim died of normal");
    /* Another process, trapping: an EXIT from the sender. */
    fx_pid trapper = spawn_ex(&t, FX_PID_NONE, true, &r3);
    fx_pid sender2 = spawn_ex(&t, trapper, false, &r4);
    cr_assert_eq(fx_vm_send(t.vm, sender2, 1, NULL, 0), 0);
    cr_expect_eq(tvm_recv_u64(&t, T_REPORT), 0);
    cr_expect_eq(tvm_recv_u64(&t, T_REPORT + 1), sender2.id);
    cr_expect_eq(tvm_recv_u64(&t, T_REPORT + 1), FX_REASON_NORMAL);
    /* Itself, trapping: an EXIT from itself, and it lives on. */
    cr_assert_eq(fx_vm_send(t.vm, trapper, 1, NULL, 0), 0);
    cr_expect_eq(tvm_recv_u64(&t, T_REPORT), 0);
    cr_expect_eq(tvm_recv_u64(&t, T_REPORT + 1), trapper.id);
    cr_expect_eq(tvm_recv_u64(&t, T_REPORT + 1), FX_REASON_NORMAL);
    cr_assert_eq(fx_vm_send(t.vm, trapper, 8, NULL, 0), 0);
    cr_expect_eq(tvm_recv_u64(&t, T_REPORT + 2), 8);
    /* Itself, not trapping: it exits normal. */
    cr_assert_eq(fx_vm_send(t.vm, victim, 1, NULL, 0), 0);
    cr_expect_eq(tvm_recv_u64(&t, T_REPORT), 0);
    fx_match dm = {.type = FX_MSG_DOWN, .ref = r1};
    fx_msg *d = NULL;
    cr_assert_eq(fx_inbox_recv(t.in, &dm, 10000, &d), 0);
    cr_expect_eq(((const fx_down_info *) fx_msg_data(d))->reason.kind, FX_REASON_NORMAL);
    fx_msg_free(d);
    tvm_stop(&t);
}

/* ---- registry names around exits ------------------------------------------------- */

/* registry.h:35-38: a holder's name is freed at once for whereis,
 * register and unregister when it exits; registry.h:41-43 one name per
 * pid (OTP: register/2 of a pid that has a name is badarg); a name is
 * free again after unregister. Names of 63 bytes with any byte but NUL
 * are valid, 64 are not (registry.h:24-26). Holds. */
Test(review15_edges, registry_names_matrix)
{
    tvm t = tvm_start(2);
    fx_pid a, b, holder;
    cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &a), 0);
    cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &b), 0);
    char longest[FX_NAME_MAX];
    for (size_t i = 0; i < sizeof longest - 1; i++)
        longest[i] = (char) (0x80 + i); /* high bytes, no NUL */
    longest[sizeof longest - 1] = '\0';
    char too_long[FX_NAME_MAX + 1];
    memset(too_long, 'x', FX_NAME_MAX);
    too_long[FX_NAME_MAX] = '\0';
    cr_expect_eq(fx_register(t.in, too_long, a, NULL), FX_EINVAL);
    cr_expect_eq(fx_register(t.in, "", a, NULL), FX_EINVAL);
    cr_assert_eq(fx_register(t.in, longest, a, NULL), 0);
    fx_pid got;
    cr_expect_eq(fx_whereis(t.vm, longest, &got), 0);
    cr_expect_eq(got.id, a.id);
    /* The same pid under a second name. */
    holder = FX_PID_NONE;
    cr_expect_eq(fx_register(t.in, "review15 second", a, &holder), FX_EEXIST);
    cr_expect_eq(holder.id, a.id);
    /* The name under a second pid. */
    holder = FX_PID_NONE;
    cr_expect_eq(fx_register(t.in, longest, b, &holder), FX_EEXIST);
    cr_expect_eq(holder.id, a.id);
    /* Unregister, then both may take a name again. */
    cr_expect_eq(fx_unregister(t.in, longest), 0);
    cr_expect_eq(fx_unregister(t.in, longest), FX_ENOENT);
    cr_expect_eq(fx_register(t.in, longest, b, NULL), 0);
    cr_expect_eq(fx_register(t.in, "review15 second", a, NULL), 0);
    /* process_info's name buffer (info.h:50, = FX_NAME_MAX) holds it whole. */
    fx_proc_info pi = {.version = FX_PROC_INFO_VERSION};
    cr_assert_eq(fx_process_info(t.vm, b, &pi), 0);
    cr_expect_str_eq(pi.name, longest);
    /* The holder exits: as soon as its DOWN is seen, the name is free. */
    for (int round = 0; round < 50; round++) {
        fx_ref r;
        cr_assert_eq(fx_inbox_monitor(t.in, b, &r), 0);
        cr_assert_eq(fx_vm_exit(t.vm, b, fx_reason_kill()), 0);
        fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
        cr_expect_eq(fx_whereis(t.vm, longest, &got), FX_ENOENT, "round %d", round);
        cr_expect_eq(fx_vm_send_named(t.vm, longest, 1, NULL, 0), FX_ENOENT);
        cr_expect_eq(fx_register(t.in, longest, b, NULL), FX_ENOPROC);
        cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &b), 0);
        int rc = fx_register(t.in, longest, b, &holder);
        cr_assert_eq(rc, 0, "round %d: re-register after the holder's exit: %s", round,
                     fx_strerror(rc));
    }
    cr_expect_eq(fx_unregister(t.in, longest), 0);
    tvm_stop(&t);
}

/* ---- timers cancelled around their expiry ------------------------------------------ */

/* timer.h:36-42: fx_cancel_timer returns the time left (>= 0) for a
 * pending timer, FX_ENOENT once it fired. So exactly one of the two
 * holds: a cancelled timer's message never arrives, one that answered
 * FX_ENOENT (target alive) was sent (OTP: cancel_timer false means it
 * expired). After either, fx_read_timer answers FX_ENOENT. Holds. */
Test(review15_edges, cancel_at_expiry_is_exact)
{
    tvm t = tvm_start(2);
    int fired = 0, cancelled = 0;
    for (int i = 0; i < 300; i++) {
        fx_timer tm;
        uint32_t type = 1000u + (uint32_t) i;
        cr_assert_eq(fx_vm_send_after(t.vm, i % 3, t.me, type, NULL, 0, &tm), 0);
        if (i % 2)
            for (volatile int k = 0; k < 20000 * (i % 7); k = k + 1) {
            }
        int64_t left = fx_cancel_timer(t.vm, tm);
        cr_assert(left >= 0 || left == FX_ENOENT, "cancel: %lld", (long long) left);
        cr_expect_eq(fx_read_timer(t.vm, tm), FX_ENOENT);
        cr_expect_eq(fx_cancel_timer(t.vm, tm), FX_ENOENT);
        if (left == FX_ENOENT) {
            fired++;
            fx_match m = {.type = type};
            fx_msg *msg = NULL;
            cr_assert_eq(fx_inbox_recv(t.in, &m, 10000, &msg), 0,
                         "timer %d answered ENOENT but never fired", i);
            fx_msg_free(msg);
        } else {
            cancelled++;
        }
    }
    /* Nothing cancelled may arrive: a marker sent now comes after any
     * timer message already queued... a late one from the wheel is what
     * we look for, so give the wheel a bounded chance. */
    fx_msg *msg = NULL;
    int rc = fx_inbox_recv(t.in, NULL, 300, &msg);
    cr_expect_eq(rc, FX_ETIMEDOUT, "a cancelled timer fired (type %u)",
                 msg ? fx_msg_type(msg) : 0u);
    if (msg)
        fx_msg_free(msg);
    cr_log_info("fired %d, cancelled %d", fired, cancelled);
    tvm_stop(&t);
}

/* ---- process info from inside, and of what is no process ----------------------------
 */

typedef struct self_info {
    fx_pid report;
    fx_pid child;
} self_info;

static fx_next info_self(fx_ctx *cx, fx_msg *m)
{
    self_info *s = fx_state(cx);
    (void) m;
    if (!s->child.id) {
        fx_spawn_opts o = {.handler = idle, .label = "review15 child"};
        (void) fx_spawn_opt(cx, &o, &s->child);
    }
    fx_proc_info pi = {.version = FX_PROC_INFO_VERSION};
    int rc = fx_process_info(fx_ctx_vm(cx), fx_self(cx), &pi);
    send_i64(cx, s->report, T_REPORT, rc);
    send_i64(cx, s->report, T_REPORT, pi.status);
    send_i64(cx, s->report, T_REPORT, pi.scheduler < fx_vm_sched_count(fx_ctx_vm(cx)));
    send_i64(cx, s->report, T_REPORT, (int64_t) pi.handled);
    fx_proc_info ci = {.version = FX_PROC_INFO_VERSION};
    rc = fx_process_info(fx_ctx_vm(cx), s->child, &ci);
    send_i64(cx, s->report, T_REPORT, rc);
    send_i64(cx, s->report, T_REPORT, (int64_t) ci.parent.id);
    send_i64(cx, s->report, T_REPORT, strcmp(ci.label, "review15 child") == 0);
    return fx_continue(cx);
}

/* info.h:27-29, 63-68, 98, 125-131: a process reading itself is RUNNING
 * on a scheduler; handled counts handler calls with a message; a child
 * spawned with a label from a handler has that handler's process as
 * parent; an inbox, a dead pid, FX_PID_NONE are FX_ENOPROC; a version
 * above FX_PROC_INFO_VERSION is FX_EINVAL. Holds. */
Test(review15_edges, process_info_promises)
{
    tvm t = tvm_start(2);
    self_info st = {.report = t.me};
    fx_pid a = spawn_state(t.vm, info_self, &st, sizeof st);
    for (int round = 1; round <= 2; round++) {
        cr_assert_eq(fx_vm_send(t.vm, a, 1, NULL, 0), 0);
        cr_expect_eq(tvm_recv_u64(&t, T_REPORT), 0);
        cr_expect_eq(tvm_recv_u64(&t, T_REPORT), FX_PROC_RUNNING);
        cr_expect_eq(tvm_recv_u64(&t, T_REPORT), 1, "scheduler index");
        int64_t handled = (int64_t) tvm_recv_u64(&t, T_REPORT);
        cr_expect(handled == round - 1 || handled == round, "handled %lld in call %d",
                  (long long) handled, round);
        cr_expect_eq(tvm_recv_u64(&t, T_REPORT), 0);
        cr_expect_eq(tvm_recv_u64(&t, T_REPORT), a.id, "parent");
        cr_expect_eq(tvm_recv_u64(&t, T_REPORT), 1, "label");
    }
    fx_proc_info pi = {.version = FX_PROC_INFO_VERSION};
    cr_expect_eq(fx_process_info(t.vm, t.me, &pi), FX_ENOPROC, "an inbox");
    cr_expect_eq(fx_process_info(t.vm, FX_PID_NONE, &pi), FX_ENOPROC);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t.in, a, &r), 0);
    cr_assert_eq(fx_vm_exit(t.vm, a, fx_reason_kill()), 0);
    fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    cr_expect_eq(fx_process_info(t.vm, a, &pi), FX_ENOPROC, "a dead pid");
    pi.version = FX_PROC_INFO_VERSION + 1;
    cr_expect_eq(fx_process_info(t.vm, a, &pi), FX_EINVAL);
    tvm_stop(&t);
}

/* ---- links to the dead ---------------------------------------------------------------
 */

typedef struct ld_state {
    fx_pid report, dead;
    bool trap;
} ld_state;

static fx_next ld_after(fx_ctx *cx, fx_msg *m)
{
    ld_state *s = fx_state(cx);
    if (fx_msg_type(m) == FX_MSG_EXIT) {
        const fx_exit_info *e = fx_msg_data(m);
        send_i64(cx, s->report, T_REPORT + 1, (int64_t) e->pid.id);
        send_i64(cx, s->report, T_REPORT + 1, e->reason.kind);
    }
    return fx_continue(cx);
}

static fx_next ld_go(fx_ctx *cx, fx_msg *m)
{
    ld_state *s = fx_state(cx);
    (void) m;
    fx_trap_exit(cx, s->trap);
    send_i64(cx, s->report, T_REPORT, fx_link(cx, s->dead));
    fx_proc_info pi = {.version = FX_PROC_INFO_VERSION};
    (void) fx_process_info(fx_ctx_vm(cx), fx_self(cx), &pi);
    send_i64(cx, s->report, T_REPORT, pi.links);
    return fx_become(cx, ld_after);
}

/* link.h:33-40 (OTP link/1 on a dead pid): not trapping, FX_ENOPROC and
 * no link; trapping, 0 and {'EXIT', Pid, noproc}. Holds. */
Test(review15_edges, link_to_a_dead_pid)
{
    tvm t = tvm_start(2);
    fx_pid dead;
    cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &dead), 0);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t.in, dead, &r), 0);
    cr_assert_eq(fx_vm_exit(t.vm, dead, fx_reason_kill()), 0);
    fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    for (int trap = 0; trap < 2; trap++) {
        ld_state st = {.report = t.me, .dead = dead, .trap = trap};
        fx_pid a = spawn_state(t.vm, ld_go, &st, sizeof st);
        cr_assert_eq(fx_vm_send(t.vm, a, 1, NULL, 0), 0);
        cr_expect_eq((int64_t) tvm_recv_u64(&t, T_REPORT), trap ? 0 : FX_ENOPROC);
        cr_expect_eq(tvm_recv_u64(&t, T_REPORT), 0, "links after a link to the dead");
        if (trap) {
            cr_expect_eq(tvm_recv_u64(&t, T_REPORT + 1), dead.id);
            cr_expect_eq(tvm_recv_u64(&t, T_REPORT + 1), FX_REASON_NOPROC);
        }
    }
    tvm_stop(&t);
}

/* ---- timers: limits and dead targets ----------------------------------------------- */

/* timer.h:14-18, 36-48. Holds. */
Test(review15_edges, timer_limits_and_dead_targets)
{
    tvm t = tvm_start(1);
    fx_timer tm;
    cr_expect_eq(fx_vm_send_after(t.vm, -1, t.me, 1, NULL, 0, &tm), FX_EINVAL);
    cr_expect_eq(fx_vm_send_after(t.vm, INT64_MIN, t.me, 1, NULL, 0, &tm), FX_EINVAL);
    cr_assert_eq(fx_vm_send_after(t.vm, INT64_MAX, t.me, 1, NULL, 0, &tm), 0);
    int64_t left = fx_read_timer(t.vm, tm);
    cr_expect(left > 0 && left <= FX_TIMEOUT_MAX, "left %lld", (long long) left);
    cr_expect(fx_cancel_timer(t.vm, tm) > 0);
    /* A live target that exits: its timer goes with it. */
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &p), 0);
    cr_assert_eq(fx_vm_send_after(t.vm, 60000, p, 1, NULL, 0, &tm), 0);
    cr_expect(fx_read_timer(t.vm, tm) > 0);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t.in, p, &r), 0);
    cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
    fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    cr_expect_eq(fx_read_timer(t.vm, tm), FX_ENOENT);
    cr_expect_eq(fx_cancel_timer(t.vm, tm), FX_ENOENT);
    /* One armed for a dead pid is accepted, then reads as cancelled. */
    cr_expect_eq(fx_vm_send_after(t.vm, 60000, p, 1, NULL, 0, &tm), 0);
    cr_expect_eq(fx_read_timer(t.vm, tm), FX_ENOENT);
    cr_expect_eq(fx_cancel_timer(t.vm, tm), FX_ENOENT);
    /* A forged handle. */
    fx_timer forged = {tm.id ^ 0x5555u};
    int64_t f = fx_cancel_timer(t.vm, forged);
    cr_expect(f == FX_ENOENT, "a forged timer handle: %lld", (long long) f);
    tvm_stop(&t);
}

/* ---- timers outliving their creator; stale handles --------------------------------- */

static fx_next arm_and_die(fx_ctx *cx, fx_msg *m)
{
    fx_pid *report = fx_state(cx);
    (void) m;
    int64_t v = 42;
    if (fx_send_after(cx, 20, *report, 77, &v, sizeof v, NULL) != 0)
        return fx_stop(cx, fx_reason_error(1, "send_after"));
    return fx_stop(cx, fx_reason_normal());
}

/* timer.h:12-13 and OTP erlang:send_after/3: the timer belongs to its
 * target; the process that armed it may exit before it fires, and the
 * message still comes (from that process). A fired timer's handle stays
 * stale when its record is reused: cancelling it touches no newer
 * timer. Holds. */
Test(review15_edges, timers_outlive_their_creator_and_stale_handles_stay_stale)
{
    tvm t = tvm_start(2);
    fx_pid a = spawn_state(t.vm, arm_and_die, &t.me, sizeof t.me);
    cr_assert_eq(fx_vm_send(t.vm, a, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, 77);
    cr_expect_eq(fx_msg_from(m).id, a.id);
    fx_msg_free(m);
    for (int i = 0; i < 200; i++) {
        fx_timer old, young;
        cr_assert_eq(fx_vm_send_after(t.vm, 0, t.me, 5, NULL, 0, &old), 0);
        fx_msg_free(tvm_recv(&t, 5));
        cr_assert_eq(fx_vm_send_after(t.vm, 60000, t.me, 6, NULL, 0, &young), 0);
        cr_expect_eq(fx_cancel_timer(t.vm, old), FX_ENOENT);
        cr_expect_eq(fx_read_timer(t.vm, old), FX_ENOENT);
        cr_expect(fx_read_timer(t.vm, young) > 0,
                  "round %d: a stale handle cancelled a newer "
                  "timer",
                  i);
        cr_expect(fx_cancel_timer(t.vm, young) > 0);
    }
    tvm_stop(&t);
}

/* ---- registry: register and unregister racing the holder's exit -------------------- */

/* registry.h:35-38, 44-46: fx_register of a pid being killed answers 0
 * or FX_ENOPROC; either way, once the holder's DOWN is seen the name is
 * free (whereis FX_ENOENT, register of a new pid 0, unregister
 * FX_ENOENT). Holds. */
Test(review15_edges, registry_register_racing_exit)
{
    tvm t = tvm_start(2);
    for (int round = 0; round < 100; round++) {
        fx_pid b, c, got;
        cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &b), 0);
        fx_ref r;
        cr_assert_eq(fx_inbox_monitor(t.in, b, &r), 0);
        cr_assert_eq(fx_vm_exit(t.vm, b, fx_reason_kill()), 0);
        int rc = fx_register(t.in, "review15 race", b, NULL);
        cr_assert(rc == 0 || rc == FX_ENOPROC, "round %d: %s", round, fx_strerror(rc));
        fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
        cr_expect_eq(fx_whereis(t.vm, "review15 race", &got), FX_ENOENT);
        if (round % 2)
            cr_expect_eq(fx_unregister(t.in, "review15 race"), FX_ENOENT, "round %d",
                         round);
        cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &c), 0);
        rc = fx_register(t.in, "review15 race", c, NULL);
        cr_assert_eq(rc, 0, "round %d: %s", round, fx_strerror(rc));
        cr_expect_eq(fx_unregister(t.in, "review15 race"), 0);
        cr_assert_eq(fx_vm_exit(t.vm, c, fx_reason_kill()), 0);
    }
    tvm_stop(&t);
}

/* ---- cleanup: exactly once, for every way out ---------------------------------------
 */

static int cleanups[8];

static void count_cleanup(void *state, const fx_reason *r)
{
    (void) state;
    int k = r->kind >= 0 && r->kind < 7 ? r->kind : 7;
    __atomic_add_fetch(&cleanups[k], 1, __ATOMIC_RELAXED);
}

static fx_next how_to_die(fx_ctx *cx, fx_msg *m)
{
    fx_pid peer;
    switch (fx_msg_type(m)) {
    case 1:
        return fx_stop(cx, fx_reason_normal());
    case 2:
        fx_crash(cx, "review15 crash");
    case 3:
        return fx_stop(cx, fx_reason_error(7, "stop"));
    case 4:
        return fx_become(NULL, idle); /* an invalid fx_next */
    case 5:                           /* link to the pid given, then make it crash */
        memcpy(&peer, fx_msg_data(m), sizeof peer);
        (void) fx_link(cx, peer);
        (void) fx_send(cx, peer, 2, NULL, 0);
        return fx_continue(cx);
    default:
        return fx_continue(cx);
    }
}

static fx_next init_stops(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_stop(cx, fx_reason_shutdown());
}

/* actor.h:32-37: the cleanup runs exactly once for any exit, with the
 * exit's reason: a stop, fx_crash, an invalid answer, a stop from init, a
 * kill, a link's exit signal, and VM shutdown. Holds. */
Test(review15_edges, cleanup_exactly_once_for_every_exit)
{
    memset(cleanups, 0, sizeof cleanups);
    tvm t = tvm_start_quiet(2);
    fx_spawn_opts o = {.handler = how_to_die, .cleanup = count_cleanup};
    fx_pid p[8];
    fx_ref r[8];
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p[i], &r[i]), 0);
        cr_assert_eq(fx_vm_send(t.vm, p[i], (uint32_t) i + 1, NULL, 0), 0);
    }
    fx_spawn_opts oi = {.init = init_stops, .cleanup = count_cleanup};
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &oi, &p[4], &r[4]), 0);
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p[5], &r[5]), 0);
    cr_assert_eq(fx_vm_exit(t.vm, p[5], fx_reason_kill()), 0);
    /* p[6] links to p[7] and makes it crash: p[6] dies of the link. */
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p[6], &r[6]), 0);
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p[7], &r[7]), 0);
    cr_assert_eq(fx_vm_send(t.vm, p[6], 5, &p[7], sizeof p[7]), 0);
    for (int i = 0; i < 8; i++)
        fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    cr_expect_eq(cleanups[FX_REASON_NORMAL], 1);
    cr_expect_eq(cleanups[FX_REASON_ERROR], 5,
                 "crash, error stop, invalid answer, crash, its link: %d",
                 cleanups[FX_REASON_ERROR]);
    cr_expect_eq(cleanups[FX_REASON_SHUTDOWN], 1);
    cr_expect_eq(cleanups[FX_REASON_KILLED], 1);
    fx_pid lone;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &lone), 0);
    tvm_stop(&t); /* lone exits with shutdown */
    cr_expect_eq(cleanups[FX_REASON_SHUTDOWN], 2);
    int total = 0;
    for (int k = 0; k < 8; k++)
        total += cleanups[k];
    cr_expect_eq(total, 9, "cleanup calls: %d for 9 processes", total);
}
