/* Supervisor: calls (start_child, terminate_child, restart_child,
 * delete_child, which_children, count_children), the supervisor's side
 * and the blocking client functions. Requests are GenServer CALL
 * envelopes; every reply starts with an fx_sup_reply header. */
#include <stdlib.h>
#include <string.h>

#include "otp/sup_impl.h"

/* ---- the supervisor's side ---------------------------------------------- */

/* Sends r (header + entries, size bytes; borrowed) to the caller. A reply
 * that cannot be sent (FX_EMSGSIZE over max_msg_size, FX_ENOMEM) is
 * replaced by the header alone carrying that code, so the caller learns
 * why instead of waiting out its timeout. A caller that gave up or died
 * (FX_ENOPROC) has nobody to tell. */
static void send_reply(fx_ctx *cx, fx_from to, fx_sup_reply *r, size_t size)
{
    int src = fx_reply(cx, to, r, size);
    if ((src == FX_EMSGSIZE || src == FX_ENOMEM) && size > sizeof *r) {
        memset(r, 0, sizeof *r);
        r->rc = src;
        (void) fx_reply(cx, to, r, sizeof *r);
    }
}

static void reply(fx_ctx *cx, fx_from to, int rc, fx_pid pid, const fx_reason *why,
                  const void *rest, size_t rest_size, uint32_t count)
{
    size_t size = sizeof(fx_sup_reply) + rest_size;
    fx_sup_reply *r = malloc(size);
    if (!r)
        fx_crash(cx, "supervisor: out of memory");
    memset(r, 0, sizeof *r);
    r->rc = rc;
    r->count = count;
    r->pid = pid;
    if (why)
        r->reason = *why;
    if (rest_size)
        memcpy(r + 1, rest, rest_size);
    send_reply(cx, to, r, size);
    free(r);
}

static void reply_rc(fx_ctx *cx, fx_from to, int rc)
{
    reply(cx, to, rc, FX_PID_NONE, NULL, NULL, 0, 0);
}

void fxi_sup_call_reply(fx_ctx *cx, fxi_sup *s, fx_pid pid)
{
    fxi_sup_job *j = &s->job;
    fxi_child *c = j->child;
    switch (j->call) {
    case FX_SUP_START_CHILD:
    case FX_SUP_START_CHILD_ARGS:
        /* A failed start is not added; an ignored one only by a static
         * supervisor, and only if it is not temporary (OTP keeps the spec
         * of an ignored permanent or transient child). */
        if (j->rc != 0 && (j->rc != FX_EIGNORE || fxi_sup_dynamic(s) ||
                           c->spec.restart == FX_TEMPORARY)) {
            fxi_sup_child_remove(s, c);
            j->child = NULL;
        }
        break;
    case FX_SUP_TERMINATE_CHILD:
        if (c->spec.restart == FX_TEMPORARY || fxi_sup_dynamic(s)) {
            fxi_sup_child_remove(s, c);
            j->child = NULL;
        }
        break;
    default: /* FX_SUP_RESTART_CHILD: kept whatever happened */
        break;
    }
    reply(cx, j->reply_to, j->rc, j->rc == 0 ? pid : FX_PID_NONE,
          j->rc == FX_EEXIT ? &j->why : NULL, NULL, 0, 0);
}

/* Begins a call job about c: start it, or stop it. */
static fx_next call_job(fx_ctx *cx, fxi_sup *s, fx_from from, uint32_t call, fxi_child *c,
                        bool stop)
{
    if (fxi_sup_job_begin(s, FXI_JOB_CALL) != 0) {
        if (call != FX_SUP_TERMINATE_CHILD && call != FX_SUP_RESTART_CHILD)
            fxi_sup_child_remove(s, c);
        reply_rc(cx, from, FX_ENOMEM);
        return fx_continue(cx);
    }
    s->job.reply_to = from;
    s->job.call = call;
    s->job.child = c;
    (void) (stop ? fxi_sup_job_stop(s, c) : fxi_sup_job_start(s, c));
    return fxi_sup_run(cx, s);
}

