/* The logger (log.h) and the reports that go through it (report.h):
 * levels, the default line format, the rate limit, supervisor reports,
 * crash_logger compatibility, sends to dead processes. */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

/* ---- a capturing sink ---------------------------------------------------- */

#define CAP_MAX 4096

typedef struct cap_line {
    int level;
    fx_pid pid;
    bool report;
    int kind;
    fx_pid child;
    bool restarting;
    int32_t code; /* report reason's code */
    char label[64];
    char text[512];
    char line[1024]; /* fx_log_format's line */
} cap_line;

typedef struct capture {
    pthread_mutex_t mx;
    size_t n; /* lines seen (may exceed CAP_MAX: only the first are kept) */
    cap_line lines[CAP_MAX];
} capture;

static void cap_sink(void *arg, const fx_log_event *ev)
{
    capture *c = arg;
    pthread_mutex_lock(&c->mx);
    if (c->n < CAP_MAX) {
        cap_line *l = &c->lines[c->n];
        memset(l, 0, sizeof *l);
        l->level = ev->level;
        l->pid = ev->pid;
        l->report = ev->report != NULL;
        if (ev->report) {
            l->kind = ev->report->kind;
            l->child = ev->report->child_pid;
            l->restarting = ev->report->restarting;
            l->code = ev->report->reason.code;
        }
        snprintf(l->label, sizeof l->label, "%s", ev->label ? ev->label : "");
        snprintf(l->text, sizeof l->text, "%s", ev->text);
        fx_log_format(ev, l->line, sizeof l->line);
    }
    c->n++;
    pthread_mutex_unlock(&c->mx);
}

static capture *cap_new(void)
{
    capture *c = calloc(1, sizeof *c);
    cr_assert_not_null(c);
    pthread_mutex_init(&c->mx, NULL);
    return c;
}

static size_t cap_count(capture *c)
{
    pthread_mutex_lock(&c->mx);
    size_t n = c->n;
    pthread_mutex_unlock(&c->mx);
    return n;
}

static void cap_free(capture *c)
{
    pthread_mutex_destroy(&c->mx);
    free(c);
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits (10 s at most) until the capture holds at least n lines. */
static void cap_wait(capture *c, size_t n)
{
    for (int i = 0; i < 10000 && cap_count(c) < n; i++)
        nap_ms(1);
    cr_assert_geq(cap_count(c), n, "expected %zu log lines, got %zu", n, cap_count(c));
}

static tvm start_captured(capture *c, int level, uint32_t rate, uint32_t burst)
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    cfg.log_sink = cap_sink;
    cfg.log_sink_arg = c;
    cfg.log_level = level;
    cfg.log_rate = rate;
    cfg.log_burst = burst;
    return tvm_start_with(&cfg);
}

/* ---- levels ------------------------------------------------------------- */

