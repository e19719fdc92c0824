/* A counter GenServer: ADD casts add to it, GET calls return the total,
 * TAKE calls return it and reset it. The main thread starts it, talks to
 * it through an inbox and stops it. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>

enum { ADD = 1, GET, TAKE };

typedef struct counter {
    long total;
} counter;

static fx_gs_ret init(fx_ctx *cx, void *arg, void **state)
{
    counter *c = malloc(sizeof *c);
    if (!c)
        return fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "no memory"));
    c->total = *(const long *) arg;
    *state = c;
    return fx_gs_ok(cx);
}

static fx_gs_ret handle_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                             const void *data, size_t size)
{
    (void) from, (void) data, (void) size;
    counter *c = state;
    long total = c->total;
    if (type == TAKE)
        c->total = 0;
    return fx_gs_reply(cx, &total, sizeof total); /* copied at once */
}

static fx_gs_ret handle_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                             size_t size)
{
    counter *c = state;
    if (type == ADD && size == sizeof(long))
        c->total += *(const long *) data;
    return fx_gs_noreply(cx);
}

static void terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm, (void) reason;
    free(state); /* runs exactly once, however the server ends */
}

static const fx_gs_ops counter_ops = {
    .init = init,
    .handle_call = handle_call,
    .handle_cast = handle_cast,
    .terminate = terminate,
};

/* A call expecting a long back; -1 on error. */
static long call_long(fx_inbox *me, fx_pid server, uint32_t type)
{
    fx_msg *reply;
    fx_reason why;
    int rc = fx_gs_call(me, server, type, NULL, 0, 5000, &reply, &why);
    if (rc != 0) {
        fprintf(stderr, "call failed: %s\n", fx_strerror(rc));
        return -1;
    }
    long v = *(const long *) fx_msg_data(reply);
    fx_msg_free(reply);
    return v;
}

int main(void)
{
    fx_vm *vm;
    fx_inbox *me;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me))
        return 1;
    long start = 100;
    fx_gs_spec spec = {.ops = &counter_ops, .arg = &start, .label = "counter"};
    fx_pid server;
    fx_reason why;
    int rc = fx_gs_start(me, &spec, &server, &why);
    if (rc != 0) {
        fprintf(stderr, "start failed: %s\n", fx_strerror(rc));
        return 1;
    }
    for (long i = 1; i <= 10; i++)
        fx_vm_gs_cast(vm, server, ADD, &i, sizeof i);
    long taken = call_long(me, server, TAKE); /* after the casts: same thread */
    long after = call_long(me, server, GET);
    printf("taken = %ld, after = %ld\n", taken, after);
    rc = fx_gs_stop_server(me, server, fx_reason_normal(), 5000, NULL);
    /* A call to a stopped server fails at once, whatever the timeout. */
    fx_msg *reply;
    int gone = fx_gs_call(me, server, GET, NULL, 0, FX_INFINITY, &reply, NULL);
    printf("stop: %s, then a call: %s\n", fx_err_name(rc), fx_err_name(gone));
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return taken == 155 && after == 0 && rc == 0 && gone == FX_ENOPROC ? 0 : 1;
}