static fx_next add_and_start(fx_ctx *cx, fxi_sup *s, fx_from from, uint32_t call,
                             const fx_child_spec *spec, const void *extra, size_t size)
{
    fxi_child *c = fxi_sup_child_new(s, spec);
    if (c && size) {
        if ((c->extra = malloc(size)) != NULL) {
            memcpy(c->extra, extra, size);
            c->extra_size = size;
        }
    }
    if (!c || (size && !c->extra) || fxi_sup_child_add(s, c) != 0) {
        if (c)
            free(c->extra);
        free(c);
        reply_rc(cx, from, FX_ENOMEM);
        return fx_continue(cx);
    }
    return call_job(cx, s, from, call, c, false);
}

_Static_assert(sizeof(fx_sup_reply) % _Alignof(fx_child_info) == 0,
               "which_children entries follow the header aligned");

static fx_next which(fx_ctx *cx, fxi_sup *s, fx_from from)
{
    /* Header and entries in one buffer, built here: reply() allocates and
     * may fx_crash (unwinding past any free) on failure, so nothing may be
     * held across it. */
    size_t size = sizeof(fx_sup_reply) + s->n * sizeof(fx_child_info);
    fx_sup_reply *r = calloc(1, size);
    if (!r) {
        reply_rc(cx, from, FX_ENOMEM);
        return fx_continue(cx);
    }
    r->count = (uint32_t) s->n;
    fx_child_info *v = (fx_child_info *) (r + 1);
    for (size_t i = 0; i < s->n; i++) {
        const fxi_child *c = s->kids[i];
        memcpy(v[i].id, c->spec.id, sizeof v[i].id);
        v[i].pid = c->pid;
        v[i].type = c->spec.type;
        v[i].status = c->pid.id ? FX_CHILD_RUNNING : c->status;
    }
    send_reply(cx, from, r, size);
    free(r);
    return fx_continue(cx);
}

static fx_next count(fx_ctx *cx, fxi_sup *s, fx_from from)
{
    fx_child_counts n = {.specs = (uint32_t) s->n};
    for (size_t i = 0; i < s->n; i++) {
        const fxi_child *c = s->kids[i];
        n.active += c->pid.id != 0;
        if (c->spec.type == FX_SUPERVISOR_CHILD)
            n.supervisors++;
        else
            n.workers++;
    }
    reply(cx, from, 0, FX_PID_NONE, NULL, &n, sizeof n, 0);
    return fx_continue(cx);
}

/* The child a request names, or NULL. */
static fxi_child *named(fxi_sup *s, const void *data, size_t size)
{
    fx_sup_child_ref ref;
    if (size != sizeof ref)
        return NULL;
    memcpy(&ref, data, sizeof ref);
    if (fxi_sup_dynamic(s))
        return fxi_sup_find_pid(s, ref.pid);
    if (!memchr(ref.id, 0, sizeof ref.id))
        return NULL;
    return fxi_sup_find_id(s, ref.id);
}

