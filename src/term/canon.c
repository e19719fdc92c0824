/* A term's canonical form: bytes that are equal exactly when two terms
 * are equal as Erlang map keys compare them (=:=, whatever their ETF
 * encoding), and that memcmp orders as Erlang's term order. Used for
 * duplicate map keys (validate.c) and to print small maps in key order
 * (print.c). Walks without recursion (a heap stack of open containers).
 *
 * The form: a class byte in term order (number < atom < reference < fun
 * < port < pid < tuple < map < [] < list < bitstring), then:
 *   integer  0, sign (0 negative, 1 otherwise), 4-byte length and the
 *            magnitude, big-endian, both complemented when negative;
 *   float    1, the IEEE bits made order-preserving (-0.0 as 0.0, equal
 *            as in OTP 25); every integer sorts before every float, as in
 *            a map's key order;
 *   atom     its UTF-8 text (a Latin-1 atom converted), 00 as 00 FF, and
 *            00 00 to end it; binaries the same, a partial last byte as
 *            00 01 bits byte before the end;
 *   tuple    4-byte arity and the elements; map: 4-byte size and the
 *            pairs in encoded order (a map inside a key compares by its
 *            encoded pair order: a documented simplification);
 *   list     each element preceded by the list class, then the tail's
 *            form ([] for a proper list): STRING_EXT, LIST_EXT of any
 *            run of cells and LIST_EXT(0, Tail) all give the same form;
 *   pid, port, reference: the node atom's form, then the numbers
 *            (PID_EXT's 8-bit creation widened); funs: their bytes. */
#include "term/etf.h"

#include <fauxtp/error.h>

#include <stdlib.h>
#include <string.h>

enum {
    C_NUM = 1,
    C_ATOM,
    C_REF,
    C_FUN,
    C_PORT,
    C_PID,
    C_TUPLE,
    C_MAP,
    C_NIL,
    C_LIST,
    C_BITS
};

static bool grow(fxi_bytes *o, size_t n)
{
    if (o->cap - o->n >= n)
        return true;
    size_t cap = o->cap ? o->cap : 256;
    while (cap - o->n < n)
        cap *= 2;
    unsigned char *v = realloc(o->v, cap);
    if (!v)
        return false;
    o->v = v, o->cap = cap;
    return true;
}

static void put1(fxi_bytes *o, unsigned char c)
{
    o->v[o->n++] = c;
}

static void put32(fxi_bytes *o, uint32_t v)
{
    for (int k = 3; k >= 0; k--)
        put1(o, (unsigned char) (v >> (8 * k)));
}

/* Escaped text: 00 becomes 00 FF; room for 2 * n + 4 checked by caller. */
static void text(fxi_bytes *o, const unsigned char *p, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        put1(o, p[k]);
        if (p[k] == 0)
            put1(o, 0xFF);
    }
}

/* An integer from its magnitude (n bytes, little-endian). */
static bool integer(fxi_bytes *o, int neg, const unsigned char *mag, size_t n)
{
    while (n && mag[n - 1] == 0)
        n--;
    if (!grow(o, 7 + n))
        return false;
    neg = n ? neg : 0;
    unsigned char x = neg ? 0xFF : 0;
    put1(o, C_NUM), put1(o, 0), put1(o, neg ? 0 : 1);
    put32(o, (uint32_t) n ^ (neg ? 0xFFFFFFFFu : 0));
    for (size_t k = n; k-- > 0;)
        put1(o, mag[k] ^ x);
    return true;
}

static bool flt(fxi_bytes *o, double d)
{
    if (!grow(o, 10))
        return false;
    if (d == 0)
        d = 0.0; /* -0.0 =:= 0.0 in OTP 25 */
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    u = (u >> 63) ? ~u : u | (1ull << 63);
    put1(o, C_NUM), put1(o, 1);
    put32(o, (uint32_t) (u >> 32));
    put32(o, (uint32_t) u);
    return true;
}

