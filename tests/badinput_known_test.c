/* Bad-input rows that FAIL today because of known, still-open defects
 * (each row names its defect). None today: the rows of issue 13's
 * defects (1-11) moved to the badinput_<group>_test.c files once fixed. Same format as
 * those files; docs/bad-input.md lists these rows as **known**. Move a row out (dropping
 * its [defect ...] note) once its fix lands.
 *
 * Not run by `meson test`/tools/test. tests/meson.build declares it with
 * build_by_default: false, so it keeps compiling on request; to build and
 * run it by hand:
 *
 *     ninja -C BUILD_DIR tests/badinput_known_test
 *     BUILD_DIR/tests/badinput_known_test -j1
 */
#include "badinput.h"
