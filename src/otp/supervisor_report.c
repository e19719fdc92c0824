/* Supervisor: its reports (Erlang's SASL progress and supervisor reports),
 * handed to the VM's logger with fx_report_emit (report.h). The level
 * and the rate limit are the logger's business: a report below the
 * threshold costs a load. */
#include "otp/sup_impl.h"

void fxi_sup_report(fx_ctx *cx, const fxi_sup *s, int kind, const fxi_child *c,
                    fx_pid child_pid, const fx_reason *why, bool restarting)
{
    fx_crash_report r = {
        .pid = fx_self(cx),
        .label = s->label,
        .kind = (fx_report_kind) kind,
        /* Dynamic children have no id: OTP prints `undefined`. */
        .child_id = c->spec.id[0] ? c->spec.id : "undefined",
        .child_pid = child_pid,
        .restarting = restarting,
    };
    r.reason = why ? *why : fx_reason_normal();
    (void) fx_report_emit(fx_ctx_vm(cx), &r);
}
