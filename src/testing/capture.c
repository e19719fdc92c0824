/* Crash-report capture (<fauxtp/testing.h>): a logger that keeps copies
 * of the reports under a leaf mutex. */
#include <fauxtp/error.h>
#include <fauxtp/testing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/mutex.h"

struct fx_crash_capture {
    fxi_mutex mx; /* guards everything below */
    fx_captured_report *recs;
    uint32_t n, cap;
    uint32_t lost; /* reports not stored for lack of memory (counted) */
};

FX_API int fx_crash_capture_create(fx_crash_capture **out)
{
    if (!out)
        return FX_EINVAL;
    fx_crash_capture *c = calloc(1, sizeof *c);
    if (!c)
        return FX_ENOMEM;
    fxi_mutex_init(&c->mx, FXI_RANK_TESTING, "testing.capture");
    *out = c;
    return 0;
}

FX_API void fx_crash_capture_destroy(fx_crash_capture *c)
{
    if (!c)
        return;
    fxi_mutex_fini(&c->mx);
    free(c->recs);
    free(c);
}

FX_API void fx_crash_capture_logger(void *arg, const fx_crash_report *r)
{
    fx_crash_capture *c = arg;
    if (!c || !r)
        return;
    fx_captured_report rec;
    memset(&rec, 0, sizeof rec);
    rec.pid = r->pid;
    rec.reason = r->reason;
    rec.kind = r->kind;
    if (r->label)
        snprintf(rec.label, sizeof rec.label, "%s", r->label);
    fxi_mutex_lock(&c->mx);
    if (c->n == c->cap) {
        uint32_t ncap = c->cap ? c->cap * 2 : 16;
        fx_captured_report *n = realloc(c->recs, ncap * sizeof *n);
        if (n) {
            c->recs = n;
            c->cap = ncap;
        }
    }
    if (c->n < c->cap)
        c->recs[c->n++] = rec;
    else
        c->lost++;
    fxi_mutex_unlock(&c->mx);
}

FX_API int fx_crash_capture_count(fx_crash_capture *c)
{
    if (!c)
        return FX_EINVAL;
    fxi_mutex_lock(&c->mx);
    uint64_t n = (uint64_t) c->n + c->lost;
    fxi_mutex_unlock(&c->mx);
    return n > INT32_MAX ? INT32_MAX : (int) n;
}

FX_API int fx_crash_capture_get(fx_crash_capture *c, uint32_t i, fx_captured_report *out)
{
    if (!c || !out)
        return FX_EINVAL;
    int rc = FX_ENOENT;
    fxi_mutex_lock(&c->mx);
    if (i < c->n) {
        *out = c->recs[i];
        rc = 0;
    }
    fxi_mutex_unlock(&c->mx);
    return rc;
}

FX_API int fx_crash_capture_find(fx_crash_capture *c, fx_pid pid, fx_captured_report *out)
{
    if (!c)
        return FX_EINVAL;
    int rc = FX_ENOENT;
    fxi_mutex_lock(&c->mx);
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->recs[i].pid.id == pid.id) {
            if (out)
                *out = c->recs[i];
            rc = 0;
            break;
        }
    }
    fxi_mutex_unlock(&c->mx);
    return rc;
}

FX_API void fx_crash_capture_clear(fx_crash_capture *c)
{
    if (!c)
        return;
    fxi_mutex_lock(&c->mx);
    c->n = 0;
    c->lost = 0;
    fxi_mutex_unlock(&c->mx);
}

typedef struct count_arg {
    fx_crash_capture *c;
    uint32_t n;
} count_arg;

static bool enough(void *arg)
{
    count_arg *a = arg;
    return fx_crash_capture_count(a->c) >= (int) a->n;
}

FX_API int fx_crash_capture_wait(fx_crash_capture *c, fx_vm *vm, uint32_t n,
                                 int64_t timeout_ms)
{
    if (!c || n > INT32_MAX)
        return FX_EINVAL;
    count_arg a = {c, n};
    int rc = fx_wait_for(vm, enough, &a, timeout_ms);
    return rc ? rc : fx_crash_capture_count(c);
}
