/* Bad-input table: testing.h. One Test per row; .description is
 * "function | bad input | result". Rows on a deterministic VM end with
 * det_end, which checks that VM still spawns and echoes (the receive
 * drives it) before destroying it. */
#include "badinput.h"

#include <fauxtp/testing.h>
#include <stdlib.h>

static fx_vm *det_start(void)
{
    fx_vm_config c = bi_config();
    c.threads = 0;
    c.deterministic = true;
    c.seed = 9;
    fx_vm *vm = NULL;
    cr_assert_eq(fx_test_vm_create(&c, NULL, &vm), 0);
    return vm;
}

static void det_end(fx_vm *vm)
{
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(vm, bi_echo, NULL, &p), 0);
    uint64_t v = 0x5eed;
    cr_assert_eq(fx_inbox_send(ib, p, 7, &v, sizeof v), 0);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(ib, &(fx_match){.type = 7}, 1000, &m), 0, "det: echo");
    cr_assert_eq(*(const uint64_t *) fx_msg_data(m), v);
    fx_msg_free(m);
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
}

/* --- the quiet VM, crash capture ------------------------------------------ */

Test(bi_testing, vm_create_bad,
     .description = "fx_test_vm_create | out NULL; cfg with threads 2000 | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_test_vm_create(NULL, NULL, NULL), FX_EINVAL);
    fx_vm_config c = bi_config();
    c.threads = 2000;
    fx_vm *vm = (fx_vm *) 1;
    bi_expect(fx_test_vm_create(&c, NULL, &vm), FX_EINVAL);
    cr_assert_null(vm);
    bi_end(&t);
}

Test(bi_testing, capture_create_null,
     .description = "fx_crash_capture_create | out NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_crash_capture_create(NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_testing, nulls_ignored,
     .description = "fx_crash_capture_destroy, _clear, _logger, fx_probe_clear, "
                    "fx_probe_destroy | NULL (logger: arg or report NULL) | "
                    "nothing happens")
{
    tvm t = bi_start();
    fx_crash_capture_destroy(NULL);
    fx_crash_capture_clear(NULL);
    fx_crash_capture_logger(NULL, NULL);
    fx_crash_capture *cap;
    cr_assert_eq(fx_crash_capture_create(&cap), 0);
    fx_crash_capture_logger(cap, NULL);
    cr_assert_eq(fx_crash_capture_count(cap), 0);
    fx_crash_capture_destroy(cap);
    fx_probe_clear(NULL);
    fx_probe_destroy(NULL);
    bi_end(&t);
}

Test(bi_testing, capture_queries_null,
     .description =
         "fx_crash_capture_count, _get, _find, _wait | cap NULL; get: out NULL "
         "| FX_EINVAL")
{
    tvm t = bi_start();
    fx_captured_report r;
    bi_expect(fx_crash_capture_count(NULL), FX_EINVAL);
    bi_expect(fx_crash_capture_get(NULL, 0, &r), FX_EINVAL);
    bi_expect(fx_crash_capture_find(NULL, t.me, &r), FX_EINVAL);
    bi_expect(fx_crash_capture_wait(NULL, t.vm, 0, 0), FX_EINVAL);
    fx_crash_capture *cap;
    cr_assert_eq(fx_crash_capture_create(&cap), 0);
    bi_expect(fx_crash_capture_get(cap, 0, NULL), FX_EINVAL);
    fx_crash_capture_destroy(cap);
    bi_end(&t);
}

Test(bi_testing, capture_missing,
     .description = "fx_crash_capture_get, _find | index past the end; a pid never "
                    "reported (stale, garbage) | FX_ENOENT")
{
    tvm t = bi_start();
    fx_crash_capture *cap;
    cr_assert_eq(fx_crash_capture_create(&cap), 0);
    fx_captured_report r;
    bi_expect(fx_crash_capture_get(cap, 0, &r), FX_ENOENT);
    bi_expect(fx_crash_capture_get(cap, UINT32_MAX, &r), FX_ENOENT);
    bi_expect(fx_crash_capture_find(cap, bi_stale(&t), &r), FX_ENOENT);
    bi_expect(fx_crash_capture_find(cap, BI_GARBAGE_PID, NULL), FX_ENOENT);
    fx_crash_capture_destroy(cap);
    bi_end(&t);
}

static int run_capture_wait(fx_ctx *cx, void *arg)
{
    return fx_crash_capture_wait(arg, fx_ctx_vm(cx), 1, 0);
}

Test(bi_testing, capture_wait_bad,
     .description =
         "fx_crash_capture_wait | n > INT32_MAX; in a handler; absurd timeouts "
         "with n 0 | FX_EINVAL; FX_EWOULDBLOCK; the count at once")
{
    tvm t = bi_start();
    fx_crash_capture *cap;
    cr_assert_eq(fx_crash_capture_create(&cap), 0);
    bi_expect(fx_crash_capture_wait(cap, t.vm, (uint32_t) INT32_MAX + 1, 0), FX_EINVAL);
    bi_expect(bi_in_handler(&t, run_capture_wait, cap), FX_EWOULDBLOCK);
    for (int i = 0; i < BI_ABSURD_N; i++)
        bi_expect(fx_crash_capture_wait(cap, t.vm, 0, bi_absurd[i]), 0);
    fx_crash_capture_destroy(cap);
    bi_end(&t);
}

