/* review13: vm.h's thread clauses inside a shutdown: calls from a stop
 * hook (fx_vm_hooks.stop), from a cleanup callback run by the shutdown
 * on the calling thread, from a handler of the VM itself, and a second
 * fx_vm_shutdown on another thread while the first is in its hooks. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "helpers.h"

typedef struct seen {
    int shutdown_rc;
    int running;
    int attach_rc;
    int left_rc;
    int64_t left;
    int send_rc;
    int ran;
    fx_vm *vm;
    fx_pid target;
} seen;

static const char hook_key;
static const char other_key;

static void stop_hook(fx_vm *vm, void *value)
{
    seen *s = value;
    s->ran++;
    s->shutdown_rc = fx_vm_shutdown(vm);
    fx_vm_destroy(vm); /* does nothing here (vm.h:225-228) */
    s->running = fx_vm_running(vm);
    s->attach_rc = fx_vm_attach(vm, &other_key, s, NULL);
    s->left_rc = fx_vm_shutdown_time_left(vm, &s->left);
    s->send_rc = fx_vm_send(vm, s->target, 1, NULL, 0);
}

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

Test(review13_ctx, calls_from_a_stop_hook)
{
    tvm t = tvm_start_quiet(1);
    seen s = {.shutdown_rc = 99, .vm = t.vm};
    cr_assert_eq(fx_vm_spawn(t.vm, idle, NULL, &s.target), 0);
    fx_vm_hooks h = {.stop = stop_hook};
    cr_assert_eq(fx_vm_attach(t.vm, &hook_key, &s, &h), 0);
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    cr_expect_eq(s.ran, 1);
    cr_expect_eq(s.shutdown_rc, FX_ESHUTDOWN, "fx_vm_shutdown in a stop hook: %d",
                 s.shutdown_rc);
    cr_expect_eq(s.running, 1, "fx_vm_running in a stop hook (vm.h: they still see 1)");
    cr_expect_eq(s.attach_rc, FX_ESHUTDOWN, "fx_vm_attach in a stop hook");
    cr_expect_eq(s.left_rc, 0);
    cr_expect_gt(s.left, 0);
    cr_expect_eq(s.send_rc, 0, "fx_vm_send in a stop hook: %s", fx_strerror(s.send_rc));
    fx_vm_destroy(t.vm);
}

/* A cleanup callback run by fx_vm_shutdown on the calling thread. */
static seen cleanup_seen;
static void cleanup_calls(void *state, const fx_reason *reason)
{
    (void) state;
    (void) reason;
    fx_vm *vm = cleanup_seen.vm;
    if (!vm || cleanup_seen.ran++)
        return;
    cleanup_seen.shutdown_rc = fx_vm_shutdown(vm);
    fx_vm_destroy(vm); /* does nothing here */
    cleanup_seen.running = fx_vm_running(vm);
    cleanup_seen.send_rc = fx_vm_send(vm, cleanup_seen.target, 1, NULL, 0);
}

Test(review13_ctx, calls_from_a_cleanup_at_shutdown)
{
    tvm t = tvm_start_quiet(1);
    memset(&cleanup_seen, 0, sizeof cleanup_seen);
    cleanup_seen.vm = t.vm;
    cleanup_seen.target = t.me;
    fx_spawn_opts o = {.handler = idle, .cleanup = cleanup_calls};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    cr_expect_eq(cleanup_seen.ran, 1);
    cr_expect_eq(cleanup_seen.shutdown_rc, FX_ESHUTDOWN);
    cr_expect_eq(cleanup_seen.running, 0);
    cr_expect_eq(cleanup_seen.send_rc, FX_ESHUTDOWN);
    cleanup_seen.vm = NULL;
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
}

/* fx_vm_destroy from a handler of the VM does nothing (vm.h:224-228):
 * the VM keeps working. */
static fx_next destroy_own_vm(fx_ctx *cx, fx_msg *m)
{
    fx_vm_destroy(fx_ctx_vm(cx));
    int rc = fx_vm_shutdown(fx_ctx_vm(cx));
    (void) fx_send(cx, fx_msg_from(m), 3, &rc, sizeof rc);
    return fx_continue(cx);
}

Test(review13_ctx, destroy_from_own_handler_does_nothing)
{
    tvm t = tvm_start_quiet(1);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, destroy_own_vm, NULL, &p), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, 3);
    int rc;
    memcpy(&rc, fx_msg_data(m), sizeof rc);
    fx_msg_free(m);
    cr_expect_eq(rc, FX_ECONTEXT);
    cr_expect_eq(fx_vm_running(t.vm), 1);
    cr_assert_eq(fx_inbox_send(t.in, p, 1, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, 3));
    tvm_stop(&t);
}

/* A second fx_vm_shutdown while the first is in a stop hook "waits until
 * that shutdown has finished, then returns 0" (vm.h:80-82). */
static atomic_int hook_in, hook_release, hook_out;

static void slow_hook(fx_vm *vm, void *value)
{
    (void) vm;
    (void) value;
    atomic_store(&hook_in, 1);
    for (int i = 0; i < 10000 && !atomic_load(&hook_release); i++)
        usleep(1000);
    atomic_store(&hook_out, 1);
}

static void *second_shutdown(void *arg)
{
    fx_vm *vm = arg;
    intptr_t rc = fx_vm_shutdown(vm);
    /* The first shutdown must have finished by now: its stop hook has
     * returned and the VM is down. (Not "the first call has returned":
     * its thread may not have been scheduled yet; seen under qemu.) */
    if (rc == 0 && (!atomic_load(&hook_out) || fx_vm_running(vm) != 0))
        rc = 1000;
    return (void *) rc;
}

