/* Shared test fixtures: a started VM and an inbox to collect results. */
#ifndef FAUXTP_TEST_HELPERS_H
#define FAUXTP_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <fauxtp/fauxtp.h>
#include <string.h>

typedef struct tvm {
    fx_vm *vm;
    fx_inbox *in;
    fx_pid me; /* the inbox's pid */
} tvm;

static inline tvm tvm_start_with(const fx_vm_config *c)
{
    tvm t;
    cr_assert_eq(fx_vm_create(c, &t.vm), 0);
    cr_assert_eq(fx_vm_start(t.vm), 0);
    cr_assert_eq(fx_inbox_create(t.vm, &t.in), 0);
    t.me = fx_inbox_pid(t.in);
    return t;
}

static inline tvm tvm_start(uint32_t threads)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = threads;
    return tvm_start_with(&c);
}

/* The same without crash or supervisor reports, for tests that crash
 * actors on purpose. */
static inline tvm tvm_start_quiet(uint32_t threads)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = threads;
    c.crash_logger = fx_crash_logger_silent;
    c.log_sink = fx_log_sink_silent;
    return tvm_start_with(&c);
}

static inline void tvm_stop(tvm *t)
{
    fx_inbox_destroy(t->in);
    cr_assert_eq(fx_vm_shutdown(t->vm), 0);
    fx_vm_destroy(t->vm);
}

/* Receives one message of `type` (0: any) within 10 s; fails the test
 * otherwise. The caller frees it. */
static inline fx_msg *tvm_recv(tvm *t, uint32_t type)
{
    fx_match m = {.type = type};
    fx_msg *msg = NULL;
    int rc = fx_inbox_recv(t->in, &m, 10000, &msg);
    cr_assert_eq(rc, 0, "inbox receive: %s", fx_strerror(rc));
    return msg;
}

/* Receives a message of `type` carrying a uint64_t and returns it. */
static inline uint64_t tvm_recv_u64(tvm *t, uint32_t type)
{
    fx_msg *m = tvm_recv(t, type);
    uint64_t v = 0;
    cr_assert_geq(fx_msg_size(m), sizeof v);
    memcpy(&v, fx_msg_data(m), sizeof v);
    fx_msg_free(m);
    return v;
}

static inline fx_pid spawn_state(fx_vm *vm, fx_handler h, const void *init, size_t size)
{
    fx_spawn_opts o = {.handler = h, .state_size = size, .state_init = init};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(vm, &o, &p), 0);
    return p;
}

#endif
