/* The per-VM network state and its socket table. Handles are
 * bit 63 | generation << 32 | slot index: a closed socket's handle never
 * matches its slot again (the generation moves on at each close), so a
 * stale handle or a readiness event that raced with a close is detected
 * under the slot's lock and ignored. Slots live in chunks that are never
 * freed before the VM, so a lookup needs no reference count. */
#include <fauxtp/link.h>
#include <fauxtp/vm.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/vm.h"
#include "io/net_impl.h"
#include "mem/alloc.h"
#include "platform/atomic.h"

static const char net_key;
static fxi_mutex create_mx = FXI_MUTEX_INITIALIZER(FXI_RANK_NET_CREATE, "net.create");

#define HANDLE_TAG (1ull << 63)
#define GEN_MASK 0x7fffffffu

static uint64_t handle(uint32_t gen, uint32_t idx)
{
    return HANDLE_TAG | ((uint64_t) (gen & GEN_MASK) << 32) | idx;
}

static fxi_nslot *slot_at(fxi_net *n, uint32_t idx)
{
    if (idx / FXI_NET_CHUNK >= FXI_NET_CHUNKS)
        return NULL;
    /* Acquire: pairs with the release store publishing a new chunk. */
    fxi_nslot *c = fxi_atomic_load_acquire_ptr(&n->chunks[idx / FXI_NET_CHUNK]);
    return c ? &c[idx % FXI_NET_CHUNK] : NULL;
}

fxi_nslot *fxi_net_slot_new(fxi_net *n, uint64_t *id)
{
    fxi_mutex_lock(&n->tab_mx);
    uint32_t idx;
    if (n->free_head) {
        idx = n->free_head - 1;
        n->free_head = slot_at(n, idx)->next_free;
    } else {
        idx = n->nslots;
        uint32_t ci = idx / FXI_NET_CHUNK;
        if (ci >= FXI_NET_CHUNKS) {
            fxi_mutex_unlock(&n->tab_mx);
            return NULL;
        }
        if (!n->chunks[ci]) {
            /* Cache-line aligned: a slot's lock and its socket's hot
             * fields are one line each (net_impl.h). */
            fxi_nslot *c = fxi_alloc_aligned(FXI_NET_CHUNK * sizeof *c, FXI_CACHELINE);
            if (!c) { /* (zeroed) */
                fxi_mutex_unlock(&n->tab_mx);
                return NULL;
            }
            for (uint32_t i = 0; i < FXI_NET_CHUNK; i++) {
                fxi_mutex_init(&c[i].mx, FXI_RANK_NET_SOCK, "net.sock");
                c[i].s.fd = -1;
            }
            /* Release: the initialised slots before the pointer; pairs
             * with the acquire load in slot_at. */
            fxi_atomic_store_release_ptr(&n->chunks[ci], c);
        }
        n->nslots++;
    }
    fxi_mutex_unlock(&n->tab_mx);
    fxi_nslot *sl = slot_at(n, idx);
    fxi_mutex_lock(&sl->mx);
    sl->used = true;
    memset(&sl->s, 0, sizeof sl->s);
    sl->s.fd = -1;
    *id = handle(sl->gen, idx);
    return sl;
}

fxi_nslot *fxi_net_slot_lock(fxi_net *n, uint64_t id)
{
    if (!(id & HANDLE_TAG))
        return NULL;
    fxi_nslot *sl = slot_at(n, (uint32_t) id);
    if (!sl)
        return NULL;
    fxi_mutex_lock(&sl->mx);
    if (!sl->used || handle(sl->gen, (uint32_t) id) != id) {
        fxi_mutex_unlock(&sl->mx);
        return NULL;
    }
    return sl;
}

