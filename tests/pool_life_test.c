/* The pool's thread lifetime and the shutdown deadline: idle threads
 * beyond pool_min_threads exit after pool_idle_ms (also under a trickle
 * of jobs: the most recently idle thread takes the next one); a job still
 * running at the shutdown deadline makes fx_vm_shutdown answer FX_ESTUCK
 * and is reported, a later call completes; stop hooks can read the time
 * left; pool threads' scheduling attributes. Waits are generous and
 * bounded; nothing asserts timing. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helpers.h"

static tvm life_vm(uint32_t min, uint32_t max, uint32_t idle_ms)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.pool_min_threads = min;
    c.pool_max_threads = max;
    c.pool_idle_ms = idle_ms;
    return tvm_start_with(&c);
}

static atomic_int gate, entered;
static int gate_job(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    atomic_fetch_add(&entered, 1);
    for (int i = 0; i < 20000 && !atomic_load(&gate); i++)
        usleep(1000);
    return 0;
}

static int quick_job(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    return 0;
}

static uint64_t pool_threads(fx_vm *vm)
{
    fx_pool_stats st;
    cr_assert_eq(fx_pool_stats_get(vm, &st), 0);
    return st.threads;
}

/* Threads of this process, from /proc/self/task. */
static int os_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Waits (up to 20 s) until vm's pool has `want` threads. */
static void wait_pool_threads(fx_vm *vm, uint64_t want)
{
    for (int i = 0; i < 20000 && pool_threads(vm) != want; i++)
        usleep(1000);
    cr_assert_eq(pool_threads(vm), want);
}

/* Fills the pool: n gate jobs running at once. */
static void run_gated(tvm *t, int n)
{
    atomic_store(&gate, 0);
    atomic_store(&entered, 0);
    fx_pool_job j = {.fn = gate_job, .reply_to = t->me};
    for (int i = 0; i < n; i++)
        cr_assert_eq(fx_pool_submit(t->vm, &j), 0);
    for (int i = 0; i < 20000 && atomic_load(&entered) < n; i++)
        usleep(1000);
    cr_assert_eq(atomic_load(&entered), n);
}

Test(pool_life, idle_threads_beyond_the_minimum_exit)
{
    tvm t = life_vm(1, 4, 50);
    run_gated(&t, 4);
    cr_assert_eq(pool_threads(t.vm), 4);
    int busy = os_threads();
    atomic_store(&gate, 1);
    for (int i = 0; i < 4; i++)
        fx_msg_free(tvm_recv(&t, FX_MSG_POOL_DONE));
    wait_pool_threads(t.vm, 1); /* pool_min_threads stay */
    /* The OS threads are gone too (joined when the next thread starts or
     * at shutdown, but they have returned: /proc lists live threads). */
    for (int i = 0; i < 20000 && os_threads() > busy - 3; i++)
        usleep(1000);
    cr_assert_leq(os_threads(), busy - 3);
    /* The pool grows again on demand, reusing the slots. */
    run_gated(&t, 4);
    cr_assert_eq(pool_threads(t.vm), 4);
    atomic_store(&gate, 1);
    for (int i = 0; i < 4; i++)
        fx_msg_free(tvm_recv(&t, FX_MSG_POOL_DONE));
    wait_pool_threads(t.vm, 1);
    tvm_stop(&t);
}

Test(pool_life, a_trickle_of_jobs_does_not_keep_every_thread)
{
    /* One job at a time: the thread that went idle last takes the next
     * one, so the other three stay idle long enough to exit. */
    tvm t = life_vm(0, 4, 100);
    run_gated(&t, 4);
    atomic_store(&gate, 1);
    for (int i = 0; i < 4; i++)
        fx_msg_free(tvm_recv(&t, FX_MSG_POOL_DONE));
    fx_pool_job j = {.fn = quick_job, .reply_to = t.me};
    uint64_t n = 4;
    for (int i = 0; i < 2000 && n > 1; i++) {
        cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
        fx_msg_free(tvm_recv(&t, FX_MSG_POOL_DONE));
        usleep(5000); /* well below pool_idle_ms between jobs */
        n = pool_threads(t.vm);
    }
    cr_assert_leq(n, 1, "%llu threads still live", (unsigned long long) n);
    tvm_stop(&t);
}

