/* Fault isolation (trap_faults) and crash reports. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

/* After agent.h: redirect.h pulls in Criterion's other assert API. */
#include <criterion/redirect.h>

static bool reason_starts(const fx_reason *r, int code, const char *prefix)
{
    return r->kind == FX_REASON_ERROR && r->code == code &&
           strncmp(r->text, prefix, strlen(prefix)) == 0;
}

Test(trap_faults, segv_in_a_handler_kills_only_that_actor)
{
    tvm t = ag_start(2, true);
    fx_pid bystander = ag_spawn(&t, NULL), watcher = ag_spawn(&t, NULL);
    cr_assert_eq(ag_do(&t, watcher, AG_TRAP, (ag_cmd){.value = 1}).rc, 0);
    /* Twice on the same VM: the second fault must be trapped as well. */
    for (int round = 0; round < 2; round++) {
        fx_ref ref;
        fx_pid a = ag_spawn(&t, &ref);
        cr_assert_eq(ag_do(&t, watcher, AG_LINK, (ag_cmd){.pid = a}).rc, 0);
        ag_send(&t, a, AG_SEGV, (ag_cmd){0});
        fx_reason why = ag_down(&t, ref);
        cr_assert(reason_starts(&why, FX_EFAULT, "SIGSEGV at 0x10"), "reason text: %s",
                  why.text);
        cr_assert_lt(why.code, 0); /* fauxtp's own code, named by the error table */
        cr_assert_str_eq(fx_err_name(why.code), "FX_EFAULT");
        ag_report r = ag_next(&t, watcher);
        cr_assert_eq(r.type, FX_MSG_EXIT);
        cr_assert(fx_pid_eq(r.pid, a));
        cr_assert(fx_reason_eq(&r.reason, &why));
        fx_crash_report rep = ag_logged(&t, a);
        cr_assert(fx_reason_eq(&rep.reason, &why));
    }
    ag_assert_alive(&t, bystander);
    ag_assert_alive(&t, watcher);
    tvm_stop(&t);
}

Test(trap_faults, illegal_instruction)
{
    tvm t = ag_start(1, true);
    fx_ref ref;
    fx_pid a = ag_spawn(&t, &ref);
    ag_send(&t, a, AG_ILL, (ag_cmd){0});
    fx_reason why = ag_down(&t, ref);
    cr_assert(reason_starts(&why, FX_EFAULT, "SIGILL"), "reason text: %s", why.text);
    ag_assert_alive(&t, ag_spawn(&t, NULL));
    tvm_stop(&t);
}

Test(trap_faults, stack_overflow_in_a_handler)
{
    tvm t = ag_start(1, true);
    fx_ref ref;
    fx_pid a = ag_spawn(&t, &ref);
    ag_send(&t, a, AG_OVERFLOW, (ag_cmd){0});
    fx_reason why = ag_down(&t, ref);
    cr_assert(reason_starts(&why, FX_EFAULT, "SIGSEGV"), "reason text: %s", why.text);
    /* The scheduler thread goes on, on the same stack. */
    ag_assert_alive(&t, ag_spawn(&t, NULL));
    tvm_stop(&t);
}

Test(trap_faults, off_by_default_so_a_fault_is_fatal, .signal = SIGSEGV)
{
    tvm t = ag_start(1, false);
    fx_pid a = ag_spawn(&t, NULL);
    ag_send(&t, a, AG_SEGV, (ag_cmd){0});
    ag_next(&t, a); /* never answers: the process dies */
}

Test(trap_faults, a_fault_outside_handlers_stays_fatal, .signal = SIGSEGV)
{
    tvm t = ag_start(1, true);
    (void) t;
    *ag_wild = 1; /* on the test's own thread */
}

