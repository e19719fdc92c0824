/* Crashing pool jobs: a trapped fault or fx_crash(NULL) in a job ends the
 * job (status FX_EFAULT / FX_ECRASHED, result FX_MSG_POOL_CRASH), its
 * done still runs, the pool thread keeps serving, and a blocking task
 * whose job crashed exits with the crash as its reason. Runs with the
 * fault suite's sanitizer options (the sanitizers must not take SIGSEGV). */
#include <stdatomic.h>
#include <unistd.h>

#include "helpers.h"

enum { RESULT = 7, GO = 9, TOLD };

static tvm crash_vm(bool trap)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.pool_max_threads = 1; /* one thread: the one that crashed must serve on */
    c.trap_faults = trap;
    c.crash_logger = fx_crash_logger_silent;
    return tvm_start_with(&c);
}

static int *volatile wild = (int *) (uintptr_t) 16;

static int segv_job(void *arg, fx_msg **result)
{
    (void) arg;
    /* A result built before the crash is dropped with the job. */
    (void) fx_msg_new(RESULT, 8, result);
    *wild = 1;
    return 0;
}

static int crash_job(void *arg, fx_msg **result)
{
    (void) result;
    fx_crash(NULL, "bad input %d", (int) (uintptr_t) arg);
}

static int ok_job(void *arg, fx_msg **result)
{
    (void) arg;
    uint64_t v = 42;
    if (fx_msg_new(RESULT, sizeof v, result) == 0)
        memcpy(fx_msg_data_mut(*result), &v, sizeof v);
    return 0;
}

static atomic_int dones;
static void count_done(void *arg)
{
    (void) arg;
    atomic_fetch_add(&dones, 1);
}

/* Receives the next outcome and checks it is a crash with code and text. */
static void expect_crash(tvm *t, int code, const char *text)
{
    fx_msg *m = tvm_recv(t, FX_MSG_POOL_DONE);
    fx_outcome h;
    const void *data;
    cr_assert_eq(fx_outcome_get(m, &h, &data), 0);
    cr_assert_eq(h.status, code, "status %s", fx_err_name(h.status));
    cr_assert_eq(h.type, FX_MSG_POOL_CRASH);
    cr_assert_eq(h.size, strlen(text) + 1);
    cr_assert_str_eq((const char *) data, text);
    fx_msg_free(m);
}

static void expect_ok(tvm *t)
{
    fx_msg *m = tvm_recv(t, FX_MSG_POOL_DONE);
    fx_outcome h;
    const void *data;
    cr_assert_eq(fx_outcome_get(m, &h, &data), 0);
    cr_assert_eq(h.status, 0);
    cr_assert_eq(h.type, RESULT);
    uint64_t v;
    memcpy(&v, data, sizeof v);
    cr_assert_eq(v, 42);
    fx_msg_free(m);
}

Test(pool_crash, segv_in_a_job_fails_the_job_and_the_thread_serves_on)
{
    tvm t = crash_vm(true);
    fx_pool_job bad = {.fn = segv_job, .done = count_done, .reply_to = t.me};
    fx_pool_job good = {.fn = ok_job, .done = count_done, .reply_to = t.me};
    for (int round = 0; round < 2; round++) { /* the second fault is trapped too */
        cr_assert_eq(fx_pool_submit(t.vm, &bad), 0);
        expect_crash(&t, FX_EFAULT, "SIGSEGV at 0x10");
        cr_assert_eq(fx_pool_submit(t.vm, &good), 0);
        expect_ok(&t);
    }
    cr_assert_eq(atomic_load(&dones), 4); /* done ran for the crashed jobs too */
    fx_pool_stats st;
    cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.threads, 1); /* the same thread served all four */
    cr_assert_eq(st.completed, 4);
    cr_assert_eq(st.crashed, 2);
    cr_assert_eq(st.failed, 2);
    tvm_stop(&t);
}

/* fx_crash(NULL) needs no trap_faults, as in a handler. */
Test(pool_crash, fx_crash_in_a_job_fails_the_job)
{
    for (int trap = 0; trap < 2; trap++) {
        tvm t = crash_vm(trap);
        fx_pool_job bad = {.fn = crash_job, .arg = (void *) 3, .reply_to = t.me};
        cr_assert_eq(fx_pool_submit(t.vm, &bad), 0);
        expect_crash(&t, FX_ECRASHED, "bad input 3");
        fx_pool_job good = {.fn = ok_job, .reply_to = t.me};
        cr_assert_eq(fx_pool_submit(t.vm, &good), 0);
        expect_ok(&t);
        tvm_stop(&t);
    }
}

