/* Children a test starts (epmd, erl) die with the test: a test process
 * killed outright (a meson timeout's SIGKILL) runs neither its fini nor
 * its atexit handlers, and its services would outlive it. */
#ifndef FX_TESTS_CHILD_GUARD_H
#define FX_TESTS_CHILD_GUARD_H

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/* In the child, right after fork(): SIGKILL when the forking thread of
 * `parent` ends (kept across execve), and exit at once if the parent is
 * already gone. */
static inline void child_dies_with(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(126);
}

#endif
