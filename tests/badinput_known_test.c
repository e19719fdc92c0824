/* Bad-input rows that FAIL today because of known defects of issue 13
 * still open (each row names its defect: 11, fork). The
 * rows of the fixed defects (1-10, 11's predicate) moved to the badinput_<group>_test.c
 * files. Same format as those files; docs/bad-input.md lists these rows
 * as **known**. Move a row out (dropping its [defect ...] note) once its
 * fix lands.
 *
 * Not run by `meson test`/tools/test. tests/meson.build declares it with
 * build_by_default: false, so it keeps compiling on request; to build and
 * run it by hand:
 *
 *     ninja -C BUILD_DIR tests/badinput_known_test
 *     BUILD_DIR/tests/badinput_known_test -j1
 */
#include "badinput.h"

#include <sys/wait.h>
#include <unistd.h>

/* --- defect 11: fork ----------------------------------------------------------- */

Test(bi_known, send_after_fork,
     .description =
         "fx_vm_send | from a fork()ed child (no scheduler threads there) | an error, "
         "not 0 (header silent on which) [defect 11: accepted and never processed]")
{
    tvm t = bi_start();
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &p), 0);
    pid_t c = fork();
    if (c == 0)
        _exit(fx_vm_send(t.vm, p, 1, "x", 1) == 0 ? 1 : 0);
    int st = 0;
    cr_assert_eq(waitpid(c, &st, 0), c);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's send was accepted");
    bi_end(&t);
}
