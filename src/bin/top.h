/* fauxtp-top: a client of a VM's control socket (docs/observability.md,
 * "fauxtp-top"). Plain C and POSIX: it does not link libfauxtp, so it
 * can look into a VM of any build. */
#ifndef FAUXTP_TOP_H
#define FAUXTP_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes. */
enum { TOP_OK = 0, TOP_EREPLY = 1, TOP_EUSAGE = 2, TOP_ECONN = 3 };

/* ---- top_conn.c: one connection, request/response ---------------------- */

typedef struct top_conn {
    int fd;
    char *buf; /* bytes read and not yet returned */
    size_t len, cap;
} top_conn;

/* Connects to the socket at path. 0, or -1 with a message in err. */
int top_connect(top_conn *c, const char *path, char *err, size_t errsz);
void top_close(top_conn *c);
/* Sends one request line and reads its response (up to the empty line
 * that ends it). *resp is malloc()ed text without that empty line; the
 * caller frees it. 0, or -1 with a message in err (I/O error, timeout,
 * connection closed). */
int top_request(top_conn *c, const char *req, char **resp, char *err, size_t errsz);

/* ---- top_json.c: a small JSON reader for one-line objects --------------- */

/* A flattened object: nested keys joined with '.', array items by index
 * ("schedulers.0.busy_ns"). String values unescaped; other values as
 * written (numbers, true, false, null). */
typedef struct top_obj {
    int n;
    char *key[256];
    char *val[256];
    bool str[256]; /* value was a JSON string */
} top_obj;

/* 0, or -1 if text is not a JSON object (or has over 256 leaves). Free
 * with top_obj_free also after an error. */
int top_obj_parse(top_obj *o, const char *text, size_t len);
void top_obj_free(top_obj *o);
/* The value of key, or NULL. */
const char *top_get(const top_obj *o, const char *key);
/* The value of key as an unsigned number, 0 when missing. */
uint64_t top_u64(const top_obj *o, const char *key);

/* ---- top_view.c: rendering ------------------------------------------------ */

typedef struct top_sample {
    bool have;
    top_obj stats; /* the `stats` object */
    int nproc;
    top_obj *procs; /* `ps` lines */
} top_sample;

typedef struct top_view {
    const char *socket;
    const char *sort;
    double interval;
    int width, height; /* terminal size; 0 = not a terminal */
    bool ansi;         /* clear the screen between frames */
} top_view;

void top_sample_free(top_sample *s);
/* Parses a `stats` response and a `ps` response into s. 0, or -1. */
int top_sample_parse(top_sample *s, const char *stats, const char *ps);
/* Draws one frame: totals (rates against prev when it has a sample),
 * scheduler utilization, and the process table. */
void top_render(const top_view *v, const top_sample *cur, const top_sample *prev);
/* Prints an `info` object as "key: value" lines. */
void top_render_info(const top_obj *o);

#endif
