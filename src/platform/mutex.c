/* The lock-order checker behind mutex.h (jemalloc's witness, reduced to
 * what fauxtp needs: one rank per lock, a per-thread held stack). */
#include "platform/mutex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Deepest nesting allowed; the library nests at most two today, and the
 * table-order test holds one lock of every rank. */
enum { HELD_MAX = 32 };

/* Owner thread only: the mutexes this thread holds, in locking order. */
static _Thread_local struct {
    const fxi_mutex *held[HELD_MAX];
    unsigned n;
} tls;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fauxtp: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}

static const char *name_of(const fxi_mutex *m)
{
    return m->name ? m->name : "(unnamed)";
}

void fxi_witness_check(const fxi_mutex *m)
{
    if (m->rank <= FXI_RANK_NONE || m->rank >= FXI_RANK_COUNT)
        die("lock order violation: taking %s with invalid rank %d", name_of(m),
            (int) m->rank);
    for (unsigned i = 0; i < tls.n; i++) {
        const fxi_mutex *h = tls.held[i];
        if (h == m)
            die("lock order violation: taking %s (rank %d) which this thread already "
                "holds",
                name_of(m), (int) m->rank);
        if (h->rank >= m->rank)
            die("lock order violation: taking %s (rank %d) while holding %s (rank %d)",
                name_of(m), (int) m->rank, name_of(h), (int) h->rank);
    }
}

void fxi_witness_push(const fxi_mutex *m)
{
    if (tls.n == HELD_MAX)
        die("lock order violation: taking %s (rank %d) while holding %u locks",
            name_of(m), (int) m->rank, tls.n);
    tls.held[tls.n++] = m;
}

static int find(const fxi_mutex *m)
{
    for (unsigned i = tls.n; i-- > 0;)
        if (tls.held[i] == m)
            return (int) i;
    return -1;
}

void fxi_witness_pop(const fxi_mutex *m)
{
    int i = find(m);
    if (i < 0)
        die("lock order violation: unlocking %s (rank %d) which this thread does not "
            "hold",
            name_of(m), (int) m->rank);
    /* Release order is free: close the gap, keep the locking order. */
    for (unsigned j = (unsigned) i + 1; j < tls.n; j++)
        tls.held[j - 1] = tls.held[j];
    tls.n--;
}

void fxi_witness_owned(const fxi_mutex *m)
{
    if (find(m) < 0)
        die("lock order violation: %s (rank %d) must be held here and is not", name_of(m),
            (int) m->rank);
}

void fxi_witness_fini(const fxi_mutex *m)
{
    if (find(m) >= 0)
        die("lock order violation: destroying %s (rank %d) while holding it", name_of(m),
            (int) m->rank);
}

unsigned fxi_witness_depth(void)
{
    return tls.n;
}
