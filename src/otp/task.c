/* Tasks (include/fauxtp/task.h), written against the public API only.
 *
 * A task is a small process. Its owner spawns it with a monitor (and
 * links to it unless nolink); the monitor's ref is the task's ref, and the
 * task answers with fx_reply on that ref, so the runtime's reply rule
 * (delivered only while the owner monitors the task) gives cancel its
 * "never delivered" guarantee for free.
 *
 *   CPU task:      spawn -> owner sends GO{ref} -> task runs fn in its
 *                  handler -> fx_reply(owner, ref, outcome) -> exit normal
 *   blocking task: spawn -> owner submits the pool job (reply_to = task,
 *                  job ref = ref) -> POOL_DONE reaches the task ->
 *                  fx_reply(owner, ref, same outcome) -> exit normal
 *
 * The GO message is built before the spawn, so once the process exists
 * starting cannot fail half-way. Exactly-once `done`: a CPU task owns arg
 * from its spawn (its cleanup calls done if fn never ran); a blocking
 * task's arg belongs to the pool job from a successful submit. */
#include "otp/task_impl.h"

#include <fauxtp/error.h>
#include <fauxtp/link.h>
#include <fauxtp/monitor.h>
#include <stdlib.h>
#include <string.h>

/* ---- the task process -------------------------------------------------- */

static void task_cleanup(void *state, const fx_reason *reason)
{
    (void) reason;
    fxi_task_state *s = state;
    if (s->arg_pending && s->done)
        s->done(s->arg); /* killed (or crashed in fn) before done ran */
    s->arg_pending = false;
}

/* Sends the outcome payload (header + result) to the owner as a reply. */
static void reply_outcome(fx_ctx *cx, const fxi_task_state *s, const void *payload,
                          size_t size)
{
    fx_from to = {.pid = s->owner, .ref = s->ref};
    if (fx_reply(cx, to, payload, size) == FX_EMSGSIZE) {
        fx_outcome h = {.ref = s->ref, .status = FX_EMSGSIZE};
        (void) fx_reply(cx, to, &h, sizeof h);
    }
    /* Any other failure: the owner is gone (dropped) or memory ran out;
     * the owner then learns of the task's end from its DOWN. */
}

static fx_next on_go(fx_ctx *cx, fx_msg *msg)
{
    fxi_task_state *s = fx_state(cx);
    memcpy(&s->ref, fx_msg_data(msg), sizeof s->ref);
    fx_msg *res = NULL;
    int st = s->fn(s->arg, &res);
    s->arg_pending = false;
    if (s->done)
        s->done(s->arg);
    size_t rsize = res ? fx_msg_size(res) : 0;
    fx_outcome h = {
        .ref = s->ref, .status = st, .type = res ? fx_msg_type(res) : 0, .size = rsize};
    unsigned char *buf = malloc(sizeof h + rsize);
    if (buf) {
        memcpy(buf, &h, sizeof h);
        if (rsize)
            memcpy(buf + sizeof h, fx_msg_data(res), rsize);
        reply_outcome(cx, s, buf, sizeof h + rsize);
        free(buf);
    } else {
        h.status = FX_ENOMEM;
        h.type = 0;
        h.size = 0;
        reply_outcome(cx, s, &h, sizeof h);
    }
    fx_msg_free(res);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next on_pool_done(fx_ctx *cx, fx_msg *msg)
{
    fxi_task_state *s = fx_state(cx);
    fx_outcome h;
    const void *data;
    if (fx_outcome_get(msg, &h, &data) == 0) {
        s->ref = h.ref;
        /* The job crashed: the task dies of it, as a CPU task whose fn
         * crashed does (its owner sees the exit, not a result). */
        if (h.type == FX_MSG_POOL_CRASH && h.size > 0)
            return fx_stop(cx, fx_reason_error(h.status, "%.*s", (int) h.size - 1,
                                               (const char *) data));
        reply_outcome(cx, s, fx_msg_data(msg), fx_msg_size(msg));
    }
    return fx_stop(cx, fx_reason_normal());
}

static fx_next task_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    fxi_task_state *s = fx_state(cx);
    if (s->blocking) {
        fx_match m = {.type = FX_MSG_POOL_DONE};
        return fx_receive(cx, on_pool_done, &m, FX_INFINITY);
    }
    fx_match m = {.type = FXI_TASK_GO, .from = s->owner};
    return fx_receive(cx, on_go, &m, FX_INFINITY);
}

/* ---- starting ------------------------------------------------------------ */

