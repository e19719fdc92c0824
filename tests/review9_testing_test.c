/* review9: testing.h promises the code breaks (each test fails today for
 * the reason its comment gives). */
#include <fauxtp/testing.h>
#include <stdlib.h>

#include "helpers.h"

static fx_next counter(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    int *n = fx_state(cx);
    (*n)++;
    return fx_continue(cx);
}

/* testing.h:163-168: fx_test_step "Runs one step: ... picks one [runnable
 * process] and runs it (one handler call with the default batch of 1).
 * Returns 1 if a process ran, 0 if none was runnable", and fx_test_run's
 * *ran is "how many ran". After a process handles the last message of its
 * mailbox it stays runnable for one more step that calls no handler, yet
 * that step answers 1 and counts in *ran: three messages take four steps
 * answering 1, so a test that steps once per expected message is off by
 * one, and fx_test_run's count is not the number of handler calls. */
Test(review9_testing, a_step_that_answers_1_calls_a_handler, .timeout = 60)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.deterministic = true;
    c.seed = 3;
    fx_vm *vm = NULL;
    cr_assert_eq(fx_test_vm_create(&c, NULL, &vm), 0);
    int n = 0;
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(vm, counter, &n, &p), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(fx_vm_send(vm, p, 1, NULL, 0), 0);
    int steps = 0, rc;
    while ((rc = fx_test_step(vm)) == 1 && steps < 100) {
        steps++;
        cr_expect_eq(n, steps, "step %d answered 1 but %d handler calls ran", steps, n);
    }
    cr_assert_eq(rc, 0);
    cr_expect_eq(n, 3);
    cr_expect_eq(steps, 3, "3 messages, %d steps that answered 1", steps);
    /* fx_test_run counts the same way. */
    for (int i = 0; i < 2; i++)
        cr_assert_eq(fx_vm_send(vm, p, 1, NULL, 0), 0);
    uint64_t ran = 0;
    cr_assert_eq(fx_test_run(vm, 1000, &ran), 0);
    cr_expect_eq(n, 5);
    cr_expect_eq(ran, 2, "2 handler calls, fx_test_run says %llu ran",
                 (unsigned long long) ran);
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    fx_vm_destroy(vm);
}

static bool never(void *arg)
{
    (void) arg;
    return false;
}

/* testing.h:83-90 (fx_wait_for: "up to timeout_ms (FX_INFINITY: forever;
 * beyond FX_TIMEOUT_MAX: FX_TIMEOUT_MAX)") with the rule inbox.h:55-57
 * states for the project ("any other negative value: FX_EINVAL, as for
 * every blocking call that takes a timeout"; docs/bad-input.md rows of
 * fx_inbox_recv, fx_gs_call...: "FX_EINVAL at once ... (not a wait
 * forever)"). wait.c turns every negative timeout into "no deadline", so
 * fx_wait_for(-5) with a predicate that stays false never returns: the
 * test hangs until Criterion's timeout kills it. */
Test(review9_testing, wait_for_negative_timeout_is_einval, .timeout = 20)
{
    tvm t = tvm_start(1);
    cr_expect_eq(fx_wait_for(t.vm, never, NULL, -5), FX_EINVAL);
    cr_expect_eq(fx_wait_for(NULL, never, NULL, INT64_MIN), FX_EINVAL);
    tvm_stop(&t);
}

/* The same through fx_probe_wait (testing.h:144-146: "as fx_wait_for";
 * fx_crash_capture_wait shares the code): a probe that records nothing,
 * waited on with -5, hangs instead of answering FX_EINVAL. */
Test(review9_testing, probe_wait_negative_timeout_is_einval, .timeout = 20)
{
    tvm t = tvm_start(1);
    fx_probe *pr = NULL;
    cr_assert_eq(fx_probe_start(t.vm, &pr), 0);
    cr_expect_eq(fx_probe_wait(pr, 1, -5), FX_EINVAL);
    fx_probe_destroy(pr);
    tvm_stop(&t);
}

/* testing.h:193-195: fx_test_seed gives "the decimal or 0x-hex value of
 * the environment variable FX_TEST_SEED". det.c parses it with
 * strtoull(e, &end, 0), which reads a leading 0 as octal: "010" gives 8,
 * not 10, and "0089" (a decimal seed printed with zero padding) is not a
 * number at all, so the default comes back; either way the replay runs
 * another schedule than the seed the user asked for. */
Test(review9_testing, seed_with_leading_zeros_is_decimal)
{
    cr_assert_eq(setenv("FX_TEST_SEED", "42", 1), 0);
    cr_assert_eq(fx_test_seed(7), 42);
    cr_assert_eq(setenv("FX_TEST_SEED", "0x2a", 1), 0);
    cr_assert_eq(fx_test_seed(7), 42);
    cr_assert_eq(setenv("FX_TEST_SEED", "010", 1), 0);
    cr_expect_eq(fx_test_seed(7), 10, "FX_TEST_SEED=010 gave %llu",
                 (unsigned long long) fx_test_seed(7));
    cr_assert_eq(setenv("FX_TEST_SEED", "0089", 1), 0);
    cr_expect_eq(fx_test_seed(7), 89, "FX_TEST_SEED=0089 gave %llu",
                 (unsigned long long) fx_test_seed(7));
    /* Not a number in either form: the default. */
    const char *bad[] = {"0x", "0x0x1", "-5",  " 7",
                         "+7", "7z",    "0xg", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(setenv("FX_TEST_SEED", bad[i], 1), 0);
        cr_expect_eq(fx_test_seed(7), 7, "FX_TEST_SEED=\"%s\" gave %llu", bad[i],
                     (unsigned long long) fx_test_seed(7));
    }
}
