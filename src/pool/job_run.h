/* Running one pool job on a pool thread with its crashes trapped: a
 * hardware fault (when the VM traps faults) or fx_crash(NULL) in the
 * job's fn or done abandons it, and the job's outcome says so instead of
 * the process dying. See docs/tasks.md ("Crashing jobs"). */
#ifndef FXI_POOL_JOB_RUN_H
#define FXI_POOL_JOB_RUN_H

#include <fauxtp/pool.h>
#include <stdbool.h>

#include "platform/fault.h"

/* What running a job came to. */
typedef struct fxi_job_end {
    int status;     /* fn's answer; FX_EFAULT or FX_ECRASHED when crashed */
    fx_msg *result; /* fn's result message (NULL when crashed), owned */
    bool crashed;   /* fn or done was abandoned */
    char text[64];  /* crashed: "SIGSEGV at 0x10", or fx_crash's text */
} fxi_job_end;

/* Runs job->fn(job->arg, &result), then job->done(job->arg), each with
 * site armed (the calling pool thread's site: fxi_fault_thread_enter or
 * fxi_fault_thread_bind), or a site pushed for an inline run in
 * deterministic mode (fxi_fault_thread_push). A crash in fn skips to done;
 * a crash in done is recorded as well (arg may then leak). Fills *end. */
void fxi_job_run(fxi_fault_site *site, const fx_pool_job *job, fxi_job_end *end);

#endif
