/* Deterministic mode (<fauxtp/testing.h>, docs/testing.md): one seed,
 * one schedule; the manual clock; blocking calls from the test thread
 * drive the VM. */
#include <criterion/criterion.h>
#include <fauxtp/fauxtp.h>
#include <fauxtp/testing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fx_vm *det_vm(uint64_t seed, fx_crash_capture *cap)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.deterministic = true;
    c.seed = seed;
    fx_vm *vm = NULL;
    int rc = fx_test_vm_create(&c, cap, &vm);
    cr_assert_eq(rc, 0, "create: %s", fx_err_name(rc));
    return vm;
}

/* ---- racing senders ------------------------------------------------------- */

#define SENDERS 10
#define ROUNDS 3
#define GO 1u
#define NOTE 2u

typedef struct sender {
    fx_pid probe;
    uint32_t id, k;
} sender;

/* Each handler call sends one note (id, k) to the probe and a GO to
 * itself, so the senders' notes interleave as the scheduler picks them. */
static fx_next sender_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    sender *s = fx_state(cx);
    uint32_t note[2] = {s->id, s->k};
    fx_send(cx, s->probe, NOTE, note, sizeof note);
    if (++s->k == ROUNDS)
        return fx_stop(cx, fx_reason_normal());
    fx_send(cx, fx_self(cx), GO, NULL, 0);
    return fx_continue(cx);
}

/* Runs the race under seed and writes the notes' order (id * ROUNDS + k)
 * to trace; returns the schedule hash. */
static uint64_t race(uint64_t seed, uint32_t trace[SENDERS * ROUNDS])
{
    fx_vm *vm = det_vm(seed, NULL);
    fx_probe *probe = NULL;
    cr_assert_eq(fx_probe_start(vm, &probe), 0);
    sender st[SENDERS];
    for (uint32_t i = 0; i < SENDERS; i++) {
        st[i] = (sender){.probe = fx_probe_pid(probe), .id = i};
        fx_pid p;
        cr_assert_eq(fx_vm_spawn(vm, sender_go, &st[i], &p), 0);
        cr_assert_eq(fx_vm_send(vm, p, GO, NULL, 0), 0);
    }
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    cr_assert_eq(fx_probe_count(probe), SENDERS * ROUNDS);
    uint32_t next_k[SENDERS] = {0};
    for (uint32_t i = 0; i < SENDERS * ROUNDS; i++) {
        fx_probe_msg pm;
        cr_assert_eq(fx_probe_get(probe, i, &pm), 0);
        cr_assert_eq(pm.type, NOTE);
        cr_assert_eq(pm.size, 2 * sizeof(uint32_t));
        uint32_t note[2];
        memcpy(note, pm.data, sizeof note);
        cr_assert_lt(note[0], SENDERS);
        cr_assert_eq(note[1], next_k[note[0]]++, "per-sender order is kept");
        trace[i] = note[0] * ROUNDS + note[1];
    }
    uint64_t steps = 0, hash = 0;
    cr_assert_eq(fx_test_schedule(vm, &steps, &hash), 0);
    cr_assert_gt(steps, 0);
    fx_probe_destroy(probe);
    fx_vm_destroy(vm);
    return hash;
}

Test(det, same_seed_same_trace)
{
    uint32_t a[SENDERS * ROUNDS], b[SENDERS * ROUNDS];
    for (uint64_t seed = 1; seed <= 3; seed++) {
        uint64_t ha = race(seed, a), hb = race(seed, b);
        cr_assert_eq(ha, hb, "seed %llu: schedule hashes differ",
                     (unsigned long long) seed);
        cr_assert_arr_eq(a, b, sizeof a, "seed %llu: traces differ",
                         (unsigned long long) seed);
    }
}

