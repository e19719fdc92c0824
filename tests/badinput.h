/* Shared fixtures of the bad-input table (tests/badinput_*_test.c).
 *
 * Every row is one Criterion Test whose .description is
 * "function | bad input | documented result"; tools/badinput_table.py
 * turns those into docs/bad-input.md. A row calls the function with the
 * bad input, asserts the code the header documents, and ends with
 * bi_end(), which checks the VM still works (a spawn, a send and a reply
 * round trip, and a GenServer call) before shutting it down. */
#ifndef FAUXTP_TEST_BADINPUT_H
#define FAUXTP_TEST_BADINPUT_H

#include "helpers.h"

#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

/* A pid that was never handed out in any VM: index and generation far
 * beyond anything a test spawns. */
#define BI_GARBAGE_PID ((fx_pid){0x7eadbeef00abcdefull})
/* Absurd timeouts: 2e13 ms (634 years, past the ~1.8e13 ms where a
 * milliseconds-to-nanoseconds product overflows) and INT64_MAX; both
 * count as FX_TIMEOUT_MAX. */
static const int64_t bi_absurd[] = {20000000000000, INT64_MAX};
#define BI_ABSURD_N 2
/* Larger than the bi VMs' max_msg_size (BI_MAX_MSG). */
#define BI_MAX_MSG 4096u

static fx_next bi_echo(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), fx_msg_type(m), fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

static fx_gs_ret bi_gs_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = NULL;
    return fx_gs_ok(cx);
}

static fx_gs_ret bi_gs_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                            const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) type;
    return fx_gs_reply(cx, data, size);
}

static fx_gs_ret bi_gs_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                            size_t size)
{
    (void) state;
    (void) type;
    (void) data;
    (void) size;
    return fx_gs_noreply(cx);
}

/* An echo GenServer: replies to every call with its request. */
static const fx_gs_ops bi_gs_ops = {
    .init = bi_gs_init, .handle_call = bi_gs_call, .handle_cast = bi_gs_cast};

static inline fx_vm_config bi_config(void)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.max_msg_size = BI_MAX_MSG;
    c.crash_logger = fx_crash_logger_silent;
    c.log_sink = fx_log_sink_silent;
    return c;
}

static inline tvm bi_start(void)
{
    fx_vm_config c = bi_config();
    return tvm_start_with(&c);
}

static inline fx_pid bi_gs(tvm *t)
{
    fx_gs_spec s = {.ops = &bi_gs_ops};
    fx_pid p;
    int rc = fx_gs_start(t->in, &s, &p, NULL);
    cr_assert_eq(rc, 0, "gs start: %s", fx_err_name(rc));
    return p;
}

/* The VM still spawns, delivers, and answers a GenServer call. */
static inline void bi_healthy(tvm *t)
{
    fx_pid p;
    int rc = fx_vm_spawn(t->vm, bi_echo, NULL, &p);
    cr_assert_eq(rc, 0, "healthy: spawn: %s", fx_err_name(rc));
    uint64_t v = 0x5eed;
    cr_assert_eq(fx_inbox_send(t->in, p, 7, &v, sizeof v), 0, "healthy: send");
    fx_match m = {.type = 7, .from = p};
    fx_msg *msg = NULL;
    rc = fx_inbox_recv(t->in, &m, 10000, &msg);
    cr_assert_eq(rc, 0, "healthy: echo: %s", fx_err_name(rc));
    cr_assert_eq(*(const uint64_t *) fx_msg_data(msg), v);
    fx_msg_free(msg);
    cr_assert_eq(fx_vm_exit(t->vm, p, fx_reason_kill()), 0, "healthy: exit");
    fx_pid gs = bi_gs(t);
    fx_msg *reply = NULL;
    rc = fx_gs_call(t->in, gs, 1, &v, sizeof v, 10000, &reply, NULL);
    cr_assert_eq(rc, 0, "healthy: gs call: %s", fx_err_name(rc));
    cr_assert_eq(*(const uint64_t *) fx_msg_data(reply), v);
    fx_msg_free(reply);
    rc = fx_gs_stop_server(t->in, gs, fx_reason_normal(), 10000, NULL);
    cr_assert_eq(rc, 0, "healthy: gs stop: %s", fx_err_name(rc));
}

/* Checks health, then shuts down and frees the VM. */
static inline void bi_end(tvm *t)
{
    bi_healthy(t);
    tvm_stop(t);
}

/* A VM that has been shut down (its inbox already destroyed), for the
 * "after shutdown" rows; *stale gets a pid that lived in it. The caller
 * fx_vm_destroy()s it. */
