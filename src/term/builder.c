/* fx_term_builder: the byte sink and the puts, over ei's encoders. Every
 * ei encoder writes nothing and only advances its index when given a NULL
 * buffer; a measuring builder hands it NULL, the others a reserved span. */
#include "term/etf.h"

#include "actor/msg.h"

#include <fauxtp/error.h>

#include <ei.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int fxi_tb_check(const fx_term_builder *b)
{
    if (!b || b->fxi_mode < FXI_TB_GROW || b->fxi_mode > FXI_TB_SIZING)
        return FX_EINVAL;
    return b->fxi_err;
}

int fxi_tb_fail(fx_term_builder *b, int err)
{
    if (b && b->fxi_err == 0)
        b->fxi_err = err;
    return err;
}

char *fxi_tb_reserve(fx_term_builder *b, size_t n, int *err)
{
    *err = 0;
    if (n > FX_MSG_SIZE_LIMIT || b->fxi_len > FX_MSG_SIZE_LIMIT - n) {
        *err = fxi_tb_fail(b, FX_EMSGSIZE);
        return NULL;
    }
    if (b->fxi_mode == FXI_TB_SIZING) {
        b->fxi_len += n;
        return NULL;
    }
    if (b->fxi_len + n > b->fxi_cap) {
        if (b->fxi_mode == FXI_TB_FIXED) {
            *err = fxi_tb_fail(b, FX_EMSGSIZE);
            return NULL;
        }
        size_t cap = b->fxi_cap ? b->fxi_cap : 64;
        while (cap < b->fxi_len + n)
            cap = cap > SIZE_MAX / 2 ? b->fxi_len + n : cap * 2;
        char *nb = realloc(b->fxi_buf, cap);
        if (!nb) {
            *err = fxi_tb_fail(b, FX_ENOMEM);
            return NULL;
        }
        b->fxi_buf = nb;
        b->fxi_cap = cap;
    }
    char *at = b->fxi_buf + b->fxi_len;
    b->fxi_len += n;
    return at;
}

static int start(fx_term_builder *b)
{
    int err;
    char *p = fxi_tb_reserve(b, 1, &err);
    if (p)
        *p = (char) FXI_ETF_VERSION;
    return err;
}

FX_API int fx_term_builder_init(fx_term_builder *b)
{
    if (!b)
        return FX_EINVAL;
    memset(b, 0, sizeof *b);
    b->fxi_mode = FXI_TB_GROW;
    int rc = fxi_term_ei_init();
    return rc ? fxi_tb_fail(b, rc) : start(b);
}

FX_API int fx_term_builder_init_buf(fx_term_builder *b, void *buf, size_t cap)
{
    if (!b)
        return FX_EINVAL;
    memset(b, 0, sizeof *b);
    if (!buf && cap) {
        b->fxi_mode = FXI_TB_FIXED;
        return fxi_tb_fail(b, FX_EINVAL);
    }
    b->fxi_mode = buf ? FXI_TB_FIXED : FXI_TB_SIZING;
    b->fxi_buf = buf;
    b->fxi_cap = cap;
    int rc = fxi_term_ei_init();
    return rc ? fxi_tb_fail(b, rc) : start(b);
}

FX_API void fx_term_builder_fini(fx_term_builder *b)
{
    if (!b)
        return;
    if (b->fxi_mode == FXI_TB_GROW)
        free(b->fxi_buf);
    memset(b, 0, sizeof *b);
}

FX_API size_t fx_term_builder_size(const fx_term_builder *b)
{
    return b ? b->fxi_len : 0;
}

FX_API int fx_term_builder_data(const fx_term_builder *b, const void **data, size_t *size)
{
    if (!data || !size)
        return FX_EINVAL;
    int rc = fxi_tb_check(b);
    if (rc)
        return rc;
    if (b->fxi_mode == FXI_TB_SIZING)
        return FX_EINVAL;
    size_t pos = 1;
    if (b->fxi_len < 2 || fxi_term_validate(b->fxi_buf, b->fxi_len, &pos) ||
        pos != b->fxi_len)
        return FX_EBADTERM;
    *data = b->fxi_buf;
    *size = b->fxi_len;
    return 0;
}

FX_API int fx_term_builder_msg(const fx_term_builder *b, fx_msg **out)
{
    if (!out)
        return FX_EINVAL;
    *out = NULL;
    const void *data;
    size_t size;
    int rc = fx_term_builder_data(b, &data, &size);
    if (rc)
        return rc;
    fx_msg *m = fxi_msg_alloc(FX_MSG_TERM, (uint32_t) size);
    if (!m)
        return FX_ENOMEM;
    memcpy(m->data, data, size);
    *out = m;
    return 0;
}

