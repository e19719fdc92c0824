/* The bounded response buffer; see ctl_out.h. */
#include "ctl/ctl_out.h"

#include <fauxtp/error.h>
#include <fauxtp/report.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mem/alloc.h"

#define KEEP_CAP (64u * 1024u)

void fxi_ctl_out_init(fxi_ctl_out *o, size_t limit)
{
    memset(o, 0, sizeof *o);
    o->limit = limit;
}

void fxi_ctl_out_fini(fxi_ctl_out *o)
{
    fxi_free(o->buf, o->cap);
    memset(o, 0, sizeof *o);
}

void fxi_ctl_out_reset(fxi_ctl_out *o)
{
    if (o->cap > KEEP_CAP) {
        fxi_free(o->buf, o->cap);
        o->buf = NULL;
        o->cap = 0;
    }
    o->len = o->mark = o->off = 0;
    o->full = o->nomem = false;
}

/* Makes room for n more bytes within max (the limit, or the limit plus
 * the slack for the closing lines). */
static bool reserve(fxi_ctl_out *o, size_t n, size_t max)
{
    if (o->full && max == o->limit)
        return false;
    if (n > max - o->len || o->len > max) {
        o->full = true;
        return false;
    }
    if (o->len + n <= o->cap)
        return true;
    size_t want = o->cap ? o->cap : 1024;
    while (want < o->len + n)
        want *= 2;
    if (want > o->limit + FXI_CTL_OUT_SLACK)
        want = o->limit + FXI_CTL_OUT_SLACK;
    char *nb = fxi_alloc(want);
    if (!nb) {
        o->full = o->nomem = true;
        return false;
    }
    if (o->len)
        memcpy(nb, o->buf, o->len);
    fxi_free(o->buf, o->cap);
    o->buf = nb;
    o->cap = want;
    return true;
}

static void put(fxi_ctl_out *o, const char *s, size_t n, size_t max)
{
    if (n && reserve(o, n, max)) {
        memcpy(o->buf + o->len, s, n);
        o->len += n;
    }
}

void fxi_ctl_out_mem(fxi_ctl_out *o, const char *s, size_t n)
{
    put(o, s, n, o->limit);
}

void fxi_ctl_out_str(fxi_ctl_out *o, const char *s)
{
    put(o, s, strlen(s), o->limit);
}

void fxi_ctl_out_printf(fxi_ctl_out *o, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t) n < sizeof small) {
        put(o, small, (size_t) n, o->limit);
        return;
    }
    if (!reserve(o, (size_t) n + 1, o->limit))
        return;
    va_start(ap, fmt);
    vsnprintf(o->buf + o->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    o->len += (size_t) n;
}

void fxi_ctl_out_u64(fxi_ctl_out *o, uint64_t v)
{
    char d[24];
    size_t i = sizeof d;
    do {
        d[--i] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    put(o, d + i, sizeof d - i, o->limit);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid
 * (RFC 3629). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    unsigned cp = c & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

void fxi_ctl_out_json_str(fxi_ctl_out *o, const char *s, size_t max)
{
    if (!s) {
        fxi_ctl_out_str(o, "null");
        return;
    }
    size_t n = strnlen(s, max);
    const unsigned char *p = (const unsigned char *) s;
    fxi_ctl_out_mem(o, "\"", 1);
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        /* The longest stretch that needs no escape, copied at once. */
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
               p[run] != '\\')
            run++;
        if (run > i) {
            fxi_ctl_out_mem(o, s + i, run - i);
            i = run;
            continue;
        }
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char) c};
            fxi_ctl_out_mem(o, e, 2);
            i++;
        } else if (c < 0x20) {
            fxi_ctl_out_printf(o, "\\u%04x", c);
            i++;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l) {
                fxi_ctl_out_mem(o, s + i, l);
                i += l;
            } else {
                fxi_ctl_out_str(o, "\\ufffd");
                i++;
            }
        }
    }
    fxi_ctl_out_mem(o, "\"", 1);
}

void fxi_ctl_out_json_pid(fxi_ctl_out *o, fx_pid pid)
{
    char b[48];
    fx_pid_format(pid, b, sizeof b);
    fxi_ctl_out_printf(o, "\"%s\"", b);
}

void fxi_ctl_out_eol(fxi_ctl_out *o)
{
    fxi_ctl_out_mem(o, "\n", 1);
    if (!o->full)
        o->mark = o->len;
}

void fxi_ctl_out_error(fxi_ctl_out *o, int err, const char *detail)
{
    fxi_ctl_out_printf(o, "{\"error\":\"%s\",\"text\":", fx_err_name(err));
    fxi_ctl_out_json_str(o, detail ? detail : fx_strerror(err), 200);
    fxi_ctl_out_str(o, "}");
    fxi_ctl_out_eol(o);
}

void fxi_ctl_out_end(fxi_ctl_out *o)
{
    size_t max = o->limit + FXI_CTL_OUT_SLACK;
    if (o->full) {
        o->len = o->mark; /* whole lines only */
        char line[160];
        int n = snprintf(line, sizeof line,
                         "{\"error\":\"%s\",\"text\":\"response cut at %zu bytes%s\"}\n",
                         fx_err_name(o->nomem ? FX_ENOMEM : FX_ELIMIT), o->len,
                         o->nomem ? ": out of memory" : "");
        put(o, line, (size_t) n, max);
    } else if (o->len != o->mark) {
        put(o, "\n", 1, max); /* a caller left a line open */
    }
    put(o, "\n", 1, max);
    o->mark = o->len;
}