Test(logger, levels_filter_and_change)
{
    capture *c = cap_new();
    tvm t = start_captured(c, 0, FX_LOG_UNLIMITED, 0);
    cr_assert_eq(fx_log_get_level(t.vm), FX_LOG_NOTICE,
                 "the default is notice, as Erlang's");
    cr_assert_eq(fx_log(t.vm, FX_LOG_INFO, "hidden %d", 1), 0);
    cr_assert_eq(fx_log(t.vm, FX_LOG_DEBUG, "hidden %d", 2), 0);
    cr_assert_eq(fx_log(t.vm, FX_LOG_NOTICE, "shown %d", 3), 1);
    cr_assert_eq(fx_log(t.vm, FX_LOG_ERROR, "shown %d", 4), 1);
    cr_assert_eq(fx_log_enabled(t.vm, FX_LOG_INFO), 0);
    cr_assert_eq(fx_log_enabled(t.vm, FX_LOG_WARNING), 1);
    cr_assert_eq(fx_log_set_level(t.vm, FX_LOG_DEBUG), FX_LOG_NOTICE);
    cr_assert_eq(fx_log(t.vm, FX_LOG_DEBUG, "shown %d", 5), 1);
    cr_assert_eq(fx_log_set_level(t.vm, FX_LOG_OFF), FX_LOG_DEBUG);
    cr_assert_eq(fx_log(t.vm, FX_LOG_EMERGENCY, "hidden %d", 6), 0);
    cr_assert_eq(fx_log_get_level(t.vm), FX_LOG_OFF);
    cr_assert_eq(fx_log_set_level(t.vm, FX_LOG_ERROR), FX_LOG_OFF);
    cr_assert_eq(fx_log(t.vm, FX_LOG_WARNING, "hidden %d", 7), 0);
    cr_assert_eq(fx_log(t.vm, FX_LOG_CRITICAL, "shown %d", 8), 1);
    cr_assert_eq(cap_count(c), 4);
    const char *want[] = {"shown 3", "shown 4", "shown 5", "shown 8"};
    const int lv[] = {FX_LOG_NOTICE, FX_LOG_ERROR, FX_LOG_DEBUG, FX_LOG_CRITICAL};
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(c->lines[i].text, want[i]);
        cr_assert_eq(c->lines[i].level, lv[i]);
        cr_assert_eq(c->lines[i].pid.id, 0, "logged outside any process");
        cr_assert_not(c->lines[i].report);
    }
    fx_log_stats st;
    cr_assert_eq(fx_log_stats_get(t.vm, &st), 0);
    cr_assert_eq(st.logged, 4);
    cr_assert_eq(st.suppressed, 0);
    tvm_stop(&t);
    cap_free(c);
}

/* ---- the line format ---------------------------------------------------- */

static fx_next log_and_reply(fx_ctx *cx, fx_msg *m)
{
    int rc = fx_log(fx_ctx_vm(cx), FX_LOG_WARNING, "from a handler: %s\nsecond\tline",
                    "hello");
    fx_pid me = fx_self(cx);
    uint64_t v[2] = {(uint64_t) rc, me.id};
    fx_send(cx, fx_msg_from(m), 2, v, sizeof v);
    return fx_continue(cx);
}

/* The default sink writes "TIME LEVEL PID LABEL TEXT" with one write(2) on
 * fd 2: parsed here with a regular expression, from a file standing in for
 * stderr. */
Test(logger, default_sink_line_format)
{
    char path[] = "/tmp/fauxtp-log-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    cr_assert_eq(dup2(fd, 2), 2);

    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 1;
    tvm t = tvm_start_with(&cfg);
    time_t before = time(NULL);
    cr_assert_eq(fx_log(t.vm, FX_LOG_ERROR, "outside %d", 42), 1);
    fx_spawn_opts o = {.handler = log_and_reply, .label = "my worker"};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, 2);
    uint64_t v[2];
    memcpy(v, fx_msg_data(m), sizeof v);
    fx_msg_free(m);
    cr_assert_eq(v[0], 1, "fx_log in a handler reached the sink");
    cr_assert_eq(v[1], p.id);
    tvm_stop(&t);
    dup2(saved, 2);
    close(saved);

    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    regex_t re;
    cr_assert_eq(
        regcomp(&re,
                "^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                "\\.[0-9]{3}Z (emergency|alert|critical|error|warning|notice|info|"
                "debug) (-|<[0-9]+\\.[0-9]+\\.[0-9]+>) ([^ ]+) (.*)$",
                REG_EXTENDED),
        0);
    char *save = NULL;
    int lines = 0;
    char pidbuf[32];
    fx_pid_format(p, pidbuf, sizeof pidbuf);
    for (char *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        regmatch_t g[11];
        cr_assert_eq(regexec(&re, line, 11, g, 0), 0, "unparsable line: %s", line);
        struct tm tm = {0};
        tm.tm_year = atoi(line + g[1].rm_so) - 1900;
        tm.tm_mon = atoi(line + g[2].rm_so) - 1;
        tm.tm_mday = atoi(line + g[3].rm_so);
        tm.tm_hour = atoi(line + g[4].rm_so);
        tm.tm_min = atoi(line + g[5].rm_so);
        tm.tm_sec = atoi(line + g[6].rm_so);
        time_t when = timegm(&tm);
        /* UTC: within a generous minute of the test's own clock. */
        cr_assert(when >= before - 60 && when <= before + 60, "time %s", line);
        const char *level = line + g[7].rm_so;
        const char *pid = line + g[8].rm_so;
        const char *label = line + g[9].rm_so;
        const char *text = line + g[10].rm_so;
        if (lines == 0) {
            cr_assert_eq(strncmp(level, "error ", 6), 0, "%s", line);
            cr_assert_eq(strncmp(pid, "- ", 2), 0, "%s", line);
            cr_assert_eq(strncmp(label, "- ", 2), 0, "%s", line);
            cr_assert_str_eq(text, "outside 42", "%s", line);
        } else {
            cr_assert_eq(strncmp(level, "warning ", 8), 0, "%s", line);
            cr_assert_eq(strncmp(pid, pidbuf, strlen(pidbuf)), 0, "%s", line);
            cr_assert_eq(strncmp(label, "my_worker ", 10), 0, "label, one word: %s",
                         line);
            cr_assert_str_eq(text, "from a handler: hello\\nsecond\\tline",
                             "escaped text: %s", line);
        }
        lines++;
    }
    regfree(&re);
    cr_assert_eq(lines, 2, "one line per event");
}

