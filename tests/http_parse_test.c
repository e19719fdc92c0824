/* The example HTTP server's request parser (docs/examples/http/parse.c):
 * valid heads, every malformed form it rejects, the size limit, and the
 * same heads split at every byte (a parser that needs the whole head in
 * one read would fail the split cases). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

static int parse(const char *s, http_req *r)
{
    return http_parse(s, strlen(s), 8192, r);
}

Test(http_parse, simple_get)
{
    http_req r;
    const char *s = "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(parse(s, &r), (int) strlen(s));
    cr_assert_eq(r.method_len, 3);
    cr_assert(!memcmp(r.method, "GET", 3));
    cr_assert_eq(r.target_len, 10);
    cr_assert(!memcmp(r.target, "/plaintext", 10));
    cr_assert_eq(r.minor, 1);
    cr_assert(r.keep_alive);
    cr_assert_eq(r.content_length, 0);
}

Test(http_parse, pipelined_stops_at_first_head)
{
    http_req r;
    const char *s = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
    cr_assert_eq(parse(s, &r), 19);
    cr_assert_eq(http_parse(s + 19, strlen(s) - 19, 8192, &r), 19);
    cr_assert(!memcmp(r.target, "/b", 2));
}

Test(http_parse, headers_and_connection)
{
    http_req r;
    cr_assert_gt(parse("POST /e HTTP/1.1\r\ncontent-LENGTH:  42 \r\n"
                       "Connection: foo, Close\r\n\r\n",
                       &r),
                 0);
    cr_assert_eq(r.content_length, 42);
    cr_assert(!r.keep_alive);
    cr_assert_gt(parse("GET / HTTP/1.0\r\n\r\n", &r), 0);
    cr_assert(!r.keep_alive);
    cr_assert_eq(r.minor, 0);
    cr_assert_gt(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r), 0);
    cr_assert(r.keep_alive);
    cr_assert_gt(
        parse("GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &r), 0);
    cr_assert_eq(r.content_length, 5);
}

Test(http_parse, incomplete)
{
    http_req r;
    cr_assert_eq(parse("", &r), HTTP_INCOMPLETE);
    cr_assert_eq(parse("GET", &r), HTTP_INCOMPLETE);
    cr_assert_eq(parse("GET / HTTP/1.1\r\n", &r), HTTP_INCOMPLETE);
    cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: x\r\n\r", &r), HTTP_INCOMPLETE);
}

Test(http_parse, malformed)
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
        cr_expect_eq(parse(bad[i], &r), HTTP_BAD, "case %zu: %s", i, bad[i]);
    }
}

Test(http_parse, malformed_request_line_answers_before_the_head_ends)
{
    http_req r;
    cr_assert_eq(parse("GARBAGE\r\nmore", &r), HTTP_BAD);
}

Test(http_parse, chunked_unsupported)
{
    http_req r;
    cr_assert_eq(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
                 HTTP_UNSUPPORTED);
}

Test(http_parse, too_large)
{
    static char big[9000];
    http_req r;
    size_t n = (size_t) sprintf(big, "GET / HTTP/1.1\r\nX: ");
    memset(big + n, 'a', sizeof big - n);
    cr_assert_eq(http_parse(big, 8191, 8192, &r), HTTP_INCOMPLETE);
    cr_assert_eq(http_parse(big, 8192, 8192, &r), HTTP_TOO_LARGE);
    cr_assert_eq(http_parse(big, sizeof big, 8192, &r), HTTP_TOO_LARGE);
    /* a request line longer than the limit */
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', sizeof big - 5);
    cr_assert_eq(http_parse(big, sizeof big, 8192, &r), HTTP_TOO_LARGE);
    /* exactly at the limit is fine */
    const char *s = "GET / HTTP/1.1\r\n\r\n";
    cr_assert_eq(http_parse(s, strlen(s), strlen(s), &r), (int) strlen(s));
}

/* Every prefix of a valid head is incomplete, and every prefix of a
 * malformed one is incomplete or already bad: never a wrong success. */
Test(http_parse, split_at_every_byte)
{
    const char *good = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n";
    const char *bad = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n";
    http_req r;
    for (size_t i = 0; i < strlen(good); i++)
        cr_assert_eq(http_parse(good, i, 8192, &r), HTTP_INCOMPLETE, "prefix %zu", i);
    cr_assert_eq(parse(good, &r), (int) strlen(good));
    cr_assert_eq(r.content_length, 3);
    for (size_t i = 0; i < strlen(bad); i++) {
        int rc = http_parse(bad, i, 8192, &r);
        cr_assert(rc == HTTP_INCOMPLETE || rc == HTTP_BAD, "prefix %zu: %d", i, rc);
    }
    cr_assert_eq(parse(bad, &r), HTTP_BAD);
    const char *badline = "GET /x HTTP/1.1x\r\n\r\n";
    for (size_t i = 0; i < strlen(badline); i++) {
        int rc = http_parse(badline, i, 8192, &r);
        cr_assert(rc == HTTP_INCOMPLETE || rc == HTTP_BAD, "prefix %zu: %d", i, rc);
    }
}

/* Every byte value at every position of a long target and of long header
 * values (the parser scans those 8 bytes at a time, so a stop byte must
 * be found at any offset within a word): a byte allowed there parses to
 * the same head, any other is 400. Values allow SP, HTAB, VCHAR and
 * obs-text; a target allows VCHAR and obs-text. */
Test(http_parse, every_byte_at_every_offset)
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
            int rc = http_parse(buf, len, 8192, &r);
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
Test(http_parse, value_blanks_and_tabs)
{
    http_req r;
    cr_assert_gt(parse("POST / HTTP/1.1\r\nContent-Length:\t 12 \t \r\n"
                       "X-Long: a\tb\tc d\te f g h i j k l m n o p\t\r\n"
                       "connection:\tkeep-alive,\tCLOSE\t\r\n\r\n",
                       &r),
                 0);
    cr_assert_eq(r.content_length, 12);
    cr_assert(!r.keep_alive);
    cr_assert_eq(parse("GET / HTTP/1.1\r\nX: a\tb\x01\r\n\r\n", &r), HTTP_BAD);
    cr_assert_eq(parse("GET / HTTP/1.1\r\nX: a\r\r\n\r\n", &r), HTTP_BAD);
    /* a name that only matches after folding case, of the same length */
    cr_assert_gt(
        parse("GET / HTTP/1.1\r\nCONTENT-LENGTH: 7\r\nContent_Length: x\r\n\r\n", &r), 0);
    cr_assert_eq(r.content_length, 7);
}
