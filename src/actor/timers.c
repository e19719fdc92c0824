/* Timers: send_after, cancel/read, receive timeouts. */
#include "actor/timers.h"

#include <fauxtp/error.h>
#include <string.h>

#include "actor/ptable.h"
#include "actor/send.h"
#include "platform/park.h"
#include "sched/det.h"

/* The timers' clock: the manual one in deterministic mode. */
static inline uint64_t now_ms(const fx_vm *vm)
{
    return vm->pool.det ? fxi_det_now_ms(vm->pool.det) : fxi_now_ms();
}

/* The millisecond a deadline carries beyond arming time + delay so that
 * the timer is never early (fxi_timer_start); none on the deterministic
 * clock, which has no fraction of a millisecond. */
static inline uint64_t slack_ms(const fx_vm *vm)
{
    return vm->pool.det ? 0 : 1;
}

uint64_t fxi_timers_now_ms(const fx_vm *vm)
{
    return now_ms(vm);
}

uint64_t fxi_timers_slack_ms(const fx_vm *vm)
{
    return slack_ms(vm);
}

/* Handle ids, laid out as pids (actor/ptable.h):
 *
 *   63        48 47              24 23               0
 *   +-----------+------------------+------------------+
 *   |    tag    |    generation    |    index + 1     |
 *   +-----------+------------------+------------------+
 *
 * tag: the VM's pid tag (never 0, unique among live VMs), so a handle of
 * another VM never names a record here (FX_ENOENT); generation: the
 * record's, bumped when it is freed; index + 1: the record (never 0, so
 * no id is 0). Hence at most FXI_TREC_MAX records. */
#define TID_GEN_MASK FXI_PID_GEN_MASK
#define TID_IDX_MASK FXI_PID_INDEX_MASK
#define FXI_TREC_MAX ((TID_IDX_MASK / FXI_TCHUNK) * FXI_TCHUNK) /* whole chunks */

static inline uint64_t tid_make(uint32_t tag, uint32_t gen, uint32_t idx)
{
    return ((uint64_t) tag << FXI_PID_TAG_SHIFT) | ((uint64_t) gen << FXI_PID_GEN_SHIFT) |
           (idx + 1);
}

int fxi_timers_init(fxi_timers *t)
{
    memset(t, 0, sizeof *t);
    fxi_mutex_init(&t->mx, FXI_RANK_TIMERS, "timers");
    fxi_twheel_init(&t->wheel, fxi_now_ms());
    t->next_ms = UINT64_MAX;
    return 0;
}

static fxi_trec *rec_at(const fxi_timers *t, uint32_t idx)
{
    return &t->chunks[idx / FXI_TCHUNK][idx % FXI_TCHUNK];
}

void fxi_timers_fini(fxi_timers *t)
{
    for (uint32_t c = 0; c < t->nchunks; c++) {
        for (uint32_t i = 0; i < FXI_TCHUNK; i++) {
            fxi_trec *r = &t->chunks[c][i];
            if (r->msg)
                fxi_msg_release(r->msg);
        }
        fxi_free(t->chunks[c], FXI_TCHUNK * sizeof(fxi_trec));
    }
    fxi_free(t->chunks, t->chunks_cap * sizeof *t->chunks);
    fxi_u64map_fini(&t->lazy);
    fxi_mutex_fini(&t->mx);
}

/* Under mx. Returns a free record index, or UINT32_MAX on ENOMEM. */
static uint32_t rec_alloc(fxi_timers *t)
{
    if (t->free_head == 0) {
        if ((t->nchunks + 1) * FXI_TCHUNK > FXI_TREC_MAX)
            return UINT32_MAX; /* every id in use: as out of memory */
        if (t->nchunks == t->chunks_cap) {
            uint32_t ncap = t->chunks_cap ? t->chunks_cap * 2 : 8;
            fxi_trec **nc = fxi_alloc(ncap * sizeof *nc);
            if (!nc)
                return UINT32_MAX;
            if (t->nchunks)
                memcpy(nc, t->chunks, t->nchunks * sizeof *nc);
            fxi_free(t->chunks, t->chunks_cap * sizeof *nc);
            t->chunks = nc;
            t->chunks_cap = ncap;
        }
        fxi_trec *c = fxi_zalloc(FXI_TCHUNK * sizeof *c);
        if (!c)
            return UINT32_MAX;
        uint32_t base = t->nchunks * FXI_TCHUNK;
        t->chunks[t->nchunks++] = c;
        for (uint32_t i = FXI_TCHUNK; i-- > 0;) {
            c[i].idx = base + i;
            c[i].next_free = t->free_head;
            t->free_head = base + i + 1;
        }
    }
    uint32_t idx = t->free_head - 1;
    t->free_head = rec_at(t, idx)->next_free;
    return idx;
}