/* --- waiting and receiving -------------------------------------------------- */

static bool yes(void *arg)
{
    (void) arg;
    return true;
}

static int run_wait_for(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_wait_for(fx_ctx_vm(cx), yes, NULL, 0);
}

Test(bi_testing, wait_for_bad,
     .description = "fx_wait_for | pred NULL; in a handler; absurd timeouts with a true "
                    "pred | FX_EINVAL; FX_EWOULDBLOCK; 0 at once")
{
    tvm t = bi_start();
    bi_expect(fx_wait_for(t.vm, NULL, NULL, 0), FX_EINVAL);
    bi_expect(fx_wait_for(NULL, NULL, NULL, 0), FX_EINVAL);
    bi_expect(bi_in_handler(&t, run_wait_for, NULL), FX_EWOULDBLOCK);
    for (int i = 0; i < BI_ABSURD_N; i++)
        bi_expect(fx_wait_for(t.vm, yes, NULL, bi_absurd[i]), 0);
    bi_end(&t);
}

Test(bi_testing, receive_null,
     .description = "fx_assert_receive, fx_refute_receive, fx_assert_receive_at, "
                    "fx_refute_receive_at | ib NULL; file NULL | FX_EINVAL "
                    "(file NULL prints \"?\")")
{
    tvm t = bi_start();
    fx_msg *m = (fx_msg *) 1;
    bi_expect(fx_assert_receive(NULL, NULL, 0, &m), FX_EINVAL);
    cr_assert_null(m);
    bi_expect(fx_refute_receive(NULL, NULL, 0, NULL), FX_EINVAL);
    bi_expect(fx_assert_receive_at(NULL, NULL, 0, NULL, NULL, 0), FX_EINVAL);
    bi_expect(fx_refute_receive_at(NULL, NULL, 0, NULL, NULL, 0), FX_EINVAL);
    bi_end(&t);
}

static int run_assert_receive(fx_ctx *cx, void *arg)
{
    (void) cx;
    return fx_assert_receive(arg, NULL, 0, NULL);
}

Test(bi_testing, receive_in_handler,
     .description = "fx_assert_receive, fx_refute_receive | in a handler; absurd "
                    "timeouts with a message queued | FX_EWOULDBLOCK; 0 / FX_EEXIST")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_assert_receive, t.in), FX_EWOULDBLOCK);
    for (int i = 0; i < BI_ABSURD_N; i++) {
        cr_assert_eq(fx_vm_send(t.vm, t.me, 3, NULL, 0), 0);
        bi_expect(fx_assert_receive(t.in, &(fx_match){.type = 3}, bi_absurd[i], NULL), 0);
        cr_assert_eq(fx_vm_send(t.vm, t.me, 3, NULL, 0), 0);
        bi_expect(fx_refute_receive(t.in, &(fx_match){.type = 3}, bi_absurd[i], NULL),
                  FX_EEXIST);
    }
    bi_end(&t);
}

/* --- the probe ------------------------------------------------------------- */

Test(bi_testing, probe_null,
     .description = "fx_probe_start, _count, _get, _wait, _pid | NULL vm, out or probe | "
                    "FX_EINVAL (pid: FX_PID_NONE)")
{
    tvm t = bi_start();
    fx_probe *p = NULL;
    bi_expect(fx_probe_start(NULL, &p), FX_EINVAL);
    bi_expect(fx_probe_start(t.vm, NULL), FX_EINVAL);
    bi_expect(fx_probe_count(NULL), FX_EINVAL);
    fx_probe_msg pm;
    bi_expect(fx_probe_get(NULL, 0, &pm), FX_EINVAL);
    bi_expect(fx_probe_wait(NULL, 0, 0), FX_EINVAL);
    cr_assert(fx_pid_is_none(fx_probe_pid(NULL)));
    cr_assert_eq(fx_probe_start(t.vm, &p), 0);
    bi_expect(fx_probe_get(p, 0, NULL), FX_EINVAL);
    bi_expect(fx_probe_get(p, 0, &pm), FX_ENOENT);
    bi_expect(fx_probe_wait(p, (uint32_t) INT32_MAX + 1, 0), FX_EINVAL);
    fx_probe_destroy(p);
    bi_end(&t);
}

Test(bi_testing, probe_after_shutdown,
     .description = "fx_probe_start | VM after shutdown | FX_ESHUTDOWN")
{
    fx_vm *dead = bi_dead_vm(NULL);
    fx_probe *p = NULL;
    bi_expect(fx_probe_start(dead, &p), FX_ESHUTDOWN);
    cr_assert_null(p);
    fx_vm_destroy(dead);
    tvm t = bi_start();
    bi_end(&t);
}

/* --- deterministic mode ----------------------------------------------------- */

