/* An HTTP/1.1 server: one actor per connection under a dynamic
 * supervisor (docs/http.md; the processes are in http/service.c, the
 * parser in http/parse.c).
 *
 *   http_server                    self-test: starts the server, drives it
 *                                  with a client in this program and prints
 *                                  what it saw (http_server.out)
 *   http_server --serve PORT [--threads T] [--idle MS]
 *                                  serves on 127.0.0.1:PORT (0: any free
 *                                  port) until SIGINT/SIGTERM; prints
 *                                  "port N" once it listens (tools/bench) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http/service.h"

/* ---- a blocking client (plain sockets, in main's thread) ------------------- */

static uint16_t port;

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 10}; /* a generous bound, never a timing check */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

static void say(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0) {
            perror("write");
            exit(1);
        }
        s += w, n -= (size_t) w;
    }
}

typedef struct reply {
    int status;
    char body[256];
    size_t len;
    char raw[512]; /* the whole answer, when it fits */
    size_t raw_len;
} reply;

/* Bytes read but not consumed yet, per connection (one at a time here). */
static char rbuf[1 << 16];
static size_t rhave;

/* Reads one answer; false on EOF or timeout. */
static bool hear(int fd, reply *r)
{
    for (;;) {
        char *end = memmem(rbuf, rhave, "\r\n\r\n", 4);
        if (end) {
            size_t head = (size_t) (end - rbuf) + 4, len = 0;
            char *cl = memmem(rbuf, head, "Content-Length: ", 16);
            if (cl)
                len = strtoul(cl + 16, NULL, 10);
            if (rhave >= head + len) {
                r->status = atoi(rbuf + 9);
                r->len = len < sizeof r->body ? len : sizeof r->body - 1;
                memcpy(r->body, rbuf + head, r->len);
                r->body[r->len] = 0;
                r->raw_len = head + len < sizeof r->raw ? head + len : 0;
                memcpy(r->raw, rbuf, r->raw_len);
                memmove(rbuf, rbuf + head + len, rhave - head - len);
                rhave -= head + len;
                return true;
            }
        }
        ssize_t n = read(fd, rbuf + rhave, sizeof rbuf - rhave);
        if (n <= 0)
            return false;
        rhave += (size_t) n;
    }
}

/* True when the server closes (EOF) before the 10 s bound. */
static bool closed(int fd)
{
    char b[4096];
    ssize_t n;
    while ((n = read(fd, b, sizeof b)) > 0) {
    }
    rhave = 0;
    return n == 0;
}

static void hang_up(int fd)
{
    close(fd);
    rhave = 0;
}

#define GET(p) "GET " p " HTTP/1.1\r\nHost: test\r\n\r\n"

/* A client that writes before it reads: LATE_N echo requests of LATE_BODY
 * bytes (request i's body is all 'a' + i % 26), written without reading
 * until the socket takes no more, so the server's answers back up: its
 * queue reaches the high-water mark, its sends answer FX_EAGAIN and it
 * stops reading. Another connection is served meanwhile. Then the
 * client reads while it writes the rest. True
 * when every answer came, whole and in order. Small socket buffers on
 * this side, so the kernel does not absorb it all. */
