/* The control socket (include/fauxtp/control.h, fx_vm_config.control_path):
 * its file's life (created at start, removed at shutdown, stale files
 * replaced, other files refused, paths too long refused), the protocol's
 * framing and errors, the server's bounds, and fx_vm_metrics_text. The
 * end-to-end run with fauxtp-top and the Prometheus parser is
 * tests/ctl/ctl_top.py. */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A fresh directory under $TMPDIR (or /tmp) for one test's socket. */
static void tmpdir(char *dir, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, size, "%s/fauxtp-ctl-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
}

static fx_vm_config ctl_config(const char *path)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.control_path = path;
    c.crash_logger = fx_crash_logger_silent;
    return c;
}

static int ctl_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(path), sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0, "connect %s: %s",
                 path, strerror(errno));
    return fd;
}

/* Reads one response (up to its empty line) into buf, within 10 s. */
static size_t ctl_read(int fd, char *buf, size_t size)
{
    size_t len = 0;
    for (;;) {
        buf[len] = '\0';
        if ((len >= 1 && buf[0] == '\n') || strstr(buf, "\n\n"))
            return len;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        cr_assert_eq(poll(&p, 1, 10000), 1, "no answer within 10 s");
        ssize_t n = read(fd, buf + len, size - 1 - len);
        cr_assert_gt(n, 0, "connection closed; got %zu bytes: %s", len, buf);
        len += (size_t) n;
        cr_assert_lt(len, size - 1, "response too large for the test buffer");
    }
}

static void ctl_ask(const char *path, const char *req, char *buf, size_t size)
{
    int fd = ctl_connect(path);
    cr_assert_eq(write(fd, req, strlen(req)), (ssize_t) strlen(req));
    ctl_read(fd, buf, size);
    close(fd);
}

/* True when the peer closes fd within 10 s (after whatever it sends). */
static bool ctl_closed(int fd)
{
    char b[4096];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) != 1)
            return false;
        ssize_t n = read(fd, b, sizeof b);
        if (n <= 0)
            return true;
    }
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

Test(ctl, socket_lives_from_start_to_shutdown)
{
    char dir[256], path[300], buf[8192];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/vm.sock", dir);
    fx_vm_config c = ctl_config(path);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_not(exists(path), "opened before fx_vm_start");
    cr_assert_eq(fx_vm_start(vm), 0);
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISSOCK(st.st_mode));
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", (unsigned) (st.st_mode & 0777));
    ctl_ask(path, "stats\n", buf, sizeof buf);
    cr_assert(strstr(buf, "\"running\":true"), "%s", buf);
    cr_assert(strstr(buf, "\"processes\":"), "%s", buf);
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    cr_assert_not(exists(path), "socket file left after shutdown");
    fx_vm_destroy(vm);
    rmdir(dir);
}

Test(ctl, config_path_is_copied)
{
    char dir[256], buf[8192];
    tmpdir(dir, sizeof dir);
    char *path = malloc(300);
    snprintf(path, 300, "%s/vm.sock", dir);
    char keep[300];
    snprintf(keep, sizeof keep, "%s", path);
    fx_vm_config c = ctl_config(path);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    memset(path, 'x', 299);
    free(path);
    cr_assert_eq(fx_vm_start(vm), 0);
    ctl_ask(keep, "stats\n", buf, sizeof buf);
    cr_assert(strstr(buf, "\"processes\":"), "%s", buf);
    fx_vm_destroy(vm);
    cr_assert_not(exists(keep));
    rmdir(dir);
}

Test(ctl, path_too_long_or_empty)
{
    char path[200];
    memset(path, 'a', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    fx_vm_config c = ctl_config(path);
    fx_vm *vm = (fx_vm *) 1;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    cr_assert_null(vm);
    path[108] = '\0'; /* 108 bytes: one more than sun_path holds */
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    c.control_path = "";
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
}

Test(ctl, stale_socket_replaced)
{
    char dir[256], path[300], buf[8192];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/vm.sock", dir);
    /* A socket file nobody listens on, as a crashed process leaves it. */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(path), sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_eq(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
    close(fd);
    cr_assert(exists(path));
    fx_vm_config c = ctl_config(path);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    ctl_ask(path, "stats\n", buf, sizeof buf);
    cr_assert(strstr(buf, "\"running\":true"), "%s", buf);
    fx_vm_destroy(vm);
    cr_assert_not(exists(path));
    rmdir(dir);
}

Test(ctl, regular_file_refused_and_kept)
{
    char dir[256], path[300];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/not-a-socket", dir);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "data", 4), 4);
    close(fd);
    fx_vm_config c = ctl_config(path);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), FX_EEXIST);
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISREG(st.st_mode) && st.st_size == 4, "the file was touched");
    /* The VM did not start; it is destroyed as any unstarted VM. */
    cr_assert_eq(fx_vm_running(vm), 0);
    fx_vm_destroy(vm);
    cr_assert(exists(path));
    unlink(path);
    rmdir(dir);
}

