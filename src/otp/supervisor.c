/* Supervisor: specs, child records, starting a supervisor, and the
 * ready-made child start functions. The loop is in supervisor_loop.c,
 * jobs (stopping and starting children) in supervisor_job.c, calls in
 * supervisor_calls.c. */
#include <stdlib.h>
#include <string.h>

#include "otp/sup_impl.h"

#define DEFAULT_WORKER_SHUTDOWN 5000

FX_API void fx_sup_spec_init(fx_sup_spec *spec)
{
    if (!spec)
        return;
    memset(spec, 0, sizeof *spec);
    spec->strategy = FX_ONE_FOR_ONE;
    spec->intensity = 1;
    spec->period_ms = 5000;
    spec->auto_shutdown = FX_AUTO_SHUTDOWN_NEVER;
}

/* ---- specs and child records -------------------------------------------- */

bool fxi_sup_child_spec_ok(const fx_child_spec *c, bool dynamic)
{
    if (!c || !c->start || memchr(c->id, 0, sizeof c->id) == NULL)
        return false;
    if (!dynamic && c->id[0] == 0)
        return false;
    if (c->restart < FX_PERMANENT || c->restart > FX_TEMPORARY)
        return false;
    if (c->type != FX_WORKER && c->type != FX_SUPERVISOR_CHILD)
        return false;
    if (c->shutdown_ms < FX_SHUTDOWN_BRUTAL_KILL)
        return false;
    return !(c->significant && c->restart == FX_PERMANENT);
}

static bool spec_ok(const fx_sup_spec *spec)
{
    if (!spec || spec->intensity < 0 || spec->period_ms <= 0 ||
        spec->timeout_ms < FX_INFINITY)
        return false;
    if (spec->strategy < FX_ONE_FOR_ONE || spec->strategy > FX_SIMPLE_ONE_FOR_ONE)
        return false;
    if (spec->auto_shutdown < FX_AUTO_SHUTDOWN_NEVER ||
        spec->auto_shutdown > FX_AUTO_SHUTDOWN_ALL_SIGNIFICANT)
        return false;
    if (spec->nchildren && !spec->children)
        return false;
    if (!fxi_sup_name_ok(spec->name))
        return false;
    if (spec->nchildren > FXI_SUP_MAX_SPEC_CHILDREN)
        return false;
    bool dynamic = spec->strategy == FX_SIMPLE_ONE_FOR_ONE;
    if (dynamic &&
        (spec->nchildren != 1 || spec->auto_shutdown != FX_AUTO_SHUTDOWN_NEVER))
        return false;
    for (size_t i = 0; i < spec->nchildren; i++) {
        if (!fxi_sup_child_spec_ok(&spec->children[i], dynamic))
            return false;
        /* OTP: with auto_shutdown never a significant child is invalid. */
        if (spec->children[i].significant &&
            spec->auto_shutdown == FX_AUTO_SHUTDOWN_NEVER)
            return false;
        for (size_t j = 0; j < i && !dynamic; j++)
            if (strcmp(spec->children[i].id, spec->children[j].id) == 0)
                return false;
    }
    return true;
}

bool fxi_sup_dynamic(const fxi_sup *s)
{
    return s->strategy == FX_SIMPLE_ONE_FOR_ONE;
}

int64_t fxi_sup_shutdown_ms(const fx_child_spec *c)
{
    if (c->shutdown_ms != 0)
        return c->shutdown_ms;
    return c->type == FX_SUPERVISOR_CHILD ? FX_INFINITY : DEFAULT_WORKER_SHUTDOWN;
}

fxi_child *fxi_sup_child_new(fxi_sup *s, const fx_child_spec *spec)
{
    fxi_child *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->spec = *spec;
    c->status = FX_CHILD_UNDEFINED;
    c->serial = ++s->next_serial;
    return c;
}

int fxi_sup_child_add(fxi_sup *s, fxi_child *c)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        fxi_child **k = realloc(s->kids, cap * sizeof *k);
        if (!k)
            return FX_ENOMEM;
        s->kids = k;
        s->cap = cap;
    }
    s->kids[s->n++] = c;
    return 0;
}

static void child_free(fxi_child *c)
{
    free(c->extra);
    free(c);
}

void fxi_sup_child_remove(fxi_sup *s, fxi_child *c)
{
    if (c->pid.id)
        (void) fxi_u64map_del(&s->bypid, c->pid.id, NULL);
    for (size_t i = 0; i < s->n; i++) {
        if (s->kids[i] == c) {
            memmove(&s->kids[i], &s->kids[i + 1], (s->n - i - 1) * sizeof *s->kids);
            s->n--;
            break;
        }
    }
    child_free(c);
}