FX_API int fx_term_msg_build(fx_term_build_fn build, void *arg, fx_msg **out)
{
    if (!out)
        return FX_EINVAL;
    *out = NULL;
    if (!build)
        return FX_EINVAL;
    fx_term_builder b;
    int rc = fx_term_builder_init_buf(&b, NULL, 0);
    if (rc)
        return rc;
    rc = build(&b, arg);
    if (rc < 0)
        return rc;
    if (b.fxi_err)
        return b.fxi_err;
    size_t size = b.fxi_len;
    fx_msg *m = fxi_msg_alloc(FX_MSG_TERM, (uint32_t) size);
    if (!m)
        return FX_ENOMEM;
    fx_term_builder w;
    fx_term_builder_init_buf(&w, m->data, size);
    rc = build(&w, arg);
    if (rc == FX_EMSGSIZE && w.fxi_err == FX_EMSGSIZE)
        rc = FX_EBADTERM; /* the second call wrote more than the first */
    if (rc >= 0) {
        const void *d;
        size_t n;
        rc = w.fxi_len != size ? FX_EBADTERM : fx_term_builder_data(&w, &d, &n);
        if (rc == FX_EMSGSIZE)
            rc = FX_EBADTERM; /* the second call wrote more than the first */
    }
    if (rc < 0) {
        fxi_msg_release(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* Runs one ei encoder: measures it, reserves, writes. */
#define PUT(b, CALL)                                                                     \
    do {                                                                                 \
        int rc_ = fxi_tb_check(b);                                                       \
        if (rc_)                                                                         \
            return rc_;                                                                  \
        char *buf = NULL;                                                                \
        int i = 0;                                                                       \
        if ((CALL) < 0)                                                                  \
            return fxi_tb_fail(b, FX_EINVAL);                                            \
        buf = fxi_tb_reserve(b, (size_t) i, &rc_);                                       \
        if (rc_)                                                                         \
            return rc_;                                                                  \
        i = 0;                                                                           \
        if (buf && (CALL) < 0)                                                           \
            return fxi_tb_fail(b, FX_EINVAL);                                            \
        return 0;                                                                        \
    } while (0)

/* Valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF) of
 * at most 255 characters. */
static bool atom_ok(const unsigned char *s, size_t len)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; chars++) {
        unsigned char c = s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (n == 0 || n > len - i || (n == 2 && c < 0xC2))
            return false;
        uint32_t cp = n == 1 ? c : (uint32_t) (c & (0x7F >> n));
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += n;
    }
    return chars <= 255;
}

FX_API int fx_term_put_atom(fx_term_builder *b, const char *name, size_t len)
{
    if (fxi_tb_check(b))
        return fxi_tb_check(b);
    if ((!name && len) || len > FX_TERM_ATOM_MAX ||
        !atom_ok((const unsigned char *) (name ? name : ""), len))
        return fxi_tb_fail(b, FX_EINVAL);
    PUT(b, ei_encode_atom_len_as(buf, &i, name ? name : "", (int) len, ERLANG_UTF8,
                                 ERLANG_UTF8));
}

FX_API int fx_term_put_atomz(fx_term_builder *b, const char *name)
{
    if (fxi_tb_check(b))
        return fxi_tb_check(b);
    if (!name)
        return fxi_tb_fail(b, FX_EINVAL);
    return fx_term_put_atom(b, name, strnlen(name, FX_TERM_ATOM_MAX + 1));
}

/* Erlang's encoding (term_to_binary): SMALL_INTEGER_EXT for 0..255,
 * INTEGER_EXT for the rest of the signed 32-bit range, a bignum beyond.
 * ei_encode_longlong's INTEGER_EXT range is ei's old 28-bit one, so the
 * two plain forms are written here. */
static int put_int32(fx_term_builder *b, int32_t v)
{
    int rc = fxi_tb_check(b);
    if (rc)
        return rc;
    size_t n = v >= 0 && v <= 255 ? 2 : 5;
    char *p = fxi_tb_reserve(b, n, &rc);
    if (rc || !p)
        return rc;
    if (n == 2) {
        p[0] = 97;
        p[1] = (char) v;
    } else {
        uint32_t u = (uint32_t) v;
        p[0] = 98;
        p[1] = (char) (u >> 24);
        p[2] = (char) (u >> 16);
        p[3] = (char) (u >> 8);
        p[4] = (char) u;
    }
    return 0;
}

FX_API int fx_term_put_i64(fx_term_builder *b, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX)
        return put_int32(b, (int32_t) v);
    PUT(b, ei_encode_longlong(buf, &i, (EI_LONGLONG) v));
}

FX_API int fx_term_put_u64(fx_term_builder *b, uint64_t v)
{
    if (v <= INT32_MAX)
        return put_int32(b, (int32_t) v);
    PUT(b, ei_encode_ulonglong(buf, &i, (EI_ULONGLONG) v));
}