/* fx_log_format truncates like snprintf and says what the full line needs. */
Test(logger, format_truncates_like_snprintf)
{
    fx_log_event ev = {.time_ns = 0, .level = FX_LOG_INFO, .text = "abc", .text_len = 3};
    char full[128], small[8];
    int n = fx_log_format(&ev, full, sizeof full);
    cr_assert_str_eq(full, "1970-01-01T00:00:00.000Z info - - abc");
    cr_assert_eq(n, (int) strlen(full));
    cr_assert_eq(fx_log_format(&ev, small, sizeof small), n);
    cr_assert_str_eq(small, "1970-01");
}

/* ---- the rate limit ----------------------------------------------------- */

static fx_next crash_now(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    fx_crash(cx, "crash loop");
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* 10,000 crashes: at most the burst plus what the rate refills while they
 * run get through, each suppressed crash is counted, and "N suppressed"
 * lines account for every one of them. */
Test(logger, rate_limit_bounds_a_crash_loop, .timeout = 120)
{
    enum { CRASHES = 10000, RATE = 10, BURST = 20 };
    capture *c = cap_new();
    tvm t = start_captured(c, 0, RATE, BURST);
    uint64_t t0 = now_ns();
    fx_spawn_opts o = {.handler = crash_now};
    for (int i = 0; i < CRASHES; i++) {
        fx_pid p;
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
        cr_assert_eq(fx_inbox_send(t.in, p, 1, NULL, 0), 0);
    }
    /* Every crash is either logged or suppressed: wait for all of them. */
    fx_log_stats st = {0};
    size_t crashes = 0;
    for (int i = 0; i < 60000; i++) {
        pthread_mutex_lock(&c->mx);
        crashes = 0;
        for (size_t k = 0; k < c->n && k < CAP_MAX; k++)
            crashes += c->lines[k].report && c->lines[k].kind == FX_REPORT_CRASH;
        pthread_mutex_unlock(&c->mx);
        cr_assert_eq(fx_log_stats_get(t.vm, &st), 0);
        if (crashes + st.suppressed >= CRASHES)
            break;
        nap_ms(1);
    }
    double secs = (double) (now_ns() - t0) / 1e9;
    cr_assert_eq(crashes + st.suppressed, CRASHES);
    cr_assert_leq((double) crashes, BURST + RATE * secs + 1,
                  "%zu crash lines in %.2f s at %d/s, burst %d", crashes, secs, RATE,
                  BURST);
    cr_assert_gt(st.suppressed, 0);
    /* The next line that passes is preceded by the count. */
    int passed = 0;
    for (int i = 0; i < 1000 && !passed; i++) {
        passed = fx_log(t.vm, FX_LOG_NOTICE, "after the loop");
        if (!passed)
            nap_ms(10);
    }
    cr_assert_eq(passed, 1);
    cr_assert_eq(fx_log_stats_get(t.vm, &st), 0);
    uint64_t told = 0;
    size_t notes = 0;
    pthread_mutex_lock(&c->mx);
    cr_assert_lt(c->n, (size_t) CAP_MAX);
    for (size_t k = 0; k < c->n; k++) {
        unsigned long long v;
        if (sscanf(c->lines[k].text, "%llu log events suppressed", &v) == 1) {
            told += v;
            notes++;
            cr_assert_eq(c->lines[k].level, FX_LOG_WARNING);
        }
    }
    cr_assert_str_eq(c->lines[c->n - 1].text, "after the loop");
    pthread_mutex_unlock(&c->mx);
    cr_assert_eq(told, st.suppressed, "every suppressed event is told once");
    cr_assert_leq(notes, crashes + 1, "at most one note per line that passed");
    tvm_stop(&t);
    cap_free(c);
}

/* ---- supervisor reports ------------------------------------------------- */

static fx_next worker_loop(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == 66)
        return fx_stop(cx, fx_reason_error(66, "boom"));
    return fx_continue(cx);
}