Test(crash_reports, one_per_abnormal_exit_with_label)
{
    tvm t = ag_start(2, false);
    ag_state st = {t.me};
    fx_spawn_opts o = ag_opts(&st);
    o.label = "worker";
    fx_pid a, b;
    fx_ref ra, rb;
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &a, &ra), 0);
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &b, &rb), 0);
    cr_assert_eq(ag_do(&t, b, AG_LINK, (ag_cmd){.pid = a}).rc, 0);
    ag_send(&t, a, AG_CRASH, (ag_cmd){.value = 42});
    fx_reason why = ag_down(&t, ra);
    cr_assert(reason_starts(&why, FX_ECRASHED, "crash 42"));
    cr_assert_str_eq(fx_err_name(why.code), "FX_ECRASHED");
    fx_crash_report r = ag_logged(&t, a);
    cr_assert(fx_pid_eq(r.pid, a));
    cr_assert_str_eq(r.label, "worker");
    cr_assert(fx_reason_eq(&r.reason, &why));
    /* b died of a's exit signal: no report of its own. Clean exits, and
     * killed, report nothing either. */
    ag_down(&t, rb);
    fx_ref rc, rd, re;
    fx_pid c = ag_spawn(&t, &rc), d = ag_spawn(&t, &rd), e = ag_spawn(&t, &re);
    ag_send(&t, c, AG_STOP, (ag_cmd){.reason = fx_reason_normal()});
    ag_send(&t, d, AG_STOP, (ag_cmd){.reason = fx_reason_shutdown()});
    cr_assert_eq(fx_vm_exit(t.vm, e, fx_reason_kill()), 0);
    ag_down(&t, rc);
    ag_down(&t, rd);
    ag_down(&t, re);
    /* One more crash as a barrier: its report is the next one. */
    fx_ref rf;
    fx_pid f = ag_spawn(&t, &rf);
    ag_send(&t, f, AG_STOP, (ag_cmd){.reason = fx_reason_timeout()});
    ag_down(&t, rf);
    fx_match logged = {.type = AG_LOGGED};
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(t.in, &logged, 10000, &m), 0);
    cr_assert(fx_pid_eq(((const fx_crash_report *) fx_msg_data(m))->pid, f),
              "a report for a process that exited cleanly or by a signal");
    fx_msg_free(m);
    tvm_stop(&t);
}

Test(crash_reports, format)
{
    fx_crash_report r = {.pid = {(3ull << 24) | 12}, /* index 12, generation 3 */
                         .reason = {FX_REASON_ERROR, 1, "boom"}};
    char line[128];
    int n = fx_crash_report_format(&r, line, sizeof line);
    cr_assert_str_eq(line, "=CRASH REPORT==== <0.12.3> exited: {error,1,\"boom\"}");
    cr_assert_eq(n, (int) strlen(line));
    r.label = "counter";
    fx_crash_report_format(&r, line, sizeof line);
    cr_assert_str_eq(line,
                     "=CRASH REPORT==== <0.12.3> counter exited: {error,1,\"boom\"}");
    cr_assert_eq(fx_crash_report_format(NULL, line, sizeof line), FX_EINVAL);
    /* fx_crash's reason: fauxtp's own code, printed by name */
    r.reason = fx_reason_error(FX_ECRASHED, "boom");
    fx_crash_report_format(&r, line, sizeof line);
    cr_assert_str_eq(
        line, "=CRASH REPORT==== <0.12.3> counter exited: {error,FX_ECRASHED,\"boom\"}");
    fx_reason k = fx_reason_kill();
    fx_reason_format(&k, line, sizeof line);
    cr_assert_str_eq(line, "kill");
}

Test(crash_reports, default_logger_writes_one_line_to_stderr, .init = cr_redirect_stderr)
{
    fx_crash_report r = {.pid = {5}, .reason = fx_reason_noproc(), .label = "w"};
    fx_crash_logger_stderr(NULL, &r);
    fx_crash_logger_silent(NULL, &r);
    fflush(stderr);
    cr_assert_stderr_eq_str("=CRASH REPORT==== <0.5.0> w exited: noproc\n");
}

Test(vm_config, version_1_is_still_accepted)
{
    /* A caller built against the version 1 header: only its fields. */
    struct {
        uint32_t version, threads, batch, max_processes;
        size_t max_msg_size;
    } v1 = {1, 1, 0, 0, 0};
    fx_vm *vm;
    cr_assert_eq(fx_vm_create((const fx_vm_config *) (const void *) &v1, &vm), 0);
    cr_assert_eq(fx_vm_threads(vm), 1);
    fx_vm_destroy(vm);
}

/* A selective receive's predicate is user code run on a scheduler thread:
 * a fault in it crashes that actor only. */
static bool faulting_pred(const fx_msg *m, void *arg)
{
    (void) m;
    (void) arg;
    *ag_wild = 1;
    return true;
}

static fx_next pred_never(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static fx_next pred_start(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_receive(cx, pred_never, &(fx_match){.pred = faulting_pred}, FX_INFINITY);
}

Test(trap_faults, segv_in_a_receive_predicate_kills_only_that_actor)
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 1;
    cfg.trap_faults = true;
    cfg.crash_logger = fx_crash_logger_silent;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&cfg, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_pid a;
    fx_ref ref;
    cr_assert_eq(
        fx_inbox_spawn_monitor(ib, &(fx_spawn_opts){.handler = pred_start}, &a, &ref), 0);
    cr_assert_eq(fx_inbox_send(ib, a, 1, NULL, 0), 0); /* enters the receive */
    cr_assert_eq(fx_inbox_send(ib, a, 2, NULL, 0), 0); /* tested by the predicate */
    fx_msg *m;
    cr_assert_eq(
        fx_inbox_recv(ib, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, FX_INFINITY, &m),
        0);
    const fx_down_info *d = fx_msg_data(m);
    cr_assert(reason_starts(&d->reason, FX_EFAULT, "SIGSEGV"), "reason: %s",
              d->reason.text);
    fx_msg_free(m);
    /* The VM goes on. */
    fx_pid b;
    cr_assert_eq(
        fx_inbox_spawn_monitor(ib, &(fx_spawn_opts){.handler = pred_never}, &b, &ref), 0);
    cr_assert_eq(fx_vm_exit(vm, b, fx_reason_kill()), 0);
    cr_assert_eq(
        fx_inbox_recv(ib, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, FX_INFINITY, &m),
        0);
    fx_msg_free(m);
    fx_inbox_destroy(ib);
    fx_vm_shutdown(vm);
    fx_vm_destroy(vm);
}