Test(bi_testing, det_null,
     .description =
         "fx_test_step, _run_until_idle, _run, _advance, _advance_run, _now_ms, "
         "_schedule | vm NULL | FX_EINVAL")
{
    tvm t = bi_start();
    uint64_t n;
    bi_expect(fx_test_step(NULL), FX_EINVAL);
    bi_expect(fx_test_run_until_idle(NULL), FX_EINVAL);
    bi_expect(fx_test_run(NULL, 1, &n), FX_EINVAL);
    bi_expect(fx_test_advance(NULL, 1), FX_EINVAL);
    bi_expect(fx_test_advance_run(NULL, 1), FX_EINVAL);
    bi_expect(fx_test_now_ms(NULL), FX_EINVAL);
    bi_expect(fx_test_schedule(NULL, &n, &n), FX_EINVAL);
    bi_end(&t);
}

Test(bi_testing, det_not_det,
     .description =
         "fx_test_step, _run_until_idle, _run, _advance, _advance_run, _now_ms, "
         "_schedule | a VM without deterministic mode | FX_ENOTDET")
{
    tvm t = bi_start();
    uint64_t n;
    bi_expect(fx_test_step(t.vm), FX_ENOTDET);
    bi_expect(fx_test_run_until_idle(t.vm), FX_ENOTDET);
    bi_expect(fx_test_run(t.vm, 1, &n), FX_ENOTDET);
    bi_expect(fx_test_advance(t.vm, 1), FX_ENOTDET);
    bi_expect(fx_test_advance_run(t.vm, 1), FX_ENOTDET);
    bi_expect(fx_test_now_ms(t.vm), FX_ENOTDET);
    bi_expect(fx_test_schedule(t.vm, &n, &n), FX_ENOTDET);
    bi_end(&t);
}

Test(bi_testing, det_config,
     .description = "fx_vm_create | cfg deterministic with threads 2 | "
                    "FX_EINVAL")
{
    tvm t = bi_start();
    fx_vm_config c = bi_config();
    c.deterministic = true;
    fx_vm *vm = NULL;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    bi_end(&t);
}

Test(bi_testing, det_advance_bad,
     .description = "fx_test_advance, _advance_run | ms -1, INT64_MIN; absurd ms | "
                    "FX_EINVAL; 0 (FX_TIMEOUT_MAX)")
{
    fx_vm *vm = det_start();
    bi_expect(fx_test_advance(vm, -1), FX_EINVAL);
    bi_expect(fx_test_advance(vm, INT64_MIN), FX_EINVAL);
    bi_expect(fx_test_advance_run(vm, -1), FX_EINVAL);
    bi_expect(fx_test_advance(vm, INT64_MAX), 0);
    cr_assert_eq(fx_test_now_ms(vm), FX_TIMEOUT_MAX);
    bi_expect(fx_test_advance_run(vm, bi_absurd[0]), 0);
    bi_expect(fx_test_run(vm, 0, NULL), 0);
    bi_expect(fx_test_schedule(vm, NULL, NULL), 0);
    det_end(vm);
}

static fx_next step_in_handler(fx_ctx *cx, fx_msg *m)
{
    int64_t rc = fx_test_step(fx_ctx_vm(cx));
    if (rc == FX_ECONTEXT)
        rc = fx_test_advance(fx_ctx_vm(cx), 1);
    fx_send(cx, fx_msg_from(m), BI_RESULT, &rc, sizeof rc);
    return fx_continue(cx);
}

Test(bi_testing, det_in_handler,
     .description = "fx_test_step, _advance | in a handler | FX_ECONTEXT")
{
    fx_vm *vm = det_start();
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(vm, step_in_handler, NULL, &p), 0);
    cr_assert_eq(fx_inbox_send(ib, p, 1, NULL, 0), 0);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(ib, &(fx_match){.type = BI_RESULT}, 1000, &m), 0);
    bi_expect(*(const int64_t *) fx_msg_data(m), FX_ECONTEXT);
    fx_msg_free(m);
    fx_inbox_destroy(ib);
    det_end(vm);
}

Test(bi_testing, det_after_shutdown,
     .description = "fx_test_step, _run_until_idle, _advance | VM after shutdown | "
                    "FX_ESHUTDOWN")
{
    fx_vm *vm = det_start();
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    bi_expect(fx_test_step(vm), FX_ESHUTDOWN);
    bi_expect(fx_test_run_until_idle(vm), FX_ESHUTDOWN);
    bi_expect(fx_test_advance(vm, 1), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(
    bi_testing, seed_env,
    .description = "fx_test_seed | FX_TEST_SEED empty, malformed (\"12x\", \"-\") | dflt")
{
    tvm t = bi_start();
    setenv("FX_TEST_SEED", "", 1);
    cr_assert_eq(fx_test_seed(5), 5);
    setenv("FX_TEST_SEED", "12x", 1);
    cr_assert_eq(fx_test_seed(5), 5);
    setenv("FX_TEST_SEED", "-", 1);
    cr_assert_eq(fx_test_seed(5), 5);
    unsetenv("FX_TEST_SEED");
    bi_end(&t);
}
