/* The control-socket server: one thread per VM with a control_path, a
 * poll(2) loop over the listening socket, its clients and a stop pipe.
 *
 * Why a thread of its own and not a process on the VM's poller
 * (include/fauxtp/net.h): the control socket is how an operator looks
 * into a VM that misbehaves, so it must answer when every scheduler
 * thread is busy or stuck in a handler, and a large `ps` (a snapshot of
 * every process, sorted) must not run as a handler call on a scheduler
 * thread, where it would delay other actors and trip the watchdog. The
 * thread sleeps in poll() while no client talks to it (no idle CPU), and
 * it never takes a lock a scheduler takes: it reads the VM through the
 * public snapshot functions, which are lock-free for the schedulers.
 *
 * Bounds (a client can make the server hold at most this much):
 * MAX_CLIENTS connections (one more is told `busy` and closed); a request
 * line of at most LINE_MAX bytes (a longer one gets an error and the
 * connection is closed); one response of at most RESPONSE_MAX bytes (cut
 * at a whole line, with an error line), and no next request is read
 * before the response has been written, so a client that does not read
 * holds one response at most; a connection with no complete request and
 * no progress for IDLE_MS is closed. Writes never block (non-blocking
 * sockets, MSG_NOSIGNAL: a vanished client is an error, not SIGPIPE). */
#include "ctl/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <fauxtp/control.h>
#include <fauxtp/error.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actor/vm.h"
#include "ctl/ctl_cmd.h"
#include "ctl/ctl_listen.h"
#include "ctl/ctl_out.h"
#include "mem/alloc.h"
#include "platform/park.h"

#define MAX_CLIENTS 16
#define LINE_MAX_ 1024u
#define RESPONSE_MAX (8u * 1024u * 1024u)
#define IDLE_MS 60000u

typedef struct client {
    int fd; /* -1: free slot */
    uint32_t in_len;
    bool closing;     /* close once out is written (quit, error) */
    bool eof;         /* the peer has finished sending */
    uint64_t last_ms; /* last progress (bytes read or written) */
    fxi_ctl_out out;  /* the response being written */
    char in[LINE_MAX_];
} client;

typedef struct ctl {
    fx_vm *vm;        /* immutable */
    char *path;       /* immutable: our copy of control_path */
    size_t path_size; /* bytes allocated for path */
    /* Owner thread (the one calling fx_vm_start / shutdown / destroy): */
    bool started; /* thread running: join it to stop */
    pthread_t thread;
    int stop_pipe[2]; /* written by stop, read end polled by the thread */
    int lfd;          /* listening socket */
    struct stat file; /* identity of the socket file we created */
    /* Control thread only: */
    client clients[MAX_CLIENTS];
} ctl;

static const char ctl_key; /* fx_vm_attach key */

int fxi_ctl_config(const fx_vm_config *c)
{
    if (!c->control_path)
        return 0;
    size_t n = strnlen(c->control_path, FXI_CTL_PATH_MAX + 1);
    return n == 0 || n > FXI_CTL_PATH_MAX ? FX_EINVAL : 0;
}

/* ---- clients ----------------------------------------------------------- */

static void drop(client *c)
{
    close(c->fd);
    c->fd = -1;
    fxi_ctl_out_fini(&c->out);
}

/* Writes what the socket takes now; the response is done when out.len is
 * back to 0. false: the client is gone. */