/* The atom whose tag is at b[*pos]: *pos moved past it. */
static bool atom(fxi_bytes *o, const char *b, size_t *pos)
{
    const unsigned char *u = (const unsigned char *) b + *pos;
    bool small = u[0] == 115 || u[0] == 119;
    size_t n = small ? u[1] : fxi_be16(b + *pos + 1), h = small ? 2 : 3;
    bool latin1 = u[0] == 100 || u[0] == 115;
    if (!grow(o, 4 * n + 3))
        return false;
    put1(o, C_ATOM);
    for (size_t k = 0; k < n; k++) {
        unsigned char c = u[h + k];
        if (latin1 && c >= 0x80) {
            put1(o, (unsigned char) (0xC0 | (c >> 6)));
            put1(o, (unsigned char) (0x80 | (c & 0x3F)));
        } else {
            text(o, &c, 1);
        }
    }
    put1(o, 0), put1(o, 0);
    *pos += h + n;
    return true;
}

/* Pids, ports, references: node atom, then the numbers. */
static bool ident(fxi_bytes *o, const char *b, size_t *pos)
{
    unsigned char t = (unsigned char) b[*pos];
    size_t q = *pos + 1;
    uint16_t words = 1;
    if (t == 114 || t == 90) {
        words = fxi_be16(b + q);
        q += 2;
    }
    if (!grow(o, 1))
        return false;
    put1(o, (t == 103 || t == 88)               ? C_PID
            : (t == 102 || t == 89 || t == 120) ? C_PORT
                                                : C_REF);
    if (!atom(o, b, &q))
        return false;
    if (!grow(o, 40))
        return false;
    switch (t) {
    case 103: /* PID_EXT: id, serial, 8-bit creation */
    case 88:  /* NEW_PID_EXT: 32-bit creation */
        put32(o, fxi_be32(b + q)), put32(o, fxi_be32(b + q + 4));
        put32(o, t == 103 ? (unsigned char) b[q + 8] : fxi_be32(b + q + 8));
        q += t == 103 ? 9 : 12;
        break;
    case 102: /* PORT_EXT: 32-bit id, 8-bit creation */
    case 89:  /* NEW_PORT_EXT: 32-bit id, 32-bit creation */
    case 120: /* V4_PORT_EXT: 64-bit id, 32-bit creation */
        put32(o, t == 120 ? fxi_be32(b + q) : 0);
        put32(o, fxi_be32(b + q + (t == 120 ? 4 : 0)));
        q += t == 120 ? 8 : 4;
        put32(o, t == 102 ? (unsigned char) b[q] : fxi_be32(b + q));
        q += t == 102 ? 1 : 4;
        break;
    case 101: /* REFERENCE_EXT: one word, 8-bit creation */
        put32(o, 1), put32(o, fxi_be32(b + q)), put32(o, (unsigned char) b[q + 4]);
        q += 5;
        break;
    default: { /* NEW_(ER_)REFERENCE_EXT: creation, then the words */
        uint32_t cr = t == 114 ? (unsigned char) b[q] : fxi_be32(b + q);
        q += t == 114 ? 1 : 4;
        if (!grow(o, 8 + 4u * words))
            return false;
        put32(o, words);
        for (uint16_t k = 0; k < words; k++, q += 4)
            put32(o, fxi_be32(b + q));
        put32(o, cr);
    }
    }
    *pos = q;
    return true;
}

#define F_LIST (1ull << 63)
#define F_REM (F_LIST - 1)

