/* Running a pool job with its crashes trapped; see job_run.h.
 *
 * The pool thread arms its fault site around the job's fn and done, as a
 * scheduler thread does around a handler. A trapped SIGSEGV, SIGBUS,
 * SIGFPE or SIGILL (the VM's trap_faults) or an fx_crash(NULL) jumps back
 * here: the job's frames are abandoned (the runtime holds no lock of its
 * own while a job runs, so nothing of the VM's is left locked), the thread
 * stays usable and the job ends with status FX_EFAULT or FX_ECRASHED. A
 * result message fn built before it crashed is not freed: after a fault
 * the pointer may be garbage, and freeing garbage would take the process
 * down after all; it leaks (docs/failures.md lists the same caveat for
 * handlers: memory a crashed function held is not given back). */
#include "pool/job_run.h"

#include <fauxtp/error.h>
#include <stdio.h>
#include <string.h>

typedef struct call {
    const fx_pool_job *job;
    fx_msg *result;
    int status;
} call;

static void call_fn(void *arg)
{
    call *c = arg;
    c->status = c->job->fn(c->job->arg, &c->result);
}

static void call_done(void *arg)
{
    call *c = arg;
    c->job->done(c->job->arg);
}

/* Fills end's crash fields after fxi_fault_call_ex abandoned a call. */
static void crashed(fxi_fault_site *site, int signo, void *addr, fxi_job_end *end)
{
    end->crashed = true;
    if (signo) {
        end->status = FX_EFAULT;
        fxi_fault_describe(signo, addr, end->text, sizeof end->text);
    } else {
        end->status = FX_ECRASHED;
        snprintf(end->text, sizeof end->text, "%s", site->text);
    }
}

void fxi_job_run(fxi_fault_site *site, const fx_pool_job *job, fxi_job_end *end)
{
    memset(end, 0, sizeof *end);
    call c = {.job = job, .result = NULL, .status = 0};
    int signo = 0;
    void *addr = NULL;
    if (fxi_fault_call_ex(site, call_fn, &c, &signo, &addr)) {
        end->status = c.status;
        end->result = c.result;
    } else {
        crashed(site, signo, addr, end);
    }
    if (job->done && !fxi_fault_call_ex(site, call_done, &c, &signo, &addr) &&
        !end->crashed)
        crashed(site, signo, addr, end);
    if (end->crashed && end->result) {
        /* fn returned a result but done crashed: the result is sound. */
        fx_msg_free(end->result);
        end->result = NULL;
    }
}
