/* Awaiting many tasks with one deadline (include/fauxtp/task.h). The set
 * lives in the caller's storage; a receive predicate picks the messages
 * of its pending tasks, so other messages stay queued. */
#include <fauxtp/error.h>
#include <string.h>
#include <time.h>

#include "otp/task_impl.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

FX_API int fx_task_many_init(fx_task_many *m, const fx_task *tasks, fx_msg **msgs,
                             size_t n, int64_t timeout_ms)
{
    if (!m || (n && (!tasks || !msgs)))
        return FX_EINVAL;
    m->tasks = tasks;
    m->msgs = msgs;
    m->n = n;
    m->pending = n;
    for (size_t i = 0; i < n; i++)
        msgs[i] = NULL;
    if (timeout_ms < 0) {
        m->deadline_ms = -1;
    } else {
        if (timeout_ms > FX_TIMEOUT_MAX)
            timeout_ms = FX_TIMEOUT_MAX;
        m->deadline_ms = now_ms() + timeout_ms;
    }
    return 0;
}

/* The pending task msg is about, or n. */
static size_t find(const fx_task_many *m, const fx_msg *msg)
{
    uint32_t t = fx_msg_type(msg);
    if (t != FX_MSG_REPLY && t != FX_MSG_DOWN)
        return m->n;
    fx_ref r = fx_msg_ref(msg);
    for (size_t i = 0; i < m->n; i++)
        if (!m->msgs[i] && fx_ref_eq(m->tasks[i].ref, r))
            return i;
    return m->n;
}

static bool pending_pred(const fx_msg *msg, void *arg)
{
    const fx_task_many *m = arg;
    return find(m, msg) < m->n;
}

FX_API fx_next fx_task_many_await(fx_ctx *cx, fx_task_many *m, fx_handler h)
{
    if (!m)
        return fx_receive(NULL, h, NULL, 0); /* the invalid fx_next */
    int64_t left = FX_INFINITY;
    if (m->pending == 0) {
        left = 0; /* nothing can come: h gets the timeout at once (put: 1) */
    } else if (m->deadline_ms >= 0) {
        left = m->deadline_ms - now_ms();
        if (left < 0)
            left = 0;
    }
    fx_match match = {.pred = pending_pred, .pred_arg = m};
    return fx_receive(cx, h, &match, left);
}

FX_API int fx_task_many_put(fx_ctx *cx, fx_task_many *m, fx_msg *msg)
{
    if (!cx || !m || !msg)
        return FX_EINVAL;
    if (fx_msg_type(msg) == FX_MSG_TIMEOUT) {
        fx_timeout_info ti;
        if (fx_msg_size(msg) >= sizeof ti) {
            memcpy(&ti, fx_msg_data(msg), sizeof ti);
            /* Our pattern has no ref and no sender. With nothing
             * pending it is await's at-once answer: all in (not kept). */
            if (ti.ref.id == 0 && fx_pid_is_none(ti.from))
                return m->pending ? FX_ETIMEDOUT : 1;
        }
        return FX_ENOENT;
    }
    size_t i = find(m, msg);
    if (i == m->n)
        return FX_ENOENT;
    fx_task_result r;
    if (fxi_task_decode(m->tasks[i], msg, &r) != 0)
        return FX_ENOENT;
    fxi_task_forget(cx, m->tasks[i], r.kind);
    fx_msg_keep(cx, msg);
    m->msgs[i] = msg;
    m->pending--;
    return m->pending == 0 ? 1 : 0;
}

FX_API int fx_task_many_result(const fx_task_many *m, size_t i, fx_task_result *out)
{
    if (!m || !out || i >= m->n)
        return FX_EINVAL;
    if (!m->msgs[i])
        return FX_ENOENT;
    return fxi_task_decode(m->tasks[i], m->msgs[i], out);
}

FX_API void fx_task_many_fini(fx_task_many *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        fx_msg_free(m->msgs[i]);
        m->msgs[i] = NULL;
    }
    m->n = 0;
    m->pending = 0;
}
