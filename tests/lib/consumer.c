/* A program outside the tree, as a user writes it: built against an
 * installed fauxtp by tests/lib/consumer.sh (shared via pkg-config, fully
 * static, and with an $ORIGIN rpath). Runs a VM with one actor, checks
 * the answers and that the headers and the library agree on the version.
 * Prints the allocator in use; exit status 0 when all is right. */
#include <fauxtp/fauxtp.h>

#include <stdio.h>
#include <string.h>

enum { PING = 1, PONG };

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), PONG, fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

int main(void)
{
    if (fx_version() != FX_VERSION_HEX ||
        strcmp(fx_version_string(), FX_VERSION_STRING)) {
        fprintf(stderr, "consumer: headers %s, library %s\n", FX_VERSION_STRING,
                fx_version_string());
        return 1;
    }
    fx_vm *vm;
    fx_inbox *me;
    fx_pid e;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me) ||
        fx_vm_spawn(vm, echo, NULL, &e))
        return 1;
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        fx_msg *r;
        fx_match want = {.type = PONG};
        if (fx_inbox_send(me, e, PING, &i, sizeof i) ||
            fx_inbox_recv(me, &want, 10000, &r))
            return 1;
        bad += *(const int *) fx_msg_data(r) != i;
        fx_msg_free(r);
    }
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    printf("consumer: fauxtp %s, allocator %s, %s\n", fx_version_string(),
           fx_allocator_name(), bad ? "WRONG ANSWERS" : "ok");
    return bad != 0;
}
