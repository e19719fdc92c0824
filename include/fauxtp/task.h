/* fauxtp: tasks, Elixir's Task for continuation handlers.
 *
 * A task runs one function (an fx_work_fn, <fauxtp/pool.h>) for its owner
 * and sends back its outcome. It is a process: fx_task_async spawns a
 * small task process, linked to the owner and monitored by it (Elixir's
 * Task.async), or only monitored (opts.nolink: Task.Supervisor.
 * async_nolink). The function runs
 *   - on the schedulers, inside the task process's handler (CPU work that
 *     is short enough not to hold a scheduler thread for long), or
 *   - on the blocking pool (opts.blocking), while the task process waits.
 *
 * Its outcome reaches the owner as an FX_MSG_REPLY whose ref is task.ref
 * (the owner's monitor on the task) and whose payload is an fx_outcome
 * header plus the result. Like a call's reply it is delivered only while
 * the owner still monitors the task, so after fx_task_cancel (or once the
 * owner has decoded a DOWN) a late result is dropped, never seen. Await
 * with fx_task_await (a receive on task.ref) or, in a GenServer, take the
 * message in handle_info; fx_task_result_get decodes either.
 *
 * Failure, as in Elixir: a function that returns non-zero is an ordinary
 * outcome (status != 0), nothing crashes. A task process that dies before
 * replying (fx_crash(NULL, ...) in the function, a trapped fault, an
 * fx_exit from someone) sends a DOWN on task.ref, and, when linked, the
 * exit signal kills an owner that does not trap exits, as Task.async does.
 * An owner that dies abandons its tasks: a linked task dies with it
 * (unless the owner exited normally), a running pool job still runs to
 * completion, and every result is dropped and freed. See docs/tasks.md. */
#ifndef FAUXTP_TASK_H
#define FAUXTP_TASK_H

#include "actor.h"
#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A running task: its process and the owner's monitor on it. */
typedef struct fx_task {
    fx_pid pid;
    fx_ref ref;
} fx_task;

/* How to start a task. Zero-initialise, then set the fields. */
typedef struct fx_task_opts {
    fx_work_fn fn; /* required */
    void *arg;     /* borrowed until `done` runs */
    /* Optional: called exactly once after a successful start, after fn
     * returned, or when fn will never run (the task was cancelled or
     * killed before it started, or VM shutdown dropped its pool job):
     * free arg here. It runs on a scheduler or pool thread and must not
     * block. Not called when the start fails: arg is still the caller's. */
    void (*done)(void *arg);
    bool blocking;     /* run fn on the blocking pool, not on a scheduler */
    bool nolink;       /* monitor only (a crash is a DOWN, not an exit) */
    const char *label; /* optional, for crash reports; a literal */
} fx_task_opts;

/* Starts a task owned by the running process; *out (required) gets it.
 * Errors: FX_EINVAL (NULL cx, opts or out, no fn), FX_EAGAIN (blocking:
 * the pool's queue is full), FX_EFULL, FX_ENOMEM, FX_ESHUTDOWN, FX_ESYS
 * (blocking: no pool thread could be started). On error nothing was started and done is
 * not called. Inside a handler only. */
FX_API int fx_task_async(fx_ctx *cx, const fx_task_opts *opts, fx_task *out);

/* Awaits task: a selective receive on task.ref, so h gets the task's
 * result (FX_MSG_REPLY), its DOWN (FX_MSG_DOWN: it died first) or, after
 * timeout_ms (FX_INFINITY: never), an FX_MSG_TIMEOUT; other messages stay
 * queued. Decode with fx_task_result_get. On a timeout the task keeps
 * running: await again, or fx_task_cancel it. As fx_receive for a NULL
 * cx or h. Inside a handler only. */
FX_API fx_next fx_task_await(fx_ctx *cx, fx_task task, fx_handler h, int64_t timeout_ms);

/* What a message says about a task. */
typedef enum fx_task_kind {
    FX_TASK_DONE = 1,    /* it replied: status, type, data, size */
    FX_TASK_EXITED = 2,  /* it died before replying: reason */
    FX_TASK_TIMEOUT = 3, /* fx_task_await's timeout elapsed */
} fx_task_kind;

typedef struct fx_task_result {
    int kind;         /* fx_task_kind */
    int32_t status;   /* DONE: fn's return value */
    uint32_t type;    /* DONE: the result message's type, 0 without one */
    size_t size;      /* DONE: result payload bytes */
    const void *data; /* DONE: the payload, inside msg (borrowed) */
    fx_reason reason; /* EXITED: the task's exit reason */
} fx_task_result;

/* Decodes msg if it concerns task and fills *out. For DONE and EXITED the
 * owner's monitor on the task is removed (with any queued DOWN: flush),
 * so nothing more arrives for it. Returns 0, FX_ENOENT when msg is about
 * something else (another task, another message), FX_EINVAL (NULL cx,
 * msg or out). Inside a handler only (GenServer callbacks included). */
FX_API int fx_task_result_get(fx_ctx *cx, fx_task task, const fx_msg *msg,
                              fx_task_result *out);