static void rec_free(fxi_timers *t, uint32_t idx)
{
    fxi_trec *r = rec_at(t, idx);
    if (r->lazy) { /* its ref leaves the lazy map with it */
        if (r->msg)
            (void) fxi_u64map_del(&t->lazy, r->msg->ref.id, NULL);
        r->lazy = false;
    }
    r->msg = NULL;
    r->gen = (r->gen + 1) & TID_GEN_MASK; /* as wide as the id's field */
    r->next_free = t->free_head;
    t->free_head = idx + 1;
}

/* Under mx: refresh the lock-free hint. */
static void update_hint(fxi_timers *t)
{
    /* Relaxed: readers only use it to decide whether to take the lock
     * (which orders the records); a parked thread that read an older,
     * later deadline is woken by fxi_pool_deadline_changed. */
    fxi_atomic_store_relaxed_64(&t->next_ms, fxi_twheel_next_deadline(&t->wheel));
}

/* Under mx: inserts msg for `to` at deadline; *id the handle's id (with
 * vm's tag), or UINT64_MAX on ENOMEM (nothing inserted). Returns the
 * earliest deadline before the insertion. */
static uint64_t insert_locked(fx_vm *vm, uint64_t deadline, fx_pid to, fx_msg *msg,
                              uint64_t *id)
{
    fxi_timers *t = &vm->timers;
    uint32_t idx = rec_alloc(t);
    if (idx == UINT32_MAX) {
        *id = UINT64_MAX;
        return UINT64_MAX;
    }
    fxi_trec *r = rec_at(t, idx);
    r->to = to;
    r->msg = msg;
    fxi_twheel_insert(&t->wheel, &r->e, deadline);
    uint64_t before = t->next_ms;
    update_hint(t);
    *id = tid_make(vm->pt.tag, r->gen, idx);
    return before;
}

int fxi_timer_start(fx_vm *vm, int64_t delay_ms, fx_pid to, fx_msg *msg, fx_timer *out)
{
    fxi_timers *t = &vm->timers;
    /* Saturated, so deadline * 1e6 (nanoseconds, for the parked sleeper)
     * cannot overflow either. */
    if (delay_ms > FX_TIMEOUT_MAX)
        delay_ms = FX_TIMEOUT_MAX;
    /* Never early: the clock is read in whole milliseconds, rounded down,
     * and the timer fires once that reading reaches the deadline; one
     * more millisecond makes the deadline lie at or after arming time +
     * delay_ms (as Erlang's `after`). A zero delay stays due now. */
    uint64_t deadline =
        now_ms(vm) + (delay_ms > 0 ? (uint64_t) delay_ms + slack_ms(vm) : 0);
    uint64_t id;
    fxi_mutex_lock(&t->mx);
    uint64_t before = insert_locked(vm, deadline, to, msg, &id);
    fxi_mutex_unlock(&t->mx);
    if (id == UINT64_MAX)
        return FX_ENOMEM;
    if (out)
        out->id = id;
    if (deadline < before)
        fxi_pool_deadline_changed(&vm->pool, deadline * 1000000u);
    return 0;
}

int fxi_timer_start_lazy(fx_vm *vm, uint64_t deadline, fx_pid to, fx_msg *msg,
                         uint64_t *flushed, uint64_t upto)
{
    fxi_timers *t = &vm->timers;
    uint64_t ref = msg->ref.id, id = 0, before = UINT64_MAX;
    fxi_mutex_lock(&t->mx);
    if (fxi_u64map_del(&t->lazy, ref, NULL)) {
        /* A tombstone: the receive ended on another thread first. */
        *flushed = upto;
        fxi_mutex_unlock(&t->mx);
        fxi_msg_release(msg);
        return 0;
    }
    /* Room first, so that the insertion below cannot fail half-way. */
    if (fxi_u64map_reserve(&t->lazy, t->lazy.count + 1) != 0) {
        fxi_mutex_unlock(&t->mx);
        return FX_ENOMEM;
    }
    before = insert_locked(vm, deadline, to, msg, &id);
    if (id != UINT64_MAX) {
        rec_at(t, (uint32_t) (id & TID_IDX_MASK) - 1)->lazy = true;
        (void) fxi_u64map_put(&t->lazy, ref, id); /* reserved: cannot fail */
        *flushed = upto;
    }
    fxi_mutex_unlock(&t->mx);
    if (id == UINT64_MAX)
        return FX_ENOMEM;
    if (deadline < before)
        fxi_pool_deadline_changed(&vm->pool, deadline * 1000000u);
    return 0;
}

/* Under vm's timers' mx: the record for a handle if it is still pending
 * (NULL for another VM's handle). */
