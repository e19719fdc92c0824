/* Process exit, the grace period, and freeing. */
#include "actor/exit.h"

#include <fauxtp/error.h>

#include "actor/receive.h"
#include "actor/report.h"
#include "actor/signal.h"
#include "actor/stats.h"

void fxi_actor_free(fx_vm *vm, fxi_actor *a, bool count_dropped)
{
    fxi_saved_free_all(a);
    uint64_t dropped = fxi_mailbox_discard(vm, NULL, a, false);
    if (count_dropped && dropped)
        fxi_atomic_fetch_add_relaxed_64(&vm->ext_dropped,
                                        dropped); /* relaxed: stat only */
    fxi_actor_ext_free(a);
    fxi_free(a, fxi_actor_alloc_size(a));
}

struct cleanup {
    fx_cleanup_fn fn;
    void *state;
    const fx_reason *reason;
};

static void call_cleanup(void *p)
{
    struct cleanup *c = p;
    c->fn(c->state, c->reason);
}

/* What every exit runs first: the pending receive timer goes, and the
 * cleanup callback sees the reason. */
static void exit_hooks(fx_vm *vm, fxi_actor *a, const fx_reason *reason)
{
    fxi_actor_ext *x = a->ext;
    if (!x)
        return;
    if (x->recv_ref.id) {
        fxi_recv_timer_cancel(vm, fxi_actor_tls_worker, a, x->recv_ref, x->recv_timer.id);
        x->recv_ref = FX_REF_NONE;
    }
    if (!x->cleanup)
        return;
    fxi_worker *w = fxi_actor_tls_worker;
    if (!w) {
        x->cleanup(a->u.live.state, reason); /* shutdown, on the caller's thread */
        return;
    }
    /* User code on a scheduler thread: a fault in it (trap_faults) or
     * fx_crash(NULL) abandons the callback; the exit goes on with its
     * reason. */
    struct cleanup c = {x->cleanup, a->u.live.state, reason};
    (void) fxi_fault_call(&w->fault, call_cleanup, &c);
}

void fxi_actor_exit(fxi_worker *w, fxi_actor *a, const fx_reason *reason, bool by_signal)
{
    fx_vm *vm = w->cx.vm;
    /* The pid is stale from here: new sends fail with FX_ENOPROC. Done
     * before the hooks, so whoever learns of the exit from the cleanup
     * callback or a link finds the pid dead. Senders that looked it up
     * before still push into the mailbox; those entries are dealt with
     * after the grace period (free_limbo). */
    fxi_ptable_kill(&vm->pt, w, a);
    fxi_atomic_store_relaxed_64(&w->stat_exited,
                                w->stat_exited + 1); /* relaxed: stat, one writer */
    fxi_stats_count_exit(w, reason->kind);
    exit_hooks(vm, a, reason);
    /* Links and monitors learn after every message a sent while alive:
     * they were pushed earlier on this same thread. */
    fxi_sig_exit_notify(vm, w, a, reason);
    if (!by_signal)
        fxi_report_crash(vm, a, reason);
    /* The save queue may hold a link or monitor request a could not
     * record (it dies of that): the requester learns the reason. */
    fx_msg *m;
    while ((m = fxi_saved_take(a, NULL)) != NULL)
        fxi_sig_discard(vm, w, a->pid, m, reason);
    uint64_t dropped = fxi_mailbox_discard(vm, w, a, true);
    fxi_atomic_store_relaxed_64(
        &w->stat_dropped, w->stat_dropped + dropped); /* relaxed: stat, one writer */
    /* The mailbox is left "busy" (never marked idle), so a late sender
     * never schedules the dead actor. */
    /* Relaxed stores of dead.next: it overlays live.handler, which
     * process-info readers may still load (relaxed) from a process they
     * saw alive (src/info/proc_info.c). */
    fxi_atomic_store_relaxed_ptr(&a->u.dead.next, NULL);
    a->u.dead.stamp = FXI_UNSTAMPED;
    if (w->limbo_tail)
        fxi_atomic_store_relaxed_ptr(&w->limbo_tail->u.dead.next, a);
    else
        w->limbo_head = a;
    w->limbo_tail = a;
    if (!w->limbo_unstamped)
        w->limbo_unstamped = a;
}

/* Frees limbo entries from the front: all of them, or those stamped
 * before `bound`. With `answer`, link and monitor requests that reached a
 * dead actor after its exit get their noproc answer. */
static void free_limbo(fx_vm *vm, fxi_worker *w, bool all, uint64_t bound, bool answer)
{
    while (w->limbo_head && (all || w->limbo_head->u.dead.stamp < bound)) {
        fxi_actor *a = w->limbo_head;
        w->limbo_head = a->u.dead.next;
        uint32_t idx = fxi_pid_index(a->pid);
        uint64_t dropped = fxi_mailbox_discard(vm, answer ? w : NULL, a, answer);
        fxi_atomic_store_relaxed_64(
            &w->stat_dropped, w->stat_dropped + dropped); /* relaxed: stat, one writer */
        fxi_actor_free(vm, a, true);
        fxi_ptable_release(&vm->pt, w, idx);
    }
    if (!w->limbo_head)
        w->limbo_tail = w->limbo_unstamped = NULL;
}

void fxi_worker_reclaim(fx_vm *vm, fxi_worker *w)
{
    fxi_qsbr *q = &vm->qsbr;
    uint32_t id = w->cx.s->id;
    if (w->limbo_unstamped) {
        uint64_t e = fxi_qsbr_stamp(q);
        for (fxi_actor *a = w->limbo_unstamped; a; a = a->u.dead.next)
            a->u.dead.stamp = e;
        w->limbo_unstamped = NULL;
    }
    /* tick runs between actor runs: we hold no references. */
    fxi_qsbr_quiescent(q, id);
    if (w->limbo_head)
        free_limbo(vm, w, false, fxi_qsbr_min(q), true);
}

void fxi_vm_free_processes(fx_vm *vm)
{
    /* Every process goes at once: links and monitors are not signalled
     * (no one would receive them), only cleanup callbacks run. */
    fx_reason why = fx_reason_shutdown();
    /* Relaxed: shutdown, every scheduler thread joined (which orders
     * their slot initialisation before us); a concurrent outside spawn
     * fails its section check. */
    uint64_t hwm = fxi_atomic_load_relaxed_64(&vm->pt.hwm);
    if (hwm > vm->pt.cap)
        hwm = vm->pt.cap;
    for (uint64_t i = 0; i < hwm; i++) {
        fxi_slot *sl = &vm->pt.slots[i];
        fxi_actor *a = sl->actor;
        if (!a || ((uintptr_t) a & FXI_SLOT_DYING) || a->kind != FXI_KIND_ACTOR ||
            fxi_pid_gen(a->pid) != sl->gen)
            continue; /* free, in limbo, or an inbox (its owner frees it) */
        fxi_ptable_kill(&vm->pt, NULL, a);
        exit_hooks(vm, a, &why);
        fxi_atomic_fetch_add_relaxed_64(&vm->ext_exited, 1); /* relaxed: stat only */
        fxi_actor_free(vm, a, true);
        fxi_ptable_release(&vm->pt, NULL, (uint32_t) i);
    }
    for (uint32_t k = 0; k < vm->pool.n; k++)
        free_limbo(vm, &vm->workers[k], true, 0, false);
}