Test(det, different_seeds_different_traces)
{
    uint32_t first[SENDERS * ROUNDS], t[SENDERS * ROUNDS];
    race(1, first);
    int differ = 0;
    for (uint64_t seed = 2; seed <= 6; seed++) {
        race(seed, t);
        differ += memcmp(first, t, sizeof t) != 0;
    }
    /* 30 notes from 10 senders: five seeds all giving seed 1's order
     * would mean the seed does not reach the choice. */
    cr_assert_gt(differ, 0, "every seed gave the same order");
}

/* ---- the manual clock ----------------------------------------------------- */

typedef struct ticker {
    fx_pid probe;
    int64_t every_ms;
    uint32_t fired;
} ticker;

static fx_next ticker_tick(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    ticker *t = fx_state(cx);
    t->fired++;
    fx_send(cx, t->probe, NOTE, &t->fired, sizeof t->fired);
    fx_send_after(cx, t->every_ms, fx_self(cx), GO, NULL, 0, NULL);
    return fx_continue(cx);
}

Test(det, timers_fire_only_on_advance)
{
    fx_vm *vm = det_vm(7, NULL);
    fx_probe *probe = NULL;
    cr_assert_eq(fx_probe_start(vm, &probe), 0);
    cr_assert_eq(fx_test_now_ms(vm), 0);
    fx_timer tm;
    cr_assert_eq(fx_vm_send_after(vm, 100, fx_probe_pid(probe), NOTE, NULL, 0, &tm), 0);
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    cr_assert_eq(fx_probe_count(probe), 0, "fired without an advance");
    cr_assert_eq(fx_read_timer(vm, tm), 100);
    cr_assert_eq(fx_test_advance(vm, 99), 0);
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    cr_assert_eq(fx_probe_count(probe), 0, "fired 1 ms early");
    cr_assert_eq(fx_read_timer(vm, tm), 1);
    cr_assert_eq(fx_test_advance(vm, 1), 0);
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    cr_assert_eq(fx_probe_count(probe), 1);
    cr_assert_eq(fx_test_now_ms(vm), 100);
    fx_probe_destroy(probe);
    fx_vm_destroy(vm);
}

Test(det, advance_run_fires_rearmed_timers_in_order)
{
    fx_vm *vm = det_vm(3, NULL);
    fx_probe *probe = NULL;
    cr_assert_eq(fx_probe_start(vm, &probe), 0);
    ticker t = {.probe = fx_probe_pid(probe), .every_ms = 10};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(vm, ticker_tick, &t, &p), 0);
    cr_assert_eq(fx_vm_send(vm, p, GO, NULL, 0), 0);
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    cr_assert_eq(fx_probe_count(probe), 1); /* the first GO */
    /* 100 ms in stages: a tick every 10 ms, ten of them. */
    cr_assert_eq(fx_test_advance_run(vm, 100), 0);
    cr_assert_eq(fx_probe_count(probe), 11);
    /* A jump fires what is due once; the re-armed timer waits. */
    cr_assert_eq(fx_test_advance(vm, 100), 0);
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    cr_assert_eq(fx_probe_count(probe), 12);
    fx_probe_destroy(probe);
    fx_vm_destroy(vm);
}

static fx_next waiter_got(fx_ctx *cx, fx_msg *m)
{
    fx_pid *probe = fx_state(cx);
    fx_send(cx, *probe, fx_msg_type(m) == FX_MSG_TIMEOUT ? 99u : 98u, NULL, 0);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next waiter_start(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_receive(cx, waiter_got, &(fx_match){.type = 12345}, 50);
}

Test(det, receive_timeout_follows_the_manual_clock)
{
    fx_vm *vm = det_vm(5, NULL);
    fx_probe *probe = NULL;
    cr_assert_eq(fx_probe_start(vm, &probe), 0);
    fx_pid pp = fx_probe_pid(probe), w;
    cr_assert_eq(fx_vm_spawn(vm, waiter_start, &pp, &w), 0);
    cr_assert_eq(fx_vm_send(vm, w, GO, NULL, 0), 0);
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    cr_assert_eq(fx_test_advance(vm, 49), 0);
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    cr_assert_eq(fx_probe_count(probe), 0);
    cr_assert_eq(fx_test_advance_run(vm, 1), 0);
    cr_assert_eq(fx_probe_count(probe), 1);
    fx_probe_msg pm;
    cr_assert_eq(fx_probe_get(probe, 0, &pm), 0);
    cr_assert_eq(pm.type, 99u, "the waiter got its TIMEOUT");
    fx_probe_destroy(probe);
    fx_vm_destroy(vm);
}

/* ---- blocking calls from the test thread ---------------------------------- */

static fx_gs_ret add_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = calloc(1, sizeof(int64_t));
    return fx_gs_ok(cx);
}

