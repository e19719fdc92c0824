/* Links, monitors and exits across nodes, the connection's side
 * (dist_sig.h). Tables are small arrays searched linearly: entries live
 * only while a link or monitor exists (a gen_server call's monitor is
 * gone when the call returns). */
#include "dist/dist_sig.h"

#include <fauxtp/error.h>
#include <fauxtp/log.h>
#include <fauxtp/registry.h>
#include <fauxtp/term.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/msg.h"
#include "actor/ptable.h"
#include "actor/send.h"
#include "actor/signal.h"
#include "actor/vm.h"
#include "otp/gs_impl.h"

fx_reason fxi_dist_noconnection(void)
{
    return fx_reason_error(FX_ENODE, "noconnection");
}

/* ---- reasons ------------------------------------------------------------ */

static int encode_reason(ei_x_buff *x, const fx_reason *r)
{
    switch (r->kind) {
    case FX_REASON_NORMAL:
        return ei_x_encode_atom(x, "normal");
    case FX_REASON_SHUTDOWN:
        if (!r->text[0])
            return ei_x_encode_atom(x, "shutdown");
        return ei_x_encode_tuple_header(x, 2) | ei_x_encode_atom(x, "shutdown") |
               ei_x_encode_binary(x, r->text, (int) strlen(r->text));
    case FX_REASON_KILLED:
        return ei_x_encode_atom(x, "killed");
    case FX_REASON_NOPROC:
        return ei_x_encode_atom(x, "noproc");
    case FX_REASON_TIMEOUT:
        return ei_x_encode_atom(x, "timeout");
    case FX_REASON_KILL:
        return ei_x_encode_atom(x, "kill");
    default:
        if (r->code == FX_ENODE && strcmp(r->text, "noconnection") == 0)
            return ei_x_encode_atom(x, "noconnection");
        return ei_x_encode_tuple_header(x, 3) | ei_x_encode_atom(x, "error") |
               ei_x_encode_long(x, r->code) |
               ei_x_encode_binary(x, r->text, (int) strlen(r->text));
    }
}

/* The reason term at frame[off, end) (validated by the parser). */
static fx_reason decode_reason(const uint8_t *frame, size_t off, size_t end)
{
    const char *s = (const char *) frame;
    char a[MAXATOMLEN_UTF8];
    int i = (int) off, arity;
    if (ei_decode_atom_as(s, &i, a, sizeof a, ERLANG_UTF8, NULL, NULL) == 0) {
        static const struct {
            const char *name;
            fx_reason (*make)(void);
        } known[] = {
            {"normal", fx_reason_normal},           {"shutdown", fx_reason_shutdown},
            {"killed", fx_reason_killed},           {"noproc", fx_reason_noproc},
            {"timeout", fx_reason_timeout},         {"kill", fx_reason_kill},
            {"noconnection", fxi_dist_noconnection}};
        for (size_t k = 0; k < sizeof known / sizeof *known; k++)
            if (strcmp(a, known[k].name) == 0)
                return known[k].make();
        return fx_reason_error(FX_EEXIT, "%s", a);
    }
    i = (int) off;
    if (ei_decode_tuple_header(s, &i, &arity) == 0 && arity >= 2 &&
        ei_decode_atom_as(s, &i, a, sizeof a, ERLANG_UTF8, NULL, NULL) == 0) {
        int t, sz;
        char text[FX_REASON_TEXT_MAX];
        text[0] = '\0';
        if (strcmp(a, "shutdown") == 0 && arity == 2 &&
            ei_get_type(s, &i, &t, &sz) == 0) {
            if (t == ERL_BINARY_EXT && sz < (int) sizeof text) {
                long n;
                ei_decode_binary(s, &i, text, &n);
                text[n] = '\0';
            } else if (ei_decode_atom_as(s, &i, a, sizeof a, ERLANG_UTF8, NULL, NULL) ==
                       0) {
                snprintf(text, sizeof text, "%.47s", a);
            }
            return fx_reason_shutdown_with("%s", text);
        }
        long code;
        if (strcmp(a, "error") == 0 && arity == 3 && ei_decode_long(s, &i, &code) == 0 &&
            ei_get_type(s, &i, &t, &sz) == 0 && t == ERL_BINARY_EXT &&
            sz < (int) sizeof text) {
            long n;
            ei_decode_binary(s, &i, text, &n);
            text[n] = '\0';
            return fx_reason_error((int) code, "%s", text);
        }
    }
    /* anything else: its text (term/print.c, no recursion), cut short */
    char text[FX_REASON_TEXT_MAX];
    uint8_t *t = end > off ? malloc(end - off + 1) : NULL;
    fx_reason r = fx_reason_error(FX_EEXIT, "erlang term");
    if (t) {
        t[0] = 131;
        memcpy(t + 1, frame + off, end - off);
        if (fx_term_sprint(t, end - off + 1, text, sizeof text) >= 0)
            r = fx_reason_error(FX_EEXIT, "%s", text);
        free(t);
    }
    return r;
}

