/* The example HTTP server's request parser (docs/examples/http/parse.c):
 * valid heads, every malformed form it rejects, the size limit, and the
 * same heads split at every byte (a parser that needs the whole head in
 * one read would fail the split cases).
 *
 * parse.c scans targets and header values 16 bytes at a time with SSE2
 * where the compiler targets it (every x86-64), else 8 bytes at a time
 * in a 64-bit word. Both paths are tested on every machine: parse.c is
 * compiled a second time into this file with HTTP_PARSE_PORTABLE and its
 * entry renamed http_parse_portable, and every test runs twice, in suite
 * http_parse against http_parse (the build's path) and in suite
 * http_parse_portable against the portable one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int http_parse_portable(const char *buf, size_t len, size_t max_head, http_req *out);
#define HTTP_PARSE_PORTABLE
#define http_parse http_parse_portable
#include "parse.c"
#undef http_parse
#undef HTTP_PARSE_PORTABLE

typedef int parse_fn(const char *buf, size_t len, size_t max_head, http_req *out);

/* Runs fn on a heap copy of the bytes it may look at, buf[0..min(len,
 * max_head)), in a block of exactly that size: under ASan (tools/test's
 * sanitizer build) a read past the buffer or past max_head fails the
 * test. The answer's pointers are moved back into buf. */
static int exact(parse_fn *fn, const char *buf, size_t len, size_t max_head, http_req *r)
{
    size_t n = len < max_head ? len : max_head;
    char *copy = malloc(n ? n : 1);
    cr_assert(copy);
    memcpy(copy, buf, n);
    int rc = fn(copy, len, max_head, r);
    if (rc > 0) {
        r->method = buf + (r->method - copy);
        r->target = buf + (r->target - copy);
    }
    free(copy);
    return rc;
}

static int exact_build(const char *buf, size_t len, size_t max_head, http_req *r)
{
    return exact(http_parse, buf, len, max_head, r);
}

static int exact_portable(const char *buf, size_t len, size_t max_head, http_req *r)
{
    return exact(http_parse_portable, buf, len, max_head, r);
}

/* PARSER_TEST(name) { body }: the body runs with P = http_parse in suite
 * http_parse, and with P = http_parse_portable in suite
 * http_parse_portable, both through exact. */
#define PARSER_TEST(name)                                                                \
    static void name(parse_fn *P);                                                       \
    Test(http_parse, name)                                                               \
    {                                                                                    \
        name(exact_build);                                                               \
    }                                                                                    \
    Test(http_parse_portable, name)                                                      \
    {                                                                                    \
        name(exact_portable);                                                            \
    }                                                                                    \
    static void name(parse_fn *P)

static int parse(parse_fn *P, const char *s, http_req *r)
{
    return P(s, strlen(s), 8192, r);
}

PARSER_TEST(simple_get)
{
    http_req r;
    const char *s = "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(parse(P, s, &r), (int) strlen(s));
    cr_assert_eq(r.method_len, 3);
    cr_assert(!memcmp(r.method, "GET", 3));
    cr_assert_eq(r.target_len, 10);
    cr_assert(!memcmp(r.target, "/plaintext", 10));
    cr_assert_eq(r.minor, 1);
    cr_assert(r.keep_alive);
    cr_assert_eq(r.content_length, 0);
}

PARSER_TEST(pipelined_stops_at_first_head)
{
    http_req r;
    const char *s = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
    cr_assert_eq(parse(P, s, &r), 19);
    cr_assert_eq(P(s + 19, strlen(s) - 19, 8192, &r), 19);
    cr_assert(!memcmp(r.target, "/b", 2));
}

