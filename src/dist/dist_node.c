/* The node process (listener, epmd registration kept open for the node's
 * life, accepting) and the public node API (include/fauxtp/dist.h). */
#include <ctype.h>
#include <fauxtp/error.h>
#include <fauxtp/inbox.h>
#include <fauxtp/log.h>
#include <fauxtp/net.h>
#include <fauxtp/timer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/msg.h"
#include "actor/ptable.h"
#include "actor/vm.h"
#include "dist/dist.h"
#include "platform/atomic.h"
#include "platform/park.h"

typedef struct node_st {
    fxi_dist *d;
    fx_pid starter;
    char ip[64];
    uint16_t port;
    fx_sock listener, epmd;
    uint8_t buf[16];
    size_t len;
    bool registered;
} node_st;

void fxi_dist_signal(fx_vm *vm, fx_ctx *cx, fx_pid to, uint32_t type, bool has_rc,
                     int32_t rc)
{
    fx_msg *m;
    if (fx_msg_new_behaviour(type, has_rc ? sizeof rc : 0, &m) != 0)
        return;
    if (has_rc)
        memcpy(fx_msg_data_mut(m), &rc, sizeof rc);
    int r = cx ? fx_send_msg(cx, to, m) : fx_vm_send_msg(vm, to, m);
    if (r != 0)
        fx_msg_free(m);
}

void fxi_dist_tick_after(fx_ctx *cx, uint32_t ms)
{
    fx_msg *m;
    if (fx_msg_new_behaviour(FXI_DIST_TICK, 0, &m) != 0)
        return;
    if (fx_send_after_msg(cx, ms, fx_self(cx), m, NULL) != 0)
        fx_msg_free(m);
}

int fxi_dist_split_name(const char *name, char *alive, size_t acap, char *host,
                        size_t hcap)
{
    const char *at = name ? strchr(name, '@') : NULL;
    if (!at || at == name || strchr(at + 1, '@') || !at[1])
        return -1;
    size_t al = (size_t) (at - name), hl = strlen(at + 1);
    if (al >= acap || hl >= hcap || al > 255)
        return -1;
    for (size_t i = 0; i < al; i++)
        if (!isalnum((unsigned char) name[i]) && name[i] != '_' && name[i] != '-')
            return -1;
    memcpy(alive, name, al);
    alive[al] = '\0';
    memcpy(host, at + 1, hl + 1);
    return 0;
}

/* ---- the node process --------------------------------------------------- */

static fx_next node_loop(fx_ctx *cx, fx_msg *m);

static fx_next node_fail(fx_ctx *cx, node_st *s, int code, const char *why)
{
    if (!s->registered)
        fxi_dist_signal(cx->vm, cx, s->starter, FXI_DIST_UP, true, code);
    fx_log(cx->vm, FX_LOG_WARNING, "dist: node %s: %s", s->d->name, why);
    return fx_stop(cx, fx_reason_shutdown_with("%s", why));
}

static void accepted(fx_ctx *cx, node_st *s, fx_sock sock)
{
    fx_pid p;
    fxi_mutex_lock(&s->d->mx);
    int rc = fxi_dist_conn_spawn(s->d, NULL, &p);
    fxi_mutex_unlock(&s->d->mx);
    if (rc != 0 || fx_net_controlling_process(cx, sock, p) != 0) {
        fx_net_close(cx, sock);
        return;
    }
    fx_msg *m;
    if (fx_msg_new_behaviour(FXI_DIST_SOCK, sizeof sock, &m) != 0)
        return; /* the connection times out in its handshake */
    memcpy(fx_msg_data_mut(m), &sock, sizeof sock);
    if (fx_send_msg(cx, p, m) != 0)
        fx_msg_free(m);
}

