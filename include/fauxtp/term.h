/* fauxtp: Erlang terms in the external term format (ETF), docs/terms.md.
 *
 * A term travels between nodes (and in FX_MSG_TERM messages) as ETF
 * bytes: the version byte 131, then one encoded term. This header builds
 * such bytes (fx_term_builder, fx_term_format) and reads them
 * (fx_term_reader), over ei's codec (erlang-dev). The functions exist
 * only in builds with the `term` feature (on where erlang-dev is
 * installed; docs/terms.md).
 *
 * Errors: FX_EBADTERM (-39) for malformed, truncated or unexpected input
 * (a getter asked for another type, an integer that does not fit);
 * FX_EINVAL for NULL or out-of-range
 * arguments; FX_ENOMEM; FX_EMSGSIZE when a builder over caller memory is
 * full or a term would pass FX_MSG_SIZE_LIMIT. A failed getter leaves the
 * reader's cursor where it was. Nothing reads outside the bytes given.
 * Nesting has no limit (OTP has none): checking, reading and printing keep
 * their stacks on the heap (8 bytes a level, a level at least 2 bytes of
 * input), never recursion; only fx_term_format stops at
 * FX_TERM_MAX_DEPTH.
 *
 * Threads: builders and readers are plain values with no shared state;
 * any thread may use one at a time. */
#ifndef FAUXTP_TERM_H
#define FAUXTP_TERM_H

