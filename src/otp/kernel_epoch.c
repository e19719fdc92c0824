/* ck_epoch records for the registry's readers and writers.
 *
 * A ck_epoch record belongs to one thread at a time, and readers are
 * arbitrary threads: scheduler threads, the program's own threads, of any
 * number of VMs. So every thread keeps a small cache, in thread-local
 * storage, of (kernel id, record) pairs. The first read of a VM on a
 * thread takes a record from that VM's epoch (recycled, or allocated and
 * registered) under the process-wide `lock`; every later read finds it in
 * the cache without any lock or atomic read-modify-write.
 *
 * Records are released (ck_epoch_unregister, which makes them available
 * to ck_epoch_recycle) when their thread exits (a pthread key destructor)
 * or is evicted from a full cache. They are freed only with their VM
 * (fxi_kernel_epoch_fini, from fx_vm_destroy): kernel ids are never
 * reused, so a thread whose cache still names a destroyed VM never
 * matches it again, and its destructor checks, under `lock`, that the
 * VM is still live before touching the record.
 *
 * The key exists only while some VM does: the last fxi_kernel_epoch_fini
 * deletes it, so a library unloaded after its last VM leaves no
 * destructor behind for threads that exit later (they would call into
 * unmapped code: docs/abi.md, "Loading and unloading"). A thread's cache
 * remembers the key generation it registered with, and registers again
 * under a newer key.
 *
 * The registry instance (the single writer) takes a record of its own
 * the same way and gives it back after a barrier when it terminates. */
#include <stdlib.h>
#include <string.h>

#include "otp/kernel.h"

char fxi_epoch_tsan_sync;

struct fxi_epoch_rec {
    ck_epoch_record_t rec; /* first: the pointer handed out */
    fxi_epoch_rec *next;   /* the kernel's list, for freeing */
};

/* Protects `live`, every kernel's `recs` list, and registering or
 * unregistering records of a kernel that may be going away. Taken only
 * on slow paths: a thread's first read of a VM, thread exit, registry
 * start and stop, VM creation and destruction. */
static fxi_mutex lock = FXI_MUTEX_INITIALIZER(FXI_RANK_EPOCH, "kernel.epoch");
static fxi_kernel *live;

/* Under lock: the key, valid while key_ok; key_gen counts creations
 * (0: never), so a cache can tell the current key from a deleted one. */
static pthread_key_t key;
static bool key_ok;
static uint64_t key_gen;

enum { SLOTS = 4 };

/* Owner thread only. id 0 = empty slot (kernel ids start at 1). */
typedef struct tls_cache {
    uint64_t id[SLOTS];
    ck_epoch_record_t *rec[SLOTS];
    unsigned victim;
    uint64_t key_gen; /* the exit destructor of that key will run */
} tls_cache;

static _Thread_local tls_cache cache;

static fxi_kernel *live_kernel(uint64_t id) /* under lock */
{
    for (fxi_kernel *k = live; k; k = k->next_live)
        if (k->id == id)
            return k;
    return NULL;
}

static void drop_slot(tls_cache *c, unsigned i) /* under lock */
{
    if (c->id[i] && live_kernel(c->id[i]))
        ck_epoch_unregister(c->rec[i]);
    c->id[i] = 0;
    c->rec[i] = NULL;
}

static void thread_exit(void *p)
{
    tls_cache *c = p;
    fxi_mutex_lock(&lock);
    for (unsigned i = 0; i < SLOTS; i++)
        drop_slot(c, i);
    c->key_gen = 0;
    fxi_mutex_unlock(&lock);
}

static void make_key(void) /* under lock */
{
    if (!key_ok && pthread_key_create(&key, thread_exit) == 0) {
        key_ok = true;
        key_gen++;
    }
}

/* A free record of k's epoch, or a new one. Under lock. */
static ck_epoch_record_t *take_record(fxi_kernel *k)
{
    ck_epoch_record_t *r = ck_epoch_recycle(&k->epoch, NULL);
    if (r)
        return r;
    size_t size = (sizeof(fxi_epoch_rec) + 63) & ~(size_t) 63;
    fxi_epoch_rec *e = aligned_alloc(64, size);
    if (!e)
        return NULL;
    memset(e, 0, size);
    ck_epoch_register(&k->epoch, &e->rec, NULL);
    e->next = k->recs;
    k->recs = e;
    return &e->rec;
}

static ck_epoch_record_t *reader_slow(fxi_kernel *k, tls_cache *c)
{
    fxi_mutex_lock(&lock);
    make_key();
    unsigned slot = SLOTS;
    for (unsigned i = 0; i < SLOTS && slot == SLOTS; i++)
        if (!c->id[i] || !live_kernel(c->id[i]))
            slot = i; /* empty, or its VM was destroyed */
    /* Full: evict one in turn. Never a record inside a section (this
     * thread's own, so a plain read is exact); there is no nesting of
     * sections of different VMs, but be safe. */
    for (unsigned n = 0; slot == SLOTS && n < SLOTS; n++) {
        unsigned i = c->victim++ % SLOTS;
        if (c->rec[i]->active == 0)
            slot = i;
    }
    ck_epoch_record_t *r = NULL;
    if (slot < SLOTS) {
        drop_slot(c, slot);
        if ((r = take_record(k)) != NULL) {
            c->id[slot] = k->id;
            c->rec[slot] = r;
        }
    }
    if (r && key_ok && c->key_gen != key_gen && pthread_setspecific(key, c) == 0)
        c->key_gen = key_gen;
    fxi_mutex_unlock(&lock);
    return r;
}

ck_epoch_record_t *fxi_kernel_reader(fxi_kernel *k)
{
    tls_cache *c = &cache;
    for (unsigned i = 0; i < SLOTS; i++)
        if (c->id[i] == k->id)
            return c->rec[i];
    return reader_slow(k, c);
}

ck_epoch_record_t *fxi_kernel_writer(fxi_kernel *k)
{
    fxi_mutex_lock(&lock);
    ck_epoch_record_t *r = take_record(k);
    fxi_mutex_unlock(&lock);
    return r;
}

void fxi_kernel_writer_release(fxi_kernel *k, ck_epoch_record_t *r)
{
    (void) k;
    fxi_mutex_lock(&lock);
    ck_epoch_unregister(r);
    fxi_mutex_unlock(&lock);
}

void fxi_kernel_epoch_init(fxi_kernel *k)
{
    ck_epoch_init(&k->epoch);
    k->recs = NULL;
    fxi_mutex_lock(&lock);
    k->next_live = live;
    live = k;
    fxi_mutex_unlock(&lock);
}

void fxi_kernel_epoch_fini(fxi_kernel *k)
{
    fxi_mutex_lock(&lock);
    for (fxi_kernel **p = &live; *p; p = &(*p)->next_live) {
        if (*p == k) {
            *p = k->next_live;
            break;
        }
    }
    /* No thread reaches these records any more: caches that name k no
     * longer match a live kernel. */
    while (k->recs) {
        fxi_epoch_rec *e = k->recs;
        k->recs = e->next;
        free(e);
    }
    /* The last VM: no record is left for a destructor to release. Threads
     * that still hold the key's value exit without calling into us. */
    if (!live && key_ok) {
        pthread_key_delete(key);
        key_ok = false;
    }
    fxi_mutex_unlock(&lock);
}