static const fx_spawn_opts worker_opts = {.handler = worker_loop, .label = "worker_loop"};

/* The supervisor's own reports, in order (other processes' reports, such
 * as the child's crash report, interleave freely). */
static size_t sup_lines(capture *c, fx_pid sup, cap_line *out, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&c->mx);
    for (size_t k = 0; k < c->n && k < CAP_MAX && n < cap; k++)
        if (c->lines[k].report && fx_pid_eq(c->lines[k].pid, sup))
            out[n++] = c->lines[k];
    pthread_mutex_unlock(&c->mx);
    return n;
}

static size_t wait_sup_lines(capture *c, fx_pid sup, cap_line *out, size_t want)
{
    size_t n = 0;
    for (int i = 0; i < 10000 && (n = sup_lines(c, sup, out, want)) < want; i++)
        nap_ms(1);
    cr_assert_eq(n, want, "supervisor reports: %zu of %zu", n, want);
    return n;
}

Test(logger, supervisor_reports_start_restart_give_up)
{
    capture *c = cap_new();
    tvm t = start_captured(c, FX_LOG_INFO, FX_LOG_UNLIMITED, 0);
    fx_child_spec kid = {
        .id = "w", .start = fx_child_actor, .arg = (void *) &worker_opts};
    fx_sup_spec spec;
    fx_sup_spec_init(&spec);
    spec.intensity = 2;
    spec.period_ms = 60000;
    spec.children = &kid;
    spec.nchildren = 1;
    spec.label = "my_sup";
    fx_vm_stats st0, st1;
    cr_assert_eq(fx_vm_stats_get(t.vm, &st0), 0);
    fx_pid sup;
    cr_assert_eq(fx_sup_start(t.in, &spec, &sup, NULL), 0);
    fx_ref mon;
    cr_assert_eq(fx_inbox_monitor(t.in, sup, &mon), 0);

    cap_line l[8];
    wait_sup_lines(c, sup, l, 1);
    cr_assert_eq(l[0].kind, FX_REPORT_SUP_PROGRESS);
    cr_assert_eq(l[0].level, FX_LOG_INFO);
    cr_assert_str_eq(l[0].label, "my_sup");
    fx_pid child = l[0].child;
    cr_assert_neq(child.id, 0);
    char cp[32], want[128];
    fx_pid_format(child, cp, sizeof cp);
    snprintf(want, sizeof want, "=PROGRESS REPORT==== started child w %s", cp);
    cr_assert_str_eq(l[0].text, want);

    /* Three crashes: two restarts, then one too many. */
    for (int round = 0; round < 3; round++) {
        cr_assert_eq(fx_inbox_send(t.in, child, 66, NULL, 0), 0);
        size_t n = wait_sup_lines(c, sup, l, 3 + 2 * (size_t) round);
        cap_line *term = &l[1 + 2 * round];
        cr_assert_eq(term->kind, FX_REPORT_SUP_CHILD_TERMINATED);
        cr_assert_eq(term->level, FX_LOG_ERROR);
        cr_assert(fx_pid_eq(term->child, child));
        cr_assert_eq(term->code, 66, "the child's exit reason");
        fx_pid_format(child, cp, sizeof cp);
        snprintf(want, sizeof want,
                 "=SUPERVISOR REPORT==== child_terminated: child w %s exited: "
                 "{error,66,\"boom\"}; %s",
                 cp, round < 2 ? "restarting" : "not restarted");
        cr_assert_str_eq(term->text, want);
        cr_assert_eq(term->restarting, round < 2);
        if (round < 2) {
            cap_line *prog = &l[n - 1];
            cr_assert_eq(prog->kind, FX_REPORT_SUP_PROGRESS);
            cr_assert_neq(prog->child.id, child.id, "a new process");
            child = prog->child;
        } else {
            cap_line *down = &l[n - 1];
            cr_assert_eq(down->kind, FX_REPORT_SUP_SHUTDOWN);
            cr_assert_eq(down->level, FX_LOG_ERROR);
            snprintf(want, sizeof want,
                     "=SUPERVISOR REPORT==== shutdown: reached_max_restart_intensity "
                     "(child w %s)",
                     cp);
            cr_assert_str_eq(down->text, want);
        }
    }
    fx_msg *m = tvm_recv(&t, FX_MSG_DOWN);
    const fx_down_info *d = fx_msg_data(m);
    cr_assert_eq(d->reason.kind, FX_REASON_SHUTDOWN);
    fx_msg_free(m);
    cr_assert_eq(fx_vm_stats_get(t.vm, &st1), 0);
    cr_assert_eq(st1.restarts - st0.restarts, 2, "two restarts counted");
    /* The child's own crash reports went through the logger too. */
    size_t crashes = 0;
    pthread_mutex_lock(&c->mx);
    for (size_t k = 0; k < c->n; k++)
        crashes += c->lines[k].report && c->lines[k].kind == FX_REPORT_CRASH &&
                   strcmp(c->lines[k].label, "worker_loop") == 0;
    pthread_mutex_unlock(&c->mx);
    cr_assert_eq(crashes, 3);
    tvm_stop(&t);
    cap_free(c);
}

