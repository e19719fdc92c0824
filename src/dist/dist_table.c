/* The node table: remote node incarnations, their pid tags and the
 * interned remote pids; the send path's route to a connection. */
#include <fauxtp/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/msg.h"
#include "actor/mute.h"
#include "actor/ptable.h"
#include "actor/send.h"
#include "actor/vm.h"
#include "actor/signal.h"
#include "dist/dist.h"
#include "dist/dist_sig.h"
#include "otp/gs_impl.h"
#include "platform/atomic.h"

#define LOW48 ((1ull << 48) - 1)

fxi_dist *fxi_dist_get(fx_vm *vm)
{
    /* acquire: pairs with the release store in fx_dist_start, so the
     * mutex and fields initialised before publication are visible. */
    return (fxi_dist *) fxi_atomic_load_acquire_ptr(&vm->dist);
}

fxi_rnode *fxi_dist_find(fxi_dist *d, const char *name)
{
    for (uint32_t i = 0; i < d->nnodes; i++)
        if (strcmp(d->nodes[i]->name, name) == 0)
            return d->nodes[i];
    return NULL;
}

fxi_rnode *fxi_dist_find_tag(fxi_dist *d, uint32_t tag)
{
    for (uint32_t i = 0; i < d->nnodes; i++)
        if (d->nodes[i]->tag == tag)
            return d->nodes[i];
    return NULL;
}

static void set_retired(fxi_dist *d, uint32_t tag, bool on)
{
    if (on)
        d->retired[tag / 64] |= 1ull << (tag % 64);
    else
        d->retired[tag / 64] &= ~(1ull << (tag % 64));
}

bool fxi_dist_retired(const fxi_dist *d, uint32_t tag)
{
    return tag <= FXI_PID_TAG_COUNT && (d->retired[tag / 64] >> (tag % 64)) & 1;
}

/* A fresh tag for n (a tag that wrapped around is no longer retired). */
static void new_tag(fxi_dist *d, fxi_rnode *n)
{
    n->tag = fxi_pid_tag_alloc();
    set_retired(d, n->tag, false);
}

void fxi_dist_retire(fxi_dist *d, fxi_rnode *n)
{
    set_retired(d, n->tag, true);
    new_tag(d, n);
    n->creation = 0;
    free(n->pids);
    n->pids = NULL;
    n->npids = n->cap = 0;
    fxi_u64map_fini(&n->index);
}

fxi_rnode *fxi_dist_node_get(fxi_dist *d, const char *name, uint32_t creation)
{
    fxi_rnode *n = fxi_dist_find(d, name);
    if (n) {
        if (creation && n->creation != creation) {
            /* An unknown creation is adopted: the pids interned meanwhile
             * are stand-ins or came without one (creation 0). */
            if (n->creation != 0)
                fxi_dist_retire(d, n);
            n->creation = creation;
        }
        return n;
    }
    if (strlen(name) >= sizeof n->name)
        return NULL;
    if (d->nnodes == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 8;
        fxi_rnode **a = realloc(d->nodes, cap * sizeof *a);
        if (!a)
            return NULL;
        d->nodes = a;
        d->cap = cap;
    }
    n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    strcpy(n->name, name);
    n->creation = creation;
    new_tag(d, n);
    d->nodes[d->nnodes++] = n;
    return n;
}

fx_pid fxi_dist_conn_ensure(fxi_dist *d, fxi_rnode *n)
{
    if (n->conn.id && fx_is_alive(d->vm, n->conn) == 1)
        return n->conn;
    n->up = false;
    n->conn = FX_PID_NONE;
    fx_pid p;
    if (fxi_dist_conn_spawn(d, n->name, &p) == 0)
        n->conn = p;
    return n->conn;
}

