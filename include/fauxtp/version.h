/* fauxtp: the library's version and build identity.
 *
 * FX_VERSION_* are the version of the headers a program was compiled
 * against; fx_version() and fx_version_string() are the version of the
 * library it runs with (they differ when a newer libfauxtp.so.0 replaced
 * the one it was built with; docs/abi.md says what may change between
 * them). The numbers come from meson's project version: the build stops
 * at `meson setup` when this header and meson.build disagree. */
#ifndef FAUXTP_VERSION_H
#define FAUXTP_VERSION_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FX_VERSION_MAJOR 0
#define FX_VERSION_MINOR 1
#define FX_VERSION_PATCH 0
#define FX_VERSION_STRING "0.1.0"
/* One number that orders versions: 0xMMmmpp. */
#define FX_VERSION_HEX                                                                   \
    ((FX_VERSION_MAJOR << 16) | (FX_VERSION_MINOR << 8) | FX_VERSION_PATCH)

/* The running library's version as FX_VERSION_HEX would spell it. Any
 * thread, any time, no VM needed; never fails. */
FX_API unsigned fx_version(void);

/* The running library's version, "MAJOR.MINOR.PATCH". A static string:
 * borrowed, never freed. Any thread, any time; never fails. */
FX_API const char *fx_version_string(void);

/* The allocator behind messages, actors and the library's other hot
 * allocations, chosen once when the library is loaded: "jemalloc" when
 * the program had jemalloc loaded by then (linked with -ljemalloc, as
 * fauxtp.pc's Libs do in a jemalloc build, or LD_PRELOAD), "libc"
 * otherwise, and always in a -Djemalloc=disabled build (docs/abi.md,
 * "Allocator"). A static string: borrowed, never freed. Any thread, any
 * time; never fails. */
FX_API const char *fx_allocator_name(void);

#ifdef __cplusplus
}
#endif

#endif
