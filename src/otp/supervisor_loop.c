/* Supervisor: the loop. Every restart decision starts from an EXIT in
 * the mailbox: the child's restart type says whether to restart it, the
 * intensity (a sliding window of restart times) whether the supervisor
 * may, and the strategy which children go down and come back with it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fauxtp/info.h>

#include "otp/sup_impl.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records a restart now (and counts it in the VM's statistics); false
 * when that makes more than `intensity` restarts within the last period
 * (OTP's rule). */
static bool add_restart(fx_ctx *cx, fxi_sup *s)
{
    int64_t now = now_ms();
    /* Forget the restarts that left the window. */
    /* OTP keeps a restart exactly period old (R >= Now - Period). */
    while (s->ntimes && now - s->times[s->thead] > s->period_ms) {
        s->thead = (s->thead + 1) % s->tcap;
        s->ntimes--;
    }
    if (s->ntimes >= (size_t) s->intensity)
        return false; /* this one would be one too many */
    if (s->ntimes == s->tcap) {
        size_t cap = s->tcap ? s->tcap * 2 : 4;
        int64_t *t = malloc(cap * sizeof *t);
        if (!t)
            return false;
        for (size_t i = 0; i < s->ntimes; i++)
            t[i] = s->times[(s->thead + i) % s->tcap];
        free(s->times);
        s->times = t;
        s->tcap = cap;
        s->thead = 0;
    }
    s->times[(s->thead + s->ntimes) % s->tcap] = now;
    s->ntimes++;
    (void) fx_vm_count_restart(fx_ctx_vm(cx)); /* fx_vm_stats.restarts */
    return true;
}

static fx_next gave_up(fx_ctx *cx, fxi_sup *s, const fxi_child *c, fx_pid last)
{
    fx_reason why = fx_reason_shutdown_with("reached_max_restart_intensity");
    fxi_sup_report(cx, s, FX_REPORT_SUP_SHUTDOWN, c, last, &why, false);
    return fxi_sup_shutdown(cx, s, why);
}

static size_t index_of(const fxi_sup *s, const fxi_child *c)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->kids[i] == c)
            return i;
    return s->n;
}

/* Restarts c, with the others its strategy takes along. */
static fx_next restart(fx_ctx *cx, fxi_sup *s, fxi_child *c)
{
    if (fxi_sup_job_begin(s, FXI_JOB_RESTART) != 0)
        fx_crash(cx, "supervisor: out of memory");
    size_t from;
    switch (s->strategy) {
    case FX_ONE_FOR_ALL:
        from = 0;
        break;
    case FX_REST_FOR_ONE:
        from = index_of(s, c);
        break;
    default: /* one_for_one, simple_one_for_one */
        (void) fxi_sup_job_start(s, c);
        return fxi_sup_run(cx, s);
    }
    /* The group goes down in reverse start order, then comes back in
     * start order; a temporary member is stopped and forgotten. */
    for (size_t i = s->n; i-- > from;)
        if (s->kids[i]->pid.id)
            (void) fxi_sup_job_stop(s, s->kids[i]);
    for (size_t i = from; i < s->n; i++) {
        fxi_child *k = s->kids[i];
        if (k != c && k->spec.restart == FX_TEMPORARY) {
            k->doomed = true;
            s->ndoomed++;
        } else
            (void) fxi_sup_job_start(s, k);
    }
    return fxi_sup_run(cx, s);
}

fx_next fxi_sup_restart_failed(fx_ctx *cx, fxi_sup *s, fxi_child *c)
{
    /* Retried through the mailbox, so calls and exits queued meanwhile
     * are handled in between; the retry counts as a restart. */
    c->status = FX_CHILD_RESTARTING;
    fx_msg *m;
    if (fx_msg_new_behaviour(FXI_SUP_RETRY, sizeof c->serial, &m) != 0)
        fx_crash(cx, "supervisor: out of memory");
    memcpy(fx_msg_data_mut(m), &c->serial, sizeof c->serial);
    if (fx_send_msg(cx, fx_self(cx), m) != 0) {
        fx_msg_free(m);
        fx_crash(cx, "supervisor: cannot retry a restart");
    }
    return fxi_sup_job_done(cx, s);
}

fx_next fxi_sup_job_done(fx_ctx *cx, fxi_sup *s)
{
    int kind = s->job.kind;
    s->job.kind = FXI_JOB_NONE;
    if (kind == FXI_JOB_INIT) {
        int rc = fxi_proc_ack(cx, s->start_ack, 0, FX_PID_NONE);
        if (rc != 0)
            fx_crash(cx, "supervisor: start ack: %s", fx_strerror(rc));
    } else if (kind == FXI_JOB_CALL) {
        fxi_sup_call_reply(cx, s, s->job.child ? s->job.child->pid : FX_PID_NONE);
    }
    if (s->ndoomed) { /* else no scan: a job per child of a large dynamic one */
        s->ndoomed = 0;
        for (size_t i = s->n; i-- > 0;) {
            if (!s->kids[i]->doomed)
                continue;
            if (s->kids[i]->pid.id)
                s->ndoomed++; /* still running: the next job's end */
            else
                fxi_sup_child_remove(s, s->kids[i]);
        }
    }
    return fx_become(cx, fxi_sup_loop);
}

