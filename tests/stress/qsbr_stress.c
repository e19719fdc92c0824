/* TSan stress for QSBR (src/sched/qsbr.c) on its own. Three readers read
 * plain fields of the currently published object: scheduler record 0
 * publishes through quiescent points only, scheduler record 1 only by
 * going offline and online, and an outside thread through an ext record.
 * A writer replaces the object once every reader has read the current
 * one (a relaxed handshake, which orders nothing), stamps, waits until
 * fxi_qsbr_min passes the stamp, then poisons it (plain store) and puts
 * it on a graveyard that is freed at the end. Only QSBR's release stores
 * of the records and the acquire loads of the scan order each reader's
 * reads before the poisoning, so TSan reports a race when one of them is
 * weakened (tools/memorder-check; the handshake makes every reader read
 * every object); a reader that sees a poisoned object fails the check.
 * The object is not freed right after the poisoning: the compiler drops
 * a store just before free() as dead, and TSan's check of free() itself
 * catches a race only now and then, which is why this program used to
 * miss weakened orders. Bounded counts; no timing. Exit 0 on success. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "platform/atomic.h"
#include "sched/qsbr.h"

#define READERS 2 /* scheduler records; plus one outside thread */
#define REPLACEMENTS 200
#define MAGIC 0x5eedf00dULL

struct obj {
    uint64_t magic; /* plain: MAGIC while published, 0 once retired */
    uint64_t serial;
};

static fxi_qsbr q;
static struct obj *shared; /* atomic (platform/atomic.h) */
static atomic_bool done;
static atomic_uint bad;
/* Serial of the object each reader read last (relaxed: a handshake that
 * must not order anything, or it would hide QSBR's orders from TSan). */
static atomic_ulong last_read[READERS + 1];
/* Retired objects, writer only; freed after the readers are joined. */
static struct obj *graveyard[REPLACEMENTS];

static void read_once(int who)
{
    /* Acquire: pairs with the writer's release store of shared. */
    struct obj *o = fxi_atomic_load_acquire_ptr(&shared);
    if (o->magic != MAGIC) /* plain reads of a possibly retired object */
        atomic_fetch_add(&bad, 1);
    atomic_store_explicit(&last_read[who], (unsigned long) o->serial,
                          memory_order_relaxed);
}

static void *reader(void *arg)
{
    uint32_t i = (uint32_t) (uintptr_t) arg;
    fxi_qsbr_online(&q, i);
    while (!atomic_load_explicit(&done, memory_order_relaxed)) {
        read_once((int) i);
        if (i == 0) {
            fxi_qsbr_quiescent(&q, i);
        } else {
            fxi_qsbr_offline(&q, i);
            fxi_qsbr_online(&q, i);
        }
    }
    fxi_qsbr_offline(&q, i);
    return NULL;
}

static void *outsider(void *arg)
{
    (void) arg;
    while (!atomic_load_explicit(&done, memory_order_relaxed)) {
        uint32_t idx = fxi_qsbr_ext_enter(&q);
        read_once(READERS);
        fxi_qsbr_ext_exit(&q, idx);
    }
    return NULL;
}

static struct obj *make(uint64_t serial)
{
    struct obj *o = malloc(sizeof *o);
    if (!o) {
        fprintf(stderr, "qsbr_stress: out of memory\n");
        exit(1);
    }
    o->magic = MAGIC;
    o->serial = serial;
    return o;
}

int main(void)
{
    if (fxi_qsbr_init(&q, READERS) != 0)
        return 1;
    shared = make(0);
    pthread_t th[READERS + 1];
    for (uint32_t i = 0; i < READERS; i++)
        if (pthread_create(&th[i], NULL, reader, (void *) (uintptr_t) i) != 0)
            return 1;
    if (pthread_create(&th[READERS], NULL, outsider, NULL) != 0)
        return 1;

    for (uint64_t r = 1; r <= REPLACEMENTS; r++) {
        struct obj *old = shared;
        for (int i = 0; i <= READERS; i++)
            while (atomic_load_explicit(&last_read[i], memory_order_relaxed) != r - 1)
                sched_yield();
        /* Release: the new object's fields before its pointer. */
        fxi_atomic_store_release_ptr(&shared, make(r));
        uint64_t e = fxi_qsbr_stamp(&q);
        while (fxi_qsbr_min(&q) <= e)
            sched_yield();
        old->magic = 0; /* plain: races with a reader unless QSBR orders it */
        graveyard[r - 1] = old;
    }
    atomic_store(&done, true);
    for (int i = 0; i <= READERS; i++)
        pthread_join(th[i], NULL);
    free(shared);
    for (int i = 0; i < REPLACEMENTS; i++)
        free(graveyard[i]);
    fxi_qsbr_fini(&q);
    if (atomic_load(&bad)) {
        fprintf(stderr, "qsbr_stress: %u reads of a retired object\n", atomic_load(&bad));
        return 1;
    }
    printf("qsbr_stress: ok, %d replacements\n", REPLACEMENTS);
    return 0;
}
