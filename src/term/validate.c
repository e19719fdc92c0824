/* Checking a term's bytes before anything decodes them: ei's decoders
 * trust their input (they take no length), and ei_skip_term recurses once
 * per nesting level, so a hostile 2 MB term of nested tuples would
 * overflow the stack. This walk takes no recursion: a stack of "terms
 * still to read" counts, FX_TERM_MAX_DEPTH + 1 deep. */
#include "term/etf.h"

#include <fauxtp/error.h>

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
    (void) strtod(t, &end);
    return end != t;
}

/* An atom in a pid, port or reference's node field. */
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
    case 70: /* NEW_FLOAT_EXT */
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
        if ((unsigned char) b[p + 4] < 1 || (unsigned char) b[p + 4] > 8 || skip == 0)
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

int fxi_term_validate(const char *buf, size_t size, size_t *pos)
{
    uint64_t rem[FX_TERM_MAX_DEPTH + 1];
    uint64_t pending = 1; /* sum of rem[] */
    size_t p = *pos;
    int d = 0;
    rem[0] = 1;
    while (d >= 0) {
        if (rem[d] == 0) {
            d--;
            continue;
        }
        uint64_t kids;
        if (one(buf, size, &p, &kids))
            return FX_EBADTERM;
        rem[d]--;
        pending--;
        if (kids == 0)
            continue;
        pending += kids;
        if (d == FX_TERM_MAX_DEPTH || !need(size, p, pending))
            return FX_EBADTERM;
        rem[++d] = kids;
    }
    *pos = p;
    return 0;
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
    case 77:
        return FX_TERM_BITSTRING;
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
