/* A small HTTP/1.1 request-head parser for the example server
 * (docs/examples/http_server.c, docs/http.md): the request line and the
 * headers, strict (RFC 9112 without obsolete forms), no allocation, no
 * state between calls: the caller keeps the bytes and calls again with
 * more. Tested in tests/http_parse_test.c. */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* What http_parse found: a complete, valid head. Pointers point into
 * the caller's buffer. */
typedef struct http_req {
    const char *method, *target;
    size_t method_len, target_len;
    int minor;             /* HTTP/1.minor (0 or 1) */
    bool keep_alive;       /* after this request, per version + Connection */
    size_t content_length; /* 0 without a Content-Length header */
    size_t head_len;       /* request line + headers + the empty line */
} http_req;

/* http_parse's answers (> 0 is the head length: a complete request). */
enum {
    HTTP_INCOMPLETE = 0,  /* valid so far: call again with more bytes */
    HTTP_BAD = -1,        /* malformed: answer 400 and close */
    HTTP_TOO_LARGE = -2,  /* the head does not fit in max_head: 413 */
    HTTP_UNSUPPORTED = -3 /* Transfer-Encoding (chunked bodies): 501 */
};

/* Parses the head at buf[0..len). Returns out->head_len (> 0) with *out
 * filled, or one of the codes above (*out is then not written). A head longer than
 * max_head bytes answers HTTP_TOO_LARGE as soon as max_head bytes without its end are
 * there (so the caller never buffers more than max_head bytes of head). */
int http_parse(const char *buf, size_t len, size_t max_head, http_req *out);

#endif
