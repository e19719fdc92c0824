/* fx_term_format: a term written in Erlang syntax with typed holes. A
 * recursive-descent parser whose depth is capped at FX_TERM_MAX_DEPTH
 * (the format string is the program's, but a cap costs nothing). A
 * container's element count (ETF needs it first) comes from a scan ahead
 * that skips nested brackets, strings and quoted atoms. */
#include "term/etf.h"

#include "actor/msg.h"

#include <fauxtp/error.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct fmt {
    const char *s;
    va_list ap;
    fx_term_builder *b;
    int depth;
    char name[FX_TERM_ATOM_MAX]; /* a quoted atom's text (not on the
                                    recursion's stack frames) */
} fmt;

/* The parser never moves past fmt's NUL: every step checks the byte it
 * steps over (eat, and the NUL tests in escape and hole), so a fmt cut
 * short anywhere is FX_EINVAL, read only up to its NUL. */

/* Consumes c when it is next; whether it was. */
static bool eat(fmt *f, char c)
{
    if (*f->s != c)
        return false;
    f->s++;
    return true;
}

/* Consumes the two characters c1 c2 when they are next. */
static bool eat2(fmt *f, char c1, char c2)
{
    if (f->s[0] != c1 || f->s[1] != c2) /* s[1] read only when s[0] is c1 */
        return false;
    f->s += 2;
    return true;
}

static void spaces(fmt *f)
{
    while (*f->s == ' ' || *f->s == '\t' || *f->s == '\n')
        f->s++;
}

/* Skips a quoted run starting at s (on the quote); NULL when unclosed. */
static const char *quoted(const char *s)
{
    char q = *s++;
    for (; *s && *s != q; s++)
        if (*s == '\\' && s[1])
            s++;
    return *s ? s + 1 : NULL;
}

/* Elements before the closing bracket (or, for a list, a '|') of the
 * container whose body starts at s: -1 when unbalanced. */
static long count(const char *s, char close)
{
    long commas = 0;
    int nest = 0;
    bool any = false;
    for (; *s; s++) {
        char c = *s;
        if (c == '"' || c == '\'') {
            s = quoted(s);
            if (!s)
                return -1;
            s--;
            any = true;
        } else if (c == '{' || c == '[' || (c == '<' && s[1] == '<')) {
            nest++;
            s += c == '<';
            any = true;
        } else if (nest && (c == '}' || c == ']' || (c == '>' && s[1] == '>'))) {
            nest--;
            s += c == '>';
        } else if (!nest && (c == close || (close == ']' && c == '|'))) {
            return any ? commas + 1 : 0;
        } else if (!nest && c == ',') {
            commas++;
        } else if (c != ' ' && c != '\t' && c != '\n') {
            any = true;
        }
    }
    return -1;
}

/* The escape after a backslash, at *ps, as erl_scan reads it: \b \d \e
 * \f \n \r \s \t \v, \^X (X's low 5 bits), 1-3 octal digits, \xHH,
 * \x{H...}, and any other character for itself. Its code point, *ps moved
 * past it; -1 when malformed. */
static long escape(const char **ps)
{
    static const char named[] = "b\bd\177e\033f\fn\nr\rs t\tv\v";
    const char *s = *ps;
    unsigned char c = (unsigned char) *s;
    long v = -1;
    if (c)
        s++; /* never past the NUL */
    const char *k = c ? strchr(named, c) : NULL;
    if (k && (k - named) % 2 == 0) {
        v = (unsigned char) k[1];
    } else if (c == '^') {
        if (*s)
            v = (unsigned char) *s++ & 31;
    } else if (c >= '0' && c <= '7') {
        v = c - '0';
        for (int d = 1; d < 3 && *s >= '0' && *s <= '7'; d++)
            v = v * 8 + (*s++ - '0');
    } else if (c == 'x') {
        bool brace = *s == '{';
        s += brace;
        int digits = 0;
        for (v = 0;
             isxdigit((unsigned char) *s) && (brace || digits < 2) && v <= 0x10FFFF;
             digits++, s++)
            v = v * 16 +
                (isdigit((unsigned char) *s) ? *s - '0' : (*s | 0x20) - 'a' + 10);
        if (brace && *s == '}')
            s++;
        else if (brace)
            v = -1;
        if (brace ? digits == 0 : digits != 2)
            v = -1;
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = -1;
    } else if (c) {
        v = c;
    }
    *ps = s;
    return v;
}

/* A quoted string or atom's text, unescaped, into out (cap bytes, at least
 * the quoted text's length: no escape writes more than it reads). An
 * escaped code point goes in as UTF-8 for an atom (utf8), as one byte for
 * a string (over 255: -1); unescaped bytes are copied. */
