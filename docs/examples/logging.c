/* Logging: the VM's logger with a sink of your own, fx_log from main and
 * from a handler, and the reports a crash loop under a supervisor
 * produces (crash reports, Erlang's SASL progress and supervisor reports)
 * until the supervisor gives up.
 *
 * The sink prints to stdout without times or pids, so the output is the
 * same on every run (one scheduler thread keeps the order). A real sink
 * must not block: printf to a terminal or a pipe is fine for an example. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>

enum { BAD_REQUEST = 1 };

static void print_sink(void *arg, const fx_log_event *ev)
{
    (void) arg;
    const char *level = fx_log_level_name(ev->level);
    const fx_crash_report *r = ev->report;
    if (!r) { /* a plain fx_log line */
        printf("%-7s %s: %s\n", level, ev->label ? ev->label : "main", ev->text);
        return;
    }
    char why[FX_REASON_TEXT_MAX + 32];
    fx_reason_format(&r->reason, why, sizeof why);
    switch (r->kind) {
    case FX_REPORT_CRASH:
        printf("%-7s crash report: %s exited: %s\n", level, ev->label, why);
        break;
    case FX_REPORT_SUP_PROGRESS:
        printf("%-7s progress report: %s started child %s\n", level, ev->label,
               r->child_id);
        break;
    case FX_REPORT_SUP_CHILD_TERMINATED:
        printf("%-7s supervisor report: %s: child %s exited: %s; %s\n", level, ev->label,
               r->child_id, why, r->restarting ? "restarting" : "not restarted");
        break;
    case FX_REPORT_SUP_SHUTDOWN:
        printf("%-7s supervisor report: %s gives up: reached_max_restart_intensity\n",
               level, ev->label);
        break;
    default:
        printf("%-7s %s\n", level, ev->text);
    }
}

/* The child: complains and crashes on a bad request. */
static fx_next worker(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == BAD_REQUEST) {
        fx_log(fx_ctx_vm(cx), FX_LOG_WARNING, "bad request, giving up");
        return fx_stop(cx, fx_reason_error(66, "bad request"));
    }
    return fx_continue(cx);
}

static const fx_spawn_opts worker_opts = {.handler = worker, .label = "worker"};

static void check(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "logging: %s: %s\n", what, fx_strerror(rc));
        exit(1);
    }
}

/* The running child's pid, once it differs from `old` (after a restart). */
static fx_pid child_of(fx_inbox *in, fx_pid sup, fx_pid old)
{
    for (int i = 0; i < 10000; i++) {
        fx_child_info ci;
        check(fx_sup_which_children(in, sup, &ci, 1, 5000), "which_children");
        if (ci.pid.id && !fx_pid_eq(ci.pid, old))
            return ci.pid;
    }
    fprintf(stderr, "logging: the child was not restarted\n");
    exit(1);
}

int main(void)
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 1;
    cfg.log_sink = print_sink;
    cfg.log_level = FX_LOG_INFO; /* progress reports are info: shown */
    fx_vm *vm;
    check(fx_vm_create(&cfg, &vm), "create");
    check(fx_vm_start(vm), "start");
    fx_inbox *in;
    check(fx_inbox_create(vm, &in), "inbox");

    check(fx_log(vm, FX_LOG_NOTICE, "starting the tree"), "log");
    check(fx_log(vm, FX_LOG_DEBUG, "not shown: debug is below info"), "log");

    fx_child_spec kid = {
        .id = "worker", .start = fx_child_actor, .arg = (void *) &worker_opts};
    fx_sup_spec spec;
    fx_sup_spec_init(&spec); /* one_for_one, 1 restart in 5 s */
    spec.children = &kid;
    spec.nchildren = 1;
    spec.label = "my_sup";
    fx_pid sup, child;
    check(fx_sup_start(in, &spec, &sup, NULL), "supervisor start");
    fx_ref mon;
    check(fx_inbox_monitor(in, sup, &mon), "monitor");

    /* First crash: restarted. Second: one restart too many. */
    child = child_of(in, sup, FX_PID_NONE);
    check(fx_inbox_send(in, child, BAD_REQUEST, NULL, 0), "send");
    child = child_of(in, sup, child);
    check(fx_inbox_send(in, child, BAD_REQUEST, NULL, 0), "send");

    fx_msg *m;
    check(fx_inbox_recv(in, &(fx_match){.type = FX_MSG_DOWN, .ref = mon}, 10000, &m),
          "down");
    char why[FX_REASON_TEXT_MAX + 32];
    fx_reason_format(&((const fx_down_info *) fx_msg_data(m))->reason, why, sizeof why);
    fx_msg_free(m);
    check(fx_log(vm, FX_LOG_NOTICE, "the supervisor exited: %s", why), "log");

    /* The default sink's line for an event, here at a fixed time. */
    fx_log_event ev = {.time_ns = 1700000000123000000ull,
                       .level = FX_LOG_ERROR,
                       .label = "my worker",
                       .text = "two\nlines",
                       .text_len = 9};
    char line[256];
    fx_log_format(&ev, line, sizeof line);
    printf("default format: %s\n", line);

    fx_log_stats st;
    check(fx_log_stats_get(vm, &st), "stats");
    printf("logged %llu, suppressed %llu\n", (unsigned long long) st.logged,
           (unsigned long long) st.suppressed);
    fx_inbox_destroy(in);
    check(fx_vm_shutdown(vm), "shutdown");
    fx_vm_destroy(vm);
    return 0;
}