#include "msg.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting of tuples, lists and maps in a fx_term_format string
 * (its parser recurses; the format is the program's). The reader, the
 * printer and the builder take any depth. */
#define FX_TERM_MAX_DEPTH 256
/* Longest atom, in bytes of UTF-8 (255 characters of up to 4 bytes). A
 * buffer of FX_TERM_ATOM_MAX + 1 bytes holds any atom and its NUL. */
#define FX_TERM_ATOM_MAX 1020

/* What the term at a reader's cursor is (fx_term_type). */
typedef enum fx_term_kind {
    FX_TERM_ATOM = 1,  /* true, false and nil-the-atom included */
    FX_TERM_INTEGER,   /* any size: fx_term_get_i64/_u64/_bignum */
    FX_TERM_FLOAT,     /* fx_term_get_double */
    FX_TERM_BINARY,    /* a whole number of bytes (BINARY_EXT, or a
                          BIT_BINARY_EXT whose last byte is full or with no
                          bytes): fx_term_get_binary */
    FX_TERM_BITSTRING, /* a binary with a partial last byte: opaque */
    FX_TERM_NIL,       /* [] */
    FX_TERM_STRING,    /* a list of 1..65535 integers 0..255, compact: get_string */
    FX_TERM_LIST,      /* a non-empty list cell run: fx_term_get_list */
    FX_TERM_TUPLE,     /* fx_term_get_tuple */
    FX_TERM_MAP,       /* fx_term_get_map */
    FX_TERM_PID,       /* pids, ports, refs, funs: opaque (fx_term_get_raw) */
    FX_TERM_PORT,
    FX_TERM_REF,
    FX_TERM_FUN
} fx_term_kind;

/* ---- building ---------------------------------------------------------- */

/* A term being written. Caller storage; the fields are private. Every put
 * appends one term or container header after the version byte; a put
 * that fails leaves the builder failed (sticky: later puts return the same
 * code and write nothing), so a sequence of puts can be checked once, at
 * fx_term_builder_data / _msg. Every put: 0, or FX_EINVAL for a NULL or
 * never-initialised builder (and for the bad values each names),
 * FX_EMSGSIZE when caller memory is full or the term would pass
 * FX_MSG_SIZE_LIMIT, FX_ENOMEM. */
typedef struct fx_term_builder {
    char *fxi_buf;
    size_t fxi_cap;
    size_t fxi_len;
    int fxi_err;
    int fxi_mode; /* growable, caller memory, sizing */
} fx_term_builder;

/* A growable builder in library memory; fx_term_builder_fini frees it.
 * FX_EINVAL for NULL b. */
FX_API int fx_term_builder_init(fx_term_builder *b);
/* A builder over caller memory: buf (borrowed, cap bytes) receives the
 * term; a put that does not fit fails with FX_EMSGSIZE. buf may be NULL
 * with cap 0: the builder then only measures (fx_term_builder_size). */
FX_API int fx_term_builder_init_buf(fx_term_builder *b, void *buf, size_t cap);
/* Frees a growable builder's memory; harmless on the other kinds and on a
 * zeroed struct. The builder may be initialised again. */
FX_API void fx_term_builder_fini(fx_term_builder *b);
/* Bytes written so far, version byte included (what a measuring builder
 * is for). 0 for NULL. */
FX_API size_t fx_term_builder_size(const fx_term_builder *b);
/* The finished term, borrowed until the next put or fini: *data and
 * *size get the ETF bytes. FX_EBADTERM when they are not exactly one
 * complete term Erlang would accept (a tuple short of elements, two terms
 * at top level, a map with two equal keys), the builder's sticky error when a put failed,
 * FX_EINVAL for NULL arguments or a measuring builder. */
FX_API int fx_term_builder_data(const fx_term_builder *b, const void **data,
                                size_t *size);
/* The finished term as a new FX_MSG_TERM message, owned by the caller
 * (send it with fx_send_msg and friends, or fx_msg_free it). One copy of
 * the finished bytes; fx_term_msg_build and fx_term_format_msg write
 * straight into the message instead. Errors as fx_term_builder_data, and
 * FX_ENOMEM. */
FX_API int fx_term_builder_msg(const fx_term_builder *b, fx_msg **out);

/* Appends an atom: name is UTF-8 of len bytes (at most 255 characters).
 * FX_EINVAL for invalid UTF-8 or a longer name. */
FX_API int fx_term_put_atom(fx_term_builder *b, const char *name, size_t len);
/* The same for a NUL-terminated name. */
FX_API int fx_term_put_atomz(fx_term_builder *b, const char *name);
/* Integers, in Erlang's encoding (term_to_binary's bytes): 0..255 as
 * SMALL_INTEGER_EXT, the rest of -2^31..2^31-1 as INTEGER_EXT, a bignum
 * beyond. */
FX_API int fx_term_put_i64(fx_term_builder *b, int64_t v);
FX_API int fx_term_put_u64(fx_term_builder *b, uint64_t v);
/* A bignum of any size: magnitude mag (n bytes, least significant first,
 * borrowed), negative when neg != 0. Encoded as Erlang would (an integer
 * that fits in 32 bits as a plain integer). FX_EINVAL for NULL mag with
 * n > 0. */
FX_API int fx_term_put_bignum(fx_term_builder *b, int neg, const uint8_t *mag, size_t n);
/* A float (NEW_FLOAT_EXT). FX_EINVAL for NaN and infinities, which Erlang
 * floats cannot hold. */
FX_API int fx_term_put_double(fx_term_builder *b, double v);
/* A binary of size bytes copied from data (may be NULL when size is 0). */
FX_API int fx_term_put_binary(fx_term_builder *b, const void *data, size_t size);
/* A string as Erlang's charlist of its bytes (STRING_EXT up to 65535
 * bytes, a list of small integers beyond, [] when empty). */
FX_API int fx_term_put_string(fx_term_builder *b, const char *s, size_t len);
/* Container headers: the next `arity` terms are the tuple's elements; the
 * next `n` terms are the list's elements followed by ONE tail term (put
 * fx_term_put_nil for a proper list, anything else for an improper one;
 * n 0 writes [] and no tail follows); the next 2*pairs terms are the map's
 * keys and values, alternating. FX_EINVAL for counts above INT32_MAX (ei's limit;
 * Erlang's own tuples stop at 2^24 - 1). */
FX_API int fx_term_put_tuple(fx_term_builder *b, size_t arity);
FX_API int fx_term_put_list(fx_term_builder *b, size_t n);
FX_API int fx_term_put_map(fx_term_builder *b, size_t pairs);
FX_API int fx_term_put_nil(fx_term_builder *b);
/* Appends one already-encoded term (no version byte), e.g. a pid copied
 * with fx_term_get_raw. FX_EBADTERM unless the bytes are exactly one
 * valid term. */
FX_API int fx_term_put_raw(fx_term_builder *b, const void *term, size_t size);

/* The one-liner: appends the term written in fmt, Erlang syntax with
 * holes. Literals: atoms (ok, 'quoted atom'), integers (42, -7), floats
 * (1.5), strings ("abc", a charlist), binaries (<<"bytes">>, <<>>),
 * tuples {..}, lists [..] and [H|T], maps #{K => V}; inside quotes,
 * Erlang's escapes (\n \t \s \e \d, \^X, \101, \x41, \x{1F600}): in an
 * atom a code point is written as UTF-8, in a string or binary it must
 * fit a byte (else FX_EINVAL). Holes take the next
 * argument, whose C type the hole names:
 *   ~a const char * atom      ~s const char * charlist  ~b const char * binary
 *   ~y const void *, size_t binary   ~i int   ~l int64_t   ~u uint64_t
 *   ~f double   ~t const fx_term_builder * (its finished term, spliced in;
 *               it may be b itself: b's term so far is copied)
 * Example: fx_term_format(b, "{ok, ~i, <<\"bin\">>}", 42). FX_EINVAL for
 * a syntax error in fmt (a fmt cut short anywhere included: it is read up
 * to its NUL, never past), nesting deeper than FX_TERM_MAX_DEPTH or a NULL
 * string argument; like any failed put it leaves the builder failed. */
FX_API int fx_term_format(fx_term_builder *b, const char *fmt, ...);
FX_API int fx_term_vformat(fx_term_builder *b, const char *fmt, va_list ap);
/* A new FX_MSG_TERM message holding exactly the formatted term, written
 * in place (fmt is walked twice: once to measure, once to write), owned
 * by the caller. Errors as fx_term_format, FX_ENOMEM, FX_EINVAL for NULL
 * out or fmt; *out is NULL on any error. */
FX_API int fx_term_format_msg(fx_msg **out, const char *fmt, ...);

/* Zero-copy building of a message: build is called twice with a builder
 * (first a measuring one, then one over the new message's payload) and
 * must make the same puts both times; *out gets the FX_MSG_TERM message.
 * Returns build's first negative result, FX_EBADTERM when the two calls
 * wrote different sizes or not one term, FX_EMSGSIZE, FX_ENOMEM,
 * FX_EINVAL for NULL build or out. */
typedef int (*fx_term_build_fn)(fx_term_builder *b, void *arg);
FX_API int fx_term_msg_build(fx_term_build_fn build, void *arg, fx_msg **out);

/* ---- reading ----------------------------------------------------------- */

/* A cursor over one term. Caller storage, fields private. The bytes are
 * borrowed and must outlive the reader (for a message: until the handler
 * returns, or fx_msg_free). */
typedef struct fx_term_reader {
    const char *fxi_buf;
    size_t fxi_size;
    size_t fxi_pos;
} fx_term_reader;

/* Checks that data holds the version byte and exactly one valid term
 * (every length inside the bytes, and what binary_to_term also refuses:
 * NaN or infinite floats, UTF-8 atoms of invalid UTF-8 or over 255
 * characters, a map with two keys equal as Erlang compares them, whatever
 * their encodings: docs/terms.md, "Limits") and puts the cursor on it.
 * Any nesting depth. FX_EBADTERM otherwise (compressed terms and the
 * distribution's atom-cache references included); FX_EINVAL for NULL;
 * FX_ENOMEM when the walk's stack cannot grow.
 * A LIST_EXT header of 0 elements is its tail (binary_to_term reads
 * LIST_EXT(0, T) as T; Erlang never writes one): the cursor never rests on
 * one, here or after any getter, so fx_term_type and the getters see T. */
FX_API int fx_term_reader_init(fx_term_reader *r, const void *data, size_t size);
/* The same for the FIRST term of data, which may be followed by other
 * bytes (a distribution frame holds a control term and then the message):
 * *used gets the bytes that term takes, version byte included, so the
 * next one starts at data + *used. Errors as fx_term_reader_init
 * (FX_EINVAL for NULL used). */
FX_API int fx_term_reader_init_prefix(fx_term_reader *r, const void *data, size_t size,
                                      size_t *used);
/* The same over msg's payload; FX_EBADTERM when msg is not FX_MSG_TERM. */
FX_API int fx_term_reader_init_msg(fx_term_reader *r, const fx_msg *msg);
/* The kind of the term at the cursor (> 0), or FX_EBADTERM when the
 * cursor is past the end; FX_EINVAL for NULL. Does not move. */
FX_API int fx_term_type(const fx_term_reader *r);
/* 1 when the cursor has passed the last byte, else 0 (NULL: 1). */
FX_API int fx_term_at_end(const fx_term_reader *r);

/* Getters: each reads the term at the cursor and moves past it, or fails
 * with FX_EBADTERM (another kind, or a value that does not fit) without
 * moving. An atom's UTF-8 name goes to buf (cap bytes, NUL added; cap
 * FX_TERM_ATOM_MAX + 1 always suffices), its length to *len (may be
 * NULL); FX_EMSGSIZE when it does not fit. An atom may contain NUL:
 * *len is its full length (a Latin-1 atom's counted in UTF-8). */
FX_API int fx_term_get_atom(fx_term_reader *r, char *buf, size_t cap, size_t *len);
FX_API int fx_term_get_i64(fx_term_reader *r, int64_t *v);
FX_API int fx_term_get_u64(fx_term_reader *r, uint64_t *v);
/* Any integer: *neg and the magnitude's bytes (least significant first)
 * into mag (cap bytes); *n gets the number of bytes the magnitude needs
 * (FX_EMSGSIZE, not moving, when cap is smaller). */
FX_API int fx_term_get_bignum(fx_term_reader *r, int *neg, uint8_t *mag, size_t cap,
                              size_t *n);
FX_API int fx_term_get_double(fx_term_reader *r, double *v);
/* A binary, in place: *data points into the reader's bytes (borrowed
 * like them). */
FX_API int fx_term_get_binary(fx_term_reader *r, const void **data, size_t *size);
/* A charlist (STRING_EXT, [] or a proper list of integers 0..255, however
 * its cells are split into LIST_EXT headers, e.g. written one cell at a
 * time, and ending in [] or a STRING_EXT tail) into buf (cap bytes, NUL
 * added), its length to *len (may be NULL); FX_EMSGSIZE when it does not
 * fit. */
FX_API int fx_term_get_string(fx_term_reader *r, char *buf, size_t cap, size_t *len);
/* Container headers: the cursor moves onto the first element. A list of
 * *n > 0 elements is followed by its tail ([] when proper: read it with
 * fx_term_get_nil); [] itself reads as n = 0 with no tail. A STRING_EXT
 * is not a list here (fx_term_type says FX_TERM_STRING). A map's 2*pairs
 * terms alternate key, value. */
FX_API int fx_term_get_tuple(fx_term_reader *r, uint32_t *arity);
FX_API int fx_term_get_list(fx_term_reader *r, uint32_t *n);
FX_API int fx_term_get_map(fx_term_reader *r, uint32_t *pairs);
FX_API int fx_term_get_nil(fx_term_reader *r);
/* Any term, whole: *term and *size get its encoded bytes (no version
 * byte; borrowed like the reader's), for fx_term_put_raw. */
FX_API int fx_term_get_raw(fx_term_reader *r, const void **term, size_t *size);
/* Moves past the term at the cursor, whatever it is. */
FX_API int fx_term_skip(fx_term_reader *r);

/* Matching: 1 and the cursor moved past the atom when the term at the
 * cursor is the atom `name` (NUL-terminated UTF-8); 0 and not moved
 * otherwise; FX_EINVAL for NULL, FX_EBADTERM past the end. */
FX_API int fx_term_match_atom(fx_term_reader *r, const char *name);
/* 1 when the term at the cursor is a tuple of `arity` elements whose first
 * is the atom `tag`, and the cursor moved onto the second element;
 * 0 and not moved otherwise; FX_EINVAL for arity 0 or NULL. The
 * {Tag, ...} shape of most messages:
 *   if (fx_term_match(&r, "ok", 2) == 1) fx_term_get_i64(&r, &v); */
FX_API int fx_term_match(fx_term_reader *r, const char *tag, uint32_t arity);

/* ---- pids ----------------------------------------------------------------
 * A pid in a term is an Erlang pid (NEW_PID_EXT): its node's name and
 * creation, an id and a serial. The distribution layer maps fauxtp pids to
 * Erlang pids and back as it does for the messages it sends and receives
 * (docs/distribution.md, "Pids"), so these work only while vm is a
 * running node (fx_dist_start; dist.h). */

/* Appends pid as an Erlang pid: a pid of vm (dead or alive: a dead pid
 * names no process, as in Erlang) with this node's name and creation, or
 * a remote pid vm got from another node. Errors: FX_EINVAL (NULL b or vm,
 * FX_PID_NONE), FX_ENOTDIST (vm is not a running node, or the library was
 * built without distribution), FX_ENOENT (pid is neither vm's nor of a
 * node vm knows: another VM's, or a remote pid from before a
 * fx_dist_stop), and the builder's errors (FX_ENOMEM, FX_EMSGSIZE for a
 * full caller buffer). Any thread. */
FX_API int fx_term_put_pid(fx_term_builder *b, fx_vm *vm, fx_pid pid);
/* Reads the pid at the cursor (PID_EXT or NEW_PID_EXT) into *pid and
 * moves past it: a pid of this node becomes the local pid (a dead pid when
 * it is of another incarnation of this node or names no process that can
 * exist), a pid of another node a remote pid that fx_send and the other
 * actor functions accept (the node is connected to on first use).
 * Errors, not moving: FX_EINVAL (NULL), FX_EBADTERM (not a pid, or past
 * the end), FX_ENOTDIST (not a running node, or built without
 * distribution), FX_ENOMEM. Any thread. */
FX_API int fx_term_get_pid(fx_term_reader *r, fx_vm *vm, fx_pid *pid);

/* ---- printing ---------------------------------------------------------- */

/* Writes the term at the cursor in Erlang syntax (UTF-8) as io:format("~w")
 * would for atoms, integers, binaries, lists, tuples and maps (a list
 * however its cells are encoded; a map of up to 32 pairs in Erlang's term
 * order of its keys, a larger one in its encoded order; pids,
 * ports, refs and funs print in a form of their own, e.g. #Pid<'a@h'.1.0>,
 * floats as the shortest digits that read back the same) into out (cap bytes,
 * always NUL-terminated when cap > 0, truncated when short). Returns the
 * length of the whole text (as snprintf: >= cap means truncated), or
 * FX_EBADTERM / FX_EINVAL. Does not move the cursor. */
FX_API int fx_term_print(const fx_term_reader *r, char *out, size_t cap);
/* The same for ETF bytes (version byte first): checks them as
 * fx_term_reader_init does. */
FX_API int fx_term_sprint(const void *data, size_t size, char *out, size_t cap);

/* ---- plain messages ---------------------------------------------------- */

/* The agreed mapping of a plain fauxtp message (user type T, payload P)
 * to a term: the 2-tuple {T, <<P>>}, T a non-negative integer below
 * FX_MSG_SYSTEM_BASE. Appends that tuple to b: FX_EINVAL for a reserved
 * type or NULL data with size > 0. */
FX_API int fx_term_from_plain(fx_term_builder *b, uint32_t type, const void *data,
                              size_t size);
/* Reads {T, <<P>>} at the cursor: *type, and *data and *size borrowed from the
 * reader's bytes. FX_EBADTERM (not moving) for any other shape or a type
 * outside the user range. */
FX_API int fx_term_to_plain(fx_term_reader *r, uint32_t *type, const void **data,
                            size_t *size);

#ifdef __cplusplus
}
#endif
#endif
