/* GenServer and gen_statem answers given in the wrong callback (OTP's
 * bad_return_value), a dropped timeout, and the signal mask of the
 * blocking pool's threads (app.h: fx_app_run's signals stay blocked in
 * every thread of its VM). review13_gs and review13_app hold the first
 * cases found; these are the rest of the same gaps. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helpers.h"

enum { A_OK = 1, A_STOP_REPLY, A_NOREPLY, A_IGNORE, A_CONTINUE };

/* init answers what its arg says (A_OK: fx_gs_ok). */
static fx_gs_ret a_init(fx_ctx *cx, void *arg, void **state)
{
    *state = NULL;
    switch ((int) (intptr_t) arg) {
    case A_STOP_REPLY:
        return fx_gs_stop_reply(cx, fx_reason_normal(), "x", 1);
    case A_NOREPLY:
        return fx_gs_noreply(cx);
    default:
        return fx_gs_ok(cx);
    }
}

/* A message's type is the answer to give; A_CONTINUE asks for a continue
 * that answers fx_gs_ok. */
static fx_gs_ret a_info(fx_ctx *cx, void *state, fx_msg *m)
{
    (void) state;
    switch (fx_msg_type(m)) {
    case A_OK:
        return fx_gs_ok(cx);
    case A_CONTINUE:
        return fx_gs_with_continue(fx_gs_noreply(cx), A_OK);
    default:
        return fx_gs_noreply(cx);
    }
}

static fx_gs_ret a_continue(fx_ctx *cx, void *state, uint64_t cont)
{
    (void) state;
    return cont == A_OK ? fx_gs_ok(cx) : fx_gs_noreply(cx);
}

static fx_gs_ret a_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size)
{
    (void) state, (void) data, (void) size;
    return type == A_IGNORE ? fx_gs_ignore(cx) : fx_gs_noreply(cx);
}

static const fx_gs_ops a_ops = {.init = a_init,
                                .handle_info = a_info,
                                .handle_cast = a_cast,
                                .handle_continue = a_continue};

static void expect_reason(fx_reason got, const char *text)
{
    char buf[160];
    fx_reason_format(&got, buf, sizeof buf);
    cr_expect(got.kind == FX_REASON_ERROR && got.code == FX_EINVAL &&
                  strcmp(got.text, text) == 0,
              "exited with %s, want {error, EINVAL, \"%s\"}", buf, text);
}

/* Starts a server (init fx_gs_ok), sends it `type` (as a plain message, or
 * a cast) and answers its exit reason. */
static fx_reason exit_after(tvm *t, uint32_t type, bool cast)
{
    fx_gs_spec spec = {.ops = &a_ops, .arg = (void *) (intptr_t) A_OK};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t->in, &spec, &s, NULL), 0);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t->in, s, &r), 0);
    if (cast)
        cr_assert_eq(fx_vm_gs_cast(t->vm, s, type, NULL, 0), 0);
    else
        cr_assert_eq(fx_vm_send(t->vm, s, type, NULL, 0), 0);
    fx_msg *m = tvm_recv(t, FX_MSG_DOWN);
    fx_down_info d;
    memcpy(&d, fx_msg_data(m), sizeof d);
    fx_msg_free(m);
    return d.reason;
}

Test(gs_answers, ok_from_info_or_continue_is_a_bad_return_value)
{
    tvm t = tvm_start_quiet(1);
    expect_reason(exit_after(&t, A_OK, false), "bad_return_value: ok outside init");
    expect_reason(exit_after(&t, A_CONTINUE, false), "bad_return_value: ok outside init");
    tvm_stop(&t);
}

Test(gs_answers, ignore_outside_init_stops_the_server)
{
    tvm t = tvm_start_quiet(1);
    expect_reason(exit_after(&t, A_IGNORE, true), "fx_gs_ignore outside init");
    tvm_stop(&t);
}

/* init's answers are ok, ignore and stop: fx_gs_stop_reply (handle_call's)
 * and fx_gs_noreply fail the start. */
Test(gs_answers, call_answers_from_init_fail_the_start)
{
    tvm t = tvm_start_quiet(1);
    static const int answers[] = {A_STOP_REPLY, A_NOREPLY};
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        fx_gs_spec spec = {.ops = &a_ops, .arg = (void *) (intptr_t) answers[i]};
        fx_pid s = FX_PID_NONE;
        fx_reason why = {0};
        cr_expect_eq(fx_gs_start(t.in, &spec, &s, &why), FX_EEXIT, "answer %d",
                     answers[i]);
        expect_reason(why, "bad answer from init");
        cr_expect(fx_pid_is_none(s));
    }
    tvm_stop(&t);
}