fx_next fxi_sup_call(fx_ctx *cx, fxi_sup *s, fx_msg *m)
{
    const fxi_gs_env *e = fx_msg_data(m);
    const void *data = e + 1;
    size_t size = fx_msg_size(m) - sizeof *e;
    fx_from from = {fx_msg_from(m), fx_msg_ref(m)};
    bool dynamic = fxi_sup_dynamic(s);
    fxi_child *c;
    switch (e->type) {
    case FX_SUP_START_CHILD: {
        fx_child_spec spec;
        if (dynamic || size != sizeof spec)
            break;
        memcpy(&spec, data, sizeof spec);
        if (!fxi_sup_child_spec_ok(&spec, false) ||
            (spec.significant && s->auto_shutdown == FX_AUTO_SHUTDOWN_NEVER))
            break; /* OTP: significant needs auto_shutdown */
        if (fxi_sup_find_id(s, spec.id)) {
            reply_rc(cx, from, FX_EEXIST);
            return fx_continue(cx);
        }
        return add_and_start(cx, s, from, e->type, &spec, NULL, 0);
    }
    case FX_SUP_START_CHILD_ARGS:
        if (!dynamic)
            break;
        if (s->max_children && s->n >= s->max_children) {
            reply_rc(cx, from, FX_ELIMIT);
            return fx_continue(cx);
        }
        return add_and_start(cx, s, from, e->type, &s->tmpl, data, size);
    case FX_SUP_TERMINATE_CHILD:
        if (!(c = named(s, data, size))) {
            reply_rc(cx, from,
                     dynamic || size == sizeof(fx_sup_child_ref) ? FX_ENOENT : FX_EINVAL);
            return fx_continue(cx);
        }
        if (!c->pid.id) { /* not running: nothing to stop */
            if (dynamic || c->spec.restart == FX_TEMPORARY)
                fxi_sup_child_remove(s, c);
            else /* a restart being retried: the queued retry now ignores it */
                c->status = FX_CHILD_UNDEFINED;
            reply_rc(cx, from, 0);
            return fx_continue(cx);
        }
        return call_job(cx, s, from, e->type, c, true);
    case FX_SUP_RESTART_CHILD:
    case FX_SUP_DELETE_CHILD:
        if (dynamic || size != sizeof(fx_sup_child_ref))
            break;
        if (!(c = named(s, data, size))) {
            reply_rc(cx, from, FX_ENOENT);
            return fx_continue(cx);
        }
        if (c->pid.id || c->status == FX_CHILD_RESTARTING) {
            reply_rc(cx, from, FX_EEXIST);
            return fx_continue(cx);
        }
        if (e->type == FX_SUP_RESTART_CHILD)
            return call_job(cx, s, from, e->type, c, false);
        fxi_sup_child_remove(s, c);
        reply_rc(cx, from, 0);
        return fx_continue(cx);
    case FX_SUP_WHICH_CHILDREN:
        return which(cx, s, from);
    case FX_SUP_COUNT_CHILDREN:
        return count(cx, s, from);
    default:
        break;
    }
    reply_rc(cx, from, FX_EINVAL);
    return fx_continue(cx);
}

/* ---- the client functions --------------------------------------------------- */

FX_API int fx_sup_reply_decode(const void *data, size_t size, fx_sup_reply *out,
                               const void **rest, size_t *rest_size)
{
    if (!data || !out || size < sizeof *out)
        return FX_EINVAL;
    memcpy(out, data, sizeof *out);
    if (rest)
        *rest = (const char *) data + sizeof *out;
    if (rest_size)
        *rest_size = size - sizeof *out;
    return out->rc;
}

/* One call: the reply's header in *hdr; *keep (may be NULL) gets the
 * reply message itself, for what follows the header. */
static int call(fx_inbox *inbox, fx_pid sup, uint32_t type, const void *data, size_t size,
                int64_t timeout_ms, fx_sup_reply *hdr, fx_msg **keep, fx_reason *why)
{
    fx_msg *m;
    int rc = fxi_gs_call(inbox, sup, type, data, size, timeout_ms, &m, why);
    if (rc != 0)
        return rc;
    rc = fx_sup_reply_decode(fx_msg_data(m), fx_msg_size(m), hdr, NULL, NULL);
    if (rc == FX_EEXIT && why)
        *why = hdr->reason;
    if (keep && fx_msg_size(m) >= sizeof *hdr)
        *keep = m;
    else
        fx_msg_free(m);
    return rc;
}

static int start_like(fx_inbox *inbox, fx_pid sup, uint32_t type, const void *data,
                      size_t size, int64_t timeout_ms, fx_pid *out, fx_reason *why)
{
    fx_sup_reply r;
    int rc = call(inbox, sup, type, data, size, timeout_ms, &r, NULL, why);
    if (rc == 0 && out)
        *out = r.pid;
    return rc;
}

FX_API int fx_sup_start_child(fx_inbox *inbox, fx_pid sup, const fx_child_spec *spec,
                              int64_t timeout_ms, fx_pid *out, fx_reason *why)
{
    if (!spec || !fxi_sup_child_spec_ok(spec, false))
        return FX_EINVAL;
    return start_like(inbox, sup, FX_SUP_START_CHILD, spec, sizeof *spec, timeout_ms, out,
                      why);
}