static fx_next node_loop(fx_ctx *cx, fx_msg *m)
{
    node_st *s = fx_state(cx);
    fx_sock sk = fx_net_msg_sock(m);
    bool on_epmd = s->epmd.id && fx_sock_eq(sk, s->epmd);
    switch (fx_msg_type(m)) {
    case FX_NET_CONNECTED: {
        uint8_t out[300];
        size_t k =
            fxi_epmd_alive2_req(out, sizeof out, s->d->alive, s->port, s->d->hidden);
        if (fx_net_send(cx, s->epmd, out, k) != 0)
            return node_fail(cx, s, FX_ECONNECT, "epmd write failed");
        fx_net_active(cx, s->epmd, 16);
        return fx_continue(cx);
    }
    case FX_NET_DATA:
        if (!on_epmd || s->registered)
            return fx_continue(cx); /* epmd says nothing more */
        {
            size_t n = fx_msg_size(m);
            if (n > sizeof s->buf - s->len)
                return node_fail(cx, s, FX_EDIST, "bad epmd answer");
            memcpy(s->buf + s->len, fx_msg_data(m), n);
            s->len += n;
            uint32_t creation;
            int r = fxi_epmd_alive2_resp(s->buf, s->len, &creation);
            if (r == 0)
                return fx_continue(cx);
            if (r < 0)
                return node_fail(cx, s, FX_EDIST, "epmd refused the name");
            fxi_mutex_lock(&s->d->mx);
            if (s->d->node.id != 1) { /* fx_dist_start gave up on us */
                fxi_mutex_unlock(&s->d->mx);
                return fx_stop(cx, fx_reason_shutdown_with("start abandoned"));
            }
            s->d->creation = creation ? creation : 1;
            s->d->running = true;
            s->d->node = fx_self(cx);
            fxi_mutex_unlock(&s->d->mx);
            s->registered = true;
            fx_net_accept(cx, s->listener, 1);
            fxi_dist_signal(cx->vm, cx, s->starter, FXI_DIST_UP, true, 0);
            fx_log(cx->vm, FX_LOG_INFO, "dist: node %s up on port %u", s->d->name,
                   (unsigned) s->port);
            return fx_continue(cx);
        }
    case FX_NET_ACCEPTED: {
        fx_sock ns;
        memcpy(&ns, fx_msg_data(m), sizeof ns);
        accepted(cx, s, ns);
        fx_net_accept(cx, s->listener, 1);
        return fx_continue(cx);
    }
    case FX_NET_PASSIVE:
        fx_net_active(cx, sk, 16);
        return fx_continue(cx);
    case FX_NET_CLOSED:
    case FX_NET_ERROR:
        if (on_epmd && !s->registered)
            return node_fail(cx, s, FX_ECONNECT, "epmd unreachable");
        if (on_epmd) { /* as an Erlang node: keep running, unregistered */
            fx_log(cx->vm, FX_LOG_WARNING, "dist: node %s: epmd closed the registration",
                   s->d->name);
            fx_net_close(cx, s->epmd);
            s->epmd.id = 0;
        }
        return fx_continue(cx);
    case FXI_DIST_STOP:
        return fx_stop(cx, fx_reason_shutdown());
    default:
        return fx_continue(cx);
    }
}

static fx_next node_init(fx_ctx *cx, void *arg)
{
    node_st *s = arg;
    fx_net_addr a;
    /* accepted sockets inherit these: the same as outgoing connections */
    fx_net_opts o = {.backlog = 128,
                     .nodelay = true,
                     .busy_poll = true,
                     .high_water = s->d->busy_limit};
    if (fx_net_addr_ip(s->ip, s->port, &a) != 0 ||
        fx_net_listen(cx, &a, &o, &s->listener) != 0)
        return node_fail(cx, s, FX_EADDR, "cannot listen");
    fx_net_addr got;
    fx_net_sockname(cx, s->listener, &got);
    s->port = fx_net_addr_port(&got);
    if (fx_net_addr_ip("127.0.0.1", s->d->epmd_port, &a) != 0 ||
        fx_net_connect(cx, &a, NULL, s->d->setup_ms, &s->epmd) != 0)
        return node_fail(cx, s, FX_ECONNECT, "epmd unreachable");
    return fx_become(cx, node_loop);
}

static void node_cleanup(void *state, const fx_reason *reason)
{
    (void) reason;
    free(state);
}

/* ---- the attachment ----------------------------------------------------- */

static const char dist_key = 0;

static void dist_free(fx_vm *vm, void *value)
{
    (void) vm;
    fxi_dist *d = value;
    fxi_dist_table_clear(d);
    fxi_dist_nodemon_free(d);
    free(d->conns);
    free(d->dnames);
    fxi_mutex_fini(&d->mx);
    free(d);
}

