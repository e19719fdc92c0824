/* Finding and replaying a race with the deterministic mode
 * (docs/testing.md). Two actors increment a counter actor with GET then
 * PUT: a read-modify-write that loses an update when both read before
 * either writes. The test tries seeds until one loses an update, then
 * replays that seed and checks it gives the same result on the same
 * schedule. FX_TEST_SEED=N runs seed N only. */
#include <fauxtp/fauxtp.h>
#include <fauxtp/testing.h>
#include <stdio.h>

enum { GET = 1, PUT, VALUE, GO };

static fx_next counter(fx_ctx *cx, fx_msg *m)
{
    long *value = fx_state(cx);
    if (fx_msg_type(m) == GET)
        fx_send(cx, fx_msg_from(m), VALUE, value, sizeof *value);
    else if (fx_msg_type(m) == PUT)
        *value = *(const long *) fx_msg_data(m);
    return fx_continue(cx);
}

/* An incrementer's state is the counter's pid. */
static fx_next got_value(fx_ctx *cx, fx_msg *m)
{
    long v = *(const long *) fx_msg_data(m) + 1;
    fx_send(cx, *(const fx_pid *) fx_state(cx), PUT, &v, sizeof v);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next incrementer(fx_ctx *cx, fx_msg *m)
{
    (void) m; /* GO */
    fx_send(cx, *(const fx_pid *) fx_state(cx), GET, NULL, 0);
    return fx_receive(cx, got_value, &(fx_match){.type = VALUE}, FX_INFINITY);
}

/* One run under seed: the counter's final value; the schedule in *steps
 * and *hash. */
static long run(uint64_t seed, uint64_t *steps, uint64_t *hash)
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.deterministic = true;
    cfg.seed = seed;
    fx_vm *vm;
    fx_inbox *me;
    if (fx_test_vm_create(&cfg, NULL, &vm) || fx_inbox_create(vm, &me))
        return -1;
    fx_pid c, inc[2];
    fx_spawn_opts o = {.handler = counter, .state_size = sizeof(long)};
    fx_vm_spawn_opt(vm, &o, &c);
    for (int i = 0; i < 2; i++) {
        fx_spawn_opts io = {
            .handler = incrementer, .state_size = sizeof c, .state_init = &c};
        fx_vm_spawn_opt(vm, &io, &inc[i]);
        fx_vm_send(vm, inc[i], GO, NULL, 0);
    }
    fx_test_run_until_idle(vm); /* both incrementers are done */
    fx_inbox_send(me, c, GET, NULL, 0);
    fx_msg *reply = NULL; /* the receive runs the VM until the reply comes */
    long value = -1;
    if (FX_ASSERT_RECEIVE(me, &(fx_match){.type = VALUE}, 1000, &reply) == 0)
        value = *(const long *) fx_msg_data(reply);
    fx_msg_free(reply);
    fx_test_schedule(vm, steps, hash);
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return value;
}

int main(void)
{
    uint64_t first = fx_test_seed(1), last = fx_test_seed(0) ? first : 200, bad = 0;
    uint64_t steps, hash;
    for (uint64_t seed = first; seed <= last && !bad; seed++)
        if (run(seed, &steps, &hash) != 2)
            bad = seed;
    if (!bad) {
        printf("no seed in %llu..%llu loses an update\n", (unsigned long long) first,
               (unsigned long long) last);
        return 1;
    }
    long v1 = run(bad, &steps, &hash);
    uint64_t steps2, hash2;
    long v2 = run(bad, &steps2, &hash2);
    printf("seed %llu loses an update: counter = %ld\n", (unsigned long long) bad, v1);
    printf("replayed: counter = %ld, %s schedule (%llu steps)\n", v2,
           steps == steps2 && hash == hash2 ? "the same" : "a DIFFERENT",
           (unsigned long long) steps2);
    printf("rerun it alone with FX_TEST_SEED=%llu\n", (unsigned long long) bad);
    return v1 == 1 && v2 == v1 && steps == steps2 && hash == hash2 ? 0 : 1;
}
