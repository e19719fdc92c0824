/* The registry's published tables: names (name -> pid) and groups
 * (group name -> member array), two Concurrency Kit hash sets in SPMC
 * mode. The single writer is the registry process (registry_server.c);
 * readers on any thread look up inside a ck_epoch read section
 * (kernel.h), and everything the writer unlinks (entries, member arrays,
 * grown or rebuilt hash maps) is freed through ck_epoch_call, after
 * every section that could still see it has ended.
 *
 * Entries are immutable once published, except a group's `members`
 * pointer, which the writer replaces with a new array (copy on write). */
#ifndef FXI_OTP_REG_TABLE_H
#define FXI_OTP_REG_TABLE_H

#include <ck_hs.h>

#include "otp/kernel.h"

/* A name as a hash-set key: the first member of every entry, and what
 * lookups build on the stack. s is NUL-terminated. hash is the name's
 * hash under the seed of the table it is in (or being looked up in):
 * probes compare it before the bytes. */
typedef struct fxi_name {
    uint64_t hash;
    uint32_t len;
    char s[FX_NAME_MAX];
} fxi_name;

typedef struct fxi_reg_name {
    fxi_name key; /* first */
    fx_pid pid;
    ck_epoch_entry_t retire;
} fxi_reg_name;

typedef struct fxi_members {
    ck_epoch_entry_t retire;
    uint32_t n;
    fx_pid pids[];
} fxi_members;

typedef struct fxi_reg_group {
    fxi_name key;         /* first */
    fxi_members *members; /* atomic: replaced by the writer, never NULL */
    ck_epoch_entry_t retire;
} fxi_reg_group;

struct fxi_reg_tables {
    ck_hs_t names;  /* of fxi_reg_name */
    ck_hs_t groups; /* of fxi_reg_group */
    /* writer only */
    ck_epoch_record_t *writer;
    fx_pid pid;       /* the registry's */
    uint64_t retired; /* objects handed to ck_epoch_call */
};

/* Builds a lookup key; false for a bad name. */
bool fxi_name_key(fxi_name *key, const char *name);

/* ---- readers: inside a read section ------------------------------------------ */
/* Lookups set key->hash for the table they search. */
const fxi_reg_name *fxi_reg_lookup(fxi_reg_tables *t, fxi_name *key);
const fxi_reg_group *fxi_reg_group_lookup(fxi_reg_tables *t, fxi_name *key);
/* The group's current members (atomic load, never NULL). */
const fxi_members *fxi_reg_members(const fxi_reg_group *g);

/* ---- the writer: the registry process only ----------------------------------- */
/* New empty tables using writer record w. NULL: no memory. */
fxi_reg_tables *fxi_reg_tables_new(ck_epoch_record_t *w, fx_pid pid);
/* Frees t and everything in it at once: only when no reader can reach
 * t any more (unpublished, then a barrier). */
void fxi_reg_tables_free(fxi_reg_tables *t);

/* Publishes a name entry; FX_ENOMEM. */
int fxi_reg_put(fxi_reg_tables *t, fxi_name *key, fx_pid pid, fxi_reg_name **out);
/* Unlinks e and retires it. */
void fxi_reg_del(fxi_reg_tables *t, fxi_reg_name *e);

/* The group under key, or NULL. */
fxi_reg_group *fxi_reg_group_find(fxi_reg_tables *t, fxi_name *key);
/* Publishes the group's members plus pid (not a member yet), creating
 * the group if needed; *out gets the group. FX_ENOMEM. */
int fxi_reg_group_add(fxi_reg_tables *t, fxi_name *key, fx_pid pid, fxi_reg_group **out);
/* Publishes g's members minus pid (a member). A group left empty is
 * unlinked and retired. FX_ENOMEM (nothing changed). */
int fxi_reg_group_remove(fxi_reg_tables *t, fxi_reg_group *g, fx_pid pid);

/* The allocator of every registry hash set. Frees with defer = true (a
 * grown or rebuilt map) go through the writer's ck_epoch_call while the
 * writer is inside a reg_table.c operation, and are immediate otherwise
 * (private tables nobody else reads). */
extern struct ck_malloc fxi_reg_allocator;

/* Runs the deferred frees whose grace period has ended; true when some
 * are still waiting (call again later). */
bool fxi_reg_reclaim(fxi_reg_tables *t);
/* Counts for fx_registry_stats. */
void fxi_reg_stats(fxi_reg_tables *t, fx_registry_stats *out);

#endif
