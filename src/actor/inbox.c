/* Inboxes for threads outside the VM. */
#include "actor/inbox.h"

#include <fauxtp/error.h>
#include <sched.h>
#include <time.h>

#include "actor/det.h"
#include "actor/exit.h"
#include "actor/link.h"
#include "actor/monitor.h"
#include "actor/receive.h"
#include "actor/section.h"
#include "actor/send.h"
#include "actor/signal.h"
#include "actor/spawn.h"
#include "platform/park.h"

void fxi_inbox_wake_all(fx_vm *vm)
{
    fxi_mutex_lock(&vm->inbox_mx);
    for (fx_inbox *ib = vm->inboxes; ib; ib = ib->next) {
        /* Relaxed: fx_vm_shutdown's seq_cst fence after its state CAS
         * precedes this store; with the seq_cst fence in fx_inbox_recv
         * (between its store of wake = 0 and its state load) either the
         * receiver sees the VM stopping or its 0 precedes this 1 in
         * wake's modification order (so its futex wait sees 1). */
        fxi_atomic_store_relaxed_32(&ib->wake, 1);
        fxi_futex_wake(&ib->wake, 1);
    }
    fxi_mutex_unlock(&vm->inbox_mx);
}

FX_API int fx_inbox_create(fx_vm *vm, fx_inbox **out)
{
    if (!vm || !out)
        return FX_EINVAL;
    *out = NULL;
    /* On one of vm's scheduler threads the inbox could never be destroyed
     * (its grace period needs this thread to pass a quiescent point). */
    if (fxi_vm_worker(vm))
        return FX_ECONTEXT;
    fxi_section sec;
    int rc = fxi_section_enter(vm, &sec);
    if (rc)
        return rc;
    fx_inbox *ib = fxi_zalloc(sizeof *ib);
    fxi_actor *a = fxi_zalloc(sizeof *a);
    if (!ib || !a) {
        fxi_free(ib, sizeof *ib);
        fxi_free(a, sizeof *a);
        fxi_section_exit(vm, &sec);
        return FX_ENOMEM;
    }
    a->kind = FXI_KIND_INBOX;
    a->u.live.state = ib;
    fxi_mailbox_init(&a->mb, true); /* senders to an inbox are never muted */
    ib->vm = vm;
    ib->a = a;
    rc = fxi_ptable_insert(&vm->pt, NULL, a);
    fxi_section_exit(vm, &sec);
    if (rc) {
        fxi_free(ib, sizeof *ib);
        fxi_free(a, sizeof *a);
        return rc;
    }
    fxi_mutex_lock(&vm->inbox_mx);
    ib->next = vm->inboxes;
    if (ib->next)
        ib->next->prev = ib;
    vm->inboxes = ib;
    fxi_mutex_unlock(&vm->inbox_mx);
    *out = ib;
    return 0;
}

FX_API fx_pid fx_inbox_pid(const fx_inbox *inbox)
{
    return inbox ? inbox->a->pid : FX_PID_NONE;
}

FX_API fx_vm *fx_inbox_vm(const fx_inbox *inbox)
{
    return inbox ? inbox->vm : NULL;
}

FX_API int fx_inbox_send(fx_inbox *ib, fx_pid to, uint32_t type, const void *data,
                         size_t size)
{
    if (!ib)
        return FX_EINVAL;
    return fxi_send_copy_ext(ib->vm, ib->a->pid, to, type, data, size);
}

FX_API int fx_inbox_send_msg(fx_inbox *ib, fx_pid to, fx_msg *msg)
{
    if (!ib)
        return FX_EINVAL;
    return fxi_send_ext(ib->vm, ib->a->pid, to, msg);
}

/* A link or monitor request the inbox could not record for lack of
 * memory waits in the save queue (fxi_pop_message). An inbox is a thread,
 * not a process that can die of it: the requester gets the exit signal or
 * DOWN at once, with reason {error, FX_ENOMEM}, so it is not left waiting
 * for one that would never come. */
static void answer_refused(fx_inbox *ib)
{
    fx_reason oom =
        fx_reason_error(FX_ENOMEM, "out of memory recording a link or monitor");
    fxi_section sec;
    bool in = fxi_section_enter(ib->vm, &sec) == 0;
    static const uint32_t types[] = {FXI_SIG_LINK, FXI_SIG_MONITOR};
    for (int i = 0; i < 2; i++) {
        fx_msg *m;
        while ((m = fxi_saved_take(ib->a, &(fx_match){.type = types[i]})) != NULL)
            fxi_sig_discard(ib->vm, sec.w, ib->a->pid, m, in ? &oom : NULL);
    }
    if (in)
        fxi_section_exit(ib->vm, &sec);
}