static fxi_trec *lookup(const fx_vm *vm, fx_timer h, uint32_t *idx_out)
{
    const fxi_timers *t = &vm->timers;
    uint32_t idx1 = (uint32_t) (h.id & TID_IDX_MASK);
    uint32_t gen = (uint32_t) (h.id >> FXI_PID_GEN_SHIFT) & TID_GEN_MASK;
    if ((uint32_t) (h.id >> FXI_PID_TAG_SHIFT) != vm->pt.tag || idx1 == 0 ||
        idx1 > t->nchunks * FXI_TCHUNK)
        return NULL;
    fxi_trec *r = rec_at(t, idx1 - 1);
    if (r->gen != gen || !r->msg || !fxi_twheel_contains(&r->e))
        return NULL;
    *idx_out = idx1 - 1;
    return r;
}

/* Under mx: a timer whose target has exited is cancelled (Erlang cancels
 * a pid's timers when it exits): unlinked and freed, its message returned
 * in *drop for the caller to release outside the lock. Only the pid's
 * generation is compared (nothing dereferenced), so no QSBR section is
 * needed. True if it was dropped. */
static bool drop_if_target_dead(fx_vm *vm, fxi_trec *r, uint32_t idx, fx_msg **drop)
{
    /* A pid with another tag names a remote process once this VM is a
     * node (dist/): its liveness is not known here, so its timer runs
     * until it fires. Otherwise it is another VM's, dead to this one. */
    bool live;
    if (fxi_pid_tag(r->to) != vm->pt.tag) /* acquire: pairs with dist_node's release */
        live = fxi_atomic_load_acquire_ptr(&vm->dist) != NULL;
    else
        live = fxi_ptable_lookup(&vm->pt, r->to) != NULL;
    if (live)
        return false;
    fxi_twheel_remove(&vm->timers.wheel, &r->e);
    *drop = r->msg;
    rec_free(&vm->timers, idx);
    update_hint(&vm->timers);
    return true;
}

static int64_t remaining(const fx_vm *vm, const fxi_trec *r)
{
    uint64_t now = now_ms(vm) + slack_ms(vm); /* the delay asked for, at most */
    return r->e.deadline > now ? (int64_t) (r->e.deadline - now) : 0;
}

/* Under mx: cancels handle h; its message in *m for the caller to
 * release outside the lock. Remaining ms, or FX_ENOENT. */
static int64_t cancel_locked(fx_vm *vm, fx_timer h, fx_msg **m)
{
    fxi_timers *t = &vm->timers;
    uint32_t idx;
    fxi_trec *r = lookup(vm, h, &idx);
    if (!r || drop_if_target_dead(vm, r, idx, m))
        return FX_ENOENT;
    int64_t left = remaining(vm, r);
    fxi_twheel_remove(&t->wheel, &r->e);
    *m = r->msg;
    rec_free(t, idx);
    update_hint(t);
    return left;
}

int64_t fxi_timer_cancel(fx_vm *vm, fx_timer h)
{
    fxi_timers *t = &vm->timers;
    fx_msg *m = NULL;
    fxi_mutex_lock(&t->mx);
    int64_t left = cancel_locked(vm, h, &m);
    fxi_mutex_unlock(&t->mx);
    if (m)
        fxi_msg_release(m);
    return left;
}

void fxi_timer_cancel_lazy(fx_vm *vm, uint64_t ref, const uint64_t *flushed, uint64_t seq)
{
    fxi_timers *t = &vm->timers;
    fx_msg *m = NULL;
    uint64_t id;
    fxi_mutex_lock(&t->mx);
    /* In the wheel: cancelled (never a tombstone: one cancel per
     * receive). Left its ring and not in the wheel: it fired. Still in
     * its ring: a tombstone meets it there; without memory for one, the
     * timeout fires later as a stale TIMEOUT, which every receive drops. */
    if (fxi_u64map_get(&t->lazy, ref, &id))
        (void) cancel_locked(vm, (fx_timer){id}, &m);
    else if (seq >= *flushed)
        (void) fxi_u64map_put(&t->lazy, ref, 0);
    fxi_mutex_unlock(&t->mx);
    if (m)
        fxi_msg_release(m);
}

FX_API int64_t fx_cancel_timer(fx_vm *vm, fx_timer timer)
{
    if (!vm)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    if (!fxi_vm_running(vm))
        return FX_ESHUTDOWN; /* every timer dies with the VM */
    return fxi_timer_cancel(vm, timer);
}

FX_API int64_t fx_read_timer(fx_vm *vm, fx_timer timer)
{
    if (!vm)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    if (!fxi_vm_running(vm))
        return FX_ESHUTDOWN;
    fxi_timers *t = &vm->timers;
    uint32_t idx;
    fx_msg *drop = NULL;
    fxi_mutex_lock(&t->mx);
    fxi_trec *r = lookup(vm, timer, &idx);
    int64_t left =
        r && !drop_if_target_dead(vm, r, idx, &drop) ? remaining(vm, r) : FX_ENOENT;
    fxi_mutex_unlock(&t->mx);
    if (drop)
        fxi_msg_release(drop);
    return left;
}

