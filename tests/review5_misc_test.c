/* review5: inbox.h / monitor.h promises the code does not keep. */
#include "helpers.h"

#include <stdint.h>

/* inbox.h:50-58: fx_inbox_recv waits "up to timeout_ms (FX_INFINITY:
 * forever; 0: poll; ...)", errors FX_EINVAL... A negative timeout other
 * than FX_INFINITY (-1) is bad input (CONVENTIONS: bad input gets an error
 * code, never a hang; the siblings fx_send_request, fx_gs_call_then and
 * fx_sm_*_timeout answer FX_EINVAL for -2), but fx_inbox_recv treats every
 * negative value as FX_INFINITY and blocks forever on an empty inbox. The
 * same wait is behind fx_gs_call, fx_gs_stop_server and the fx_sup_*
 * calls. The Criterion timeout turns the hang into a failure. */
Test(review5_inbox, recv_with_a_negative_timeout_is_einval_not_a_wait, .timeout = 30)
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

/* monitor.h:31-38: fx_demonitor "Returns 0 if the monitor was active".
 * fx_monitor on oneself "gives a ref" (and never a DOWN); Erlang's
 * demonitor(monitor(process, self()), [info]) answers true (the monitor
 * is active until demonitored). fx_demonitor answers FX_ENOENT, as for a
 * ref it never made. Low stakes; shown through an inbox (same code path:
 * fxi_monitor / fxi_demonitor). */
Test(review5_monitor, demonitor_of_a_self_monitor_answers_active)
{
    tvm t = tvm_start(1);
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t.in, t.me, &ref), 0);
    cr_expect_eq(fx_inbox_demonitor(t.in, ref, 0), 0);
    cr_expect_eq(fx_inbox_demonitor(t.in, ref, 0), FX_ENOENT);
    tvm_stop(&t);
}