/* ---- refs --------------------------------------------------------------- */

/* A fauxtp ref as an Erlang reference of this node (the first word holds
 * 18 bits, as Erlang's own). */
void fxi_dist_ref_out(const fxi_dist *d, fx_ref r, erlang_ref *e)
{
    memset(e, 0, sizeof *e);
    strcpy(e->node, d->name);
    e->len = 3;
    e->n[0] = (unsigned) (r.id & 0x3FFFF);
    e->n[1] = (unsigned) ((r.id >> 18) & 0xFFFFFFFFu);
    e->n[2] = (unsigned) (r.id >> 50);
    e->creation = d->creation;
}

bool fxi_dist_ref_in(const fxi_dist *d, const erlang_ref *e, fx_ref *r)
{
    if (strcmp(e->node, d->name) != 0 || e->len != 3 || e->creation != d->creation)
        return false;
    r->id = (uint64_t) e->n[0] | ((uint64_t) e->n[1] << 18) | ((uint64_t) e->n[2] << 50);
    return true;
}

static bool eref_eq(const erlang_ref *a, const erlang_ref *b)
{
    return a->len == b->len && a->creation == b->creation &&
           strcmp(a->node, b->node) == 0 &&
           memcmp(a->n, b->n, sizeof(unsigned) * (size_t) a->len) == 0;
}

/* ---- tables ------------------------------------------------------------- */

#define GROW(arr, n, cap)                                                                \
    do {                                                                                 \
        if ((n) == (cap)) {                                                              \
            uint32_t nc_ = (cap) ? (cap) *2 : 8;                                         \
            void *na_ = realloc((arr), nc_ * sizeof *(arr));                             \
            if (!na_)                                                                    \
                return -1;                                                               \
            (arr) = na_;                                                                 \
            (cap) = nc_;                                                                 \
        }                                                                                \
    } while (0)

static int link_find(const fxi_dist_sigs *s, fx_pid local, fx_pid remote)
{
    for (uint32_t i = 0; i < s->nl; i++)
        if (s->links[i].local.id == local.id && s->links[i].remote.id == remote.id)
            return (int) i;
    return -1;
}

static int link_add(fxi_dist_sigs *s, fx_pid local, fx_pid remote, fx_msg *p)
{
    GROW(s->links, s->nl, s->cl);
    s->links[s->nl++] = (fxi_dlink){local, remote, p};
    return 0;
}

/* Removes link i and returns its promise. */
static fx_msg *link_take(fxi_dist_sigs *s, int i)
{
    fx_msg *p = s->links[i].promise;
    s->links[i] = s->links[--s->nl];
    return p;
}

static int mo_add(fxi_dist_sigs *s, fxi_dmon_out e)
{
    GROW(s->mo, s->nmo, s->cmo);
    s->mo[s->nmo++] = e;
    return 0;
}

static int pn_add(fxi_dist_sigs *s, fx_ref ref, char *name)
{
    GROW(s->pn, s->npn, s->cpn);
    s->pn[s->npn++] = (fxi_dmon_name){ref, name};
    return 0;
}

/* The name sent ahead of monitor ref (FXI_DIST_S_MONNAME), taken; NULL
 * for a monitor of a pid. */