static void crashing_done(void *arg)
{
    (void) arg;
    fx_crash(NULL, "in done");
}

Test(pool_crash, a_crash_in_done_is_the_jobs_crash)
{
    tvm t = crash_vm(false);
    fx_pool_job j = {.fn = ok_job, .done = crashing_done, .reply_to = t.me};
    cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    expect_crash(&t, FX_ECRASHED, "in done");
    fx_pool_job good = {.fn = ok_job, .reply_to = t.me};
    cr_assert_eq(fx_pool_submit(t.vm, &good), 0);
    expect_ok(&t);
    tvm_stop(&t);
}

/* An owner starts a nolink blocking task whose job faults and tells the
 * inbox what it got. */
typedef struct owner {
    fx_pid report;
    fx_task task;
} owner;

static fx_next owner_result(fx_ctx *cx, fx_msg *m)
{
    owner *o = fx_state(cx);
    fx_task_result r;
    if (fx_task_result_get(cx, o->task, m, &r) != 0)
        return fx_continue(cx);
    struct {
        int kind;
        fx_reason reason;
    } told = {r.kind, r.reason};
    (void) fx_send(cx, o->report, TOLD, &told, sizeof told);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next owner_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    owner *o = fx_state(cx);
    fx_task_opts opts = {.fn = segv_job, .blocking = true, .nolink = true};
    if (fx_task_async(cx, &opts, &o->task) != 0)
        return fx_stop(cx, fx_reason_error(1, "task start"));
    return fx_task_await(cx, o->task, owner_result, 10000);
}

Test(pool_crash, a_blocking_task_whose_job_faults_exits_with_the_fault)
{
    tvm t = crash_vm(true);
    owner o = {.report = t.me};
    fx_pid p = spawn_state(t.vm, owner_go, &o, sizeof o);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, TOLD);
    struct {
        int kind;
        fx_reason reason;
    } told;
    memcpy(&told, fx_msg_data(m), sizeof told);
    fx_msg_free(m);
    cr_assert_eq(told.kind, FX_TASK_EXITED);
    cr_assert_eq(told.reason.kind, FX_REASON_ERROR);
    cr_assert_eq(told.reason.code, FX_EFAULT);
    cr_assert_str_eq(told.reason.text, "SIGSEGV at 0x10");
    /* From outside the VM: the task died without an outcome. */
    fx_task_opts opts = {.fn = segv_job, .blocking = true};
    int status = 0;
    fx_msg *res = NULL;
    cr_assert_eq(fx_vm_task_run(t.vm, &opts, 10000, &status, &res), FX_EEXIT);
    tvm_stop(&t);
}

/* ---- deterministic mode: a job runs inline, its crash is still its own -- */

static tvm det_vm_sink(bool trap, fx_log_sink sink)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.deterministic = true;
    c.seed = 5;
    c.trap_faults = trap;
    c.crash_logger = fx_crash_logger_silent;
    c.log_sink = sink;
    return tvm_start_with(&c);
}

static tvm det_vm(bool trap)
{
    return det_vm_sink(trap, fx_log_sink_silent);
}

/* docs/testing.md: in deterministic mode a job "runs at once on the
 * submitting thread, and its outcome is sent as usual": a crash in it
 * fails the job, as on a pool thread, and not the test thread. */
Test(pool_crash, deterministic_inline_job_crash_from_the_test_thread)
{
    for (int trap = 0; trap < 2; trap++) {
        tvm t = det_vm(trap);
        fx_pool_job bad = {.fn = crash_job, .arg = (void *) 5, .reply_to = t.me};
        cr_assert_eq(fx_pool_submit(t.vm, &bad), 0);
        expect_crash(&t, FX_ECRASHED, "bad input 5");
        fx_pool_job good = {.fn = ok_job, .reply_to = t.me};
        cr_assert_eq(fx_pool_submit(t.vm, &good), 0);
        expect_ok(&t);
        fx_pool_stats st;
        cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
        cr_assert_eq(st.crashed, 1);
        tvm_stop(&t);
    }
}

/* From a handler: the job's crash (fx_crash(NULL), or a trapped fault)
 * is the job's, not the handler's; the submitting actor lives on and gets
 * the outcome. */
