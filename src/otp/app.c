/* Applications: fx_app_run, the main loop of a fauxtp backend.
 *
 * The calling thread owns an inbox linked to the root supervisor and
 * waits for one of three things: the root's EXIT (the tree exited), a STOP
 * from fx_app_stop, or a STOP from the signal thread. SIGINT and SIGTERM
 * are blocked in the caller before the VM starts, so every scheduler
 * thread inherits the mask and the signal thread, waiting in sigwait, is
 * the only one that receives them. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <fauxtp/app.h>
#include <fauxtp/error.h>

#include "otp/gs_impl.h"
#include "platform/mutex.h"

#define APP_STOP FXI_GS_TYPE(0x40) /* to the app's inbox: stop in order */

/* The running applications, for fx_app_stop. The lock protects the list;
 * no fauxtp lock is held when it is taken (sends under it take the
 * runtime's own locks after it). */
typedef struct app {
    fx_vm *vm;
    fx_pid inbox;
    struct app *next;
} app;

static fxi_mutex apps_lock = FXI_MUTEX_INITIALIZER(FXI_RANK_APP, "app.list");
static app *apps;

static void apps_add(app *a)
{
    fxi_mutex_lock(&apps_lock);
    a->next = apps;
    apps = a;
    fxi_mutex_unlock(&apps_lock);
}

static void apps_remove(app *a)
{
    fxi_mutex_lock(&apps_lock);
    for (app **p = &apps; *p; p = &(*p)->next) {
        if (*p == a) {
            *p = a->next;
            break;
        }
    }
    fxi_mutex_unlock(&apps_lock);
}

static int send_stop(fx_vm *vm, fx_pid to)
{
    fx_msg *m;
    int rc = fx_msg_new_behaviour(APP_STOP, 0, &m);
    if (rc != 0)
        return rc;
    if ((rc = fx_vm_send_msg(vm, to, m)) != 0)
        fx_msg_free(m);
    return rc == FX_ENOPROC ? FX_ENOENT : rc;
}

FX_API int fx_app_stop(fx_vm *vm)
{
    if (!vm)
        return FX_EINVAL;
    fxi_mutex_lock(&apps_lock);
    int rc = FX_ENOENT;
    for (app *a = apps; a; a = a->next)
        if (a->vm == vm)
            rc = send_stop(vm, a->inbox);
    fxi_mutex_unlock(&apps_lock);
    return rc;
}

/* ---- signals ---------------------------------------------------------------- */

typedef struct sigwaiter {
    pthread_t thread;
    sigset_t set;
    fx_vm *vm;
    fx_pid inbox;
    /* Set by the app before it wakes the thread with a signal to end it:
     * the release store pairs with the thread's acquire load after
     * sigwait returned, so a wake-up for that purpose always sees it. */
    atomic_bool done;
} sigwaiter;

static void *sigwait_main(void *arg)
{
    sigwaiter *w = arg;
    for (;;) {
        int sig;
        if (sigwait(&w->set, &sig) != 0)
            continue;
        if (atomic_load_explicit(&w->done, memory_order_acquire))
            return NULL;
        (void) send_stop(w->vm, w->inbox);
    }
}

/* ---- the application ---------------------------------------------------------- */

static int status_of(const fx_reason *r)
{
    if (r->kind == FX_REASON_NORMAL || (r->kind == FX_REASON_SHUTDOWN && !r->text[0]))
        return FX_APP_OK;
    return FX_APP_FAILED;
}

/* Waits for the tree to end (the root's EXIT: the inbox is linked to it
 * from the spawn on, so even an exit right after the start is seen) or a
 * STOP; returns the status. */
