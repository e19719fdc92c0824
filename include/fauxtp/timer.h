/* fauxtp: timers. One timer wheel per VM drives send_after and receive
 * timeouts; there is no thread per timer. Resolution: 1 ms. At most 2^24
 * (16.7 M) timers are pending in a VM at once (a handle carries a 24-bit
 * index, as a pid); past that, arming one answers FX_ENOMEM. */
#ifndef FAUXTP_TIMER_H
#define FAUXTP_TIMER_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* After delay_ms, sends a copy of (type, data, size) to `to`, as if sent
 * by the running actor at that time (a dead target drops it). *out (may be
 * NULL) receives a handle for cancel/read. type: what fx_send takes (an
 * application type, or FX_MSG_TERM with a term's bytes). A delay beyond FX_TIMEOUT_MAX
 * (about 139 years; INT64_MAX too) is treated as FX_TIMEOUT_MAX. Errors as
 * fx_send (FX_EINVAL for delay_ms < 0). Inside a handler only. */
FX_API int fx_send_after(fx_ctx *cx, int64_t delay_ms, fx_pid to, uint32_t type,
                         const void *data, size_t size, fx_timer *out);
/* After delay_ms, sends msg (built with fx_msg_new or
 * fx_msg_new_behaviour: a behaviour's own type and ref are kept) to `to`,
 * from the running actor; delay as fx_send_after. Ownership as
 * fx_send_msg: 0 takes msg (also the message being handled), an error
 * leaves it with the caller. Errors: FX_EINVAL (NULL cx or msg, delay_ms
 * < 0, a type fx_send_msg refuses), FX_EMSGSIZE (as fx_send_msg),
 * FX_ENOMEM. Inside a handler only. */
FX_API int fx_send_after_msg(fx_ctx *cx, int64_t delay_ms, fx_pid to, fx_msg *msg,
                             fx_timer *out);
/* The same from outside the VM (sender FX_PID_NONE). Any thread. */
FX_API int fx_vm_send_after(fx_vm *vm, int64_t delay_ms, fx_pid to, uint32_t type,
                            const void *data, size_t size, fx_timer *out);

/* Cancels a pending timer. Returns the milliseconds that were left (>= 0),
 * or FX_ENOENT if it already fired or was cancelled, is another VM's
 * (a handle carries its VM's tag, as a pid does), or its target is not
 * alive: as in Erlang, a timer to a process is cancelled when the process
 * exits (and one armed for a dead pid is accepted, then cancelled so);
 * FX_ESHUTDOWN once the VM is not running (its timers never fire);
 * FX_EINVAL for a NULL vm. Any thread. */
FX_API int64_t fx_cancel_timer(fx_vm *vm, fx_timer timer);

/* Milliseconds left before the timer fires (>= 0), or FX_ENOENT (fired,
 * cancelled, another VM's, or its target is not alive: see
 * fx_cancel_timer);
 * FX_ESHUTDOWN once the VM is not running; FX_EINVAL for a NULL vm. Any
 * thread. */
FX_API int64_t fx_read_timer(fx_vm *vm, fx_timer timer);

#ifdef __cplusplus
}
#endif
#endif
