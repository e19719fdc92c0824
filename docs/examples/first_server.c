/* A first supervised GenServer: a counter registered as "counter" under a
 * one_for_one supervisor, called by name, crashed once on purpose, and
 * seen restarted (a new pid under the same name, its count back to 0). */
#define _POSIX_C_SOURCE 200809L
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { INC = 1, CRASH };

static fx_gs_ret init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = calloc(1, sizeof(long)); /* freed by terminate */
    return *state ? fx_gs_ok(cx)
                  : fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "no memory"));
}

static fx_gs_ret handle_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                             const void *data, size_t size)
{
    (void) from, (void) type, (void) data, (void) size;
    long *n = state;
    *n += 1;
    return fx_gs_reply(cx, n, sizeof *n);
}

static fx_gs_ret handle_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                             size_t size)
{
    (void) state, (void) data, (void) size;
    if (type == CRASH)
        fx_crash(cx, "crashed on purpose");
    return fx_gs_noreply(cx);
}

static void terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm, (void) reason;
    free(state);
}

static const fx_gs_ops ops = {.init = init,
                              .handle_call = handle_call,
                              .handle_cast = handle_cast,
                              .terminate = terminate};
static const fx_gs_spec counter = {.ops = &ops, .name = "counter"};
static const fx_child_spec children[] = {
    {.id = "counter", .start = fx_child_gen_server, .carg = &counter}};

static long call(fx_inbox *me)
{
    fx_msg *reply;
    fx_reason why;
    if (fx_gs_call_named(me, "counter", INC, NULL, 0, 5000, &reply, &why) != 0)
        exit(1);
    long n = *(const long *) fx_msg_data(reply);
    fx_msg_free(reply);
    return n;
}

int main(void)
{
    fx_vm *vm;
    fx_inbox *me;
    fx_pid sup, before, after;
    fx_reason why;
    fx_sup_spec spec;
    fx_sup_spec_init(&spec); /* one_for_one, at most 1 restart in 5 s */
    spec.children = children;
    spec.nchildren = 1;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me) ||
        fx_sup_start(me, &spec, &sup, &why))
        return 1;
    printf("count %ld\n", call(me));
    printf("count %ld\n", call(me));
    fx_whereis(vm, "counter", &before);
    fx_vm_gs_cast_named(vm, "counter", CRASH, NULL, 0); /* its supervisor restarts it */
    for (int i = 0; i < 5000; i++) { /* until the new server has the name */
        if (fx_whereis(vm, "counter", &after) == 0 && !fx_pid_eq(after, before))
            break;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    printf("restarted: %s\n", fx_pid_eq(after, before) ? "no" : "yes, new pid");
    printf("count %ld\n", call(me)); /* a fresh state */
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return 0;
}
