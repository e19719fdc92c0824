/* Two fauxtp nodes in one process (two VMs, two scheduler threads each)
 * through a private epmd on loopback: K clients on node A send N numbered
 * messages each to echo on node B, first by name, then to the echo's
 * remote pid, from several threads at once; every reply must come back,
 * in order per client. Runs under TSan (no Criterion). Exit 77 (skip)
 * without erl's epmd or without the dist feature. Usage: dist_stress [N] */
#include <arpa/inet.h>
#include <fauxtp/fauxtp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../child_guard.h"

#define K 4

static pid_t epmd_pid;
static uint32_t n_msgs = 20000;

static void kill_epmd(void)
{
    if (epmd_pid > 0) {
        kill(epmd_pid, SIGKILL);
        waitpid(epmd_pid, NULL, 0);
        epmd_pid = 0;
    }
}

static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *) &a, sizeof a) != 0)
        exit(1);
    getsockname(s, (struct sockaddr *) &a, &l);
    close(s);
    return ntohs(a.sin_port);
}

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    uint32_t t = fx_msg_type(m);
    if (t < FX_MSG_SYSTEM_BASE)
        fx_send(cx, fx_msg_from(m), t + 1, fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

typedef struct cli {
    fx_pid report;
    fx_pid echo; /* remote, once known */
    uint32_t sent, got;
    int bad;
} cli;

static void send_next(fx_ctx *cx, cli *c)
{
    uint32_t seq = c->sent++;
    if (c->echo.id)
        fx_send(cx, c->echo, 1, &seq, sizeof seq);
    else
        fx_dist_send_named(cx, "b@127.0.0.1", "echo", 1, &seq, sizeof seq);
}

static fx_next cli_loop(fx_ctx *cx, fx_msg *m)
{
    cli *c = fx_state(cx);
    if (fx_msg_type(m) == 2) {
        uint32_t seq;
        memcpy(&seq, fx_msg_data(m), sizeof seq);
        if (seq != c->got)
            c->bad++;
        c->got++;
        if (!c->echo.id)
            c->echo = fx_msg_from(m);
        if (c->got == n_msgs) {
            int32_t bad = c->bad;
            fx_send(cx, c->report, 9, &bad, sizeof bad);
            return fx_stop(cx, fx_reason_normal());
        }
        /* keep up to 16 in flight */
        while (c->sent < n_msgs && c->sent - c->got < 16)
            send_next(cx, c);
    } else if (fx_msg_type(m) == 1) {
        while (c->sent < n_msgs && c->sent < 16)
            send_next(cx, c);
    }
    return fx_continue(cx);
}

static fx_vm *start_node(const char *name, uint16_t port)
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    fx_vm *vm;
    if (fx_vm_create(&cfg, &vm) != 0 || fx_vm_start(vm) != 0)
        exit(1);
    fx_dist_opts o = {
        .name = name, .cookie = "stress", .listen_ip = "127.0.0.1", .epmd_port = port};
    int rc = FX_ECONNECT;
    for (int i = 0; i < 100 && rc == FX_ECONNECT; i++)
        if ((rc = fx_dist_start(vm, &o)) == FX_ECONNECT)
            usleep(50000);
    if (rc == FX_ENOTDIST) {
        printf("dist_stress: built without distribution, skipped\n");
        kill_epmd();
        exit(77);
    }
    if (rc != 0) {
        fprintf(stderr, "fx_dist_start(%s): %s\n", name, fx_strerror(rc));
        kill_epmd();
        exit(1);
    }
    return vm;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        n_msgs = (uint32_t) atoi(argv[1]);
    if (access("/usr/bin/epmd", X_OK) != 0) {
        printf("dist_stress: epmd not installed (erlang-base), skipped\n");
        return 77;
    }
    char port[16];
    uint16_t p = free_port();
    snprintf(port, sizeof port, "%u", (unsigned) p);
    atexit(kill_epmd);
    pid_t self = getpid();
    epmd_pid = fork();
    if (epmd_pid == 0) {
        child_dies_with(self);
        execl("/usr/bin/epmd", "epmd", "-port", port, "-address", "127.0.0.1",
              (char *) NULL);
        _exit(127);
    }
    fx_vm *a = start_node("a@127.0.0.1", p);
    fx_vm *b = start_node("b@127.0.0.1", p);
    fx_inbox *ia, *ib;
    fx_pid e;
    if (fx_inbox_create(a, &ia) != 0 || fx_inbox_create(b, &ib) != 0 ||
        fx_vm_spawn(b, echo, NULL, &e) != 0 || fx_register(ib, "echo", e, NULL) != 0)
        return 1;
    for (int i = 0; i < K; i++) {
        cli c = {.report = fx_inbox_pid(ia)};
        fx_spawn_opts o = {.handler = cli_loop, .state_size = sizeof c, .state_init = &c};
        fx_pid pc;
        if (fx_vm_spawn_opt(a, &o, &pc) != 0 || fx_vm_send(a, pc, 1, NULL, 0) != 0)
            return 1;
    }
    int failed = 0;
    for (int i = 0; i < K; i++) {
        fx_msg *m;
        fx_match mt = {.type = 9};
        int rc = fx_inbox_recv(ia, &mt, 120000, &m);
        if (rc != 0) {
            fprintf(stderr, "client %d: %s\n", i, fx_strerror(rc));
            failed = 1;
            break;
        }
        int32_t bad;
        memcpy(&bad, fx_msg_data(m), sizeof bad);
        fx_msg_free(m);
        if (bad) {
            fprintf(stderr, "client %d: %d replies out of order\n", i, bad);
            failed = 1;
        }
    }
    fx_dist_stop(a);
    fx_dist_stop(b);
    fx_inbox_destroy(ia);
    fx_inbox_destroy(ib);
    fx_vm_shutdown(a);
    fx_vm_shutdown(b);
    fx_vm_destroy(a);
    fx_vm_destroy(b);
    kill_epmd();
    if (!failed)
        printf("dist_stress: %d clients x %u round trips across two nodes: ok\n", K,
               n_msgs);
    return failed;
}
