/* Supervisor: the job engine. A job stops a list of children, one at a
 * time and in order, then starts a list, one at a time and in order; see
 * sup_impl.h.
 *
 * Stopping a child (OTP's shutdown protocol): monitor it, send it an exit
 * signal `shutdown` (or `kill` for brutal_kill), and wait for its EXIT
 * (it is linked) or the monitor's DOWN (if it unlinked itself); after its
 * shutdown time, `kill` it and wait again. A child that was already dead
 * is handled the same way: its EXIT is in the queue, or the DOWN says
 * noproc. */
#include <stdio.h>
#include <stdlib.h>

#include "otp/sup_impl.h"

static fxi_sup *sup_of(fx_ctx *cx)
{
    return ((fxi_sup_boot *) fx_state(cx))->sup;
}

int fxi_sup_job_begin(fxi_sup *s, int kind)
{
    fxi_sup_job *j = &s->job;
    size_t cap = s->n + 1;
    if (cap > j->cap) {
        fxi_child **a = realloc(j->stop, cap * sizeof *a);
        if (!a)
            return FX_ENOMEM;
        j->stop = a;
        if (!(a = realloc(j->start, cap * sizeof *a)))
            return FX_ENOMEM;
        j->start = a;
        j->cap = cap;
    }
    j->kind = kind;
    j->nstop = j->istop = j->nstart = j->istart = 0;
    j->mon = FX_REF_NONE;
    j->child = NULL;
    j->rc = 0;
    j->call = 0;
    return 0;
}

int fxi_sup_job_stop(fxi_sup *s, fxi_child *c)
{
    fxi_sup_job *j = &s->job;
    if (j->nstop == j->cap)
        return FX_ENOMEM; /* cannot happen: each child at most once */
    j->stop[j->nstop++] = c;
    return 0;
}

int fxi_sup_job_start(fxi_sup *s, fxi_child *c)
{
    fxi_sup_job *j = &s->job;
    if (j->nstart == j->cap)
        return FX_ENOMEM;
    j->start[j->nstart++] = c;
    return 0;
}

/* ---- stopping one child ------------------------------------------------------ */

static fx_next stopped(fx_ctx *cx, fx_msg *m);

static bool exit_or_down(const fx_msg *m, void *arg)
{
    const fxi_sup *s = arg;
    uint32_t t = fx_msg_type(m);
    return t == FX_MSG_EXIT || (t == FX_MSG_DOWN && fx_ref_eq(fx_msg_ref(m), s->job.mon));
}

/* Sends c the exit signal `reason`. Without memory for the signal
 * (FX_ENOMEM) the child would never hear of it and the supervisor would
 * wait out the child's whole shutdown time for nothing (and, when the VM
 * shuts down, the shutdown's deadline with it): one more try, then a
 * kill, then the supervisor crashes, and its children die by their links
 * (promises made in advance: no memory needed). FX_ENOPROC: it is dead
 * already; its EXIT or the DOWN tells. */
static void signal_child(fx_ctx *cx, fxi_child *c, fx_reason reason)
{
    if (fx_exit(cx, c->pid, reason) != FX_ENOMEM ||
        fx_exit(cx, c->pid, reason) != FX_ENOMEM)
        return;
    if (reason.kind != FX_REASON_KILL &&
        fx_exit(cx, c->pid, fx_reason_kill()) != FX_ENOMEM)
        return;
    fx_crash(cx, "supervisor: out of memory signalling a child");
}

static fx_next wait_exit(fx_ctx *cx, fxi_sup *s, fxi_child *c, int64_t timeout_ms)
{
    fx_match mt = {.from = c->pid, .pred = exit_or_down, .pred_arg = s};
    return fx_receive(cx, stopped, &mt, timeout_ms);
}

static fx_next stop_child(fx_ctx *cx, fxi_sup *s, fxi_child *c)
{
    int64_t t = fxi_sup_shutdown_ms(&c->spec);
    if (fx_monitor(cx, c->pid, &s->job.mon) != 0)
        fx_crash(cx, "supervisor: cannot monitor a child");
    bool brutal = t == FX_SHUTDOWN_BRUTAL_KILL;
    signal_child(cx, c, brutal ? fx_reason_kill() : fx_reason_shutdown());
    return wait_exit(cx, s, c, brutal ? FX_INFINITY : t);
}

/* OTP's shutdown/2: shutdown is the answer asked for, killed that of a
 * brutal_kill, normal that of a non-permanent child already gone (noproc:
 * it left before we asked, its exit handled already); anything else is a
 * shutdown_error. */
static bool stopped_cleanly(const fxi_child *c, const fx_reason *r)
{
    if (r->kind == FX_REASON_SHUTDOWN && !r->text[0])
        return true;
    if (r->kind == FX_REASON_KILLED)
        return fxi_sup_shutdown_ms(&c->spec) == FX_SHUTDOWN_BRUTAL_KILL;
    if (r->kind == FX_REASON_NOPROC)
        return true;
    return r->kind == FX_REASON_NORMAL && c->spec.restart != FX_PERMANENT;
}

