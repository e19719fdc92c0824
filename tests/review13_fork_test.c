/* review13: the forked-child promise (vm.h:1-15, docs/failures.md
 * "fork") for the calls tests/fork_test.c does not cover: in a child of
 * a process with a running VM each answers FX_EFORKED (or the value its
 * header gives) without hanging. The child writes one line per broken
 * promise to a pipe; the parent fails with those lines. An alarm turns a
 * hang into SIGALRM. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

/* Under ASan, count the child's allocations: a forked child of a
 * threaded process must not allocate (a parent thread may have held the
 * allocator's lock at the fork: a hang, seen in CI), so every refusal
 * comes before any allocation. */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 1
/* libsanitizer's interface (GCC 12 ships no header for it). */
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
                                              void (*f)(const volatile void *));
static volatile int child_allocs;
static void on_malloc(const volatile void *p, size_t size)
{
    (void) p;
    (void) size;
    child_allocs++;
}
static void on_free(const volatile void *p)
{
    (void) p;
}
#else
#define COUNT_ALLOCS 0
#endif

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static int nothing(void *arg, fx_msg **result)
{
    (void) arg;
    *result = NULL;
    return 0;
}

static int count_proc(void *arg, const fx_proc_info *info)
{
    (void) info;
    (*(int *) arg)++;
    return 0;
}

static const fx_gs_ops no_ops = {.init = fx_gs_init_arg};

/* The child formats into a stack buffer and write(2)s it to a pipe:
 * stdio, dprintf too, allocates its buffer. */