static fxi_dist *dist_create(fx_vm *vm)
{
    fxi_dist *d = fxi_dist_get(vm);
    if (d)
        return d;
    d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->hook.route = fxi_dist_route;
    d->vm = vm;
    d->name_tag = fxi_pid_tag_alloc();
    fxi_mutex_init(&d->mx, FXI_RANK_DIST, "dist");
    fx_vm_hooks h = {.free = dist_free};
    int rc = fx_vm_attach(vm, &dist_key, d, &h);
    if (rc == FX_EEXIST) {
        fxi_mutex_fini(&d->mx);
        free(d);
        return fx_vm_attached(vm, &dist_key);
    }
    if (rc != 0) {
        fxi_mutex_fini(&d->mx);
        free(d);
        return NULL;
    }
    /* release: the initialised struct (hook included) is seen by
     * fxi_dist_get's and fxi_dist_route_foreign's acquire. */
    fxi_atomic_store_release_ptr(&vm->dist, d);
    return d;
}

static int read_cookie(char *out, size_t cap)
{
    const char *home = getenv("HOME");
    char path[512];
    if (!home ||
        snprintf(path, sizeof path, "%s/.erlang.cookie", home) >= (int) sizeof path)
        return FX_EINVAL;
    FILE *f = fopen(path, "r");
    if (!f)
        return FX_EINVAL;
    char *ok = fgets(out, (int) cap, f);
    fclose(f);
    if (!ok)
        return FX_EINVAL;
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] ? 0 : FX_EINVAL;
}

/* Waits on an inbox for FXI_DIST_UP from `p` (or its DOWN). */
static int wait_up(fx_inbox *ib, fx_pid p, int64_t timeout_ms)
{
    fx_ref ref;
    int rc = fx_inbox_monitor(ib, p, &ref);
    if (rc != 0)
        return rc;
    for (;;) {
        fx_msg *m;
        rc = fx_inbox_recv(ib, NULL, timeout_ms, &m);
        if (rc != 0)
            return rc;
        uint32_t t = fx_msg_type(m);
        int32_t v = FX_ENODE;
        if (t == FXI_DIST_UP && fx_msg_size(m) == sizeof v)
            memcpy(&v, fx_msg_data(m), sizeof v);
        fx_msg_free(m);
        if (t == FXI_DIST_UP || t == FX_MSG_DOWN)
            return v;
    }
}

FX_API int fx_dist_start(fx_vm *vm, const fx_dist_opts *opts)
{
    if (!vm || !opts || !opts->name)
        return FX_EINVAL;
    node_st *s = calloc(1, sizeof *s);
    if (!s)
        return FX_ENOMEM;
    char alive[256], host[FXI_DIST_HOST_MAX], cookie[256], full[256];
    bool longnames = false;
    int rc = 0;
    if ((unsigned) opts->names > FX_DIST_LONGNAMES ||
        fxi_dist_own_name(opts->name, (int) opts->names, full, sizeof full, &longnames) !=
            0 ||
        fxi_dist_split_name(full, alive, sizeof alive, host, sizeof host) != 0)
        rc = FX_EINVAL;
    if (rc == 0 && opts->cookie) {
        if (!opts->cookie[0] || strlen(opts->cookie) >= sizeof cookie)
            rc = FX_EINVAL;
        else
            strcpy(cookie, opts->cookie);
    } else if (rc == 0) {
        rc = read_cookie(cookie, sizeof cookie);
    }
    fx_net_addr la;
    if (rc == 0 && opts->listen_ip &&
        (strlen(opts->listen_ip) >= sizeof s->ip ||
         fx_net_addr_ip(opts->listen_ip, 0, &la) != 0))
        rc = FX_EINVAL;
    if (rc == 0)
        strcpy(s->ip, opts->listen_ip ? opts->listen_ip : opts->inet6 ? "::" : "0.0.0.0");
    fxi_dist *d = rc == 0 ? dist_create(vm) : NULL;
    if (rc == 0 && !d)
        rc = FX_ENOMEM;
    if (rc != 0) {
        free(s);
        return rc;
    }
    fxi_mutex_lock(&d->mx);
    if (d->running || d->node.id) {
        fxi_mutex_unlock(&d->mx);
        free(s);
        return FX_EEXIST;
    }
    snprintf(d->name, sizeof d->name, "%s", full);
    strcpy(d->alive, alive);
    strcpy(d->host, host);
    d->longnames = longnames;
    d->inet6 = opts->inet6;
    strcpy(d->cookie, cookie);
    const char *ep = getenv("ERL_EPMD_PORT");
    d->epmd_port = opts->epmd_port ? opts->epmd_port : ep ? (uint16_t) atoi(ep) : 4369;
    d->tick_ms = opts->tick_ms ? opts->tick_ms : 60000;
    if (d->tick_ms < 4)
        d->tick_ms = 4;
    d->setup_ms = opts->setup_ms ? opts->setup_ms : 7000;
    d->busy_limit = opts->busy_limit ? opts->busy_limit : 64u << 20;
    d->hidden = !opts->published;
    d->creation = 0;
    d->gen++;
    d->nconns = 0;
    d->node.id = 1; /* reserved: a concurrent start sees FX_EEXIST */
    fxi_mutex_unlock(&d->mx);

    fx_inbox *ib = NULL;
    rc = fx_inbox_create(vm, &ib);
    fx_pid np = FX_PID_NONE;
    if (rc == 0) {
        s->d = d;
        s->starter = fx_inbox_pid(ib);
        s->port = opts->listen_port;
        fx_spawn_opts o = {0};
        o.init = node_init;
        o.init_arg = s;
        o.state = s;
        o.cleanup = node_cleanup;
        o.label = "dist_node";
        rc = fx_vm_spawn_opt(vm, &o, &np);
        if (rc != 0)
            free(s);
        s = NULL;
    } else {
        free(s);
    }
    if (rc == 0)
        rc = wait_up(ib, np, d->setup_ms + 1000);
    if (rc != 0 && np.id)
        fxi_dist_signal(vm, NULL, np, FXI_DIST_STOP, false, 0);
    fx_inbox_destroy(ib);
    if (rc != 0) {
        fxi_mutex_lock(&d->mx);
        d->running = false;
        d->node = FX_PID_NONE;
        fxi_mutex_unlock(&d->mx);
    }
    return rc;
}

