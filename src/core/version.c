/* fx_version and fx_version_string: the numbers of the headers the
 * library was built with (version.h), which meson.build keeps equal to
 * the project version. fx_allocator_name is in mem/alloc.c. */
#include <fauxtp/version.h>

unsigned fx_version(void)
{
    return FX_VERSION_HEX;
}

const char *fx_version_string(void)
{
    return FX_VERSION_STRING;
}
