/* fx_term_reader: a cursor over validated bytes. fx_term_reader_init
 * checks the whole term once (validate.c), so every decoder below, ei's
 * included, runs on a term start inside the checked bytes and cannot read
 * past them. A getter that fails leaves the cursor where it was. */
#include "term/etf.h"

#include <fauxtp/error.h>

#include <ei.h>
#include <string.h>

/* Moves the cursor n bytes on, then past any LIST_EXT headers of 0
 * elements (binary_to_term reads LIST_EXT(0, Tail) as Tail; Erlang never
 * writes one): the cursor never rests on one, so every getter and
 * fx_term_type see the tail. */
static void advance(fx_term_reader *r, size_t n)
{
    r->fxi_pos = fxi_term_past_empty(r->fxi_buf, r->fxi_size, r->fxi_pos + n);
}

/* The first term of data: its end in *end. */
static int first_term(fx_term_reader *r, const void *data, size_t size, size_t *end)
{
    if (!r)
        return FX_EINVAL;
    memset(r, 0, sizeof *r);
    if (!data || !end)
        return FX_EINVAL;
    int rc = fxi_term_ei_init();
    if (rc)
        return rc;
    const char *b = data;
    size_t pos = 1;
    if (size < 2 || (unsigned char) b[0] != FXI_ETF_VERSION)
        return FX_EBADTERM;
    rc = fxi_term_validate(b, size, &pos);
    if (rc)
        return rc;
    /* The reader never looks past the term: its size ends there. */
    r->fxi_buf = b;
    r->fxi_size = pos;
    r->fxi_pos = 0;
    advance(r, 1);
    *end = pos;
    return 0;
}

FX_API int fx_term_reader_init(fx_term_reader *r, const void *data, size_t size)
{
    size_t end = 0;
    int rc = first_term(r, data, size, &end);
    if (rc == 0 && end != size) {
        memset(r, 0, sizeof *r);
        rc = FX_EBADTERM;
    }
    return rc;
}

FX_API int fx_term_reader_init_prefix(fx_term_reader *r, const void *data, size_t size,
                                      size_t *used)
{
    return first_term(r, data, size, used);
}

FX_API int fx_term_reader_init_msg(fx_term_reader *r, const fx_msg *msg)
{
    if (!r)
        return FX_EINVAL;
    memset(r, 0, sizeof *r);
    if (!msg)
        return FX_EINVAL;
    if (fx_msg_type(msg) != FX_MSG_TERM)
        return FX_EBADTERM;
    return fx_term_reader_init(r, fx_msg_data(msg), fx_msg_size(msg));
}

/* The cursor is on a term: 0, else FX_EINVAL / FX_EBADTERM. */
static int here(const fx_term_reader *r)
{
    if (!r)
        return FX_EINVAL;
    return r->fxi_buf && r->fxi_pos < r->fxi_size ? 0 : FX_EBADTERM;
}

static const char *at(const fx_term_reader *r)
{
    return r->fxi_buf + r->fxi_pos;
}

static unsigned char tag(const fx_term_reader *r)
{
    return (unsigned char) r->fxi_buf[r->fxi_pos];
}

FX_API int fx_term_type(const fx_term_reader *r)
{
    int rc = here(r);
    return rc ? rc : fxi_term_kind_at(r->fxi_buf, r->fxi_pos);
}

FX_API int fx_term_at_end(const fx_term_reader *r)
{
    return !r || !r->fxi_buf || r->fxi_pos >= r->fxi_size;
}

FX_API int fx_term_get_atom(fx_term_reader *r, char *buf, size_t cap, size_t *len)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!buf || !cap)
        return FX_EINVAL;
    if (fxi_term_kind_at(r->fxi_buf, r->fxi_pos) != FX_TERM_ATOM)
        return FX_EBADTERM;
    char tmp[MAXATOMLEN_UTF8 * 2];
    int i = 0;
    if (ei_decode_atom_as(at(r), &i, tmp, sizeof tmp, ERLANG_UTF8, NULL, NULL) < 0)
        return FX_EBADTERM;
    size_t n = fxi_term_atom_utf8_len(at(r));
    if (n >= cap)
        return FX_EMSGSIZE;
    memcpy(buf, tmp, n + 1);
    if (len)
        *len = n;
    advance(r, (size_t) i);
    return 0;
}