/* A fault inside a user crash logger does not kill the VM: the logger is
 * abandoned and a minimal line goes to stderr instead. */
static void faulting_logger(void *arg, const fx_crash_report *r)
{
    (void) arg;
    /* Crashes only: a stuck report (a preempted handler on a loaded
     * machine) comes from the watchdog thread (tested on its own below). */
    if (r->kind == FX_REPORT_CRASH)
        *ag_wild = 1;
}

static fx_next stop_boom(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_error(3, "boom"));
}

Test(trap_faults, segv_in_the_crash_logger_is_contained, .init = cr_redirect_stderr)
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 1;
    cfg.trap_faults = true;
    cfg.crash_logger = faulting_logger;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&cfg, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    for (int round = 0; round < 2; round++) {
        fx_pid a;
        fx_ref ref;
        cr_assert_eq(
            fx_inbox_spawn_monitor(ib, &(fx_spawn_opts){.handler = stop_boom}, &a, &ref),
            0);
        cr_assert_eq(fx_inbox_send(ib, a, 1, NULL, 0), 0);
        fx_msg *m;
        cr_assert_eq(fx_inbox_recv(ib, &(fx_match){.type = FX_MSG_DOWN, .ref = ref},
                                   FX_INFINITY, &m),
                     0);
        const fx_down_info *d = fx_msg_data(m);
        cr_assert_eq(d->reason.code, 3, "the exit goes on with its own reason");
        fx_msg_free(m);
    }
    fx_inbox_destroy(ib);
    fx_vm_shutdown(vm);
    fx_vm_destroy(vm);
    fflush(stderr);
    cr_assert_stderr_neq_str("");
}

/* A user crash logger that faults while taking a stuck report runs on the
 * watchdog thread: with trap_faults that thread traps it as a scheduler
 * thread does (the logger is abandoned, one line on stderr) and the
 * watchdog goes on reporting. Before, the process died of the SIGSEGV. */
static atomic_int stuck_seen;

static void faulting_stuck_logger(void *arg, const fx_crash_report *r)
{
    (void) arg;
    if (r->kind == FX_REPORT_STUCK) {
        atomic_fetch_add(&stuck_seen, 1);
        *ag_wild = 1;
    }
}

/* Runs until the watchdog has reported `want` stuck calls (at most 20 s),
 * then answers `to`. */
typedef struct spin_req {
    int want;
    fx_pid to;
} spin_req;

static fx_next spin_until_reported(fx_ctx *cx, fx_msg *m)
{
    spin_req q;
    memcpy(&q, fx_msg_data(m), sizeof q);
    for (int i = 0; i < 20000 && atomic_load(&stuck_seen) < q.want; i++)
        usleep(1000);
    (void) fx_send(cx, q.to, 2, NULL, 0);
    return fx_continue(cx);
}

Test(trap_faults, segv_in_the_crash_logger_on_the_watchdog_thread_is_contained,
     .init = cr_redirect_stderr, .timeout = 60)
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    cfg.trap_faults = true;
    cfg.stuck_ms = 20;
    cfg.crash_logger = faulting_stuck_logger;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&cfg, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_pid a;
    cr_assert_eq(
        fx_vm_spawn_opt(vm, &(fx_spawn_opts){.handler = spin_until_reported}, &a), 0);
    /* Two stuck calls, one after the other: the second report shows the
     * watchdog survived the first fault. */
    for (int want = 1; want <= 2; want++) {
        spin_req q = {.want = want, .to = fx_inbox_pid(ib)};
        cr_assert_eq(fx_inbox_send(ib, a, 1, &q, sizeof q), 0);
        fx_msg *done = NULL;
        cr_assert_eq(fx_inbox_recv(ib, &(fx_match){.type = 2}, 30000, &done), 0);
        fx_msg_free(done);
        cr_assert_geq(atomic_load(&stuck_seen), want);
    }
    fx_inbox_destroy(ib);
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    fx_vm_destroy(vm);
    fflush(stderr);
    cr_assert_stderr_neq_str("");
}