static inline fx_vm *bi_dead_vm(fx_pid *stale)
{
    tvm t = bi_start();
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &p), 0);
    if (stale)
        *stale = p;
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    return t.vm;
}

/* A pid that lived in t's VM and has exited (stale). */
static inline fx_pid bi_stale(tvm *t)
{
    fx_pid p;
    fx_ref r;
    fx_spawn_opts o = {.handler = bi_echo};
    cr_assert_eq(fx_inbox_spawn_monitor(t->in, &o, &p, &r), 0);
    cr_assert_eq(fx_vm_exit(t->vm, p, fx_reason_kill()), 0);
    fx_match m = {.type = FX_MSG_DOWN, .ref = r};
    fx_msg *msg = NULL;
    cr_assert_eq(fx_inbox_recv(t->in, &m, 10000, &msg), 0);
    fx_msg_free(msg);
    cr_assert_eq(fx_is_alive(t->vm, p), 0);
    return p;
}

/* --- Running a call inside a handler ------------------------------------ */

/* A job run by a one-shot actor: either `run` (its int result is sent to
 * the owner), or `run_next`, whose continuation's outcome `decode` turns
 * into the int sent to the owner. */
typedef struct bi_job {
    fx_pid owner;
    int (*run)(fx_ctx *cx, void *arg);
    fx_next (*run_next)(fx_ctx *cx, void *arg, fx_handler then);
    int (*decode)(fx_ctx *cx, fx_msg *msg, void *arg);
    void *arg;
} bi_job;

#define BI_RESULT 0x7001u

static fx_next bi_job_then(fx_ctx *cx, fx_msg *m)
{
    bi_job *j = fx_state(cx);
    int64_t rc = j->decode(cx, m, j->arg);
    fx_send(cx, j->owner, BI_RESULT, &rc, sizeof rc);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next bi_job_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    bi_job *j = fx_state(cx);
    if (j->run_next)
        return j->run_next(cx, j->arg, bi_job_then);
    int64_t rc = j->run(cx, j->arg);
    fx_send(cx, j->owner, BI_RESULT, &rc, sizeof rc);
    return fx_stop(cx, fx_reason_normal());
}

/* Runs the job in a fresh actor and returns its result (fails the test
 * if none comes within 10 s). */
static inline int64_t bi_run(tvm *t, bi_job *j)
{
    j->owner = t->me;
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t->vm, bi_job_go, j, &p), 0);
    cr_assert_eq(fx_inbox_send(t->in, p, 1, NULL, 0), 0);
    return (int64_t) tvm_recv_u64(t, BI_RESULT);
}

static inline int64_t bi_in_handler(tvm *t, int (*run)(fx_ctx *, void *), void *arg)
{
    bi_job j = {.run = run, .arg = arg};
    return bi_run(t, &j);
}

static inline int64_t bi_in_handler_next(tvm *t,
                                         fx_next (*run)(fx_ctx *, void *, fx_handler),
                                         int (*decode)(fx_ctx *, fx_msg *, void *),
                                         void *arg)
{
    bi_job j = {.run_next = run, .decode = decode, .arg = arg};
    return bi_run(t, &j);
}

/* Runs run(t) in a fork()ed child of this process and returns what it
 * returned (an error code, 0 or negative, carried by the exit status);
 * fails the test if the child hangs (30 s alarm) or dies of a signal. */
static inline int bi_in_child(tvm *t, int (*run)(tvm *t))
{
    pid_t c = fork();
    cr_assert_neq(c, -1);
    if (c == 0) {
        alarm(30);
        int rc = run(t);
        _exit(rc <= 0 && rc > -128 ? -rc : 255);
    }
    int st = 0;
    cr_assert_eq(waitpid(c, &st, 0), c);
    cr_assert(WIFEXITED(st), "the child died of signal %d", WTERMSIG(st));
    return -WEXITSTATUS(st);
}

/* Asserts rc == want, naming both codes. */
#define bi_expect(rc, want)                                                              \
    do {                                                                                 \
        int64_t bi_rc_ = (rc);                                                           \
        cr_assert_eq(bi_rc_, (int64_t) (want), "got %s (%lld), documented %s",           \
                     fx_err_name((int) bi_rc_), (long long) bi_rc_, #want);              \
    } while (0)

/* In a bi_in_child function: returns the first result of expr that is
 * not FX_EFORKED (0 becomes 1, so a success reads as a failure), else
 * carries on. */
#define BI_FORKED(expr)                                                                  \
    do {                                                                                 \
        int rc_ = (expr);                                                                \
        if (rc_ != FX_EFORKED)                                                           \
            return rc_ == 0 ? 1 : rc_;                                                   \
    } while (0)

#endif