static fx_pid intern(fxi_rnode *n, const erlang_pid *p)
{
    uint64_t key = (((uint64_t) p->serial << 32) | p->num) + 1;
    uint64_t idx;
    if (key == 0)
        return fxi_pid_make(n->tag, 0, 0); /* cannot be interned: dead */
    if (fxi_u64map_get(&n->index, key, &idx))
        return (fx_pid){((uint64_t) n->tag << 48) | idx};
    if (n->npids == n->cap) {
        uint32_t cap = n->cap ? n->cap * 2 : 16;
        fxi_rpid *a = realloc(n->pids, cap * sizeof *a);
        if (!a)
            return fxi_pid_make(n->tag, 0, 0);
        n->pids = a;
        n->cap = cap;
    }
    idx = n->npids + 1;
    if (fxi_u64map_put(&n->index, key, idx) < 0)
        return fxi_pid_make(n->tag, 0, 0);
    n->pids[n->npids++] = (fxi_rpid){p->num, p->serial, p->creation};
    return (fx_pid){((uint64_t) n->tag << 48) | idx};
}

fx_pid fxi_dist_pid_in(fxi_dist *d, const erlang_pid *p)
{
    fx_vm *vm = d->vm;
    fx_pid out;
    fxi_mutex_lock(&d->mx);
    if (strcmp(p->node, d->name) == 0) {
        /* Ours: index and generation, if of this incarnation. A dead pid
         * (generation 0) otherwise. */
        if (p->creation == d->creation && p->num < (1u << 24) && p->serial < (1u << 24))
            out = fxi_pid_make(vm->pt.tag, p->serial, p->num);
        else
            out = fxi_pid_make(vm->pt.tag, 0, 0);
    } else {
        fxi_rnode *n = fxi_dist_node_get(d, p->node, 0);
        if (!n)
            out = FX_PID_NONE;
        else if (n->creation != p->creation && n->creation != 0)
            out = fxi_pid_make(n->tag, 0, 0); /* another incarnation's */
        else {
            n->creation = p->creation;
            out = intern(n, p);
        }
    }
    fxi_mutex_unlock(&d->mx);
    return out;
}

const fxi_dname *fxi_dist_dname(const fxi_dist *d, fx_pid pid)
{
    uint64_t idx = pid.id & LOW48;
    if (fxi_pid_tag(pid) != d->name_tag || idx == 0 || idx > d->ndn)
        return NULL;
    return &d->dnames[idx - 1];
}

/* The {name, node} stand-in's index + 1, added if new; 0 when full. */
static uint64_t dname_index(fxi_dist *d, const char *node, const char *name)
{
    for (uint32_t i = 0; i < d->ndn; i++)
        if (strcmp(d->dnames[i].name, name) == 0 && strcmp(d->dnames[i].node, node) == 0)
            return i + 1;
    if (d->ndn == FXI_DIST_NAMES_MAX || strlen(node) > 255 || strlen(name) > 255)
        return 0;
    if (d->ndn == d->cdn) {
        uint32_t cap = d->cdn ? d->cdn * 2 : 8;
        fxi_dname *a = realloc(d->dnames, cap * sizeof *a);
        if (!a)
            return 0;
        d->dnames = a;
        d->cdn = cap;
    }
    fxi_dname *e = &d->dnames[d->ndn++];
    strcpy(e->node, node);
    strcpy(e->name, name);
    return d->ndn;
}

fx_pid fxi_dist_name_pid(fxi_dist *d, const char *node, const char *name)
{
    /* A pid number no process of the peer has in practice (the table is
     * keyed by serial and number: 2^32 - 1 / 2^32 - 2, creation 0). */
    erlang_pid p = {.num = 0xFFFFFFFEu, .serial = 0xFFFFFFFFu, .creation = 0};
    snprintf(p.node, sizeof p.node, "%s", node);
    fx_pid out = FX_PID_NONE;
    fxi_mutex_lock(&d->mx);
    uint64_t k = d->running ? dname_index(d, node, name) : 0;
    fxi_rnode *n = d->running && !k ? fxi_dist_node_get(d, node, 0) : NULL;
    if (k)
        out = (fx_pid){((uint64_t) d->name_tag << 48) | k};
    else if (n)
        out = intern(n, &p);
    fxi_mutex_unlock(&d->mx);
    return out;
}

