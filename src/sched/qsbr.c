#include "sched/qsbr.h"

#include <fauxtp/error.h>
#include <sched.h>

#include "mem/alloc.h"
#include "platform/atomic.h"

int fxi_qsbr_init(fxi_qsbr *q, uint32_t nsched)
{
    q->period = 1;
    q->nsched = nsched;
    q->sched = fxi_alloc_aligned(nsched * sizeof *q->sched, FXI_CACHELINE);
    if (!q->sched)
        return FX_ENOMEM;
    /* Schedulers start online with period 0: nothing is reclaimed before
     * each has passed its first quiescent point. */
    for (uint32_t i = 0; i < nsched; i++)
        q->sched[i].seen = 0;
    for (uint32_t i = 0; i < FXI_QSBR_EXT; i++)
        q->ext[i].seen = FXI_QSBR_OFFLINE;
    return 0;
}

void fxi_qsbr_fini(fxi_qsbr *q)
{
    fxi_free_aligned(q->sched, q->nsched * sizeof *q->sched, FXI_CACHELINE);
}

uint64_t fxi_qsbr_stamp(fxi_qsbr *q)
{
    /* Release: the unpublication stores (pid generation bumps) before it
     * happen before anything a participant does after its acquire load of
     * a period greater than the returned stamp (quiescent/online below).
     * The store-load order the reclaimer needs against come_online is
     * given by the seq_cst fence in fxi_qsbr_min, not by this RMW. */
    return fxi_atomic_fetch_add_release_64(&q->period, 1);
}

void fxi_qsbr_quiescent(fxi_qsbr *q, uint32_t i)
{
    /* Acquire: pairs with the release of fxi_qsbr_stamp; after reading
     * period P we see every unpublication stamped below P. */
    uint64_t p = fxi_atomic_load_acquire_64(&q->period);
    /* Relaxed: our own record, written only by this thread. */
    if (fxi_atomic_load_relaxed_64(&q->sched[i].seen) != p) {
        /* Release: our accesses in the section that just ended happen
         * before a reclaimer that acquire-loads this value
         * (fxi_qsbr_min) and frees what we used. */
        fxi_atomic_store_release_64(&q->sched[i].seen, p);
    }
}

void fxi_qsbr_offline(fxi_qsbr *q, uint32_t i)
{
    /* Release: the section's accesses happen before a reclaimer that
     * acquire-loads OFFLINE in fxi_qsbr_min. */
    fxi_atomic_store_release_64(&q->sched[i].seen, FXI_QSBR_OFFLINE);
}

/* Coming online must not let a reclaimer that read OFFLINE free something
 * we then read: publish 0 (blocks all reclamation) before reading the
 * period. A reclaimer whose scan read OFFLINE did so before our store of
 * 0 in the total order of these seq_cst operations, so its earlier stamp
 * is visible to our period load. */
static void come_online(uint64_t *seen, fxi_qsbr *q)
{
    /* Relaxed: 0 carries no data; the fence below orders it. */
    fxi_atomic_store_relaxed_64(seen, 0);
    /* Seq_cst fence, store-load: publish 0 before reading the period
     * (Dekker with the reclaimer's stamp, then the seq_cst fence and scan
     * in fxi_qsbr_min): either the scan sees 0 or we see the stamp. */
    fxi_atomic_fence_seq_cst();
    /* Acquire: pairs with the release of fxi_qsbr_stamp, as in quiescent. */
    uint64_t p = fxi_atomic_load_acquire_64(&q->period);
    /* Relaxed: the section has not read anything yet, so there is nothing
     * to publish; 0 already blocks reclamation of newer stamps. */
    fxi_atomic_store_relaxed_64(seen, p);
}

void fxi_qsbr_online(fxi_qsbr *q, uint32_t i)
{
    come_online(&q->sched[i].seen, q);
}

uint64_t fxi_qsbr_min(fxi_qsbr *q)
{
    /* Seq_cst fence: orders the caller's earlier stamp before the scan;
     * pairs with the fence in come_online (store-load, Dekker). */
    fxi_atomic_fence_seq_cst();
    uint64_t m = FXI_QSBR_OFFLINE;
    /* Acquire loads: pair with the release stores of quiescent, offline
     * and ext_exit, so what each participant did before publishing its
     * value happens before the caller frees anything. */
    for (uint32_t i = 0; i < q->nsched; i++) {
        uint64_t v = fxi_atomic_load_acquire_64(&q->sched[i].seen);
        if (v < m)
            m = v;
    }
    for (uint32_t i = 0; i < FXI_QSBR_EXT; i++) {
        uint64_t v = fxi_atomic_load_acquire_64(&q->ext[i].seen);
        if (v < m)
            m = v;
    }
    return m;
}

uint32_t fxi_qsbr_ext_enter(fxi_qsbr *q)
{
    uint32_t start = (uint32_t) ((uintptr_t) &start >> 6) % FXI_QSBR_EXT;
    for (;;) {
        for (uint32_t k = 0; k < FXI_QSBR_EXT; k++) {
            uint32_t i = (start + k) % FXI_QSBR_EXT;
            /* Relaxed pre-check, then the claim OFFLINE -> 0: the cas makes
             * the record ours (one claimer wins); acquire takes it over
             * from the previous user's release in ext_exit. The store-load
             * order against reclaimers is come_online's fence. */
            if (fxi_atomic_load_relaxed_64(&q->ext[i].seen) == FXI_QSBR_OFFLINE &&
                fxi_atomic_cas_acquire_64(&q->ext[i].seen, FXI_QSBR_OFFLINE, 0)) {
                come_online(&q->ext[i].seen, q);
                return i;
            }
        }
        sched_yield();
    }
}

void fxi_qsbr_ext_exit(fxi_qsbr *q, uint32_t idx)
{
    /* Release: our reads of shared objects happen before a reclaimer that
     * acquire-loads OFFLINE (fxi_qsbr_min, fxi_qsbr_ext_idle) frees them. */
    fxi_atomic_store_release_64(&q->ext[idx].seen, FXI_QSBR_OFFLINE);
}

bool fxi_qsbr_ext_idle(fxi_qsbr *q)
{
    for (uint32_t i = 0; i < FXI_QSBR_EXT; i++)
        /* Acquire: pairs with ext_exit's release, as in fxi_qsbr_min. */
        if (fxi_atomic_load_acquire_64(&q->ext[i].seen) != FXI_QSBR_OFFLINE)
            return false;
    return true;
}