FX_API int fx_inbox_recv(fx_inbox *ib, const fx_match *match, int64_t timeout_ms,
                         fx_msg **out)
{
    if (!ib || !out)
        return FX_EINVAL;
    *out = NULL;
    if (timeout_ms < 0 && timeout_ms != FX_INFINITY)
        return FX_EINVAL; /* not a wait forever by accident */
    if (fxi_vm_forked(ib->vm))
        return FX_EFORKED; /* no sender left to wake us */
    if (fxi_sched_current(&ib->vm->pool))
        return FX_EWOULDBLOCK;
    fxi_actor *a = ib->a;
    if (timeout_ms > FX_TIMEOUT_MAX)
        timeout_ms = FX_TIMEOUT_MAX; /* so the product below cannot wrap */
    uint64_t deadline =
        timeout_ms < 0 ? UINT64_MAX : fxi_now_ns() + (uint64_t) timeout_ms * 1000000u;
    fx_msg *m = fxi_saved_take(a, match);
    for (;;) {
        if (m) {
            *out = m;
            return 0;
        }
        fx_reason unused;
        bool died = false; /* an inbox traps every exit signal */
        m = fxi_pop_message(a, &unused, &died);
        if (died) {
            answer_refused(ib);
            continue;
        }
        if (m) {
            if (!fxi_match_msg(match, m)) {
                fxi_saved_append(a, m);
                m = NULL;
            }
            continue;
        }
        if (__builtin_expect(ib->vm->pool.det != NULL, 0) && timeout_ms != 0) {
            /* Deterministic mode: the waiting thread runs the VM, a step
             * at a time; once idle nothing can come (virtual time stands
             * still), so the wait ends. Another thread driving: wait. */
            int st = fxi_det_wait_step(ib->vm);
            if (st > 0)
                continue;
            if (st == 0)
                return FX_ETIMEDOUT;
        }
        /* Relaxed: ordered before the idle mark by the release cas below
         * (for senders, see fxi_inbox_wake) and before the state load by
         * the seq_cst fence (for shutdown). */
        fxi_atomic_store_relaxed_32(&ib->wake, 0);
        if (!fxi_mailbox_try_idle_sc(&a->mb, false) /* inboxes: no limits */) {
            sched_yield(); /* a message is in flight */
            continue;
        }
        /* Seq_cst fence, store-load: orders the store of wake = 0 before
         * the state load; pairs with the seq_cst fence that fx_vm_shutdown
         * places between its state CAS and the wake stores of
         * fxi_inbox_wake_all: either we see the VM stopping or the futex
         * wait below sees wake set. */
        fxi_atomic_fence_seq_cst();
        if (!fxi_vm_running(ib->vm) || fxi_inbox_waits_closed(ib->vm))
            return FX_ESHUTDOWN; /* nothing will come any more */
        uint64_t now = fxi_now_ns();
        if (now >= deadline)
            return FX_ETIMEDOUT;
        /* Sleeps until a sender finds the mailbox idle and sets wake. */
        fxi_futex_wait(&ib->wake, 0,
                       deadline == UINT64_MAX ? -1 : (int64_t) (deadline - now));
    }
}

/* Runs op for the inbox's process inside a section. */
#define WITH_SECTION(ib, expr)                                                           \
    do {                                                                                 \
        if (!(ib))                                                                       \
            return FX_EINVAL;                                                            \
        fxi_section sec;                                                                 \
        int rc_ = fxi_section_enter((ib)->vm, &sec);                                     \
        if (rc_)                                                                         \
            return rc_;                                                                  \
        fxi_worker *w = sec.w;                                                           \
        rc_ = (expr);                                                                    \
        fxi_section_exit((ib)->vm, &sec);                                                \
        return rc_;                                                                      \
    } while (0)

FX_API int fx_inbox_link(fx_inbox *ib, fx_pid pid)
{
    WITH_SECTION(ib, fxi_link(ib->vm, w, ib->a, pid));
}

FX_API int fx_inbox_unlink(fx_inbox *ib, fx_pid pid)
{
    WITH_SECTION(ib, fxi_unlink(ib->vm, w, ib->a, pid));
}

FX_API int fx_inbox_monitor(fx_inbox *ib, fx_pid pid, fx_ref *ref)
{
    WITH_SECTION(ib, fxi_monitor(ib->vm, w, ib->a, pid, ref));
}

FX_API int fx_inbox_demonitor(fx_inbox *ib, fx_ref ref, unsigned flags)
{
    WITH_SECTION(ib, fxi_demonitor(ib->vm, w, ib->a, ref, flags));
}

FX_API int fx_inbox_spawn_link(fx_inbox *ib, const fx_spawn_opts *opts, fx_pid *out)
{
    WITH_SECTION(ib, fxi_spawn_tied(ib->vm, w, ib->a, opts, out, true, NULL));
}