bool fxi_dist_pid_out(fxi_dist *d, fx_pid pid, erlang_pid *out)
{
    bool ok = false;
    fxi_mutex_lock(&d->mx);
    if (fxi_pid_tag(pid) == d->vm->pt.tag) {
        strcpy(out->node, d->name);
        out->num = (uint32_t) (pid.id & 0xFFFFFF);
        out->serial = (uint32_t) ((pid.id >> 24) & 0xFFFFFF);
        out->creation = d->creation;
        ok = true;
    } else {
        fxi_rnode *n = fxi_dist_find_tag(d, fxi_pid_tag(pid));
        uint64_t idx = pid.id & LOW48;
        if (n && idx >= 1 && idx <= n->npids) {
            strcpy(out->node, n->name);
            out->num = n->pids[idx - 1].num;
            out->serial = n->pids[idx - 1].serial;
            out->creation = n->pids[idx - 1].creation;
            ok = true;
        }
    }
    fxi_mutex_unlock(&d->mx);
    return ok;
}

void fxi_dist_table_clear(fxi_dist *d)
{
    for (uint32_t i = 0; i < d->nnodes; i++) {
        set_retired(d, d->nodes[i]->tag, true);
        fxi_u64map_fini(&d->nodes[i]->index);
        free(d->nodes[i]->pids);
        free(d->nodes[i]);
    }
    free(d->nodes);
    d->nodes = NULL;
    d->nnodes = d->cap = 0;
}

/* Erlang's SEND_SENDER {22, From, To} when the sender is a process of
 * ours, SEND {2, '', To} otherwise. */
static int encode_send(fxi_dist *d, fx_pid from, const erlang_pid *to, ei_x_buff *x)
{
    erlang_pid f;
    bool sender =
        from.id && fxi_pid_tag(from) == d->vm->pt.tag && fxi_dist_pid_out(d, from, &f);
    if (ei_x_new_with_version(x) != 0)
        return FX_ENOMEM;
    int rc = ei_x_encode_tuple_header(x, 3);
    if (sender)
        rc |= ei_x_encode_long(x, FXI_DOP_SEND_SENDER) | ei_x_encode_pid(x, &f);
    else
        rc |= ei_x_encode_long(x, FXI_DOP_SEND) | ei_x_encode_atom(x, "");
    rc |= ei_x_encode_pid(x, to);
    if (rc != 0) {
        ei_x_free(x);
        return FX_ENOMEM;
    }
    return 0;
}

/* A fauxtp GenServer call or cast to an Erlang process, as gen_server's
 * {'$gen_call', {From, Ref}, Req} or {'$gen_cast', Req}: Req is {T, <<B>>}
 * or, for type FX_MSG_TERM, the term itself. The reply {Ref, Reply} comes
 * back as FX_MSG_REPLY (dist_sig.c). */
int fxi_dist_gen_term(fxi_dist *d, const fx_msg *m, ei_x_buff *x)
{
    const fxi_gs_env *e = (const fxi_gs_env *) m->data;
    if (m->size < sizeof *e)
        return FX_EINVAL;
    const uint8_t *data = m->data + sizeof *e;
    size_t size = m->size - sizeof *e;
    if (e->type == FX_MSG_TERM) {
        size_t end;
        if (size < 2 || data[0] != 131 || fxi_etf_skip(data, size, 1, &end) != 0 ||
            end != size)
            return FX_EINVAL;
    }
    erlang_pid f;
    erlang_ref r;
    bool call = m->type == FXI_GS_CALL;
    if (ei_x_new_with_version(x) != 0)
        return FX_ENOMEM;
    int rc = ei_x_encode_tuple_header(x, call ? 3 : 2) |
             ei_x_encode_atom(x, call ? "$gen_call" : "$gen_cast");
    if (call) {
        if (!fxi_dist_pid_out(d, m->from, &f)) {
            ei_x_free(x);
            return FX_EINVAL;
        }
        fxi_dist_ref_out(d, m->ref, &r);
        rc |= ei_x_encode_tuple_header(x, 2) | ei_x_encode_pid(x, &f) |
              ei_x_encode_ref(x, &r);
    }
    if (e->type == FX_MSG_TERM)
        rc |= ei_x_append_buf(x, (const char *) data + 1, (int) size - 1);
    else
        rc |= ei_x_encode_tuple_header(x, 2) | ei_x_encode_ulong(x, e->type) |
              ei_x_encode_binary(x, data, (int) size);
    if (rc != 0) {
        ei_x_free(x);
        return FX_ENOMEM;
    }
    return 0;
}

