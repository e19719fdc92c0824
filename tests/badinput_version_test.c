/* Bad-input table: version.h. One Test per row; .description is
 * "function | bad input | result". */
#include "badinput.h"

#include <string.h>

/* --- version.h ----------------------------------------------------------- */

Test(bi_version, version,
     .description =
         "fx_version, fx_version_string | (no arguments) | "
         "the library's version, equal to FX_VERSION_HEX / _STRING it was built with")
{
    cr_assert_eq(fx_version(), FX_VERSION_HEX);
    cr_assert_str_eq(fx_version_string(), FX_VERSION_STRING);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_version, allocator_name,
     .description =
         "fx_allocator_name | (no arguments) | \"jemalloc\" or \"libc\", never NULL")
{
    const char *a = fx_allocator_name();
    cr_assert_not_null(a);
    cr_assert(strcmp(a, "jemalloc") == 0 || strcmp(a, "libc") == 0);
#if FX_TEST_JEMALLOC
    /* The test programs link jemalloc: the library must have chosen it. */
    cr_assert_str_eq(a, "jemalloc");
#endif
    tvm t = bi_start();
    bi_end(&t);
}
