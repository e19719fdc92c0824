/* Bounded ETF walking and the control-message parser (dist_proto.h). */
#include <limits.h>
#include <string.h>

#include "dist/dist_proto.h"
#include "term/etf.h"

static uint32_t get16(const uint8_t *p)
{
    return ((uint32_t) p[0] << 8) | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) |
           p[3];
}

/* Every peer term goes through the term API's validator: lengths checked
 * against len, any nesting (a heap stack, no recursion), old FLOAT_EXT's
 * NUL required. ei's decoders run on validated bytes only. */
int fxi_etf_skip(const uint8_t *b, size_t len, size_t pos, size_t *end)
{
    size_t p = pos;
    if (fxi_term_validate((const char *) b, len, &p) != 0)
        return -1;
    *end = p;
    return 0;
}

/* Past the validated term at s[*i] (s holds len bytes), or -1. */
static int skip(const char *s, size_t len, int *i)
{
    size_t end;
    if (fxi_etf_skip((const uint8_t *) s, len, (size_t) *i, &end) != 0 || end > INT_MAX)
        return -1;
    *i = (int) end;
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

static int dec_fields(const char *s, size_t len, int *i, int arity, fxi_dist_ctl *c)
{
    switch (c->op) {
    case FXI_DOP_SEND:
        if (arity != 3 || skip(s, len, i) != 0 || dec_pid(s, i, &c->to))
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
        if (arity != 4 || dec_pid(s, i, &c->from) || skip(s, len, i) != 0 ||
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
        if (skip(s, len, i) != 0)
            return -1;
        c->reason_end = (size_t) *i;
        return 0;
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
        if (skip(s, len, i) != 0)
            return -1;
        c->reason_end = (size_t) *i;
        return 0;
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
        ei_decode_long(s, &i, &out->op) != 0 || dec_fields(s, cend, &i, arity, out) != 0)
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
