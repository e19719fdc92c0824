/* Checking a term's bytes before anything decodes them: ei's decoders
 * trust their input (they take no length), and ei_skip_term recurses once
 * per nesting level, so a hostile 2 MB term of nested tuples would
 * overflow the stack. This walk takes no recursion: a heap stack of
 * "terms still to read" counts, as deep as the term (no depth limit). */
#include "term/etf.h"

#include <fauxtp/error.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pending child counts can reach 2^33 (a map of 2^32 pairs); every term
 * takes at least one byte, so a count above the bytes left is malformed. */
static bool need(size_t size, size_t pos, uint64_t n)
{
    return pos <= size && n <= size - pos;
}

/* FLOAT_EXT's text reads as a number (what ei's sscanf will do). */
static bool float_text(const char *p)
{
    char t[32], *end;
    memcpy(t, p, 31);
    t[31] = 0;
    double v = strtod(t, &end);
    return end != t && isfinite(v);
}

/* A UTF-8 atom's text is valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) of at most 255 characters, as binary_to_term
 * demands. */
static bool utf8_atom(const unsigned char *u, size_t len)
{
    size_t chars = 0;
    for (size_t k = 0; k < len; chars++) {
        unsigned c = u[k];
        size_t w = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (w == 0 || w > len - k)
            return false;
        uint32_t v = w == 1 ? c : c & (0xFFu >> (w + 1));
        for (size_t i = 1; i < w; i++) {
            if ((u[k + i] & 0xC0) != 0x80)
                return false;
            v = v << 6 | (u[k + i] & 0x3F);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (v < least[w] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return false;
        k += w;
    }
    return chars <= 255;
}

/* An atom (also in a pid, port or reference's node field). */
static int node_atom(const char *b, size_t size, size_t *pos)
{
    size_t p = *pos;
    if (!need(size, p, 1))
        return FX_EBADTERM;
    unsigned char tag = (unsigned char) b[p++];
    size_t len;
    if (tag == 100 || tag == 118) { /* ATOM_EXT, ATOM_UTF8_EXT */
        if (!need(size, p, 2))
            return FX_EBADTERM;
        len = fxi_be16(b + p);
        p += 2;
        if (len > (tag == 100 ? 255u : (unsigned) FX_TERM_ATOM_MAX))
            return FX_EBADTERM;
    } else if (tag == 115 || tag == 119) { /* SMALL_ATOM_EXT, SMALL_ATOM_UTF8_EXT */
        if (!need(size, p, 1))
            return FX_EBADTERM;
        len = (unsigned char) b[p++];
    } else {
        return FX_EBADTERM;
    }
    if (!need(size, p, len))
        return FX_EBADTERM;
    if ((tag == 118 || tag == 119) && !utf8_atom((const unsigned char *) b + p, len))
        return FX_EBADTERM;
    *pos = p + len;
    return 0;
}

/* Reads the header (or the whole, for a leaf) of the term at *pos: moves
 * *pos past it and sets *children to the number of terms that follow as
 * its parts (elements, list tail, map keys and values). */
static int one(const char *b, size_t size, size_t *pos, uint64_t *children)
{
    size_t p = *pos;
    uint64_t skip = 0; /* fixed bytes after the header */
    *children = 0;
    if (!need(size, p, 1))
        return FX_EBADTERM;
    unsigned char tag = (unsigned char) b[p++];
    switch (tag) {
    case 97: /* SMALL_INTEGER_EXT */
        skip = 1;
        break;
    case 98: /* INTEGER_EXT */
        skip = 4;
        break;
    case 70: /* NEW_FLOAT_EXT: IEEE 754 big-endian; Erlang has no NaN or
              * infinity (binary_to_term refuses them) */
        if (need(size, p, 2) && ((unsigned char) b[p] & 0x7F) == 0x7F &&
            ((unsigned char) b[p + 1] & 0xF0) == 0xF0)
            return FX_EBADTERM;
        skip = 8;
        break;
    case 99: /* FLOAT_EXT: 31 bytes of text, NUL-padded ("%.20e"): ei
              * sscanf()s it, so the NUL must be there */
        if (!need(size, p, 31) || !memchr(b + p, 0, 31) || !float_text(b + p))
            return FX_EBADTERM;
        skip = 31;
        break;
    case 100:
    case 115:
    case 118:
    case 119: {
        size_t q = p - 1;
        if (node_atom(b, size, &q))
            return FX_EBADTERM;
        *pos = q;
        return 0;
    }
    case 106: /* NIL_EXT */
        break;
    case 107: /* STRING_EXT */
        if (!need(size, p, 2))
            return FX_EBADTERM;
        skip = fxi_be16(b + p);
        p += 2;
        break;
    case 109: /* BINARY_EXT */
        if (!need(size, p, 4))
            return FX_EBADTERM;
        skip = fxi_be32(b + p);
        p += 4;
        break;
    case 77: /* BIT_BINARY_EXT */
        if (!need(size, p, 5))
            return FX_EBADTERM;
        skip = fxi_be32(b + p);
        /* Bits in the last byte: 1..8, and 0 exactly when there are no
         * bytes (<<>>), as binary_to_term checks. */
        if (((unsigned char) b[p + 4] == 0) != (skip == 0) ||
            (unsigned char) b[p + 4] > 8)
            return FX_EBADTERM;
        p += 5;
        break;
    case 110: /* SMALL_BIG_EXT */
    case 111: /* LARGE_BIG_EXT */
        if (!need(size, p, tag == 110 ? 2 : 5))
            return FX_EBADTERM;
        skip = tag == 110 ? (unsigned char) b[p] : fxi_be32(b + p);
        p += tag == 110 ? 1 : 4;
        if ((unsigned char) b[p] > 1)
            return FX_EBADTERM;
        p++;
        break;
    case 104: /* SMALL_TUPLE_EXT */
        if (!need(size, p, 1))
            return FX_EBADTERM;
        *children = (unsigned char) b[p++];
        break;
    case 105: /* LARGE_TUPLE_EXT */
    case 108: /* LIST_EXT: n elements and a tail */
    case 116: /* MAP_EXT: n keys and n values */
        if (!need(size, p, 4))
            return FX_EBADTERM;
        *children = fxi_be32(b + p);
        p += 4;
        if (tag == 108)
            *children += 1;
        else if (tag == 116)
            *children *= 2;
        break;
    case 113: /* EXPORT_EXT: module, function, arity */
        *children = 3;
        break;
    case 112: { /* NEW_FUN_EXT: Size counts itself */
        if (!need(size, p, 4))
            return FX_EBADTERM;
        uint32_t n = fxi_be32(b + p);
        if (n < 4)
            return FX_EBADTERM;
        skip = n;
        break;
    }
    case 103: /* PID_EXT */
    case 88:  /* NEW_PID_EXT */
    case 102: /* PORT_EXT */
    case 89:  /* NEW_PORT_EXT */
    case 120: /* V4_PORT_EXT */
    case 101: /* REFERENCE_EXT */
        if (node_atom(b, size, &p))
            return FX_EBADTERM;
        skip = tag == 103 ? 9 : tag == 88 ? 12 : tag == 120 ? 12 : tag == 89 ? 8 : 5;
        break;
    case 114:  /* NEW_REFERENCE_EXT */
    case 90: { /* NEWER_REFERENCE_EXT */
        if (!need(size, p, 2))
            return FX_EBADTERM;
        uint16_t n = fxi_be16(b + p);
        p += 2;
        if (n > 5 || node_atom(b, size, &p))
            return FX_EBADTERM;
        skip = (tag == 114 ? 1u : 4u) + 4u * n;
        break;
    }
    default: /* compressed (80), atom cache refs (82), old FUN_EXT (117), ... */
        return FX_EBADTERM;
    }
    if (!need(size, p, skip))
        return FX_EBADTERM;
    *pos = p + (size_t) skip;
    return 0;
}

/* A map's keys as canonical forms (canon.c) in c, to find duplicates:
 * Erlang refuses a map with two equal keys (binary_to_term: badarg; over
 * distribution the peer drops the connection), equal by =:=, whatever the
 * encodings (an atom as ATOM_EXT and as SMALL_ATOM_UTF8_EXT, 1 as
 * SMALL_INTEGER_EXT and as INTEGER_EXT). Canonical forms cost a walk of
 * each key; past a budget of KEY_BUDGET_X times the term's size (a
 * hostile nest of maps inside keys) keys compare by their bytes instead,
 * which misses only equal keys in different encodings. */
#define KEY_BUDGET_X 4
typedef struct keys {
    fxi_bytes c; /* canonical forms (or raw bytes past the budget) */
    struct span {
        size_t off, len;
    } * v, small[32];
    size_t n, cap;
    size_t budget;
} keys;

static bool keys_push(keys *k, const char *buf, size_t off, size_t len)
{
    if (k->n == k->cap) {
        size_t cap = k->cap * 2;
        struct span *v =
            k->v == k->small ? malloc(cap * sizeof *v) : realloc(k->v, cap * sizeof *v);
        if (!v)
            return false;
        if (k->v == k->small)
            memcpy(v, k->small, sizeof k->small);
        k->v = v, k->cap = cap;
    }
    size_t at = k->c.n;
    int rc = k->budget ? fxi_term_canon(buf, off, &k->c, &k->budget) : 1;
    if (rc == 1) { /* over budget: the bytes themselves */
        k->budget = 0;
        k->c.n = at;
        if (k->c.cap - at < len) {
            size_t cap = at + len + 256;
            unsigned char *nv = realloc(k->c.v, cap);
            if (!nv)
                return false;
            k->c.v = nv, k->c.cap = cap;
        }
        memcpy(k->c.v + at, buf + off, len);
        k->c.n = at + len;
    } else if (rc) {
        return false;
    }
    k->v[k->n++] = (struct span){at, k->c.n - at};
    return true;
}

static _Thread_local const unsigned char *cmp_buf; /* qsort has no context */

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(cmp_buf + x->off, cmp_buf + y->off, x->len);
}

/* Whether the keys from index `from` on are all different. */
static bool keys_unique(keys *k, size_t from)
{
    struct span *v = k->v + from;
    size_t n = k->n - from;
    const unsigned char *c = k->c.v;
    if (n <= 16) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (v[i].len == v[j].len && !memcmp(c + v[i].off, c + v[j].off, v[i].len))
                    return false;
        return true;
    }
    cmp_buf = c;
    qsort(v, n, sizeof *v, span_cmp);
    for (size_t i = 1; i < n; i++)
        if (span_cmp(&v[i - 1], &v[i]) == 0)
            return false;
    return true;
}

