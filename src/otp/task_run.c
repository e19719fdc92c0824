/* Running a task from a thread outside the VM and waiting for it
 * (fx_vm_task_run, include/fauxtp/task.h): a temporary inbox owns the
 * task, monitoring it, and receives its reply or DOWN. */
#include <fauxtp/error.h>
#include <string.h>

#include "otp/task_impl.h"

/* Copies a DONE outcome's result into a new message for the caller. */
static int take_result(const fx_task_result *r, int *status, fx_msg **result)
{
    *status = r->status;
    *result = NULL;
    if (r->type == 0 && r->size == 0)
        return 0;
    fx_msg *m;
    int rc = fx_msg_new(r->type, r->size, &m);
    if (rc == FX_EINVAL) /* a reserved type cannot come from fx_msg_new */
        return FX_EINVAL;
    if (rc != 0)
        return rc;
    if (r->size)
        memcpy(fx_msg_data_mut(m), r->data, r->size);
    *result = m;
    return 0;
}

FX_API int fx_vm_task_run(fx_vm *vm, const fx_task_opts *opts, int64_t timeout_ms,
                          int *status, fx_msg **result)
{
    if (!vm || !opts || !opts->fn || !status || !result ||
        (timeout_ms < 0 && timeout_ms != FX_INFINITY))
        return FX_EINVAL;
    *result = NULL;
    int rc = fx_vm_on_scheduler(vm);
    if (rc == 1)
        return FX_EWOULDBLOCK;
    fx_inbox *ib;
    if ((rc = fx_inbox_create(vm, &ib)) != 0)
        return rc;
    fx_task t;
    if ((rc = fxi_task_start(vm, NULL, ib, opts, &t)) != 0) {
        fx_inbox_destroy(ib);
        return rc;
    }
    fx_match m = {.ref = t.ref};
    fx_msg *msg = NULL;
    rc = fx_inbox_recv(ib, &m, timeout_ms, &msg);
    if (rc == 0) {
        fx_task_result r;
        if (fxi_task_decode(t, msg, &r) != 0)
            rc = FX_EEXIT; /* cannot happen: the pattern is the task's ref */
        else if (r.kind == FX_TASK_DONE)
            rc = take_result(&r, status, result);
        else
            rc = FX_EEXIT;
        fx_msg_free(msg);
    } else if (rc == FX_ESHUTDOWN) {
        rc = FX_EEXIT; /* started, then ended by the shutdown */
    } else if (rc == FX_ETIMEDOUT) {
        (void) fx_inbox_demonitor(ib, t.ref, FX_DEMONITOR_FLUSH);
        (void) fx_vm_exit(vm, t.pid, fx_reason_kill());
    }
    /* Its monitor and any late message go with it. */
    fx_inbox_destroy(ib);
    return rc;
}
