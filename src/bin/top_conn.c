/* fauxtp-top: the connection to the control socket; see top.h. */
#include "top.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define TIMEOUT_MS 10000
#define RESPONSE_MAX (64u * 1024u * 1024u)

int top_connect(top_conn *c, const char *path, char *err, size_t errsz)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errsz, "%s: path too long for a Unix-domain socket", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        snprintf(err, errsz, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(c->fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        int e = errno;
        snprintf(err, errsz, "cannot connect to %s: %s%s", path, strerror(e),
                 e == ENOENT || e == ECONNREFUSED
                     ? " (is the VM running with fx_vm_config.control_path set?)"
                     : "");
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

void top_close(top_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static int wait_for(int fd, short ev, char *err, size_t errsz)
{
    struct pollfd p = {.fd = fd, .events = ev};
    for (;;) {
        int n = poll(&p, 1, TIMEOUT_MS);
        if (n > 0)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        snprintf(err, errsz, "%s",
                 n == 0 ? "no answer from the VM within 10 s" : strerror(errno));
        return -1;
    }
}

/* The end of the first response in buf: the index just past "\n\n", or 0.
 * A response is non-empty lines followed by one empty line. */
static size_t response_end(const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (b[i] == '\n' && (i == 0 || b[i - 1] == '\n'))
            return i + 1;
    return 0;
}

int top_request(top_conn *c, const char *req, char **resp, char *err, size_t errsz)
{
    *resp = NULL;
    size_t n = strlen(req), off = 0;
    while (off < n) {
        if (wait_for(c->fd, POLLOUT, err, errsz) != 0)
            return -1;
        ssize_t w = send(c->fd, req + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno != EINTR && errno != EAGAIN) {
            snprintf(err, errsz, "write: %s", strerror(errno));
            return -1;
        }
        if (w > 0)
            off += (size_t) w;
    }
    for (;;) {
        size_t end = response_end(c->buf, c->len);
        if (end) {
            *resp = malloc(end);
            if (!*resp) {
                snprintf(err, errsz, "out of memory");
                return -1;
            }
            /* Without the final empty line; a response of no lines is "". */
            size_t text = end >= 2 ? end - 1 : 0;
            memcpy(*resp, c->buf, text);
            (*resp)[text] = '\0';
            memmove(c->buf, c->buf + end, c->len - end);
            c->len -= end;
            return 0;
        }
        if (c->len == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 65536;
            char *nb = cap <= RESPONSE_MAX ? realloc(c->buf, cap) : NULL;
            if (!nb) {
                snprintf(err, errsz, "response larger than %u bytes", RESPONSE_MAX);
                return -1;
            }
            c->buf = nb;
            c->cap = cap;
        }
        if (wait_for(c->fd, POLLIN, err, errsz) != 0)
            return -1;
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (r == 0) {
            snprintf(err, errsz, "the VM closed the connection");
            return -1;
        }
        if (r < 0 && errno != EINTR && errno != EAGAIN) {
            snprintf(err, errsz, "read: %s", strerror(errno));
            return -1;
        }
        if (r > 0)
            c->len += (size_t) r;
    }
}
