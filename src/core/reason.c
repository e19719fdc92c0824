/* Exit reasons. */
#include <fauxtp/error.h>
#include <fauxtp/reason.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A compound literal, not memset and a store: with the latter, the copy
 * out of the stack temporary loaded across the 4-byte kind store inside
 * the zeroing's 16-byte stores, and fx_reason_normal had 5.8 % of perf's
 * samples of `barber` on one thread (a spawn and a stop per customer),
 * most likely a failed store forward per call. Now the compiler writes
 * the result in place; it is not in the top eight since
 * (docs/benchmarks.md). */
static fx_reason make(fx_reason_kind kind)
{
    return (fx_reason){.kind = kind};
}

FX_API fx_reason fx_reason_normal(void)
{
    return make(FX_REASON_NORMAL);
}

FX_API fx_reason fx_reason_shutdown(void)
{
    return make(FX_REASON_SHUTDOWN);
}

FX_API fx_reason fx_reason_killed(void)
{
    return make(FX_REASON_KILLED);
}

FX_API fx_reason fx_reason_noproc(void)
{
    return make(FX_REASON_NOPROC);
}

FX_API fx_reason fx_reason_timeout(void)
{
    return make(FX_REASON_TIMEOUT);
}

FX_API fx_reason fx_reason_kill(void)
{
    return make(FX_REASON_KILL);
}

FX_API fx_reason fx_reason_error(int code, const char *fmt, ...)
{
    fx_reason r = make(FX_REASON_ERROR);
    r.code = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r.text, sizeof r.text, fmt, ap);
        va_end(ap);
    }
    return r;
}

FX_API fx_reason fx_reason_shutdown_with(const char *fmt, ...)
{
    fx_reason r = make(FX_REASON_SHUTDOWN);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r.text, sizeof r.text, fmt, ap);
        va_end(ap);
    }
    return r;
}

FX_API bool fx_reason_is_normal(const fx_reason *r)
{
    return r && r->kind == FX_REASON_NORMAL;
}

FX_API bool fx_reason_is_clean(const fx_reason *r)
{
    return r && (r->kind == FX_REASON_NORMAL || r->kind == FX_REASON_SHUTDOWN);
}

FX_API bool fx_reason_eq(const fx_reason *a, const fx_reason *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind)
        return false;
    if (a->kind == FX_REASON_SHUTDOWN)
        return strncmp(a->text, b->text, sizeof a->text) == 0;
    if (a->kind != FX_REASON_ERROR)
        return true;
    return a->code == b->code && strncmp(a->text, b->text, sizeof a->text) == 0;
}

FX_API int fx_reason_format(const fx_reason *r, char *buf, size_t size)
{
    static const char *const names[] = {"normal",  "shutdown", "killed", "noproc",
                                        "timeout", NULL,       "kill"};
    if (!r)
        return FX_EINVAL;
    if (r->kind == FX_REASON_SHUTDOWN && r->text[0])
        return snprintf(buf, size, "{shutdown,\"%.*s\"}", (int) sizeof r->text, r->text);
    if (r->kind >= FX_REASON_NORMAL && r->kind <= FX_REASON_KILL && names[r->kind])
        return snprintf(buf, size, "%s", names[r->kind]);
    /* fauxtp's own codes (negative) by name, the application's as numbers. */
    const char *name = r->kind == FX_REASON_ERROR ? fx_err_name(r->code) : NULL;
    if (name && r->code < 0 && strcmp(name, "FX_E?") != 0)
        return snprintf(buf, size, "{error,%s,\"%.*s\"}", name, (int) sizeof r->text,
                        r->text);
    if (r->kind == FX_REASON_ERROR)
        return snprintf(buf, size, "{error,%d,\"%.*s\"}", (int) r->code,
                        (int) sizeof r->text, r->text);
    return snprintf(buf, size, "{unknown,%d}", (int) r->kind);
}
