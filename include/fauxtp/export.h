/* fauxtp: symbol export macro. */
#ifndef FAUXTP_EXPORT_H
#define FAUXTP_EXPORT_H

#if defined(FX_BUILDING_LIBRARY) && defined(__GNUC__)
#define FX_API __attribute__((visibility("default")))
#else
#define FX_API
#endif

#if defined(__GNUC__)
#define FX_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define FX_NORETURN __attribute__((noreturn))
#else
#define FX_PRINTF(fmt, args)
#define FX_NORETURN
#endif

#endif
