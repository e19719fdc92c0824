/* Stress: control-socket clients (ps, info, stats, metrics, timing) race
 * with process churn, and the VM shuts down under a client that keeps
 * asking. Checks that every answer is well framed (JSON lines or
 * Prometheus lines, then the empty line), that the client threads see the
 * connection end cleanly at shutdown, and that the socket file is gone.
 * A plain program (exit status), so it runs under ThreadSanitizer.
 * usage: ctl_stress [ROUNDS] */
#include <errno.h>
#include <fauxtp/fauxtp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { GO = 1, DONE = 2 };
#define CHURN 20000
#define CLIENT_REQS 200

static int failures; /* atomic */

static void failf(const char *what)
{
    fprintf(stderr, "ctl_stress: %s\n", what);
    __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
}

static fx_next shortlived(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_normal());
}

typedef struct churn {
    fx_pid report;
    uint32_t spawned;
} churn;

static fx_next churn_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    churn *st = fx_state(cx);
    fx_spawn_opts o = {.handler = shortlived, .label = "shortlived"};
    for (int i = 0; i < 100 && st->spawned < CHURN; i++) {
        fx_pid p;
        if (fx_spawn_opt(cx, &o, &p) != 0)
            break;
        st->spawned++;
        fx_send(cx, p, GO, NULL, 0);
    }
    fx_send(cx, st->spawned < CHURN ? fx_self(cx) : st->report,
            st->spawned < CHURN ? GO : DONE, NULL, 0);
    return fx_continue(cx);
}

static int conn(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One request; 1 on a well-framed answer, 0 when the connection ended
 * (before or during the answer), -1 on a malformed answer. */
static int request(int fd, const char *req, char *buf, size_t size)
{
    size_t n = strlen(req);
    if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t) n)
        return 0;
    size_t len = 0;
    for (;;) {
        buf[len] = '\0';
        char *end = strstr(buf, "\n\n");
        if (end || (len && buf[0] == '\n')) {
            /* Every line is JSON or Prometheus text. */
            for (char *l = buf; l < (end ? end : buf); l = strchr(l, '\n') + 1)
                if (l[0] != '{' && l[0] != '#' && strncmp(l, "fauxtp_", 7) != 0)
                    return -1;
            return 1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 30000) != 1)
            return -1; /* no answer and no close within 30 s */
        ssize_t r = recv(fd, buf + len, size - 1 - len, 0);
        if (r <= 0)
            return 0;
        len += (size_t) r;
        if (len == size - 1)
            return -1;
    }
}

typedef struct client {
    const char *path;
    int reqs; /* < 0: until the connection ends */
    int answered;
    pthread_t thread;
} client;

static void *client_main(void *arg)
{
    client *c = arg;
    static const char *const reqs[] = {"ps --sort runtime --top 50\n",
                                       "stats\n",
                                       "metrics\n",
                                       "info churn\n",
                                       "timing on\n",
                                       "names\n",
                                       "ps --sort queue --top 5\n",
                                       "timing off\n"};
    char *buf = malloc(1 << 20);
    int fd = -1;
    for (int i = 0; c->reqs < 0 || i < c->reqs; i++) {
        if (fd < 0 || i % 50 == 0) {
            if (fd >= 0)
                close(fd);
            fd = conn(c->path);
            if (fd < 0) {
                if (c->reqs < 0)
                    break; /* the VM has gone */
                failf("connect failed while the VM runs");
                break;
            }
        }
        int rc = request(fd, reqs[i % 8], buf, 1 << 20);
        if (rc < 0) {
            failf("malformed or missing answer");
            break;
        }
        if (rc == 0) {
            if (c->reqs >= 0)
                failf("connection ended while the VM runs");
            break;
        }
        __atomic_fetch_add(&c->answered, 1, __ATOMIC_RELAXED);
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

static int round_once(const char *dir, int r)
{
    char path[256];
    snprintf(path, sizeof path, "%s/r%d.sock", dir, r);
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    cfg.control_path = path;
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&cfg, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in)) {
        failf("VM start");
        return 1;
    }
    churn init = {.report = fx_inbox_pid(in)};
    fx_spawn_opts o = {.handler = churn_h,
                       .state_size = sizeof init,
                       .state_init = &init,
                       .label = "churner"};
    fx_pid ch;
    if (fx_vm_spawn_opt(vm, &o, &ch) || fx_register(in, "churn", ch, NULL) ||
        fx_inbox_send(in, ch, GO, NULL, 0)) {
        failf("churn start");
        return 1;
    }
    client cl[2] = {{.path = path, .reqs = CLIENT_REQS},
                    {.path = path, .reqs = CLIENT_REQS}};
    for (int i = 0; i < 2; i++)
        pthread_create(&cl[i].thread, NULL, client_main, &cl[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(cl[i].thread, NULL);
    fx_match m = {.type = DONE};
    fx_msg *msg = NULL;
    if (fx_inbox_recv(in, &m, 60000, &msg) != 0)
        failf("churn did not finish");
    fx_msg_free(msg);
    /* Shut down under a client that keeps asking. */
    client last = {.path = path, .reqs = -1};
    pthread_create(&last.thread, NULL, client_main, &last);
    while (__atomic_load_n(&last.answered, __ATOMIC_RELAXED) < 5 &&
           __atomic_load_n(&failures, __ATOMIC_RELAXED) == 0)
        usleep(1000);
    fx_inbox_destroy(in);
    if (fx_vm_shutdown(vm) != 0)
        failf("shutdown");
    pthread_join(last.thread, NULL);
    fx_vm_destroy(vm);
    struct stat st;
    if (lstat(path, &st) == 0)
        failf("socket file left after shutdown");
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    const char *base = getenv("TMPDIR");
    char dir[200];
    snprintf(dir, sizeof dir, "%s/fauxtp-ctls-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    for (int r = 0; r < rounds && !__atomic_load_n(&failures, __ATOMIC_RELAXED); r++)
        round_once(dir, r);
    rmdir(dir);
    int f = __atomic_load_n(&failures, __ATOMIC_RELAXED);
    if (f) {
        fprintf(stderr, "ctl_stress: %d failures\n", f);
        return 1;
    }
    printf("ctl_stress: %d rounds ok\n", rounds);
    return 0;
}