/* One open container on the walk's stack: the terms still to read, and
 * flags in the top bits (a LIST_EXT, a map whose keys are tracked). A
 * map's extra state lives on a second stack, one entry per tracked map. */
#define F_LIST (1ull << 63)
#define F_MAP (1ull << 62)
#define F_REM (F_MAP - 1)

typedef struct mapf {
    uint64_t total; /* children: 2 * pairs */
    size_t base;    /* its first key in keys.v */
    size_t cbase;   /* its first canonical byte in keys.c */
    size_t key_at;  /* where the key being read began */
} mapf;

/* Pushes v (elements of size sz) onto a stack that starts in `small`. */
static bool push(void **st, void *small, size_t *n, size_t *cap, size_t sz, const void *v)
{
    if (*n == *cap) {
        void *nv = *st == small ? malloc(2 * *cap * sz) : realloc(*st, 2 * *cap * sz);
        if (!nv)
            return false;
        if (*st == small)
            memcpy(nv, small, *cap * sz);
        *st = nv, *cap *= 2;
    }
    memcpy((char *) *st + *n * sz, v, sz);
    (*n)++;
    return true;
}

int fxi_term_validate(const char *buf, size_t size, size_t *pos)
{
    /* No depth limit (OTP has none): a level takes at least 2 bytes of
     * input and 8 bytes of stack, so the stack is at most 4 times the
     * term's size. A list's tail that is a list continues its level: a
     * proper list written cell by cell is one level. */
    uint64_t st_small[64], *st = st_small;
    mapf ms_small[8], *ms = ms_small;
    size_t d = 0, dcap = 64, nm = 0, mcap = 8;
    keys k = {.v = k.small, .cap = 32, .budget = KEY_BUDGET_X * (size + 64)};
    uint64_t pending = 1; /* terms still to read, all levels */
    size_t p = *pos;
    int rc = FX_EBADTERM;
    st[d++] = 1;
    while (d > 0) {
        uint64_t *f = &st[d - 1];
        if ((*f & F_REM) == 0) {
            if (*f & F_MAP) {
                /* The last value ended here: its key was recorded. */
                mapf *m = &ms[--nm];
                if (!keys_unique(&k, m->base))
                    goto out;
                k.n = m->base;
                k.c.n = m->cbase;
            }
            d--;
            continue;
        }
        if (*f & F_MAP) {
            mapf *m = &ms[nm - 1];
            uint64_t i = m->total - (*f & F_REM); /* even: a key; odd: its value */
            if (i % 2 == 0)
                m->key_at = p;
            else if (!keys_push(&k, buf, m->key_at, p - m->key_at)) {
                rc = FX_ENOMEM;
                goto out;
            }
        }
        unsigned char tag = p < size ? (unsigned char) buf[p] : 0;
        uint64_t kids;
        if (one(buf, size, &p, &kids))
            goto out;
        bool tail = (*f & F_LIST) && (*f & F_REM) == 1;
        (*f)--;
        pending--;
        if (kids == 0)
            continue;
        pending += kids;
        if (!need(size, p, pending))
            goto out;
        if (tag == 108 && tail) { /* [H | T] with T a list: the same level */
            *f = kids | F_LIST;
            continue;
        }
        bool track = tag == 116 && kids > 2; /* MAP_EXT of 2 or more pairs */
        uint64_t fr = kids | (tag == 108 ? F_LIST : 0) | (track ? F_MAP : 0);
        mapf m = {.total = kids, .base = k.n, .cbase = k.c.n};
        if (!push((void **) &st, st_small, &d, &dcap, sizeof fr, &fr) ||
            (track && !push((void **) &ms, ms_small, &nm, &mcap, sizeof m, &m))) {
            rc = FX_ENOMEM;
            goto out;
        }
    }
    *pos = p;
    rc = 0;
out:
    if (k.v != k.small)
        free(k.v);
    free(k.c.v);
    if (st != st_small)
        free(st);
    if (ms != ms_small)
        free(ms);
    return rc;
}

