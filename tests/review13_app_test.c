/* review13: app.h:29-31 promises that fx_app_run "blocks [SIGINT and
 * SIGTERM] in every thread it starts and treats either as stop". It
 * blocks them in the calling thread before the VM starts, so threads
 * created from there inherit the mask; but a blocking-pool thread is
 * created on the thread that submits the first job (bpool.c,
 * fxi_bpool_start_thread_locked), with that thread's mask. A program
 * thread with the signals unblocked (any thread not made by
 * fx_app_run: a library's, an I/O thread) that submits a job gets a pool
 * thread of the application's VM where SIGTERM is not blocked: the
 * kernel may deliver the process's SIGTERM there and its default action
 * kills the program, with no orderly stop. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "helpers.h"

static atomic_int term_blocked = -1;
static atomic_int job_ran;

static int read_mask(void *arg, fx_msg **result)
{
    fx_vm *vm = arg;
    *result = NULL;
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    atomic_store(&term_blocked, sigismember(&cur, SIGTERM) == 1);
    atomic_store(&job_ran, 1);
    (void) fx_app_stop(vm);
    return 0;
}

static void *program_thread(void *arg)
{
    fx_vm *vm = arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    fx_pool_job j = {.fn = read_mask, .arg = vm};
    if (fx_pool_submit(vm, &j) != 0)
        (void) fx_app_stop(vm);
    return NULL;
}

static void start_program_thread(fx_vm *vm, fx_pid root, void *arg)
{
    (void) root;
    pthread_t *t = arg;
    cr_assert_eq(pthread_create(t, NULL, program_thread, vm), 0);
}

Test(review13_app, pool_threads_block_sigterm)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.log_sink = fx_log_sink_silent;
    pthread_t t;
    fx_app_spec a = {.vm = &c, .on_start = start_program_thread, .arg = &t};
    fx_sup_spec_init(&a.root);
    cr_assert_eq(fx_app_run(&a), FX_APP_OK);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert_eq(atomic_load(&job_ran), 1);
    cr_expect_eq(atomic_load(&term_blocked), 1,
                 "a pool thread of fx_app_run's VM has SIGTERM unblocked");
}