FX_API int fx_sup_start_child_args(fx_inbox *inbox, fx_pid sup, const void *extra,
                                   size_t extra_size, int64_t timeout_ms, fx_pid *out,
                                   fx_reason *why)
{
    return start_like(inbox, sup, FX_SUP_START_CHILD_ARGS, extra, extra_size, timeout_ms,
                      out, why);
}

static int by_ref(fx_inbox *inbox, fx_pid sup, uint32_t type, const char *id, fx_pid pid,
                  int64_t timeout_ms, fx_pid *out, fx_reason *why)
{
    fx_sup_child_ref ref;
    memset(&ref, 0, sizeof ref);
    if (id) {
        size_t len = strnlen(id, sizeof ref.id);
        if (len == 0 || len == sizeof ref.id)
            return FX_EINVAL;
        memcpy(ref.id, id, len);
    }
    ref.pid = pid;
    return start_like(inbox, sup, type, &ref, sizeof ref, timeout_ms, out, why);
}

FX_API int fx_sup_terminate_child(fx_inbox *inbox, fx_pid sup, const char *id,
                                  int64_t timeout_ms)
{
    if (!id)
        return FX_EINVAL;
    return by_ref(inbox, sup, FX_SUP_TERMINATE_CHILD, id, FX_PID_NONE, timeout_ms, NULL,
                  NULL);
}

FX_API int fx_sup_terminate_pid(fx_inbox *inbox, fx_pid sup, fx_pid child,
                                int64_t timeout_ms)
{
    if (!child.id)
        return FX_EINVAL;
    return by_ref(inbox, sup, FX_SUP_TERMINATE_CHILD, NULL, child, timeout_ms, NULL,
                  NULL);
}

FX_API int fx_sup_restart_child(fx_inbox *inbox, fx_pid sup, const char *id,
                                int64_t timeout_ms, fx_pid *out, fx_reason *why)
{
    if (!id)
        return FX_EINVAL;
    return by_ref(inbox, sup, FX_SUP_RESTART_CHILD, id, FX_PID_NONE, timeout_ms, out,
                  why);
}

FX_API int fx_sup_delete_child(fx_inbox *inbox, fx_pid sup, const char *id,
                               int64_t timeout_ms)
{
    if (!id)
        return FX_EINVAL;
    return by_ref(inbox, sup, FX_SUP_DELETE_CHILD, id, FX_PID_NONE, timeout_ms, NULL,
                  NULL);
}

FX_API int fx_sup_which_children(fx_inbox *inbox, fx_pid sup, fx_child_info *out,
                                 size_t cap, int64_t timeout_ms)
{
    if (cap && !out)
        return FX_EINVAL;
    fx_sup_reply r;
    fx_msg *m = NULL;
    int rc = call(inbox, sup, FX_SUP_WHICH_CHILDREN, NULL, 0, timeout_ms, &r, &m, NULL);
    if (rc != 0) {
        fx_msg_free(m);
        return rc;
    }
    const char *rest = (const char *) fx_msg_data(m) + sizeof r;
    size_t have = (fx_msg_size(m) - sizeof r) / sizeof *out;
    size_t n = r.count < have ? r.count : have;
    if (n > cap)
        n = cap;
    if (n)
        memcpy(out, rest, n * sizeof *out);
    fx_msg_free(m);
    return (int) r.count;
}

FX_API int fx_sup_count_children(fx_inbox *inbox, fx_pid sup, fx_child_counts *out,
                                 int64_t timeout_ms)
{
    if (!out)
        return FX_EINVAL;
    fx_sup_reply r;
    fx_msg *m = NULL;
    int rc = call(inbox, sup, FX_SUP_COUNT_CHILDREN, NULL, 0, timeout_ms, &r, &m, NULL);
    if (rc == 0 && fx_msg_size(m) >= sizeof r + sizeof *out)
        memcpy(out, (const char *) fx_msg_data(m) + sizeof r, sizeof *out);
    else if (rc == 0)
        rc = FX_EINVAL;
    fx_msg_free(m);
    return rc;
}