void fxi_timers_poll(fx_vm *vm, fxi_worker *w)
{
    fxi_timers *t = &vm->timers;
    /* Hint read without the lock; a stale value delays by one tick. */
    uint64_t next = fxi_atomic_load_relaxed_64(&t->next_ms); /* relaxed: hint */
    if (next == UINT64_MAX)
        return;
    uint64_t now = now_ms(vm);
    if (now < next || fxi_mutex_trylock(&t->mx) != 0)
        return;
    /* Fire in batches: deliver outside the lock. */
    enum { BATCH = 64 };
    fx_pid to[BATCH];
    fx_msg *msgs[BATCH];
    for (;;) {
        int n = 0;
        fxi_twheel_entry *e = fxi_twheel_advance(&t->wheel, now);
        while (e) {
            fxi_twheel_entry *nx = e->next;
            fxi_trec *r = (fxi_trec *) e;
            if (n == BATCH) {
                /* Too many at once: put the rest back, due immediately. */
                fxi_twheel_insert(&t->wheel, e, now);
            } else {
                to[n] = r->to;
                msgs[n++] = r->msg;
                rec_free(t, r->idx);
            }
            e = nx;
        }
        update_hint(t);
        fxi_mutex_unlock(&t->mx);
        for (int i = 0; i < n; i++)
            fxi_deliver_or_drop(vm, w, to[i], msgs[i]);
        if (n < BATCH || fxi_mutex_trylock(&t->mx) != 0)
            return;
    }
}

int64_t fxi_timers_timeout_ns(fx_vm *vm)
{
    /* Relaxed: a hint (see update_hint). */
    uint64_t next = fxi_atomic_load_relaxed_64(&vm->timers.next_ms);
    if (next == UINT64_MAX)
        return -1;
    /* Deadlines are at most FX_TIMEOUT_MAX ahead (fxi_timer_start), far
     * below the overflow of this product; saturate anyway. */
    if (next > UINT64_MAX / 1000000u)
        return INT64_MAX;
    uint64_t now = fxi_now_ns(), dl = next * 1000000u;
    return dl > now ? (int64_t) (dl - now) : 0;
}

static int send_after(fx_vm *vm, fx_pid from, int64_t delay_ms, fx_pid to, uint32_t type,
                      const void *data, size_t size, fx_timer *out)
{
    /* The types fx_send takes: a user type, or an Erlang term. */
    if (delay_ms < 0 || (size && !data) ||
        (type >= FX_MSG_SYSTEM_BASE && type != FX_MSG_TERM))
        return FX_EINVAL;
    if (size > vm->cfg.max_msg_size)
        return FX_EMSGSIZE;
    fx_msg *m = fxi_msg_alloc(type, (uint32_t) size);
    if (!m)
        return FX_ENOMEM;
    m->from = from;
    if (size)
        memcpy(m->data, data, size);
    int rc = fxi_timer_start(vm, delay_ms, to, m, out);
    if (rc != 0)
        fxi_msg_release(m);
    return rc;
}

FX_API int fx_send_after(fx_ctx *cx, int64_t delay_ms, fx_pid to, uint32_t type,
                         const void *data, size_t size, fx_timer *out)
{
    if (!cx)
        return FX_EINVAL;
    return send_after(cx->vm, cx->self->pid, delay_ms, to, type, data, size, out);
}

FX_API int fx_send_after_msg(fx_ctx *cx, int64_t delay_ms, fx_pid to, fx_msg *msg,
                             fx_timer *out)
{
    if (!cx || !msg || delay_ms < 0 || !fxi_msg_sendable(msg->type))
        return FX_EINVAL;
    /* As fx_send_msg: a behaviour's message has room for its envelope. */
    if (msg->size > fxi_msg_size_limit(cx->vm->cfg.max_msg_size, msg->type))
        return FX_EMSGSIZE;
    msg->from = cx->self->pid;
    int rc = fxi_timer_start(cx->vm, delay_ms, to, msg, out);
    if (rc == 0 && msg == cx->cur)
        cx->kept = true; /* the message being handled is the timer's now */
    return rc;
}

FX_API int fx_vm_send_after(fx_vm *vm, int64_t delay_ms, fx_pid to, uint32_t type,
                            const void *data, size_t size, fx_timer *out)
{
    if (!vm)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    if (!fxi_vm_running(vm))
        return FX_ESHUTDOWN;
    return send_after(vm, FX_PID_NONE, delay_ms, to, type, data, size, out);
}