Test(ctl, live_socket_refused)
{
    char dir[256], path[300], buf[8192];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/vm.sock", dir);
    fx_vm_config c = ctl_config(path);
    fx_vm *a, *b;
    cr_assert_eq(fx_vm_create(&c, &a), 0);
    cr_assert_eq(fx_vm_start(a), 0);
    cr_assert_eq(fx_vm_create(&c, &b), 0);
    cr_assert_eq(fx_vm_start(b), FX_EADDR);
    fx_vm_destroy(b);
    /* b's failure left a's socket alone. */
    ctl_ask(path, "stats\n", buf, sizeof buf);
    cr_assert(strstr(buf, "\"running\":true"), "%s", buf);
    fx_vm_destroy(a);
    cr_assert_not(exists(path));
    rmdir(dir);
}

/* A wedged server: it listens but never accepts, and its backlog is full.
 * The stale check must not wait for it (a blocking connect would wait
 * until it accepts, forever here): the path is live, FX_EADDR at once. */
Test(ctl, wedged_server_with_full_backlog_is_live, .timeout = 30)
{
    char dir[256], path[300];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/vm.sock", dir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(path), sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path));
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(bind(lfd, (struct sockaddr *) &sa, sizeof sa), 0);
    cr_assert_eq(listen(lfd, 0), 0);
    /* Fill the backlog: non-blocking connects until one is refused with
     * EAGAIN (a bounded number of tries). */
    int cfd[16], nc = 0;
    bool full = false;
    while (nc < 16 && !full) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        cr_assert_geq(fd, 0);
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0) {
            cfd[nc++] = fd;
        } else {
            cr_assert_eq(errno, EAGAIN, "connect: %s", strerror(errno));
            close(fd);
            full = true;
        }
    }
    cr_assert(full, "the backlog never filled");
    fx_vm_config c = ctl_config(path);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), FX_EADDR);
    fx_vm_destroy(vm);
    /* The wedged server's socket is left alone. */
    cr_assert(exists(path));
    for (int i = 0; i < nc; i++)
        close(cfd[i]);
    close(lfd);
    unlink(path);
    rmdir(dir);
}

Test(ctl, file_replaced_meanwhile_is_not_removed)
{
    char dir[256], path[300], moved[320];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/vm.sock", dir);
    snprintf(moved, sizeof moved, "%s/moved.sock", dir);
    fx_vm_config c = ctl_config(path);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    /* Someone moves our socket away and puts a file of theirs there. */
    cr_assert_eq(rename(path, moved), 0);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    cr_assert_geq(fd, 0);
    close(fd);
    fx_vm_destroy(vm);
    cr_assert(exists(path), "shutdown removed a file that is not its socket");
    unlink(path);
    unlink(moved);
    rmdir(dir);
}