/* OTP counts a child being restarted ({restarting, Pid}) as not gone. */
static bool any_significant_running(const fxi_sup *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->kids[i]->spec.significant &&
            (s->kids[i]->pid.id || s->kids[i]->status == FX_CHILD_RESTARTING))
            return true;
    return false;
}

static fx_next child_exited(fx_ctx *cx, fxi_sup *s, fxi_child *c, const fx_reason *r)
{
    fx_pid dead = c->pid;
    (void) fxi_sup_set_pid(s, c, FX_PID_NONE); /* a removal cannot fail */
    c->status = FX_CHILD_UNDEFINED;
    bool again = c->spec.restart == FX_PERMANENT ||
                 (c->spec.restart == FX_TRANSIENT && !fx_reason_is_clean(r));
    bool ok = again && add_restart(cx, s);
    /* OTP reports every exit of a permanent child and every unclean exit
     * of the others, before giving up if it does. */
    if (c->spec.restart == FX_PERMANENT || !fx_reason_is_clean(r))
        fxi_sup_report(cx, s, FX_REPORT_SUP_CHILD_TERMINATED, c, dead, r, ok);
    if (again)
        return ok ? restart(cx, s, c) : gave_up(cx, s, c, dead);
    bool significant = c->spec.significant;
    if (c->spec.restart == FX_TEMPORARY || fxi_sup_dynamic(s))
        fxi_sup_child_remove(s, c);
    if (significant && (s->auto_shutdown == FX_AUTO_SHUTDOWN_ANY_SIGNIFICANT ||
                        (s->auto_shutdown == FX_AUTO_SHUTDOWN_ALL_SIGNIFICANT &&
                         !any_significant_running(s))))
        return fxi_sup_shutdown(cx, s, fx_reason_shutdown());
    return fx_continue(cx);
}

static fxi_child *find_serial(fxi_sup *s, const fx_msg *m)
{
    uint64_t serial;
    if (fx_msg_size(m) != sizeof serial)
        return NULL;
    memcpy(&serial, fx_msg_data(m), sizeof serial);
    for (size_t i = 0; i < s->n; i++)
        if (s->kids[i]->serial == serial)
            return s->kids[i];
    return NULL;
}

/* FXI_GS_SYS: fx_gs_stop_server stops the supervisor (children first). */
static fx_next sys(fx_ctx *cx, fxi_sup *s, fx_msg *m)
{
    const fxi_gs_env *e = fx_msg_data(m);
    fx_reason reason;
    if (fx_msg_size(m) >= sizeof *e + sizeof reason && e->op == FXI_GS_SYS_STOP) {
        memcpy(&reason, e + 1, sizeof reason);
        return fxi_sup_shutdown(cx, s, reason);
    }
    if (e->op == FXI_GS_SYS_SUSPEND) {
        /* get_state is not offered: refused at once, not left to time out. */
        int32_t err = FX_EINVAL;
        (void) fx_reply(cx, (fx_from){fx_msg_from(m), fx_msg_ref(m)}, &err, sizeof err);
    }
    return fx_continue(cx);
}

fx_next fxi_sup_loop(fx_ctx *cx, fx_msg *m)
{
    fxi_sup *s = ((fxi_sup_boot *) fx_state(cx))->sup;
    fx_pid from = fx_msg_from(m);
    switch (fx_msg_type(m)) {
    case FX_MSG_EXIT: {
        fx_exit_info e;
        memcpy(&e, fx_msg_data(m), sizeof e);
        if (s->parent.id && fx_pid_eq(e.pid, s->parent))
            return fxi_sup_shutdown(cx, s, e.reason); /* OTP: same reason */
        fxi_child *c = fxi_sup_find_pid(s, e.pid);
        /* No child: an EXIT from an instance already replaced. */
        return c ? child_exited(cx, s, c, &e.reason) : fx_continue(cx);
    }
    case FXI_GS_CALL:
        if (fx_msg_size(m) >= sizeof(fxi_gs_env))
            return fxi_sup_call(cx, s, m);
        break;
    case FXI_GS_SYS:
        if (fx_msg_size(m) >= sizeof(fxi_gs_env))
            return sys(cx, s, m);
        break;
    case FXI_GS_ABORT:
        if (fx_pid_eq(from, s->starter)) /* an inbox starter gave up */
            return fxi_sup_shutdown(cx, s, fx_reason_killed());
        break;
    case FXI_SUP_RETRY: {
        fxi_child *c = fx_pid_eq(from, fx_self(cx)) ? find_serial(s, m) : NULL;
        if (c && c->status == FX_CHILD_RESTARTING)
            return add_restart(cx, s) ? restart(cx, s, c)
                                      : gave_up(cx, s, c, FX_PID_NONE);
        break;
    }
    default:
        break; /* anything else is dropped */
    }
    return fx_continue(cx);
}