FX_API int fx_term_get_i64(fx_term_reader *r, int64_t *v)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!v)
        return FX_EINVAL;
    EI_LONGLONG x;
    int i = 0;
    if (fxi_term_kind_at(r->fxi_buf, r->fxi_pos) != FX_TERM_INTEGER ||
        ei_decode_longlong(at(r), &i, &x) < 0)
        return FX_EBADTERM;
    *v = (int64_t) x;
    advance(r, (size_t) i);
    return 0;
}

FX_API int fx_term_get_u64(fx_term_reader *r, uint64_t *v)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!v)
        return FX_EINVAL;
    int neg;
    uint8_t mag[8];
    size_t n;
    fx_term_reader t = *r;
    rc = fx_term_get_bignum(&t, &neg, mag, sizeof mag, &n);
    if (rc == FX_EMSGSIZE || (rc == 0 && neg && n > 0))
        return FX_EBADTERM;
    if (rc)
        return rc;
    uint64_t x = 0;
    for (size_t k = n; k-- > 0;)
        x = (x << 8) | mag[k];
    *v = x;
    *r = t;
    return 0;
}

FX_API int fx_term_get_bignum(fx_term_reader *r, int *neg, uint8_t *mag, size_t cap,
                              size_t *n)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!neg || !n || (!mag && cap))
        return FX_EINVAL;
    const char *p = at(r);
    uint8_t small[4];
    const uint8_t *digits;
    size_t len, used;
    int sign;
    switch (tag(r)) {
    case 97:
        small[0] = (uint8_t) p[1];
        digits = small, len = 1, sign = 0, used = 2;
        break;
    case 98: {
        int32_t v = (int32_t) fxi_be32(p + 1);
        uint32_t m = v < 0 ? 0u - (uint32_t) v : (uint32_t) v;
        for (int k = 0; k < 4; k++)
            small[k] = (uint8_t) (m >> (8 * k));
        digits = small, len = 4, sign = v < 0, used = 5;
        break;
    }
    case 110:
        len = (unsigned char) p[1];
        sign = p[2] != 0;
        digits = (const uint8_t *) p + 3, used = 3 + len;
        break;
    case 111:
        len = fxi_be32(p + 1);
        sign = p[5] != 0;
        digits = (const uint8_t *) p + 6, used = 6 + len;
        break;
    default:
        return FX_EBADTERM;
    }
    while (len && digits[len - 1] == 0)
        len--;
    *n = len;
    if (len > cap)
        return FX_EMSGSIZE;
    if (len)
        memcpy(mag, digits, len);
    *neg = len ? sign : 0;
    advance(r, used);
    return 0;
}

FX_API int fx_term_get_double(fx_term_reader *r, double *v)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!v)
        return FX_EINVAL;
    int i = 0;
    double d;
    if (fxi_term_kind_at(r->fxi_buf, r->fxi_pos) != FX_TERM_FLOAT ||
        ei_decode_double(at(r), &i, &d) < 0)
        return FX_EBADTERM;
    *v = d;
    advance(r, (size_t) i);
    return 0;
}

FX_API int fx_term_get_binary(fx_term_reader *r, const void **data, size_t *size)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!data || !size)
        return FX_EINVAL;
    if (fxi_term_kind_at(r->fxi_buf, r->fxi_pos) != FX_TERM_BINARY)
        return FX_EBADTERM;
    size_t n = fxi_be32(at(r) + 1), h = tag(r) == 109 ? 5 : 6; /* BIT_BINARY_EXT: 6 */
    *data = at(r) + h;
    *size = n;
    advance(r, h + n);
    return 0;
}

/* The charlist at p (validated): its length, and its bytes into buf when
 * buf is not NULL (room checked by the caller); *used gets its size in
 * bytes. A list may be written as any run of LIST_EXT cells (each tail a
 * list), end in a STRING_EXT tail, or hold LIST_EXT(0, Tail) headers.
 * FX_EBADTERM when it is not a proper list of integers 0..255. */
