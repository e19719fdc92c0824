/* Process info and the process snapshot (include/fauxtp/info.h).
 *
 * A layer above src/actor and src/otp: it reads process records (actor
 * internals) and registered names through the registry's public read
 * API. Nothing here takes a lock the message path takes: a pid is looked
 * up inside a QSBR read section (actor/section.h), the walk reads the
 * process table slot by slot (fxi_ptable_walk_get) in short sections,
 * and every field is a relaxed load of a value its owner writes with
 * relaxed stores (docs/observability.md says which are exact when). */
#include <dlfcn.h>
#include <fauxtp/error.h>
#include <fauxtp/info.h>
#include <fauxtp/registry.h>
#include <stdlib.h>
#include <string.h>

#include "actor/section.h"
#include "actor/timing.h"
#include "mem/alloc.h"

/* Slots read per read section, and infos buffered before the callbacks
 * run (outside any section: user code never delays reclamation). */
#define WALK_SLOTS 1024u
#define WALK_BATCH 256u
/* Handler names remembered during a walk (direct-mapped by address). */
#define SYM_CACHE 64u

/* ---- what is running ------------------------------------------------------ */

/* The process in a handler call on scheduler slot i, or NULL. A
 * snapshot: the call may end right after. */
static const void *running_on(fxi_sched *s)
{
    uint64_t seq = fxi_sched_watch(s); /* acquire: publishes wd_unit */
    if (!(seq & 1))
        return NULL;
    /* Relaxed: stored before the release of seq that we acquired. */
    const void *u = fxi_atomic_load_relaxed_ptr(&s->wd_unit);
    /* Acquire fence, then the second load: a unit stored by a later call
     * comes with a changed count (seqlock read). */
    fxi_atomic_fence_acquire();
    return fxi_atomic_load_relaxed_64(&s->wd_seq) == seq ? u : NULL; /* see above */
}

/* Units in handler calls, one entry per scheduler slot (NULL: none). */
static void running_scan(fx_vm *vm, const void **units)
{
    for (uint32_t i = 0; i < vm->pool.n; i++)
        units[i] = running_on(&vm->pool.scheds[i]);
}

/* ---- handler names ---------------------------------------------------------- */

typedef struct sym_entry {
    uint64_t fn;
    char name[FX_PROC_HANDLER_MAX];
} sym_entry;

/* Copies src into out[cap], cut to fit (snprintf costs more than the
 * rest of a process's read). */
static void copy_text(char *out, const char *src, size_t cap)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(out, src, n);
    out[n] = '\0';
}

static void sym_name(uint64_t fn, char *out)
{
    void *p = NULL;
    memcpy(&p, &fn, sizeof p < sizeof fn ? sizeof p : sizeof fn);
    Dl_info di;
    if (p && dladdr(p, &di) && di.dli_sname && di.dli_saddr == p) {
        copy_text(out, di.dli_sname, FX_PROC_HANDLER_MAX);
    } else if (p) { /* "0x" and the address in hex */
        char *o = out;
        *o++ = '0';
        *o++ = 'x';
        int shift = 60;
        while (shift > 0 && !((fn >> shift) & 0xf))
            shift -= 4;
        for (; shift >= 0; shift -= 4)
            *o++ = "0123456789abcdef"[(fn >> shift) & 0xf];
        *o = '\0';
    } else {
        out[0] = '\0';
    }
}

static void sym_lookup(sym_entry *cache, uint64_t fn, char *out)
{
    if (!cache) {
        sym_name(fn, out);
        return;
    }
    sym_entry *e = &cache[(fn >> 4) % SYM_CACHE];
    if (e->fn != fn || !e->name[0]) {
        e->fn = fn;
        sym_name(fn, e->name);
    }
    memcpy(out, e->name, FX_PROC_HANDLER_MAX);
}

/* ---- one process ------------------------------------------------------------ */

static uint64_t u64_relaxed(const void *p)
{
    return fxi_atomic_load_relaxed_64(p); /* relaxed: a snapshot field */
}

/* Reads a live process (seen alive inside the current section) into
 * *out, all but the name. */
