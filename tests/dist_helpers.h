/* Helpers of the distribution suites that talk to real nodes
 * (tests/dist_test.c, tests/dist_termpid_test.c): a private epmd and erl
 * children on loopback, started here and stopped by pid (also on failure:
 * the suite's fini and atexit), and fauxtp nodes. One copy per test
 * program (static functions). */
#ifndef FX_TESTS_DIST_HELPERS_H
#define FX_TESTS_DIST_HELPERS_H

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child_guard.h"
#include "helpers.h"

#define COOKIE "fxtestcookie"
#define FXNODE "fx@127.0.0.1"

static pid_t kids[8];
static int nkids;
static char epmd_port[16];
static char home[64];

static inline void kill_kids(void)
{
    for (int i = 0; i < nkids; i++)
        if (kids[i] > 0) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
            kids[i] = 0;
        }
    nkids = 0;
    if (home[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", home);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", home);
        home[0] = '\0';
    }
}

static inline void skip_unless_ready(void)
{
    if (access("/usr/bin/erl", X_OK) != 0 || access("/usr/bin/epmd", X_OK) != 0)
        cr_skip_test("erl or epmd not installed (erlang-base)");
}

static inline uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    cr_assert_eq(bind(s, (struct sockaddr *) &a, sizeof a), 0);
    getsockname(s, (struct sockaddr *) &a, &l);
    close(s);
    return ntohs(a.sin_port);
}

static inline pid_t spawn_argv(char *const argv[])
{
    pid_t self = getpid();
    pid_t p = fork();
    cr_assert_geq(p, 0);
    if (p == 0) {
        child_dies_with(self);
        setenv("ERL_EPMD_PORT", epmd_port, 1);
        setenv("HOME", home, 1);
        if (chdir(home) != 0) /* erl_crash.dump, if any, lands there */
            _exit(126);
        dup2(2, 1); /* stdout is the TAP stream under meson */
        execv(argv[0], argv);
        _exit(127);
    }
    kids[nkids++] = p;
    return p;
}

static inline void start_epmd(void)
{
    atexit(kill_kids);
    snprintf(home, sizeof home, "/tmp/fxdist.XXXXXX");
    cr_assert_not_null(mkdtemp(home));
    snprintf(epmd_port, sizeof epmd_port, "%u", (unsigned) free_port());
    char *argv[] = {"/usr/bin/epmd", "-port", epmd_port, "-address", "127.0.0.1", NULL};
    spawn_argv(argv);
}

/* An erl node name@127.0.0.1 that listens on loopback only. */
static inline pid_t start_erl(const char *name, const char *cookie, const char *script)
{
    char *argv[] = {"/usr/bin/erl",
                    "-name",
                    (char *) name,
                    "-setcookie",
                    (char *) cookie,
                    "-kernel",
                    "inet_dist_use_interface",
                    "{127,0,0,1}",
                    "-noshell",
                    "-eval",
                    (char *) script,
                    NULL};
    return spawn_argv(argv);
}

/* The erl's exit status, waiting at most secs seconds (-1 after that). */
static inline int erl_status_within(pid_t p, int secs)
{
    for (int i = 0; i < secs * 10; i++) {
        int st;
        if (waitpid(p, &st, WNOHANG) == p) {
            for (int k = 0; k < nkids; k++)
                if (kids[k] == p)
                    kids[k] = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(100000);
    }
    return -1;
}

/* The erl's exit status, waiting at most 30 s (-1 after that). */
static inline int erl_status(pid_t p)
{
    return erl_status_within(p, 30);
}

/* A node on a VM made from cfg (NULL: 2 threads, the defaults). */
static inline tvm node_vm_cfg(const char *name, uint32_t tick_ms, const fx_vm_config *cfg)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    tvm t = tvm_start_with(cfg ? cfg : &c);
    fx_dist_opts o = {.name = name,
                      .cookie = COOKIE,
                      .listen_ip = "127.0.0.1",
                      .epmd_port = (uint16_t) atoi(epmd_port),
                      .tick_ms = tick_ms,
                      /* epmd's answer took over the default 7 s once, under
                       * ASan on a loaded CI machine: generous, not a bound
                       * any test checks */
                      .setup_ms = 30000};
    int rc = FX_ECONNECT;
    for (int i = 0; i < 100 && rc == FX_ECONNECT; i++) { /* epmd may still be starting */
        rc = fx_dist_start(t.vm, &o);
        if (rc == FX_ECONNECT)
            usleep(50000);
    }
    if (rc == FX_ENOTDIST) {
        tvm_stop(&t);
        cr_skip_test("built without distribution (-Ddist)");
    }
    cr_assert_eq(rc, 0, "fx_dist_start: %s", fx_strerror(rc));
    return t;
}

static inline tvm node_vm_tick(const char *name, uint32_t tick_ms)
{
    return node_vm_cfg(name, tick_ms, NULL);
}

static inline tvm node_vm(const char *name)
{
    return node_vm_tick(name, 0);
}

/* Echo: replies to each user message with type + 1, and to a term with
 * the same term. */
static inline fx_next echo(fx_ctx *cx, fx_msg *m)
{
    uint32_t t = fx_msg_type(m);
    if (t < FX_MSG_SYSTEM_BASE)
        fx_send(cx, fx_msg_from(m), t + 1, fx_msg_data(m), fx_msg_size(m));
    else if (t == FX_MSG_TERM)
        fx_send(cx, fx_msg_from(m), FX_MSG_TERM, fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

static inline void start_echo(tvm *t)
{
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t->vm, echo, NULL, &p), 0);
    cr_assert_eq(fx_register(t->in, "echo", p, NULL), 0);
}

/* Connects, retrying while the node is not registered yet (erl boots). */
static inline int connect_retry(fx_vm *vm, const char *node)
{
    int rc = FX_ENODE;
    for (int i = 0; i < 150 && rc == FX_ENODE; i++) {
        rc = fx_dist_connect(vm, node, 5000);
        if (rc == FX_ENODE)
            usleep(100000);
    }
    return rc;
}

#endif