static int out = -1;
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > (int) sizeof line - 1)
        n = (int) sizeof line - 1;
    if (n > 0 && write(out, line, (size_t) n) < 0)
        _exit(3);
}
#define EXPECT(expr, want)                                                               \
    do {                                                                                 \
        long long got_ = (long long) (expr);                                             \
        if (got_ != (long long) (want))                                                  \
            say("%s = %lld, want %s\n", #expr, got_, #want);                             \
    } while (0)

static void child_calls(tvm *t, fx_pid p, fx_msg *mm)
{
    fx_pool_job j = {.fn = nothing};
    EXPECT(fx_pool_submit(t->vm, &j), FX_EFORKED);
    fx_pool_stats ps;
    EXPECT(fx_pool_stats_get(t->vm, &ps), FX_EFORKED);
    int64_t left;
    EXPECT(fx_vm_shutdown_time_left(t->vm, &left), FX_EFORKED);
    fx_task_opts o = {.fn = nothing};
    int status;
    fx_msg *res = NULL;
    EXPECT(fx_vm_task_run(t->vm, &o, 1000, &status, &res), FX_EFORKED);
    fx_msg *reply = NULL;
    EXPECT(fx_gs_call(t->in, p, 1, NULL, 0, 1000, &reply, NULL), FX_EFORKED);
    fx_gs_spec spec = {.ops = &no_ops};
    fx_pid q;
    EXPECT(fx_gs_start(t->in, &spec, &q, NULL), FX_EFORKED);
    EXPECT(fx_vm_gs_cast(t->vm, p, 1, NULL, 0), FX_EFORKED);
    fx_from f = {.pid = p, .ref = {1}};
    EXPECT(fx_vm_reply(t->vm, f, NULL, 0), FX_EFORKED);
    EXPECT(fx_register(t->in, "r13f", p, NULL), FX_EFORKED);
    EXPECT(fx_group_join(t->in, "g13f", p), FX_EFORKED);
    EXPECT(fx_vm_send_named(t->vm, "r13f", 1, NULL, 0), FX_EFORKED);
    EXPECT(fx_vm_gs_cast_named(t->vm, "r13f", 1, NULL, 0), FX_EFORKED);
    EXPECT(fx_vm_group_send(t->vm, "g13f", 1, NULL, 0), FX_EFORKED);
    EXPECT(fx_gs_call_named(t->in, "r13f", 1, NULL, 0, 1000, &reply, NULL), FX_EFORKED);
    fx_pid members[4];
    EXPECT(fx_group_members(t->vm, "g13f", members, 4), FX_EFORKED);
    fx_registered_name names[4];
    EXPECT(fx_registered(t->vm, names, 4), FX_EFORKED);
    fx_pid reg;
    EXPECT(fx_registry_pid(t->vm, &reg), FX_EFORKED);
    EXPECT(fx_inbox_link(t->in, p), FX_EFORKED);
    fx_ref r;
    EXPECT(fx_inbox_monitor(t->in, p, &r), FX_EFORKED);
    fx_proc_info pi = {.version = FX_PROC_INFO_VERSION};
    EXPECT(fx_process_info(t->vm, p, &pi), FX_EFORKED);
    int n = 0;
    EXPECT(fx_vm_processes(t->vm, count_proc, &n), FX_EFORKED);
    EXPECT(fx_vm_set_timing(t->vm, true), FX_EFORKED);
    fx_sched_stats ss = {.version = FX_SCHED_STATS_VERSION};
    EXPECT(fx_vm_sched_stats(t->vm, 0, &ss), FX_EFORKED);
    EXPECT(fx_vm_count_restart(t->vm), FX_EFORKED);
    uint64_t ql;
    EXPECT(fx_vm_queue_len(t->vm, p, &ql), FX_EFORKED);
    char buf[64];
    EXPECT(fx_vm_metrics_text(t->vm, buf, sizeof buf), FX_EFORKED);
    EXPECT(fx_log(t->vm, FX_LOG_ERROR, "from the child"), FX_EFORKED);
    EXPECT(fx_log_set_level(t->vm, FX_LOG_DEBUG), FX_EFORKED);
    fx_log_stats ls;
    EXPECT(fx_log_stats_get(t->vm, &ls), FX_EFORKED);
    fx_crash_report cr = {.kind = FX_REPORT_CRASH, .pid = p};
    EXPECT(fx_report_emit(t->vm, &cr), FX_EFORKED);
    static const char key;
    EXPECT(fx_vm_attach(t->vm, &key, (void *) &key, NULL), FX_EFORKED);
    EXPECT(fx_is_alive(t->vm, p), 0);
    /* More of "everything through the common entry" and "the calls built
     * on inboxes" (docs/failures.md:309-310). */
    fx_spawn_opts so = {.handler = idle};
    EXPECT(fx_vm_spawn_opt(t->vm, &so, &q), FX_EFORKED);
    EXPECT(fx_vm_send_msg(t->vm, p, mm), FX_EFORKED);
    EXPECT(fx_inbox_send_msg(t->in, p, mm), FX_EFORKED);
    EXPECT(fx_inbox_unlink(t->in, p), FX_EFORKED);
    EXPECT(fx_inbox_demonitor(t->in, (fx_ref){1 << 10}, 0), FX_EFORKED);
    EXPECT(fx_inbox_spawn_link(t->in, &so, &q), FX_EFORKED);
    EXPECT(fx_inbox_spawn_monitor(t->in, &so, &q, &r), FX_EFORKED);
    EXPECT(fx_inbox_spawn_named(t->in, "r13n", &so, &q, NULL), FX_EFORKED);
    EXPECT(fx_gs_stop_server(t->in, p, fx_reason_normal(), 1000, NULL), FX_EFORKED);
    EXPECT(fx_unregister(t->in, "r13f"), FX_EFORKED);
    EXPECT(fx_group_leave(t->in, "g13f", p), FX_EFORKED);
    fx_registry_stats rs;
    EXPECT(fx_registry_stats_get(t->in, &rs), FX_EFORKED);
    fx_sup_spec sup_spec;
    fx_sup_spec_init(&sup_spec);
    EXPECT(fx_sup_start(t->in, &sup_spec, &q, NULL), FX_EFORKED);
    fx_child_counts cc;
    EXPECT(fx_sup_count_children(t->in, p, &cc, 1000), FX_EFORKED);
    EXPECT(fx_sup_terminate_child(t->in, p, "x", 1000), FX_EFORKED);
    EXPECT(fx_sup_count_children_named(t->in, "r13f", &cc, 1000), FX_EFORKED);
    fx_probe *pr = NULL;
    EXPECT(fx_probe_start(t->vm, &pr), FX_EFORKED);
}

static void fork_and_check(bool with_registry)
{
    tvm t = tvm_start_quiet(1);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &p), 0);
    if (with_registry)
        cr_assert_eq(fx_register(t.in, "r13p", p, NULL), 0);
    fx_msg *mm; /* made here: the child does not allocate */
    cr_assert_eq(fx_msg_new(1, 1, &mm), 0);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t c = fork();
    cr_assert_neq(c, -1);
    if (c == 0) {
        alarm(30);
        close(fds[0]);
        out = fds[1];
#if COUNT_ALLOCS
        __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
#endif
        child_calls(&t, p, mm);
#if COUNT_ALLOCS
        int n = child_allocs;
        if (n != 0)
            say("the child allocated %d time(s)\n", n);
#endif
        close(out);
        _exit(0);
    }
    fx_msg_free(mm);
    close(fds[1]);
    char text[4096] = {0};
    size_t len = 0;
    ssize_t k;
    while (len < sizeof text - 1 &&
           (k = read(fds[0], text + len, sizeof text - 1 - len)) > 0)
        len += (size_t) k;
    close(fds[0]);
    int st = 0;
    cr_assert_eq(waitpid(c, &st, 0), c);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "the child ended badly (status %d)%s", st,
              WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? ": it hung" : "");
    cr_expect_eq(len, 0, "in a forked child (%s registry):\n%s",
                 with_registry ? "with a" : "no", text);
    cr_expect_eq(fx_is_alive(t.vm, p), 1);
    tvm_stop(&t);
}

/* docs/failures.md's table (lines 309, 313) lists "_send_named, ..."
 * and fx_registry_pid among the calls that answer FX_EFORKED in a forked
 * child, and vm.h:7-10 says so of "registry functions". The by-name
 * sends and calls (fx_vm_send_named, fx_vm_gs_cast_named,
 * fx_vm_group_send, fx_gs_call_named) answer FX_ESHUTDOWN there instead
 * (registry_send.c tests fx_vm_running(vm) != 1, which is FX_EFORKED),
 * and fx_registry_pid and fx_registry_stats_get FX_ENOENT, with or
 * without a running registry (they look for the registry first). */
Test(review13_fork, child_calls_answer_eforked_no_registry)
{
    fork_and_check(false);
}

Test(review13_fork, child_calls_answer_eforked_with_registry)
{
    fork_and_check(true);
}