static fx_next submitter(fx_ctx *cx, fx_msg *m)
{
    fx_pid *test = fx_state(cx);
    if (fx_msg_type(m) == GO) {
        fx_pool_job bad = {.fn = crash_job, .arg = (void *) 6, .reply_to = fx_self(cx)};
        int rc = fx_pool_submit(fx_ctx_vm(cx), &bad);
        fx_pool_job segv = {.fn = segv_job, .reply_to = fx_self(cx)};
        if (rc == 0 && *(const int *) fx_msg_data(m))
            rc = fx_pool_submit(fx_ctx_vm(cx), &segv);
        if (rc != 0)
            fx_crash(cx, "submit: %s", fx_strerror(rc));
        return fx_continue(cx);
    }
    if (fx_msg_type(m) == FX_MSG_POOL_DONE) {
        fx_outcome h;
        int32_t status = fx_outcome_get(m, &h, NULL) == 0 ? h.status : 1;
        (void) fx_send(cx, *test, TOLD, &status, sizeof status);
    }
    return fx_continue(cx);
}

Test(pool_crash, deterministic_inline_job_crash_from_a_handler)
{
    for (int trap = 0; trap < 2; trap++) {
        tvm t = det_vm(trap);
        fx_pid p = spawn_state(t.vm, submitter, &t.me, sizeof t.me);
        cr_assert_eq(fx_vm_send(t.vm, p, GO, &trap, sizeof trap), 0);
        for (int i = 0; i <= trap; i++) {
            fx_msg *m = tvm_recv(&t, TOLD);
            int32_t status;
            memcpy(&status, fx_msg_data(m), sizeof status);
            fx_msg_free(m);
            cr_assert_eq(status, i == 0 ? FX_ECRASHED : FX_EFAULT, "trap %d, job %d: %s",
                         trap, i, fx_err_name(status));
        }
        cr_assert_eq(fx_is_alive(t.vm, p), 1, "the submitting actor crashed");
        tvm_stop(&t);
    }
}

/* A user log sink that crashes, called from an inline job: the log call
 * contains the crash (the job ends normally), and the submitting handler
 * can still crash on its own afterwards (its landing point is intact). */
static void crashing_sink(void *arg, const fx_log_event *ev)
{
    (void) arg;
    (void) ev;
    fx_crash(NULL, "sink");
}

static int logging_job(void *arg, fx_msg **result)
{
    *result = NULL;
    (void) fx_log(arg, FX_LOG_ERROR, "from a job");
    return 0;
}

static fx_next log_submitter(fx_ctx *cx, fx_msg *m)
{
    fx_pid *test = fx_state(cx);
    if (fx_msg_type(m) == GO) {
        fx_pool_job j = {
            .fn = logging_job, .arg = fx_ctx_vm(cx), .reply_to = fx_self(cx)};
        if (fx_pool_submit(fx_ctx_vm(cx), &j) != 0)
            fx_crash(cx, "submit");
        return fx_continue(cx);
    }
    if (fx_msg_type(m) == FX_MSG_POOL_DONE) {
        fx_outcome h;
        int32_t status = fx_outcome_get(m, &h, NULL) == 0 ? h.status : 1;
        (void) fx_send(cx, *test, TOLD, &status, sizeof status);
        return fx_continue(cx);
    }
    fx_crash(cx, "on purpose"); /* RESULT: lands at the handler's site */
}

Test(pool_crash, deterministic_inline_job_log_sink_crash_stays_in_the_log_call)
{
    tvm t = det_vm_sink(false, crashing_sink);
    fx_pid p = spawn_state(t.vm, log_submitter, &t.me, sizeof t.me);
    fx_ref mref;
    cr_assert_eq(fx_inbox_monitor(t.in, p, &mref), 0);
    cr_assert_eq(fx_vm_send(t.vm, p, GO, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, TOLD);
    int32_t status;
    memcpy(&status, fx_msg_data(m), sizeof status);
    fx_msg_free(m);
    cr_assert_eq(status, 0, "the job: %s", fx_err_name(status));
    cr_assert_eq(fx_vm_send(t.vm, p, RESULT, NULL, 0), 0);
    m = tvm_recv(&t, FX_MSG_DOWN);
    fx_msg_free(m);
    cr_assert_eq(fx_is_alive(t.vm, p), 0);
    tvm_stop(&t);
}
