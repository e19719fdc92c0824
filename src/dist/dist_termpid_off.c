/* term.h's pid functions in a library built with the term API but without
 * distribution (-Ddist=disabled, or nettle missing): a pid has no Erlang
 * form without a node, so they answer FX_ENOTDIST (FX_EINVAL for NULL).
 * The real ones: dist_termpid.c. */
#include <fauxtp/error.h>
#include <fauxtp/term.h>

#include "term/etf.h"

FX_API int fx_term_put_pid(fx_term_builder *b, fx_vm *vm, fx_pid pid)
{
    int rc = fxi_tb_check(b); /* a failed builder answers its own code */
    if (rc)
        return rc;
    return fxi_tb_fail(b, vm && pid.id ? FX_ENOTDIST : FX_EINVAL);
}

FX_API int fx_term_get_pid(fx_term_reader *r, fx_vm *vm, fx_pid *pid)
{
    return r && vm && pid ? FX_ENOTDIST : FX_EINVAL;
}
