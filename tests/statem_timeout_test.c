/* gen_statem: event, state and generic timeouts, and their cancellation
 * rules (OTP's). The machine runs small programs (op, a, b triples) cast
 * to it; THEN (one word, not a triple) runs the rest of the program as an inserted event,
 * so a "later event" needs no timing. A marker timeout (MARK) logs "end": what must not
 * fire has a much shorter delay than the marker. */
#include "statem_helpers.h"

enum { ST = 1, GO, ET, GEN, CANCEL, UPD, INFO, THEN, MARK, LOG, KEEPOP };

static fx_sm_ret run(fx_sm *sm, const int64_t *p, size_t n)
{
    fx_sm_ret r = fx_sm_keep_state(sm);
    for (size_t i = 0; i + 3 <= n; i += 3) {
        int64_t a = p[i + 1], b = p[i + 2], zero = 0;
        switch (p[i]) {
        case ST:
            cr_assert_eq(fx_sm_state_timeout(sm, a, 0, NULL, 0), 0);
            break;
        case GO:
            sm_log(sm, "go%d", (int) a);
            r = fx_sm_next_state(sm, fx_sm_id(a));
            break;
        case ET:
            cr_assert_eq(fx_sm_event_timeout(sm, a, 0, NULL, 0), 0);
            break;
        case GEN:
            cr_assert_eq(fx_sm_timeout(sm, (uint64_t) a, b, 0, &zero, sizeof zero), 0);
            break;
        case CANCEL:
            cr_assert_eq(fx_sm_timeout(sm, (uint64_t) a, FX_INFINITY, 0, NULL, 0), 0);
            break;
        case UPD:
            cr_assert_eq(fx_sm_update_timeout(sm, (uint64_t) a, 0, &b, sizeof b), 0);
            break;
        case INFO:
            cr_assert_eq(fx_send(fx_sm_ctx(sm), fx_self(fx_sm_ctx(sm)), 5, NULL, 0), 0);
            break;
        case THEN:
            cr_assert_eq(fx_sm_next_event(sm, 0, p + i + 1, (n - i - 1) * sizeof *p), 0);
            return r;
        case MARK:
            cr_assert_eq(fx_sm_timeout(sm, 99, a, 0, NULL, 0), 0);
            break;
        case LOG:
            sm_log(sm, "l%d", (int) a);
            break;
        }
    }
    return r;
}

static fx_sm_ret t_event(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    (void) data;
    switch (ev->kind) {
    case FX_SM_CAST:
    case FX_SM_INTERNAL:
        return run(sm, ev->data, ev->size / sizeof(int64_t));
    case FX_SM_STATE_TIMEOUT:
        if (ev->state.id == 3) { /* state 3 postpones its state timeout */
            sm_log(sm, "pst3");
            fx_sm_postpone(sm);
            break;
        }
        sm_log(sm, "st%d", (int) ev->state.id);
        break;
    case FX_SM_TIMEOUT:
        sm_log(sm, "et");
        break;
    case FX_SM_GENERIC_TIMEOUT:
        if (ev->name == 99)
            sm_log(sm, "end");
        else if (ev->name == 5) { /* leaves state 3 */
            sm_log(sm, "g5");
            return fx_sm_next_state(sm, fx_sm_id(4));
        } else
            sm_log(sm, "g%d:%d", (int) ev->name, (int) sm_arg(ev));
        break;
    case FX_SM_INFO:
        sm_log(sm, "info");
        break;
    }
    return fx_sm_keep_state(sm);
}

static fx_sm_ret t_init(fx_sm *sm, void *arg, void **data)
{
    sm_init_data(sm, arg, data);
    return fx_sm_next_state(sm, fx_sm_id(1));
}

static const fx_sm_ops t_ops = {
    .init = t_init, .handle_event = t_event, .terminate = sm_free_data};