FX_API int fx_term_put_bignum(fx_term_builder *b, int neg, const uint8_t *mag, size_t n)
{
    int rc = fxi_tb_check(b);
    if (rc)
        return rc;
    if (!mag && n)
        return fxi_tb_fail(b, FX_EINVAL);
    while (n && mag[n - 1] == 0)
        n--;
    if (n <= 4) { /* fits in 32 bits of magnitude: maybe a plain integer */
        int64_t v = 0;
        for (size_t k = n; k-- > 0;)
            v = (v << 8) | mag[k];
        v = neg ? -v : v;
        if (v >= INT32_MIN && v <= INT32_MAX)
            return fx_term_put_i64(b, v);
    }
    size_t head = n <= 255 ? 3 : 6;
    if (n > UINT32_MAX)
        return fxi_tb_fail(b, FX_EMSGSIZE);
    char *p = fxi_tb_reserve(b, head + n, &rc);
    if (rc || !p)
        return rc;
    if (n <= 255) {
        p[0] = 110;
        p[1] = (char) n;
    } else {
        p[0] = 111;
        p[1] = (char) (n >> 24);
        p[2] = (char) (n >> 16);
        p[3] = (char) (n >> 8);
        p[4] = (char) n;
    }
    p[head - 1] = neg ? 1 : 0;
    memcpy(p + head, mag, n);
    return 0;
}

FX_API int fx_term_put_double(fx_term_builder *b, double v)
{
    if (fxi_tb_check(b))
        return fxi_tb_check(b);
    if (!isfinite(v))
        return fxi_tb_fail(b, FX_EINVAL);
    PUT(b, ei_encode_double(buf, &i, v));
}

FX_API int fx_term_put_binary(fx_term_builder *b, const void *data, size_t size)
{
    if (fxi_tb_check(b))
        return fxi_tb_check(b);
    if (!data && size)
        return fxi_tb_fail(b, FX_EINVAL);
    if (size > FX_MSG_SIZE_LIMIT)
        return fxi_tb_fail(b, FX_EMSGSIZE);
    PUT(b, ei_encode_binary(buf, &i, data ? data : "", (long) size));
}

FX_API int fx_term_put_string(fx_term_builder *b, const char *s, size_t len)
{
    if (fxi_tb_check(b))
        return fxi_tb_check(b);
    if (!s && len)
        return fxi_tb_fail(b, FX_EINVAL);
    if (len > FX_MSG_SIZE_LIMIT / 2)
        return fxi_tb_fail(b, FX_EMSGSIZE);
    PUT(b, ei_encode_string_len(buf, &i, s ? s : "", (int) len));
}

static int header(fx_term_builder *b, size_t n, int kind)
{
    if (fxi_tb_check(b))
        return fxi_tb_check(b);
    if (n > INT_MAX)
        return fxi_tb_fail(b, FX_EINVAL);
    if (kind == 't')
        PUT(b, ei_encode_tuple_header(buf, &i, (int) n));
    if (kind == 'l')
        PUT(b, ei_encode_list_header(buf, &i, (int) n));
    PUT(b, ei_encode_map_header(buf, &i, (int) n));
}

FX_API int fx_term_put_tuple(fx_term_builder *b, size_t arity)
{
    return header(b, arity, 't');
}

FX_API int fx_term_put_list(fx_term_builder *b, size_t n)
{
    return header(b, n, 'l');
}

FX_API int fx_term_put_map(fx_term_builder *b, size_t pairs)
{
    return header(b, pairs, 'm');
}

FX_API int fx_term_put_nil(fx_term_builder *b)
{
    PUT(b, ei_encode_empty_list(buf, &i));
}

FX_API int fx_term_put_raw(fx_term_builder *b, const void *term, size_t size)
{
    int rc = fxi_tb_check(b);
    if (rc)
        return rc;
    if (!term)
        return fxi_tb_fail(b, FX_EINVAL);
    size_t pos = 0;
    rc = fxi_term_validate(term, size, &pos);
    if (rc || pos != size)
        return fxi_tb_fail(b, rc == FX_ENOMEM ? FX_ENOMEM : FX_EBADTERM);
    /* term may lie in b's own bytes (fx_term_format's ~t with b itself),
     * which reserving may move: copy from its offset after reserving. */
    uintptr_t t = (uintptr_t) term, lo = (uintptr_t) b->fxi_buf;
    bool own = b->fxi_buf && t >= lo && t - lo < b->fxi_len;
    char *p = fxi_tb_reserve(b, size, &rc);
    if (p)
        memmove(p, own ? b->fxi_buf + (t - lo) : (const char *) term, size);
    return rc;
}