int fxi_task_start(fx_vm *vm, fx_ctx *cx, fx_inbox *ib, const fx_task_opts *o,
                   fx_task *out)
{
    fxi_task_state init = {
        .fn = o->fn,
        .arg = o->arg,
        .done = o->done,
        .owner = cx ? fx_self(cx) : fx_inbox_pid(ib),
        .blocking = o->blocking,
        .arg_pending = !o->blocking,
    };
    fx_spawn_opts so = {
        .init = task_init,
        .state_size = sizeof init,
        .state_init = &init,
        .cleanup = task_cleanup,
        .label = o->label ? o->label : "task",
    };
    fx_msg *go = NULL;
    int rc;
    if (!o->blocking &&
        (rc = fx_msg_new_behaviour(FXI_TASK_GO, sizeof(fx_ref), &go)) != 0)
        return rc;
    fx_pid pid;
    fx_ref ref;
    rc = cx ? fx_spawn_monitor(cx, &so, &pid, &ref)
            : fx_inbox_spawn_monitor(ib, &so, &pid, &ref);
    if (rc != 0) {
        fx_msg_free(go);
        return rc;
    }
    if (cx && !o->nolink)
        (void) fx_link(cx, pid); /* it waits for us: it cannot have ended */
    if (o->blocking) {
        fx_pool_job job = {
            .fn = o->fn, .arg = o->arg, .done = o->done, .reply_to = pid, .ref = ref};
        rc = fx_pool_submit(vm, &job);
        if (rc != 0) {
            /* Withdraw the task: no link, no DOWN, then kill it. */
            if (cx) {
                (void) fx_unlink(cx, pid);
                (void) fx_demonitor(cx, ref, FX_DEMONITOR_FLUSH);
                (void) fx_exit(cx, pid, fx_reason_kill());
            } else {
                (void) fx_inbox_demonitor(ib, ref, FX_DEMONITOR_FLUSH);
                (void) fx_vm_exit(vm, pid, fx_reason_kill());
            }
            return rc;
        }
    } else {
        memcpy(fx_msg_data_mut(go), &ref, sizeof ref);
        /* Only FX_ENOPROC can fail here (someone killed the task already:
         * its cleanup ran done, and the owner gets its DOWN). */
        if ((cx ? fx_send_msg(cx, pid, go) : fx_inbox_send_msg(ib, pid, go)) != 0)
            fx_msg_free(go);
    }
    out->pid = pid;
    out->ref = ref;
    return 0;
}

FX_API int fx_task_async(fx_ctx *cx, const fx_task_opts *opts, fx_task *out)
{
    if (!cx || !opts || !out || !opts->fn)
        return FX_EINVAL;
    return fxi_task_start(fx_ctx_vm(cx), cx, NULL, opts, out);
}

/* ---- awaiting, decoding, cancelling ---------------------------------------- */

FX_API fx_next fx_task_await(fx_ctx *cx, fx_task task, fx_handler h, int64_t timeout_ms)
{
    fx_match m = {.ref = task.ref};
    return fx_receive(cx, h, &m, timeout_ms);
}

int fxi_task_decode(fx_task task, const fx_msg *msg, fx_task_result *out)
{
    memset(out, 0, sizeof *out);
    uint32_t type = fx_msg_type(msg);
    if (type == FX_MSG_TIMEOUT) {
        fx_timeout_info ti;
        if (fx_msg_size(msg) < sizeof ti)
            return FX_ENOENT;
        memcpy(&ti, fx_msg_data(msg), sizeof ti);
        if (!fx_ref_eq(ti.ref, task.ref))
            return FX_ENOENT;
        out->kind = FX_TASK_TIMEOUT;
        return 0;
    }
    if (!fx_ref_eq(fx_msg_ref(msg), task.ref))
        return FX_ENOENT;
    if (type == FX_MSG_REPLY) {
        fx_outcome h;
        const void *data;
        if (fx_outcome_get(msg, &h, &data) != 0)
            return FX_ENOENT;
        out->kind = FX_TASK_DONE;
        out->status = h.status;
        out->type = h.type;
        out->size = (size_t) h.size;
        out->data = data;
        return 0;
    }
    if (type == FX_MSG_DOWN) {
        fx_down_info d;
        memcpy(&d, fx_msg_data(msg), sizeof d);
        out->kind = FX_TASK_EXITED;
        out->reason = d.reason;
        return 0;
    }
    return FX_ENOENT;
}

/* The task ended (it replied, or we took its DOWN): drop the monitor (and
 * a DOWN already queued) and the link, so nothing more comes from it. */
void fxi_task_forget(fx_ctx *cx, fx_task task, int kind)
{
    if (kind == FX_TASK_DONE)
        (void) fx_demonitor(cx, task.ref, FX_DEMONITOR_FLUSH);
    if (kind == FX_TASK_DONE || kind == FX_TASK_EXITED)
        (void) fx_unlink(cx, task.pid);
}

FX_API int fx_task_result_get(fx_ctx *cx, fx_task task, const fx_msg *msg,
                              fx_task_result *out)
{
    if (!cx || !msg || !out)
        return FX_EINVAL;
    int rc = fxi_task_decode(task, msg, out);
    if (rc == 0)
        fxi_task_forget(cx, task, out->kind);
    return rc;
}

FX_API int fx_task_cancel(fx_ctx *cx, fx_task task)
{
    if (!cx)
        return FX_EINVAL;
    if (fx_pid_is_none(task.pid) || task.ref.id == 0)
        return FX_ENOENT;
    (void) fx_unlink(cx, task.pid);
    int rc = fx_demonitor(cx, task.ref, FX_DEMONITOR_FLUSH);
    (void) fx_exit(cx, task.pid, fx_reason_kill());
    return rc == 0 ? 0 : FX_ENOENT;
}
