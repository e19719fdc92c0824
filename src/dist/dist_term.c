/* Bounded ETF walking and the control-message parser (dist_proto.h). */
#include <limits.h>
#include <string.h>

#include "dist/dist_proto.h"

static uint32_t get16(const uint8_t *p)
{
    return ((uint32_t) p[0] << 8) | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) |
           p[3];
}

/* An atom at b[*pos]: advances past it, or -1. */
static int skip_atom(const uint8_t *b, size_t len, size_t *pos)
{
    size_t p = *pos;
    if (p >= len)
        return -1;
    uint8_t tag = b[p++];
    size_t n;
    if (tag == 100 || tag == 118) { /* ATOM_EXT, ATOM_UTF8_EXT */
        if (len - p < 2)
            return -1;
        n = 2 + get16(b + p);
    } else if (tag == 115 || tag == 119) { /* SMALL_ATOM(_UTF8)_EXT */
        if (len - p < 1)
            return -1;
        n = 1 + (size_t) b[p];
    } else {
        return -1;
    }
    if (len - p < n)
        return -1;
    *pos = p + n;
    return 0;
}

/* The size of the fixed part after the tag at b[p] (which is past the
 * tag), the number of nested terms that follow, or -1. */
static int term_head(const uint8_t *b, size_t len, uint8_t tag, size_t *p, size_t *need,
                     uint64_t *kids)
{
    size_t q = *p;
    size_t avail = len - q;
    *kids = 0;
    switch (tag) {
    case 97:
        *need = 1;
        return 0; /* SMALL_INTEGER */
    case 98:
        *need = 4;
        return 0; /* INTEGER */
    case 70:
        *need = 8;
        return 0; /* NEW_FLOAT */
    case 99:
        *need = 31;
        return 0; /* FLOAT (old) */
    case 106:
        *need = 0;
        return 0; /* NIL */
    case 100:
    case 118: /* atoms, strings, binaries: a length, then bytes */
    case 107:
        if (avail < 2)
            return -1;
        *need = 2 + (size_t) get16(b + q);
        return 0;
    case 115:
    case 119:
        if (avail < 1)
            return -1;
        *need = 1 + (size_t) b[q];
        return 0;
    case 109:
        if (avail < 4)
            return -1;
        *need = 4 + (size_t) get32(b + q);
        return 0;
    case 77: /* BIT_BINARY */
        if (avail < 4)
            return -1;
        *need = 5 + (size_t) get32(b + q);
        return 0;
    case 110: /* SMALL_BIG */
        if (avail < 1)
            return -1;
        *need = 2 + (size_t) b[q];
        return 0;
    case 111: /* LARGE_BIG */
        if (avail < 4)
            return -1;
        *need = 5 + (size_t) get32(b + q);
        return 0;
    case 104: /* SMALL_TUPLE */
        if (avail < 1)
            return -1;
        *need = 1;
        *kids = b[q];
        return 0;
    case 105: /* LARGE_TUPLE */
        if (avail < 4)
            return -1;
        *need = 4;
        *kids = get32(b + q);
        return 0;
    case 108: /* LIST: elements and a tail */
        if (avail < 4)
            return -1;
        *need = 4;
        *kids = (uint64_t) get32(b + q) + 1;
        return 0;
    case 116: /* MAP */
        if (avail < 4)
            return -1;
        *need = 4;
        *kids = 2 * (uint64_t) get32(b + q);
        return 0;
    case 113: /* EXPORT: module, function, arity */
        *need = 0;
        *kids = 3;
        return 0;
    case 112: { /* NEW_FUN: Size counts itself */
        if (avail < 4)
            return -1;
        size_t sz = get32(b + q);
        if (sz < 4)
            return -1;
        *need = sz;
        return 0;
    }
    case 88:  /* NEW_PID: node atom, id, serial, creation */
    case 103: /* PID */
    case 89:  /* NEW_PORT */
    case 102: /* PORT */
    case 120: /* V4_PORT */
    case 101: /* REFERENCE */
        if (skip_atom(b, len, &q) != 0)
            return -1;
        *p = q;
        *need = tag == 88 || tag == 120 ? 12 : tag == 103 ? 9 : tag == 89 ? 8 : 5;
        return 0;
    case 114: /* NEW_REFERENCE, NEWER_REFERENCE: count, node, creation, ids */
    case 90: {
        if (avail < 2)
            return -1;
        size_t n = get16(b + q);
        q += 2;
        if (skip_atom(b, len, &q) != 0)
            return -1;
        *p = q;
        *need = (tag == 114 ? 1 : 4) + 4 * n;
        return 0;
    }
    default: /* ATOM_CACHE_REF, old FUN, LOCAL_EXT, unknown */
        return -1;
    }
}

int fxi_etf_skip(const uint8_t *b, size_t len, size_t pos, size_t *end)
{
    uint64_t todo = 1;
    while (todo) {
        todo--;
        if (pos >= len)
            return -1;
        uint8_t tag = b[pos++];
        size_t need;
        uint64_t kids;
        if (term_head(b, len, tag, &pos, &need, &kids) != 0 || len - pos < need)
            return -1;
        pos += need;
        todo += kids;
        if (todo > len - pos) /* every term takes a byte at least */
            return -1;
    }
    *end = pos;
    return 0;
}

static int dec_pid(const char *s, int *i, erlang_pid *p)
{
    return ei_decode_pid(s, i, p) == 0 ? 0 : -1;
}

/* A reference (at most 5 words: ei's erlang_ref). */
static int dec_ref(const char *s, int *i, erlang_ref *r)
{
    const uint8_t *b = (const uint8_t *) s + *i;
    if ((b[0] != 90 && b[0] != 114) || get16(b + 1) > 5)
        return -1;
    return ei_decode_ref(s, i, r) == 0 ? 0 : -1;
}