PARSER_TEST(headers_and_connection)
{
    http_req r;
    cr_assert_gt(parse(P,
                       "POST /e HTTP/1.1\r\ncontent-LENGTH:  42 \r\n"
                       "Connection: foo, Close\r\n\r\n",
                       &r),
                 0);
    cr_assert_eq(r.content_length, 42);
    cr_assert(!r.keep_alive);
    cr_assert_gt(parse(P, "GET / HTTP/1.0\r\n\r\n", &r), 0);
    cr_assert(!r.keep_alive);
    cr_assert_eq(r.minor, 0);
    cr_assert_gt(parse(P, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r), 0);
    cr_assert(r.keep_alive);
    cr_assert_gt(
        parse(P, "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &r),
        0);
    cr_assert_eq(r.content_length, 5);
}

PARSER_TEST(incomplete)
{
    http_req r;
    cr_assert_eq(parse(P, "", &r), HTTP_INCOMPLETE);
    cr_assert_eq(parse(P, "GET", &r), HTTP_INCOMPLETE);
    cr_assert_eq(parse(P, "GET / HTTP/1.1\r\n", &r), HTTP_INCOMPLETE);
    cr_assert_eq(parse(P, "GET / HTTP/1.1\r\nHost: x\r\n\r", &r), HTTP_INCOMPLETE);
}

PARSER_TEST(malformed)
{
    const char *bad[] = {
        "GARBAGE\r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.x\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\n\n",                   /* bare LF */
        "GET / HTTP/1.1\r\nHost: x\n\r\n",      /* bare LF in a header */
        "GET / HTTP/1.1\r\n folded: x\r\n\r\n", /* obs-fold */
        "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
        "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
        "GET / HTTP/1.1\r\nBad name: x\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: \r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        http_req r;
        cr_expect_eq(parse(P, bad[i], &r), HTTP_BAD, "case %zu: %s", i, bad[i]);
    }
}

PARSER_TEST(malformed_request_line_answers_before_the_head_ends)
{
    http_req r;
    cr_assert_eq(parse(P, "GARBAGE\r\nmore", &r), HTTP_BAD);
}

PARSER_TEST(chunked_unsupported)
{
    http_req r;
    cr_assert_eq(parse(P, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
                 HTTP_UNSUPPORTED);
}

PARSER_TEST(too_large)
{
    static char big[9000];
    http_req r;
    size_t n = (size_t) sprintf(big, "GET / HTTP/1.1\r\nX: ");
    memset(big + n, 'a', sizeof big - n);
    cr_assert_eq(P(big, 8191, 8192, &r), HTTP_INCOMPLETE);
    cr_assert_eq(P(big, 8192, 8192, &r), HTTP_TOO_LARGE);
    cr_assert_eq(P(big, sizeof big, 8192, &r), HTTP_TOO_LARGE);
    /* a request line longer than the limit */
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', sizeof big - 5);
    cr_assert_eq(P(big, sizeof big, 8192, &r), HTTP_TOO_LARGE);
    /* exactly at the limit is fine */
    const char *s = "GET / HTTP/1.1\r\n\r\n";
    cr_assert_eq(P(s, strlen(s), strlen(s), &r), (int) strlen(s));
}

/* Every prefix of a valid head is incomplete, and every prefix of a
 * malformed one is incomplete or already bad: never a wrong success. */
PARSER_TEST(split_at_every_byte)
{
    const char *good = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n";
    const char *bad = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n";
    http_req r;
    for (size_t i = 0; i < strlen(good); i++)
        cr_assert_eq(P(good, i, 8192, &r), HTTP_INCOMPLETE, "prefix %zu", i);
    cr_assert_eq(parse(P, good, &r), (int) strlen(good));
    cr_assert_eq(r.content_length, 3);
    for (size_t i = 0; i < strlen(bad); i++) {
        int rc = P(bad, i, 8192, &r);
        cr_assert(rc == HTTP_INCOMPLETE || rc == HTTP_BAD, "prefix %zu: %d", i, rc);
    }
    cr_assert_eq(parse(P, bad, &r), HTTP_BAD);
    const char *badline = "GET /x HTTP/1.1x\r\n\r\n";
    for (size_t i = 0; i < strlen(badline); i++) {
        int rc = P(badline, i, 8192, &r);
        cr_assert(rc == HTTP_INCOMPLETE || rc == HTTP_BAD, "prefix %zu: %d", i, rc);
    }
}

/* Every byte value at every position of a long target and of long header
 * values (the parser scans those 8 bytes at a time, so a stop byte must
 * be found at any offset within a word): a byte allowed there parses to
 * the same head, any other is 400. Values allow SP, HTAB, VCHAR and
 * obs-text; a target allows VCHAR and obs-text. */
PARSER_TEST(every_byte_at_every_offset)
{
    static const char head[] =
        "GET /a/long/target/path/with/words?x=1&y=2 HTTP/1.1\r\n"
        "Host: 127.0.0.1:44583\r\n"
        "User-Agent: some agent string/1.0 (x; y) and more text\r\n"
        "Accept: */*\r\n\r\n";
    const size_t len = sizeof head - 1;
    const char *tgt = strchr(head, '/'), *tgt_end = strchr(tgt, ' ');
    const char *ua = strstr(head, "some"), *ua_end = strstr(ua, "\r\n");
    char buf[sizeof head];
    http_req r;
    for (const char *at = head; at < ua_end; at++) {
        bool in_target = at >= tgt && at < tgt_end, in_value = at >= ua;
        if (!in_target && !in_value)
            continue;
        for (int c = 0; c < 256; c++) {
            memcpy(buf, head, sizeof head);
            buf[at - head] = (char) c;
            bool vis = (c > 0x20 && c < 0x7f) || c >= 0x80;
            bool ok = in_target ? vis : vis || c == ' ' || c == '\t';
            int rc = P(buf, len, 8192, &r);
            if (ok) {
                cr_assert_eq(rc, (int) len, "offset %td byte 0x%02x: %d", at - head, c,
                             rc);
                cr_assert_eq(r.target_len, (size_t) (tgt_end - tgt));
            } else {
                cr_assert_eq(rc, HTTP_BAD, "offset %td byte 0x%02x: %d", at - head, c,
                             rc);
            }
        }
    }
}

/* Blanks around a value are not part of it; an HTAB inside one is. */
PARSER_TEST(value_blanks_and_tabs)
{
    http_req r;
    cr_assert_gt(parse(P,
                       "POST / HTTP/1.1\r\nContent-Length:\t 12 \t \r\n"
                       "X-Long: a\tb\tc d\te f g h i j k l m n o p\t\r\n"
                       "connection:\tkeep-alive,\tCLOSE\t\r\n\r\n",
                       &r),
                 0);
    cr_assert_eq(r.content_length, 12);
    cr_assert(!r.keep_alive);
    cr_assert_eq(parse(P, "GET / HTTP/1.1\r\nX: a\tb\x01\r\n\r\n", &r), HTTP_BAD);
    cr_assert_eq(parse(P, "GET / HTTP/1.1\r\nX: a\r\r\n\r\n", &r), HTTP_BAD);
    /* a name that only matches after folding case, of the same length */
    cr_assert_gt(
        parse(P, "GET / HTTP/1.1\r\nCONTENT-LENGTH: 7\r\nContent_Length: x\r\n\r\n", &r),
        0);
    cr_assert_eq(r.content_length, 7);
}

/* wrk's head with a target of "/" and tlen more bytes and a Host value of
 * vlen bytes; answers its length. */
static size_t wrk_head(char *buf, size_t tlen, size_t vlen)
{
    size_t n = (size_t) sprintf(buf, "GET /");
    memset(buf + n, 't', tlen);
    n += tlen;
    n += (size_t) sprintf(buf + n, " HTTP/1.1\r\nHost: ");
    memset(buf + n, 'v', vlen);
    n += vlen;
    n += (size_t) sprintf(buf + n, "\r\n\r\n");
    return n;
}

/* Bytes at the edges of the classes a target and a value allow. */
static const unsigned char edge[] = {0x00, 0x01, '\t', '\n', '\r', 0x1f, ' ',
                                     '!',  '~',  0x7f, 0x80, 0xfe, 0xff};

/* Replaces head[at] with each edge byte: the head parses to the same
 * length when ok(byte) says the byte is allowed there, else answers 400;
 * the buffer cut right after the byte (a stop byte as the buffer's last
 * byte) is incomplete, or 400 for a byte that is bad whatever follows
 * (stop, the byte that would end the run well, is incomplete). */
static void each_edge_byte(parse_fn *P, const char *head, size_t len, size_t at,
                           bool (*ok)(unsigned char), unsigned char stop)
{
    char buf[128];
    http_req r;
    for (size_t e = 0; e < sizeof edge; e++) {
        unsigned char c = edge[e];
        memcpy(buf, head, len);
        buf[at] = (char) c;
        int rc = P(buf, len, 8192, &r);
        cr_assert_eq(rc, ok(c) ? (int) len : HTTP_BAD, "len %zu at %zu byte 0x%02x: %d",
                     len, at, c, rc);
        rc = P(buf, at + 1, 8192, &r);
        cr_assert_eq(rc, ok(c) || c == stop ? HTTP_INCOMPLETE : HTTP_BAD,
                     "cut after %zu byte 0x%02x: %d", at, c, rc);
    }
}

static bool target_byte(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

static bool value_byte(unsigned char c)
{
    return (c >= 0x20 && c != 0x7f) || c == '\t';
}

/* Targets and Host values of every length from 0 to 40 bytes, so that
 * their end falls at every offset of a 16-byte block and of an 8-byte
 * word, and within the buffer's last 16 bytes (where the SSE2 scan loads
 * the last 16 again, overlapping bytes it has passed) or in a buffer
 * shorter than 16 bytes (its prefixes): the head parses, every prefix is
 * incomplete, and every byte of the target or value replaced by an edge
 * byte (NUL, controls, SP, DEL, high-bit bytes) parses or answers 400 as
 * its class says, also as the buffer's last byte. */
PARSER_TEST(scan_block_boundaries)
{
    char head[128];
    http_req r;
    for (size_t k = 0; k <= 40; k++) {
        for (int which = 0; which < 2; which++) {
            size_t tlen = which == 0 ? k : 0, vlen = which == 0 ? 15 : k;
            size_t len = wrk_head(head, tlen, vlen);
            cr_assert_eq(P(head, len, 8192, &r), (int) len, "tlen %zu vlen %zu", tlen,
                         vlen);
            cr_assert_eq(r.target_len, tlen + 1);
            for (size_t i = 0; i < len; i++)
                cr_assert_eq(P(head, i, 8192, &r), HTTP_INCOMPLETE,
                             "tlen %zu vlen %zu prefix %zu", tlen, vlen, i);
            if (which == 0)
                for (size_t at = 5; at < 5 + tlen; at++)
                    each_edge_byte(P, head, len, at, target_byte, ' ');
            else
                for (size_t at = len - 4 - vlen; at < len - 4; at++)
                    each_edge_byte(P, head, len, at, value_byte, '\r');
        }
    }
}

/* A bad byte just past max_head is never looked at (413, not 400), just
 * inside it is (400), in a request line and in a header value, and in
 * buffers shorter than a scan block. */
PARSER_TEST(limit_cuts_the_scan)
{
    http_req r;
    const char *line = "GET /abc\x01", *value = "GET / HTTP/1.1\r\nX: abcdefgh\x7f";
    cr_assert_eq(P(line, 9, 9, &r), HTTP_BAD);
    cr_assert_eq(P(line, 9, 8, &r), HTTP_TOO_LARGE);
    cr_assert_eq(P(line, 9, 5, &r), HTTP_TOO_LARGE);
    cr_assert_eq(P(value, 28, 28, &r), HTTP_BAD);
    cr_assert_eq(P(value, 28, 27, &r), HTTP_TOO_LARGE);
    cr_assert_eq(P(value, 28, 20, &r), HTTP_TOO_LARGE);
    cr_assert_eq(P(value, 27, 8192, &r), HTTP_INCOMPLETE);
}

static bool tchar_byte(unsigned char c)
{
    return c && strchr("!#$%&'*+-.^_`|~", c)
               ? true
               : (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                     (c >= 'a' && c <= 'z');
}

/* Header names of every length from 1 to 40 bytes (the SSE2 build skips
 * letters, digits and '-' 16 at a time, then checks the rest through the
 * tchar table), each byte replaced by a byte at the edge of those
 * classes: a tchar keeps the head valid, a ':' ends the name early (the
 * rest is value) or, first, leaves it empty (400), anything else is 400;
 * also with the buffer cut right after that byte (incomplete where the
 * head may still be valid). */
PARSER_TEST(name_block_boundaries)
{
    static const unsigned char bytes[] = {
        '!', '~', '|',  '-',  '.',  '0',  '9',  'A',  'Z',  'a',
        'z', '@', '[',  '`',  '{',  '/',  ':',  ' ',  '"',  '(',
        ',', 0,   '\t', 0x7f, 0x80, 0xc1, 0xcd, 0xff, 0x0d, 0x2d ^ 0x20};
    char head[128], buf[128];
    http_req r;
    for (size_t k = 1; k <= 40; k++) {
        size_t len = (size_t) sprintf(head, "GET / HTTP/1.1\r\n");
        size_t ns = len;
        for (size_t j = 0; j < k; j++)
            head[len++] = "Xx-9"[j % 4];
        len += (size_t) sprintf(head + len, ": v\r\n\r\n");
        cr_assert_eq(P(head, len, 8192, &r), (int) len, "name length %zu", k);
        for (size_t at = ns; at < ns + k; at++) {
            for (size_t e = 0; e < sizeof bytes; e++) {
                unsigned char c = bytes[e];
                memcpy(buf, head, len);
                buf[at] = (char) c;
                bool ok = tchar_byte(c) || (c == ':' && at > ns);
                int rc = P(buf, len, 8192, &r);
                cr_assert_eq(rc, ok ? (int) len : HTTP_BAD,
                             "length %zu at %zu byte 0x%02x: %d", k, at - ns, c, rc);
                rc = P(buf, at + 1, 8192, &r);
                bool empty_line = c == '\r' && at == ns; /* CR first: the head's end? */
                cr_assert_eq(rc, ok || empty_line ? HTTP_INCOMPLETE : HTTP_BAD,
                             "length %zu cut after %zu byte 0x%02x: %d", k, at - ns, c,
                             rc);
            }
        }
    }
}

/* "Host: " is matched with one compare; the forms it does not cover go
 * through the general name loop and mean the same. */
PARSER_TEST(host_forms)
{
    http_req r;
    cr_assert_gt(parse(P, "GET / HTTP/1.1\r\nHost:x\r\n\r\n", &r), 0);
    cr_assert_gt(parse(P, "GET / HTTP/1.1\r\nHost:  \tx \r\n\r\n", &r), 0);
    cr_assert_gt(parse(P, "GET / HTTP/1.1\r\nHOST: x\r\nHosts: y\r\n\r\n", &r), 0);
    cr_assert_gt(parse(P, "GET / HTTP/1.1\r\nHost: \r\n\r\n", &r), 0);
    cr_assert_eq(parse(P, "GET / HTTP/1.1\r\nHost : x\r\n\r\n", &r), HTTP_BAD);
    cr_assert_eq(parse(P, "GET / HTTP/1.1\r\nHost: x\x01\r\n\r\n", &r), HTTP_BAD);
    cr_assert_eq(parse(P, "GET / HTTP/1.1\r\nHost: ", &r), HTTP_INCOMPLETE);
    cr_assert_eq(parse(P, "GET / HTTP/1.1\r\nHost:", &r), HTTP_INCOMPLETE);
    cr_assert_eq(parse(P, "GET / HTTP/1.1\r\nHost", &r), HTTP_INCOMPLETE);
}

/* The shortest request line (14 bytes), so that a header name or value
 * starts in a buffer shorter than one 16-byte block: every prefix is
 * incomplete, and max_head cutting the head anywhere is 413. */
PARSER_TEST(shortest_heads)
{
    const char *s = "A / HTTP/1.1\r\nXy: z\r\nHost:w\r\n\r\n";
    size_t len = strlen(s);
    http_req r;
    cr_assert_eq(P(s, len, 8192, &r), (int) len);
    cr_assert_eq(r.method_len, 1);
    cr_assert_eq(r.target_len, 1);
    for (size_t i = 0; i < len; i++) {
        cr_assert_eq(P(s, i, 8192, &r), HTTP_INCOMPLETE, "prefix %zu", i);
        cr_assert_eq(P(s, len, i, &r), HTTP_TOO_LARGE, "max_head %zu", i);
    }
}