static long unquote(fmt *f, char *out, size_t cap, bool utf8)
{
    char q = *f->s++;
    size_t n = 0;
    while (*f->s && *f->s != q) {
        if (*f->s != '\\') {
            if (n == cap)
                return -1;
            out[n++] = *f->s++;
            continue;
        }
        f->s++;
        long v = escape(&f->s);
        if (v < 0 || (!utf8 && v > 255))
            return -1;
        unsigned char u[4];
        size_t w = v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4;
        if (!utf8 || w == 1)
            u[0] = (unsigned char) v, w = 1;
        else {
            for (size_t b = w - 1; b > 0; b--, v >>= 6)
                u[b] = (unsigned char) (0x80 | (v & 0x3F));
            u[0] = (unsigned char) ((0xF00 >> w) | v); /* 110x, 1110x, 11110x */
        }
        if (cap - n < w)
            return -1;
        memcpy(out + n, u, w);
        n += w;
    }
    if (*f->s != q)
        return -1;
    f->s++;
    return (long) n;
}

static int term(fmt *f);

static int elements(fmt *f, long n)
{
    for (long k = 0; k < n; k++) {
        int rc = term(f);
        if (rc)
            return rc;
        spaces(f);
        if (k + 1 < n && !eat(f, ','))
            return FX_EINVAL;
    }
    return 0;
}

static int container(fmt *f, char open)
{
    char close = open == '{' ? '}' : ']';
    long n = count(f->s, close);
    if (n < 0 || n > INT32_MAX)
        return FX_EINVAL;
    int rc;
    if (open == '{') {
        rc = fx_term_put_tuple(f->b, (size_t) n);
        if (!rc)
            rc = elements(f, n);
    } else if (n == 0) {
        spaces(f);
        if (*f->s == '|')
            return FX_EINVAL;
        rc = fx_term_put_nil(f->b);
    } else {
        rc = fx_term_put_list(f->b, (size_t) n);
        if (!rc)
            rc = elements(f, n);
        spaces(f);
        if (!rc && eat(f, '|')) {
            rc = term(f);
        } else if (!rc) {
            rc = fx_term_put_nil(f->b);
        }
    }
    spaces(f);
    if (!rc && !eat(f, close))
        return FX_EINVAL;
    return rc;
}

static int map(fmt *f)
{
    long n = count(f->s, '}');
    if (n < 0 || n > INT32_MAX)
        return FX_EINVAL;
    int rc = fx_term_put_map(f->b, (size_t) n);
    for (long k = 0; !rc && k < n; k++) {
        rc = term(f);
        if (rc)
            break;
        spaces(f);
        if (!eat2(f, '=', '>'))
            return FX_EINVAL;
        rc = term(f);
        if (rc)
            break;
        spaces(f);
        if (k + 1 < n && !eat(f, ','))
            return FX_EINVAL;
    }
    spaces(f);
    if (!rc && !eat(f, '}'))
        return FX_EINVAL;
    return rc;
}

static int binary(fmt *f)
{
    spaces(f);
    int rc;
    if (f->s[0] == '>' && f->s[1] == '>') {
        rc = fx_term_put_binary(f->b, NULL, 0);
    } else if (*f->s == '"') {
        const char *end = quoted(f->s);
        if (!end)
            return FX_EINVAL;
        size_t cap = (size_t) (end - f->s);
        char *tmp = malloc(cap);
        if (!tmp)
            return FX_ENOMEM;
        long n = unquote(f, tmp, cap, false);
        rc = n < 0 ? FX_EINVAL : fx_term_put_binary(f->b, tmp, (size_t) n);
        free(tmp);
        spaces(f);
    } else {
        return FX_EINVAL;
    }
    if (!rc && !eat2(f, '>', '>'))
        return FX_EINVAL;
    return rc;
}

static int number(fmt *f)
{
    const char *s = f->s;
    char *end;
    bool is_float = false;
    for (const char *p = s + (*s == '-');
         isdigit((unsigned char) *p) || *p == '.' || *p == 'e' || *p == 'E' ||
         ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E'));
         p++)
        is_float |= *p == '.';
    errno = 0;
    if (is_float) {
        double d = strtod(s, &end);
        if (end == s || errno)
            return FX_EINVAL;
        f->s = end;
        return fx_term_put_double(f->b, d);
    }
    long long v = strtoll(s, &end, 10);
    if (end == s || errno)
        return FX_EINVAL;
    f->s = end;
    return fx_term_put_i64(f->b, v);
}

