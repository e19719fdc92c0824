/* The raw-epoll peer of the I/O benchmark (issue 14): a minimal
 * single-threaded HTTP/1.1 server on edge-triggered epoll, the physical
 * limit on this machine. Answers every request (GET, no body; pipelined
 * requests included) with the same plaintext response as the other
 * systems, keeps connections alive. Usage: rawepoll-http PORT (0: any
 * free port); prints "port N" once it listens. Loopback only. Run by
 * tools/bench --io (tools/lib/bench_io.sh). A client whose write would
 * block is dropped (wrk always reads, so it never happens there). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n"
                           "Content-Type: text/plain\r\n\r\nHello, World!";

typedef struct conn {
    int fd;
    size_t have; /* bytes of an unfinished request kept in buf */
    char buf[8192];
} conn;

/* Answers every complete request in c->buf[0..have); keeps the rest. */
static int serve(conn *c)
{
    static char out[64 * sizeof RESP];
    size_t start = 0, n = 0;
    for (size_t i = 3; i < c->have; i++) {
        if (c->buf[i] == '\n' && c->buf[i - 1] == '\r' && c->buf[i - 2] == '\n' &&
            c->buf[i - 3] == '\r') {
            if (n + sizeof RESP - 1 > sizeof out) {
                if (write(c->fd, out, n) != (ssize_t) n)
                    return -1;
                n = 0;
            }
            memcpy(out + n, RESP, sizeof RESP - 1);
            n += sizeof RESP - 1;
            start = i + 1;
        }
    }
    if (n && write(c->fd, out, n) != (ssize_t) n)
        return -1; /* a client that does not read is dropped */
    memmove(c->buf, c->buf + start, c->have - start);
    c->have -= start;
    return c->have == sizeof c->buf ? -1 : 0; /* header too large */
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t) port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(ls, (struct sockaddr *) &sa, sizeof sa) || listen(ls, SOMAXCONN)) {
        perror("rawepoll-http: listen");
        return 1;
    }
    socklen_t salen = sizeof sa;
    getsockname(ls, (struct sockaddr *) &sa, &salen);
    printf("port %u\n", ntohs(sa.sin_port));
    fflush(stdout);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    struct epoll_event evs[256];
    for (;;) {
        int k = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < k; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event e = {.events = EPOLLIN | EPOLLET, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            for (;;) {
                ssize_t r = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
                if (r > 0) {
                    c->have += (size_t) r;
                    if (serve(c) == 0)
                        continue;
                } else if (r < 0 && errno == EAGAIN) {
                    break;
                }
                close(c->fd); /* EOF, error, or a bad client */
                free(c);
                break;
            }
        }
    }
}
