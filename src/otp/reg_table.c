/* The registry's published tables; see reg_table.h.
 *
 * Why a reader is safe (docs/registry.md has the longer argument):
 * - An entry is fully written before the writer links it: the store fence
 *   in publish() orders its fields before ck_hs's store of the slot, and a
 *   reader reaches the fields only through the pointer it loaded from the
 *   slot (an address dependency). Entries never change after that; a
 *   re-registration is a new entry.
 * - ck_hs in SPMC mode lets one writer insert, delete and grow while
 *   readers probe: a grown map replaces the old one with one pointer
 *   store, and ck_hs hands the old map to our allocator with defer = true.
 * - Nothing a reader may hold is freed at once: removed entries, replaced
 *   member arrays and old maps go to ck_epoch_call on the writer's record
 *   and are freed by ck_epoch_poll only after every read section that was
 *   open at the removal has ended. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otp/reg_table.h"

/* ---- allocator ----------------------------------------------------------------- */

/* Set while the writer runs a table operation on this thread: where
 * deferred frees go. Owner thread only. */
static _Thread_local fxi_reg_tables *tls_writer;

typedef struct hs_block {
    _Alignas(16) ck_epoch_entry_t retire;
} hs_block;

static void free_block(ck_epoch_entry_t *e)
{
    fxi_tsan_acquire(&fxi_epoch_tsan_sync); /* after the readers' sections */
    free(e);                                /* retire is the first member */
}

static void *hs_malloc(size_t size)
{
    hs_block *b = malloc(sizeof *b + size);
    return b ? b + 1 : NULL;
}

static void hs_free(void *p, size_t size, bool defer)
{
    (void) size;
    if (!p)
        return;
    hs_block *b = (hs_block *) p - 1;
    if (defer && tls_writer) {
        tls_writer->retired++;
        ck_epoch_call(tls_writer->writer, &b->retire, free_block);
    } else
        free(b);
}

struct ck_malloc fxi_reg_allocator = {.malloc = hs_malloc, .free = hs_free};

/* ---- keys -------------------------------------------------------------------------- */