Test(ctl, protocol_errors_and_framing)
{
    char dir[256], path[300], buf[65536];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/vm.sock", dir);
    fx_vm_config c = ctl_config(path);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    int fd = ctl_connect(path);
    static const struct {
        const char *req, *want;
    } cases[] = {
        {"\n", "{\"error\":\"FX_EINVAL\""},
        {"nope\n", "{\"error\":\"FX_EINVAL\""},
        {"stats extra\n", "{\"error\":\"FX_EINVAL\""},
        {"\x01\x02\xff\n", "not a request"},
        {"a b c d e f g h i j\n", "too many words"},
        {"help\n", "{\"commands\":["},
        {"stats\r\n", "\"processes\":"},
        {"metrics\n", "# TYPE fauxtp_processes gauge\nfauxtp_processes "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(write(fd, cases[i].req, strlen(cases[i].req)),
                     (ssize_t) strlen(cases[i].req));
        size_t n = ctl_read(fd, buf, sizeof buf);
        cr_assert(strstr(buf, cases[i].want), "%s -> %s", cases[i].req, buf);
        /* Exactly one response: it ends the text read so far. */
        cr_assert_eq(strstr(buf, "\n\n") ? (size_t) (strstr(buf, "\n\n") - buf) + 2 : 1,
                     n, "%s -> %s", cases[i].req, buf);
    }
    /* A word longer than 127 bytes, and a line longer than 1024. */
    char big[2048];
    memset(big, 'w', 200);
    strcpy(big + 200, "\n");
    cr_assert_eq(write(fd, big, 201), 201);
    ctl_read(fd, buf, sizeof buf);
    cr_assert(strstr(buf, "longer than 127"), "%s", buf);
    memset(big, 'x', sizeof big);
    cr_assert_eq(write(fd, big, sizeof big), (ssize_t) sizeof big);
    ctl_read(fd, buf, sizeof buf);
    cr_assert(strstr(buf, "FX_ELIMIT"), "%s", buf);
    cr_assert(ctl_closed(fd), "an over-long line must close the connection");
    close(fd);
    fx_vm_destroy(vm);
    rmdir(dir);
}

Test(ctl, clients_beyond_the_limit_are_told)
{
    char dir[256], path[300], buf[8192];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/vm.sock", dir);
    fx_vm_config c = ctl_config(path);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    int fds[16];
    for (int i = 0; i < 16; i++) {
        fds[i] = ctl_connect(path);
        /* Served: each holds a slot from here on. */
        cr_assert_eq(write(fds[i], "help\n", 5), 5);
        ctl_read(fds[i], buf, sizeof buf);
    }
    int extra = ctl_connect(path);
    ctl_read(extra, buf, sizeof buf);
    cr_assert(strstr(buf, "too many control connections"), "%s", buf);
    cr_assert(ctl_closed(extra));
    close(extra);
    close(fds[0]);
    /* A freed slot is served again (the close is seen before the accept
     * or on a later round: try a few times, bounded). */
    bool served = false;
    for (int i = 0; i < 100 && !served; i++) {
        int fd = ctl_connect(path);
        cr_assert_eq(write(fd, "stats\n", 6), 6);
        ctl_read(fd, buf, sizeof buf);
        served = strstr(buf, "\"processes\":") != NULL;
        close(fd);
        if (!served)
            usleep(10000);
    }
    cr_assert(served, "%s", buf);
    for (int i = 1; i < 16; i++)
        close(fds[i]);
    fx_vm_destroy(vm);
    rmdir(dir);
}

Test(ctl, shutdown_with_clients_connected)
{
    char dir[256], path[300];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/vm.sock", dir);
    fx_vm_config c = ctl_config(path);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    int idle = ctl_connect(path);
    int half = ctl_connect(path);
    cr_assert_eq(write(half, "sta", 3), 3);
    int greedy = ctl_connect(path);
    fcntl(greedy, F_SETFL, O_NONBLOCK);
    for (int i = 0; i < 10000 && write(greedy, "metrics\n", 8) == 8; i++)
        ;
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    cr_assert_not(exists(path));
    fcntl(greedy, F_SETFL, 0);
    cr_assert(ctl_closed(idle) && ctl_closed(half) && ctl_closed(greedy));
    close(idle);
    close(half);
    close(greedy);
    fx_vm_destroy(vm);
    rmdir(dir);
}

Test(ctl, metrics_text)
{
    tvm t = tvm_start(2);
    int n = fx_vm_metrics_text(t.vm, NULL, 0);
    cr_assert_gt(n, 100);
    char *buf = malloc((size_t) n + 1);
    cr_assert_eq(fx_vm_metrics_text(t.vm, buf, (size_t) n + 1), n);
    cr_assert_eq(strlen(buf), (size_t) n);
    cr_assert(strstr(buf, "# TYPE fauxtp_up gauge\nfauxtp_up 1\n"), "%s", buf);
    cr_assert(strstr(buf, "# TYPE fauxtp_processes_spawned_total counter\n"), "%s", buf);
    /* Cut like snprintf: NUL-terminated, the full length returned. */
    char small[16];
    cr_assert_eq(fx_vm_metrics_text(t.vm, small, sizeof small), n);
    cr_assert_eq(strlen(small), sizeof small - 1);
    cr_assert_eq(memcmp(small, buf, sizeof small - 1), 0);
    free(buf);
    fx_vm *vm = t.vm;
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(vm), 0);
    char after[8192];
    cr_assert_gt(fx_vm_metrics_text(vm, after, sizeof after), 0);
    cr_assert(strstr(after, "fauxtp_up 0\n"), "%s", after);
    fx_vm_destroy(vm);
}

static fx_next ctl_idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

/* Starts a VM with a control socket in a fresh directory. */
static fx_vm *ctl_vm_start(char *dir, size_t dsize, char *path, size_t psize)
{
    tmpdir(dir, dsize);
    snprintf(path, psize, "%s/vm.sock", dir);
    fx_vm_config c = ctl_config(path);
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    return vm;
}