#define PROG(...)                                                                        \
    do {                                                                                 \
        const int64_t prog_[] = {__VA_ARGS__};                                           \
        cr_assert_eq(fx_vm_gs_cast(t.vm, p, 0, prog_, sizeof prog_), 0);                 \
    } while (0)

#define CHECK(want) cr_assert_str_eq(sm_collect(&t), want)

/* ---- state timeouts ------------------------------------------------------ */

Test(statem_state_timeout, cancelled_by_a_state_change)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(ST, 20, 0, THEN, GO, 2, 0, MARK, 300, 0);
    CHECK("go2");
    tvm_stop(&t);
}

Test(statem_state_timeout, not_cancelled_by_keep_state)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(ST, 20, 0, THEN, LOG, 1, 0, MARK, 300, 0);
    CHECK("l1 st1");
    tvm_stop(&t);
}

Test(statem_state_timeout, set_by_the_transition_belongs_to_the_new_state)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(GO, 2, 0, ST, 20, 0, MARK, 300, 0);
    CHECK("go2 st2");
    tvm_stop(&t);
}

Test(statem_state_timeout, infinity_cancels)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(ST, 20, 0, THEN, ST, FX_INFINITY, 0, MARK, 300, 0);
    CHECK("");
    tvm_stop(&t);
}

Test(statem_state_timeout, zero_runs_after_queued_events_before_the_mailbox)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(INFO, 0, 0, ST, 0, 0, GEN, 2, 0, MARK, 300, 0, THEN, LOG, 1, 0);
    CHECK("l1 st1 g2:0 info");
    tvm_stop(&t);
}

Test(statem_state_timeout, zero_cancelled_by_a_state_change_first)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(ST, 0, 0, MARK, 300, 0, THEN, GO, 2, 0);
    CHECK("go2");
    tvm_stop(&t);
}

/* ---- event timeouts ------------------------------------------------------ */

Test(statem_event_timeout, fires_when_no_event_comes)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(ET, 20, 0, MARK, 300, 0);
    CHECK("et");
    tvm_stop(&t);
}

Test(statem_event_timeout, cancelled_by_any_event)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(ET, 20, 0, INFO, 0, 0, MARK, 300, 0);
    CHECK("info");
    tvm_stop(&t);
}

Test(statem_event_timeout, not_started_with_an_event_queued)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    /* The inserted event's own program sets nothing: had the event
     * timeout started, nothing would cancel it after l1. */
    PROG(ET, 20, 0, MARK, 300, 0, THEN, LOG, 1, 0);
    CHECK("l1");
    tvm_stop(&t);
}

Test(statem_event_timeout, zero_fires_when_nothing_is_queued)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(ET, 0, 0, MARK, 300, 0);
    CHECK("et");
    tvm_stop(&t);
}

Test(statem_event_timeout, zero_does_not_fire_with_a_message_queued)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(INFO, 0, 0, ET, 0, 0, MARK, 300, 0);
    CHECK("info");
    tvm_stop(&t);
}

/* ---- generic timeouts ---------------------------------------------------- */

Test(statem_generic_timeout, fires_and_survives_a_state_change)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(GEN, 1, 20, MARK, 300, 0, THEN, GO, 2, 0);
    CHECK("go2 g1:0");
    tvm_stop(&t);
}

Test(statem_generic_timeout, restart_fires_once)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(GEN, 1, 20, MARK, 300, 0, THEN, GEN, 1, 40, UPD, 1, 3);
    CHECK("g1:3");
    tvm_stop(&t);
}

Test(statem_generic_timeout, cancel_and_names_are_independent)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(GEN, 1, 20, GEN, 2, 40, MARK, 300, 0, THEN, CANCEL, 1, 0);
    CHECK("g2:0");
    tvm_stop(&t);
}

Test(statem_generic_timeout, update_changes_the_content_only)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(GEN, 1, 20, GEN, 2, 100, MARK, 300, 0, THEN, UPD, 1, 7);
    /* 1 still fires before 2 (its time did not change), with the new data */
    CHECK("g1:7 g2:0");
    tvm_stop(&t);
}

