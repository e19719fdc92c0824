/* Supervisor internals shared by src/otp/supervisor*.c.
 *
 * Written against the public API (and ds/u64map.h for its children by
 * pid). A supervisor is a process that
 * traps exits and speaks GenServer's protocols: the start handshake
 * (proc_start.c) and calls (CALL envelopes answered with fx_reply), so
 * fx_gs_call and fx_gs_stop_server work on it.
 *
 * Everything it does that needs waiting (starting a child, stopping one)
 * is a "job": a list of children to stop, in order, then a list to start,
 * in order, then a finishing step that depends on why the job was made
 * (start-up, a restart, a call, the supervisor's own shutdown). While a
 * job runs, the supervisor waits in a selective receive for the one child
 * it is dealing with; everything else stays queued, in order, and is
 * handled when the job is done (OTP's supervisor is busy the same way). */
#ifndef FXI_OTP_SUP_IMPL_H
#define FXI_OTP_SUP_IMPL_H

#include <fauxtp/registry.h>
#include <fauxtp/supervisor.h>

#include "ds/u64map.h"
#include "otp/gs_impl.h"

/* Children a spec may list (the spec travels in the spawn's inline
 * state); more can be added with start_child. */
#define FXI_SUP_MAX_SPEC_CHILDREN 512

/* Self-message: retry the restart of a child whose restart failed. */
#define FXI_SUP_RETRY FXI_GS_TYPE(0x20) /* payload: uint64_t child serial */

typedef struct fxi_child {
    fx_child_spec spec;
    fx_pid pid;      /* FX_PID_NONE unless running */
    int32_t status;  /* fx_child_status */
    uint64_t serial; /* unique within the supervisor (retry messages) */
    void *extra;     /* dynamic children: the start arguments (owned) */
    size_t extra_size;
    bool doomed; /* temporary, stopped by a group restart: removed
                    when the job ends */
} fxi_child;

enum fxi_sup_job_kind {
    FXI_JOB_NONE = 0,
    FXI_JOB_INIT,     /* start-up: ACK the starter at the end */
    FXI_JOB_RESTART,  /* after a child's exit */
    FXI_JOB_CALL,     /* a call that starts or stops a child: reply */
    FXI_JOB_SHUTDOWN, /* stop everything, then exit with job.reason */
};

typedef struct fxi_sup_job {
    int kind;
    size_t cap;       /* of both lists */
    fxi_child **stop; /* in stop order */
    size_t nstop, istop;
    fxi_child **start; /* in start order */
    size_t nstart, istart;
    fx_ref mon;       /* the monitor on the child being stopped */
    fxi_child *child; /* FXI_JOB_CALL: the child it is about */
    fx_from reply_to; /* FXI_JOB_CALL: the caller */
    uint32_t call;    /* FXI_JOB_CALL: the request type */
    fx_reason reason; /* FXI_JOB_SHUTDOWN: the exit reason */
    int32_t rc;       /* FXI_JOB_CALL: the outcome so far */
    fx_reason why;    /* ... and a failed start's reason */
} fxi_sup_job;

typedef struct fxi_sup {
    /* The flags, from the spec. */
    int32_t strategy, auto_shutdown, intensity;
    int64_t period_ms;
    uint32_t max_children;
    fx_child_spec tmpl; /* dynamic supervisors: the template */
    fx_pid starter, parent;
    fx_from start_ack; /* START's from/ref, ACKed when started */
    /* While registering spec.name (supervisor_name.c): what follows. */
    fx_next (*begin)(fx_ctx *cx, struct fxi_sup *s);
    /* The children, in start order; the running ones by pid (pid.id ->
     * fxi_child *, kept by fxi_sup_set_pid), so an exit or a call by pid
     * costs no scan of a large dynamic supervisor. */
    fxi_child **kids;
    size_t n, cap;
    fxi_u64map bypid;
    size_t ndoomed; /* children marked doomed since the last job ended */
    uint64_t next_serial;
    /* Restart times (ms, monotonic) within the period: a ring. */
    int64_t *times;
    size_t ntimes, tcap, thead;
    fxi_sup_job job;
    const char *label; /* the spec's label, else "supervisor": reports */
} fxi_sup;