/* Progress reports are info: hidden at the default level. */
Test(logger, progress_hidden_by_default)
{
    capture *c = cap_new();
    tvm t = start_captured(c, 0, FX_LOG_UNLIMITED, 0);
    fx_child_spec kid = {
        .id = "w", .start = fx_child_actor, .arg = (void *) &worker_opts};
    fx_sup_spec spec;
    fx_sup_spec_init(&spec);
    spec.children = &kid;
    spec.nchildren = 1;
    fx_pid sup;
    cr_assert_eq(fx_sup_start(t.in, &spec, &sup, NULL), 0);
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    cr_assert_eq(cap_count(c), 0);
    tvm_stop(&t);
    cap_free(c);
}

static fx_gs_ret failing_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    (void) state;
    return fx_gs_stop(cx, fx_reason_error(7, "no config"));
}

static const fx_gs_ops failing_ops = {.init = failing_init};
static const fx_gs_spec failing_spec = {.ops = &failing_ops, .label = "failing"};

Test(logger, supervisor_reports_start_error)
{
    capture *c = cap_new();
    tvm t = start_captured(c, 0, FX_LOG_UNLIMITED, 0);
    fx_child_spec kid = {
        .id = "cfg", .start = fx_child_gen_server, .arg = (void *) &failing_spec};
    fx_sup_spec spec;
    fx_sup_spec_init(&spec);
    spec.children = &kid;
    spec.nchildren = 1;
    fx_pid sup;
    fx_reason why;
    cr_assert_eq(fx_sup_start(t.in, &spec, &sup, &why), FX_EEXIT);
    cap_wait(c, 1);
    pthread_mutex_lock(&c->mx);
    const cap_line *e = NULL;
    for (size_t k = 0; k < c->n; k++)
        if (c->lines[k].report && c->lines[k].kind == FX_REPORT_SUP_START_ERROR)
            e = &c->lines[k];
    cr_assert_not_null(e);
    cr_assert_eq(e->level, FX_LOG_ERROR);
    cr_assert_eq(e->code, 7);
    cr_assert_str_eq(e->label, "supervisor");
    cr_assert_str_eq(
        e->text,
        "=SUPERVISOR REPORT==== start_error: child cfg: {error,7,\"no config\"}");
    pthread_mutex_unlock(&c->mx);
    tvm_stop(&t);
    cap_free(c);
}

