/* Lock-order checker (src/platform/mutex.h). The check is forced on here,
 * whatever the build type; the library itself runs with it in every
 * build without NDEBUG, so the ASan (debug) run of the other suites
 * checks the library's real lock order. */
#undef FXI_LOCK_ORDER
#define FXI_LOCK_ORDER 1

#include <criterion/criterion.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/mutex.h"

static fxi_mutex lo, hi;

static void init_pair(void)
{
    fxi_mutex_init(&lo, FXI_RANK_INJECT, "test.lo");
    fxi_mutex_init(&hi, FXI_RANK_IDLE, "test.hi");
}

TestSuite(lock_order, .init = init_pair);

Test(lock_order, in_order_then_released_in_any_order)
{
    fxi_mutex_lock(&lo);
    fxi_mutex_lock(&hi);
    cr_assert_eq(fxi_witness_depth(), 2);
    fxi_mutex_assert_owner(&lo);
    fxi_mutex_assert_owner(&hi);
    fxi_mutex_unlock(&lo); /* not LIFO: allowed */
    cr_assert_eq(fxi_witness_depth(), 1);
    fxi_mutex_unlock(&hi);
    cr_assert_eq(fxi_witness_depth(), 0);
    /* Released: the higher one first is fine now. */
    cr_assert_eq(fxi_mutex_trylock(&hi), 0);
    fxi_mutex_unlock(&hi);
    fxi_mutex_fini(&lo);
    fxi_mutex_fini(&hi);
}

Test(lock_order, every_rank_in_table_order)
{
    fxi_mutex m[FXI_RANK_COUNT];
    for (int r = FXI_RANK_NONE + 1; r < FXI_RANK_COUNT; r++) {
        fxi_mutex_init(&m[r], (fxi_lock_rank) r, "test.rank");
        fxi_mutex_lock(&m[r]);
    }
    cr_assert_eq(fxi_witness_depth(), FXI_RANK_COUNT - 1);
    for (int r = FXI_RANK_COUNT; r-- > FXI_RANK_NONE + 1;) {
        fxi_mutex_unlock(&m[r]);
        fxi_mutex_fini(&m[r]);
    }
    cr_assert_eq(fxi_witness_depth(), 0);
}

Test(lock_order, wrong_order_aborts, .signal = SIGABRT)
{
    fxi_mutex_lock(&hi);
    fxi_mutex_lock(&lo);
}

Test(lock_order, wrong_order_trylock_aborts, .signal = SIGABRT)
{
    fxi_mutex_lock(&hi);
    (void) fxi_mutex_trylock(&lo);
}

Test(lock_order, same_lock_twice_aborts_instead_of_deadlocking, .signal = SIGABRT)
{
    fxi_mutex_lock(&lo);
    fxi_mutex_lock(&lo);
}

Test(lock_order, unlock_of_a_lock_not_held_aborts, .signal = SIGABRT)
{
    fxi_mutex_lock(&lo);
    fxi_mutex_unlock(&hi);
}

Test(lock_order, fini_of_a_held_lock_aborts, .signal = SIGABRT)
{
    fxi_mutex_lock(&lo);
    fxi_mutex_fini(&lo);
}

Test(lock_order, assert_owner_aborts_when_not_held, .signal = SIGABRT)
{
    fxi_mutex_assert_owner(&lo);
}

/* ---- held locks are per thread ------------------------------------------- */

static sem_t taken, done;

static void *hold_hi(void *arg)
{
    (void) arg;
    fxi_mutex_lock(&hi);
    sem_post(&taken);
    sem_wait(&done);
    fxi_mutex_unlock(&hi);
    return NULL;
}

Test(lock_order, another_threads_locks_do_not_count)
{
    sem_init(&taken, 0, 0);
    sem_init(&done, 0, 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, hold_hi, NULL), 0);
    sem_wait(&taken);
    /* That thread holds hi; this one holds nothing, so lo is in order. */
    cr_assert_eq(fxi_witness_depth(), 0);
    fxi_mutex_lock(&lo);
    cr_assert_eq(fxi_witness_depth(), 1);
    fxi_mutex_unlock(&lo);
    sem_post(&done);
    pthread_join(t, NULL);
}

Test(lock_order, unlock_of_another_threads_lock_aborts, .signal = SIGABRT)
{
    sem_init(&taken, 0, 0);
    sem_init(&done, 0, 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, hold_hi, NULL), 0);
    sem_wait(&taken);
    fxi_mutex_unlock(&hi);
}

/* ---- the message ---------------------------------------------------------- */

/* Runs fn in a child with stderr on a pipe; returns what it wrote and how
 * it ended. */
static int run_child(void (*fn)(void), char *out, size_t cap)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fds[0], out + len, cap - 1 - len)) > 0)
        len += (size_t) n;
    out[len] = '\0';
    /* Under qemu-user the emulator adds its own "uncaught target signal"
     * line to the child's stderr: the library's message is the first. */
    char *nl = strchr(out, '\n');
    if (nl)
        nl[1] = '\0';
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static void wrong_order(void)
{
    fxi_mutex_lock(&hi);
    fxi_mutex_lock(&lo);
}

static void not_held(void)
{
    fxi_mutex_unlock(&lo);
}

Test(lock_order, message_names_both_locks_and_ranks)
{
    char out[512], want[256];
    int status = run_child(wrong_order, out, sizeof out);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %d", status);
    snprintf(want, sizeof want,
             "fauxtp: lock order violation: taking test.lo (rank %d) while holding "
             "test.hi (rank %d)\n",
             (int) FXI_RANK_INJECT, (int) FXI_RANK_IDLE);
    cr_assert_str_eq(out, want);

    status = run_child(not_held, out, sizeof out);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %d", status);
    snprintf(want, sizeof want,
             "fauxtp: lock order violation: unlocking test.lo (rank %d) which this "
             "thread does not hold\n",
             (int) FXI_RANK_INJECT);
    cr_assert_str_eq(out, want);
}