static void fill_live(fx_vm *vm, fxi_actor *a, const void **running, sym_entry *cache,
                      fx_proc_info *out)
{
    memset(out, 0, sizeof *out);
    out->version = FX_PROC_INFO_VERSION;
    out->pid = a->pid; /* immutable */
    out->scheduler = UINT32_MAX;
    out->status = FX_PROC_RUNNABLE;
    for (uint32_t i = 0; i < vm->pool.n; i++)
        if (running[i] == a) {
            out->status = FX_PROC_RUNNING;
            out->scheduler = i;
        }
    /* Relaxed: only the IDLE mark is looked at; the owner sets it when the
     * mailbox is empty, the first sender after clears it. */
    if (out->status != FX_PROC_RUNNING &&
        ((uintptr_t) fxi_atomic_load_relaxed_ptr(&a->mb.head) & FXI_MAILBOX_IDLE))
        out->status = FX_PROC_WAITING;
    /* Acquire: pairs with the release store of a lazily made record
     * (fxi_actor_ext_get); one made at spawn was published with the
     * process. */
    const fxi_actor_ext *x = fxi_atomic_load_acquire_ptr(&a->ext);
    uint64_t fn = u64_relaxed(&a->u.live.handler); /* fxi_actor_set_handler */
    if (!fn && x)
        memcpy(&fn, &x->init, sizeof fn < sizeof x->init ? sizeof fn : sizeof x->init);
    sym_lookup(cache, fn, out->handler);
    uint64_t saved = 0;
    if (x) {
        if (x->label) /* immutable, borrowed for the process's life */
            copy_text(out->label, x->label, sizeof out->label);
        out->parent = x->parent; /* immutable */
        /* Relaxed: owner-written snapshot values (actor.h). */
        saved = fxi_atomic_load_relaxed_32(&x->saved_n);
        out->trap_exit = fxi_atomic_load_relaxed_32(&x->trap) != 0;
        out->links = fxi_u64map_count(&x->links);
        out->monitors = fxi_u64map_count(&x->monitors);
        out->monitored_by = fxi_u64map_count(&x->watchers);
    }
    out->saved_len = saved;
    out->queue_len = fxi_mailbox_len(&a->mb) + saved;
    out->handled = u64_relaxed(&a->handled);
    out->runtime_ns = fxi_timing_runtime(vm, a);
    out->mailbox_max = a->mb_limit; /* immutable */
    /* Tables hold between 1/8 and 3/4 of their slots: count twice. */
    uint64_t tabs = (uint64_t) (out->links + out->monitors + out->monitored_by) * 2 *
                    sizeof(fxi_u64pair);
    out->memory = fxi_actor_alloc_size(a) + (x ? sizeof *x + tabs : 0) +
                  out->queue_len * sizeof(struct fx_msg);
}

/* ---- names ------------------------------------------------------------------ */

typedef struct names {
    fx_registered_name *v;
    size_t n, cap;
} names;

static int by_pid(const void *l, const void *r)
{
    uint64_t a = ((const fx_registered_name *) l)->pid.id;
    uint64_t b = ((const fx_registered_name *) r)->pid.id;
    return a < b ? -1 : a > b;
}

/* Every registered name, sorted by pid. 0 or FX_ENOMEM (or the
 * registry's error). */
static int names_load(fx_vm *vm, names *nm)
{
    nm->v = NULL;
    nm->n = nm->cap = 0;
    for (int tries = 0; tries < 8; tries++) {
        int n = fx_registered(vm, nm->v, nm->cap);
        if (n < 0)
            return n;
        if ((size_t) n <= nm->cap) {
            nm->n = (size_t) n;
            if (nm->n > 1)
                qsort(nm->v, nm->n, sizeof *nm->v, by_pid);
            return 0;
        }
        fxi_free(nm->v, nm->cap * sizeof *nm->v);
        nm->cap = (size_t) n + 16;
        nm->v = fxi_alloc(nm->cap * sizeof *nm->v);
        if (!nm->v) {
            nm->cap = 0;
            return FX_ENOMEM;
        }
    }
    nm->n = nm->cap; /* names keep coming: the first cap of them */
    qsort(nm->v, nm->n, sizeof *nm->v, by_pid);
    return 0;
}

static void names_free(names *nm)
{
    fxi_free(nm->v, nm->cap * sizeof *nm->v);
}

static void names_find(const names *nm, fx_pid pid, char *out)
{
    fx_registered_name key;
    key.pid = pid;
    const fx_registered_name *e =
        nm->n ? bsearch(&key, nm->v, nm->n, sizeof *nm->v, by_pid) : NULL;
    if (e)
        copy_text(out, e->name, FX_PROC_NAME_MAX);
}

/* ---- fx_process_info -------------------------------------------------------- */