FX_API int fx_inbox_spawn_monitor(fx_inbox *ib, const fx_spawn_opts *opts, fx_pid *out,
                                  fx_ref *ref)
{
    if (!ref)
        return FX_EINVAL;
    WITH_SECTION(ib, fxi_spawn_tied(ib->vm, w, ib->a, opts, out, false, ref));
}

/* Empties the mailbox, first telling links and monitors of the exit when
 * `exiting` is set. Inside a section (with the VM running) late link and
 * monitor requests are answered with noproc; with the VM stopped there
 * is no one to tell. */
static void discard(fx_vm *vm, fxi_actor *a, const fx_reason *exiting)
{
    fxi_section sec;
    bool in = fxi_section_enter(vm, &sec) == 0;
    if (in && exiting)
        fxi_sig_exit_notify(vm, sec.w, a, exiting);
    fxi_mailbox_discard(vm, sec.w, a, in);
    if (in)
        fxi_section_exit(vm, &sec);
}

/* Link, unlink, monitor and demonitor requests are applied only when the
 * owner receives. Those that reached the inbox while it lived are applied
 * now, as a process would have done, so their senders hear of the exit
 * (normal), not of a process that never existed (noproc). Other messages
 * are freed. */
static void apply_pending(fxi_actor *a)
{
    for (;;) {
        fx_reason unused;
        bool died = false; /* only for lack of memory: apply the rest */
        fx_msg *m = fxi_pop_message(a, &unused, &died);
        if (m)
            fxi_msg_release(m);
        else if (!died)
            return;
    }
}

FX_API int fx_inbox_destroy(fx_inbox *ib)
{
    if (!ib)
        return 0;
    /* In a forked child: nothing, as fx_vm_destroy (the grace period
     * below would wait for threads that do not exist here). */
    if (fxi_vm_forked(ib->vm))
        return FX_EFORKED;
    fx_vm *vm = ib->vm;
    /* The grace period below needs every scheduler thread to pass a
     * quiescent point, which this one cannot do while it waits. */
    if (fxi_vm_worker(vm))
        return FX_ECONTEXT;
    fxi_actor *a = ib->a;
    uint32_t idx = fxi_pid_index(a->pid);
    /* Not while another thread's shutdown frees every process. */
    bool counted = fxi_vm_teardown_begin(vm);
    fxi_mutex_lock(&vm->inbox_mx);
    if (ib->prev)
        ib->prev->next = ib->next;
    else
        vm->inboxes = ib->next;
    if (ib->next)
        ib->next->prev = ib->prev;
    fxi_mutex_unlock(&vm->inbox_mx);
    fxi_ptable_kill(&vm->pt, NULL, a);
    /* The inbox's process exits with reason normal. */
    fx_reason normal = fx_reason_normal();
    fxi_saved_free_all(a);
    apply_pending(a);
    discard(vm, a, &normal);
    /* Acquire: pairs with the release store of STOPPED in fx_vm_shutdown,
     * which came after shutdown saw every outside section closed (acquire
     * loads in fxi_qsbr_ext_idle) and joined the scheduler threads: every
     * sender's access to our mailbox happens before what follows, so the
     * grace period need not (cannot: nobody ticks) be waited out. */
    if (fxi_atomic_load_acquire_32(&vm->state) != FXI_VM_STOPPED) {
        /* Wait out the grace period: senders that looked us up finish. */
        uint64_t e = fxi_qsbr_stamp(&vm->qsbr);
        uint64_t give_up = 0;
        while (fxi_qsbr_min(&vm->qsbr) <= e &&
               fxi_atomic_load_acquire_32(&vm->state) != FXI_VM_STOPPED) { /* as above */
            /* Relaxed: a flag. fx_vm_shutdown gave up on a handler that
             * still runs and may hold our address: after the shutdown
             * timeout once more, leak the inbox rather than wait for it
             * forever (docs/watchdog.md). */
            if (fxi_atomic_load_relaxed_32(&vm->gave_up)) {
                uint64_t now = fxi_now_ns();
                if (!give_up)
                    give_up = now + (uint64_t) vm->cfg.shutdown_timeout_ms * 1000000u;
                else if (now >= give_up) {
                    fxi_vm_teardown_end(vm, counted);
                    return FX_ESTUCK; /* gone, its memory leaked */
                }
            }
            nanosleep(&(struct timespec){0, 200000}, NULL);
        }
    }
    discard(vm, a, NULL);
    fxi_actor_free(vm, a, false);
    fxi_ptable_release(&vm->pt, NULL, idx);
    fxi_free(ib, sizeof *ib);
    fxi_vm_teardown_end(vm, counted);
    return 0;
}
