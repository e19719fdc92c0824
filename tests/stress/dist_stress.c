/* Two fauxtp nodes in one process (two VMs, two scheduler threads each)
 * through a private epmd on loopback: K clients on node A send N numbered
 * messages each to echo on node B, first by name, then to the echo's
 * remote pid, from several threads at once; every reply must come back,
 * in order per client. Then churn: node C stops and starts again ROUNDS
 * times while clients on A keep sending to, monitoring and naming the
 * pids of C's incarnations, the live one and the ended ones (whose pid
 * tables are freed meanwhile); every monitor must get its DOWN. Runs
 * under TSan (no Criterion). Exit 77 (skip) without erl's epmd or
 * without the dist feature. Usage: dist_stress [N] */
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
#define CHURNERS 2
#define ROUNDS 8

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
    /* Node a polls a while before parking (fx_vm_config.io_spin_us), so
     * TSan sees the spin's protocol with the wakers; b and c do not. */
    if (name[0] == 'a')
        cfg.io_spin_us = 50;
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

/* ---- churn: a node that stops and comes back --------------------------- */

typedef struct churner {
    fx_pid report;
    fx_pid last; /* the echo of C that answered last (maybe of an ended incarnation) */
    uint32_t mons, downs;
    bool quiet;
} churner;

static fx_next churn_loop(fx_ctx *cx, fx_msg *m)
{
    churner *c = fx_state(cx);
    switch (fx_msg_type(m)) {
    case 20: /* tick */
        if (c->quiet)
            break;
        (void) fx_dist_send_named(cx, "c@127.0.0.1", "echo", 1, NULL, 0);
        if (c->last.id) {
            char node[64];
            fx_ref ref;
            (void) fx_dist_pid_node(fx_ctx_vm(cx), c->last, node, sizeof node);
            (void) fx_send(cx, c->last, 1, NULL, 0);
            if (fx_monitor(cx, c->last, &ref) == 0)
                c->mons++;
        }
        fx_send_after(cx, 2, fx_self(cx), 20, NULL, 0, NULL);
        break;
    case 2: /* an echo's answer */
        c->last = fx_msg_from(m);
        fx_send(cx, c->report, 7, NULL, 0);
        break;
    case FX_MSG_DOWN:
        c->downs++;
        break;
    case 8: { /* stop sending; report monitors and DOWNs */
        c->quiet = true;
        uint32_t v[2] = {c->mons, c->downs};
        fx_send(cx, c->report, 9, v, sizeof v);
        break;
    }
    default:
        break;
    }
    return fx_continue(cx);
}

/* Waits for `n` messages of type 7 on ib; false after 60 s. */
static bool wait_answers(fx_inbox *ib, int n)
{
    fx_match mt = {.type = 7};
    for (int i = 0; i < n; i++) {
        fx_msg *m;
        if (fx_inbox_recv(ib, &mt, 60000, &m) != 0)
            return false;
        fx_msg_free(m);
    }
    return true;
}

static int churn(fx_vm *a, fx_inbox *ia, uint16_t port)
{
    fx_vm *c = start_node("c@127.0.0.1", port);
    fx_inbox *ic;
    fx_pid e, ch[CHURNERS];
    if (fx_inbox_create(c, &ic) != 0 || fx_vm_spawn(c, echo, NULL, &e) != 0 ||
        fx_register(ic, "echo", e, NULL) != 0)
        return 1;
    for (int i = 0; i < CHURNERS; i++) {
        churner st = {.report = fx_inbox_pid(ia)};
        fx_spawn_opts o = {
            .handler = churn_loop, .state_size = sizeof st, .state_init = &st};
        if (fx_vm_spawn_opt(a, &o, &ch[i]) != 0 || fx_vm_send(a, ch[i], 20, NULL, 0) != 0)
            return 1;
    }
    int failed = 0;
    for (int r = 0; r < ROUNDS && !failed; r++) {
        if (r > 0) { /* a new incarnation (epmd may still hold the old name) */
            fx_dist_opts o = {.name = "c@127.0.0.1",
                              .cookie = "stress",
                              .listen_ip = "127.0.0.1",
                              .epmd_port = port};
            int rc = FX_EDIST;
            for (int i = 0; i < 100 && (rc == FX_EDIST || rc == FX_ECONNECT); i++)
                if ((rc = fx_dist_start(c, &o)) == FX_EDIST || rc == FX_ECONNECT)
                    usleep(50000);
            if (rc != 0) {
                fprintf(stderr, "churn: restart %d: %s\n", r, fx_strerror(rc));
                failed = 1;
                break;
            }
        }
        if (!wait_answers(ia, 200)) {
            fprintf(stderr, "churn: round %d: no answers from C\n", r);
            failed = 1;
        }
        fx_dist_stop(c);
        usleep(50000); /* sends and monitors to the ended incarnation meanwhile */
    }
    /* C is stopped: every monitor ends with a DOWN (noconnection) */
    bool settled = false;
    for (int k = 0; k < 300 && !settled && !failed; k++) {
        settled = true;
        for (int i = 0; i < CHURNERS; i++) {
            fx_msg *m;
            fx_match mt = {.type = 9};
            uint32_t v[2] = {1, 0};
            if (fx_vm_send(a, ch[i], 8, NULL, 0) != 0 ||
                fx_inbox_recv(ia, &mt, 10000, &m) != 0) {
                failed = 1;
                break;
            }
            memcpy(v, fx_msg_data(m), sizeof v);
            fx_msg_free(m);
            if (v[0] != v[1])
                settled = false;
            else if (i == 0)
                printf("dist_stress: churn: %u monitors, %u DOWNs\n", v[0], v[1]);
        }
        if (!settled)
            usleep(100000);
    }
    if (!settled && !failed)
        fprintf(stderr, "churn: monitors without their DOWN\n");
    fx_inbox_destroy(ic);
    fx_vm_shutdown(c);
    fx_vm_destroy(c);
    return failed || !settled;
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
    if (!failed && churn(a, ia, p) != 0)
        failed = 1;
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
        printf("dist_stress: %d clients x %u round trips across two nodes, %d rounds of "
               "node churn: ok\n",
               K, n_msgs, ROUNDS);
    return failed;
}