static bool flush_out(client *c, uint64_t now)
{
    while (c->out.off < c->out.len) {
        ssize_t n = send(c->fd, c->out.buf + c->out.off, c->out.len - c->out.off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        c->out.off += (size_t) n;
        c->last_ms = now;
    }
    fxi_ctl_out_reset(&c->out);
    return true;
}

/* Runs the complete request lines in c->in while nothing is left to
 * write (one response in flight per client). */
static void serve(ctl *s, client *c)
{
    while (!c->closing && c->out.len == 0) {
        char *nl = memchr(c->in, '\n', c->in_len);
        if (!nl) {
            if (c->in_len == LINE_MAX_) {
                fxi_ctl_out_error(&c->out, FX_ELIMIT,
                                  "request line longer than 1024 bytes");
                fxi_ctl_out_end(&c->out);
                c->closing = true;
            }
            return;
        }
        size_t len = (size_t) (nl - c->in);
        size_t line = len;
        if (line && c->in[line - 1] == '\r')
            line--;
        c->closing = fxi_ctl_exec(s->vm, c->in, line, &c->out);
        memmove(c->in, nl + 1, c->in_len - len - 1);
        c->in_len -= (uint32_t) (len + 1);
    }
}

/* Reads what is there. false: the connection failed. Sets c->eof when
 * the peer has finished sending (its requests are still answered). */
static bool read_in(client *c, uint64_t now)
{
    while (c->in_len < LINE_MAX_) {
        ssize_t n = recv(c->fd, c->in + c->in_len, LINE_MAX_ - c->in_len, MSG_DONTWAIT);
        if (n > 0) {
            c->in_len += (uint32_t) n;
            c->last_ms = now;
            continue;
        }
        if (n == 0) {
            c->eof = true;
            return true;
        }
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    return true;
}

/* One poll round for one client. false: close it. */
static bool step(ctl *s, client *c, short revents, uint64_t now)
{
    if ((revents & POLLOUT) && !flush_out(c, now))
        return false;
    if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->eof && c->out.len == 0 &&
        !read_in(c, now))
        return false;
    /* Answer the complete lines while the socket takes the answers (at
     * most LINE_MAX_ / 2 rounds: each takes a line out of c->in). */
    for (;;) {
        serve(s, c);
        if (c->out.len == 0)
            break;
        if (!flush_out(c, now))
            return false;
        if (c->out.len)
            return true; /* the rest when the socket takes it */
    }
    /* Nothing left to write: done after `quit` or an error, or when the
     * peer has stopped sending (an unfinished last line is dropped). */
    if (c->closing || c->eof)
        return false;
    return now - c->last_ms < IDLE_MS;
}

/* A free client slot, or NULL. When all are taken, first gives the
 * clients' pending events a round (a burst of short connections may have
 * closed since the last poll, and their slots are free once seen). */
static client *free_slot(ctl *s, uint64_t now)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int j = 0; j < MAX_CLIENTS; j++)
            if (s->clients[j].fd < 0)
                return &s->clients[j];
        if (pass)
            break;
        struct pollfd pf[MAX_CLIENTS];
        for (int j = 0; j < MAX_CLIENTS; j++)
            pf[j] = (struct pollfd){.fd = s->clients[j].fd,
                                    .events = s->clients[j].out.len ? POLLOUT : POLLIN};
        if (poll(pf, MAX_CLIENTS, 0) <= 0)
            return NULL;
        for (int j = 0; j < MAX_CLIENTS; j++)
            if (pf[j].revents && !step(s, &s->clients[j], pf[j].revents, now))
                drop(&s->clients[j]);
    }
    return NULL;
}