static fx_gs_ret add_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                          const void *data, size_t size)
{
    (void) from;
    (void) type;
    int64_t *sum = state, v = 0;
    if (size == sizeof v)
        memcpy(&v, data, sizeof v);
    *sum += v;
    return fx_gs_reply(cx, sum, sizeof *sum);
}

static void add_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm;
    (void) reason;
    free(state);
}

static const fx_gs_ops add_ops = {
    .init = add_init, .handle_call = add_call, .terminate = add_terminate};

Test(det, genserver_start_and_call_from_the_test_thread)
{
    fx_vm *vm = det_vm(11, NULL);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_pid srv;
    fx_gs_spec spec = {.ops = &add_ops};
    int rc = fx_gs_start(ib, &spec, &srv, NULL);
    cr_assert_eq(rc, 0, "start: %s", fx_err_name(rc));
    for (int64_t i = 1; i <= 5; i++) {
        fx_msg *reply = NULL;
        rc = fx_gs_call(ib, srv, 1, &i, sizeof i, 1000, &reply, NULL);
        cr_assert_eq(rc, 0, "call: %s", fx_err_name(rc));
        int64_t sum;
        memcpy(&sum, fx_msg_data(reply), sizeof sum);
        cr_assert_eq(sum, i * (i + 1) / 2);
        fx_msg_free(reply);
    }
    /* Idle with nothing to come: a receive ends at once, even with an
     * infinite timeout, instead of hanging the test. */
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(ib, NULL, FX_INFINITY, &m), FX_ETIMEDOUT);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
}

/* ---- crashes, errors ------------------------------------------------------ */

static fx_next crasher(fx_ctx *cx, fx_msg *m)
{
    uint32_t n = 0;
    memcpy(&n, fx_msg_data(m), sizeof n);
    fx_crash(cx, "boom %u", n);
}

Test(det, crash_in_a_step_is_captured_and_the_run_goes_on)
{
    fx_crash_capture *cap;
    cr_assert_eq(fx_crash_capture_create(&cap), 0);
    fx_vm *vm = det_vm(2, cap);
    fx_pid p[3];
    for (uint32_t i = 0; i < 3; i++) {
        cr_assert_eq(fx_vm_spawn(vm, crasher, NULL, &p[i]), 0);
        cr_assert_eq(fx_vm_send(vm, p[i], 1, &i, sizeof i), 0);
    }
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    cr_assert_eq(fx_crash_capture_count(cap), 3);
    for (uint32_t i = 0; i < 3; i++) {
        fx_captured_report r;
        cr_assert_eq(fx_crash_capture_find(cap, p[i], &r), 0);
        cr_assert_eq(r.reason.code, FX_ECRASHED);
        char want[16];
        snprintf(want, sizeof want, "boom %u", i);
        cr_assert_str_eq(r.reason.text, want);
        cr_assert_eq(fx_is_alive(vm, p[i]), 0);
    }
    fx_vm_destroy(vm);
    fx_crash_capture_destroy(cap);
}

