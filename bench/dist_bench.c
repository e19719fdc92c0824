/* fauxtp-distbench: the distribution benchmark's fauxtp side (issue 21;
 * tools/bench --group dist runs it with its Erlang peer,
 * bench/peers/erlang/peer_dist.erl; docs/benchmarks.md).
 *
 *   fauxtp-distbench server NODE COOKIE THREADS
 *     starts a node with a GenServer registered as "bench": a message
 *     {1, <<Seq:64>>} is sent back to its sender, a call {2, <<Seq:64>>}
 *     is answered with <<Seq:64>>. Prints "ready" and runs until SIGTERM
 *     or SIGINT.
 *   fauxtp-distbench client NODE COOKIE THREADS SERVER_NODE pingpong|call N [erlang]
 *     one warm-up exchange (connects), then N strict round trips to
 *     {bench, SERVER_NODE}, each reply checked against its sequence
 *     number; prints one JSON line (ops: 2N messages, or N calls). With
 *     "erlang" the server is the Erlang peer, which needs the sender in
 *     the message: pings are the term {Self, {1, <<Seq:64>>}}, Self
 *     written with fx_term_put_pid.
 *
 * The epmd port comes from $ERL_EPMD_PORT. Pings go to the name every
 * time (REG_SEND), as the Erlang client's {bench, Node} ! Ping does;
 * calls go to the server's pid, learnt from the warm-up ping's reply. */
#include <fauxtp/fauxtp.h>
#include <fauxtp/term.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { D_PING = 1, D_CALL = 2, D_DONE = 3 };

#define CALL_TIMEOUT 5000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* --- server -------------------------------------------------------------- */

static fx_gs_ret srv_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                          const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) type;
    return fx_gs_reply(cx, data, size);
}

static fx_gs_ret srv_info(fx_ctx *cx, void *state, fx_msg *msg)
{
    (void) state;
    if (fx_msg_type(msg) == D_PING)
        fx_send(cx, fx_msg_from(msg), D_PING, fx_msg_data(msg), fx_msg_size(msg));
    return fx_gs_noreply(cx);
}

static const fx_gs_ops srv_ops = {
    .init = fx_gs_init_arg, .handle_call = srv_call, .handle_info = srv_info};

/* --- client -------------------------------------------------------------- */

typedef struct {
    const char *node; /* the server's node (borrowed from argv) */
    fx_pid report;    /* the main thread's inbox */
    fx_pid server;    /* learnt from the warm-up reply */
    uint64_t i, n;    /* the sequence number awaited; the last one */
    int call;         /* 1: calls after the warm-up; 0: pings */
    int erlang;       /* the server is Erlang's: pings carry our pid */
    int err;
} dclient;

static fx_next report(fx_ctx *cx, dclient *c, int err)
{
    c->err = err;
    fx_send(cx, c->report, D_DONE, &c->i, sizeof c->i);
    return fx_stop(cx, fx_reason_normal());
}

/* Sends ping number c->i to {bench, node}. */
static int send_ping(fx_ctx *cx, dclient *c)
{
    if (!c->erlang)
        return fx_dist_send_named(cx, c->node, "bench", D_PING, &c->i, sizeof c->i);
    uint8_t buf[512];
    fx_term_builder b;
    const void *data;
    size_t size;
    int rc = fx_term_builder_init_buf(&b, buf, sizeof buf);
    if (rc == 0)
        rc = fx_term_put_tuple(&b, 2);
    if (rc == 0)
        rc = fx_term_put_pid(&b, fx_ctx_vm(cx), fx_self(cx));
    if (rc == 0)
        rc = fx_term_from_plain(&b, D_PING, &c->i, sizeof c->i);
    if (rc == 0)
        rc = fx_term_builder_data(&b, &data, &size);
    if (rc == 0)
        rc = fx_dist_send_named(cx, c->node, "bench", FX_MSG_TERM, data, size);
    fx_term_builder_fini(&b);
    return rc;
}

static fx_next call_got(fx_ctx *cx, fx_msg *m)
{
    dclient *c = fx_state(cx);
    const void *data;
    size_t size;
    uint64_t v = 0;
    int rc = fx_gs_call_result(cx, m, &data, &size, NULL);
    if (rc != 0)
        return report(cx, c, rc);
    if (size == sizeof v)
        memcpy(&v, data, sizeof v);
    if (v != c->i)
        return report(cx, c, FX_EINVAL);
    if (c->i == c->n)
        return report(cx, c, 0);
    c->i++;
    return fx_gs_call_async(cx, c->server, D_CALL, &c->i, sizeof c->i, CALL_TIMEOUT,
                            call_got);
}

static fx_next ping_got(fx_ctx *cx, fx_msg *m)
{
    dclient *c = fx_state(cx);
    uint64_t v = 0;
    if (fx_msg_type(m) != D_PING)
        return fx_continue(cx); /* nothing else is expected; ignore */
    if (fx_msg_size(m) == sizeof v)
        memcpy(&v, fx_msg_data(m), sizeof v);
    if (v != c->i)
        return report(cx, c, FX_EINVAL);
    if (c->i == 0) { /* the warm-up: tell main the clock starts now */
        c->server = fx_msg_from(m);
        fx_send(cx, c->report, D_DONE, &c->i, sizeof c->i);
        c->i = 1;
        if (c->call)
            return fx_gs_call_async(cx, c->server, D_CALL, &c->i, sizeof c->i,
                                    CALL_TIMEOUT, call_got);
    } else if (c->i == c->n) {
        return report(cx, c, 0);
    } else {
        c->i++;
    }
    int rc = send_ping(cx, c);
    return rc == 0 ? fx_continue(cx) : report(cx, c, rc);
}

