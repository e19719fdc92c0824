/* fx_term_print: Erlang syntax, as io:format("~w") writes it, without
 * recursion: an explicit heap stack of open containers, as deep as the
 * term. */
#include "term/etf.h"

#include <fauxtp/error.h>

#include <ei.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bignums longer than this print as #Big<N bytes> (decimal conversion is
 * quadratic in the length). */
#define BIG_PRINT_MAX 4096

typedef struct sink {
    char *out;
    size_t cap;
    size_t len;
} sink;

static void put(sink *s, const char *p, size_t n)
{
    if (s->len < s->cap) {
        size_t room = s->cap - s->len;
        memcpy(s->out + s->len, p, n < room ? n : room);
    }
    s->len += n;
}

static void puts_(sink *s, const char *p)
{
    put(s, p, strlen(p));
}

static void putu(sink *s, uint64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%" PRIu64, v);
    put(s, t, (size_t) n);
}

static bool reserved(const char *a)
{
    static const char *const words[] = {
        "after", "and",  "andalso", "band",   "begin",   "bnot", "bor", "bsl",  "bsr",
        "bxor",  "case", "catch",   "cond",   "div",     "end",  "fun", "if",   "let",
        "not",   "of",   "or",      "orelse", "receive", "rem",  "try", "when", "xor"};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (strcmp(a, words[k]) == 0)
            return true;
    return false;
}

/* The code point of the valid UTF-8 character at p; *w gets its bytes. */
static uint32_t utf8_at(const unsigned char *p, size_t *w)
{
    if (p[0] < 0x80)
        return *w = 1, p[0];
    if (p[0] < 0xE0)
        return *w = 2, (uint32_t) (p[0] & 0x1F) << 6 | (p[1] & 0x3F);
    if (p[0] < 0xF0)
        return *w = 3, (uint32_t) (p[0] & 0x0F) << 12 | (uint32_t) (p[1] & 0x3F) << 6 |
                           (p[2] & 0x3F);
    return *w = 4, (uint32_t) (p[0] & 0x07) << 18 | (uint32_t) (p[1] & 0x3F) << 12 |
                       (uint32_t) (p[2] & 0x3F) << 6 | (p[3] & 0x3F);
}

/* io_lib's rules: a bare atom starts with a lower-case Latin-1 letter and
 * goes on with Latin-1 letters, digits, _ and @ (÷ and × are not
 * letters). */
static bool lower1(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
}