FX_API int fx_process_info(fx_vm *vm, fx_pid pid, fx_proc_info *out)
{
    if (!vm || !out || out->version > FX_PROC_INFO_VERSION)
        return FX_EINVAL;
    const void *stack_units[16];
    const void **running = stack_units;
    uint32_t n = vm->pool.n; /* immutable */
    if (n > 16 && !(running = fxi_alloc(n * sizeof *running)))
        return FX_ENOMEM;
    fxi_section sec;
    int rc = fxi_section_enter(vm, &sec);
    if (rc == 0) {
        fxi_actor *a = fxi_ptable_lookup(&vm->pt, pid);
        if (!a || a->kind != FXI_KIND_ACTOR) { /* kind: immutable */
            rc = FX_ENOPROC;
        } else {
            running_scan(vm, running);
            fill_live(vm, a, running, NULL, out);
        }
        fxi_section_exit(vm, &sec);
    }
    if (running != stack_units)
        fxi_free(running, n * sizeof *running);
    if (rc)
        return rc;
    /* The name, outside the section (the registry has its own). */
    names nm;
    if ((rc = names_load(vm, &nm)) != 0)
        return rc;
    names_find(&nm, pid, out->name);
    names_free(&nm);
    return 0;
}

/* ---- fx_vm_processes -------------------------------------------------------- */

typedef struct walk {
    fx_vm *vm;
    const void **running;
    sym_entry *cache;
    fx_proc_info *buf;
    uint32_t nbuf;
} walk;

/* Reads slots from *next on, in one section, until WALK_SLOTS were read,
 * the buffer is full or the table ends. 0 or the section's error. */
static int walk_chunk(walk *wk, uint64_t *next, uint64_t end)
{
    fx_vm *vm = wk->vm;
    fxi_section sec;
    int rc = fxi_section_enter(vm, &sec);
    if (rc)
        return rc;
    running_scan(vm, wk->running);
    uint64_t stop = *next + WALK_SLOTS < end ? *next + WALK_SLOTS : end;
    uint64_t i = *next;
    for (; i < stop && wk->nbuf < WALK_BATCH; i++) {
        bool dying;
        fxi_actor *a = fxi_ptable_walk_get(&vm->pt, (uint32_t) i, &dying);
        if (!a)
            continue;
        fx_proc_info *o = &wk->buf[wk->nbuf];
        if (dying) {
            /* Not to be read through: the pid is the one the death
             * replaced (the generation before the slot's). */
            uint32_t g =
                fxi_atomic_load_relaxed_32(&vm->pt.slots[i].gen); /* relaxed: hint */
            g = (g - 1) & FXI_PID_GEN_MASK;
            memset(o, 0, sizeof *o);
            o->version = FX_PROC_INFO_VERSION;
            o->status = FX_PROC_EXITING;
            o->pid = fxi_pid_make(vm->pt.tag, g ? g : FXI_PID_GEN_MASK, (uint32_t) i);
            o->scheduler = UINT32_MAX;
            wk->nbuf++;
            continue;
        }
        if (a->kind != FXI_KIND_ACTOR) /* inboxes are not processes here */
            continue;
        fill_live(vm, a, wk->running, wk->cache, o);
        wk->nbuf++;
    }
    fxi_section_exit(vm, &sec);
    *next = i;
    return 0;
}

FX_API int fx_vm_processes(fx_vm *vm, fx_proc_visit_fn fn, void *arg)
{
    if (!vm || !fn)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    if (!fxi_vm_running(vm))
        return FX_ESHUTDOWN;
    names nm;
    int rc = names_load(vm, &nm);
    if (rc)
        return rc;
    walk wk = {vm, NULL, NULL, NULL, 0};
    uint32_t nsched = vm->pool.n;
    wk.running = fxi_alloc(nsched * sizeof *wk.running);
    wk.cache = fxi_zalloc(SYM_CACHE * sizeof *wk.cache);
    wk.buf = fxi_alloc(WALK_BATCH * sizeof *wk.buf);
    int64_t visited = 0;
    if (!wk.running || !wk.cache || !wk.buf) {
        rc = FX_ENOMEM;
        goto out;
    }
    /* Relaxed: slots beyond a stale hwm were handed out after the call
     * began (their processes may or may not be visited, as documented). */
    uint64_t end = fxi_atomic_load_relaxed_64(&vm->pt.hwm);
    if (end > vm->pt.cap)
        end = vm->pt.cap;
    uint64_t next = 0;
    while (next < end) {
        wk.nbuf = 0;
        if ((rc = walk_chunk(&wk, &next, end)) != 0)
            goto out;
        for (uint32_t k = 0; k < wk.nbuf; k++) {
            if (wk.buf[k].status != FX_PROC_EXITING)
                names_find(&nm, wk.buf[k].pid, wk.buf[k].name);
            int r = fn(arg, &wk.buf[k]);
            if (r != 0) {
                rc = r;
                goto out;
            }
            visited++;
        }
    }
    rc = visited > INT32_MAX ? INT32_MAX : (int) visited;
out:
    fxi_free(wk.buf, WALK_BATCH * sizeof *wk.buf);
    fxi_free(wk.cache, SYM_CACHE * sizeof *wk.cache);
    fxi_free(wk.running, nsched * sizeof *wk.running);
    names_free(&nm);
    return rc;
}
