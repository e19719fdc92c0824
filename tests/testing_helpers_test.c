/* Testing helpers (<fauxtp/testing.h>) on an ordinary, threaded VM: the
 * quiet VM with crash capture, assert/refute receive, wait_for, the
 * probe. */
#include <criterion/criterion.h>
#include <fauxtp/fauxtp.h>
#include <fauxtp/testing.h>
#include <string.h>

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), fx_msg_type(m), fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

static fx_next crash_on(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    fx_crash(cx, "on purpose");
}

static fx_vm *quiet(fx_crash_capture *cap)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    fx_vm *vm = NULL;
    cr_assert_eq(fx_test_vm_create(&c, cap, &vm), 0);
    return vm;
}

Test(testing_helpers, capture_records_crashes)
{
    fx_crash_capture *cap;
    cr_assert_eq(fx_crash_capture_create(&cap), 0);
    fx_vm *vm = quiet(cap);
    fx_spawn_opts o = {.handler = crash_on, .label = "crasher"};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(vm, &o, &p), 0);
    cr_assert_eq(fx_vm_send(vm, p, 1, NULL, 0), 0);
    cr_assert_eq(fx_crash_capture_wait(cap, vm, 1, 10000), 1);
    fx_captured_report r;
    cr_assert_eq(fx_crash_capture_get(cap, 0, &r), 0);
    cr_assert_eq(r.pid.id, p.id);
    cr_assert_eq(r.kind, FX_REPORT_CRASH);
    cr_assert_eq(r.reason.code, FX_ECRASHED);
    cr_assert_str_eq(r.reason.text, "on purpose");
    cr_assert_str_eq(r.label, "crasher");
    cr_assert_eq(fx_crash_capture_get(cap, 1, &r), FX_ENOENT);
    cr_assert_eq(fx_crash_capture_find(cap, p, NULL), 0);
    cr_assert_eq(fx_crash_capture_find(cap, FX_PID_NONE, NULL), FX_ENOENT);
    fx_crash_capture_clear(cap);
    cr_assert_eq(fx_crash_capture_count(cap), 0);
    fx_vm_destroy(vm);
    fx_crash_capture_destroy(cap);
}

Test(testing_helpers, capture_waits_time_out)
{
    fx_crash_capture *cap;
    cr_assert_eq(fx_crash_capture_create(&cap), 0);
    fx_vm *vm = quiet(cap);
    cr_assert_eq(fx_crash_capture_wait(cap, vm, 1, 20), FX_ETIMEDOUT);
    fx_vm_destroy(vm);
    fx_crash_capture_destroy(cap);
}

Test(testing_helpers, assert_and_refute_receive)
{
    fx_vm *vm = quiet(NULL);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(vm, echo, NULL, &p), 0);
    uint64_t v = 77;
    cr_assert_eq(fx_inbox_send(ib, p, 3, &v, sizeof v), 0);
    fx_msg *m = NULL;
    cr_assert_eq(FX_ASSERT_RECEIVE(ib, &(fx_match){.type = 3, .from = p}, 10000, &m), 0);
    cr_assert_eq(*(const uint64_t *) fx_msg_data(m), 77);
    fx_msg_free(m);
    /* Nothing more comes: refute holds, assert fails with a timeout. */
    cr_assert_eq(FX_REFUTE_RECEIVE(ib, NULL, 20, NULL), 0);
    cr_assert_eq(FX_ASSERT_RECEIVE(ib, &(fx_match){.type = 3}, 20, NULL), FX_ETIMEDOUT);
    /* A message that does come fails the refute and is handed over. */
    cr_assert_eq(fx_inbox_send(ib, p, 4, &v, sizeof v), 0);
    fx_msg *got = NULL;
    cr_assert_eq(FX_REFUTE_RECEIVE(ib, &(fx_match){.type = 4}, 10000, &got), FX_EEXIST);
    cr_assert_not_null(got);
    cr_assert_eq(fx_msg_type(got), 4);
    fx_msg_free(got);
    cr_assert_eq(fx_assert_receive(NULL, NULL, 0, NULL), FX_EINVAL);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
}

static bool flag_set(void *arg)
{
    return __atomic_load_n((int *) arg, __ATOMIC_ACQUIRE) != 0;
}

static fx_next set_flag(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    __atomic_store_n((int *) fx_state(cx), 1, __ATOMIC_RELEASE);
    return fx_continue(cx);
}

Test(testing_helpers, wait_for)
{
    fx_vm *vm = quiet(NULL);
    int flag = 0;
    cr_assert_eq(fx_wait_for(vm, flag_set, &flag, 20), FX_ETIMEDOUT);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(vm, set_flag, &flag, &p), 0);
    cr_assert_eq(fx_vm_send(vm, p, 1, NULL, 0), 0);
    cr_assert_eq(fx_wait_for(vm, flag_set, &flag, 10000), 0);
    cr_assert_eq(fx_wait_for(NULL, flag_set, &flag, 0), 0, "no VM: just polls");
    cr_assert_eq(fx_wait_for(vm, NULL, NULL, 0), FX_EINVAL);
    fx_vm_destroy(vm);
}

Test(testing_helpers, probe_records_copies)
{
    fx_vm *vm = quiet(NULL);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_probe *probe;
    cr_assert_eq(fx_probe_start(vm, &probe), 0);
    fx_pid pp = fx_probe_pid(probe);
    for (uint32_t i = 0; i < 100; i++)
        cr_assert_eq(fx_inbox_send(ib, pp, 10 + i % 3, &i, sizeof i), 0);
    cr_assert_eq(fx_probe_wait(probe, 100, 10000), 100);
    for (uint32_t i = 0; i < 100; i++) {
        fx_probe_msg pm;
        cr_assert_eq(fx_probe_get(probe, i, &pm), 0);
        cr_assert_eq(pm.type, 10 + i % 3);
        cr_assert_eq(pm.from.id, fx_inbox_pid(ib).id);
        cr_assert_eq(pm.size, sizeof i);
        cr_assert_eq(*(const uint32_t *) pm.data, i, "in order, payload copied");
    }
    fx_probe_msg pm;
    cr_assert_eq(fx_probe_get(probe, 100, &pm), FX_ENOENT);
    fx_probe_clear(probe);
    cr_assert_eq(fx_probe_count(probe), 0);
    /* It sees system messages too: a DOWN of a monitored process. */
    fx_probe_destroy(probe);
    cr_assert_eq(fx_wait_for(vm, NULL, NULL, 0), FX_EINVAL);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
}

Test(testing_helpers, probe_outlives_its_vm)
{
    fx_vm *vm = quiet(NULL);
    fx_probe *probe;
    cr_assert_eq(fx_probe_start(vm, &probe), 0);
    cr_assert_eq(fx_vm_send(vm, fx_probe_pid(probe), 1, "x", 1), 0);
    cr_assert_eq(fx_probe_wait(probe, 1, 10000), 1);
    fx_vm_destroy(vm); /* the probe process exits; its record stays */
    fx_probe_msg pm;
    cr_assert_eq(fx_probe_get(probe, 0, &pm), 0);
    cr_assert_eq(memcmp(pm.data, "x", 1), 0);
    fx_probe_destroy(probe);
}
