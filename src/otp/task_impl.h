/* Tasks: what task.c, task_many.c and task_run.c share. Public API only
 * (src/otp rule). */
#ifndef FXI_OTP_TASK_IMPL_H
#define FXI_OTP_TASK_IMPL_H

#include <fauxtp/inbox.h>
#include <fauxtp/task.h>

/* The owner's start signal to a CPU task; payload: the task's ref. */
#define FXI_TASK_GO (FX_MSG_BEHAVIOUR_BASE + 0x310u)

/* A task process's inline state. Owner thread (the task's) only. */
typedef struct fxi_task_state {
    fx_work_fn fn;
    void *arg;
    void (*done)(void *arg);
    fx_pid owner;
    fx_ref ref; /* from GO (CPU) or the pool's outcome (blocking) */
    bool blocking;
    bool arg_pending; /* done still to be called by this process */
} fxi_task_state;

/* Starts a task owned by the running process (cx) or by inbox ib (cx
 * NULL: monitored only). Arguments checked by the caller. */
int fxi_task_start(fx_vm *vm, fx_ctx *cx, fx_inbox *ib, const fx_task_opts *o,
                   fx_task *out);
/* Decodes msg about task into *out (0) or FX_ENOENT; no side effects. */
int fxi_task_decode(fx_task task, const fx_msg *msg, fx_task_result *out);
/* After a DONE or EXITED outcome: drops the owner's monitor and link. */
void fxi_task_forget(fx_ctx *cx, fx_task task, int kind);

#endif
