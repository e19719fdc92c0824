/* Outgoing frames: a control message and the message term in one
 * pass-through frame, built in a message for the connection process
 * (which writes it without another copy), and sends to {Name, Node}. */
#include <fauxtp/error.h>
#include <fauxtp/registry.h>
#include <string.h>

#include "actor/msg.h"
#include "actor/ptable.h"
#include "actor/send.h"
#include "actor/vm.h"
#include "actor/section.h"
#include "dist/dist.h"

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

/* {T, <<P>>}'s header: version, tuple, integer, binary tag and length. */
static size_t plain_head(uint8_t *h, uint32_t type, size_t size)
{
    size_t k = 0;
    h[k++] = 131;
    h[k++] = 104; /* SMALL_TUPLE_EXT */
    h[k++] = 2;
    if (type < 256) {
        h[k++] = 97; /* SMALL_INTEGER_EXT */
        h[k++] = (uint8_t) type;
    } else if (type < 0x80000000u) {
        h[k++] = 98; /* INTEGER_EXT */
        put32(h + k, type);
        k += 4;
    } else {
        h[k++] = 110; /* SMALL_BIG_EXT: 4 bytes, positive, little-endian */
        h[k++] = 4;
        h[k++] = 0;
        for (int i = 0; i < 4; i++)
            h[k++] = (uint8_t) (type >> (8 * i));
    }
    h[k++] = 109; /* BINARY_EXT */
    put32(h + k, (uint32_t) size);
    return k + 4;
}

fx_msg *fxi_dist_frame(fxi_dist *d, const ei_x_buff *ctl, uint32_t type, const void *data,
                       size_t size, int *rc)
{
    (void) d;
    uint8_t head[16];
    size_t hl = 0;
    if (type == FX_MSG_TERM) {
        size_t end;
        const uint8_t *b = data;
        if (size < 2 || b[0] != 131 || fxi_etf_skip(b, size, 1, &end) != 0 ||
            end != size) {
            *rc = FX_EINVAL;
            return NULL;
        }
    } else {
        hl = plain_head(head, type, size);
    }
    size_t body = 1 + (size_t) ctl->index + hl + size;
    if (body > 0x7FFFFFF0u) {
        *rc = FX_EMSGSIZE;
        return NULL;
    }
    fx_msg *f = fxi_msg_alloc(FXI_DIST_OUT, (uint32_t) (4 + body));
    if (!f) {
        *rc = FX_ENOMEM;
        return NULL;
    }
    uint8_t *p = f->data;
    put32(p, (uint32_t) body);
    p[4] = 112; /* pass-through */
    memcpy(p + 5, ctl->buff, (size_t) ctl->index);
    p += 5 + ctl->index;
    memcpy(p, head, hl);
    if (size)
        memcpy(p + hl, data, size);
    *rc = 0;
    return f;
}

/* Senders encode SEND_SENDER {22, From, To}; a peer that did not offer
 * it (erl_interface's C nodes) gets SEND {2, '', To} instead. The frame
 * was built by fxi_dist_frame, so its layout is known: length, 112, 131,
 * 104 3, 97 22, From, then To and the message. */
fx_msg *fxi_dist_frame_without_sender(const fx_msg *m)
{
    const uint8_t *b = fx_msg_data(m);
    size_t n = fx_msg_size(m), end;
    if (n < 10 || b[4] != 112 || b[5] != 131 || b[6] != 104 || b[7] != 3 || b[8] != 97 ||
        b[9] != FXI_DOP_SEND_SENDER || fxi_etf_skip(b, n, 10, &end) != 0)
        return NULL;
    size_t rest = n - end, body = 1 + 1 + 2 + 2 + 2 + rest;
    fx_msg *f = fxi_msg_alloc(FXI_DIST_OUT, (uint32_t) (4 + body));
    if (!f)
        return NULL;
    uint8_t *p = f->data;
    p[0] = (uint8_t) (body >> 24);
    p[1] = (uint8_t) (body >> 16);
    p[2] = (uint8_t) (body >> 8);
    p[3] = (uint8_t) body;
    static const uint8_t head[] = {112, 131, 104, 3, 97, FXI_DOP_SEND, 119, 0};
    memcpy(p + 4, head, sizeof head);
    memcpy(p + 4 + sizeof head, b + end, rest);
    return f;
}

