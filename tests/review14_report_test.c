/* review14: supervisor reports as OTP's SASL supervisor reports fill them
 * (report.h:4-5, 37-53): errorContext shutdown_error for a child that
 * did not stop with reason shutdown when the supervisor stopped it (here:
 * killed after its shutdown time), and the reason of the
 * reached_max_restart_intensity report. */
#include <pthread.h>

#include "sup_kids.h"

#define CAP_MAX 256

typedef struct cap_rep {
    int kind;
    int level;
    fx_pid sup;
    fx_pid child;
    fx_reason reason;
    char id[FX_CHILD_ID_MAX];
} cap_rep;

static pthread_mutex_t cap_mx = PTHREAD_MUTEX_INITIALIZER;
static cap_rep caps[CAP_MAX];
static size_t ncaps;

static void cap_sink(void *arg, const fx_log_event *ev)
{
    (void) arg;
    if (!ev || !ev->report || ev->report->kind < FX_REPORT_SUP_PROGRESS)
        return; /* only supervisor reports (and any later kinds) */
    pthread_mutex_lock(&cap_mx);
    if (ncaps < CAP_MAX) {
        cap_rep *c = &caps[ncaps++];
        c->kind = ev->report->kind;
        c->level = ev->level;
        c->sup = ev->report->pid;
        c->child = ev->report->child_pid;
        c->reason = ev->report->reason;
        snprintf(c->id, sizeof c->id, "%s",
                 ev->report->child_id ? ev->report->child_id : "");
    }
    pthread_mutex_unlock(&cap_mx);
}

static tvm captured_vm(void)
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    cfg.log_sink = cap_sink;
    cfg.log_level = FX_LOG_INFO;
    cfg.log_rate = FX_LOG_UNLIMITED;
    cfg.crash_logger = fx_crash_logger_silent;
    tvm t = tvm_start_with(&cfg);
    g_vm = t.vm;
    g_owner = t.me;
    return t;
}

/* The first captured report of sup matching pred, polling 10 s at most. */
static bool find_rep(fx_pid sup, bool (*pred)(const cap_rep *), cap_rep *out)
{
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&cap_mx);
        for (size_t k = 0; k < ncaps; k++) {
            if (fx_pid_eq(caps[k].sup, sup) && pred(&caps[k])) {
                *out = caps[k];
                pthread_mutex_unlock(&cap_mx);
                return true;
            }
        }
        pthread_mutex_unlock(&cap_mx);
        sleep_ms(1);
    }
    return false;
}

static fx_pid g_stubborn;

/* Any supervisor report about the stubborn child other than its progress
 * report. */
static bool about_stubborn(const cap_rep *c)
{
    return c->kind != FX_REPORT_SUP_PROGRESS && fx_pid_eq(c->child, g_stubborn);
}

/* OTP: a child that, asked to stop with shutdown, is killed after its
 * shutdown time exits with `killed`, and the supervisor reports it
 * (errorContext shutdown_error, reason killed, offender the child). */
Test(review14_report, a_child_killed_at_shutdown_is_reported)
{
    tvm t = captured_vm();
    kid k;
    fx_child_spec c = actor_child(&k, "s", K_STUBBORN, FX_PERMANENT);
    c.shutdown_ms = 50;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, &c, 1);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+s", NULL);
    g_stubborn = pid_of(&t, sup, "s");
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "s", 30000), 0);
    ev e;
    expect_events(&t, "-s", &e);
    fx_reason killed = fx_reason_killed();
    assert_reason(e.reason, killed);
    cap_rep r;
    cr_assert(find_rep(sup, about_stubborn, &r),
              "no supervisor report for a child killed after its shutdown time "
              "(OTP: shutdown_error)");
    cr_assert_eq(r.level, FX_LOG_ERROR);
    cr_assert_str_eq(r.id, "s");
    assert_reason(r.reason, killed);
    tvm_stop(&t);
}

static bool is_give_up(const cap_rep *c)
{
    return c->kind == FX_REPORT_SUP_SHUTDOWN;
}

/* OTP's give-up report: errorContext shutdown, reason
 * reached_max_restart_intensity. The structured report's reason should
 * say so, not `normal`. */
Test(review14_report, the_give_up_report_carries_its_reason)
{
    tvm t = captured_vm();
    kid k;
    fx_child_spec c = gs_child(&k, "a", K_OK, FX_PERMANENT);
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, &c, 1);
    s.intensity = 0;
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a", NULL);
    fx_pid a = pid_of(&t, sup, "a");
    cr_assert_eq(fx_vm_exit(t.vm, a, boom), 0);
    expect_events(&t, "-a", NULL);
    cap_rep r;
    cr_assert(find_rep(sup, is_give_up, &r), "no reached_max_restart_intensity report");
    cr_assert(fx_pid_eq(r.child, a));
    char w[96];
    fx_reason_format(&r.reason, w, sizeof w);
    cr_assert_neq(r.reason.kind, FX_REASON_NORMAL, "the give-up report's reason is %s",
                  w);
    cr_assert(strstr(r.reason.text, "reached_max_restart_intensity") != NULL,
              "the give-up report's reason is %s", w);
    tvm_stop(&t);
}