/* gen_statem: fx_sm_ignore is init's answer only. */
static fx_sm_ret sm_ignore_on_cast(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    (void) data;
    return ev->kind == FX_SM_CAST ? fx_sm_ignore(sm) : fx_sm_keep_state(sm);
}

static fx_sm_ret sm_init(fx_sm *sm, void *arg, void **data)
{
    (void) arg;
    *data = NULL;
    return fx_sm_next_state(sm, fx_sm_id(1));
}

Test(gs_answers, statem_ignore_outside_init_stops_the_machine)
{
    tvm t = tvm_start_quiet(1);
    static const fx_sm_ops ops = {.init = sm_init, .handle_event = sm_ignore_on_cast};
    fx_sm_spec spec = {.ops = &ops};
    fx_pid s;
    cr_assert_eq(fx_sm_start(t.in, &spec, &s, NULL), 0);
    fx_ref r;
    cr_assert_eq(fx_inbox_monitor(t.in, s, &r), 0);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, FX_MSG_DOWN);
    fx_down_info d;
    memcpy(&d, fx_msg_data(m), sizeof d);
    fx_msg_free(m);
    cr_expect(d.reason.kind == FX_REASON_ERROR && d.reason.code == FX_EACTION &&
                  strcmp(d.reason.text, "bad answer from a state callback") == 0,
              "the machine exited with code %d \"%s\"", d.reason.code, d.reason.text);
    tvm_stop(&t);
}

/* ---- the pool's threads and SIGTERM ---------------------------------- */

/* Whether thread tid has SIGTERM blocked, from /proc (SigBlk, hex): 1, 0,
 * or -1 (the thread has gone). */
static int term_blocked_in(long tid)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/self/task/%ld/status", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int res = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "SigBlk:", 7) == 0) {
            unsigned long long mask = strtoull(line + 7, NULL, 16);
            res = (int) (mask >> (SIGTERM - 1) & 1u);
        }
    fclose(f);
    return res;
}

#define MAX_TIDS 512

static size_t list_tids(long *out)
{
    DIR *d = opendir("/proc/self/task");
    cr_assert(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_TIDS)
        if (e->d_name[0] != '.')
            out[n++] = strtol(e->d_name, NULL, 10);
    closedir(d);
    return n;
}

static atomic_int job_go;

static int wait_job(void *arg, fx_msg **result)
{
    (void) arg;
    *result = NULL;
    for (int i = 0; i < 10000 && !atomic_load(&job_go); i++)
        usleep(1000);
    return 0;
}

typedef struct submitter {
    fx_vm *vm;
    long tid;
    int rc;
} submitter;

/* A program thread with SIGTERM unblocked submits the pool's first job:
 * the pool thread (and the starvation guard) start here. */
static void *submit_main(void *arg)
{
    submitter *s = arg;
    s->tid = (long) syscall(SYS_gettid);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    fx_pool_job j = {.fn = wait_job};
    s->rc = fx_pool_submit(s->vm, &j);
    return NULL;
}

Test(gs_answers, pool_and_guard_threads_start_with_sigterm_blocked)
{
    /* The VM's own threads start with SIGTERM blocked (they inherit this
     * thread's mask); so must those the submitter below starts. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    cr_assert_eq(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    tvm t = tvm_start_quiet(1);
    static long before[MAX_TIDS], after[MAX_TIDS];
    size_t nb = list_tids(before);
    submitter s = {.vm = t.vm, .rc = -1};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, submit_main, &s), 0);
    cr_assert_eq(pthread_join(th, NULL), 0);
    cr_assert_eq(s.rc, 0);
    size_t na = list_tids(after);
    int fresh = 0, unblocked = 0;
    for (size_t i = 0; i < na; i++) {
        bool old_one = after[i] == s.tid;
        for (size_t k = 0; k < nb && !old_one; k++)
            old_one = before[k] == after[i];
        if (old_one)
            continue;
        fresh++;
        if (term_blocked_in(after[i]) == 0)
            unblocked++;
    }
    atomic_store(&job_go, 1);
    fx_pool_stats ps;
    cr_assert_eq(fx_pool_stats_get(t.vm, &ps), 0);
    cr_expect_geq(fresh, 1, "no pool thread started");
    cr_expect_eq(unblocked, 0, "%d of %d new threads have SIGTERM unblocked", unblocked,
                 fresh);
    tvm_stop(&t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