static int charlist(const char *p, size_t size, char *buf, size_t *len, size_t *used)
{
    size_t q = fxi_term_past_empty(p, size, 0), n = 0;
    for (;;) {
        unsigned char t = (unsigned char) p[q];
        if (t == 106) {
            q += 1;
            break;
        }
        if (t == 107) {
            size_t k = fxi_be16(p + q + 1);
            if (buf)
                memcpy(buf + n, p + q + 3, k);
            n += k;
            q += 3 + k;
            break;
        }
        if (t != 108)
            return FX_EBADTERM;
        size_t count = fxi_be32(p + q + 1);
        q += 5;
        for (size_t e = 0; e < count; e++, n++) {
            q = fxi_term_past_empty(p, size, q);
            unsigned char et = (unsigned char) p[q];
            uint32_t v;
            if (et == 97) {
                v = (unsigned char) p[q + 1];
                q += 2;
            } else if (et == 98) {
                v = fxi_be32(p + q + 1);
                q += 5;
            } else {
                return FX_EBADTERM;
            }
            if (v > 255)
                return FX_EBADTERM;
            if (buf)
                buf[n] = (char) v;
        }
        q = fxi_term_past_empty(p, size, q);
    }
    *len = n;
    *used = q;
    return 0;
}

FX_API int fx_term_get_string(fx_term_reader *r, char *buf, size_t cap, size_t *len)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!buf || !cap)
        return FX_EINVAL;
    /* Two passes: whether it is a charlist at all comes before whether it
     * fits (FX_EBADTERM for [1,2,3,foo] whatever the buffer). */
    size_t n, used;
    const char *p = at(r);
    size_t left = r->fxi_size - r->fxi_pos;
    rc = charlist(p, left, NULL, &n, &used);
    if (rc)
        return rc;
    if (n >= cap)
        return FX_EMSGSIZE;
    charlist(p, left, buf, &n, &used);
    buf[n] = 0;
    if (len)
        *len = n;
    advance(r, used);
    return 0;
}

static int container(fx_term_reader *r, uint32_t *count, int kind)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!count)
        return FX_EINVAL;
    unsigned char t = tag(r);
    const char *p = at(r);
    if (kind == 't' && t == 104) {
        *count = (unsigned char) p[1];
        advance(r, 2);
    } else if ((kind == 't' && t == 105) || (kind == 'l' && t == 108) ||
               (kind == 'm' && t == 116)) {
        *count = fxi_be32(p + 1);
        advance(r, 5);
    } else if (kind == 'l' && t == 106) {
        *count = 0;
        advance(r, 1);
    } else {
        return FX_EBADTERM;
    }
    return 0;
}

FX_API int fx_term_get_tuple(fx_term_reader *r, uint32_t *arity)
{
    return container(r, arity, 't');
}

FX_API int fx_term_get_list(fx_term_reader *r, uint32_t *n)
{
    return container(r, n, 'l');
}

FX_API int fx_term_get_map(fx_term_reader *r, uint32_t *pairs)
{
    return container(r, pairs, 'm');
}

FX_API int fx_term_get_nil(fx_term_reader *r)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (tag(r) != 106)
        return FX_EBADTERM;
    advance(r, 1);
    return 0;
}

FX_API int fx_term_get_raw(fx_term_reader *r, const void **term, size_t *size)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!term || !size)
        return FX_EINVAL;
    size_t pos = r->fxi_pos;
    if (fxi_term_validate(r->fxi_buf, r->fxi_size, &pos))
        return FX_EBADTERM;
    *term = at(r);
    *size = pos - r->fxi_pos;
    advance(r, *size);
    return 0;
}

FX_API int fx_term_skip(fx_term_reader *r)
{
    const void *t;
    size_t n;
    return fx_term_get_raw(r, &t, &n);
}

FX_API int fx_term_match_atom(fx_term_reader *r, const char *name)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!name)
        return FX_EINVAL;
    if (fxi_term_kind_at(r->fxi_buf, r->fxi_pos) != FX_TERM_ATOM)
        return 0;
    fx_term_reader t = *r;
    char buf[FX_TERM_ATOM_MAX + 1];
    size_t n;
    if (fx_term_get_atom(&t, buf, sizeof buf, &n) || n != strlen(name) ||
        memcmp(buf, name, n) != 0)
        return 0;
    *r = t;
    return 1;
}

FX_API int fx_term_match(fx_term_reader *r, const char *tag_name, uint32_t arity)
{
    int rc = here(r);
    if (rc)
        return rc;
    if (!tag_name || arity == 0)
        return FX_EINVAL;
    fx_term_reader t = *r;
    uint32_t n;
    if (fx_term_get_tuple(&t, &n) || n != arity || fx_term_match_atom(&t, tag_name) != 1)
        return 0;
    *r = t;
    return 1;
}
