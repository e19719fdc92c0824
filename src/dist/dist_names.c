/* Node names as Erlang has them: short (-sname, host without dots) and
 * long (-name, a fully qualified host or an IP address), this node's own
 * name when given without a host, and host names resolved off the
 * scheduler threads (a job on the blocking pool, include/fauxtp/pool.h). */
#include <arpa/inet.h>
#include <fauxtp/error.h>
#include <fauxtp/pool.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dist/dist.h"

static bool numeric_any(const char *host)
{
    unsigned char b[16];
    return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* Erlang's splitnode (inet_tcp_dist): with long names a host needs a dot
 * or must be an IP address; with short names it must have no dot. */
bool fxi_dist_host_style_ok(const char *host, bool longnames)
{
    bool dot = strchr(host, '.') != NULL;
    return longnames ? dot || numeric_any(host) : !dot;
}

bool fxi_dist_peer_ok(const fxi_dist *d, const char *node)
{
    char alive[256], host[FXI_DIST_HOST_MAX];
    return fxi_dist_split_name(node, alive, sizeof alive, host, sizeof host) == 0 &&
           fxi_dist_host_style_ok(host, d->longnames);
}

/* The fully qualified name of this machine: gethostname when it has a
 * dot, else the canonical name getaddrinfo gives it. -1 without one. */
static int fqdn(char *out, size_t cap)
{
    char h[256];
    if (gethostname(h, sizeof h) != 0)
        return -1;
    h[sizeof h - 1] = '\0';
    if (strchr(h, '.')) {
        if (strlen(h) >= cap)
            return -1;
        strcpy(out, h);
        return 0;
    }
    struct addrinfo hints = {.ai_flags = AI_CANONNAME, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = -1;
    if (getaddrinfo(h, NULL, &hints, &res) == 0 && res && res->ai_canonname &&
        strchr(res->ai_canonname, '.') && strlen(res->ai_canonname) < cap) {
        strcpy(out, res->ai_canonname);
        rc = 0;
    }
    if (res)
        freeaddrinfo(res);
    return rc;
}

int fxi_dist_own_name(const char *given, int names, char *out, size_t cap,
                      bool *longnames)
{
    const char *at = strchr(given, '@');
    char host[FXI_DIST_HOST_MAX];
    if (names == 0) /* auto: as the host part reads */
        names = at && (strchr(at + 1, '.') || numeric_any(at + 1)) ? 2 : 1;
    *longnames = names == 2;
    if (at) { /* Erlang: -sname a@b.c and -sname a@127.0.0.1 are refused */
        if (!*longnames && strchr(at + 1, '.'))
            return -1;
        if (strlen(given) >= cap)
            return -1;
        strcpy(out, given);
        return 0;
    }
    if (*longnames) {
        if (fqdn(host, sizeof host) != 0) /* Erlang: "Can't set long node name!" */
            return -1;
    } else {
        if (gethostname(host, sizeof host) != 0)
            return -1;
        host[sizeof host - 1] = '\0';
        host[strcspn(host, ".")] = '\0';
    }
    int n = snprintf(out, cap, "%s@%s", given, host);
    return n > 0 && (size_t) n < cap ? 0 : -1;
}

int fxi_dist_numeric_ip(const char *host, bool inet6, char *ip, size_t cap)
{
    unsigned char b[16];
    if (strcmp(host, "localhost") == 0)
        host = inet6 ? "::1" : "127.0.0.1";
    if (inet_pton(inet6 ? AF_INET6 : AF_INET, host, b) != 1 || strlen(host) >= cap)
        return -1;
    strcpy(ip, host);
    return 0;
}

/* ---- resolving on the blocking pool -------------------------------------- */

typedef struct resolve_job {
    bool inet6;
    char host[FXI_DIST_HOST_MAX];
} resolve_job;

/* On a pool thread: the host's first address of the family, as text (the
 * result's payload, NUL included), or the resolver's complaint (status
 * FX_EADDR). */
static int resolve_fn(void *arg, fx_msg **result)
{
    resolve_job *j = arg;
    struct addrinfo hints = {.ai_family = j->inet6 ? AF_INET6 : AF_INET,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char text[FXI_DIST_HOST_MAX];
    int rc = getaddrinfo(j->host, NULL, &hints, &res);
    int status = FX_EADDR;
    if (rc == 0 && res) {
        const void *a =
            res->ai_family == AF_INET6
                ? (const void *) &((struct sockaddr_in6 *) res->ai_addr)->sin6_addr
                : (const void *) &((struct sockaddr_in *) res->ai_addr)->sin_addr;
        if (inet_ntop(res->ai_family, a, text, sizeof text))
            status = 0;
        else
            snprintf(text, sizeof text, "no address");
    } else {
        snprintf(text, sizeof text, "%s", rc ? gai_strerror(rc) : "no address");
    }
    if (res)
        freeaddrinfo(res);
    fx_msg *m;
    size_t n = strlen(text) + 1;
    if (fx_msg_new(1, n, &m) == 0) {
        memcpy(fx_msg_data_mut(m), text, n);
        *result = m;
    }
    return status;
}

static void resolve_done(void *arg)
{
    free(arg);
}

int fxi_dist_resolve_submit(fx_vm *vm, fx_pid reply_to, const char *host, bool inet6,
                            fx_ref ref)
{
    resolve_job *j = calloc(1, sizeof *j);
    if (!j)
        return FX_ENOMEM;
    j->inet6 = inet6;
    snprintf(j->host, sizeof j->host, "%s", host);
    fx_pool_job pj = {.fn = resolve_fn,
                      .arg = j,
                      .done = resolve_done,
                      .reply_to = reply_to,
                      .ref = ref};
    int rc = fx_pool_submit(vm, &pj);
    if (rc != 0)
        free(j);
    return rc;
}

int fxi_dist_resolved(const fx_msg *m, char *ip, size_t cap)
{
    fx_outcome o;
    const void *data;
    if (fx_outcome_get(m, &o, &data) != 0)
        return FX_EINVAL;
    const char *t = data;
    size_t n = (size_t) o.size;
    if (n == 0 || t[n - 1] != '\0') {
        snprintf(ip, cap, "%s", o.status ? "lookup failed" : "no address");
        return o.status ? o.status : FX_EADDR;
    }
    snprintf(ip, cap, "%s", t);
    return o.status == 0 ? 0 : o.status;
}
