/* The call primitives behaviours build on: gated replies, the behaviour
 * message range, TIMEOUT payloads, fx_vm_on_scheduler. */
#include "agent.h"

static bool saw_type(const fx_msg *m, void *arg)
{
    uint32_t *type = arg;
    if (fx_msg_type(m) == *type)
        *type = 0;
    return false;
}

/* Pops the inbox's mailbox into its queue until a message of `type` is
 * there (without receiving it). */
static void wait_queued(tvm *t, uint32_t type)
{
    uint32_t probe = type;
    fx_match mt = {.pred = saw_type, .pred_arg = &probe};
    for (int i = 0; i < 10000 && probe; i++) {
        fx_msg *m = NULL;
        cr_assert_eq(fx_inbox_recv(t->in, &mt, 1, &m), FX_ETIMEDOUT);
    }
    cr_assert_eq(probe, 0, "never arrived");
}

Test(replies, are_delivered_only_while_the_caller_monitors)
{
    tvm t = ag_start(2, false);
    fx_pid a = ag_spawn(&t, NULL);
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t.in, a, &ref), 0);
    int v = 41;
    cr_assert_eq(fx_vm_reply(t.vm, (fx_from){t.me, ref}, &v, sizeof v), 0);
    fx_msg *m = tvm_recv(&t, FX_MSG_REPLY);
    cr_assert(fx_ref_eq(fx_msg_ref(m), ref));
    cr_assert_eq(*(const int *) fx_msg_data(m), 41);
    fx_msg_free(m);
    /* An unknown ref, and the same ref after demonitor: dropped. */
    cr_assert_eq(fx_vm_reply(t.vm, (fx_from){t.me, {ref.id + 1024}}, &v, sizeof v), 0);
    cr_assert_eq(fx_inbox_demonitor(t.in, ref, 0), 0);
    cr_assert_eq(fx_vm_reply(t.vm, (fx_from){t.me, ref}, &v, sizeof v), 0);
    ag_assert_alive(&t, a); /* a barrier: both replies were pushed before */
    fx_match any_reply = {.type = FX_MSG_REPLY};
    cr_assert_eq(fx_inbox_recv(t.in, &any_reply, 0, &m), FX_ETIMEDOUT);
    cr_assert_eq(fx_vm_reply(t.vm, (fx_from){t.me, FX_REF_NONE}, NULL, 0), FX_EINVAL);
    cr_assert_eq(fx_vm_reply(t.vm, (fx_from){FX_PID_NONE, ref}, NULL, 0), FX_EINVAL);
    tvm_stop(&t);
}

Test(replies, demonitor_flush_removes_a_queued_reply)
{
    tvm t = ag_start(2, false);
    fx_pid a = ag_spawn(&t, NULL);
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t.in, a, &ref), 0);
    cr_assert_eq(fx_vm_reply(t.vm, (fx_from){t.me, ref}, NULL, 0), 0);
    wait_queued(&t, FX_MSG_REPLY);
    cr_assert_eq(fx_inbox_demonitor(t.in, ref, FX_DEMONITOR_FLUSH), 0);
    fx_msg *m;
    fx_match any_reply = {.type = FX_MSG_REPLY};
    cr_assert_eq(fx_inbox_recv(t.in, &any_reply, 0, &m), FX_ETIMEDOUT);
    tvm_stop(&t);
}

#define BEHAVIOUR_PING (FX_MSG_BEHAVIOUR_BASE + 7)

Test(behaviour_messages, are_sent_only_when_built_for_it)
{
    tvm t = ag_start(2, false);
    fx_pid a = ag_spawn(&t, NULL);
    fx_msg *m;
    cr_assert_eq(fx_msg_new(BEHAVIOUR_PING, 0, &m), FX_EINVAL);
    cr_assert_eq(fx_msg_new_behaviour(FX_MSG_DOWN, 0, &m), FX_EINVAL);
    cr_assert_eq(fx_msg_new_behaviour(FX_MSG_INTERNAL_BASE, 0, &m), FX_EINVAL);
    cr_assert_eq(fx_msg_new_behaviour(1, 0, &m), FX_EINVAL);
    cr_assert_eq(fx_vm_send(t.vm, a, BEHAVIOUR_PING, NULL, 0), FX_EINVAL);
    cr_assert_eq(fx_msg_new_behaviour(BEHAVIOUR_PING, sizeof(ag_cmd), &m), 0);
    memset(fx_msg_data_mut(m), 0, sizeof(ag_cmd));
    cr_assert_eq(fx_inbox_send_msg(t.in, a, m), 0);
    ag_report r = ag_next(&t, a);
    cr_assert_eq(r.type, BEHAVIOUR_PING, "delivered as an ordinary message");
    /* The runtime's own types cannot be forged. */
    cr_assert_eq(fx_msg_new(FX_MSG_REPLY, 0, &m), FX_EINVAL);
    tvm_stop(&t);
}

typedef struct waiter {
    fx_pid owner, from;
    fx_ref ref;
} waiter;

static fx_next timed_out(fx_ctx *cx, fx_msg *m)
{
    waiter *w = fx_state(cx);
    if (fx_msg_type(m) == FX_MSG_TIMEOUT) /* reserved: pass the payload on */
        fx_send(cx, w->owner, 2, fx_msg_data(m), fx_msg_size(m));
    uint64_t on = (uint64_t) fx_vm_on_scheduler(fx_ctx_vm(cx));
    fx_send(cx, w->owner, 1, &on, sizeof on);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next wait_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    waiter *w = fx_state(cx);
    fx_match mt = {.from = w->from, .ref = w->ref};
    return fx_receive(cx, timed_out, &mt, 1);
}

Test(receive_timeouts, carry_the_pattern_they_waited_for)
{
    tvm t = ag_start(2, false);
    waiter w = {t.me, {12345}, {678 << 10}};
    fx_spawn_opts o = {.init = wait_init, .state_size = sizeof w, .state_init = &w};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, NULL), 0);
    fx_msg *m = tvm_recv(&t, 2);
    cr_assert_eq(fx_msg_size(m), sizeof(fx_timeout_info));
    const fx_timeout_info *ti = fx_msg_data(m);
    cr_assert(fx_pid_eq(ti->from, w.from));
    cr_assert(fx_ref_eq(ti->ref, w.ref));
    fx_msg_free(m);
    cr_assert_eq(tvm_recv_u64(&t, 1), 1, "a handler runs on a scheduler");
    cr_assert_eq(fx_vm_on_scheduler(t.vm), 0);
    cr_assert_eq(fx_vm_on_scheduler(NULL), 0);
    tvm_stop(&t);
}
