/* Open-addressing uint64 map; see u64map.h. */
#include "ds/u64map.h"

#include "mem/alloc.h"
#include "platform/atomic.h"

#define MIN_CAP 8u

static inline uint32_t slot_of(uint64_t key, uint32_t cap)
{
    /* Fibonacci hashing: pids and refs differ mostly in their low bits. */
    return (uint32_t) ((key * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

/* The count is also read by other threads (fxi_u64map_count). */
static inline void set_count(fxi_u64map *m, uint32_t n)
{
    /* Relaxed, one writer: a snapshot value for process info. */
    fxi_atomic_store_relaxed_32(&m->count, n);
}

void fxi_u64map_fini(fxi_u64map *m)
{
    fxi_free(m->slots, (size_t) m->cap * sizeof *m->slots);
    m->slots = NULL;
    m->cap = 0;
    set_count(m, 0);
}

static void place(fxi_u64pair *slots, uint32_t cap, uint64_t key, uint64_t val)
{
    uint32_t i = slot_of(key, cap);
    while (slots[i].key)
        i = (i + 1) & (cap - 1);
    slots[i].key = key;
    slots[i].val = val;
}

static int resize(fxi_u64map *m, uint32_t cap)
{
    fxi_u64pair *s = fxi_zalloc((size_t) cap * sizeof *s);
    if (!s)
        return -1;
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            place(s, cap, m->slots[i].key, m->slots[i].val);
    fxi_free(m->slots, (size_t) m->cap * sizeof *m->slots);
    m->slots = s;
    m->cap = cap;
    return 0;
}

static int64_t find(const fxi_u64map *m, uint64_t key)
{
    if (!m->count)
        return -1;
    for (uint32_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].key == key)
            return i;
        if (!m->slots[i].key)
            return -1;
    }
}

int fxi_u64map_reserve(fxi_u64map *m, uint32_t n)
{
    uint32_t cap = m->cap ? m->cap : MIN_CAP;
    while ((uint64_t) n * 4 > (uint64_t) cap * 3)
        cap *= 2;
    return cap == m->cap ? 0 : resize(m, cap);
}

/* Places a key known to be absent; 1, or -1 on ENOMEM (map unchanged). */
static int insert_new(fxi_u64map *m, uint64_t key, uint64_t val)
{
    if ((uint64_t) (m->count + 1) * 4 > (uint64_t) m->cap * 3 &&
        resize(m, m->cap ? m->cap * 2 : MIN_CAP) != 0)
        return -1;
    place(m->slots, m->cap, key, val);
    set_count(m, m->count + 1);
    return 1;
}

int fxi_u64map_put(fxi_u64map *m, uint64_t key, uint64_t val)
{
    int64_t i = find(m, key);
    if (i >= 0) {
        m->slots[i].val = val;
        return 0;
    }
    return insert_new(m, key, val);
}

int fxi_u64map_add(fxi_u64map *m, uint64_t key, uint64_t val)
{
    return find(m, key) >= 0 ? 0 : insert_new(m, key, val);
}

bool fxi_u64map_get(const fxi_u64map *m, uint64_t key, uint64_t *val)
{
    int64_t i = find(m, key);
    if (i < 0)
        return false;
    if (val)
        *val = m->slots[i].val;
    return true;
}

fxi_u64pair *fxi_u64map_find(const fxi_u64map *m, uint64_t key)
{
    int64_t i = find(m, key);
    return i < 0 ? NULL : &m->slots[i];
}

void fxi_u64map_del_found(fxi_u64map *m, fxi_u64pair *e)
{
    uint32_t mask = m->cap - 1, i = (uint32_t) (e - m->slots);
    /* Backward-shift: pull later entries of the probe run into the hole
     * unless their home slot lies cyclically in (hole, j]. */
    for (uint32_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        uint32_t home = slot_of(m->slots[j].key, m->cap);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = 0;
    set_count(m, m->count - 1);
    /* Emptied: the smallest table stays (a process that monitors, like a
     * GenServer's caller, would otherwise allocate and free it per call);
     * a larger one goes. */
    if (m->count == 0 && m->cap > MIN_CAP)
        fxi_u64map_fini(m);
    else if (m->cap > MIN_CAP && m->count * 8 < m->cap)
        (void) resize(m, m->cap / 2); /* on ENOMEM the map stays as it is */
}

bool fxi_u64map_del(fxi_u64map *m, uint64_t key, uint64_t *val)
{
    int64_t found = find(m, key);
    if (found < 0)
        return false;
    if (val)
        *val = m->slots[found].val;
    fxi_u64map_del_found(m, &m->slots[found]);
    return true;
}

uint32_t fxi_u64map_count(const fxi_u64map *m)
{
    return fxi_atomic_load_relaxed_32(&m->count); /* relaxed: see set_count */
}
