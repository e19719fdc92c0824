/* The poll-spin before the poller thread parks (fx_vm_config.io_spin_us):
 * see fxi_sched_spin_poll below and docs/net.md. */
#include "platform/atomic.h"
#include "platform/park.h"
#include "sched/sched.h"

/* A park spins only this soon after socket events were handled. */
#define IO_SPIN_RECENT_NS 2000000
/* A spin budget below this is no spin. */
#define IO_SPIN_MIN_NS 2000
/* A gap this long between two clock reads of one spin means the thread
 * was descheduled: the CPUs are contended, and spinning takes CPU time
 * from the process it waits for. */
#define IO_SPIN_GAP_NS 200000
/* No spin for this long after such a gap. */
#define IO_SPIN_BACKOFF_NS 200000000

/* The poll-spin before the poller thread sleeps (fx_vm_config.io_spin_us):
 * after recent I/O, a reply usually comes within microseconds, and
 * sleeping in epoll costs a wake-up on an idle (virtual) CPU, which is
 * slow under a hypervisor. So poll without blocking for up to
 * s->io_spin_ns first. Adaptive: a spin that finds nothing halves the
 * next (to none); a sleep that ends with events within the full budget
 * restores it (park()). A spin that finds itself descheduled (a gap
 * between its clock reads) stops, and this thread does not spin for the
 * next 200 ms: on a loaded machine the spin would take CPU time from the
 * process it waits for (docs/net.md, "The poller"). 1: events taken
 * (poll() them once online), -1: park_word changed (the wait loop
 * re-reads it), 0: sleep. */
int fxi_sched_spin_poll(fxi_sched *s, fxi_poller *io, int64_t to)
{
    fxi_pool *p = s->pool;
    /* No spin due, or no busy-poll socket ever had events: no clock read
     * (a vDSO clock read under a hypervisor is not free, and this runs at
     * every park of the poller thread). */
    if (s->io_spin_ns == 0 || s->io_seen_ns == 0)
        return 0;
    uint64_t now = fxi_now_ns();
    if (s->io_spin_ns == 0 || now - s->io_seen_ns > IO_SPIN_RECENT_NS ||
        now < s->io_spin_off_until)
        return 0;
    uint64_t budget = s->io_spin_ns;
    if (to >= 0 && (uint64_t) to < budget)
        budget = (uint64_t) to;
    uint64_t end = now + budget;
    for (;;) {
        /* Acquire: as the wait loop's load. A waker stores POPPED or
         * KICKED before it writes the poller's eventfd, which a wait(0)
         * here may drain: so the word is read after every wait(0). */
        if (fxi_atomic_load_acquire_32(&s->park_word) != FXI_PARKED ||
            fxi_pool_stopping(p))
            return -1;
        if (now >= end)
            break;
        if (io->wait(io, s, 0) > 0) {
            s->io_spin_ns = p->io_spin_max_ns;
            return 1;
        }
        /* A plain spin: sched_yield here made fauxtp->fauxtp calls 10x
         * slower on a loaded machine (docs/net.md, "The poller"). */
        for (int k = 0; k < 16; k++)
            fxi_cpu_relax();
        uint64_t prev = now;
        now = fxi_now_ns();
        if (now - prev > IO_SPIN_GAP_NS) {
            s->io_spin_off_until = now + IO_SPIN_BACKOFF_NS;
            return 0;
        }
    }
    s->io_spin_ns /= 2;
    if (s->io_spin_ns < IO_SPIN_MIN_NS)
        s->io_spin_ns = 0;
    return 0;
}
