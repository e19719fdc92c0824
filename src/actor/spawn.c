/* Spawning processes, alone or tied to the spawner (spawn_link,
 * spawn_monitor). */
#include "actor/spawn.h"

#include <fauxtp/error.h>
#include <string.h>

#include "actor/mute.h"
#include "actor/section.h"
#include "actor/signal.h"

#define STATE_SIZE_MAX (64u * 1024u)

/* The child's side of spawn_link / spawn_monitor, before it can run: its
 * promise goes into its table, or is freed on failure. */
static int tie(fxi_actor_ext *x, const fxi_spawn_ties *t)
{
    fxi_u64map *tab = t->link.id ? &x->links : &x->watchers;
    uint64_t key = t->link.id ? t->link.id : t->ref.id;
    if (fxi_u64map_put(tab, key, fxi_sig_promise_val(t->promise)) < 0) {
        fxi_msg_release(t->promise);
        return FX_ENOMEM;
    }
    return 0;
}

int fxi_spawn(fx_vm *vm, fxi_worker *w, const fx_spawn_opts *o,
              const fxi_spawn_ties *ties, fx_pid *out)
{
    if (!o || (!o->handler && !o->init) || o->state_size > STATE_SIZE_MAX) {
        if (ties)
            fxi_msg_release(ties->promise);
        return FX_EINVAL;
    }
    size_t ssz = (o->state_size + 15) & ~(size_t) 15;
    size_t size = ssz ? FXI_ACTOR_STATE_OFF + ssz : sizeof(fxi_actor);
    fxi_actor *a = ssz ? fxi_zalloc(size) : fxi_alloc(size);
    if (!a) {
        if (ties)
            fxi_msg_release(ties->promise);
        return FX_ENOMEM;
    }
    a->kind = FXI_KIND_ACTOR;
    a->flags = 0;
    a->state_size = (uint32_t) ssz;
    a->u.live.handler = o->handler;
    a->u.live.state = ssz ? (void *) ((char *) a + FXI_ACTOR_STATE_OFF) : o->state;
    if (ssz && o->state_init)
        memcpy(a->u.live.state, o->state_init, o->state_size);
    a->saved = NULL;
    a->ext = NULL;
    a->handled = 0;
    a->home = 0;
    /* Without init the actor sleeps until its first message arrives;
     * with init it is scheduled at once, so its mailbox starts busy. */
    fxi_mailbox_init(&a->mb, o->init == NULL);
    int rc = fxi_mute_init_actor(vm, a, &o->mailbox);
    if (rc != 0) {
        if (ties)
            fxi_msg_release(ties->promise);
        fxi_actor_ext_free(a);
        fxi_free(a, size);
        return rc;
    }
    if (o->init || o->cleanup || o->label || ties) {
        fxi_actor_ext *x = fxi_actor_ext_get(a);
        if (!x && ties)
            fxi_msg_release(ties->promise);
        if (!x || (ties && tie(x, ties) != 0)) {
            fxi_actor_ext_free(a);
            fxi_free(a, size);
            return FX_ENOMEM;
        }
        x->cleanup = o->cleanup;
        x->init = o->init;
        x->init_arg = o->init_arg;
        x->label = o->label;
        /* The spawner, for process info: the process whose handler (or
         * init) call runs on this thread (its watch count is odd then);
         * none outside the VM or outside handler calls. */
        x->parent = w && (w->cx.s->wd_local_seq & 1) && w->cx.self ? w->cx.self->pid
                                                                   : FX_PID_NONE;
        if (o->init)
            a->flags |= FXI_F_INIT;
    }
    rc = fxi_ptable_insert(&vm->pt, w, a);
    if (rc != 0) {
        fxi_actor_ext_free(a);
        fxi_free(a, size);
        return rc;
    }
    if (w)
        fxi_atomic_store_relaxed_64(&w->stat_spawned,
                                    w->stat_spawned + 1); /* relaxed: stat, one writer */
    else
        fxi_atomic_fetch_add_relaxed_64(&vm->ext_spawned, 1); /* relaxed: stat only */
    if (out)
        *out = a->pid;
    if (o->init) {
        if (w)
            fxi_sched_yield_owner(w->cx.s, a);
        else
            fxi_pool_inject(&vm->pool, a);
    }
    return 0;
}