static fx_next stopped(fx_ctx *cx, fx_msg *m)
{
    fxi_sup *s = sup_of(cx);
    fxi_child *c = s->job.stop[s->job.istop];
    if (fx_msg_type(m) == FX_MSG_TIMEOUT) {
        /* It did not stop in time. */
        signal_child(cx, c, fx_reason_kill());
        return wait_exit(cx, s, c, FX_INFINITY);
    }
    fx_reason why;
    if (fx_msg_type(m) == FX_MSG_EXIT) { /* the DOWN follows: drop it */
        why = ((const fx_exit_info *) fx_msg_data(m))->reason;
        (void) fx_demonitor(cx, s->job.mon, FX_DEMONITOR_FLUSH);
    } else {
        why = ((const fx_down_info *) fx_msg_data(m))->reason;
    }
    if (!stopped_cleanly(c, &why))
        fxi_sup_report(cx, s, FX_REPORT_SUP_SHUTDOWN_ERROR, c, c->pid, &why, false);
    (void) fxi_sup_set_pid(s, c, FX_PID_NONE); /* a removal cannot fail */
    c->status = FX_CHILD_UNDEFINED;
    s->job.istop++;
    return fxi_sup_run(cx, s);
}

/* ---- starting one child ------------------------------------------------------ */

static fx_next start_failed(fx_ctx *cx, fxi_sup *s, fxi_child *c, int rc,
                            const fx_reason *why)
{
    fxi_sup_job *j = &s->job;
    if (j->kind == FXI_JOB_INIT || j->kind == FXI_JOB_RESTART) {
        /* OTP reports start_error at start-up and on restarts; a caller
         * of start_child gets the error instead. */
        fx_reason r = why ? *why : fx_reason_error(rc, "%s", fx_err_name(rc));
        fxi_sup_report(cx, s, FX_REPORT_SUP_START_ERROR, c, FX_PID_NONE, &r, false);
    }
    switch (j->kind) {
    case FXI_JOB_INIT: {
        /* The starter learns it from the DOWN, once the others are
         * stopped. As a GenServer's failed init (OTP 25), the supervisor
         * exits still linked: a linked starter that does not trap exits
         * dies with the reason too. */
        char what[FX_REASON_TEXT_MAX];
        if (why)
            (void) fx_reason_format(why, what, sizeof what);
        else
            snprintf(what, sizeof what, "%s", fx_err_name(rc));
        return fxi_sup_shutdown(
            cx, s,
            fx_reason_shutdown_with("failed_to_start_child %s %s", c->spec.id, what));
    }
    case FXI_JOB_RESTART:
        return fxi_sup_restart_failed(cx, s, c);
    default: /* FXI_JOB_CALL */
        j->rc = rc;
        j->why = why ? *why : fx_reason_error(rc, "%s", fx_strerror(rc));
        return fxi_sup_job_done(cx, s);
    }
}

static fx_next on_started(fx_ctx *cx, fx_msg *m)
{
    fxi_sup *s = sup_of(cx);
    fxi_sup_job *j = &s->job;
    fxi_child *c = j->start[j->istart];
    fx_pid pid = FX_PID_NONE;
    fx_reason why = fx_reason_normal();
    int rc = fx_gs_start_result(cx, m, &pid, &why);
    if (rc == 0) {
        /* Linked by the supervisor itself, not only by the start
         * function: a custom one that forgot the link would leave a child
         * whose death nobody sees (OTP leaves that to the start function).
         * Linking twice does nothing; a child already dead sends an EXIT
         * with reason noproc, handled as its exit. */
        if (fx_link(cx, pid) != 0)
            fx_crash(cx, "supervisor: cannot link a child");
        if (fxi_sup_set_pid(s, c, pid) != 0)
            fx_crash(cx, "supervisor: out of memory");
        c->status = FX_CHILD_RUNNING;
        fxi_sup_report(cx, s, FX_REPORT_SUP_PROGRESS, c, pid, NULL, false);
    } else if (rc == FX_EIGNORE) {
        c->status = FX_CHILD_UNDEFINED;
        if (j->kind == FXI_JOB_CALL) {
            j->rc = FX_EIGNORE;
        } else if (fxi_sup_dynamic(s) || c->spec.restart == FX_TEMPORARY) {
            /* Forgotten when the job ends: a dynamic child without a pid
             * could never be named again, and OTP keeps no spec of an
             * ignored temporary child (supervisor:start_children). */
            c->doomed = true;
            s->ndoomed++;
        }
    } else {
        return start_failed(cx, s, c, rc, rc == FX_EEXIT ? &why : NULL);
    }
    j->istart++;
    return fxi_sup_run(cx, s);
}

/* ---- driving a job ------------------------------------------------------------- */

fx_next fxi_sup_run(fx_ctx *cx, fxi_sup *s)
{
    fxi_sup_job *j = &s->job;
    for (; j->istop < j->nstop; j->istop++) {
        fxi_child *c = j->stop[j->istop];
        if (c->pid.id)
            return stop_child(cx, s, c);
    }
    for (; j->istart < j->nstart; j->istart++) {
        fxi_child *c = j->start[j->istart];
        if (!c->pid.id)
            return c->spec.start(cx, c->spec.arg, c->extra, c->extra_size, on_started);
    }
    if (j->kind == FXI_JOB_SHUTDOWN)
        return fx_stop(cx, j->reason);
    return fxi_sup_job_done(cx, s);
}

fx_next fxi_sup_shutdown(fx_ctx *cx, fxi_sup *s, fx_reason reason)
{
    if (fxi_sup_job_begin(s, FXI_JOB_SHUTDOWN) != 0)
        fx_crash(cx, "supervisor: out of memory"); /* children die by their links */
    s->job.reason = reason;
    for (size_t i = s->n; i-- > 0;)
        if (s->kids[i]->pid.id)
            (void) fxi_sup_job_stop(s, s->kids[i]);
    return fxi_sup_run(cx, s);
}