fxi_child *fxi_sup_find_id(fxi_sup *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strncmp(s->kids[i]->spec.id, id, FX_CHILD_ID_MAX) == 0)
            return s->kids[i];
    return NULL;
}

fxi_child *fxi_sup_find_pid(fxi_sup *s, fx_pid pid)
{
    uint64_t v;
    if (!pid.id || !fxi_u64map_get(&s->bypid, pid.id, &v))
        return NULL;
    return (fxi_child *) (uintptr_t) v;
}

int fxi_sup_set_pid(fxi_sup *s, fxi_child *c, fx_pid pid)
{
    if (pid.id && fxi_u64map_put(&s->bypid, pid.id, (uint64_t) (uintptr_t) c) < 0)
        return FX_ENOMEM;
    if (c->pid.id && c->pid.id != pid.id)
        (void) fxi_u64map_del(&s->bypid, c->pid.id, NULL);
    c->pid = pid;
    return 0;
}

/* ---- the process: boot and cleanup ---------------------------------------- */

static void sup_free(fxi_sup *s)
{
    for (size_t i = 0; i < s->n; i++)
        child_free(s->kids[i]);
    free(s->kids);
    fxi_u64map_fini(&s->bypid);
    free(s->times);
    free(s->job.stop);
    free(s->job.start);
    free(s);
}

static void sup_cleanup(void *state, const fx_reason *reason)
{
    (void) reason;
    fxi_sup_boot *b = state;
    if (b->sup)
        sup_free(b->sup);
    b->sup = NULL;
}

/* Builds the live supervisor from the boot copy of its spec. */
static fxi_sup *sup_new(const fxi_sup_boot *b)
{
    fxi_sup *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->strategy = b->spec.strategy;
    s->auto_shutdown = b->spec.auto_shutdown;
    s->intensity = b->spec.intensity;
    s->period_ms = b->spec.period_ms;
    s->max_children = b->spec.max_children;
    s->starter = b->starter;
    s->parent = b->spec.link ? b->starter : FX_PID_NONE;
    s->label = b->spec.label ? b->spec.label : "supervisor";
    if (fxi_sup_dynamic(s)) {
        s->tmpl = b->kids[0];
        return s;
    }
    for (size_t i = 0; i < b->nkids; i++) {
        fxi_child *c = fxi_sup_child_new(s, &b->kids[i]);
        if (!c || fxi_sup_child_add(s, c) != 0) {
            free(c);
            sup_free(s);
            return NULL;
        }
    }
    return s;
}

static fx_next started(fx_ctx *cx, fx_msg *m);
static fx_next begin(fx_ctx *cx, fxi_sup *s);

/* The boot step waits for START (or ABORT) from the starter; other early
 * messages, even from the starter, stay queued for the loop. */
static bool start_or_abort(const fx_msg *m, void *arg)
{
    (void) arg;
    uint32_t t = fx_msg_type(m);
    return t == FXI_GS_START || t == FXI_GS_ABORT;
}

static fx_next wait_start(fx_ctx *cx, const fxi_sup_boot *b)
{
    fx_match mt = {.from = b->starter, .pred = start_or_abort};
    return fx_receive(cx, started, &mt, FX_INFINITY);
}

static fx_next sup_init(fx_ctx *cx, void *unused)
{
    (void) unused;
    (void) fx_trap_exit(cx, true);
    return wait_start(cx, fx_state(cx));
}

static fx_next started(fx_ctx *cx, fx_msg *m)
{
    fxi_sup_boot *b = fx_state(cx);
    if (fx_msg_type(m) == FXI_GS_ABORT) /* the start failed after the spawn */
        return fx_stop(cx, fx_reason_killed());
    fxi_sup *s = b->sup = sup_new(b);
    if (!s)
        fx_crash(cx, "supervisor: out of memory");
    s->start_ack = (fx_from){fx_msg_from(m), fx_msg_ref(m)};
    if (b->name[0])
        return fxi_sup_register_name(cx, s, begin);
    return begin(cx, s);
}

/* Starts the children (the init job). */
static fx_next begin(fx_ctx *cx, fxi_sup *s)
{
    if (fxi_sup_job_begin(s, FXI_JOB_INIT) != 0)
        fx_crash(cx, "supervisor: out of memory");
    for (size_t i = 0; i < s->n; i++)
        if (fxi_sup_job_start(s, s->kids[i]) != 0)
            fx_crash(cx, "supervisor: out of memory");
    return fxi_sup_run(cx, s);
}

