/* A counter actor: INC adds to its state, GET replies with the total. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>

enum { INC = 1, GET, VALUE };

static fx_next counter(fx_ctx *cx, fx_msg *m)
{
    long *total = fx_state(cx);
    if (fx_msg_type(m) == INC)
        *total += *(const int *) fx_msg_data(m);
    else if (fx_msg_type(m) == GET)
        fx_send(cx, fx_msg_from(m), VALUE, total, sizeof *total);
    return fx_continue(cx);
}

int main(void)
{
    fx_vm *vm;
    fx_inbox *me;
    fx_pid c;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me))
        return 1;
    fx_spawn_opts o = {.handler = counter, .state_size = sizeof(long)};
    fx_vm_spawn_opt(vm, &o, &c);
    for (int i = 1; i <= 100; i++)
        fx_inbox_send(me, c, INC, &i, sizeof i);
    fx_inbox_send(me, c, GET, NULL, 0); /* after all INCs: same sender */
    fx_msg *reply;
    int rc = fx_inbox_recv(me, &(fx_match){.type = VALUE}, 5000, &reply);
    long total = rc == 0 ? *(const long *) fx_msg_data(reply) : -1;
    printf("total = %ld\n", total);
    fx_msg_free(reply);
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return total == 5050 ? 0 : 1;
}
