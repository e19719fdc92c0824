/* The control socket's file; see ctl_listen.h.
 *
 * Replacing a stale file: bind fails with EADDRINUSE when anything exists
 * at the path. If it is a socket and a connect to it is refused, no
 * process listens there (its owner died without removing it), so it is
 * removed and the bind retried once. A path that is not a socket is never
 * removed, and a socket that accepts a connection belongs to a live
 * server (another VM, or a second VM of this process given the same path):
 * both are errors, so two VMs never share a path silently. Between the
 * check and the unlink another program could bind the path; its socket
 * would then be removed (a narrow window that only a program racing on
 * the same path can open; documented in docs/observability.md). */
#include "ctl/ctl_listen.h"

#include <errno.h>
#include <fauxtp/error.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int addr_of(const char *path, struct sockaddr_un *sa)
{
    size_t n = strnlen(path, FXI_CTL_PATH_MAX + 1);
    if (n == 0 || n > FXI_CTL_PATH_MAX || n >= sizeof sa->sun_path)
        return FX_EINVAL;
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, n);
    return 0;
}

static int sys_err(int e)
{
    return e == EMFILE || e == ENFILE ? FX_ENOFILE : FX_ESYS;
}

/* 1 when a server listens at sa, 0 when the file is stale (refused),
 * negative on other errors. Never waits long: a blocking connect to a
 * wedged server whose backlog is full would wait until it accepts, so the
 * connect is non-blocking. On Linux a Unix-domain connect completes or
 * fails at once, and a full backlog answers EAGAIN: someone listens, so
 * the server is live. Elsewhere EINPROGRESS may come: the outcome is
 * awaited for at most LIVE_WAIT_MS, and still pending then counts as live
 * (a listener exists; it is only slow). */
#define LIVE_WAIT_MS 200
static int live(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sys_err(errno);
    int rc;
    do
        rc = connect(fd, (const struct sockaddr *) sa, sizeof *sa);
    while (rc != 0 && errno == EINTR);
    int e = rc == 0 ? 0 : errno;
    if (e == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n;
        do
            n = poll(&p, 1, LIVE_WAIT_MS);
        while (n < 0 && errno == EINTR);
        socklen_t len = sizeof e;
        if (n <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
            e = EAGAIN; /* no answer in time: a listener that is slow */
    }
    close(fd);
    if (e == 0 || e == EAGAIN)
        return 1;
    return e == ECONNREFUSED ? 0 : FX_ESYS;
}

int fxi_ctl_listen(const char *path, int *fdp, struct stat *st)
{
    struct sockaddr_un sa;
    int rc = addr_of(path, &sa);
    if (rc)
        return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sys_err(errno);
    for (int attempt = 0;; attempt++) {
        if (bind(fd, (const struct sockaddr *) &sa, sizeof sa) == 0)
            break;
        if (errno != EADDRINUSE || attempt > 0) {
            rc = errno == EADDRINUSE ? FX_EADDR : FX_ESYS;
            goto fail;
        }
        struct stat old;
        if (lstat(path, &old) != 0) {
            if (errno == ENOENT)
                continue; /* gone meanwhile: retry the bind */
            rc = FX_ESYS;
            goto fail;
        }
        if (!S_ISSOCK(old.st_mode)) {
            rc = FX_EEXIST;
            goto fail;
        }
        int l = live(&sa);
        if (l != 0) {
            rc = l > 0 ? FX_EADDR : l;
            goto fail;
        }
        if (unlink(path) != 0 && errno != ENOENT) {
            rc = FX_ESYS;
            goto fail;
        }
    }
    /* Owner only, before listen(): nobody can connect before the mode is
     * set. */
    if (chmod(path, 0600) != 0 || lstat(path, st) != 0) {
        rc = FX_ESYS;
        unlink(path);
        goto fail;
    }
    if (listen(fd, 64) != 0) {
        rc = FX_ESYS;
        unlink(path);
        goto fail;
    }
    *fdp = fd;
    return 0;
fail:
    close(fd);
    return rc;
}

void fxi_ctl_unlisten(const char *path, int fd, const struct stat *st)
{
    if (fd >= 0)
        close(fd);
    struct stat now;
    if (lstat(path, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino)
        unlink(path);
}
