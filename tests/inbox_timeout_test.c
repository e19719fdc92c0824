/* inbox.h: a negative timeout other than FX_INFINITY is refused. */
#include "helpers.h"

#include <stdint.h>

/* inbox.h:53-58: fx_inbox_recv waits "up to timeout_ms (FX_INFINITY:
 * forever; 0: poll; ...)", errors FX_EINVAL... A negative timeout other
 * than FX_INFINITY (-1) is bad input (CONVENTIONS: bad input gets an error
 * code, never a hang; the siblings fx_send_request, fx_gs_call_then and
 * fx_sm_*_timeout answer FX_EINVAL for -2), but fx_inbox_recv treats every
 * negative value as FX_INFINITY and blocks forever on an empty inbox. The
 * same wait is behind fx_gs_call, fx_gs_stop_server and the fx_sup_*
 * calls. The Criterion timeout turns the hang into a failure. */
Test(inbox_timeout, recv_with_a_negative_timeout_is_einval_not_a_wait, .timeout = 30)
{
    tvm t = tvm_start(1);
    const int64_t bad[] = {-2, -5, INT64_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_msg *m = NULL;
        cr_expect_eq(fx_inbox_recv(t.in, NULL, bad[i], &m), FX_EINVAL, "timeout %lld",
                     (long long) bad[i]);
        cr_expect_null(m);
    }
    tvm_stop(&t);
}
