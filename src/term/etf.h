/* The term API's internals shared between src/term/ files: ETF tags,
 * the validator and the builder's byte sink. Public API: fauxtp/term.h. */
#ifndef FXI_TERM_ETF_H
#define FXI_TERM_ETF_H

#include <fauxtp/term.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The version byte that starts every ETF term. */
#define FXI_ETF_VERSION 131

/* Builder kinds (fx_term_builder.fxi_mode). */
enum { FXI_TB_GROW = 1, FXI_TB_FIXED = 2, FXI_TB_SIZING = 3 };

/* Once per process, thread-safe: ei_init(). 0 or FX_ENOMEM. */
int fxi_term_ei_init(void);

/* Walks the term starting at buf[*pos] (no version byte) without recursion
 * (a heap stack of open containers, so any nesting the bytes can hold):
 * every length checked against size, map keys unique by Erlang equality
 * (canonical forms, fxi_term_canon). On success *pos is just past it and
 * 0 is returned; FX_EBADTERM otherwise, FX_ENOMEM when the stack cannot
 * grow (*pos unchanged). */
int fxi_term_validate(const char *buf, size_t size, size_t *pos);

/* Growable bytes (free v when done). */
typedef struct fxi_bytes {
    unsigned char *v;
    size_t n, cap;
} fxi_bytes;

/* Appends to out the canonical form (canon.c) of the valid term at b[pos]:
 * equal forms for terms Erlang's =:= finds equal, memcmp order as
 * Erlang's term order. *budget caps the input bytes walked (decremented
 * on success). 0; 1 over budget (out then holds a partial form);
 * FX_ENOMEM. */
int fxi_term_canon(const char *b, size_t pos, fxi_bytes *out, size_t *budget);

/* Past any LIST_EXT headers of 0 elements at buf[pos]: such a header is
 * its tail (binary_to_term gives the tail), so readers look past it. */
size_t fxi_term_past_empty(const char *buf, size_t size, size_t pos);

/* The kind (fx_term_kind) of a term whose tag is buf[pos]; the caller
 * made sure pos < size and the term is valid. */
int fxi_term_kind_at(const char *buf, size_t pos);

/* The UTF-8 length of the valid atom whose tag is at p, from its header
 * (an atom may hold NUL, so never strlen); a Latin-1 atom's bytes from
 * 0x80 up count two. */
size_t fxi_term_atom_utf8_len(const char *p);

/* Big-endian reads. */
static inline uint32_t fxi_be32(const char *p)
{
    const unsigned char *u = (const unsigned char *) p;
    return ((uint32_t) u[0] << 24) | ((uint32_t) u[1] << 16) | ((uint32_t) u[2] << 8) |
           u[3];
}
static inline uint16_t fxi_be16(const char *p)
{
    const unsigned char *u = (const unsigned char *) p;
    return (uint16_t) ((u[0] << 8) | u[1]);
}

/* Builder sink: makes room for n more bytes and returns where they go
 * (NULL for a measuring builder, which only counts); on failure sets the
 * sticky error and returns NULL with *err set. */
char *fxi_tb_reserve(fx_term_builder *b, size_t n, int *err);

/* 0 when b can take a put (not failed, initialised), else the code. */
int fxi_tb_check(const fx_term_builder *b);
/* Marks the builder failed with err; returns err. */
int fxi_tb_fail(fx_term_builder *b, int err);

#endif
