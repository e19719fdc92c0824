/* A VM with a control socket, for tests/ctl/ctl_top.py: starts a VM whose
 * control_path is argv[1], with processes the test looks for:
 *   - "ctl_counter": registered as "counter", label "counter", has
 *     handled 3 messages and waits;
 *   - "ctl_backlog": label "backlog", in a selective receive for a type
 *     that never comes, with 5 messages set aside (queue_len 5);
 *   - 4 processes labelled "worker";
 *   - "ctl_tick": label "ticker", a message to itself every 10 ms (so
 *     rates and runtimes move in a capture).
 * Prints "ready" once they are in that state, then waits for stdin to
 * close, shuts the VM down and checks that the socket file is gone.
 * Exit status 0 when all went as expected. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { T_WORK = 1, T_NEVER = 99, T_PING = 2, T_PONG = 3, T_TICK = 4 };

/* Not static, and the program is linked with -rdynamic (meson
 * export_dynamic), so process info names the handlers. */
fx_next ctl_counter(fx_ctx *cx, fx_msg *m);
fx_next ctl_never(fx_ctx *cx, fx_msg *m);
fx_next ctl_backlog(fx_ctx *cx, fx_msg *m);
fx_next ctl_tick(fx_ctx *cx, fx_msg *m);

fx_next ctl_tick(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    fx_send_after(cx, 10, fx_self(cx), T_TICK, NULL, 0, NULL);
    return fx_continue(cx);
}

fx_next ctl_counter(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == T_PING)
        fx_send(cx, fx_msg_from(m), T_PONG, NULL, 0);
    return fx_continue(cx);
}

fx_next ctl_never(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

/* First message: from now on wait for T_NEVER only, and say so. */
fx_next ctl_backlog(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), T_PONG, NULL, 0);
    fx_match match = {.type = T_NEVER};
    return fx_receive(cx, ctl_never, &match, FX_INFINITY);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "ctl_vm: %s: %s\n", what, fx_strerror(rc));
    return 1;
}

static int pong(fx_inbox *in)
{
    fx_match m = {.type = T_PONG};
    fx_msg *msg = NULL;
    int rc = fx_inbox_recv(in, &m, 10000, &msg);
    fx_msg_free(msg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ctl_vm SOCKET_PATH\n");
        return 2;
    }
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    cfg.control_path = argv[1];
    fx_vm *vm;
    int rc = fx_vm_create(&cfg, &vm);
    if (rc)
        return fail("fx_vm_create", rc);
    if ((rc = fx_vm_start(vm)) != 0)
        return fail("fx_vm_start", rc);
    fx_inbox *in;
    if ((rc = fx_inbox_create(vm, &in)) != 0)
        return fail("fx_inbox_create", rc);

    fx_pid c, b, w;
    fx_spawn_opts co = {.handler = ctl_counter, .label = "counter"};
    fx_spawn_opts bo = {.handler = ctl_backlog, .label = "backlog"};
    fx_spawn_opts wo = {.handler = ctl_counter, .label = "worker"};
    fx_spawn_opts to = {.handler = ctl_tick, .label = "ticker"};
    fx_pid t;
    if ((rc = fx_vm_spawn_opt(vm, &to, &t)) != 0 ||
        (rc = fx_vm_send(vm, t, T_TICK, NULL, 0)))
        return fail("spawn ticker", rc);
    if ((rc = fx_vm_spawn_opt(vm, &co, &c)) || (rc = fx_vm_spawn_opt(vm, &bo, &b)))
        return fail("spawn", rc);
    for (int i = 0; i < 4; i++)
        if ((rc = fx_vm_spawn_opt(vm, &wo, &w)) != 0)
            return fail("spawn worker", rc);
    if ((rc = fx_register(in, "counter", c, NULL)) != 0)
        return fail("fx_register", rc);
    for (int i = 0; i < 3; i++) {
        if ((rc = fx_inbox_send(in, c, T_PING, NULL, 0)) != 0 || (rc = pong(in)) != 0)
            return fail("ping counter", rc);
    }
    if ((rc = fx_inbox_send(in, b, T_PING, NULL, 0)) != 0 || (rc = pong(in)) != 0)
        return fail("start backlog", rc);
    for (int i = 0; i < 5; i++)
        if ((rc = fx_inbox_send(in, b, T_WORK, "x", 1)) != 0)
            return fail("fill backlog", rc);
    printf("ready\n");
    fflush(stdout);

    char line[256];
    while (fgets(line, sizeof line, stdin))
        ;
    fx_inbox_destroy(in);
    if ((rc = fx_vm_shutdown(vm)) != 0)
        return fail("fx_vm_shutdown", rc);
    fx_vm_destroy(vm);
    struct stat st;
    if (lstat(argv[1], &st) == 0) {
        fprintf(stderr, "ctl_vm: %s still exists after shutdown\n", argv[1]);
        return 1;
    }
    return 0;
}