/* ---- crash_logger compatibility ----------------------------------------- */

static uint64_t crash_logger_calls;

static void counting_logger(void *arg, const fx_crash_report *r)
{
    (void) arg;
    cr_assert_eq(r->kind, FX_REPORT_CRASH);
    __atomic_fetch_add(&crash_logger_calls, 1, __ATOMIC_RELAXED);
}

/* With crash_logger set, crash reports go there (every one, no rate
 * limit) and not to the sink; supervisor reports still go to the sink. */
Test(logger, crash_logger_wins_for_crash_reports)
{
    capture *c = cap_new();
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    cfg.crash_logger = counting_logger;
    cfg.log_sink = cap_sink;
    cfg.log_sink_arg = c;
    cfg.log_rate = 1;
    cfg.log_burst = 1;
    tvm t = tvm_start_with(&cfg);
    crash_logger_calls = 0;
    fx_spawn_opts o = {.handler = crash_now};
    for (int i = 0; i < 50; i++) {
        fx_pid p;
        fx_ref ref;
        cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &ref), 0);
        cr_assert_eq(fx_inbox_send(t.in, p, 1, NULL, 0), 0);
        fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    }
    /* The count in the stats is taken after the logger returns: wait for
     * both (the 50th call may still be on its way out). */
    fx_log_stats st;
    for (int i = 0; i < 10000; i++) {
        cr_assert_eq(fx_log_stats_get(t.vm, &st), 0);
        if (__atomic_load_n(&crash_logger_calls, __ATOMIC_RELAXED) >= 50 &&
            st.crash_logger_reports >= 50)
            break;
        nap_ms(1);
    }
    cr_assert_eq(__atomic_load_n(&crash_logger_calls, __ATOMIC_RELAXED), 50);
    cr_assert_eq(cap_count(c), 0, "no crash report reached the sink");
    cr_assert_eq(st.crash_logger_reports, 50);
    cr_assert_eq(st.suppressed, 0);
    tvm_stop(&t);
    cap_free(c);
}

/* ---- sends to dead processes -------------------------------------------- */

static fx_next send_to_dead(fx_ctx *cx, fx_msg *m)
{
    fx_pid dead;
    memcpy(&dead, fx_msg_data(m), sizeof dead);
    int rc = fx_send(cx, dead, 5, NULL, 0);
    fx_send(cx, fx_msg_from(m), 3, &rc, sizeof rc);
    return fx_continue(cx);
}