void fxi_net_slot_close(fxi_net *n, fxi_nslot *sl, uint64_t id, bool tell_janitor)
{
    fxi_sock *s = &sl->s;
    if (s->fd >= 0) {
        /* Removed before close so the fd number can be reused at once. */
        (void) epoll_ctl(n->epfd, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
    }
    fxi_net_sock_drop_buffers(s);
    fxi_net_timer_stop(n, &s->recv_tmr);
    fxi_net_timer_stop(n, &s->conn_tmr);
    fxi_net_wake_writers(n, s, id); /* their next send answers FX_EBADF */
    fxi_net_free_writers(s);
    s->fd = -1;
    sl->used = false;
    sl->gen = (sl->gen + 1) & GEN_MASK;
    fxi_mutex_unlock(&sl->mx);
    fxi_mutex_lock(&n->tab_mx);
    sl->next_free = n->free_head;
    n->free_head = (uint32_t) id + 1;
    fxi_mutex_unlock(&n->tab_mx);
    if (tell_janitor)
        fxi_net_janitor_tell(n, FXI_J_UNWATCH, id, 0);
}

void fxi_net_close_all(fxi_net *n)
{
    for (uint32_t ci = 0; ci < FXI_NET_CHUNKS; ci++) {
        /* Acquire: pairs with the release store publishing the chunk. */
        fxi_nslot *c = fxi_atomic_load_acquire_ptr(&n->chunks[ci]);
        if (!c)
            break;
        for (uint32_t i = 0; i < FXI_NET_CHUNK; i++) {
            fxi_nslot *sl = &c[i];
            fxi_mutex_lock(&sl->mx);
            if (sl->used)
                fxi_net_slot_close(n, sl, handle(sl->gen, ci * FXI_NET_CHUNK + i), false);
            else
                fxi_mutex_unlock(&sl->mx);
        }
    }
}

/* ---- the per-VM state ---------------------------------------------------- */

static void net_free(fx_vm *vm, void *value)
{
    (void) vm;
    fxi_net *n = value;
    /* The threads are joined: nothing else touches the table. */
    for (uint32_t ci = 0; ci < FXI_NET_CHUNKS && n->chunks[ci]; ci++) {
        fxi_nslot *c = n->chunks[ci];
        for (uint32_t i = 0; i < FXI_NET_CHUNK; i++) {
            if (c[i].used) {
                if (c[i].s.fd >= 0)
                    close(c[i].s.fd);
                fxi_net_sock_drop_buffers(&c[i].s);
                fxi_net_free_writers(&c[i].s);
            }
            fxi_mutex_fini(&c[i].mx);
        }
        fxi_free_aligned(c, FXI_NET_CHUNK * sizeof *c, FXI_CACHELINE);
    }
    fxi_net_poller_fini(n);
    for (uint32_t i = 0; i < n->nthreads; i++)
        fxi_free(n->rbuf[i], FXI_NET_READ_MAX);
    fxi_free(n->rbuf, n->nthreads * sizeof *n->rbuf);
    if (n->reserve_fd >= 0)
        close(n->reserve_fd);
    fxi_mutex_fini(&n->tab_mx);
    fxi_mutex_fini(&n->reserve_mx);
    fxi_free(n, sizeof *n);
}

static fxi_net *net_create(fx_vm *vm, int *rc)
{
    fxi_net *n = fxi_zalloc(sizeof *n);
    if (!n) {
        *rc = FX_ENOMEM;
        return NULL;
    }
    n->vm = vm;
    n->epfd = n->evfd = -1;
    n->reserve_fd = -1;
    fxi_mutex_init(&n->tab_mx, FXI_RANK_NET_TABLE, "net.table");
    fxi_mutex_init(&n->reserve_mx, FXI_RANK_NET_RESERVE, "net.reserve");
    /* A buffer per scheduler slot, spares included: a spare thread the
     * watchdog starts polls like the others. */
    n->nthreads = vm->pool.n;
    size_t max = fx_vm_max_msg_size(vm);
    n->read_max = max < FXI_NET_READ_MAX ? max : FXI_NET_READ_MAX;
    if (n->read_max == 0)
        n->read_max = 1;
    n->rbuf = fxi_zalloc(n->nthreads * sizeof *n->rbuf);
    *rc = FX_ENOMEM;
    if (!n->rbuf)
        goto fail;
    for (uint32_t i = 0; i < n->nthreads; i++)
        if (!(n->rbuf[i] = fxi_alloc(FXI_NET_READ_MAX)))
            goto fail;
    if ((*rc = fxi_net_poller_init(n)) != 0)
        goto fail;
    n->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return n;
fail:
    net_free(vm, n);
    return NULL;
}

char *fxi_net_rbuf_here(fxi_net *n)
{
    fxi_sched *sc = fxi_sched_current(&n->vm->pool);
    return sc && sc->id < n->nthreads ? n->rbuf[sc->id] : NULL;
}

fxi_net *fxi_net_find(fx_vm *vm)
{
    return vm ? fx_vm_attached(vm, &net_key) : NULL;
}

fxi_net *fxi_net_get(fx_vm *vm, int *rc)
{
    fxi_net *n = fx_vm_attached(vm, &net_key);
    if (n)
        return n;
    fxi_mutex_lock(&create_mx);
    n = fx_vm_attached(vm, &net_key);
    if (!n) {
        n = net_create(vm, rc);
        if (n) {
            fx_vm_hooks hooks = {.stop = NULL, .free = net_free};
            if ((*rc = fxi_net_janitor_start(n)) != 0 ||
                (*rc = fx_vm_attach(vm, &net_key, n, &hooks)) != 0) {
                /* A janitor that started holds only a pointer it never
                 * uses without messages; none can reach it (its pid was
                 * never published), and the VM's shutdown ends it. */
                if (!fx_pid_is_none(n->janitor)) {
                    (void) fx_vm_exit(vm, n->janitor, fx_reason_kill());
                }
                net_free(vm, n);
                n = NULL;
            } else {
                fxi_pool_set_poller(&vm->pool, &n->poller);
            }
        }
    }
    fxi_mutex_unlock(&create_mx);
    return n;
}