/* The connection process, when it is busy or its mailbox is long. */
static fxi_actor *pace_target(fx_vm *vm, fx_pid conn, bool busy)
{
    fxi_actor *a = fxi_ptable_lookup(&vm->pt, conn);
    if (a && (busy || fxi_mailbox_len(&a->mb) >= FXI_DIST_QUEUE_MAX))
        return a;
    return NULL;
}

int fxi_dist_pace_check(fx_vm *vm, fxi_worker *w, fx_pid conn, bool busy)
{
    return !w && pace_target(vm, conn, busy) ? FX_EAGAIN : 0;
}

void fxi_dist_pace_after(fx_vm *vm, fxi_worker *w, fx_pid conn, bool busy)
{
    if (!w || !w->cx.cur || !w->cx.self)
        return; /* not inside a handler call: nobody to mute */
    fxi_actor *a = pace_target(vm, conn, busy);
    if (a && a != w->cx.self)
        w->mute_to = a; /* as a send over its mark does (actor/outbox.h) */
}

/* Hands signal m (retyped to sig, for remote pid `to`) to connection
 * conn. Always 0: m is taken. */
static int route_signal(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m, uint32_t sig,
                        fx_pid conn)
{
    if (sig == FXI_DIST_S_MONITOR)
        ((fx_down_info *) m->data)->pid = to;
    else if (sig != FXI_DIST_S_DEMONITOR && sig != FXI_DIST_S_DOWN &&
             sig != FXI_DIST_S_REPLY && sig != FXI_DIST_S_MONNAME)
        m->ref.id = to.id; /* these keep their ref */
    m->type = sig;
    if (sig != FXI_DIST_S_LINK && sig != FXI_DIST_S_MONITOR) {
        fxi_deliver_or_drop(vm, w, conn, m);
        return 0;
    }
    /* The connection may have exited since the look-up: it would never
     * answer this link or monitor, so it is answered here, as its going
     * down would have (m is the request, kept as the promise: the exit or
     * DOWN goes to m->from). */
    if (fxi_deliver_quiet(vm, w, conn, m) == FX_ENOPROC) {
        fx_reason nc = fxi_dist_noconnection();
        if (sig == FXI_DIST_S_LINK)
            fxi_sig_fire_exit(vm, w, m, to, &nc, FXI_EXIT_LINK);
        else
            fxi_sig_fire_down(vm, w, m, to, &nc);
    }
    return 0;
}