static void *first_shutdown(void *arg)
{
    fx_vm *vm = arg;
    return (void *) (intptr_t) fx_vm_shutdown(vm);
}

Test(review13_ctx, concurrent_shutdown_waits)
{
    atomic_store(&hook_in, 0);
    atomic_store(&hook_release, 0);
    atomic_store(&hook_out, 0);
    tvm t = tvm_start_quiet(1);
    fx_vm_hooks h = {.stop = slow_hook};
    cr_assert_eq(fx_vm_attach(t.vm, &hook_key, (void *) &hook_key, &h), 0);
    fx_inbox_destroy(t.in);
    pthread_t a, b;
    cr_assert_eq(pthread_create(&a, NULL, first_shutdown, t.vm), 0);
    for (int i = 0; i < 10000 && !atomic_load(&hook_in); i++)
        usleep(1000);
    cr_assert_eq(atomic_load(&hook_in), 1);
    cr_assert_eq(pthread_create(&b, NULL, second_shutdown, t.vm), 0);
    usleep(20000); /* not an assertion: lets the second call start waiting */
    atomic_store(&hook_release, 1);
    void *ra, *rb;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    cr_expect_eq((intptr_t) ra, 0);
    cr_expect_eq((intptr_t) rb, 0, "second fx_vm_shutdown: %ld", (long) (intptr_t) rb);
    fx_vm_destroy(t.vm);
}

/* vm.h:290-300: a stop hook is "not called when the VM was never
 * started"; the free hook runs once in fx_vm_destroy. */
static atomic_int stops, frees;
static void count_stop(fx_vm *vm, void *value)
{
    (void) vm;
    (void) value;
    atomic_fetch_add(&stops, 1);
}
static void count_free(fx_vm *vm, void *value)
{
    (void) vm;
    (void) value;
    atomic_fetch_add(&frees, 1);
}

Test(review13_ctx, hooks_of_a_never_started_vm)
{
    atomic_store(&stops, 0);
    atomic_store(&frees, 0);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(NULL, &vm), 0);
    fx_vm_hooks h = {.stop = count_stop, .free = count_free};
    cr_assert_eq(fx_vm_attach(vm, &hook_key, (void *) &hook_key, &h), 0);
    cr_expect_eq(fx_vm_shutdown(vm), 0);
    fx_vm_destroy(vm);
    cr_expect_eq(atomic_load(&stops), 0);
    cr_expect_eq(atomic_load(&frees), 1);
    /* Started: stop once, free once, also with shutdown called twice. */
    cr_assert_eq(fx_vm_create(NULL, &vm), 0);
    cr_assert_eq(fx_vm_attach(vm, &hook_key, (void *) &hook_key, &h), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    cr_expect_eq(fx_vm_shutdown(vm), 0);
    cr_expect_eq(fx_vm_shutdown(vm), 0);
    fx_vm_destroy(vm);
    cr_expect_eq(atomic_load(&stops), 1);
    cr_expect_eq(atomic_load(&frees), 2);
}

/* vm.h:286-289: a stop hook runs "while the scheduler threads still run:
 * the place to stop processes gracefully and wait for them (it may block,
 * e.g. with an inbox)". A hook creates an inbox, calls a GenServer and
 * stops it with fx_gs_stop_server. */
static fx_gs_ret echo_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                           const void *data, size_t size)
{
    (void) state, (void) from, (void) type;
    return fx_gs_reply(cx, data, size);
}
static const fx_gs_ops echo_ops = {.init = fx_gs_init_arg, .handle_call = echo_call};

typedef struct hook_call {
    fx_pid server;
    int create_rc, call_rc, stop_rc, destroy_rc;
} hook_call;

static void calling_hook(fx_vm *vm, void *value)
{
    hook_call *h = value;
    fx_inbox *in = NULL;
    h->create_rc = fx_inbox_create(vm, &in);
    if (h->create_rc)
        return;
    fx_msg *reply = NULL;
    h->call_rc = fx_gs_call(in, h->server, 1, "x", 1, 10000, &reply, NULL);
    fx_msg_free(reply);
    h->stop_rc = fx_gs_stop_server(in, h->server, fx_reason_shutdown(), 10000, NULL);
    h->destroy_rc = fx_inbox_destroy(in);
}

Test(review13_ctx, stop_hook_calls_a_server)
{
    tvm t = tvm_start_quiet(2);
    hook_call h = {.create_rc = 99};
    fx_gs_spec spec = {.ops = &echo_ops};
    cr_assert_eq(fx_gs_start(t.in, &spec, &h.server, NULL), 0);
    fx_vm_hooks hooks = {.stop = calling_hook};
    cr_assert_eq(fx_vm_attach(t.vm, &other_key, &h, &hooks), 0);
    cr_assert_eq(fx_inbox_destroy(t.in), 0);
    cr_expect_eq(fx_vm_shutdown(t.vm), 0);
    cr_expect_eq(h.create_rc, 0, "fx_inbox_create in a stop hook: %s",
                 fx_strerror(h.create_rc));
    cr_expect_eq(h.call_rc, 0, "fx_gs_call in a stop hook: %s", fx_strerror(h.call_rc));
    cr_expect_eq(h.stop_rc, 0, "fx_gs_stop_server in a stop hook: %s",
                 fx_strerror(h.stop_rc));
    cr_expect_eq(h.destroy_rc, 0);
    fx_vm_destroy(t.vm);
}
