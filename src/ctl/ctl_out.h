/* A bounded, growable text buffer for control-socket responses and the
 * Prometheus dump (docs/observability.md, "Control socket").
 *
 * A response is built line by line. Writes past `limit` bytes are
 * dropped and mark the buffer full; fxi_ctl_out_end then cuts the text
 * back to the last whole line (fxi_ctl_out_mark), appends an error line
 * saying it was truncated and the empty line that ends every response.
 * So a client can make the server hold at most `limit` + a few hundred
 * bytes per connection. Owned by one thread (the control thread, or the
 * caller of fx_vm_metrics_text). */
#ifndef FXI_CTL_OUT_H
#define FXI_CTL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fauxtp/types.h>

/* Room kept past the limit for the truncation line and the terminator. */
#define FXI_CTL_OUT_SLACK 256u

typedef struct fxi_ctl_out {
    char *buf;
    size_t len;   /* bytes of text */
    size_t cap;   /* bytes allocated */
    size_t limit; /* the most text a response may hold (before the slack) */
    size_t mark;  /* end of the last whole line */
    size_t off;   /* bytes already written to the socket (server only) */
    bool full;    /* a write was dropped: over the limit or out of memory */
    bool nomem;   /* of which: out of memory */
} fxi_ctl_out;

void fxi_ctl_out_init(fxi_ctl_out *o, size_t limit);
void fxi_ctl_out_fini(fxi_ctl_out *o);
/* Empties the text (keeps the allocation unless it grew past 64 KiB). */
void fxi_ctl_out_reset(fxi_ctl_out *o);

void fxi_ctl_out_mem(fxi_ctl_out *o, const char *s, size_t n);
void fxi_ctl_out_str(fxi_ctl_out *o, const char *s);
void fxi_ctl_out_printf(fxi_ctl_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fxi_ctl_out_u64(fxi_ctl_out *o, uint64_t v);
/* s as a JSON string, quotes included: control characters escaped,
 * invalid UTF-8 replaced by U+FFFD, so the output is always valid JSON.
 * NULL is written as null. At most max bytes of s are read. */
void fxi_ctl_out_json_str(fxi_ctl_out *o, const char *s, size_t max);
/* A pid as a JSON string ("<1.42.3>"). */
void fxi_ctl_out_json_pid(fxi_ctl_out *o, fx_pid pid);
/* Ends a line: appends '\n' and marks it whole. */
void fxi_ctl_out_eol(fxi_ctl_out *o);
/* An error line: {"error":"FX_ENOENT","text":"..."} plus detail, if any. */
void fxi_ctl_out_error(fxi_ctl_out *o, int err, const char *detail);
/* Ends a response: cuts back a partial line, adds the truncation line if
 * anything was dropped, then the empty line. */
void fxi_ctl_out_end(fxi_ctl_out *o);

#endif