static inline uint64_t mix(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

static uint64_t hash_of(const fxi_name *k, unsigned long seed)
{
    uint64_t h = seed ^ ((uint64_t) k->len * 0x9e3779b97f4a7c15ull);
    uint32_t i = 0;
    for (; i + 8 <= k->len; i += 8) {
        uint64_t w;
        memcpy(&w, k->s + i, sizeof w);
        h = mix(h ^ w) + 0x9e3779b97f4a7c15ull;
    }
    uint64_t w = 0;
    memcpy(&w, k->s + i, k->len - i);
    return mix(h ^ w);
}

/* ck_hs's hash callback: only ever called on stored entries (growing),
 * whose hash was computed under this table's seed. */
static unsigned long name_hash(const void *obj, unsigned long seed)
{
    (void) seed;
    return (unsigned long) ((const fxi_name *) obj)->hash;
}

static bool name_eq(const void *stored, const void *key)
{
    /* Pairs with the release in publish(): the entry's fields. */
    fxi_tsan_acquire(stored);
    const fxi_name *a = stored, *b = key;
    return a->hash == b->hash && a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

bool fxi_name_key(fxi_name *key, const char *name)
{
    size_t n = fxi_reg_name_len(name);
    if (!n)
        return false;
    key->hash = 0;
    key->len = (uint32_t) n;
    memcpy(key->s, name, n);
    key->s[n] = '\0';
    return true;
}

/* dst = src, hashed for hs. */
static void copy_key(fxi_name *dst, const fxi_name *src, const ck_hs_t *hs)
{
    dst->len = src->len;
    memcpy(dst->s, src->s, src->len + 1);
    dst->hash = hash_of(dst, hs->seed);
}

/* ---- readers ---------------------------------------------------------------------- */

const fxi_reg_name *fxi_reg_lookup(fxi_reg_tables *t, fxi_name *key)
{
    key->hash = hash_of(key, t->names.seed);
    return ck_hs_get(&t->names, (unsigned long) key->hash, key);
}

const fxi_reg_group *fxi_reg_group_lookup(fxi_reg_tables *t, fxi_name *key)
{
    key->hash = hash_of(key, t->groups.seed);
    return ck_hs_get(&t->groups, (unsigned long) key->hash, key);
}

const fxi_members *fxi_reg_members(const fxi_reg_group *g)
{
    /* Acquire: pairs with the release store in set_members, so the array
     * is initialised when seen. */
    return fxi_atomic_load_acquire_ptr(&g->members);
}

/* ---- the writer ------------------------------------------------------------------- */

static const fxi_members no_members; /* n = 0, never freed */

static void free_name(ck_epoch_entry_t *e)
{
    fxi_tsan_acquire(&fxi_epoch_tsan_sync);
    free((char *) e - offsetof(fxi_reg_name, retire));
}

static void free_members(ck_epoch_entry_t *e)
{
    fxi_tsan_acquire(&fxi_epoch_tsan_sync);
    free(e); /* retire is the first member */
}

static void drop_members(fxi_members *m)
{
    if (m != &no_members)
        free(m);
}

static void free_group(ck_epoch_entry_t *e)
{
    fxi_tsan_acquire(&fxi_epoch_tsan_sync);
    fxi_reg_group *g = (fxi_reg_group *) ((char *) e - offsetof(fxi_reg_group, retire));
    drop_members(g->members);
    free(g);
}

static unsigned long new_seed(fx_pid pid, const void *addr)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t s = pid.id ^ (uint64_t) (uintptr_t) addr ^ (uint64_t) ts.tv_nsec << 20;
    return (unsigned long) mix(mix(s) + 0x9e3779b97f4a7c15ull);
}

enum { HS_MODE = CK_HS_MODE_SPMC | CK_HS_MODE_OBJECT | CK_HS_MODE_DELETE };

fxi_reg_tables *fxi_reg_tables_new(ck_epoch_record_t *w, fx_pid pid)
{
    fxi_reg_tables *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->writer = w;
    t->pid = pid;
    if (!ck_hs_init(&t->names, HS_MODE, name_hash, name_eq, &fxi_reg_allocator, 64,
                    new_seed(pid, t))) {
        free(t);
        return NULL;
    }
    if (!ck_hs_init(&t->groups, HS_MODE, name_hash, name_eq, &fxi_reg_allocator, 16,
                    new_seed(pid, &t->groups))) {
        ck_hs_destroy(&t->names);
        free(t);
        return NULL;
    }
    return t;
}

void fxi_reg_tables_free(fxi_reg_tables *t)
{
    /* Every deferred free has run and no reader holds anything. */
    fxi_tsan_acquire(&fxi_epoch_tsan_sync);
    ck_hs_iterator_t it = CK_HS_ITERATOR_INITIALIZER;
    void *obj;
    while (ck_hs_next(&t->names, &it, &obj))
        free(obj);
    ck_hs_iterator_init(&it);
    while (ck_hs_next(&t->groups, &it, &obj)) {
        drop_members(((fxi_reg_group *) obj)->members);
        free(obj);
    }
    ck_hs_destroy(&t->names);
    ck_hs_destroy(&t->groups);
    free(t);
}

/* Links entry e (key first) into hs. */
static bool publish(fxi_reg_tables *t, ck_hs_t *hs, void *e)
{
    fxi_tsan_release(e);
    /* Release fence: orders the entry's initialisation before ck_hs's
     * (relaxed) store of its pointer into a slot; readers load that
     * pointer and then the fields (address dependency inside ck_hs_get).
     * TSan does not see either side (libck): fxi_tsan_release above. */
    fxi_atomic_fence_release();
    tls_writer = t;
    bool ok = ck_hs_put(hs, (unsigned long) ((fxi_name *) e)->hash, e);
    tls_writer = NULL;
    return ok;
}

/* Unlinks e from hs; rebuilds the map when tombstones pile up (the old
 * map is freed after a grace period, like any removed object). */
static void unlink_entry(fxi_reg_tables *t, ck_hs_t *hs, void *e)
{
    tls_writer = t;
    ck_hs_remove(hs, (unsigned long) ((fxi_name *) e)->hash, e);
    struct ck_hs_stat st;
    ck_hs_stat(hs, &st);
    if (st.tombstones > 64 && st.tombstones > st.n_entries)
        (void) ck_hs_rebuild(hs); /* failure (no memory) only delays it */
    tls_writer = NULL;
}

int fxi_reg_put(fxi_reg_tables *t, fxi_name *key, fx_pid pid, fxi_reg_name **out)
{
    fxi_reg_name *e = malloc(sizeof *e);
    if (!e)
        return FX_ENOMEM;
    copy_key(&e->key, key, &t->names);
    e->pid = pid;
    if (!publish(t, &t->names, e)) {
        free(e);
        return FX_ENOMEM;
    }
    *out = e;
    return 0;
}

void fxi_reg_del(fxi_reg_tables *t, fxi_reg_name *e)
{
    unlink_entry(t, &t->names, e);
    t->retired++;
    ck_epoch_call(t->writer, &e->retire, free_name);
}

fxi_reg_group *fxi_reg_group_find(fxi_reg_tables *t, fxi_name *key)
{
    return (fxi_reg_group *) fxi_reg_group_lookup(t, key);
}

/* Publishes m as g's members and retires the previous array. */
static void set_members(fxi_reg_tables *t, fxi_reg_group *g, fxi_members *m)
{
    fxi_members *old = g->members;
    /* Release: orders m's initialisation before its publication; pairs
     * with the acquire load in fxi_reg_members. */
    fxi_atomic_store_release_ptr(&g->members, m);
    if (old != &no_members) {
        t->retired++;
        ck_epoch_call(t->writer, &old->retire, free_members);
    }
}

static fxi_members *members_new(uint32_t n)
{
    fxi_members *m = malloc(sizeof *m + (size_t) n * sizeof(fx_pid));
    if (m)
        m->n = n;
    return m;
}

int fxi_reg_group_add(fxi_reg_tables *t, fxi_name *key, fx_pid pid, fxi_reg_group **out)
{
    fxi_reg_group *g = fxi_reg_group_find(t, key);
    const fxi_members *old = g ? g->members : &no_members;
    fxi_members *m = members_new(old->n + 1);
    if (!m)
        return FX_ENOMEM;
    memcpy(m->pids, old->pids, (size_t) old->n * sizeof(fx_pid));
    m->pids[old->n] = pid;
    if (g) {
        set_members(t, g, m);
    } else {
        if (!(g = malloc(sizeof *g))) {
            free(m);
            return FX_ENOMEM;
        }
        copy_key(&g->key, key, &t->groups);
        g->members = m;
        if (!publish(t, &t->groups, g)) {
            free(m);
            free(g);
            return FX_ENOMEM;
        }
    }
    *out = g;
    return 0;
}

int fxi_reg_group_remove(fxi_reg_tables *t, fxi_reg_group *g, fx_pid pid)
{
    const fxi_members *old = g->members;
    if (old->n <= 1) {
        /* Empty now: readers that still see g see its last members. */
        unlink_entry(t, &t->groups, g);
        t->retired++;
        ck_epoch_call(t->writer, &g->retire, free_group);
        return 0;
    }
    fxi_members *m = members_new(old->n - 1);
    if (!m)
        return FX_ENOMEM;
    uint32_t j = 0;
    for (uint32_t i = 0; i < old->n; i++)
        if (!fx_pid_eq(old->pids[i], pid) && j < m->n)
            m->pids[j++] = old->pids[i];
    m->n = j;
    set_members(t, g, m);
    return 0;
}

bool fxi_reg_reclaim(fxi_reg_tables *t)
{
    if (t->writer->n_pending == 0)
        return false;
    (void) ck_epoch_poll(t->writer);
    return t->writer->n_pending != 0;
}

void fxi_reg_stats(fxi_reg_tables *t, fx_registry_stats *out)
{
    out->names = ck_hs_count(&t->names);
    out->groups = ck_hs_count(&t->groups);
    out->retired = t->retired;
    out->pending = t->writer->n_pending;
}
