/* A small open-addressing hash map from non-zero uint64_t keys to
 * uint64_t values: linear probing, backward-shift deletion, grows at 3/4
 * load and shrinks at 1/8. Holds a process's links and monitors. Not
 * thread-safe: one owner (only the count may be read by others). */
#ifndef FXI_DS_U64MAP_H
#define FXI_DS_U64MAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct fxi_u64pair {
    uint64_t key; /* 0 = empty slot */
    uint64_t val;
} fxi_u64pair;

typedef struct fxi_u64map {
    fxi_u64pair *slots; /* NULL until the first insert */
    uint32_t cap;       /* a power of two, or 0 */
    uint32_t count;
} fxi_u64map;

#define FXI_U64MAP_INIT                                                                  \
    {                                                                                    \
        NULL, 0, 0                                                                       \
    }

/* Frees the table; the map is empty and reusable afterwards. */
void fxi_u64map_fini(fxi_u64map *m);

/* Inserts key -> val, or overwrites the value of an existing key.
 * Returns 1 if the key is new, 0 if it existed, -1 on ENOMEM (map
 * unchanged). key must not be 0. */
int fxi_u64map_put(fxi_u64map *m, uint64_t key, uint64_t val);

/* Inserts key -> val only if key is absent: 1 if inserted, 0 if the key
 * existed (its value unchanged), -1 on ENOMEM (map unchanged). One probe
 * where a get and a put would take two. key must not be 0. */
int fxi_u64map_add(fxi_u64map *m, uint64_t key, uint64_t val);
/* Makes room for n entries without growing on the way: a put of a new
 * key then cannot fail while count < n. 0 or -1 on ENOMEM. */
int fxi_u64map_reserve(fxi_u64map *m, uint32_t n);

/* Looks key up; stores its value in *val (may be NULL) when found. */
bool fxi_u64map_get(const fxi_u64map *m, uint64_t key, uint64_t *val);

/* The entry of key, or NULL: valid until the map next changes. */
fxi_u64pair *fxi_u64map_find(const fxi_u64map *m, uint64_t key);
/* Removes entry e, which fxi_u64map_find returned (no change since). */
void fxi_u64map_del_found(fxi_u64map *m, fxi_u64pair *e);
/* Removes key; true if it was there (its value in *val, may be NULL). */
bool fxi_u64map_del(fxi_u64map *m, uint64_t key, uint64_t *val);

/* The number of entries, from any thread: a snapshot (the owner's
 * updates are relaxed stores). */
uint32_t fxi_u64map_count(const fxi_u64map *m);

/* Iteration: for (uint32_t i = 0; i < m->cap; i++) if (m->slots[i].key)
 * ...; the map must not change meanwhile. */

#endif
