/* fauxtp: overload: queue lengths and per-process mailbox limits.
 * docs/overload.md says when to use which policy, how muting backpressure
 * works and why it cannot deadlock. */
#ifndef FAUXTP_OVERLOAD_H
#define FAUXTP_OVERLOAD_H

#include <stdint.h>

#include "export.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What happens when a process's queue reaches its limit. */
typedef enum fx_mailbox_policy {
    /* The process exits with reason {error, FX_EMAILBOX_FULL, ...} the next
     * time it runs with more than `max` messages queued (Erlang's
     * max_heap_size kill): its supervisor restarts it. Messages sent
     * meanwhile are accepted (and dropped with the process). */
    FX_MAILBOX_KILL = 0,
    /* A message that would make the queue longer than `max` is refused:
     * fx_send/fx_send_msg answer FX_EMAILBOX_FULL (the sender keeps an
     * fx_send_msg message) and the refusal is counted in
     * fx_vm_stats.messages_dropped. */
    FX_MAILBOX_DROP = 1,
    /* Nothing is refused inside the VM: `max` is this process's muting
     * mark (senders inside the VM are descheduled after their handler
     * call until the queue is below max / 2). */
    FX_MAILBOX_BACKPRESSURE = 2,
} fx_mailbox_policy;

/* A per-process mailbox limit (fx_spawn_opts.mailbox, fx_gs_spec.mailbox,
 * fx_sm_spec.mailbox; a supervised child's comes from the spec its start
 * arg points to). Zero-initialised = unbounded, as in Erlang.
 * Under every policy, senders outside the VM (fx_vm_send, fx_vm_send_msg,
 * fx_inbox_send*, fx_vm_gs_cast...) get FX_EAGAIN instead of queueing past
 * max (they keep the message). The kill and drop policies and these
 * refusals count the messages a selective receive set aside as queued
 * (they are, as in Erlang); muting looks at the mailbox alone. Only
 * application messages and behaviour
 * messages marked FX_MSG_REFUSABLE (GenServer call/cast envelopes) are
 * ever refused; replies, EXIT, DOWN, timeouts, the runtime's link/monitor
 * signals and behaviours' own protocol always get through, and every
 * message counts towards the length. */
typedef struct fx_mailbox_limit {
    uint32_t max;    /* messages; 0 = unbounded */
    uint32_t policy; /* fx_mailbox_policy */
} fx_mailbox_limit;

/* The running process's queue length: messages delivered to its mailbox
 * and not yet taken out of it. Messages a selective receive set aside
 * are not counted. Exact up to sends still in flight on other threads.
 * Returns the length (counted modulo 2^32), or FX_EINVAL for a NULL cx.
 * Inside a handler only. */
FX_API int64_t fx_queue_len(const fx_ctx *cx);

/* The queue length of process pid, as fx_queue_len, into *out: a snapshot
 * that may be stale by the time it returns (docs/overload.md). Errors: FX_EINVAL (NULL vm
 * or out), FX_ENOPROC (no such process), FX_ESHUTDOWN (VM not running), FX_EFORKED. Any
 * thread. */
FX_API int fx_vm_queue_len(fx_vm *vm, fx_pid pid, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