Test(pool_life, min_threads_never_exit)
{
    tvm t = life_vm(2, 4, 10);
    cr_assert_eq(pool_threads(t.vm), 2);
    usleep(200 * 1000); /* twenty idle limits */
    cr_assert_eq(pool_threads(t.vm), 2);
    tvm_stop(&t);
}

static atomic_int stuck_reports;
static char stuck_line[256];
static void logger(void *arg, const fx_crash_report *r)
{
    (void) arg;
    if (r->kind != FX_REPORT_STUCK_AT_SHUTDOWN)
        return;
    if (atomic_load(&stuck_reports) == 0)
        fx_crash_report_format(r, stuck_line, sizeof stuck_line);
    atomic_fetch_add(&stuck_reports, 1);
}

Test(pool_life, a_job_running_at_the_shutdown_deadline_is_reported_and_waited_for_later)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.shutdown_timeout_ms = 200;
    c.crash_logger = logger;
    tvm t = tvm_start_with(&c);
    atomic_store(&gate, 0);
    atomic_store(&entered, 0);
    fx_pool_job j = {.fn = gate_job};
    cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    for (int i = 0; i < 20000 && atomic_load(&entered) < 1; i++)
        usleep(1000);
    cr_assert_eq(atomic_load(&entered), 1);
    fx_inbox_destroy(t.in);
    /* Before the deadline bounded the pool's stop hook, this call waited
     * for the job (here: 20 s, the gate's own limit). */
    cr_assert_eq(fx_vm_shutdown(t.vm), FX_ESTUCK);
    cr_assert_eq(atomic_load(&stuck_reports), 1);
    /* The job's function is named where dladdr finds it (an exported
     * symbol of a shared object); in this executable it may be "?". */
    cr_assert(strstr(stuck_line, "pool job") && strstr(stuck_line, "at shutdown"),
              "report: %s", stuck_line);
    cr_assert_eq(fx_vm_running(t.vm), 0);
    fx_pool_stats st;
    cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.running, 1);
    cr_assert_eq(fx_vm_shutdown(t.vm), FX_ESTUCK); /* still running: again */
    atomic_store(&gate, 1);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0); /* resumed: joined and freed */
    cr_assert_eq(fx_pool_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.threads, 0);
    cr_assert_eq(st.completed, 1);
    fx_vm_destroy(t.vm);
}

static const char hook_key;
static int hook_rc;
static int64_t hook_left;
static void hook_stop(fx_vm *vm, void *value)
{
    (void) value;
    hook_rc = fx_vm_shutdown_time_left(vm, &hook_left);
}

static void time_left_in_a_stop_hook(uint32_t timeout_ms)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.shutdown_timeout_ms = timeout_ms;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    int64_t left = 7;
    cr_assert_eq(fx_vm_shutdown_time_left(vm, &left), FX_ENOENT);
    cr_assert_eq(left, 7);
    static const fx_vm_hooks hooks = {.stop = hook_stop};
    static int value = 1;
    cr_assert_eq(fx_vm_attach(vm, &hook_key, &value, &hooks), 0);
    hook_rc = 1;
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    cr_assert_eq(hook_rc, 0);
    if (timeout_ms == FX_SHUTDOWN_WAIT_FOREVER) {
        cr_assert_eq(hook_left, FX_INFINITY);
    } else {
        cr_assert_gt(hook_left, 0);
        cr_assert_leq(hook_left, timeout_ms);
    }
    cr_assert_eq(fx_vm_shutdown_time_left(vm, &left), 0); /* the last shutdown's */
    fx_vm_destroy(vm);
}

Test(pool_life, stop_hooks_can_read_the_time_left)
{
    time_left_in_a_stop_hook(60000);
    time_left_in_a_stop_hook(FX_SHUTDOWN_WAIT_FOREVER);
}

/* struct sched_attr's first layout (glibc 2.36 has no wrapper). */
typedef struct attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
} attr;

/* Answers the pool thread's scheduling attributes as its result. */
static int attr_job(void *arg, fx_msg **result)
{
    (void) arg;
    attr a;
    memset(&a, 0, sizeof a);
    if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) != 0)
        return FX_ESYS;
    if (fx_msg_new(1, sizeof a, result) == 0)
        memcpy(fx_msg_data_mut(*result), &a, sizeof a);
    return 0;
}