static bool name_char(uint32_t c)
{
    return lower1(c) || (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
           (c >= '0' && c <= '9') || c == '_' || c == '@';
}

/* One character inside quotes, escaped as ~w escapes it (the text is
 * UTF-8, so Latin-1's printable upper half is written as itself). */
static void quoted_char(sink *s, uint32_t c, const char *raw, size_t w)
{
    static const char ctl[32] = {['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\v'] = 'v',
                                 ['\f'] = 'f', ['\r'] = 'r', [27] = 'e'};
    char t[16];
    int n;
    if (c == '\\' || c == '\'')
        n = snprintf(t, sizeof t, "\\%c", (int) c);
    else if (c < 32 && ctl[c])
        n = snprintf(t, sizeof t, "\\%c", ctl[c]);
    else if (c == 127)
        n = snprintf(t, sizeof t, "\\d");
    else if (c < 32 || (c >= 128 && c < 160))
        n = snprintf(t, sizeof t, "\\%03o", (unsigned) c);
    else if (c >= 256)
        n = snprintf(t, sizeof t, "\\x{%X}", (unsigned) c);
    else {
        put(s, raw, w);
        return;
    }
    put(s, t, (size_t) n);
}

static void atom_text(sink *s, const char *a, size_t len)
{
    const unsigned char *u = (const unsigned char *) a;
    size_t w;
    bool bare = len > 0 && lower1(utf8_at(u, &w)) && !reserved(a);
    for (size_t k = 0; bare && k < len; k += w)
        bare = name_char(utf8_at(u + k, &w));
    if (bare) {
        put(s, a, len);
        return;
    }
    put(s, "'", 1);
    for (size_t k = 0; k < len; k += w) {
        uint32_t c = utf8_at(u + k, &w);
        quoted_char(s, c, a + k, w);
    }
    put(s, "'", 1);
}

/* The atom at b[*pos] (validated): printed, *pos moved past it. */
static void atom(sink *s, const char *b, size_t *pos)
{
    char tmp[MAXATOMLEN_UTF8 * 2];
    int i = 0;
    if (ei_decode_atom_as(b + *pos, &i, tmp, sizeof tmp, ERLANG_UTF8, NULL, NULL) < 0) {
        size_t q = *pos;
        puts_(s, "'?'");
        /* Skip it anyway: validated, so its length fields are sound. */
        unsigned char t = (unsigned char) b[q];
        size_t len =
            (t == 100 || t == 118) ? fxi_be16(b + q + 1) : (unsigned char) b[q + 1];
        *pos = q + ((t == 100 || t == 118) ? 3 : 2) + len;
        return;
    }
    atom_text(s, tmp, fxi_term_atom_utf8_len(b + *pos));
    *pos += (size_t) i;
}

/* Magnitude (LE bytes) in decimal. */
static void bignum(sink *s, int neg, const unsigned char *mag, size_t n)
{
    while (n && mag[n - 1] == 0)
        n--;
    if (n > BIG_PRINT_MAX) {
        puts_(s, "#Big<");
        putu(s, n);
        puts_(s, " bytes>");
        return;
    }
    size_t limbs = (n + 3) / 4;
    uint32_t *l = calloc(limbs ? limbs : 1, sizeof *l);
    char *dec = malloc(limbs * 10 + 2);
    if (!l || !dec) {
        free(l);
        free(dec);
        puts_(s, "#Big<?>");
        return;
    }
    for (size_t k = 0; k < n; k++)
        l[k / 4] |= (uint32_t) mag[k] << (8 * (k % 4));
    size_t nd = 0;
    while (limbs) {
        uint64_t rem = 0;
        for (size_t k = limbs; k-- > 0;) {
            uint64_t cur = (rem << 32) | l[k];
            l[k] = (uint32_t) (cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (limbs && l[limbs - 1] == 0)
            limbs--;
        for (int d = 0; d < 9 && (limbs || rem); d++) {
            dec[nd++] = (char) ('0' + rem % 10);
            rem /= 10;
        }
    }
    if (nd == 0)
        dec[nd++] = '0';
    if (neg && n) /* a negative zero (sign 1, magnitude 0) is 0 */
        put(s, "-", 1);
    for (size_t k = nd; k-- > 0;)
        put(s, dec + k, 1);
    free(l);
    free(dec);
}

/* Shortest digits that read back as d, in Erlang's float syntax: the
 * shorter of plain decimal and scientific notation (decimal on a tie;
 * scientific from 2^53 up), as float_to_list(F, [short]) chooses. */
static void flt(sink *s, double d)
{
    char t[48];
    int p = 0;
    while (++p < 17) {
        snprintf(t, sizeof t, "%.*e", p - 1, d);
        if (strtod(t, NULL) == d)
            break;
    }
    snprintf(t, sizeof t, "%.*e", p - 1, d);
    if (strchr(t, 'n') || strchr(t, 'i')) { /* nan, inf: not from Erlang */
        puts_(s, t);
        return;
    }
    /* t = [-]D[.DDD]e(+|-)XX: the digits and the exponent. */
    bool neg = t[0] == '-';
    char dig[24];
    int nd = 0;
    char *e = strchr(t, 'e');
    for (char *q = t + neg; q < e; q++)
        if (*q != '.')
            dig[nd++] = *q;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    int x = atoi(e + 1);
    char sci[48], dec[400];
    snprintf(sci, sizeof sci, "%s%c.%.*se%d", neg ? "-" : "", dig[0], nd > 1 ? nd - 1 : 1,
             nd > 1 ? dig + 1 : "0", x);
    size_t n = 0;
    if (neg)
        dec[n++] = '-';
    if (x < 0) {
        dec[n++] = '0';
        dec[n++] = '.';
        for (int k = 0; k < -x - 1; k++)
            dec[n++] = '0';
        for (int k = 0; k < nd; k++)
            dec[n++] = dig[k];
    } else {
        for (int k = 0; k <= x; k++)
            dec[n++] = k < nd ? dig[k] : '0';
        dec[n++] = '.';
        if (nd > x + 1)
            for (int k = x + 1; k < nd; k++)
                dec[n++] = dig[k];
        else
            dec[n++] = '0';
    }
    dec[n] = 0;
    /* From 2^53 up, where not every integer is a double, Erlang always
     * writes scientific notation (9.007199254740992e15). */
    puts_(s, strlen(sci) < n || fabs(d) >= 9007199254740992.0 ? sci : dec);
}

static void bytes(sink *s, const unsigned char *p, size_t n, int last_bits)
{
    for (size_t k = 0; k < n; k++) {
        if (k)
            put(s, ",", 1);
        unsigned v = p[k];
        if (last_bits && k + 1 == n)
            v >>= 8 - last_bits;
        putu(s, v);
        if (last_bits && last_bits < 8 && k + 1 == n) {
            put(s, ":", 1);
            putu(s, (uint64_t) last_bits);
        }
    }
}

/* A pid, port or reference: #Pid<'node'.Id.Serial>-style text. */
static void ident(sink *s, const char *b, size_t *pos, unsigned char t)
{
    const char *what = (t == 103 || t == 88)               ? "#Pid<"
                       : (t == 101 || t == 114 || t == 90) ? "#Ref<"
                                                           : "#Port<";
    puts_(s, what);
    size_t q = *pos + 1, n = 0, w = 4;
    if (t == 114 || t == 90) {
        n = fxi_be16(b + q);
        q += 2;
    }
    atom(s, b, &q);
    if (t == 103 || t == 88) {
        put(s, ".", 1), putu(s, fxi_be32(b + q));
        put(s, ".", 1), putu(s, fxi_be32(b + q + 4));
        q += t == 103 ? 9 : 12;
    } else if (t == 102 || t == 89 || t == 101) {
        put(s, ".", 1), putu(s, fxi_be32(b + q));
        q += t == 89 ? 8 : 5;
    } else if (t == 120) {
        uint64_t id = ((uint64_t) fxi_be32(b + q) << 32) | fxi_be32(b + q + 4);
        put(s, ".", 1), putu(s, id);
        q += 12;
    } else {
        q += t == 114 ? 1 : 4;
        for (size_t k = 0; k < n; k++, q += w)
            put(s, ".", 1), putu(s, fxi_be32(b + q));
    }
    put(s, ">", 1);
    *pos = q;
}

/* The walk's stack, on the heap and as deep as the term (the reader has
 * no depth limit): per open container the terms still to print, with its
 * kind and flags in the top bits. A map printed in key order also has an
 * entry on a second stack: where its keys and values are, in print order,
 * in a shared array of positions. */
#define F_TUPLE (0ull << 61)
#define F_LIST (1ull << 61)
#define F_MAP (2ull << 61)
#define F_KIND (3ull << 61)
#define F_STARTED (1ull << 60) /* an element was printed */
#define F_SORTED (1ull << 59)  /* a map with an entry on the order stack */
#define F_REM ((1ull << 59) - 1)

/* Erlang's io_lib prints a flatmap (up to 32 pairs) in key order; larger
 * maps (hashmaps) print in the order they were encoded, which for a map
 * from Erlang is its own iteration order. */
#define SORTED_MAX 32

typedef struct ord {
    size_t base;    /* its first position in the positions array */
    size_t end;     /* the byte after the map */
    uint64_t total; /* 2 * pairs */
} ord;

typedef struct pstack {
    uint64_t *st, st_small[64];
    size_t d, dcap;
    ord *o, o_small[8];
    size_t no, ocap;
    size_t *pv; /* positions of sorted maps' keys and values */
    size_t npv, pvcap;
    size_t budget; /* bytes the sorting may still walk */
} pstack;

static bool grow_to(void **v, void *small, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return true;
    size_t cap2 = *cap ? *cap : 16;
    while (cap2 < need)
        cap2 *= 2;
    void *nv = *v == small ? malloc(cap2 * sz) : realloc(*v, cap2 * sz);
    if (!nv)
        return false;
    if (*v == small && small)
        memcpy(nv, small, *cap * sz);
    *v = nv, *cap = cap2;
    return true;
}

static _Thread_local const unsigned char *ord_canon; /* qsort has no context */

typedef struct keyc {
    size_t off, len; /* canonical form in ord_canon */
    size_t k, v;     /* key and value positions */
} keyc;

static int keyc_cmp(const void *a, const void *b)
{
    const keyc *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(ord_canon + x->off, ord_canon + y->off, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Pushes the order entry of the map of `pairs` pairs whose first key is at
 * b[pos]: its keys and values in key order. false (print in encoded order)
 * when over budget or out of memory. */
static bool sort_map(pstack *ps, const char *b, size_t size, size_t pos, uint32_t pairs)
{
    keyc kc[SORTED_MAX];
    fxi_bytes c = {0};
    size_t q = pos;
    bool ok = true;
    for (uint32_t i = 0; ok && i < pairs; i++) {
        kc[i].k = q;
        kc[i].off = c.n;
        size_t start = q;
        ok = fxi_term_canon(b, q, &c, &ps->budget) == 0 &&
             fxi_term_validate(b, size, &q) == 0;
        kc[i].len = c.n - kc[i].off;
        kc[i].v = q;
        ok = ok && fxi_term_validate(b, size, &q) == 0;
        size_t walked = q - start;
        ok = ok && walked <= ps->budget;
        if (ok)
            ps->budget -= walked;
    }
    if (ok) {
        ord_canon = c.v;
        qsort(kc, pairs, sizeof kc[0], keyc_cmp);
        ok = grow_to((void **) &ps->pv, NULL, &ps->pvcap, ps->npv + 2 * pairs,
                     sizeof *ps->pv) &&
             grow_to((void **) &ps->o, ps->o_small, &ps->ocap, ps->no + 1, sizeof *ps->o);
    }
    if (ok) {
        ps->o[ps->no++] = (ord){.base = ps->npv, .end = q, .total = 2 * (uint64_t) pairs};
        for (uint32_t i = 0; i < pairs; i++) {
            ps->pv[ps->npv++] = kc[i].k;
            ps->pv[ps->npv++] = kc[i].v;
        }
    }
    free(c.v);
    return ok;
}

/* A list's tail at b[pos] that goes on printing in the same brackets: a
 * list (its cells continue the list), a STRING_EXT (its bytes), [] (the
 * end). *f updated, *pos moved; false when the tail is something else
 * (then printed after '|'). */
static bool tail(sink *s, const char *b, size_t size, size_t *pos, uint64_t *f)
{
    size_t p = fxi_term_past_empty(b, size, *pos);
    unsigned char t = (unsigned char) b[p];
    if (t == 106) {
        *pos = p + 1;
        *f &= ~F_REM;
        return true;
    }
    if (t == 107) {
        size_t n = fxi_be16(b + p + 1);
        if (n)
            put(s, ",", 1);
        bytes(s, (const unsigned char *) b + p + 3, n, 0);
        *pos = p + 3 + n;
        *f &= ~F_REM;
        return true;
    }
    if (t == 108) {
        *pos = p + 5;
        *f = (*f & ~F_REM) | ((uint64_t) fxi_be32(b + p + 1) + 1);
        return true;
    }
    *pos = p;
    return false;
}

static int print(const char *b, size_t size, size_t pos, sink *s)
{
    pstack ps = {.st = ps.st_small,
                 .dcap = 64,
                 .o = ps.o_small,
                 .ocap = 8,
                 .budget = 4 * size + 4096};
    int rc = FX_ENOMEM;
    bool first = true;
    while (first || ps.d > 0) {
        uint64_t *f = ps.d ? &ps.st[ps.d - 1] : NULL;
        if (f && (*f & F_REM) == 0) {
            puts_(s, (*f & F_KIND) == F_LIST ? "]" : "}");
            if (*f & F_SORTED)
                pos = ps.o[--ps.no].end, ps.npv = ps.o[ps.no].base;
            ps.d--;
            continue;
        }
        if (f) {
            uint64_t kind = *f & F_KIND, rem = *f & F_REM;
            if (kind == F_LIST && rem == 1) { /* the tail */
                if (tail(s, b, size, &pos, f))
                    continue;
                put(s, "|", 1);
            } else if (kind == F_MAP && rem % 2) { /* a value */
                puts_(s, " => ");
            } else if (*f & F_STARTED) {
                put(s, ",", 1);
            }
            if (*f & F_SORTED) {
                ord *o = &ps.o[ps.no - 1];
                pos = ps.pv[o->base + (o->total - rem)];
            }
            *f = (*f - 1) | F_STARTED;
        }
        first = false;
        pos = fxi_term_past_empty(b, size, pos); /* LIST_EXT(0, T) is T */
        if (pos >= size) {
            rc = FX_EBADTERM;
            goto out;
        }
        unsigned char t = (unsigned char) b[pos];
        const char *p = b + pos;
        uint64_t kids = 0, kind = 0;
        switch (t) {
        case 97:
            putu(s, (unsigned char) p[1]);
            pos += 2;
            break;
        case 98: {
            int32_t v = (int32_t) fxi_be32(p + 1);
            if (v < 0)
                put(s, "-", 1);
            putu(s, v < 0 ? 0u - (uint64_t) (int64_t) v : (uint64_t) v);
            pos += 5;
            break;
        }
        case 110:
        case 111: {
            size_t n = t == 110 ? (unsigned char) p[1] : fxi_be32(p + 1);
            size_t h = t == 110 ? 2 : 5;
            bignum(s, p[h] != 0, (const unsigned char *) p + h + 1, n);
            pos += h + 1 + n;
            break;
        }
        case 70:
        case 99: {
            int i = 0;
            double v = 0;
            if (ei_decode_double(p, &i, &v) < 0) {
                rc = FX_EBADTERM;
                goto out;
            }
            flt(s, v);
            pos += (size_t) i;
            break;
        }
        case 100:
        case 115:
        case 118:
        case 119:
            atom(s, b, &pos);
            break;
        case 106:
            puts_(s, "[]");
            pos++;
            break;
        case 107: {
            size_t n = fxi_be16(p + 1);
            put(s, "[", 1);
            bytes(s, (const unsigned char *) p + 3, n, 0);
            put(s, "]", 1);
            pos += 3 + n;
            break;
        }
        case 109:
        case 77: {
            size_t n = fxi_be32(p + 1), h = t == 109 ? 5 : 6;
            puts_(s, "<<");
            bytes(s, (const unsigned char *) p + h, n,
                  t == 77 ? (unsigned char) p[5] : 0);
            puts_(s, ">>");
            pos += h + n;
            break;
        }
        case 104:
            kids = (unsigned char) p[1], kind = F_TUPLE | 1, pos += 2;
            break;
        case 105:
            kids = fxi_be32(p + 1), kind = F_TUPLE | 1, pos += 5;
            break;
        case 108:
            kids = (uint64_t) fxi_be32(p + 1) + 1, kind = F_LIST | 1, pos += 5;
            break;
        case 116:
            kids = (uint64_t) fxi_be32(p + 1) * 2, kind = F_MAP | 1, pos += 5;
            break;
        case 103:
        case 88:
        case 102:
        case 89:
        case 120:
        case 101:
        case 114:
        case 90:
            ident(s, b, &pos, t);
            break;
        default: { /* funs: opaque */
            size_t q = pos;
            rc = fxi_term_validate(b, size, &q);
            if (rc)
                goto out;
            puts_(s, "#Fun<>");
            pos = q;
            break;
        }
        }
        if (kind) {
            kind &= F_KIND;
            puts_(s, kind == F_TUPLE ? "{" : kind == F_LIST ? "[" : "#{");
            if (kind == F_MAP && kids > 2 && kids <= 2 * SORTED_MAX &&
                sort_map(&ps, b, size, pos, (uint32_t) (kids / 2)))
                kind |= F_SORTED;
            if (!grow_to((void **) &ps.st, ps.st_small, &ps.dcap, ps.d + 1,
                         sizeof *ps.st))
                goto out;
            ps.st[ps.d++] = kind | kids;
        }
    }
    rc = 0;
out:
    if (ps.st != ps.st_small)
        free(ps.st);
    if (ps.o != ps.o_small)
        free(ps.o);
    free(ps.pv);
    return rc;
}

static int finish(sink *s, int rc)
{
    if (s->cap)
        s->out[s->len < s->cap ? s->len : s->cap - 1] = 0;
    if (rc)
        return rc;
    return s->len > INT32_MAX ? FX_EMSGSIZE : (int) s->len;
}

FX_API int fx_term_print(const fx_term_reader *r, char *out, size_t cap)
{
    if (!r || (!out && cap))
        return FX_EINVAL;
    sink s = {out, cap, 0};
    if (!r->fxi_buf || r->fxi_pos >= r->fxi_size)
        return finish(&s, FX_EBADTERM);
    return finish(&s, print(r->fxi_buf, r->fxi_size, r->fxi_pos, &s));
}

FX_API int fx_term_sprint(const void *data, size_t size, char *out, size_t cap)
{
    if (!data || (!out && cap))
        return FX_EINVAL;
    fx_term_reader r;
    int rc = fx_term_reader_init(&r, data, size);
    if (rc) {
        sink s = {out, cap, 0};
        return finish(&s, rc);
    }
    return fx_term_print(&r, out, cap);
}
