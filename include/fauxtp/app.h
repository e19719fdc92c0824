/* fauxtp: applications, the `main` of a fauxtp backend.
 *
 * fx_app_run creates and starts a VM, starts a root supervisor from a
 * spec, and runs until the tree exits or SIGINT/SIGTERM arrives; then it
 * stops the tree in order (children before their supervisors, each as its
 * shutdown says), shuts the VM down and returns an exit status for main.
 * See docs/supervision.md. */
#ifndef FAUXTP_APP_H
#define FAUXTP_APP_H

#include "supervisor.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fx_app_run's return values. */
#define FX_APP_OK                                                                        \
    0 /* stopped by a signal, fx_app_stop, or the root                                   \
         exited normal / shutdown (e.g. auto_shutdown) */
#define FX_APP_FAILED                                                                    \
    1                    /* the root exited any other way, e.g. with                     \
                            {shutdown,"reached_max_restart_intensity"} */
#define FX_APP_NOSTART 2 /* bad spec, VM or root supervisor failed to start */

typedef struct fx_app_spec {
    const fx_vm_config *vm; /* NULL = defaults */
    fx_sup_spec root;       /* the root supervisor (its link field is ignored) */
    /* Leave SIGINT and SIGTERM alone (by default fx_app_run blocks them in
     * every thread it starts and treats either as "stop"). */
    bool no_signals;
    /* Optional: runs on the calling thread once the tree has started,
     * before waiting; vm and root are valid until fx_app_run returns. */
    void (*on_start)(fx_vm *vm, fx_pid root, void *arg);
    void *arg;
    /* Optional: receives the root's exit reason (also on FX_APP_OK). */
    fx_reason *exit_reason;
} fx_app_spec;

/* Runs the application (see above) and returns FX_APP_OK, FX_APP_FAILED or
 * FX_APP_NOSTART; a failed start's reason goes to *spec->exit_reason.
 * Blocks. A thread outside any VM, typically main; one application per
 * process at a time when signals are handled. */
FX_API int fx_app_run(const fx_app_spec *spec);

/* Asks the running application of vm to stop in order, as SIGTERM would.
 * 0, FX_ENOENT (vm is not running an application), FX_EINVAL. Any
 * thread, including handlers. */
FX_API int fx_app_stop(fx_vm *vm);

#ifdef __cplusplus
}
#endif
#endif