/* The spawned process's inline state: a pointer to the live supervisor
 * (NULL until its init ran) and the spec it was started from. */
typedef struct fxi_sup_boot {
    fxi_sup *sup;
    fx_sup_spec spec; /* children points at kids below, copied in place */
    fx_pid starter;
    char name[FX_NAME_MAX]; /* spec.name's copy ("" none); spec.name = NULL */
    size_t nkids;
    fx_child_spec kids[];
} fxi_sup_boot;

/* supervisor.c */
bool fxi_sup_child_spec_ok(const fx_child_spec *c, bool dynamic);
fxi_child *fxi_sup_child_new(fxi_sup *s, const fx_child_spec *spec);
/* Appends c (FX_ENOMEM). */
int fxi_sup_child_add(fxi_sup *s, fxi_child *c);
/* Removes and frees c. */
void fxi_sup_child_remove(fxi_sup *s, fxi_child *c);
fxi_child *fxi_sup_find_id(fxi_sup *s, const char *id);
fxi_child *fxi_sup_find_pid(fxi_sup *s, fx_pid pid);
/* Sets c->pid (FX_PID_NONE when it stopped) and the by-pid map. 0, or
 * FX_ENOMEM (nothing changed; the caller crashes the supervisor). Setting
 * FX_PID_NONE cannot fail. */
int fxi_sup_set_pid(fxi_sup *s, fxi_child *c, fx_pid pid);
bool fxi_sup_dynamic(const fxi_sup *s);
int64_t fxi_sup_shutdown_ms(const fx_child_spec *c);

/* supervisor_job.c: the job engine. Lists are set with the job_* helpers,
 * then fxi_sup_run drives the job to its end. */
int fxi_sup_job_begin(fxi_sup *s, int kind);
int fxi_sup_job_stop(fxi_sup *s, fxi_child *c);
int fxi_sup_job_start(fxi_sup *s, fxi_child *c);
fx_next fxi_sup_run(fx_ctx *cx, fxi_sup *s);
/* The job to stop every running child (reverse start order), then exit
 * with reason. */
fx_next fxi_sup_shutdown(fx_ctx *cx, fxi_sup *s, fx_reason reason);

/* supervisor_name.c: registering under spec.name at start. */
bool fxi_sup_name_ok(const char *name);
/* Copies name (NULL: none) into b->name. */
void fxi_sup_copy_name(fxi_sup_boot *b, const char *name);
/* Registers b->name, then goes on with begin(cx, s); a taken name ACKs
 * FX_EEXIST and exits normally, another registry error exits with it. */
fx_next fxi_sup_register_name(fx_ctx *cx, fxi_sup *s,
                              fx_next (*begin)(fx_ctx *cx, fxi_sup *s));

/* supervisor_loop.c */
fx_next fxi_sup_loop(fx_ctx *cx, fx_msg *m);
/* Called by the job engine when a start in a restart job failed. */
fx_next fxi_sup_restart_failed(fx_ctx *cx, fxi_sup *s, fxi_child *c);
/* Called by the job engine when a job ends (not a shutdown job). */
fx_next fxi_sup_job_done(fx_ctx *cx, fxi_sup *s);

/* supervisor_report.c: hands a report of kind (FX_REPORT_SUP_*) about
 * child c to the VM's logger; why and restarting as fx_crash_report says
 * (why NULL: normal). */
void fxi_sup_report(fx_ctx *cx, const fxi_sup *s, int kind, const fxi_child *c,
                    fx_pid child_pid, const fx_reason *why, bool restarting);

/* supervisor_calls.c */
fx_next fxi_sup_call(fx_ctx *cx, fxi_sup *s, fx_msg *m);
/* Replies to the caller of the current FXI_JOB_CALL job. */
void fxi_sup_call_reply(fx_ctx *cx, fxi_sup *s, fx_pid pid);

#endif