/* A pid, or an atom (into name). */
static int dec_proc(const char *s, int *i, erlang_pid *p, bool *has_pid, char *name,
                    size_t cap)
{
    int t, sz;
    if (ei_get_type(s, i, &t, &sz) != 0)
        return -1;
    if (t == ERL_ATOM_EXT || t == ERL_SMALL_ATOM_EXT || t == ERL_ATOM_UTF8_EXT ||
        t == ERL_SMALL_ATOM_UTF8_EXT) {
        *has_pid = false;
        return ei_decode_atom_as(s, i, name, (int) cap, ERLANG_UTF8, NULL, NULL) == 0
                   ? 0
                   : -1;
    }
    *has_pid = true;
    return dec_pid(s, i, p);
}

static int dec_fields(const char *s, int *i, int arity, fxi_dist_ctl *c)
{
    switch (c->op) {
    case FXI_DOP_SEND:
        if (arity != 3 || ei_skip_term(s, i) != 0 || dec_pid(s, i, &c->to))
            return -1;
        c->has_to = true;
        return 0;
    case FXI_DOP_SEND_SENDER:
    case FXI_DOP_LINK:
        if (arity != 3 || dec_pid(s, i, &c->from) || dec_pid(s, i, &c->to))
            return -1;
        c->has_from = c->has_to = true;
        return 0;
    case FXI_DOP_REG_SEND:
        if (arity != 4 || dec_pid(s, i, &c->from) || ei_skip_term(s, i) != 0 ||
            ei_decode_atom_as(s, i, c->name, sizeof c->name, ERLANG_UTF8, NULL, NULL) !=
                0)
            return -1;
        c->has_from = c->has_name = true;
        return 0;
    case FXI_DOP_EXIT:
    case FXI_DOP_EXIT2:
        if (arity != 4 || dec_pid(s, i, &c->from) || dec_pid(s, i, &c->to))
            return -1;
        c->has_from = c->has_to = true;
        c->reason_off = (size_t) *i;
        return ei_skip_term(s, i) == 0 ? 0 : -1;
    case FXI_DOP_MONITOR_P:
    case FXI_DOP_DEMONITOR_P: {
        bool pid;
        if (arity != 4 || dec_pid(s, i, &c->from) ||
            dec_proc(s, i, &c->to, &pid, c->name, sizeof c->name) ||
            dec_ref(s, i, &c->ref))
            return -1;
        c->has_from = c->has_ref = true;
        c->has_to = pid;
        c->has_name = !pid;
        return 0;
    }
    case FXI_DOP_MONITOR_P_EXIT: {
        bool pid;
        if (arity != 5 || dec_proc(s, i, &c->from, &pid, c->name, sizeof c->name) ||
            dec_pid(s, i, &c->to) || dec_ref(s, i, &c->ref))
            return -1;
        c->has_from = pid;
        c->has_name = !pid;
        c->has_to = c->has_ref = true;
        c->reason_off = (size_t) *i;
        return ei_skip_term(s, i) == 0 ? 0 : -1;
    }
    case FXI_DOP_UNLINK_ID:
    case FXI_DOP_UNLINK_ID_ACK: {
        EI_ULONGLONG id;
        if (arity != 4 || ei_decode_ulonglong(s, i, &id) != 0 ||
            dec_pid(s, i, &c->from) || dec_pid(s, i, &c->to))
            return -1;
        c->id = id;
        c->has_from = c->has_to = true;
        return 0;
    }
    default:
        return 0;
    }
}

int fxi_dist_parse(const uint8_t *b, size_t len, fxi_dist_ctl *out)
{
    memset(out, 0, sizeof *out);
    if (len < 3 || len > INT_MAX || b[0] != 112 || b[1] != 131)
        return -1;
    size_t cend;
    if (fxi_etf_skip(b, len, 2, &cend) != 0)
        return -1;
    const char *s = (const char *) b;
    int i = 2, arity;
    if (ei_decode_tuple_header(s, &i, &arity) != 0 || arity < 1 ||
        ei_decode_long(s, &i, &out->op) != 0 || dec_fields(s, &i, arity, out) != 0)
        return -1;
    if ((size_t) i > cend)
        return -1;
    if (cend < len) {
        size_t mend;
        if (b[cend] != 131 || fxi_etf_skip(b, len, cend + 1, &mend) != 0 || mend != len)
            return -1;
        out->msg_off = cend;
        out->msg_len = len - cend;
    }
    bool needs_msg = out->op == FXI_DOP_SEND || out->op == FXI_DOP_REG_SEND ||
                     out->op == FXI_DOP_SEND_SENDER;
    if (needs_msg && out->msg_len == 0)
        return -1;
    return 0;
}

int fxi_dist_plain(const uint8_t *b, size_t len, uint32_t *type, const uint8_t **data,
                   size_t *size)
{
    const char *s = (const char *) b;
    int i = 0, ver, arity, t, sz;
    unsigned long v;
    if (len > INT_MAX || ei_decode_version(s, &i, &ver) != 0 ||
        ei_decode_tuple_header(s, &i, &arity) != 0 || arity != 2 ||
        ei_decode_ulong(s, &i, &v) != 0 || v >= 0xFFFF0000ul ||
        ei_get_type(s, &i, &t, &sz) != 0 || t != ERL_BINARY_EXT)
        return 0;
    size_t n = get32(b + i + 1);
    if ((size_t) i + 5 + n != len)
        return 0;
    *type = (uint32_t) v;
    *data = b + i + 5;
    *size = n;
    return 1;
}