Test(statem_generic_timeout, update_with_none_running_fires_at_once)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    /* OTP 25 inserts {{timeout, 4}, 9} as a time-0 timeout: after the
     * events already queued (l1), before the marker's far later one */
    PROG(MARK, 300, 0, UPD, 4, 9, THEN, LOG, 1, 0);
    CHECK("l1 g4:9");
    tvm_stop(&t);
}

Test(statem_state_timeout, postponed_comes_back_after_the_state_change)
{
    tvm t = tvm_start(2);
    fx_pid p = sm_start(&t, &t_ops);
    PROG(GO, 3, 0, ST, 10, 0, GEN, 5, 100, MARK, 300, 0);
    CHECK("go3 pst3 g5 st4");
    tvm_stop(&t);
}

/* ---- a timeout's data near the message size limit ---------------------------- */

/* The test casts a size; the machine asks for an event timeout with that
 * many bytes, reports fx_sm_event_timeout's answer (type 1) and, when it
 * fires, the size of the data it got (type 2). */
enum { SZ_RC = 1, SZ_GOT = 2 };
#define SZ_MAX 4096u /* the VM's max_msg_size here */

static void sz_report(fx_sm *sm, uint32_t type, int64_t v)
{
    (void) fx_send(fx_sm_ctx(sm), sm_observer, type, &v, sizeof v);
}

static fx_sm_ret sz_event(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    (void) data;
    if (ev->kind == FX_SM_CAST) {
        size_t size = (size_t) sm_arg(ev);
        void *buf = calloc(1, size);
        sz_report(sm, SZ_RC, fx_sm_event_timeout(sm, 1, 0, buf, size));
        free(buf);
    } else if (ev->kind == FX_SM_TIMEOUT) {
        sz_report(sm, SZ_GOT, (int64_t) ev->size);
    }
    return fx_sm_keep_state(sm);
}

static fx_sm_ret sz_init(fx_sm *sm, void *arg, void **data)
{
    (void) sm_init_data(sm, arg, data);
    return fx_sm_next_state(sm, fx_sm_id(1));
}

static const fx_sm_ops sz_ops = {
    .init = sz_init, .handle_event = sz_event, .terminate = sm_free_data};

Test(statem_timeout, event_timeout_data_at_the_size_limit_and_one_byte_over)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.max_msg_size = SZ_MAX;
    c.crash_logger = fx_crash_logger_silent;
    tvm t = tvm_start_with(&c);
    cr_assert_eq(fx_vm_max_msg_size(t.vm), SZ_MAX);
    fx_pid p = sm_start(&t, &sz_ops);
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t.in, p, &ref), 0);
    /* Exactly the limit: accepted, and it fires with all its bytes. */
    sm_cast(&t, p, 1, (int64_t) (SZ_MAX - FX_SM_TIMEOUT_OVERHEAD));
    cr_assert_eq((int64_t) tvm_recv_u64(&t, SZ_RC), 0);
    cr_assert_eq((int64_t) tvm_recv_u64(&t, SZ_GOT), SZ_MAX - FX_SM_TIMEOUT_OVERHEAD);
    /* One byte over: refused at once with the documented code, and the
     * machine stops with it (a refused action). */
    sm_cast(&t, p, 1, (int64_t) (SZ_MAX - FX_SM_TIMEOUT_OVERHEAD + 1));
    cr_assert_eq((int64_t) tvm_recv_u64(&t, SZ_RC), FX_EMSGSIZE);
    fx_msg *m = NULL;
    cr_assert_eq(
        fx_inbox_recv(t.in, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, 10000, &m), 0);
    const fx_down_info *d = fx_msg_data(m);
    cr_assert_eq(d->reason.kind, FX_REASON_ERROR);
    cr_assert_eq(d->reason.code, FX_EMSGSIZE, "reason: %s", d->reason.text);
    fx_msg_free(m);
    tvm_stop(&t);
}