/* Cancels task: unlinks, demonitors (flush) and kills its process. No
 * result or DOWN for it arrives after this returns; a pool job already
 * running runs to completion and its outcome is dropped; a queued one
 * still runs (pool jobs cannot be withdrawn) and is dropped likewise; done
 * runs as fx_task_opts says. Returns 0, or FX_ENOENT when the task had
 * already ended (its result, if any, may still be queued: it stays until
 * removed by the flush, i.e. it is never delivered). Errors: FX_EINVAL
 * (NULL cx). Inside a handler only. */
FX_API int fx_task_cancel(fx_ctx *cx, fx_task task);

/* --- Awaiting many tasks ------------------------------------------------
 *
 * One deadline for a set of tasks. The caller keeps an fx_task_many (and
 * the arrays it points to) in its state; its handler h is called with each
 * message about the set and hands it to fx_task_many_put, which keeps it;
 * once every task has an outcome (or the deadline passed) h carries on:
 *
 *   fx_next on_any(fx_ctx *cx, fx_msg *m) {
 *       S *s = fx_state(cx);
 *       int rc = fx_task_many_put(cx, &s->many, m);
 *       if (rc == 0) return fx_task_many_await(cx, &s->many, on_any);
 *       ... rc == 1: all in (fx_task_many_result); FX_ETIMEDOUT ...
 *       fx_task_many_fini(&s->many);
 *   } */
typedef struct fx_task_many {
    const fx_task *tasks; /* borrowed, n entries */
    fx_msg **msgs;        /* n slots: each task's kept outcome, or NULL */
    size_t n;
    size_t pending;      /* tasks without an outcome yet */
    int64_t deadline_ms; /* monotonic clock; -1: none */
} fx_task_many;

/* Sets up *m for tasks[0..n) with slots msgs[0..n) (both borrowed until
 * fx_task_many_fini; msgs is cleared) and a timeout for the whole set
 * (FX_INFINITY: none). Errors: FX_EINVAL (NULL m, or NULL arrays with n >
 * 0). Any thread. */
FX_API int fx_task_many_init(fx_task_many *m, const fx_task *tasks, fx_msg **msgs,
                             size_t n, int64_t timeout_ms);
/* Receives the next message about any task of m still pending, or a
 * TIMEOUT at m's deadline, with h. With nothing pending (an empty set, or
 * every outcome in) h gets a TIMEOUT at once, which fx_task_many_put
 * answers with 1. As fx_receive for NULL cx, m or h. Inside a handler
 * only. */
FX_API fx_next fx_task_many_await(fx_ctx *cx, fx_task_many *m, fx_handler h);
/* Takes msg (the message h is handling) into m: 1 when every task of m
 * now has an outcome, 0 when some are pending, FX_ETIMEDOUT when msg is
 * m's deadline, FX_ENOENT when msg is not about m (it is left alone).
 * For 1 and 0, msg is now m's (kept: do not free it); the TIMEOUT that
 * await delivers when nothing was pending also answers 1 but stays the
 * handler's, as any message it does not keep. FX_EINVAL for NULL
 * cx, m or msg. Inside a handler only. */
FX_API int fx_task_many_put(fx_ctx *cx, fx_task_many *m, fx_msg *msg);
/* Decodes task i's outcome as fx_task_result_get would (data points into
 * m's kept message). FX_ENOENT: no outcome yet; FX_EINVAL: NULL m or
 * out, i >= n. Any thread owning m. */
FX_API int fx_task_many_result(const fx_task_many *m, size_t i, fx_task_result *out);
/* Frees the messages m kept and clears it. Pending tasks are not touched
 * (cancel them first if they should stop). NULL is ignored. Any thread
 * owning m; call it from the owner's cleanup too. */
FX_API void fx_task_many_fini(fx_task_many *m);

/* --- From outside the VM -------------------------------------------------- */

/* Runs a task and waits up to timeout_ms (FX_INFINITY: forever) for it,
 * from a thread outside the VM (opts.nolink is implied). On 0, *status
 * (required) is fn's return value and *result (required) the result
 * message fn built (the caller's: fx_msg_free), or NULL without one. On
 * FX_ETIMEDOUT the task is cancelled as by fx_task_cancel. Errors:
 * FX_EINVAL (NULL vm, opts, status or result, no fn), FX_EWOULDBLOCK (on
 * a scheduler thread), FX_ETIMEDOUT, FX_EEXIT (the task died without an
 * outcome: fx_crash, or a VM shutdown that began while it ran), FX_EAGAIN,
 * FX_EFULL, FX_ENOMEM, FX_ESHUTDOWN (the VM is not running: nothing was
 * started), FX_EFORKED, FX_ESYS (blocking: no pool thread could be
 * started). With FX_EAGAIN, FX_EFULL, FX_ENOMEM, FX_ESHUTDOWN and FX_ESYS
 * nothing was started and done is not called; otherwise done runs as
 * fx_task_opts says. Any thread outside vm's schedulers, pool threads
 * too; but a blocking task run from a pool job needs another pool thread
 * while the calling one waits: with every pool thread so waiting
 * (pool_max_threads 1, say) it cannot start, and the wait ends with
 * FX_ETIMEDOUT (FX_INFINITY would wait forever). */
FX_API int fx_vm_task_run(fx_vm *vm, const fx_task_opts *opts, int64_t timeout_ms,
                          int *status, fx_msg **result);

#ifdef __cplusplus
}
#endif
#endif