enum { LATE_N = 2048, LATE_BODY = 16000 };
static bool late_reader(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), small = 65536;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0)
        return false;
    static char req[LATE_BODY + 64], in[4 * LATE_BODY];
    int head =
        sprintf(req, "POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n", LATE_BODY);
    size_t rlen = (size_t) head + LATE_BODY, off = 0, have = 0;
    int wi = 0, ri = 0; /* requests written, answers read */
    bool reading = false, ok = true;
    memset(req + head, 'a', LATE_BODY);
    while (ok && ri < LATE_N) {
        if (wi < LATE_N) {
            ssize_t w = send(fd, req + off, rlen - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w > 0 && (off += (size_t) w) == rlen) {
                off = 0;
                memset(req + head, 'a' + ++wi % 26, LATE_BODY);
            }
            if (w > 0)
                continue;
            if (w < 0 && errno != EAGAIN)
                return close(fd), false;
            if (!reading) { /* the socket is full: meanwhile another client */
                reply r;
                int fd2 = dial();
                say(fd2, GET("/plaintext"), strlen(GET("/plaintext")));
                ok = hear(fd2, &r) && r.status == 200;
                hang_up(fd2);
            }
            reading = true; /* from now on, read too */
        }
        if (!reading)
            continue;
        struct pollfd pf = {.fd = fd, .events = POLLIN | (wi < LATE_N ? POLLOUT : 0)};
        if (poll(&pf, 1, 10000) <= 0) /* a generous bound, never a timing check */
            return close(fd), false;
        if (!(pf.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t n = read(fd, in + have, sizeof in - have);
        if (n <= 0)
            return close(fd), false;
        have += (size_t) n;
        for (;;) { /* whole answers: status 200, the body of request ri */
            char *end = memmem(in, have, "\r\n\r\n", 4), *cl;
            if (!end)
                break;
            size_t h = (size_t) (end - in) + 4;
            cl = memmem(in, h, "Content-Length: ", 16);
            size_t len = cl ? strtoul(cl + 16, NULL, 10) : 0;
            if (have < h + len)
                break;
            ok = ok && atoi(in + 9) == 200 && len == LATE_BODY;
            for (size_t k = 0; ok && k < len; k++)
                ok = in[h + k] == 'a' + ri % 26;
            ri++;
            memmove(in, in + h + len, have - h - len);
            have -= h + len;
        }
    }
    close(fd);
    return ok && reading;
}

static int self_test(void)
{
    reply r;
    int fd = dial(), same = 0;
    for (int i = 0; i < 3; i++) {
        say(fd, GET("/plaintext"), strlen(GET("/plaintext")));
        if (!hear(fd, &r))
            return 1;
        same +=
            r.raw_len == http_plaintext_len && !memcmp(r.raw, http_plaintext, r.raw_len);
    }
    printf("keep-alive: 3 requests on one connection, %d answers with the peers' bytes\n",
           same);

    char many[16 * sizeof GET("/plaintext")];
    size_t n = 0;
    for (int i = 0; i < 16; i++, n += strlen(GET("/plaintext")))
        memcpy(many + n, GET("/plaintext"), strlen(GET("/plaintext")));
    say(fd, many, n);
    for (const char *p = GET("/nothing"); *p; p++) /* split to single bytes */
        say(fd, p, 1);
    int ok = 0, missing = 0;
    for (int i = 0; i < 16; i++)
        ok += hear(fd, &r) && r.status == 200;
    missing = hear(fd, &r) && r.status == 404 ? 0 : 1;
    printf("pipelined: 16 requests in one write: %d x 200; one sent byte by byte: %s\n",
           ok, missing ? "lost" : "404");

    const char *post = "POST /echo HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
    say(fd, post, strlen(post) - 3); /* head, body split over three writes */
    say(fd, post + strlen(post) - 3, 3);
    say(fd, "hello", 5);
    say(fd, " world", 6);
    if (!hear(fd, &r))
        return 1;
    printf("POST /echo, body in pieces: %d \"%s\"\n", r.status, r.body);

    /* /counter between two pipelined requests: answers stay in order */
    const char *mix = GET("/plaintext") GET("/counter") GET("/plaintext");
    say(fd, mix, strlen(mix));
    printf("pipelined around a GenServer call:");
    for (int i = 0; i < 3; i++) {
        if (!hear(fd, &r))
            return 1;
        r.body[strcspn(r.body, "\n")] = 0;
        if (i == 1)
            printf(" %d (counter %s)", r.status, r.body);
        else
            printf(" %d", r.status);
    }
    printf("\n");
    hang_up(fd);

    printf("counter from 3 connections:");
    for (int i = 0; i < 3; i++) {
        fd = dial();
        say(fd, GET("/counter"), strlen(GET("/counter")));
        if (!hear(fd, &r))
            return 1;
        r.body[strcspn(r.body, "\n")] = 0;
        printf(" %s", r.body);
        hang_up(fd);
    }
    printf("\n");

    printf("a client that reads late (the server stops reading meanwhile): %s\n",
           late_reader() ? "every answer, in order" : "answers lost or out of order");

    const char *bad[] = {"GARBAGE\r\n\r\n", "GET / HTTP/1.1\nHost: x\n\n",
                         "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                         "GET / HTTP/1.1\r\n folded: header\r\n\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fd = dial();
        say(fd, bad[i], strlen(bad[i]));
        bool got = hear(fd, &r);
        printf("malformed request %zu: %d, then %s\n", i + 1, got ? r.status : 0,
               closed(fd) ? "closed" : "still open");
        hang_up(fd);
    }

    fd = dial();
    static char big[10000];
    n = (size_t) sprintf(big, "GET / HTTP/1.1\r\nX-Big: ");
    memset(big + n, 'a', sizeof big - n);
    say(fd, big, sizeof big);
    bool got = hear(fd, &r);
    printf("10 kB of headers: %d, then %s\n", got ? r.status : 0,
           closed(fd) ? "closed" : "still open");
    hang_up(fd);

    fd = dial();
    say(fd, "GET /plaintext HTTP/1.0\r\n\r\n", 27);
    got = hear(fd, &r);
    printf("HTTP/1.0: %d, then %s\n", got ? r.status : 0,
           closed(fd) ? "closed" : "still open");
    hang_up(fd);

    fd = dial(); /* says nothing */
    printf("a silent connection: %s\n", closed(fd) ? "closed when idle" : "still open");
    hang_up(fd);
    return 0;
}

/* ---- main -------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    http_config cfg = {.idle_ms = 300};
    fx_vm_config vc;
    fx_vm_config_init(&vc);
    bool serve = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--serve") && i + 1 < argc) {
            serve = true;
            cfg.port = (uint16_t) atoi(argv[++i]);
            cfg.idle_ms = 60000;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            vc.threads = (uint32_t) atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--idle") && i + 1 < argc) {
            cfg.idle_ms = atoll(argv[++i]);
        } else {
            fprintf(stderr,
                    "usage: http_server [--serve PORT [--threads T] [--idle MS]]\n");
            return 2;
        }
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (serve) /* before the VM's threads exist: they inherit the mask */
        pthread_sigmask(SIG_BLOCK, &stop, NULL);

    fx_vm *vm;
    fx_inbox *in;
    http_server srv;
    int rc;
    if ((rc = fx_vm_create(&vc, &vm)) || (rc = fx_vm_start(vm)) ||
        (rc = fx_inbox_create(vm, &in)) || (rc = http_server_start(in, &cfg, &srv))) {
        fprintf(stderr, "http_server: %s\n", fx_strerror(rc));
        return 1;
    }
    port = srv.port;
    if (serve) {
        printf("port %u\n", port);
        fflush(stdout);
        int sig;
        sigwait(&stop, &sig);
        rc = 0;
    } else {
        rc = self_test();
        printf("%s\n", rc == 0 ? "done" : "failed");
    }
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    return rc;
}
