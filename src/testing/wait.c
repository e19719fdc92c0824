/* Waiting and receiving helpers, and the quiet test VM
 * (<fauxtp/testing.h>). Written against the public API only. */
#include <fauxtp/actor.h>
#include <fauxtp/error.h>
#include <fauxtp/msg.h>
#include <fauxtp/testing.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

FX_API int fx_test_vm_create(const fx_vm_config *cfg, fx_crash_capture *cap, fx_vm **out)
{
    if (!out)
        return FX_EINVAL;
    *out = NULL;
    fx_vm_config c;
    if (cfg)
        c = *cfg;
    else
        fx_vm_config_init(&c);
    c.crash_logger = cap ? fx_crash_capture_logger : fx_crash_logger_silent;
    c.crash_logger_arg = cap;
    fx_vm *vm = NULL;
    int rc = fx_vm_create(&c, &vm);
    if (rc)
        return rc;
    if ((rc = fx_vm_start(vm)) != 0) {
        fx_vm_destroy(vm);
        return rc;
    }
    *out = vm;
    return 0;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

FX_API int fx_wait_for(fx_vm *vm, fx_test_pred pred, void *arg, int64_t timeout_ms)
{
    /* FX_INFINITY or >= 0, as every blocking call's timeout (inbox.h). */
    if (!pred || (timeout_ms < 0 && timeout_ms != FX_INFINITY))
        return FX_EINVAL;
    if (vm && fx_vm_on_scheduler(vm) == 1)
        return FX_EWOULDBLOCK;
    if (timeout_ms > FX_TIMEOUT_MAX)
        timeout_ms = FX_TIMEOUT_MAX;
    if (vm && fx_test_now_ms(vm) >= 0) {
        /* Deterministic: run the VM between checks until it is idle. */
        for (uint64_t steps = 0;; steps++) {
            if (pred(arg))
                return 0;
            if (steps == FX_TEST_STEP_LIMIT)
                return FX_ELIMIT;
            int st = fx_test_step(vm);
            if (st == 0)
                return FX_ETIMEDOUT; /* idle: nothing changes without the test */
            if (st < 0)
                return st;
        }
    }
    uint64_t deadline =
        timeout_ms < 0 ? UINT64_MAX : mono_ns() + (uint64_t) timeout_ms * 1000000u;
    long nap_ns = 50000; /* 50 us, doubling up to 1 ms */
    for (;;) {
        if (pred(arg))
            return 0;
        if (mono_ns() >= deadline)
            return FX_ETIMEDOUT;
        nanosleep(&(struct timespec){0, nap_ns}, NULL);
        if (nap_ns < 1000000)
            nap_ns *= 2;
    }
}

FX_API int fx_assert_receive(fx_inbox *ib, const fx_match *match, int64_t timeout_ms,
                             fx_msg **out)
{
    if (out)
        *out = NULL;
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(ib, match, timeout_ms, &m);
    if (rc)
        return rc;
    if (out)
        *out = m;
    else
        fx_msg_free(m);
    return 0;
}

FX_API int fx_refute_receive(fx_inbox *ib, const fx_match *match, int64_t timeout_ms,
                             fx_msg **got)
{
    if (got)
        *got = NULL;
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(ib, match, timeout_ms, &m);
    if (rc == FX_ETIMEDOUT)
        return 0;
    if (rc)
        return rc;
    if (got)
        *got = m;
    else
        fx_msg_free(m);
    return FX_EEXIST;
}

static void describe(const fx_match *m, char *buf, size_t size)
{
    if (!m) {
        snprintf(buf, size, "any message");
        return;
    }
    char from[32] = "any";
    if (!fx_pid_is_none(m->from))
        fx_pid_format(m->from, from, sizeof from);
    snprintf(buf, size, "{type %" PRIu32 "%s, from %s, ref %#" PRIx64 "%s}", m->type,
             m->type ? "" : " (any)", from, m->ref.id, m->pred ? ", a predicate" : "");
}

FX_API int fx_assert_receive_at(fx_inbox *ib, const fx_match *match, int64_t timeout_ms,
                                fx_msg **out, const char *file, int line)
{
    int rc = fx_assert_receive(ib, match, timeout_ms, out);
    if (rc) {
        char what[160];
        describe(match, what, sizeof what);
        fprintf(stderr, "%s:%d: FX_ASSERT_RECEIVE: no %s within %" PRId64 " ms: %s\n",
                file ? file : "?", line, what, timeout_ms, fx_err_name(rc));
    }
    return rc;
}

FX_API int fx_refute_receive_at(fx_inbox *ib, const fx_match *match, int64_t timeout_ms,
                                fx_msg **got, const char *file, int line)
{
    fx_msg *m = NULL;
    int rc = fx_refute_receive(ib, match, timeout_ms, &m);
    if (rc) {
        char what[160], from[32] = "none";
        describe(match, what, sizeof what);
        if (m) {
            fx_pid_format(fx_msg_from(m), from, sizeof from);
            fprintf(stderr,
                    "%s:%d: FX_REFUTE_RECEIVE: got %s: type %" PRIu32
                    ", %zu bytes, from %s\n",
                    file ? file : "?", line, what, fx_msg_type(m), fx_msg_size(m), from);
        } else {
            fprintf(stderr, "%s:%d: FX_REFUTE_RECEIVE: %s: %s\n", file ? file : "?", line,
                    what, fx_err_name(rc));
        }
    }
    if (got)
        *got = m;
    else
        fx_msg_free(m);
    return rc;
}