static char *pn_take(fxi_dist_sigs *s, fx_ref ref)
{
    for (uint32_t i = 0; i < s->npn; i++)
        if (s->pn[i].ref.id == ref.id) {
            char *n = s->pn[i].name;
            s->pn[i] = s->pn[--s->npn];
            return n;
        }
    return NULL;
}

/* A monitor's target as MONITOR_P / DEMONITOR_P name it: the atom of a
 * monitor by name, else the pid. */
static int encode_target(fxi_dist *d, ei_x_buff *x, const char *name, fx_pid target)
{
    erlang_pid t;
    if (name)
        return ei_x_encode_atom_len_as(x, name, (int) strlen(name), ERLANG_UTF8,
                                       ERLANG_UTF8);
    return fxi_dist_pid_out(d, target, &t) ? ei_x_encode_pid(x, &t) : -1;
}

static int mo_find(const fxi_dist_sigs *s, fx_ref r)
{
    for (uint32_t i = 0; i < s->nmo; i++)
        if (s->mo[i].ref.id == r.id)
            return (int) i;
    return -1;
}

static int mi_add(fxi_dist_sigs *s, const fxi_dmon_in *e)
{
    GROW(s->mi, s->nmi, s->cmi);
    s->mi[s->nmi++] = *e;
    return 0;
}

/* ---- control messages --------------------------------------------------- */

static int ctl_begin(ei_x_buff *x, int arity, long op)
{
    if (ei_x_new_with_version(x) != 0)
        return -1;
    if (ei_x_encode_tuple_header(x, arity) | ei_x_encode_long(x, op)) {
        ei_x_free(x);
        return -1;
    }
    return 0;
}

static int done(ei_x_buff *x, int rc)
{
    if (rc != 0) {
        ei_x_free(x);
        return 0;
    }
    return 1;
}

/* {Op, From, To, Reason} for EXIT/EXIT2 from local `from` to remote `to`. */
static int ctl_exit(fxi_dist *d, ei_x_buff *x, long op, fx_pid from, fx_pid to,
                    const fx_reason *r)
{
    erlang_pid f, t;
    if (!fxi_dist_pid_out(d, from, &f) || !fxi_dist_pid_out(d, to, &t) ||
        ctl_begin(x, 4, op) != 0)
        return 0;
    return done(x, ei_x_encode_pid(x, &f) | ei_x_encode_pid(x, &t) | encode_reason(x, r));
}

static void calls_end_monitor(fxi_dist_sigs *s, const erlang_ref *r);