FX_API int fx_dist_stop(fx_vm *vm)
{
    if (!vm)
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(vm);
    if (!d)
        return FX_ENOTDIST;
    fxi_mutex_lock(&d->mx);
    if (!d->running) {
        fxi_mutex_unlock(&d->mx);
        return FX_ENOTDIST;
    }
    d->running = false;
    fx_pid node = d->node;
    /* Every connection of this incarnation, handshakes under way too. */
    uint32_t n = d->nconns;
    fx_pid *conns = calloc(n + 1, sizeof *conns);
    for (uint32_t i = 0; conns && i < n; i++)
        conns[i] = d->conns[i];
    if (conns)
        conns[n++] = node;
    d->nconns = 0;
    fxi_dist_nodemon_stop(d);
    fxi_dist_table_clear(d);
    fxi_mutex_unlock(&d->mx);
    /* Stop them all and wait (at most setup_ms) until they are gone, so
     * none of them finishes a handshake or writes after this returns. */
    fx_inbox *ib = NULL;
    bool wait = conns && fx_inbox_create(vm, &ib) == 0;
    uint32_t waiting = 0;
    for (uint32_t i = 0; conns && i < n; i++) {
        fx_ref ref;
        if (wait && fx_inbox_monitor(ib, conns[i], &ref) == 0)
            waiting++;
        fxi_dist_signal(vm, NULL, conns[i], FXI_DIST_STOP, false, 0);
    }
    if (!conns) /* out of memory: at least the node process */
        fxi_dist_signal(vm, NULL, node, FXI_DIST_STOP, false, 0);
    int64_t deadline = (int64_t) fxi_now_ms() + d->setup_ms;
    fx_match mt = {.type = FX_MSG_DOWN};
    while (waiting > 0) {
        int64_t left = deadline - (int64_t) fxi_now_ms();
        fx_msg *m;
        if (left <= 0 || fx_inbox_recv(ib, &mt, left, &m) != 0)
            break;
        fx_msg_free(m);
        waiting--;
    }
    if (ib)
        fx_inbox_destroy(ib);
    free(conns);
    fxi_mutex_lock(&d->mx);
    d->node = FX_PID_NONE;
    fxi_mutex_unlock(&d->mx);
    return 0;
}

FX_API int fx_dist_node_name(fx_vm *vm, char *buf, size_t cap)
{
    if (!vm || !buf || cap == 0)
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(vm);
    if (!d)
        return FX_ENOTDIST;
    int rc;
    fxi_mutex_lock(&d->mx);
    size_t n = strlen(d->name);
    if (!d->running)
        rc = FX_ENOTDIST;
    else if (n >= cap)
        rc = FX_EINVAL;
    else {
        memcpy(buf, d->name, n + 1);
        rc = (int) n;
    }
    fxi_mutex_unlock(&d->mx);
    return rc;
}