static int hole(fmt *f)
{
    char c = *f->s;
    if (!c)
        return FX_EINVAL; /* "~" at the end */
    f->s++;
    switch (c) {
    case 'a':
        return fx_term_put_atomz(f->b, va_arg(f->ap, const char *));
    case 's': {
        const char *s = va_arg(f->ap, const char *);
        return s ? fx_term_put_string(f->b, s, strlen(s)) : FX_EINVAL;
    }
    case 'b': {
        const char *s = va_arg(f->ap, const char *);
        return s ? fx_term_put_binary(f->b, s, strlen(s)) : FX_EINVAL;
    }
    case 'y': {
        const void *p = va_arg(f->ap, const void *);
        size_t n = va_arg(f->ap, size_t);
        return fx_term_put_binary(f->b, p, n);
    }
    case 'i':
        return fx_term_put_i64(f->b, va_arg(f->ap, int));
    case 'l':
        return fx_term_put_i64(f->b, va_arg(f->ap, int64_t));
    case 'u':
        return fx_term_put_u64(f->b, va_arg(f->ap, uint64_t));
    case 'f':
        return fx_term_put_double(f->b, va_arg(f->ap, double));
    case 't': {
        const fx_term_builder *t = va_arg(f->ap, const fx_term_builder *);
        const void *d;
        size_t n;
        int rc = fx_term_builder_data(t, &d, &n);
        return rc ? rc : fx_term_put_raw(f->b, (const char *) d + 1, n - 1);
    }
    default:
        return FX_EINVAL;
    }
}

static int term(fmt *f)
{
    spaces(f);
    if (++f->depth > FX_TERM_MAX_DEPTH + 1) /* containers, then a leaf */
        return FX_EINVAL;
    int rc;
    char c = *f->s;
    if (c == '{' || c == '[') {
        f->s++;
        rc = container(f, c);
    } else if (c == '#' && f->s[1] == '{') {
        f->s += 2;
        rc = map(f);
    } else if (c == '<' && f->s[1] == '<') {
        f->s += 2;
        rc = binary(f);
    } else if (c == '~') {
        f->s++;
        rc = hole(f);
    } else if (c == '-' || isdigit((unsigned char) c)) {
        rc = number(f);
    } else if (c == '"') {
        const char *end = quoted(f->s);
        if (!end)
            return FX_EINVAL;
        size_t cap = (size_t) (end - f->s);
        char *tmp = malloc(cap);
        if (!tmp)
            return FX_ENOMEM;
        long n = unquote(f, tmp, cap, false);
        rc = n < 0 ? FX_EINVAL : fx_term_put_string(f->b, tmp, (size_t) n);
        free(tmp);
    } else if (c == '\'') {
        long n = unquote(f, f->name, sizeof f->name, true);
        rc = n < 0 ? FX_EINVAL : fx_term_put_atom(f->b, f->name, (size_t) n);
    } else if (islower((unsigned char) c)) {
        const char *s = f->s;
        while (isalnum((unsigned char) *f->s) || *f->s == '_' || *f->s == '@')
            f->s++;
        rc = fx_term_put_atom(f->b, s, (size_t) (f->s - s));
    } else {
        rc = FX_EINVAL;
    }
    f->depth--;
    return rc;
}

FX_API int fx_term_vformat(fx_term_builder *b, const char *fmtstr, va_list ap)
{
    int rc = fxi_tb_check(b);
    if (rc)
        return rc;
    if (!fmtstr)
        return fxi_tb_fail(b, FX_EINVAL);
    fmt f = {.s = fmtstr, .b = b};
    va_copy(f.ap, ap);
    rc = term(&f);
    va_end(f.ap);
    spaces(&f);
    if (!rc && *f.s)
        rc = FX_EINVAL; /* more than one term */
    return rc ? fxi_tb_fail(b, rc) : 0;
}

FX_API int fx_term_format(fx_term_builder *b, const char *fmtstr, ...)
{
    va_list ap;
    va_start(ap, fmtstr);
    int rc = fx_term_vformat(b, fmtstr, ap);
    va_end(ap);
    return rc;
}

FX_API int fx_term_format_msg(fx_msg **out, const char *fmtstr, ...)
{
    if (!out)
        return FX_EINVAL;
    *out = NULL;
    if (!fmtstr)
        return FX_EINVAL;
    fx_term_builder b;
    int rc = fx_term_builder_init_buf(&b, NULL, 0);
    va_list ap;
    va_start(ap, fmtstr);
    if (!rc)
        rc = fx_term_vformat(&b, fmtstr, ap);
    va_end(ap);
    if (rc)
        return rc;
    size_t size = fx_term_builder_size(&b);
    fx_msg *m = fxi_msg_alloc(FX_MSG_TERM, (uint32_t) size);
    if (!m)
        return FX_ENOMEM;
    fx_term_builder w;
    fx_term_builder_init_buf(&w, m->data, size);
    va_start(ap, fmtstr);
    rc = fx_term_vformat(&w, fmtstr, ap);
    va_end(ap);
    const void *d;
    size_t n;
    if (!rc)
        rc = fx_term_builder_data(&w, &d, &n);
    if (rc) {
        fxi_msg_release(m);
        return rc;
    }
    *out = m;
    return 0;
}