int fxi_term_canon(const char *b, size_t pos, fxi_bytes *out, size_t *budget)
{
    uint64_t small[32], *st = small;
    size_t d = 0, cap = 32, start = pos;
    int rc = FX_ENOMEM;
    st[d++] = 1;
    while (d > 0) {
        uint64_t *f = &st[d - 1];
        if ((*f & F_REM) == 0) {
            d--;
            continue;
        }
        bool list = (*f & F_LIST) != 0;
        bool elem = list && (*f & F_REM) > 1; /* else the tail */
        (*f)--;
        const unsigned char *p = (const unsigned char *) b + pos;
        while (p[0] == 108 && fxi_be32((const char *) p + 1) == 0)
            p += 5, pos += 5; /* LIST_EXT(0, Tail) is Tail */
        if (elem) {
            if (!grow(out, 1))
                goto out;
            put1(out, C_LIST);
        }
        uint64_t kids = 0;
        bool ok = true;
        switch (p[0]) {
        case 97:
            ok = integer(out, 0, p + 1, 1), pos += 2;
            break;
        case 98: {
            int32_t v = (int32_t) fxi_be32((const char *) p + 1);
            uint32_t m = v < 0 ? 0u - (uint32_t) v : (uint32_t) v;
            unsigned char mag[4] = {(unsigned char) m, (unsigned char) (m >> 8),
                                    (unsigned char) (m >> 16), (unsigned char) (m >> 24)};
            ok = integer(out, v < 0, mag, 4), pos += 5;
            break;
        }
        case 110:
        case 111: {
            size_t n = p[0] == 110 ? p[1] : fxi_be32((const char *) p + 1);
            size_t h = p[0] == 110 ? 2 : 5;
            ok = integer(out, p[h] != 0, p + h + 1, n), pos += h + 1 + n;
            break;
        }
        case 70: {
            uint64_t u = ((uint64_t) fxi_be32((const char *) p + 1) << 32) |
                         fxi_be32((const char *) p + 5);
            double v;
            memcpy(&v, &u, sizeof v);
            ok = flt(out, v), pos += 9;
            break;
        }
        case 99: /* FLOAT_EXT: validated text, NUL inside its 31 bytes */
            ok = flt(out, strtod((const char *) p + 1, NULL)), pos += 32;
            break;
        case 100:
        case 115:
        case 118:
        case 119:
            ok = atom(out, b, &pos);
            break;
        case 106:
            ok = grow(out, 1);
            if (ok)
                put1(out, C_NIL);
            pos += 1;
            break;
        case 107: { /* STRING_EXT: a proper list of small integers */
            size_t n = fxi_be16((const char *) p + 1);
            for (size_t k = 0; ok && k <= n; k++) {
                ok = grow(out, 1);
                if (ok)
                    put1(out, k < n ? C_LIST : C_NIL);
                if (ok && k < n)
                    ok = integer(out, 0, p + 3 + k, 1);
            }
            pos += 3 + n;
            break;
        }
        case 108:
            kids = (uint64_t) fxi_be32((const char *) p + 1) + 1, pos += 5;
            if (list && !elem) { /* a tail that goes on: the same list */
                *f = kids | F_LIST;
                kids = 0;
            }
            break;
        case 104:
        case 105:
        case 116: {
            uint32_t n = p[0] == 104 ? p[1] : fxi_be32((const char *) p + 1);
            ok = grow(out, 5);
            if (ok)
                put1(out, p[0] == 116 ? C_MAP : C_TUPLE), put32(out, n);
            kids = p[0] == 116 ? 2 * (uint64_t) n : n;
            pos += p[0] == 104 ? 2 : 5;
            break;
        }
        case 109:
        case 77: {
            size_t n = fxi_be32((const char *) p + 1), h = p[0] == 109 ? 5 : 6;
            unsigned bits = p[0] == 77 ? p[5] : 8;
            size_t whole = bits == 8 || n == 0 ? n : n - 1;
            ok = grow(out, 2 * n + 6);
            if (ok) {
                put1(out, C_BITS);
                text(out, p + h, whole);
                if (whole < n)
                    put1(out, 0), put1(out, 1), put1(out, (unsigned char) bits),
                        put1(out, p[h + whole]);
                put1(out, 0), put1(out, 0);
            }
            pos += h + n;
            break;
        }
        case 103:
        case 88:
        case 102:
        case 89:
        case 120:
        case 101:
        case 114:
        case 90:
            ok = ident(out, b, &pos);
            break;
        case 113: /* EXPORT_EXT: module, function, arity follow */
            ok = grow(out, 2);
            if (ok)
                put1(out, C_FUN), put1(out, 113);
            kids = 3, pos += 1;
            break;
        default: { /* NEW_FUN_EXT: Size counts itself and the tag's bytes follow */
            size_t n = fxi_be32((const char *) p + 1);
            ok = grow(out, n + 2);
            if (ok)
                put1(out, C_FUN), put1(out, 112), memcpy(out->v + out->n, p + 1, n),
                    out->n += n;
            pos += 1 + n;
        }
        }
        if (!ok)
            goto out;
        if (pos - start > *budget) {
            rc = 1; /* over budget: the caller falls back */
            goto out;
        }
        if (kids) {
            if (d == cap) {
                uint64_t *v = st == small ? malloc(2 * cap * sizeof *v)
                                          : realloc(st, 2 * cap * sizeof *v);
                if (!v)
                    goto out;
                if (st == small)
                    memcpy(v, small, sizeof small);
                st = v, cap *= 2;
            }
            st[d++] = kids | (p[0] == 108 ? F_LIST : 0);
        }
    }
    *budget -= pos - start;
    rc = 0;
out:
    if (st != small)
        free(st);
    return rc;
}