Test(ctl, labels_are_escaped_json)
{
    char dir[256], path[300], buf[65536];
    fx_vm *vm = ctl_vm_start(dir, sizeof dir, path, sizeof path);
    /* A quote, a backslash, a newline, a control byte, a byte that is
     * not UTF-8, and a valid two-byte sequence (e-acute). */
    static const char label[] = "a\"b\\c\nd\x01"
                                "e\xff"
                                "f\xc3\xa9";
    fx_spawn_opts o = {.handler = ctl_idle, .label = label};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(vm, &o, &p), 0);
    char pid[48], req[96];
    fx_pid_format(p, pid, sizeof pid);
    snprintf(req, sizeof req, "info %s\n", pid);
    ctl_ask(path, req, buf, sizeof buf);
    cr_assert(strstr(buf, "\"label\":\"a\\\"b\\\\c\\u000ad\\u0001e\\ufffdf\xc3\xa9\""),
              "%s", buf);
    /* One line: the newline in the label did not end it. */
    cr_assert_eq(strchr(buf, '\n'), strstr(buf, "\n\n"), "%s", buf);
    fx_vm_destroy(vm);
    rmdir(dir);
}

Test(ctl, info_pid_forms)
{
    char dir[256], path[300], buf[8192];
    fx_vm *vm = ctl_vm_start(dir, sizeof dir, path, sizeof path);
    fx_spawn_opts o = {.handler = ctl_idle, .label = "target"};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(vm, &o, &p), 0);
    char pid[48], req[96];
    fx_pid_format(p, pid, sizeof pid);
    snprintf(req, sizeof req, "info %s\n", pid);
    ctl_ask(path, req, buf, sizeof buf);
    cr_assert(strstr(buf, "\"label\":\"target\""), "%s", buf);
    /* Without the brackets. */
    pid[strlen(pid) - 1] = '\0';
    snprintf(req, sizeof req, "info %s\n", pid + 1);
    ctl_ask(path, req, buf, sizeof buf);
    cr_assert(strstr(buf, "\"label\":\"target\""), "%s", buf);
    static const char *const bad[] = {
        "<1.2>", "<0.1.1>",  "<1.1.0>",           "1.1.1>",      "<1.1.1",   "<1.1.1>x",
        "1..1",  "<1.-1.1>", "<1.1.99999999999>", "<70000.1.1>", "<1.1.1.1>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(req, sizeof req, "info %s\n", bad[i]);
        ctl_ask(path, req, buf, sizeof buf);
        cr_assert(strstr(buf, "{\"error\":\"FX_EINVAL\""), "%s -> %s", bad[i], buf);
    }
    /* A well-formed pid of no live process, and an unknown name. */
    ctl_ask(path, "info <1.4000.7>\n", buf, sizeof buf);
    cr_assert(strstr(buf, "{\"error\":\"FX_ENOPROC\""), "%s", buf);
    ctl_ask(path, "info nobody\n", buf, sizeof buf);
    cr_assert(strstr(buf, "{\"error\":\"FX_ENOENT\""), "%s", buf);
    fx_vm_destroy(vm);
    rmdir(dir);
}

Test(ctl, ps_sorts_and_limits)
{
    char dir[256], path[300], buf[1 << 16];
    fx_vm *vm = ctl_vm_start(dir, sizeof dir, path, sizeof path);
    fx_inbox *in;
    cr_assert_eq(fx_inbox_create(vm, &in), 0);
    /* Three idle processes that get 1, 2 and 3 messages. */
    fx_pid p[3];
    for (int i = 0; i < 3; i++) {
        fx_spawn_opts o = {.handler = ctl_idle,
                           .label = i == 0   ? "q1"
                                    : i == 1 ? "q2"
                                             : "q3"};
        cr_assert_eq(fx_vm_spawn_opt(vm, &o, &p[i]), 0);
        for (int k = 0; k <= i; k++)
            cr_assert_eq(fx_inbox_send(in, p[i], 1, NULL, 0), 0);
    }
    /* Wait (bounded) until all are handled: the queue is then empty, and
     * `messages` ranks q3 (3 handled) first. */
    bool ok = false;
    for (int tries = 0; tries < 1000 && !ok; tries++) {
        ctl_ask(path, "ps --sort messages --top 2\n", buf, sizeof buf);
        char *a = strstr(buf, "\"label\":\"q3\""), *b = strstr(buf, "\"label\":\"q2\"");
        ok = a && b && a < b && !strstr(buf, "\"label\":\"q1\"") &&
             strstr(buf, "\"handled\":3") && strstr(buf, "\"handled\":2");
        if (!ok)
            usleep(10000);
    }
    cr_assert(ok, "%s", buf);
    /* Exactly two lines. */
    int lines = 0;
    for (char *s = buf; *s; s++)
        lines += *s == '\n';
    cr_assert_eq(lines, 3, "%s", buf); /* two, then the empty line */
    static const char *const bad[] = {"ps --top 0\n", "ps --top 10001\n",
                                      "ps --top x\n", "ps --sort size\n",
                                      "ps --top\n",   "ps extra\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ctl_ask(path, bad[i], buf, sizeof buf);
        cr_assert(strstr(buf, "{\"error\":\"FX_EINVAL\""), "%s -> %s", bad[i], buf);
    }
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    rmdir(dir);
}