Test(logger, dead_sends_logged_at_debug_only)
{
    capture *c = cap_new();
    tvm t = start_captured(c, 0, FX_LOG_UNLIMITED, 0);
    fx_pid dead, p;
    fx_ref ref;
    fx_spawn_opts o = {.handler = crash_now};
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &dead, &ref), 0);
    cr_assert_eq(fx_vm_exit(t.vm, dead, fx_reason_kill()), 0);
    fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
    fx_spawn_opts so = {.handler = send_to_dead, .label = "sender"};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &so, &p), 0);

    /* At notice: dropped silently, counted. */
    fx_vm_stats vs0, vs1;
    cr_assert_eq(fx_vm_stats_get(t.vm, &vs0), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, 1, &dead, sizeof dead), 0);
    fx_msg_free(tvm_recv(&t, 3));
    cr_assert_eq(fx_vm_send(t.vm, dead, 5, NULL, 0), FX_ENOPROC);
    cr_assert_eq(fx_vm_stats_get(t.vm, &vs1), 0);
    cr_assert_eq(vs1.messages_dropped - vs0.messages_dropped, 2);
    cr_assert_eq(cap_count(c), 0);

    /* At debug: one line each, about the sender. */
    cr_assert_eq(fx_log_set_level(t.vm, FX_LOG_DEBUG), FX_LOG_NOTICE);
    cr_assert_eq(fx_inbox_send(t.in, p, 1, &dead, sizeof dead), 0);
    fx_msg_free(tvm_recv(&t, 3));
    cr_assert_eq(fx_vm_send(t.vm, dead, 5, NULL, 0), FX_ENOPROC);
    cap_wait(c, 2);
    char dp[32], want[96];
    fx_pid_format(dead, dp, sizeof dp);
    snprintf(want, sizeof want, "send to dead process %s dropped (type 5)", dp);
    cr_assert_str_eq(c->lines[0].text, want);
    cr_assert_eq(c->lines[0].level, FX_LOG_DEBUG);
    cr_assert(fx_pid_eq(c->lines[0].pid, p), "the sending process");
    cr_assert_str_eq(c->lines[0].label, "sender");
    cr_assert_str_eq(c->lines[1].text, want);
    cr_assert_eq(c->lines[1].pid.id, 0, "sent from outside the VM");
    tvm_stop(&t);
    cap_free(c);
}

/* ---- a sink that logs --------------------------------------------------- */

static int inner_rc = 99;

static void logging_sink(void *arg, const fx_log_event *ev)
{
    capture *c = arg;
    inner_rc = fx_log(ev->vm, FX_LOG_ERROR, "from inside the sink");
    cap_sink(c, ev);
}

Test(logger, sink_cannot_recurse)
{
    capture *c = cap_new();
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 1;
    cfg.log_sink = logging_sink;
    cfg.log_sink_arg = c;
    tvm t = tvm_start_with(&cfg);
    cr_assert_eq(fx_log(t.vm, FX_LOG_ERROR, "outer"), 1);
    cr_assert_eq(inner_rc, 0, "the inner event is dropped");
    cr_assert_eq(cap_count(c), 1);
    tvm_stop(&t);
    cap_free(c);
}

/* Reports built by a behaviour of one's own reach the sink too. */
Test(logger, report_emit_from_outside)
{
    capture *c = cap_new();
    tvm t = start_captured(c, FX_LOG_INFO, FX_LOG_UNLIMITED, 0);
    fx_crash_report r = {.pid = t.me,
                         .label = "mine",
                         .kind = FX_REPORT_SUP_PROGRESS,
                         .child_id = "kid",
                         .child_pid = t.me};
    cr_assert_eq(fx_report_emit(t.vm, &r), 1);
    cr_assert_eq(cap_count(c), 1);
    cr_assert_eq(c->lines[0].kind, FX_REPORT_SUP_PROGRESS);
    cr_assert_str_eq(c->lines[0].label, "mine");
    cr_assert_eq(fx_log_set_level(t.vm, FX_LOG_NOTICE), FX_LOG_INFO);
    cr_assert_eq(fx_report_emit(t.vm, &r), 0, "info is below notice");
    tvm_stop(&t);
    cap_free(c);
}