static fx_next client_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    dclient *c = fx_state(cx);
    int rc = send_ping(cx, c);
    return rc == 0 ? fx_become(cx, ping_got) : report(cx, c, rc);
}

static int wait_done(fx_inbox *inbox, uint64_t *v)
{
    fx_match m = {.type = D_DONE};
    fx_msg *msg;
    int rc = fx_inbox_recv(inbox, &m, 120000, &msg);
    if (rc != 0)
        return rc;
    memcpy(v, fx_msg_data(msg), sizeof *v);
    fx_msg_free(msg);
    return 0;
}

static int run_client(fx_vm *vm, fx_inbox *inbox, const char *server, int call,
                      int erlang, uint64_t n, uint32_t threads)
{
    dclient init = {.node = server,
                    .report = fx_inbox_pid(inbox),
                    .n = n,
                    .call = call,
                    .erlang = erlang};
    fx_spawn_opts o = {
        .init = client_init, .state_size = sizeof init, .state_init = &init};
    uint64_t v = 0;
    int rc = fx_vm_spawn_opt(vm, &o, NULL);
    if (rc == 0)
        rc = wait_done(inbox, &v); /* the warm-up round trip */
    if (rc != 0 || v != 0) {
        fprintf(stderr, "distbench: warm-up failed: %s\n", fx_strerror(rc));
        return 1;
    }
    double t0 = now_s();
    rc = wait_done(inbox, &v);
    double s = now_s() - t0;
    if (rc != 0 || v != n) {
        fprintf(stderr, "distbench: stopped at %llu of %llu: %s\n",
                (unsigned long long) v, (unsigned long long) n, fx_strerror(rc));
        return 1;
    }
    uint64_t ops = call ? n : 2 * n;
    printf("{\"bench\":\"dist_%s\",\"system\":\"fauxtp\",\"n\":%llu,\"threads\":%u,"
           "\"seconds\":%.6f,\"ops_per_sec\":%.1f,\"extra\":{\"ops\":%llu}}\n",
           call ? "call" : "pingpong", (unsigned long long) n, threads, s,
           s > 0 ? (double) ops / s : 0.0, (unsigned long long) ops);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: fauxtp-distbench server NODE COOKIE THREADS\n"
                    "       fauxtp-distbench client NODE COOKIE THREADS SERVER_NODE "
                    "pingpong|call N [erlang]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 5)
        return usage();
    int server = !strcmp(argv[1], "server");
    if (!server && (strcmp(argv[1], "client") || argc < 8 || argc > 9))
        return usage();
    int erlang = !server && argc == 9;
    if (erlang && strcmp(argv[8], "erlang"))
        return usage();
    int call = !server && !strcmp(argv[6], "call");
    if (!server && !call && strcmp(argv[6], "pingpong"))
        return usage();
    uint64_t n = server ? 0 : strtoull(argv[7], NULL, 10);
    if (!server && n == 0)
        return usage();

    /* SIGTERM/SIGINT wait for sigwait in main: block them before the VM's
     * threads exist so that they inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = (uint32_t) strtoul(argv[4], NULL, 10);
    /* For side-by-side runs of the poll-spin (fx_vm_config.io_spin_us):
     * FX_DISTBENCH_IO_SPIN_US=off or a number of microseconds. */
    const char *spin = getenv("FX_DISTBENCH_IO_SPIN_US");
    if (spin)
        cfg.io_spin_us = strcmp(spin, "off") == 0 ? FX_IO_SPIN_OFF
                                                  : (uint32_t) strtoul(spin, NULL, 10);
    fx_vm *vm;
    fx_inbox *inbox;
    int rc = fx_vm_create(&cfg, &vm);
    if (rc == 0)
        rc = fx_vm_start(vm);
    if (rc == 0)
        rc = fx_inbox_create(vm, &inbox);
    fx_dist_opts o = {.name = argv[2], .cookie = argv[3], .listen_ip = "127.0.0.1"};
    if (rc == 0)
        rc = fx_dist_start(vm, &o);
    if (rc != 0) {
        fprintf(stderr, "distbench: start failed: %s\n", fx_strerror(rc));
        return 1;
    }
    int status = 0;
    if (server) {
        fx_gs_spec spec = {.ops = &srv_ops, .name = "bench", .label = "distbench"};
        fx_pid pid;
        rc = fx_gs_start(inbox, &spec, &pid, NULL);
        if (rc != 0) {
            fprintf(stderr, "distbench: server start failed: %s\n", fx_strerror(rc));
            status = 1;
        } else {
            printf("ready\n");
            fflush(stdout);
            int sig;
            sigwait(&set, &sig);
        }
    } else {
        status = run_client(vm, inbox, argv[5], call, erlang, n, fx_vm_threads(vm));
    }
    fx_dist_stop(vm);
    fx_inbox_destroy(inbox);
    fx_vm_destroy(vm);
    return status;
}