FX_API int fx_dist_pid_node(fx_vm *vm, fx_pid pid, char *buf, size_t cap)
{
    if (!vm || !buf || cap == 0)
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(vm);
    if (fxi_pid_tag(pid) == vm->pt.tag && pid.id) {
        if (!d) {
            buf[0] = '\0';
            return 0;
        }
        fxi_mutex_lock(&d->mx);
        int rc = 0;
        if (!d->running)
            buf[0] = '\0';
        else if (strlen(d->name) >= cap)
            rc = FX_EINVAL;
        else
            strcpy(buf, d->name);
        fxi_mutex_unlock(&d->mx);
        return rc;
    }
    if (!d)
        return FX_ENOENT;
    fxi_mutex_lock(&d->mx);
    fxi_rnode *n = d->running ? fxi_dist_find_tag(d, fxi_pid_tag(pid)) : NULL;
    const fxi_dname *dn = fxi_dist_dname(d, pid);
    const char *name = n ? n->name : dn ? dn->node : NULL;
    int rc = FX_ENOENT;
    if (name && strlen(name) < cap) {
        strcpy(buf, name);
        rc = (int) strlen(name);
    } else if (name) {
        rc = FX_EINVAL;
    }
    fxi_mutex_unlock(&d->mx);
    return rc;
}

FX_API int fx_dist_pid_name(fx_vm *vm, fx_pid pid, char *buf, size_t cap)
{
    if (!vm || !buf || cap == 0)
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(vm);
    if (!d)
        return FX_ENOENT;
    fxi_mutex_lock(&d->mx);
    const fxi_dname *dn = fxi_dist_dname(d, pid);
    int rc = FX_ENOENT;
    if (dn && strlen(dn->name) < cap) {
        strcpy(buf, dn->name);
        rc = (int) strlen(dn->name);
    } else if (dn) {
        rc = FX_EINVAL;
    }
    fxi_mutex_unlock(&d->mx);
    return rc;
}

FX_API int fx_dist_connect(fx_vm *vm, const char *node, int64_t timeout_ms)
{
    char alive[256], host[FXI_DIST_HOST_MAX];
    if (!vm || !node || fxi_dist_split_name(node, alive, sizeof alive, host, sizeof host))
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(vm);
    if (!d)
        return FX_ENOTDIST;
    fxi_mutex_lock(&d->mx);
    int rc = 0;
    fx_pid conn = FX_PID_NONE;
    if (!d->running)
        rc = FX_ENOTDIST;
    else if (strcmp(node, d->name) == 0 || !fxi_dist_host_style_ok(host, d->longnames))
        rc = FX_EINVAL;
    else {
        fxi_rnode *n = fxi_dist_node_get(d, node, 0);
        conn = n ? fxi_dist_conn_ensure(d, n) : FX_PID_NONE;
        if (!conn.id)
            rc = FX_ENOMEM;
    }
    int64_t tmo = timeout_ms < 0 ? (int64_t) d->setup_ms + 1000 : timeout_ms;
    fxi_mutex_unlock(&d->mx);
    if (rc != 0)
        return rc;
    fx_inbox *ib;
    rc = fx_inbox_create(vm, &ib);
    if (rc != 0)
        return rc;
    fx_msg *m;
    rc = fx_msg_new_behaviour(FXI_DIST_WAIT, 0, &m);
    if (rc == 0 && (rc = fx_inbox_send_msg(ib, conn, m)) != 0)
        fx_msg_free(m);
    if (rc == 0)
        rc = wait_up(ib, conn, tmo);
    else if (rc == FX_ENOPROC)
        rc = FX_ENODE;
    fx_inbox_destroy(ib);
    return rc;
}

FX_API int fx_dist_nodes(fx_vm *vm, fx_dist_node_info *out, size_t cap)
{
    if (!vm || (!out && cap > 0))
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(vm);
    if (!d)
        return FX_ENOTDIST;
    fxi_mutex_lock(&d->mx);
    int rc = 0;
    if (!d->running)
        rc = FX_ENOTDIST;
    for (uint32_t i = 0; rc >= 0 && i < d->nnodes; i++) {
        if (!d->nodes[i]->up)
            continue;
        if ((size_t) rc < cap) {
            strcpy(out[rc].name, d->nodes[i]->name);
            out[rc].creation = d->nodes[i]->creation;
        }
        rc++;
    }
    fxi_mutex_unlock(&d->mx);
    return rc;
}
