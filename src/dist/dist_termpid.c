/* Pids in terms (term.h's fx_term_put_pid / fx_term_get_pid): the
 * distribution layer's mapping of fauxtp pids to Erlang pids, the one its
 * SEND and NEW_PID_EXT use (dist_table.c; docs/distribution.md, "Pids").
 * A pid has an Erlang form only while the VM is a running node. */
#include <ei.h>
#include <string.h>

#include <fauxtp/error.h>
#include <fauxtp/term.h>

#include "dist/dist.h"
#include "term/etf.h"

/* The running node of vm, or NULL. d->running is read under d->mx. */
static fxi_dist *running(fx_vm *vm)
{
    fxi_dist *d = fxi_dist_get(vm);
    if (!d)
        return NULL;
    fxi_mutex_lock(&d->mx);
    bool up = d->running;
    fxi_mutex_unlock(&d->mx);
    return up ? d : NULL;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

FX_API int fx_term_put_pid(fx_term_builder *b, fx_vm *vm, fx_pid pid)
{
    int rc = fxi_tb_check(b); /* a failed builder answers its own code */
    if (rc)
        return rc;
    if (!vm || pid.id == 0)
        return fxi_tb_fail(b, FX_EINVAL);
    fxi_dist *d = running(vm);
    if (!d)
        return fxi_tb_fail(b, FX_ENOTDIST);
    erlang_pid e;
    if (!fxi_dist_pid_out(d, pid, &e))
        return fxi_tb_fail(b, FX_ENOENT);
    /* NEW_PID_EXT: 88, the node as SMALL_ATOM_UTF8_EXT, ID, Serial,
     * Creation (32 bits each, big-endian). Node names are < 256 bytes. */
    size_t len = strlen(e.node);
    uint8_t buf[1 + 2 + 255 + 12];
    if (len > 255)
        return fxi_tb_fail(b, FX_EINVAL);
    buf[0] = 88;
    buf[1] = 119;
    buf[2] = (uint8_t) len;
    memcpy(buf + 3, e.node, len);
    be32(buf + 3 + len, e.num);
    be32(buf + 7 + len, e.serial);
    be32(buf + 11 + len, e.creation);
    return fx_term_put_raw(b, buf, 15 + len);
}

FX_API int fx_term_get_pid(fx_term_reader *r, fx_vm *vm, fx_pid *pid)
{
    if (!r || !vm || !pid)
        return FX_EINVAL;
    int kind = fx_term_type(r);
    if (kind < 0)
        return kind;
    if (kind != FX_TERM_PID)
        return FX_EBADTERM;
    fxi_dist *d = running(vm);
    if (!d)
        return FX_ENOTDIST;
    fx_term_reader save = *r;
    const void *t;
    size_t n;
    int rc = fx_term_get_raw(r, &t, &n);
    if (rc)
        return rc;
    erlang_pid e;
    int idx = 0;
    if (ei_decode_pid(t, &idx, &e) != 0 || (size_t) idx != n) {
        *r = save;
        return FX_EBADTERM;
    }
    if (strlen(e.node) >= sizeof d->name) { /* no node has such a name */
        *r = save;
        return FX_EBADTERM;
    }
    fx_pid out = fxi_dist_pid_in(d, &e);
    if (out.id == 0) {
        *r = save;
        return FX_ENOMEM; /* the node table could not grow */
    }
    *pid = out;
    return 0;
}