int fxi_dist_send_name(fxi_dist *d, fxi_worker *w, fx_pid from, const char *node,
                       const char *name, uint32_t type, const void *data, size_t size)
{
    if (!node || !name || !*name || strlen(name) > 255 || (size && !data) ||
        (type >= FX_MSG_SYSTEM_BASE && type != FX_MSG_TERM))
        return FX_EINVAL;
    if (size > d->vm->cfg.max_msg_size)
        return FX_EMSGSIZE;
    char alive[256], host[FXI_DIST_HOST_MAX];
    if (fxi_dist_split_name(node, alive, sizeof alive, host, sizeof host) != 0)
        return FX_EINVAL;
    /* REG_SEND {6, From, '', Name}: From must be a pid; a sender that is
     * no process is named by a pid of ours that never exists. */
    erlang_pid f;
    if (!from.id || !fxi_dist_pid_out(d, from, &f)) {
        strcpy(f.node, d->name);
        f.num = 0;
        f.serial = 0;
        f.creation = d->creation;
    }
    ei_x_buff x;
    if (ei_x_new_with_version(&x) != 0)
        return FX_ENOMEM;
    int rc =
        ei_x_encode_tuple_header(&x, 4) | ei_x_encode_long(&x, FXI_DOP_REG_SEND) |
        ei_x_encode_pid(&x, &f) | ei_x_encode_atom(&x, "") |
        ei_x_encode_atom_len_as(&x, name, (int) strlen(name), ERLANG_UTF8, ERLANG_UTF8);
    if (rc != 0) {
        ei_x_free(&x);
        return FX_ENOMEM;
    }
    fx_msg *fr = fxi_dist_frame(d, &x, type, data, size, &rc);
    ei_x_free(&x);
    if (!fr)
        return rc;
    fxi_mutex_lock(&d->mx);
    fx_pid conn = FX_PID_NONE;
    bool busy = false;
    if (!d->running) {
        rc = FX_ENOTDIST;
    } else if (strcmp(node, d->name) == 0) {
        rc = 1; /* ours: deliver locally below */
    } else {
        fxi_rnode *n = fxi_dist_node_get(d, node, 0);
        conn = n ? fxi_dist_conn_ensure(d, n) : FX_PID_NONE;
        rc = conn.id ? 0 : FX_ENOMEM;
        busy = n && n->busy;
    }
    fxi_mutex_unlock(&d->mx);
    if (rc == 0 && fxi_dist_pace_check(d->vm, w, conn, busy) != 0)
        rc = FX_EAGAIN; /* outside the VM: the caller keeps its message */
    if (rc == 1) {      /* {Name, node()} ! Msg: a local registered send */
        fxi_msg_release(fr);
        fx_pid to;
        if (fx_whereis(d->vm, name, &to) != 0)
            return 0;
        fx_msg *m = fxi_msg_alloc(type, (uint32_t) size);
        if (!m)
            return FX_ENOMEM;
        if (size)
            memcpy(m->data, data, size);
        m->from = from;
        fxi_deliver_or_drop(d->vm, w, to, m);
        return 0;
    }
    if (rc != 0) {
        fxi_msg_release(fr);
        return rc;
    }
    fr->from = from;
    fxi_deliver_or_drop(d->vm, w, conn, fr);
    fxi_dist_pace_after(d->vm, w, conn, busy);
    return 0;
}

FX_API int fx_dist_send_nosuspend(fx_ctx *cx, fx_pid to, uint32_t type, const void *data,
                                  size_t size)
{
    if (!cx)
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(cx->vm);
    if (d && to.id && fxi_pid_tag(to) != cx->vm->pt.tag) {
        fxi_mutex_lock(&d->mx);
        fxi_rnode *n = d->running ? fxi_dist_find_tag(d, fxi_pid_tag(to)) : NULL;
        bool busy = n && n->busy;
        fx_pid conn = n ? n->conn : FX_PID_NONE;
        fxi_mutex_unlock(&d->mx);
        /* refused as a sender outside the VM would be */
        if (conn.id && fxi_dist_pace_check(cx->vm, NULL, conn, busy) != 0)
            return FX_EAGAIN;
    }
    return fx_send(cx, to, type, data, size);
}

FX_API int fx_dist_send_named(fx_ctx *cx, const char *node, const char *name,
                              uint32_t type, const void *data, size_t size)
{
    if (!cx)
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(cx->vm);
    if (!d)
        return FX_ENOTDIST;
    return fxi_dist_send_name(d, cx->w, cx->self->pid, node, name, type, data, size);
}

FX_API int fx_dist_vm_send_named(fx_vm *vm, const char *node, const char *name,
                                 uint32_t type, const void *data, size_t size)
{
    if (!vm)
        return FX_EINVAL;
    fxi_dist *d = fxi_dist_get(vm);
    if (!d)
        return FX_ENOTDIST;
    fxi_section sec;
    int rc = fxi_section_enter(vm, &sec);
    if (rc)
        return rc;
    rc = fxi_dist_send_name(d, sec.w, FX_PID_NONE, node, name, type, data, size);
    fxi_section_exit(vm, &sec);
    return rc;
}