static fx_next step_inside(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    int rc = fx_test_step(fx_ctx_vm(cx));
    fx_send(cx, fx_msg_from(m), 5, &rc, sizeof rc);
    return fx_continue(cx);
}

Test(det, errors)
{
    cr_assert_eq(fx_test_step(NULL), FX_EINVAL);
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    fx_vm *plain;
    cr_assert_eq(fx_test_vm_create(&c, NULL, &plain), 0);
    cr_assert_eq(fx_test_step(plain), FX_ENOTDET);
    cr_assert_eq(fx_test_run_until_idle(plain), FX_ENOTDET);
    cr_assert_eq(fx_test_advance(plain, 1), FX_ENOTDET);
    cr_assert_eq(fx_test_now_ms(plain), FX_ENOTDET);
    fx_vm_destroy(plain);
    c.deterministic = true;
    c.threads = 2;
    cr_assert_eq(fx_vm_create(&c, &plain), FX_EINVAL,
                 "two threads in deterministic mode");
    fx_vm *vm = det_vm(1, NULL);
    cr_assert_eq(fx_test_advance(vm, -1), FX_EINVAL);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(vm, step_inside, NULL, &p), 0);
    cr_assert_eq(fx_inbox_send(ib, p, 1, NULL, 0), 0);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(ib, &(fx_match){.type = 5}, 1000, &m), 0);
    int rc;
    memcpy(&rc, fx_msg_data(m), sizeof rc);
    cr_assert_eq(rc, FX_ECONTEXT, "a step from inside a handler");
    fx_msg_free(m);
    fx_inbox_destroy(ib);
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    cr_assert_eq(fx_test_step(vm), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
}

Test(det, seed_from_env)
{
    unsetenv("FX_TEST_SEED");
    cr_assert_eq(fx_test_seed(42), 42);
    setenv("FX_TEST_SEED", "0x10", 1);
    cr_assert_eq(fx_test_seed(42), 16);
    setenv("FX_TEST_SEED", "12abc", 1);
    cr_assert_eq(fx_test_seed(42), 42);
    unsetenv("FX_TEST_SEED");
}

/* ---- supervision and the registry ----------------------------------------- */

static fx_next idle_worker(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

Test(det, supervisor_restarts_replay)
{
    fx_crash_capture *cap;
    cr_assert_eq(fx_crash_capture_create(&cap), 0);
    fx_vm *vm = det_vm(4, cap);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    static const fx_spawn_opts worker = {.handler = idle_worker};
    fx_child_spec kids[2] = {
        {.id = "a", .start = fx_child_actor, .carg = &worker},
        {.id = "b", .start = fx_child_actor, .carg = &worker},
    };
    fx_sup_spec spec;
    fx_sup_spec_init(&spec);
    spec.children = kids;
    spec.nchildren = 2;
    fx_pid sup;
    int rc = fx_sup_start(ib, &spec, &sup, NULL);
    cr_assert_eq(rc, 0, "sup start: %s", fx_err_name(rc));
    fx_child_info info[2];
    cr_assert_eq(fx_sup_which_children(ib, sup, info, 2, 1000), 2);
    fx_pid old_a = info[0].pid;
    cr_assert_eq(fx_vm_exit(vm, old_a, fx_reason_error(FX_ECRASHED, "test")), 0);
    cr_assert_eq(fx_test_run_until_idle(vm), 0);
    cr_assert_eq(fx_sup_which_children(ib, sup, info, 2, 1000), 2);
    cr_assert_neq(info[0].pid.id, old_a.id, "a was restarted");
    cr_assert_eq(fx_is_alive(vm, info[0].pid), 1);
    /* The registry works from the test thread too. */
    cr_assert_eq(fx_register(ib, "sup", sup, NULL), 0);
    fx_pid found;
    cr_assert_eq(fx_whereis(vm, "sup", &found), 0);
    cr_assert_eq(found.id, sup.id);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
    fx_crash_capture_destroy(cap);
}