static attr pool_attr(int32_t pool_nice)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.pool_nice = pool_nice;
    tvm t = tvm_start_with(&c);
    fx_pool_job j = {.fn = attr_job, .reply_to = t.me};
    cr_assert_eq(fx_pool_submit(t.vm, &j), 0);
    fx_msg *m = tvm_recv(&t, FX_MSG_POOL_DONE);
    fx_outcome h;
    const void *data;
    cr_assert_eq(fx_outcome_get(m, &h, &data), 0);
    cr_assert_eq(h.status, 0);
    attr a;
    memcpy(&a, data, sizeof a);
    fx_msg_free(m);
    tvm_stop(&t);
    return a;
}

Test(pool_life, pool_threads_run_nicer_or_in_the_idle_class)
{
    errno = 0;
    int base = getpriority(PRIO_PROCESS, 0);
    cr_assert(errno == 0);
    /* Default: SCHED_IDLE, at 10 nicer (its nice value if raised). */
    attr a = pool_attr(0);
    cr_assert_eq(a.policy, SCHED_IDLE);
    cr_assert_eq(a.nice, base + 10 > 19 ? 19 : base + 10);
    a = pool_attr(FX_POOL_NICE_IDLE);
    cr_assert_eq(a.policy, SCHED_IDLE);
    a = pool_attr(10);
    cr_assert_eq(a.policy, SCHED_OTHER);
    cr_assert_eq(a.nice, base + 10 > 19 ? 19 : base + 10);
    a = pool_attr(-1); /* unchanged */
    cr_assert_eq(a.policy, SCHED_OTHER);
    cr_assert_eq(a.nice, base);
}

/* A pool job blocked in fx_inbox_recv without a timeout, and one in a
 * fx_gs_call (no timeout) to a process that never answers: the shutdown
 * wakes them with FX_ESHUTDOWN before its stop hooks wait for running
 * jobs, so it finishes (here with no deadline at all: before, it waited
 * forever; with a deadline it answered FX_ESTUCK at it). */
static atomic_int blocked_rc[2], blocked_in;
static fx_vm *_Atomic job_vm;
static fx_pid silent_pid;

static fx_next silent_loop(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx); /* takes calls and never answers */
}

static int recv_forever_job(void *arg, fx_msg **result)
{
    (void) result;
    int which = (int) (intptr_t) arg;
    fx_inbox *in;
    fx_vm *vm = atomic_load(&job_vm);
    int rc = fx_inbox_create(vm, &in);
    if (rc == 0) {
        atomic_fetch_add(&blocked_in, 1);
        fx_msg *m = NULL;
        if (which == 0) {
            fx_match any = {0};
            rc = fx_inbox_recv(in, &any, FX_INFINITY, &m);
        } else {
            rc = fx_gs_call(in, silent_pid, 1, NULL, 0, FX_INFINITY, &m, NULL);
        }
        fx_msg_free(m);
        fx_inbox_destroy(in);
    }
    atomic_store(&blocked_rc[which], rc);
    return 0;
}

Test(pool_life, jobs_blocked_in_an_inbox_wait_do_not_hold_up_the_shutdown, .timeout = 60)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.shutdown_timeout_ms = FX_SHUTDOWN_WAIT_FOREVER;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    atomic_store(&job_vm, vm);
    silent_pid = spawn_state(vm, silent_loop, NULL, 0);
    atomic_store(&blocked_in, 0);
    for (int i = 0; i < 2; i++) {
        atomic_store(&blocked_rc[i], 1);
        fx_pool_job j = {.fn = recv_forever_job, .arg = (void *) (intptr_t) i};
        cr_assert_eq(fx_pool_submit(vm, &j), 0);
    }
    for (int i = 0; i < 20000 && atomic_load(&blocked_in) < 2; i++)
        usleep(1000);
    cr_assert_eq(atomic_load(&blocked_in), 2);
    usleep(20000); /* very likely asleep in the wait now (either way the same) */
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    cr_assert_eq(atomic_load(&blocked_rc[0]), FX_ESHUTDOWN);
    cr_assert_eq(atomic_load(&blocked_rc[1]), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
}