static void accept_all(ctl *s, uint64_t now)
{
    for (int i = 0; i < 64; i++) { /* the backlog's size; the rest next round */
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or out of fds: the peer waits in the backlog */
        client *c = free_slot(s, now);
        if (!c) {
            static const char busy[] =
                "{\"error\":\"FX_ELIMIT\",\"text\":\"too many control connections\"}\n\n";
            (void) !send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->in_len = 0;
        c->closing = c->eof = false;
        c->last_ms = now;
        fxi_ctl_out_init(&c->out, RESPONSE_MAX);
    }
}

/* ---- the thread -------------------------------------------------------- */

static void *ctl_main(void *arg)
{
    ctl *s = arg;
    for (int i = 0; i < MAX_CLIENTS; i++)
        s->clients[i].fd = -1;
    struct pollfd pf[2 + MAX_CLIENTS];
    client *who[2 + MAX_CLIENTS];
    for (;;) {
        uint64_t now = fxi_now_ms();
        int n = 0, timeout = -1;
        pf[n++] = (struct pollfd){.fd = s->stop_pipe[0], .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
        for (int i = 0; i < MAX_CLIENTS; i++) {
            client *c = &s->clients[i];
            if (c->fd < 0)
                continue;
            uint64_t due = c->last_ms + IDLE_MS;
            int left = due > now ? (int) (due - now) : 0;
            if (timeout < 0 || left < timeout)
                timeout = left;
            who[n] = c;
            pf[n++] =
                (struct pollfd){.fd = c->fd, .events = c->out.len ? POLLOUT : POLLIN};
        }
        if (poll(pf, (nfds_t) n, timeout) < 0 && errno != EINTR)
            break; /* cannot happen with valid descriptors */
        if (pf[0].revents)
            break; /* stop */
        now = fxi_now_ms();
        for (int i = 2; i < n; i++)
            if (!step(s, who[i], pf[i].revents, now))
                drop(who[i]);
        if (pf[1].revents & POLLIN)
            accept_all(s, now);
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (s->clients[i].fd >= 0)
            drop(&s->clients[i]);
    return NULL;
}

/* ---- lifecycle --------------------------------------------------------- */

static void stop(ctl *s)
{
    if (!s->started)
        return;
    /* The pipe's write and the thread's poll order everything: the
     * thread reads nothing of ours after it sees the byte. */
    char b = 1;
    while (write(s->stop_pipe[1], &b, 1) < 0 && errno == EINTR)
        ;
    pthread_join(s->thread, NULL);
    s->started = false;
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    fxi_ctl_unlisten(s->path, s->lfd, &s->file);
    s->lfd = -1;
}

static void stop_hook(fx_vm *vm, void *value)
{
    (void) vm;
    stop(value);
}

static void free_hook(fx_vm *vm, void *value)
{
    (void) vm;
    ctl *s = value;
    stop(s);
    fxi_free(s->path, s->path_size);
    fxi_free(s, sizeof *s);
}

int fxi_ctl_create(fx_vm *vm)
{
    ctl *s = fxi_zalloc(sizeof *s);
    if (!s)
        return FX_ENOMEM;
    s->vm = vm;
    s->lfd = -1;
    s->path_size = strlen(vm->cfg.control_path) + 1;
    s->path = fxi_alloc(s->path_size);
    if (!s->path) {
        fxi_free(s, sizeof *s);
        return FX_ENOMEM;
    }
    memcpy(s->path, vm->cfg.control_path, s->path_size);
    static const fx_vm_hooks hooks = {.stop = stop_hook, .free = free_hook};
    int rc = fx_vm_attach(vm, &ctl_key, s, &hooks);
    if (rc) {
        fxi_free(s->path, s->path_size);
        fxi_free(s, sizeof *s);
        return rc;
    }
    vm->cfg.control_path = s->path; /* the caller's string may go now */
    return 0;
}

int fxi_ctl_start(fx_vm *vm)
{
    ctl *s = fx_vm_attached(vm, &ctl_key);
    if (!s)
        return 0;
    int rc = fxi_ctl_listen(s->path, &s->lfd, &s->file);
    if (rc)
        return rc;
    if (pipe2(s->stop_pipe, O_CLOEXEC) != 0) {
        rc = errno == EMFILE || errno == ENFILE ? FX_ENOFILE : FX_ESYS;
        goto fail;
    }
    /* The thread takes no signal meant for the application (it would
     * interrupt nothing useful there, and a program that sigwait()s for
     * SIGTERM, as fx_app_run does, must get it). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&s->thread, NULL, ctl_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close(s->stop_pipe[0]);
        close(s->stop_pipe[1]);
        rc = FX_ESYS;
        goto fail;
    }
    pthread_setname_np(s->thread, "fauxtp-ctl");
    s->started = true;
    return 0;
fail:
    fxi_ctl_unlisten(s->path, s->lfd, &s->file);
    s->lfd = -1;
    return rc;
}

void fxi_ctl_stop(fx_vm *vm)
{
    ctl *s = fx_vm_attached(vm, &ctl_key);
    if (s)
        stop(s);
}
