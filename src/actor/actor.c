/* The actor record's extension, and the handler context: what a handler
 * may ask about itself, and fx_crash. */
#include "actor/actor.h"

#include <fauxtp/error.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/vm.h"
#include "mem/msgcache.h"

/* Extension records come from the scheduler thread's small-block cache
 * (mem/msgcache.h), as messages do: every process with an init function
 * (most of them: servers, supervisors, skynet's tree) has one, allocated
 * on the spawner's thread and often freed on another, which costs
 * jemalloc a trip to the arena's bin per record (about 300 instructions
 * per spawn and exit in skynet, callgrind) and the cache a magazine
 * hand-off per 128. */
fxi_actor_ext *fxi_actor_ext_get(fxi_actor *a)
{
    if (!a->ext) {
        fxi_actor_ext *x = fxi_mc_alloc(sizeof *x);
        if (x)
            memset(x, 0, sizeof *x);
        /* Release: publishes the zeroed record to process-info readers,
         * which load the pointer with acquire (src/info). */
        fxi_atomic_store_release_ptr(&a->ext, x);
    }
    return a->ext;
}

void fxi_actor_ext_free(fxi_actor *a)
{
    fxi_actor_ext *x = a->ext;
    if (!x)
        return;
    /* links and watchers hold promises (actor/signal.h): messages never
     * sent when the process goes without telling anyone (VM shutdown, a
     * failed spawn). */
    fxi_u64map *held[] = {&x->links, &x->watchers};
    for (int t = 0; t < 2; t++)
        for (uint32_t i = 0; i < held[t]->cap; i++)
            if (held[t]->slots[i].key)
                fxi_msg_release((fx_msg *) (uintptr_t) held[t]->slots[i].val);
    fxi_u64map_fini(&x->links);
    fxi_u64map_fini(&x->monitors);
    fxi_u64map_fini(&x->watchers);
    fxi_mc_free(x, sizeof *x);
    a->ext = NULL;
}

_Thread_local fxi_worker *fxi_actor_tls_worker;

FX_API void fx_crash(fx_ctx *cx, const char *fmt, ...)
{
    fx_reason r = fx_reason_error(FX_ECRASHED, NULL);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r.text, sizeof r.text, fmt, ap);
        va_end(ap);
    }
    if (!cx) {
        /* Inside a handler or init (the fault site is armed exactly then),
         * the running actor is the one to crash. */
        fxi_worker *w = fxi_actor_tls_worker;
        if (!w || !w->fault.armed || fxi_fault_inner_armed(&w->fault)) {
            /* A pool job (docs/tasks.md) fails with FX_ECRASHED instead:
             * its thread's site is armed while the job runs (in
             * deterministic mode, a site pushed over the handler's). */
            fxi_fault_crash_here(r.text); /* returns when none is armed */
            fprintf(stderr, "fauxtp: fx_crash(NULL) outside a handler: aborting\n");
            abort();
        }
        cx = &w->cx;
    }
    cx->stop_reason = r;
    /* Unwind to thread_body: the handler's frames are abandoned, which is
     * safe because handlers own no runtime locks. */
    _longjmp(*cx->w->fault.jb, 1); /* crash_jb, or an fxi_fault_call landing */
}

FX_API fx_pid fx_self(const fx_ctx *cx)
{
    return cx ? cx->self->pid : FX_PID_NONE;
}

FX_API fx_vm *fx_ctx_vm(const fx_ctx *cx)
{
    return cx ? cx->vm : NULL;
}

FX_API void *fx_state(const fx_ctx *cx)
{
    return cx ? cx->self->u.live.state : NULL;
}

FX_API void fx_set_state(fx_ctx *cx, void *state)
{
    if (cx)
        cx->self->u.live.state = state;
}

FX_API void fx_msg_keep(fx_ctx *cx, fx_msg *msg)
{
    if (cx && msg && msg == cx->cur)
        cx->kept = true;
}

/* Thread-local counter tagged with the scheduler id: unique per VM
 * without an atomic. */
static inline fx_ref worker_ref(fxi_worker *w)
{
    return (fx_ref){(++w->ref_next << 10) | (w->cx.s->id + 1)};
}

fx_ref fxi_make_ref(fx_vm *vm, fxi_worker *w)
{
    if (w)
        return worker_ref(w);
    /* Low 10 bits 0: the external stream, apart from every scheduler's.
     * Relaxed: the add is atomic for uniqueness only; it orders nothing. */
    return (fx_ref){(fxi_atomic_fetch_add_relaxed_64(&vm->ext_refs, 1) + 1) << 10};
}