int fxi_dist_route(fx_vm *vm, fxi_worker *w, fx_pid to, fx_msg *m)
{
    fxi_dist *d = fxi_dist_get(vm);
    if (!d)
        return FX_ENOPROC;
    uint32_t sig = 0; /* a signal, retyped for the connection (dist_sig.h) */
    switch (m->type) {
    case FXI_SIG_LINK:
        sig = FXI_DIST_S_LINK;
        break;
    case FXI_SIG_UNLINK:
        sig = FXI_DIST_S_UNLINK;
        break;
    case FXI_SIG_EXIT:
        sig = m->ref.id == FXI_EXIT_LINK ? FXI_DIST_S_EXIT : FXI_DIST_S_EXIT2;
        break;
    case FXI_SIG_MONITOR:
        sig = FXI_DIST_S_MONITOR;
        break;
    case FXI_SIG_DEMONITOR:
        sig = FXI_DIST_S_DEMONITOR;
        break;
    case FX_MSG_DOWN:
        sig = FXI_DIST_S_DOWN;
        break;
    case FX_MSG_REPLY:
        sig = FXI_DIST_S_REPLY;
        break;
    case FXI_DIST_S_MONNAME: /* already for the connection (dist_call.c) */
        sig = FXI_DIST_S_MONNAME;
        break;
    case FXI_GS_CALL:
    case FXI_GS_CAST:
        break; /* to an Erlang gen_server: encoded below */
    default:
        if (m->type >= FX_MSG_SYSTEM_BASE && m->type != FX_MSG_TERM)
            return FX_ENOPROC; /* replies and the rest: not across nodes */
    }
    erlang_pid rp;
    fx_pid conn = FX_PID_NONE;
    fxi_mutex_lock(&d->mx);
    const fxi_dname *dn = d->running ? fxi_dist_dname(d, to) : NULL;
    if (dn) { /* a {Name, Node} stand-in: only its monitor's signals */
        fxi_rnode *n = sig == FXI_DIST_S_MONITOR || sig == FXI_DIST_S_DEMONITOR ||
                               sig == FXI_DIST_S_MONNAME
                           ? fxi_dist_node_get(d, dn->node, 0)
                           : NULL;
        conn = n ? fxi_dist_conn_ensure(d, n) : FX_PID_NONE;
        fxi_mutex_unlock(&d->mx);
        if (!conn.id)
            return FX_ENOPROC;
        return route_signal(vm, w, to, m, sig, conn);
    }
    fxi_rnode *n = d->running ? fxi_dist_find_tag(d, fxi_pid_tag(to)) : NULL;
    uint64_t idx = to.id & LOW48;
    if (!n || idx == 0 || idx > n->npids) {
        /* A pid of an ended incarnation: as in Erlang, a link or monitor
         * to it gets noconnection (m is the request, kept as the
         * promise), anything else is dropped. */
        bool gone = d->running && fxi_dist_retired(d, fxi_pid_tag(to));
        fxi_mutex_unlock(&d->mx);
        if (gone && (sig == FXI_DIST_S_LINK || sig == FXI_DIST_S_MONITOR)) {
            fx_reason nc = fxi_dist_noconnection();
            if (sig == FXI_DIST_S_LINK)
                fxi_sig_fire_exit(vm, w, m, to, &nc, FXI_EXIT_LINK);
            else
                fxi_sig_fire_down(vm, w, m, to, &nc);
            return 0;
        }
        return FX_ENOPROC;
    }
    strcpy(rp.node, n->name);
    rp.num = n->pids[idx - 1].num;
    rp.serial = n->pids[idx - 1].serial;
    rp.creation = n->pids[idx - 1].creation;
    bool busy = n->busy;
    conn = fxi_dist_conn_ensure(d, n);
    fxi_mutex_unlock(&d->mx);
    if (!conn.id)
        return FX_ENOPROC;
    if (!sig && fxi_dist_pace_check(vm, w, conn, busy) != 0)
        return FX_EAGAIN; /* a sender outside the VM keeps its message */
    if (sig)
        return route_signal(vm, w, to, m, sig, conn);
    ei_x_buff ctl, gen = {0};
    int rc = encode_send(d, m->from, &rp, &ctl);
    if (rc != 0)
        return rc;
    uint32_t type = m->type;
    const void *data = m->data;
    size_t size = m->size;
    if (type == FXI_GS_CALL || type == FXI_GS_CAST) {
        if ((rc = fxi_dist_gen_term(d, m, &gen)) != 0) {
            ei_x_free(&ctl);
            return rc;
        }
        type = FX_MSG_TERM;
        data = gen.buff;
        size = (size_t) gen.index;
    }
    fx_msg *f = fxi_dist_frame(d, &ctl, type, data, size, &rc);
    ei_x_free(&ctl);
    if (gen.buff)
        ei_x_free(&gen);
    if (!f)
        return rc;
    fxi_msg_release(m);
    /* As in Erlang, a send to a remote pid succeeds even if the
     * connection goes down meanwhile: the frame is then dropped. */
    fxi_deliver_or_drop(vm, w, conn, f);
    fxi_dist_pace_after(vm, w, conn, busy);
    return 0;
}