size_t fxi_term_past_empty(const char *buf, size_t size, size_t pos)
{
    while (pos < size && (unsigned char) buf[pos] == 108 && size - pos >= 5 &&
           fxi_be32(buf + pos + 1) == 0)
        pos += 5;
    return pos;
}

size_t fxi_term_atom_utf8_len(const char *p)
{
    const unsigned char *u = (const unsigned char *) p;
    bool small = u[0] == 115 || u[0] == 119; /* SMALL_ATOM(_UTF8)_EXT */
    size_t n = small ? u[1] : fxi_be16(p + 1), hdr = small ? 2 : 3;
    if (u[0] == 118 || u[0] == 119) /* ATOM_UTF8_EXT, SMALL_ATOM_UTF8_EXT */
        return n;
    size_t len = n;
    for (size_t k = 0; k < n; k++)
        len += u[hdr + k] >= 0x80;
    return len;
}

int fxi_term_kind_at(const char *buf, size_t pos)
{
    switch ((unsigned char) buf[pos]) {
    case 100:
    case 115:
    case 118:
    case 119:
        return FX_TERM_ATOM;
    case 97:
    case 98:
    case 110:
    case 111:
        return FX_TERM_INTEGER;
    case 70:
    case 99:
        return FX_TERM_FLOAT;
    case 109:
        return FX_TERM_BINARY;
    case 77: /* a binary when the last byte is full, or no bytes at all */
        return (unsigned char) buf[pos + 5] == 8 || fxi_be32(buf + pos + 1) == 0
                   ? FX_TERM_BINARY
                   : FX_TERM_BITSTRING;
    case 106:
        return FX_TERM_NIL;
    case 107:
        return FX_TERM_STRING;
    case 108:
        return FX_TERM_LIST;
    case 104:
    case 105:
        return FX_TERM_TUPLE;
    case 116:
        return FX_TERM_MAP;
    case 103:
    case 88:
        return FX_TERM_PID;
    case 102:
    case 89:
    case 120:
        return FX_TERM_PORT;
    case 101:
    case 114:
    case 90:
        return FX_TERM_REF;
    default: /* 112, 113 */
        return FX_TERM_FUN;
    }
}