/* The spawn options for spec, with the inline state built in *boot (the
 * caller frees it once the spawn returned: spawn copies state_init). */
static int sup_opts(const fx_sup_spec *spec, fx_pid starter, fx_spawn_opts *o,
                    fxi_sup_boot **boot)
{
    size_t size = sizeof **boot + spec->nchildren * sizeof(fx_child_spec);
    fxi_sup_boot *b = calloc(1, size);
    if (!b)
        return FX_ENOMEM;
    b->spec = *spec;
    b->spec.children = NULL; /* the copy below is what counts */
    fxi_sup_copy_name(b, spec->name);
    b->spec.name = NULL;
    b->starter = starter;
    b->nkids = spec->nchildren;
    if (spec->nchildren)
        memcpy(b->kids, spec->children, spec->nchildren * sizeof *spec->children);
    memset(o, 0, sizeof *o);
    o->init = sup_init;
    o->state_size = size;
    o->state_init = b;
    o->cleanup = sup_cleanup;
    o->label = spec->label ? spec->label : "supervisor";
    *boot = b;
    return 0;
}

static int64_t start_timeout(const fx_sup_spec *spec)
{
    return spec->timeout_ms == 0 ? FX_INFINITY : spec->timeout_ms;
}

FX_API int fx_sup_start(fx_inbox *inbox, const fx_sup_spec *spec, fx_pid *out,
                        fx_reason *why)
{
    if (!inbox || !spec_ok(spec))
        return FX_EINVAL;
    /* A forked child refuses before sup_opts allocates (vm.h: no call
     * allocates there; a parent thread may have held an allocator lock). */
    if (fx_vm_running(fx_inbox_vm(inbox)) == FX_EFORKED)
        return FX_EFORKED;
    fx_spawn_opts o;
    fxi_sup_boot *b;
    int rc = sup_opts(spec, fx_inbox_pid(inbox), &o, &b);
    if (rc != 0)
        return rc;
    rc = fxi_proc_start_inbox(inbox, &o, spec->link, start_timeout(spec), out, why);
    free(b); /* the spawn copied it */
    return rc;
}

FX_API fx_next fx_sup_start_async(fx_ctx *cx, const fx_sup_spec *spec, fx_handler then)
{
    if (!spec_ok(spec))
        return fxi_gs_fail_async(cx, FX_EINVAL, then);
    fx_spawn_opts o;
    fxi_sup_boot *b;
    int rc = sup_opts(spec, fx_self(cx), &o, &b);
    if (rc != 0)
        return fxi_gs_fail_async(cx, rc, then);
    fx_next next = fxi_proc_start_async(cx, &o, spec->link, start_timeout(spec), then);
    free(b);
    return next;
}

/* ---- ready-made child start functions ----------------------------------- */

FX_API fx_next fx_child_gen_server(fx_ctx *cx, void *arg, const void *extra,
                                   size_t extra_size, fx_handler then)
{
    (void) extra;
    (void) extra_size;
    if (!arg)
        return fxi_gs_fail_async(cx, FX_EINVAL, then);
    fx_gs_spec spec = *(const fx_gs_spec *) arg;
    spec.link = true;
    return fx_gs_start_async(cx, &spec, then);
}

FX_API fx_next fx_child_supervisor(fx_ctx *cx, void *arg, const void *extra,
                                   size_t extra_size, fx_handler then)
{
    (void) extra;
    (void) extra_size;
    if (!arg)
        return fxi_gs_fail_async(cx, FX_EINVAL, then);
    fx_sup_spec spec = *(const fx_sup_spec *) arg;
    spec.link = true;
    return fx_sup_start_async(cx, &spec, then);
}

FX_API fx_next fx_child_actor(fx_ctx *cx, void *arg, const void *extra, size_t extra_size,
                              fx_handler then)
{
    if (!arg)
        return fxi_gs_fail_async(cx, FX_EINVAL, then);
    fx_spawn_opts o = *(const fx_spawn_opts *) arg;
    if (extra && extra_size)
        o.init_arg = (void *) extra;
    fx_pid pid;
    int rc = fx_spawn_link(cx, &o, &pid);
    if (rc != 0)
        return fxi_gs_fail_async(cx, rc, then);
    return fxi_proc_started_async(cx, pid, then);
}
