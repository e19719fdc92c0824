/* Stress: socket owners exiting while readiness events for their sockets
 * are being handled, and VM shutdown with sockets open. Each round starts
 * a VM with an echo acceptor on loopback; client threads (plain POSIX)
 * open connections and write. In crash rounds each connection's owner
 * crashes on its first data while the client keeps writing: the socket
 * must be closed (the client sees EOF or a reset, never a hang). In echo
 * rounds every byte must come back. The VM is then shut down with some
 * connections still open. A plain program (exit status) so it runs under
 * ThreadSanitizer. Argument: rounds. */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../net_actors.h"

enum { CLIENT_THREADS = 2, CONNS_PER_THREAD = 32, ECHOES = 8 };

static int failures;

static void fail(const char *what, int i)
{
    fprintf(stderr, "net_stress: %s (%d)\n", what, i);
    __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
}

typedef struct client {
    fx_net_addr addr;
    bool crash;
    int open_fds[CONNS_PER_THREAD]; /* left open on purpose, -1 = none */
} client;

static void *client_main(void *p)
{
    client *c = p;
    char buf[1024], in[1024];
    memset(buf, 'x', sizeof buf);
    for (int k = 0; k < CONNS_PER_THREAD; k++) {
        c->open_fds[k] = -1;
        int fd = posix_connect(&c->addr);
        if (fd < 0) {
            fail("connect", k);
            continue;
        }
        if (c->crash) {
            /* Keep writing while the owner dies: ends with an error. */
            for (int i = 0; i < 200; i++)
                if (send(fd, buf, sizeof buf, MSG_NOSIGNAL) < 0)
                    break;
            if (posix_read_to_end(fd, 20000) < 0)
                fail("socket of a crashed owner left open", k);
        } else {
            for (int i = 0; i < ECHOES; i++) {
                if (write(fd, buf, sizeof buf) != (ssize_t) sizeof buf) {
                    fail("write", k);
                    break;
                }
                size_t got = 0;
                while (got < sizeof in) {
                    struct pollfd pf = {.fd = fd, .events = POLLIN};
                    if (poll(&pf, 1, 20000) != 1) {
                        fail("echo timed out", k);
                        break;
                    }
                    ssize_t r = read(fd, in + got, sizeof in - got);
                    if (r <= 0) {
                        fail("echo read", k);
                        break;
                    }
                    got += (size_t) r;
                }
                if (got != sizeof in || memcmp(in, buf, sizeof in) != 0) {
                    fail("echo mismatch", k);
                    break;
                }
            }
            if (k % 4 == 0) {
                c->open_fds[k] = fd; /* the VM shuts down with it open */
                continue;
            }
        }
        close(fd);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    for (int r = 0; r < rounds; r++) {
        fx_vm_config cfg;
        fx_vm_config_init(&cfg);
        cfg.threads = 2;
        cfg.crash_logger = fx_crash_logger_silent;
        fx_vm *vm;
        fx_inbox *in;
        if (fx_vm_create(&cfg, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in)) {
            fail("vm", r);
            return 1;
        }
        acc_st a = {.report = fx_inbox_pid(in), .crash_conns = r % 2 == 1};
        fx_net_addr_ip("127.0.0.1", 0, &a.addr);
        fx_spawn_opts o = {.handler = acc_loop, .state_size = sizeof a, .state_init = &a};
        fx_pid ap;
        fx_msg *m = NULL;
        uint64_t port = 0;
        fx_match mt = {.type = T_PORT};
        if (fx_vm_spawn_opt(vm, &o, &ap) || fx_vm_send(vm, ap, T_START, NULL, 0) ||
            fx_inbox_recv(in, &mt, 10000, &m)) {
            fail("acceptor", r);
            return 1;
        }
        memcpy(&port, fx_msg_data(m), sizeof port);
        fx_msg_free(m);
        client c[CLIENT_THREADS];
        pthread_t th[CLIENT_THREADS];
        for (int i = 0; i < CLIENT_THREADS; i++) {
            c[i].crash = a.crash_conns;
            fx_net_addr_ip("127.0.0.1", (uint16_t) port, &c[i].addr);
            pthread_create(&th[i], NULL, client_main, &c[i]);
        }
        for (int i = 0; i < CLIENT_THREADS; i++)
            pthread_join(th[i], NULL);
        fx_inbox_destroy(in);
        fx_vm_shutdown(vm);
        /* The shutdown closed the VM's side: the peers left open see EOF. */
        for (int i = 0; i < CLIENT_THREADS; i++)
            for (int k = 0; k < CONNS_PER_THREAD; k++)
                if (c[i].open_fds[k] >= 0) {
                    if (posix_read_to_end(c[i].open_fds[k], 10000) < 0)
                        fail("socket outlived the VM", k);
                    close(c[i].open_fds[k]);
                }
        fx_vm_destroy(vm);
    }
    int f = __atomic_load_n(&failures, __ATOMIC_RELAXED);
    if (f) {
        fprintf(stderr, "net_stress: %d failures\n", f);
        return 1;
    }
    printf("net_stress: %d rounds ok\n", rounds);
    return 0;
}
