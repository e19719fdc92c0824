#include "sched/qsbr.h"

#include <fauxtp/error.h>
#include <sched.h>

#include "mem/alloc.h"

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
    /* Full barrier (lock xadd): the unpublication stores (pid generation
     * bumps) before it are visible to any thread that later reads a period
     * greater than the returned stamp (quiescent/online below). */
    return ck_pr_faa_64(&q->period, 1);
}

void fxi_qsbr_quiescent(fxi_qsbr *q, uint32_t i)
{
    /* Acquire side of fxi_qsbr_stamp: after reading period P we see every
     * unpublication stamped below P. */
    uint64_t p = ck_pr_load_64(&q->period);
    ck_pr_fence_load();
    if (ck_pr_load_64(&q->sched[i].seen) != p) {
        /* Release: our accesses in the section that just ended happen
         * before a reclaimer that reads this value (fxi_qsbr_min). */
        ck_pr_fence_release();
        ck_pr_store_64(&q->sched[i].seen, p);
    }
}

void fxi_qsbr_offline(fxi_qsbr *q, uint32_t i)
{
    /* Release: the section's accesses before a reclaimer sees OFFLINE. */
    ck_pr_fence_release();
    ck_pr_store_64(&q->sched[i].seen, FXI_QSBR_OFFLINE);
}

/* Coming online must not let a reclaimer that read OFFLINE free something
 * we then read: publish 0 (blocks all reclamation) before reading the
 * period. A reclaimer whose scan read OFFLINE did so before our store of
 * 0 in the total order of these seq_cst operations, so its earlier stamp
 * is visible to our period load. */
static void come_online(uint64_t *seen, fxi_qsbr *q)
{
    ck_pr_store_64(seen, 0);
    /* Store-load: publish 0 before reading the period (Dekker with the
     * reclaimer's stamp then scan). */
    ck_pr_fence_memory();
    uint64_t p = ck_pr_load_64(&q->period);
    ck_pr_fence_load();
    ck_pr_store_64(seen, p);
}

void fxi_qsbr_online(fxi_qsbr *q, uint32_t i)
{
    come_online(&q->sched[i].seen, q);
}

uint64_t fxi_qsbr_min(fxi_qsbr *q)
{
    /* Pairs with the store-load fences in come_online and the stamp. */
    ck_pr_fence_memory();
    uint64_t m = FXI_QSBR_OFFLINE;
    for (uint32_t i = 0; i < q->nsched; i++) {
        uint64_t v = ck_pr_load_64(&q->sched[i].seen);
        if (v < m)
            m = v;
    }
    for (uint32_t i = 0; i < FXI_QSBR_EXT; i++) {
        uint64_t v = ck_pr_load_64(&q->ext[i].seen);
        if (v < m)
            m = v;
    }
    /* Acquire: what the participants did before publishing these values
     * happens before the caller frees anything. */
    ck_pr_fence_acquire();
    return m;
}

uint32_t fxi_qsbr_ext_enter(fxi_qsbr *q)
{
    uint32_t start = (uint32_t) ((uintptr_t) &start >> 6) % FXI_QSBR_EXT;
    for (;;) {
        for (uint32_t k = 0; k < FXI_QSBR_EXT; k++) {
            uint32_t i = (start + k) % FXI_QSBR_EXT;
            /* Claiming OFFLINE -> 0 makes the record block reclamation
             * before we read anything (full barrier). */
            if (ck_pr_load_64(&q->ext[i].seen) == FXI_QSBR_OFFLINE &&
                ck_pr_cas_64(&q->ext[i].seen, FXI_QSBR_OFFLINE, 0)) {
                come_online(&q->ext[i].seen, q);
                return i;
            }
        }
        sched_yield();
    }
}

void fxi_qsbr_ext_exit(fxi_qsbr *q, uint32_t idx)
{
    /* Release: our reads of shared objects before the record frees. */
    ck_pr_fence_release();
    ck_pr_store_64(&q->ext[idx].seen, FXI_QSBR_OFFLINE);
}

bool fxi_qsbr_ext_idle(fxi_qsbr *q)
{
    for (uint32_t i = 0; i < FXI_QSBR_EXT; i++)
        if (ck_pr_load_64(&q->ext[i].seen) != FXI_QSBR_OFFLINE)
            return false;
    return true;
}
