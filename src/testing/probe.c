/* The probe (<fauxtp/testing.h>): a process that records copies of the
 * messages it receives, for the test thread to query. The record is
 * shared by the process and the test: two references, dropped by the
 * process's cleanup and by fx_probe_destroy; the last one frees it. */
#include <fauxtp/actor.h>
#include <fauxtp/error.h>
#include <fauxtp/link.h>
#include <fauxtp/msg.h>
#include <fauxtp/testing.h>
#include <stdlib.h>
#include <string.h>

#include "platform/atomic.h"
#include "platform/mutex.h"

struct fx_probe {
    fx_vm *vm;    /* immutable */
    fx_pid pid;   /* immutable once started */
    fxi_mutex mx; /* guards the records */
    fx_probe_msg *recs;
    uint32_t n, cap;
    uint32_t lost;    /* messages not recorded for lack of memory (counted) */
    uint32_t refs;    /* atomic: the process's and the test's */
    uint32_t running; /* atomic: 1 until the process's cleanup ran */
};

static void clear_locked(fx_probe *p)
{
    for (uint32_t i = 0; i < p->n; i++)
        free((void *) p->recs[i].data);
    p->n = 0;
    p->lost = 0;
}

static void unref(fx_probe *p)
{
    /* Acq_rel: each holder's accesses before the decrement, the freeing
     * thread's after it. */
    if (fxi_atomic_fetch_add_acq_rel_32(&p->refs, (uint32_t) -1) != 1)
        return;
    clear_locked(p); /* the last reference: nobody else can lock */
    free(p->recs);
    fxi_mutex_fini(&p->mx);
    free(p);
}

static fx_next probe_handler(fx_ctx *cx, fx_msg *m)
{
    fx_probe *p = fx_state(cx);
    size_t size = fx_msg_size(m);
    void *copy = malloc(size ? size : 1);
    if (copy && size)
        memcpy(copy, fx_msg_data(m), size);
    fxi_mutex_lock(&p->mx);
    if (copy && p->n == p->cap) {
        uint32_t ncap = p->cap ? p->cap * 2 : 64;
        fx_probe_msg *n = realloc(p->recs, ncap * sizeof *n);
        if (n) {
            p->recs = n;
            p->cap = ncap;
        }
    }
    if (copy && p->n < p->cap) {
        p->recs[p->n++] = (fx_probe_msg){.type = fx_msg_type(m),
                                         .from = fx_msg_from(m),
                                         .ref = fx_msg_ref(m),
                                         .size = size,
                                         .data = copy};
        copy = NULL;
    } else {
        p->lost++;
    }
    fxi_mutex_unlock(&p->mx);
    free(copy);
    return fx_continue(cx);
}

static void probe_cleanup(void *state, const fx_reason *reason)
{
    (void) reason;
    fx_probe *p = state;
    /* Release: pairs with fx_probe_destroy's acquire load. */
    fxi_atomic_store_release_32(&p->running, 0);
    unref(p);
}

FX_API int fx_probe_start(fx_vm *vm, fx_probe **out)
{
    if (!vm || !out)
        return FX_EINVAL;
    *out = NULL;
    /* A forked child refuses before allocating (vm.h). */
    if (fx_vm_running(vm) == FX_EFORKED)
        return FX_EFORKED;
    fx_probe *p = calloc(1, sizeof *p);
    if (!p)
        return FX_ENOMEM;
    p->vm = vm;
    p->refs = 2;
    p->running = 1;
    fxi_mutex_init(&p->mx, FXI_RANK_TESTING, "testing.probe");
    fx_spawn_opts o = {.handler = probe_handler,
                       .state = p,
                       .cleanup = probe_cleanup,
                       .label = "fx_probe"};
    int rc = fx_vm_spawn_opt(vm, &o, &p->pid);
    if (rc) {
        fxi_mutex_fini(&p->mx);
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

FX_API fx_pid fx_probe_pid(const fx_probe *p)
{
    return p ? p->pid : FX_PID_NONE;
}

FX_API int fx_probe_count(fx_probe *p)
{
    if (!p)
        return FX_EINVAL;
    fxi_mutex_lock(&p->mx);
    uint64_t n = (uint64_t) p->n + p->lost;
    fxi_mutex_unlock(&p->mx);
    return n > INT32_MAX ? INT32_MAX : (int) n;
}

FX_API int fx_probe_get(fx_probe *p, uint32_t i, fx_probe_msg *out)
{
    if (!p || !out)
        return FX_EINVAL;
    int rc = FX_ENOENT;
    fxi_mutex_lock(&p->mx);
    if (i < p->n) {
        *out = p->recs[i];
        rc = 0;
    }
    fxi_mutex_unlock(&p->mx);
    return rc;
}

typedef struct count_arg {
    fx_probe *p;
    uint32_t n;
} count_arg;

static bool enough(void *arg)
{
    count_arg *a = arg;
    return fx_probe_count(a->p) >= (int) a->n;
}

FX_API int fx_probe_wait(fx_probe *p, uint32_t n, int64_t timeout_ms)
{
    if (!p || n > INT32_MAX)
        return FX_EINVAL;
    count_arg a = {p, n};
    int rc = fx_wait_for(p->vm, enough, &a, timeout_ms);
    return rc ? rc : fx_probe_count(p);
}

FX_API void fx_probe_clear(fx_probe *p)
{
    if (!p)
        return;
    fxi_mutex_lock(&p->mx);
    clear_locked(p);
    fxi_mutex_unlock(&p->mx);
}

FX_API void fx_probe_destroy(fx_probe *p)
{
    if (!p)
        return;
    /* Acquire: pairs with the cleanup's release store. While the process
     * has not run its cleanup, the VM has not been freed (shutdown runs
     * every cleanup first), so it may be told to kill it. */
    if (fxi_atomic_load_acquire_32(&p->running))
        (void) fx_vm_exit(p->vm, p->pid, fx_reason_kill());
    unref(p);
}
