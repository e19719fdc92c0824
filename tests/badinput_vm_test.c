/* Bad-input table: vm.h, error.h, reason.h, report.h, app.h.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- vm.h ---------------------------------------------------------------- */

Test(bi_vm, config_init_null, .description = "fx_vm_config_init | cfg NULL | ignored")
{
    fx_vm_config_init(NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, create_null_out, .description = "fx_vm_create | out NULL | FX_EINVAL")
{
    bi_expect(fx_vm_create(NULL, NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, create_version_zero,
     .description = "fx_vm_create | cfg->version 0 | FX_EVERSION, *out NULL")
{
    fx_vm_config c = bi_config();
    c.version = 0;
    fx_vm *vm = (fx_vm *) 1;
    bi_expect(fx_vm_create(&c, &vm), FX_EVERSION);
    cr_assert_null(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, create_version_future,
     .description = "fx_vm_create | cfg->version 99 | FX_EVERSION")
{
    fx_vm_config c = bi_config();
    c.version = 99;
    fx_vm *vm = NULL;
    bi_expect(fx_vm_create(&c, &vm), FX_EVERSION);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, create_absurd_threads,
     .description = "fx_vm_create | threads 1,000,000 | FX_EINVAL")
{
    fx_vm_config c = bi_config();
    c.threads = 1000000;
    fx_vm *vm = NULL;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, create_absurd_msg_size,
     .description = "fx_vm_create | max_msg_size SIZE_MAX | FX_EINVAL")
{
    fx_vm_config c = bi_config();
    c.max_msg_size = SIZE_MAX;
    fx_vm *vm = NULL;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, create_absurd_stuck_limit,
     .description =
         "fx_vm_create | stuck_ms 3,600,001 (over an hour, not FX_WATCHDOG_OFF) | "
         "FX_EINVAL")
{
    fx_vm_config c = bi_config();
    c.stuck_ms = 3600001;
    fx_vm *vm = NULL;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, create_absurd_spares,
     .description = "fx_vm_create | spare_threads 1,023 (threads + spares over 1,023) | "
                    "FX_EINVAL")
{
    fx_vm_config c = bi_config();
    c.spare_threads = 1023;
    fx_vm *vm = NULL;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, create_absurd_pool_idle,
     .description = "fx_vm_create | pool_idle_ms 3,600,001 (over an hour) | FX_EINVAL")
{
    fx_vm_config c = bi_config();
    c.pool_idle_ms = 3600001;
    fx_vm *vm = NULL;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, create_absurd_io_spin,
     .description = "fx_vm_create | io_spin_us 1,001 (over a millisecond; "
                    "FX_IO_SPIN_OFF is allowed) | FX_EINVAL")
{
    fx_vm_config c = bi_config();
    c.io_spin_us = 1001;
    fx_vm *vm = NULL;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, start_null, .description = "fx_vm_start | vm NULL | FX_EINVAL")
{
    bi_expect(fx_vm_start(NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, start_twice, .description = "fx_vm_start | already started | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_vm_start(t.vm), FX_EINVAL);
    bi_end(&t);
}

Test(bi_vm, start_after_shutdown,
     .description =
         "fx_vm_start | after shutdown (of a started VM; of one never started) "
         "| FX_ESHUTDOWN")
{
    fx_vm *vm = bi_dead_vm(NULL);
    bi_expect(fx_vm_start(vm), FX_ESHUTDOWN);
    bi_expect(fx_vm_running(vm), 0);
    fx_vm_destroy(vm);
    fx_vm_config c = bi_config();
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    bi_expect(fx_vm_start(vm), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

static int run_vm_start(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_vm_start(fx_ctx_vm(cx));
}

Test(bi_vm, start_from_handler,
     .description = "fx_vm_start | from a handler (outside-only) | FX_EINVAL (already "
                    "started; header names no code)")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_vm_start, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_vm, shutdown_null, .description = "fx_vm_shutdown | vm NULL | FX_EINVAL")
{
    bi_expect(fx_vm_shutdown(NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, shutdown_twice,
     .description = "fx_vm_shutdown | second call | 0 (idempotent)")
{
    fx_vm *vm = bi_dead_vm(NULL);
    bi_expect(fx_vm_shutdown(vm), 0);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, shutdown_never_started, .description = "fx_vm_shutdown | never started | 0")
{
    fx_vm *vm;
    fx_vm_config c = bi_config();
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    bi_expect(fx_vm_shutdown(vm), 0);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

static int run_vm_shutdown(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_vm_shutdown(fx_ctx_vm(cx));
}

Test(bi_vm, shutdown_from_handler,
     .description = "fx_vm_shutdown | from a handler | FX_ECONTEXT")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_vm_shutdown, NULL), FX_ECONTEXT);
    bi_end(&t);
}

Test(bi_vm, destroy_null, .description = "fx_vm_destroy | vm NULL | ignored")
{
    fx_vm_destroy(NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, destroy_never_started,
     .description = "fx_vm_destroy | never started | frees it")
{
    fx_vm *vm;
    fx_vm_config c = bi_config();
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, threads_null, .description = "fx_vm_threads | vm NULL | 0")
{
    cr_assert_eq(fx_vm_threads(NULL), 0);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, stats_null, .description = "fx_vm_stats_get | vm or out NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_vm_stats s;
    bi_expect(fx_vm_stats_get(NULL, &s), FX_EINVAL);
    bi_expect(fx_vm_stats_get(t.vm, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_vm, stats_after_shutdown,
     .description = "fx_vm_stats_get | after shutdown | 0, processes 0")
{
    fx_vm *vm = bi_dead_vm(NULL);
    fx_vm_stats s;
    bi_expect(fx_vm_stats_get(vm, &s), 0);
    cr_assert_eq(s.processes, 0);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, shutdown_time_left_null,
     .description = "fx_vm_shutdown_time_left | vm or ms NULL | FX_EINVAL")
{
    tvm t = bi_start();
    int64_t ms = 0;
    bi_expect(fx_vm_shutdown_time_left(NULL, &ms), FX_EINVAL);
    bi_expect(fx_vm_shutdown_time_left(t.vm, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_vm, shutdown_time_left_no_shutdown,
     .description = "fx_vm_shutdown_time_left | no shutdown begun (created; running) | "
                    "FX_ENOENT, *ms untouched")
{
    fx_vm *vm;
    fx_vm_config c = bi_config();
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    int64_t ms = 5;
    bi_expect(fx_vm_shutdown_time_left(vm, &ms), FX_ENOENT);
    cr_assert_eq(ms, 5);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_expect(fx_vm_shutdown_time_left(t.vm, &ms), FX_ENOENT);
    cr_assert_eq(ms, 5);
    bi_end(&t);
}

static const char bi_key, bi_key2;

Test(bi_vm, attach_null, .description = "fx_vm_attach | vm or key NULL | FX_EINVAL")
{
    tvm t = bi_start();
    int v;
    bi_expect(fx_vm_attach(NULL, &bi_key, &v, NULL), FX_EINVAL);
    bi_expect(fx_vm_attach(t.vm, NULL, &v, NULL), FX_EINVAL);
    bi_end(&t);
}

static const char bi_key_nullv;

Test(bi_vm, attach_null_value,
     .description = "fx_vm_attach | value NULL (twice under one key) | FX_EINVAL both "
                    "times, nothing attached")
{
    tvm t = bi_start();
    bi_expect(fx_vm_attach(t.vm, &bi_key_nullv, NULL, NULL), FX_EINVAL);
    bi_expect(fx_vm_attach(t.vm, &bi_key_nullv, NULL, NULL), FX_EINVAL);
    cr_assert_null(fx_vm_attached(t.vm, &bi_key_nullv));
    int v = 1;
    bi_expect(fx_vm_attach(t.vm, &bi_key_nullv, &v, NULL), 0);
    bi_end(&t);
}

Test(bi_vm, attach_twice,
     .description = "fx_vm_attach | key already attached | FX_EEXIST, first value kept")
{
    tvm t = bi_start();
    int a, b;
    bi_expect(fx_vm_attach(t.vm, &bi_key, &a, NULL), 0);
    bi_expect(fx_vm_attach(t.vm, &bi_key, &b, NULL), FX_EEXIST);
    cr_assert_eq(fx_vm_attached(t.vm, &bi_key), &a);
    bi_end(&t);
}

Test(bi_vm, attach_after_shutdown,
     .description = "fx_vm_attach | after shutdown | FX_ESHUTDOWN")
{
    fx_vm *vm = bi_dead_vm(NULL);
    int a;
    bi_expect(fx_vm_attach(vm, &bi_key, &a, NULL), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, attached_null,
     .description = "fx_vm_attached | vm or key NULL, unknown key | NULL")
{
    tvm t = bi_start();
    cr_assert_null(fx_vm_attached(NULL, &bi_key));
    cr_assert_null(fx_vm_attached(t.vm, NULL));
    cr_assert_null(fx_vm_attached(t.vm, &bi_key2));
    bi_end(&t);
}

static int run_vm_running(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_vm_running(fx_ctx_vm(cx));
}

Test(bi_vm, running_states,
     .description = "fx_vm_running | vm NULL; created, not started; running (also from a "
                    "handler); after shutdown | FX_EINVAL; 0; 1; 0")
{
    bi_expect(fx_vm_running(NULL), FX_EINVAL);
    fx_vm *vm;
    fx_vm_config c = bi_config();
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    bi_expect(fx_vm_running(vm), 0);
    fx_vm_destroy(vm);
    vm = bi_dead_vm(NULL);
    bi_expect(fx_vm_running(vm), 0);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_expect(fx_vm_running(t.vm), 1);
    bi_expect(bi_in_handler(&t, run_vm_running, NULL), 1);
    bi_end(&t);
}

Test(bi_vm, on_scheduler_null,
     .description = "fx_vm_on_scheduler | vm NULL | 0 (header silent)")
{
    cr_assert_eq(fx_vm_on_scheduler(NULL), 0);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, is_alive_null, .description = "fx_is_alive | vm NULL | FX_EINVAL")
{
    bi_expect(fx_is_alive(NULL, BI_GARBAGE_PID), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, is_alive_bad_pids,
     .description = "fx_is_alive | FX_PID_NONE, garbage pid, stale pid | 0")
{
    tvm t = bi_start();
    cr_assert_eq(fx_is_alive(t.vm, FX_PID_NONE), 0);
    cr_assert_eq(fx_is_alive(t.vm, BI_GARBAGE_PID), 0);
    cr_assert_eq(fx_is_alive(t.vm, bi_stale(&t)), 0);
    bi_end(&t);
}

Test(bi_vm, is_alive_after_shutdown, .description = "fx_is_alive | after shutdown | 0")
{
    fx_pid p;
    fx_vm *vm = bi_dead_vm(&p);
    cr_assert_eq(fx_is_alive(vm, p), 0);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

/* --- error.h ---------------------------------------------------------------- */

Test(bi_error, strerror_unknown,
     .description = "fx_strerror | unknown code (12345, INT_MIN) | \"unknown error\"")
{
    cr_assert_str_eq(fx_strerror(12345), "unknown error");
    cr_assert_str_eq(fx_strerror(INT_MIN), "unknown error");
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_error, err_name_unknown,
     .description = "fx_err_name | unknown code; 0 | \"FX_E?\"; \"FX_OK\"")
{
    cr_assert_str_eq(fx_err_name(12345), "FX_E?");
    cr_assert_str_eq(fx_err_name(INT_MIN), "FX_E?");
    cr_assert_str_eq(fx_err_name(0), "FX_OK");
    tvm t = bi_start();
    bi_end(&t);
}

/* --- reason.h --------------------------------------------------------------- */

Test(bi_reason, constructors,
     .description = "fx_reason_normal, _shutdown, _killed, _noproc, _timeout, _kill | "
                    "(no arguments) | their kind")
{
    cr_assert_eq(fx_reason_normal().kind, FX_REASON_NORMAL);
    cr_assert_eq(fx_reason_shutdown().kind, FX_REASON_SHUTDOWN);
    cr_assert_eq(fx_reason_killed().kind, FX_REASON_KILLED);
    cr_assert_eq(fx_reason_noproc().kind, FX_REASON_NOPROC);
    cr_assert_eq(fx_reason_timeout().kind, FX_REASON_TIMEOUT);
    cr_assert_eq(fx_reason_kill().kind, FX_REASON_KILL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_reason, error_null_fmt,
     .description = "fx_reason_error | fmt NULL | error reason, empty text")
{
    fx_reason r = fx_reason_error(7, NULL);
    cr_assert_eq(r.kind, FX_REASON_ERROR);
    cr_assert_eq(r.code, 7);
    cr_assert_str_eq(r.text, "");
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_reason, error_long_text,
     .description =
         "fx_reason_error | text over FX_REASON_TEXT_MAX | truncated, NUL-terminated")
{
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    fx_reason r = fx_reason_error(1, "%s", big);
    cr_assert_eq(strlen(r.text), FX_REASON_TEXT_MAX - 1);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_reason, shutdown_with_null,
     .description = "fx_reason_shutdown_with | fmt NULL; text over the max | shutdown, "
                    "empty; truncated")
{
    fx_reason r = fx_reason_shutdown_with(NULL);
    cr_assert_eq(r.kind, FX_REASON_SHUTDOWN);
    cr_assert_str_eq(r.text, "");
    char big[300];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    r = fx_reason_shutdown_with("%s", big);
    cr_assert_eq(strlen(r.text), FX_REASON_TEXT_MAX - 1);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_reason, predicates_null,
     .description = "fx_reason_is_normal, fx_reason_is_clean, fx_reason_eq | NULL | "
                    "false; eq(NULL, NULL) true (header silent)")
{
    fx_reason n = fx_reason_normal();
    cr_assert_not(fx_reason_is_normal(NULL));
    cr_assert_not(fx_reason_is_clean(NULL));
    cr_assert_not(fx_reason_eq(NULL, &n));
    cr_assert_not(fx_reason_eq(&n, NULL));
    cr_assert(fx_reason_eq(NULL, NULL));
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_reason, format_bad,
     .description = "fx_reason_format | r NULL; buf NULL size 0; garbage kind | "
                    "FX_EINVAL; needed length; no crash")
{
    char buf[8];
    fx_reason r = fx_reason_error(3, "boom");
    bi_expect(fx_reason_format(NULL, buf, sizeof buf), FX_EINVAL);
    int need = fx_reason_format(&r, NULL, 0);
    cr_assert_eq(need, (int) strlen("{error,3,\"boom\"}"));
    cr_assert_eq(fx_reason_format(&r, buf, sizeof buf), need);
    cr_assert_eq(strlen(buf), sizeof buf - 1);
    r.kind = 12345;
    cr_assert_geq(fx_reason_format(&r, buf, sizeof buf), FX_EINVAL);
    r.kind = -5;
    cr_assert_geq(fx_reason_format(&r, buf, sizeof buf), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

/* --- report.h ------------------------------------------------------------- */

Test(bi_report, report_format_null,
     .description = "fx_crash_report_format | report NULL; buf NULL size 0 | FX_EINVAL; "
                    "needed length")
{
    char buf[4];
    bi_expect(fx_crash_report_format(NULL, buf, sizeof buf), FX_EINVAL);
    fx_crash_report r = {.pid = {5}, .reason = fx_reason_normal(), .label = NULL};
    int need = fx_crash_report_format(&r, NULL, 0);
    cr_assert_gt(need, 0);
    cr_assert_eq(fx_crash_report_format(&r, buf, sizeof buf), need);
    cr_assert_eq(strlen(buf), sizeof buf - 1);
    tvm t = bi_start();
    bi_end(&t);
}

Test(
    bi_report, pid_format_null,
    .description = "fx_pid_format | buf NULL size 0; tiny buf | needed length (snprintf)")
{
    char buf[3];
    int need = fx_pid_format(BI_GARBAGE_PID, NULL, 0);
    cr_assert_gt(need, 0);
    cr_assert_eq(fx_pid_format(BI_GARBAGE_PID, buf, sizeof buf), need);
    cr_assert_eq(strlen(buf), 2);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_report, logger_silent_null,
     .description = "fx_crash_logger_silent | report NULL | ignored")
{
    fx_crash_logger_silent(NULL, NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_report, logger_stderr_garbage_label,
     .description = "fx_crash_logger_stderr | report with NULL label, error kind 12345 | "
                    "one line, no crash")
{
    fx_crash_report r = {.pid = BI_GARBAGE_PID, .reason = fx_reason_error(1, "x")};
    r.reason.kind = 12345;
    fx_crash_logger_stderr(NULL, &r);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_report, logger_stderr_null,
     .description = "fx_crash_logger_stderr | report NULL | ignored: nothing written")
{
    /* Point stderr at a temporary file for the call. */
    FILE *tmp = tmpfile();
    cr_assert_not_null(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    cr_assert_geq(saved, 0);
    cr_assert_eq(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);
    fx_crash_logger_stderr(NULL, NULL);
    fflush(stderr);
    cr_assert_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    struct stat st;
    cr_assert_eq(fstat(fileno(tmp), &st), 0);
    cr_assert_eq(st.st_size, 0, "fx_crash_logger_stderr(NULL, NULL) wrote %lld bytes",
                 (long long) st.st_size);
    fclose(tmp);
    tvm t = bi_start();
    bi_end(&t);
}

/* --- app.h ------------------------------------------------------------------ */

Test(bi_app, run_null, .description = "fx_app_run | spec NULL | FX_APP_NOSTART")
{
    cr_assert_eq(fx_app_run(NULL), FX_APP_NOSTART);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_app, run_bad_root,
     .description = "fx_app_run | root spec period 0 (bad spec) | FX_APP_NOSTART")
{
    fx_app_spec s;
    memset(&s, 0, sizeof s);
    fx_sup_spec_init(&s.root);
    s.root.period_ms = 0;
    s.no_signals = true;
    cr_assert_eq(fx_app_run(&s), FX_APP_NOSTART);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_app, run_bad_vm_config,
     .description = "fx_app_run | vm config version 99 | FX_APP_NOSTART")
{
    fx_app_spec s;
    memset(&s, 0, sizeof s);
    fx_sup_spec_init(&s.root);
    fx_vm_config c = bi_config();
    c.version = 99;
    s.vm = &c;
    s.no_signals = true;
    cr_assert_eq(fx_app_run(&s), FX_APP_NOSTART);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_app, stop_null, .description = "fx_app_stop | vm NULL | FX_EINVAL")
{
    bi_expect(fx_app_stop(NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_app, stop_no_app,
     .description = "fx_app_stop | vm not running an application | FX_ENOENT")
{
    tvm t = bi_start();
    bi_expect(fx_app_stop(t.vm), FX_ENOENT);
    bi_end(&t);
}

static int run_app_stop(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_app_stop(fx_ctx_vm(cx));
}

Test(bi_app, stop_from_handler,
     .description = "fx_app_stop | from a handler, no application | FX_ENOENT")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_app_stop, NULL), FX_ENOENT);
    bi_end(&t);
}

Test(bi_app, stop_after_shutdown,
     .description =
         "fx_app_stop | after shutdown | FX_ENOENT (header names no FX_ESHUTDOWN)")
{
    fx_vm *vm = bi_dead_vm(NULL);
    bi_expect(fx_app_stop(vm), FX_ENOENT);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_vm, max_msg_size_states,
     .description =
         "fx_vm_max_msg_size | vm NULL; a VM; after shutdown | 0; the config's "
         "max_msg_size; the same")
{
    cr_assert_eq(fx_vm_max_msg_size(NULL), 0);
    tvm t = bi_start();
    cr_assert_eq(fx_vm_max_msg_size(t.vm), BI_MAX_MSG);
    bi_end(&t);
    fx_vm *vm = bi_dead_vm(NULL);
    cr_assert_eq(fx_vm_max_msg_size(vm), BI_MAX_MSG);
    fx_vm_destroy(vm);
}

/* --- from a fork()ed child (docs/failures.md, "fork") ------------------- */

/* Made before the fork: a forked child of a threaded process must not
 * allocate (a parent thread may have held the allocator's lock). */
static fx_msg *fork_msg;

static int fork_send(tvm *t)
{
    BI_FORKED(fx_vm_send(t->vm, t->me, 1, "x", 1));
    BI_FORKED(fx_vm_send_msg(t->vm, t->me, fork_msg));
    fx_msg_free(fork_msg); /* refused: still ours (a double free would abort) */
    return FX_EFORKED;
}

Test(bi_vm, send_from_forked_child,
     .description = "fx_vm_send, _send_msg | from a fork()ed child (the VM's threads are "
                    "not there) | FX_EFORKED, the message stays with the caller")
{
    tvm t = bi_start();
    cr_assert_eq(fx_msg_new(1, 1, &fork_msg), 0);
    int rc = bi_in_child(&t, fork_send);
    fx_msg_free(fork_msg);
    bi_expect(rc, FX_EFORKED);
    bi_end(&t);
}

static int fork_spawn(tvm *t)
{
    fx_pid p;
    BI_FORKED(fx_vm_spawn(t->vm, bi_echo, NULL, &p));
    BI_FORKED(fx_vm_spawn_opt(t->vm, &(fx_spawn_opts){.handler = bi_echo}, &p));
    BI_FORKED(fx_vm_exit(t->vm, t->me, fx_reason_kill()));
    return FX_EFORKED;
}

Test(bi_vm, spawn_from_forked_child,
     .description = "fx_vm_spawn, _spawn_opt, _exit | from a fork()ed child | FX_EFORKED")
{
    tvm t = bi_start();
    bi_expect(bi_in_child(&t, fork_spawn), FX_EFORKED);
    bi_end(&t);
}

static int fork_lifecycle(tvm *t)
{
    fx_vm_stats st;
    BI_FORKED(fx_vm_stats_get(t->vm, &st));
    BI_FORKED(fx_vm_running(t->vm));
    BI_FORKED(fx_vm_start(t->vm));
    BI_FORKED(fx_vm_shutdown(t->vm));
    return FX_EFORKED;
}

Test(bi_vm, lifecycle_from_forked_child,
     .description =
         "fx_vm_running, _start, _shutdown, _stats_get | from a fork()ed child "
         "| FX_EFORKED")
{
    tvm t = bi_start();
    bi_expect(bi_in_child(&t, fork_lifecycle), FX_EFORKED);
    bi_end(&t);
}

static int fork_destroy(tvm *t)
{
    fx_vm_destroy(t->vm);
    return 0;
}

Test(bi_vm, destroy_from_forked_child,
     .description =
         "fx_vm_destroy | from a fork()ed child | returns at once, frees nothing "
         "(the child's copy is left to its exit)")
{
    tvm t = bi_start();
    bi_expect(bi_in_child(&t, fork_destroy), 0);
    bi_end(&t);
}