FX_API int fx_spawn_opt(fx_ctx *cx, const fx_spawn_opts *opts, fx_pid *out)
{
    if (!cx)
        return FX_EINVAL;
    return fxi_spawn(cx->vm, cx->w, opts, NULL, out);
}

FX_API int fx_spawn(fx_ctx *cx, fx_handler h, void *state, fx_pid *out)
{
    fx_spawn_opts o = {.handler = h, .state = state};
    return fx_spawn_opt(cx, &o, out);
}

FX_API int fx_vm_spawn_opt(fx_vm *vm, const fx_spawn_opts *opts, fx_pid *out)
{
    if (!vm)
        return FX_EINVAL;
    fxi_section sec;
    int rc = fxi_section_enter(vm, &sec);
    if (rc)
        return rc;
    rc = fxi_spawn(vm, sec.w, opts, NULL, out);
    fxi_section_exit(vm, &sec);
    return rc;
}

FX_API int fx_vm_spawn(fx_vm *vm, fx_handler h, void *state, fx_pid *out)
{
    fx_spawn_opts o = {.handler = h, .state = state};
    return fx_vm_spawn_opt(vm, &o, out);
}

int fxi_spawn_tied(fx_vm *vm, fxi_worker *w, fxi_actor *self, const fx_spawn_opts *o,
                   fx_pid *out, bool link, fx_ref *mon_ref)
{
    fxi_actor_ext *x = fxi_actor_ext_get(self);
    if (!x)
        return FX_ENOMEM;
    fxi_u64map *own = link ? &x->links : &x->monitors;
    fxi_spawn_ties t = {FX_PID_NONE, FX_PID_NONE, FX_REF_NONE, NULL};
    /* The promises first (actor/signal.h): the child's to us, and for a
     * link ours to the child; then room in our table, so nothing can fail
     * once the child runs. */
    fx_msg *mine = NULL;
    if (link) {
        t.link = self->pid;
        t.promise = fxi_sig_promise_exit(FXI_SIG_EXIT, self->pid);
        mine = fxi_sig_promise_exit(FXI_SIG_EXIT, FX_PID_NONE);
    } else {
        t.watcher = self->pid;
        t.ref = fxi_make_ref(vm, w);
        t.promise = fxi_sig_promise_down(FX_MSG_DOWN, self->pid, t.ref);
    }
    if (!t.promise || (link && !mine) || fxi_u64map_reserve(own, own->count + 1) != 0) {
        if (t.promise)
            fxi_msg_release(t.promise);
        if (mine)
            fxi_msg_release(mine);
        return FX_ENOMEM;
    }
    fx_pid child;
    int rc = fxi_spawn(vm, w, o, &t, &child);
    if (rc) {
        if (mine)
            fxi_msg_release(mine);
        return rc;
    }
    if (link) {
        mine->from = child;
        (void) fxi_u64map_put(own, child.id, fxi_sig_promise_val(mine));
    } else {
        (void) fxi_u64map_put(own, t.ref.id, child.id);
    }
    if (mon_ref)
        *mon_ref = t.ref;
    if (out)
        *out = child;
    return 0;
}

FX_API int fx_spawn_link(fx_ctx *cx, const fx_spawn_opts *opts, fx_pid *out)
{
    return cx ? fxi_spawn_tied(cx->vm, cx->w, cx->self, opts, out, true, NULL)
              : FX_EINVAL;
}

FX_API int fx_spawn_monitor(fx_ctx *cx, const fx_spawn_opts *opts, fx_pid *out,
                            fx_ref *ref)
{
    if (!cx || !ref)
        return FX_EINVAL;
    return fxi_spawn_tied(cx->vm, cx->w, cx->self, opts, out, false, ref);
}
