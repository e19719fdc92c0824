/* The plain-message mapping: user type T, payload P <-> {T, <<P>>}. */
#include "term/etf.h"

#include <fauxtp/error.h>

FX_API int fx_term_from_plain(fx_term_builder *b, uint32_t type, const void *data,
                              size_t size)
{
    int rc = fxi_tb_check(b);
    if (rc)
        return rc;
    if (type >= FX_MSG_SYSTEM_BASE || (!data && size))
        return fxi_tb_fail(b, FX_EINVAL);
    rc = fx_term_put_tuple(b, 2);
    if (!rc)
        rc = fx_term_put_u64(b, type);
    return rc ? rc : fx_term_put_binary(b, data, size);
}

FX_API int fx_term_to_plain(fx_term_reader *r, uint32_t *type, const void **data,
                            size_t *size)
{
    if (!r || !type || !data || !size)
        return FX_EINVAL;
    fx_term_reader t = *r;
    uint32_t arity;
    uint64_t ty;
    const void *d;
    size_t n;
    int rc = fx_term_get_tuple(&t, &arity);
    if (rc)
        return rc;
    if (arity != 2 || fx_term_get_u64(&t, &ty) || ty >= FX_MSG_SYSTEM_BASE ||
        fx_term_get_binary(&t, &d, &n))
        return FX_EBADTERM;
    *type = (uint32_t) ty;
    *data = d;
    *size = n;
    *r = t;
    return 0;
}