static int supervise(fx_inbox *inbox, fx_pid root, fx_reason *why)
{
    for (;;) {
        fx_msg *m;
        if (fx_inbox_recv(inbox, NULL, FX_INFINITY, &m) != 0)
            continue;
        uint32_t type = fx_msg_type(m);
        if (type == FX_MSG_EXIT && fx_pid_eq(fx_msg_from(m), root)) {
            const fx_exit_info *e = fx_msg_data(m);
            *why = e->reason;
            fx_msg_free(m);
            return status_of(why);
        }
        fx_msg_free(m);
        if (type == APP_STOP) {
            int rc =
                fx_gs_stop_server(inbox, root, fx_reason_shutdown(), FX_INFINITY, why);
            if (rc == 0)
                *why = fx_reason_shutdown();
            fx_msg *x;
            /* The root died before the stop reached it: its own reason,
             * from its EXIT (on its way: the inbox is linked to it). */
            if (rc == FX_ENOPROC &&
                fx_inbox_recv(inbox, &(fx_match){.type = FX_MSG_EXIT, .from = root}, 5000,
                              &x) == 0) {
                *why = ((const fx_exit_info *) fx_msg_data(x))->reason;
                fx_msg_free(x);
            }
            return rc == 0 ? FX_APP_OK : status_of(why);
        }
    }
}

static int run(const fx_app_spec *spec, fx_vm *vm, sigwaiter *w)
{
    fx_inbox *inbox;
    fx_reason why = fx_reason_normal();
    int status = FX_APP_NOSTART;
    int irc = fx_inbox_create(vm, &inbox);
    if (irc != 0) {
        if (spec->exit_reason)
            *spec->exit_reason = fx_reason_error(irc, "%s", fx_strerror(irc));
        return status;
    }
    app a = {.vm = vm, .inbox = fx_inbox_pid(inbox)};
    apps_add(&a);
    if (w) {
        w->vm = vm;
        w->inbox = a.inbox;
        if (pthread_create(&w->thread, NULL, sigwait_main, w) != 0)
            w = NULL;
    }
    fx_sup_spec root = spec->root;
    root.link = true; /* its EXIT tells how the tree ended */
    fx_pid pid;
    int rc = (spec->no_signals || w) ? fx_sup_start(inbox, &root, &pid, &why) : FX_ESYS;
    if (rc == 0) {
        if (spec->on_start)
            spec->on_start(vm, pid, spec->arg);
        status = supervise(inbox, pid, &why);
    } else if (rc != FX_EEXIT) {
        why = fx_reason_error(rc, "%s", fx_strerror(rc));
    }
    apps_remove(&a);
    if (w) {
        atomic_store_explicit(&w->done, true, memory_order_release);
        pthread_kill(w->thread, SIGTERM); /* blocked there: sigwait takes it */
        pthread_join(w->thread, NULL);
    }
    fx_inbox_destroy(inbox);
    if (spec->exit_reason)
        *spec->exit_reason = why;
    return status;
}

FX_API int fx_app_run(const fx_app_spec *spec)
{
    if (!spec)
        return FX_APP_NOSTART;
    sigwaiter w;
    memset(&w, 0, sizeof w);
    sigset_t old;
    if (!spec->no_signals) {
        sigemptyset(&w.set);
        sigaddset(&w.set, SIGINT);
        sigaddset(&w.set, SIGTERM);
        /* Before the VM's threads exist, so they inherit it. */
        pthread_sigmask(SIG_BLOCK, &w.set, &old);
    }
    fx_vm *vm;
    int status = FX_APP_NOSTART;
    int rc = fx_vm_create(spec->vm, &vm);
    if (rc == 0) {
        if ((rc = fx_vm_start(vm)) == 0)
            status = run(spec, vm, spec->no_signals ? NULL : &w);
        fx_vm_destroy(vm);
    }
    if (rc != 0 && spec->exit_reason) /* the VM itself failed: say why */
        *spec->exit_reason = fx_reason_error(rc, "vm: %s", fx_strerror(rc));
    if (!spec->no_signals) {
        /* Signals that came after the signal thread left are consumed
         * here, not delivered (and fatal) when the mask is restored. */
        struct timespec zero = {0, 0};
        while (sigtimedwait(&w.set, NULL, &zero) > 0)
            ;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    return status;
}