int fxi_dsig_out(fx_ctx *cx, fxi_dist *d, fxi_dist_sigs *s, fx_msg *m, ei_x_buff *x)
{
    fx_pid local = fx_msg_from(m);
    fx_ref ref = fx_msg_ref(m);
    erlang_pid f, t;
    erlang_ref er;
    int i;
    switch (fx_msg_type(m)) {
    case FXI_DIST_S_LINK: {
        fx_pid remote = {ref.id};
        if (link_find(s, local, remote) < 0) {
            if (link_add(s, local, remote, m) != 0)
                return 0; /* out of memory: no noconnection for this link */
            fx_msg_keep(cx, m);
        }
        if (!fxi_dist_pid_out(d, local, &f) || !fxi_dist_pid_out(d, remote, &t) ||
            ctl_begin(x, 3, FXI_DOP_LINK) != 0)
            return 0;
        return done(x, ei_x_encode_pid(x, &f) | ei_x_encode_pid(x, &t));
    }
    case FXI_DIST_S_UNLINK: {
        fx_pid remote = {ref.id};
        if ((i = link_find(s, local, remote)) >= 0)
            fxi_msg_release(link_take(s, i));
        if (!fxi_dist_pid_out(d, local, &f) || !fxi_dist_pid_out(d, remote, &t) ||
            ctl_begin(x, 4, FXI_DOP_UNLINK_ID) != 0)
            return 0;
        return done(x, ei_x_encode_ulonglong(x, ++s->unlink_id) | ei_x_encode_pid(x, &f) |
                           ei_x_encode_pid(x, &t));
    }
    case FXI_DIST_S_EXIT:
    case FXI_DIST_S_EXIT2: {
        fx_pid remote = {ref.id};
        const fx_exit_info *e = fx_msg_data(m);
        bool link = fx_msg_type(m) == FXI_DIST_S_EXIT;
        if (link && (i = link_find(s, local, remote)) >= 0)
            fxi_msg_release(link_take(s, i)); /* local is gone: nobody to tell */
        /* The wire's EXIT2 needs a sender: one from outside the VM
         * (fx_vm_exit, FX_PID_NONE) goes out from this connection's
         * process, a pid of this node. */
        fx_pid from = !link && fx_pid_is_none(local) ? fx_self(cx) : local;
        return ctl_exit(d, x, link ? FXI_DOP_EXIT : FXI_DOP_EXIT2, from, remote,
                        &e->reason);
    }
    case FXI_DIST_S_MONNAME: {
        size_t len = fx_msg_size(m);
        char *name = malloc(len + 1);
        if (!name)
            return 0; /* out of memory: the monitor goes out by pid */
        memcpy(name, fx_msg_data(m), len);
        name[len] = '\0';
        if (pn_add(s, ref, name) != 0)
            free(name);
        return 0;
    }
    case FXI_DIST_S_MONITOR: {
        fx_pid remote = ((const fx_down_info *) fx_msg_data(m))->pid;
        char *name = pn_take(s, ref);
        if (mo_add(s, (fxi_dmon_out){ref, local, remote, m, name}) != 0) {
            free(name);
            return 0;
        }
        fx_msg_keep(cx, m);
        fxi_dist_ref_out(d, ref, &er);
        if (!fxi_dist_pid_out(d, local, &f) || ctl_begin(x, 4, FXI_DOP_MONITOR_P) != 0)
            return 0;
        return done(x, ei_x_encode_pid(x, &f) | encode_target(d, x, name, remote) |
                           ei_x_encode_ref(x, &er));
    }
    case FXI_DIST_S_DEMONITOR: {
        if ((i = mo_find(s, ref)) < 0)
            return 0;
        fxi_dmon_out e = s->mo[i];
        fxi_msg_release(e.promise);
        s->mo[i] = s->mo[--s->nmo];
        fxi_dist_ref_out(d, ref, &er);
        int rc =
            fxi_dist_pid_out(d, local, &f) && ctl_begin(x, 4, FXI_DOP_DEMONITOR_P) == 0
                ? done(x, ei_x_encode_pid(x, &f) | encode_target(d, x, e.name, e.target) |
                              ei_x_encode_ref(x, &er))
                : 0;
        free(e.name);
        return rc;
    }
    case FXI_DIST_S_DOWN: {
        const fx_down_info *dn = fx_msg_data(m);
        for (uint32_t k = 0; k < s->nmi; k++) {
            if (s->mi[k].ref.id != ref.id)
                continue;
            fxi_dmon_in e = s->mi[k];
            s->mi[k] = s->mi[--s->nmi];
            if (s->nc)
                calls_end_monitor(s, &e.eref);
            if (!fxi_dist_pid_out(d, local, &f) ||
                ctl_begin(x, 5, FXI_DOP_MONITOR_P_EXIT) != 0)
                return 0;
            int rc = e.by_name ? ei_x_encode_atom_len_as(x, e.name, (int) strlen(e.name),
                                                         ERLANG_UTF8, ERLANG_UTF8)
                               : ei_x_encode_pid(x, &f);
            return done(x, rc | ei_x_encode_pid(x, &e.ewatcher) |
                               ei_x_encode_ref(x, &e.eref) |
                               encode_reason(x, &dn->reason));
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* ---- from the peer ------------------------------------------------------ */

static fx_pid local_of(fxi_dist *d, const erlang_pid *p)
{
    if (strcmp(p->node, d->name) != 0)
        return FX_PID_NONE;
    return fxi_dist_pid_in(d, p);
}

/* The answer to a request for a process that does not exist. */
static int noproc_exit(ei_x_buff *x, const fxi_dist_ctl *c)
{
    if (ctl_begin(x, 4, FXI_DOP_EXIT) != 0)
        return 0;
    return done(x, ei_x_encode_pid(x, &c->to) | ei_x_encode_pid(x, &c->from) |
                       ei_x_encode_atom(x, "noproc"));
}

static int monitor_in(fx_ctx *cx, fxi_dist *d, fxi_dist_sigs *s, const fxi_dist_ctl *c,
                      ei_x_buff *x)
{
    fx_vm *vm = cx->vm;
    fx_pid target = FX_PID_NONE;
    if (c->has_to)
        target = local_of(d, &c->to);
    else if (strlen(c->name) < 256 && fx_whereis(vm, c->name, &target) != 0)
        target = FX_PID_NONE;
    fxi_dmon_in e;
    memset(&e, 0, sizeof e);
    e.ref = fx_make_ref(cx);
    e.eref = c->ref;
    e.ewatcher = c->from;
    e.watcher = fxi_dist_pid_in(d, &c->from);
    e.target = target;
    e.by_name = !c->has_to;
    if (e.by_name)
        snprintf(e.name, sizeof e.name, "%.255s", c->name);
    fx_msg *req = fxi_sig_promise_down(FXI_SIG_MONITOR, e.watcher, e.ref);
    if (req && target.id && mi_add(s, &e) == 0) {
        if (fxi_deliver_quiet(vm, cx->w, target, req) == 0)
            return 0;
        s->nmi--; /* a dead target */
    }
    if (req)
        fxi_msg_release(req);
    if (ctl_begin(x, 5, FXI_DOP_MONITOR_P_EXIT) != 0)
        return 0;
    int rc = e.by_name ? ei_x_encode_atom_len_as(x, c->name, (int) strlen(c->name),
                                                 ERLANG_UTF8, ERLANG_UTF8)
                       : ei_x_encode_pid(x, &c->to);
    return done(x, rc | ei_x_encode_pid(x, &c->from) | ei_x_encode_ref(x, &c->ref) |
                       ei_x_encode_atom(x, "noproc"));
}

int fxi_dsig_in(fx_ctx *cx, fxi_dist *d, fxi_dist_sigs *s, const fxi_dist_ctl *c,
                const uint8_t *frame, ei_x_buff *x)
{
    fx_vm *vm = cx->vm;
    fxi_worker *w = cx->w;
    fx_pid local = c->has_to ? local_of(d, &c->to) : FX_PID_NONE;
    fx_pid remote = c->has_from ? fxi_dist_pid_in(d, &c->from) : FX_PID_NONE;
    int i;
    switch (c->op) {
    case FXI_DOP_LINK: {
        fx_msg *req = fxi_sig_promise_exit(FXI_SIG_LINK, remote);
        fx_msg *own = fxi_sig_promise_exit(FXI_SIG_EXIT, local);
        int rc =
            req && own && local.id ? fxi_deliver_quiet(vm, w, local, req) : FX_ENOPROC;
        if (rc != 0) {
            if (req)
                fxi_msg_release(req);
            if (own)
                fxi_msg_release(own);
            return noproc_exit(x, c);
        }
        if (link_find(s, local, remote) >= 0 || link_add(s, local, remote, own) != 0)
            fxi_msg_release(own);
        return 0;
    }
    case FXI_DOP_EXIT: {
        fx_reason r = decode_reason(frame, c->reason_off, c->reason_end);
        if (!local.id)
            return 0;
        if ((i = link_find(s, local, remote)) >= 0)
            fxi_sig_fire_exit(vm, w, link_take(s, i), remote, &r, FXI_EXIT_LINK);
        else
            fxi_sig_exit(vm, w, remote, local, &r, FXI_EXIT_LINK);
        return 0;
    }
    case FXI_DOP_EXIT2: {
        fx_reason r = decode_reason(frame, c->reason_off, c->reason_end);
        if (local.id)
            fxi_sig_exit(vm, w, remote, local, &r, FXI_EXIT_EXPLICIT);
        return 0;
    }
    case FXI_DOP_UNLINK_ID:
        if (local.id) {
            fxi_sig_send(vm, w, FXI_SIG_UNLINK, remote, local, FX_REF_NONE);
            if ((i = link_find(s, local, remote)) >= 0)
                fxi_msg_release(link_take(s, i));
        }
        if (ctl_begin(x, 4, FXI_DOP_UNLINK_ID_ACK) != 0)
            return 0;
        return done(x, ei_x_encode_ulonglong(x, c->id) | ei_x_encode_pid(x, &c->to) |
                           ei_x_encode_pid(x, &c->from));
    case FXI_DOP_MONITOR_P:
        return monitor_in(cx, d, s, c, x);
    case FXI_DOP_DEMONITOR_P:
        for (uint32_t k = 0; k < s->nmi; k++) {
            if (!eref_eq(&s->mi[k].eref, &c->ref))
                continue;
            fxi_sig_send(vm, w, FXI_SIG_DEMONITOR, s->mi[k].watcher, s->mi[k].target,
                         s->mi[k].ref);
            s->mi[k] = s->mi[--s->nmi];
            break;
        }
        if (s->nc)
            calls_end_monitor(s, &c->ref);
        return 0;
    case FXI_DOP_MONITOR_P_EXIT: {
        fx_ref ref;
        if (!fxi_dist_ref_in(d, &c->ref, &ref) || (i = mo_find(s, ref)) < 0)
            return 0;
        fx_reason r = decode_reason(frame, c->reason_off, c->reason_end);
        fxi_dmon_out e = s->mo[i];
        s->mo[i] = s->mo[--s->nmo];
        free(e.name);
        fxi_sig_fire_down(vm, w, e.promise, e.target, &r);
        return 0;
    }
    default:
        return 0;
    }
}

void fxi_dsig_down(fx_ctx *cx, fxi_dist_sigs *s)
{
    fx_reason nc = fxi_dist_noconnection();
    for (uint32_t i = 0; i < s->nl; i++)
        fxi_sig_fire_exit(cx->vm, cx->w, s->links[i].promise, s->links[i].remote, &nc,
                          FXI_EXIT_LINK);
    s->nl = 0;
    for (uint32_t i = 0; i < s->nmo; i++) {
        free(s->mo[i].name);
        fxi_sig_fire_down(cx->vm, cx->w, s->mo[i].promise, s->mo[i].target, &nc);
    }
    s->nmo = 0;
    for (uint32_t i = 0; i < s->npn; i++)
        free(s->pn[i].name);
    s->npn = 0;
    for (uint32_t i = 0; i < s->nmi; i++)
        fxi_sig_send(cx->vm, cx->w, FXI_SIG_DEMONITOR, s->mi[i].watcher, s->mi[i].target,
                     s->mi[i].ref);
    s->nmi = 0;
}

void fxi_dsig_free(fxi_dist_sigs *s)
{
    for (uint32_t i = 0; i < s->nl; i++)
        fxi_msg_release(s->links[i].promise);
    for (uint32_t i = 0; i < s->nmo; i++) {
        fxi_msg_release(s->mo[i].promise);
        free(s->mo[i].name);
    }
    for (uint32_t i = 0; i < s->npn; i++)
        free(s->pn[i].name);
    free(s->pn);
    for (uint32_t i = 0; i < s->nc; i++)
        free(s->calls[i].tag);
    free(s->calls);
    free(s->links);
    free(s->mo);
    free(s->mi);
    memset(s, 0, sizeof *s);
}

/* ---- GenServer interop -------------------------------------------------- */

/* A call or cast envelope for a local server: {T, <<B>>} requests go as
 * type T with B, anything else as FX_MSG_TERM with the term (131 first). */
static fx_msg *envelope(uint32_t kind, const uint8_t *req, size_t rlen)
{
    uint8_t *term = malloc(rlen + 1);
    if (!term)
        return NULL;
    term[0] = 131;
    memcpy(term + 1, req, rlen);
    uint32_t type;
    const uint8_t *data;
    size_t size;
    if (!fxi_dist_plain(term, rlen + 1, &type, &data, &size)) {
        type = FX_MSG_TERM;
        data = term;
        size = rlen + 1;
    }
    fx_msg *m = NULL;
    if (fxi_gs_envelope(kind, type, data, size, &m) != 0)
        m = NULL;
    free(term);
    return m;
}

/* Calls from remote callers waiting for a local server's reply. An entry
 * ends with the reply, or with the caller's monitor on the server
 * (calls_end_monitor), or with the connection. */
static int call_add(fxi_dist_sigs *s, fxi_dcall c)
{
    GROW(s->calls, s->nc, s->cc);
    s->calls[s->nc++] = c;
    return 0;
}

static size_t alias_at(const uint8_t *t, size_t n);

/* The monitor ref a call Tag carries: the Tag itself (gen:do_call before
 * OTP 24, and fauxtp callers) or the Alias of [alias | Alias]. */
static bool tag_mref(const uint8_t *tag, size_t n, erlang_ref *out)
{
    size_t at = 0; /* NEWER_REFERENCE_EXT 90, NEW_REFERENCE_EXT 114 */
    if (n == 0 || (tag[0] != 90 && tag[0] != 114 && (at = alias_at(tag, n)) == 0))
        return false;
    int i = (int) at; /* the Tag passed fxi_etf_skip: a whole term */
    return ei_decode_ref((const char *) tag, &i, out) == 0;
}

/* The caller's monitor with remote ref r ended (DEMONITOR_P from the
 * caller, or the server's DOWN sent back): the calls it watched will
 * never be answered to anyone who waits, so their entries go. */
static void calls_end_monitor(fxi_dist_sigs *s, const erlang_ref *r)
{
    for (uint32_t i = 0; i < s->nc;) {
        if (s->calls[i].has_mref && eref_eq(&s->calls[i].mref, r)) {
            free(s->calls[i].tag);
            s->calls[i] = s->calls[--s->nc];
        } else {
            i++;
        }
    }
}

int fxi_dsig_gen_in(fx_ctx *cx, fxi_dist *d, fxi_dist_sigs *s, fx_pid to, fx_pid from,
                    const uint8_t *term, size_t len)
{
    const char *b = (const char *) term;
    int i = 1, arity, t, sz;
    char a[16];
    if (ei_decode_tuple_header(b, &i, &arity) != 0 || ei_get_type(b, &i, &t, &sz) != 0)
        return 0;
    if (arity == 2 && (t == ERL_NEWER_REFERENCE_EXT || t == ERL_NEW_REFERENCE_EXT)) {
        /* {Ref, Reply}: the reply to a call made from here? */
        erlang_ref er;
        fx_ref ref;
        int j = i;
        if (((const uint8_t *) b)[j + 1] != 0 || ((const uint8_t *) b)[j + 2] > 5 ||
            ei_decode_ref(b, &j, &er) != 0 || !fxi_dist_ref_in(d, &er, &ref))
            return 0;
        const uint8_t *data = term + j;
        size_t size = len - (size_t) j;
        int k = j;
        long n;
        bool bin = ei_get_type(b, &k, &t, &sz) == 0 && t == ERL_BINARY_EXT &&
                   (size_t) j + 5 + (size_t) sz == len;
        size_t need = bin ? (size_t) sz : size + 1;
        if (need > cx->vm->cfg.max_msg_size) { /* as deliver() does for messages */
            fx_log(cx->vm, FX_LOG_WARNING,
                   "dist: dropped a %zu-byte call reply (max_msg_size)", need);
            return 1;
        }
        fx_msg *m = fxi_msg_alloc(FX_MSG_REPLY, (uint32_t) need);
        if (!m)
            return 1;
        if (bin) {
            ei_decode_binary(b, &k, m->data, &n);
        } else {
            m->data[0] = 131;
            memcpy(m->data + 1, data, size);
        }
        m->from = from;
        m->ref = ref;
        fxi_deliver_or_drop(cx->vm, cx->w, to, m);
        return 1;
    }
    if (t != ERL_ATOM_EXT && t != ERL_SMALL_ATOM_EXT && t != ERL_ATOM_UTF8_EXT &&
        t != ERL_SMALL_ATOM_UTF8_EXT)
        return 0;
    if (ei_decode_atom_as(b, &i, a, sizeof a, ERLANG_UTF8, NULL, NULL) != 0)
        return 0;
    if (arity == 2 && strcmp(a, "$gen_cast") == 0) {
        fx_msg *m = envelope(FXI_GS_CAST, term + i, len - (size_t) i);
        if (m) {
            m->from = from;
            fxi_deliver_or_drop(cx->vm, cx->w, to, m);
        }
        return 1;
    }
    if (arity != 3 || strcmp(a, "$gen_call") != 0)
        return 0;
    fxi_dcall c;
    int targ;
    if (ei_decode_tuple_header(b, &i, &targ) != 0 || targ != 2 ||
        ei_decode_pid(b, &i, &c.caller) != 0)
        return 0;
    int tag0 = i;
    size_t tend; /* the message passed fxi_etf_skip: this only finds the end */
    if (fxi_etf_skip(term, len, (size_t) i, &tend) != 0 || tend > INT_MAX)
        return 0;
    i = (int) tend;
    c.taglen = (size_t) (i - tag0);
    c.tag = malloc(c.taglen);
    if (!c.tag)
        return 1;
    memcpy(c.tag, term + tag0, c.taglen);
    c.has_mref = tag_mref(c.tag, c.taglen, &c.mref);
    c.ref = fx_make_ref(cx);
    fx_msg *m = envelope(FXI_GS_CALL, term + i, len - (size_t) i);
    if (!m || call_add(s, c) != 0) {
        free(c.tag);
        if (m)
            fx_msg_free(m);
        return 1;
    }
    m->from = fxi_dist_pid_in(d, &c.caller);
    m->ref = c.ref;
    if (fxi_deliver_or_drop(cx->vm, cx->w, to, m) != 0) {
        /* no such server: the caller's monitor reports it */
        free(c.tag);
        s->nc--;
    }
    return 1;
}

/* Where the alias starts in a call Tag of the form [alias | Alias] (a
 * one-element list whose tail is a reference), or 0. */
static size_t alias_at(const uint8_t *t, size_t n)
{
    static const uint8_t small[] = {119, 5,   'a', 'l',
                                    'i', 'a', 's'},  /* SMALL_ATOM_UTF8 */
        latin[] = {115, 5, 'a', 'l', 'i', 'a', 's'}; /* SMALL_ATOM */
    size_t p = 5 + sizeof small;
    if (n <= p || t[0] != 108 || t[1] || t[2] || t[3] || t[4] != 1 ||
        (memcmp(t + 5, small, sizeof small) && memcmp(t + 5, latin, sizeof latin)))
        return 0;
    return t[p] == 90 || t[p] == 114 ? p : 0; /* NEWER_/NEW_REFERENCE_EXT */
}

int fxi_dsig_reply(fxi_dist *d, fxi_dist_sigs *s, fx_msg *m, bool alias_ok,
                   ei_x_buff *ctl, ei_x_buff *msg)
{
    for (uint32_t i = 0; i < s->nc; i++) {
        if (s->calls[i].ref.id != m->ref.id)
            continue;
        fxi_dcall c = s->calls[i];
        s->calls[i] = s->calls[--s->nc];
        int ok = 0;
        size_t alias = alias_ok ? alias_at(c.tag, c.taglen) : 0;
        erlang_pid from;
        if (alias && !fxi_dist_pid_out(d, fx_msg_from(m), &from))
            alias = 0;
        /* ALIAS_SEND {33, From, Alias} or SEND {2, '', To}. */
        if (ctl_begin(ctl, 3, alias ? FXI_DOP_ALIAS_SEND : FXI_DOP_SEND) == 0) {
            int bad = alias ? ei_x_encode_pid(ctl, &from) |
                                  ei_x_append_buf(ctl, (const char *) c.tag + alias,
                                                  (int) (c.taglen - alias))
                            : ei_x_encode_atom(ctl, "") | ei_x_encode_pid(ctl, &c.caller);
            if (!bad && ei_x_new_with_version(msg) == 0) {
                if ((ei_x_encode_tuple_header(msg, 2) |
                     ei_x_append_buf(msg, (const char *) c.tag, (int) c.taglen) |
                     ei_x_encode_binary(msg, m->data, (int) m->size)) == 0)
                    ok = 1;
                else
                    ei_x_free(msg);
            }
            if (!ok)
                ei_x_free(ctl);
        }
        free(c.tag);
        return ok;
    }
    return 0;
}
