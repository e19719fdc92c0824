/* The request-head parser: see parse.h. One pass over the bytes, each
 * looked at once through a 256-entry class table: no memchr, no strlen,
 * no copy. A malformed byte answers HTTP_BAD as soon as it is seen (so
 * garbage answers 400 at once, not after max_head); header names are
 * matched by length first, then by one case-folded compare. */
#include "parse.h"

#include <stdint.h>
#include <string.h>

/* Byte classes (bits): T = RFC 9110 tchar (a token's characters),
 * V = a header value's characters (VCHAR, obs-text >= 0x80, SP, HTAB),
 * R = a request target's characters (VCHAR and obs-text: no SP). */
enum { T = 1, V = 2, R = 4 };

/* The class of each byte, generated (0x00-0xff, 16 a row):
 * 7 = T|V|R (tchar), 6 = V|R (other VCHAR, obs-text), 2 = V (SP, HTAB),
 * 0 = none (controls, DEL). */
static const uint8_t cls[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, /* 00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
    2, 7, 6, 7, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6, /* 20 */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6, /* 30 */
    6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, /* 40 */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 7, /* 50 */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, /* 60 */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0, /* 70 */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, /* 80 */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, /* 90 */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, /* a0 */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, /* b0 */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, /* c0 */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, /* d0 */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, /* e0 */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, /* f0 */
};

/* Skips 8 bytes at a time while none of them is a control byte, DEL,
 * or (unless space_ok) a space: the bulk of a target or a header value.
 * SWAR on a plain 64-bit load: "some byte < k" is (x - k*0x01..) & ~x &
 * 0x80.. (k <= 0x80), "some byte == 0x7f" the same with k = 1 on
 * x ^ 0x7f..; the lowest flagged byte is exact (a borrow only flags bytes
 * above a true one), so on a little-endian machine the count of trailing
 * zero bits finds the stop byte itself. Elsewhere, and for the last 7
 * bytes, the caller's byte loop goes on from the word that stopped. */
static size_t skip_words(const unsigned char *p, size_t i, size_t n, bool space_ok)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const uint64_t low = ones * (space_ok ? 0x20u : 0x21u), del = ones * 0x7fu;
    while (n - i >= 8) {
        uint64_t x;
        memcpy(&x, p + i, sizeof x);
        uint64_t y = x ^ del;
        uint64_t stop = ((x - low) & ~x & highs) | ((y - ones) & ~y & highs);
        if (stop) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            i += (size_t) __builtin_ctzll(stop) / 8;
#endif
            break;
        }
        i += 8;
    }
    return i;
}

/* a[0..n) equals a lower-case literal, ignoring case. OR-ing 0x20 folds
 * upper-case letters, and maps no other byte a header line may hold (no
 * CR, no control byte) onto a lower-case letter or '-', the literals'
 * only characters: one fold per byte is exact. The caller has checked
 * the lengths. */
static bool name_is(const char *a, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((a[i] | 0x20) != lit[i])
            return false;
    return true;
}

/* Comma-separated Connection tokens: close / keep-alive. */
static void connection(const char *v, size_t n, bool *close, bool *keep)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        size_t len = i - s;
        if (len == 5 && name_is(v + s, "close", 5))
            *close = true;
        else if (len == 10 && name_is(v + s, "keep-alive", 10))
            *keep = true;
    }
}

static int content_length(const char *v, size_t n, size_t *out, bool *seen)
{
    if (n == 0)
        return HTTP_BAD;
    size_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (SIZE_MAX - 9) / 10)
            return HTTP_BAD;
        x = x * 10 + (size_t) (v[i] - '0');
    }
    if (*seen && x != *out)
        return HTTP_BAD; /* two different lengths: request smuggling */
    *seen = true;
    *out = x;
    return 0;
}

int http_parse(const char *buf, size_t len, size_t max_head, http_req *r)
{
    /* Bytes past max_head are never looked at: running out of bytes is
     * HTTP_TOO_LARGE when the limit cut the scan, else HTTP_INCOMPLETE. */
    const size_t n = len < max_head ? len : max_head;
    const int more = len >= max_head ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;
    const unsigned char *p = (const unsigned char *) buf;
    size_t i = 0;

    /* The request line: method SP target SP HTTP/1.d CRLF. */
    while (i < n && (cls[p[i]] & T))
        i++;
    if (i == n)
        return more;
    if (i == 0 || p[i] != ' ')
        return HTTP_BAD;
    size_t method_len = i++, t = i;
    i = skip_words(p, i, n, false);
    while (i < n && (cls[p[i]] & R))
        i++;
    if (i == n)
        return more;
    if (i == t || p[i] != ' ')
        return HTTP_BAD;
    size_t target_len = i++ - t;
    /* "HTTP/1.d\r\n": one compare when all ten bytes are there; else
     * whatever part of it is there must match. */
    static const char ver[] = "HTTP/1.";
    if (n - i >= 10 && memcmp(p + i, ver, 7) == 0 && p[i + 7] >= '0' && p[i + 7] <= '9' &&
        p[i + 8] == '\r' && p[i + 9] == '\n') {
        i += 10;
    } else {
        for (size_t k = 0; k < 10; k++, i++) {
            if (i == n)
                return more;
            unsigned char c = p[i];
            bool ok = k < 7    ? c == (unsigned char) ver[k]
                      : k == 7 ? c >= '0' && c <= '9'
                      : k == 8 ? c == '\r'
                               : c == '\n';
            if (!ok)
                return HTTP_BAD;
        }
        return HTTP_BAD; /* unreachable: a full match took the branch above */
    }
    int minor = p[i - 3] - '0';

    /* Header lines up to the empty one. */
    bool close = false, keep = false, cl_seen = false, te = false;
    size_t clen = 0;
    for (;;) {
        if (i == n)
            return more;
        if (p[i] == '\r') { /* the empty line */
            if (++i == n)
                return more;
            if (p[i] != '\n')
                return HTTP_BAD;
            i++;
            break;
        }
        size_t ns = i;
        while (i < n && (cls[p[i]] & T))
            i++;
        if (i == n)
            return more;
        if (i == ns || p[i] != ':') /* obs-fold starts with a space */
            return HTTP_BAD;
        size_t name_len = i++ - ns;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t vs = i;
        i = skip_words(p, i, n, true);
        while (i < n && (cls[p[i]] & V)) { /* an HTAB, or the last bytes */
            i++;
            if (p[i - 1] == '\t')
                i = skip_words(p, i, n, true);
        }
        if (i == n)
            return more;
        size_t ve = i; /* trailing blanks are not part of the value */
        while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
            ve--;
        if (p[i] != '\r') /* a control byte, DEL, or a bare LF */
            return HTTP_BAD;
        if (++i == n)
            return more;
        if (p[i] != '\n')
            return HTTP_BAD;
        i++;
        /* Only three names matter; their lengths differ, so the length
         * picks the one candidate before any byte is compared. */
        const char *name = buf + ns, *v = buf + vs;
        switch (name_len) {
        case 14:
            if (name_is(name, "content-length", 14) &&
                content_length(v, ve - vs, &clen, &cl_seen))
                return HTTP_BAD;
            break;
        case 17:
            if (name_is(name, "transfer-encoding", 17))
                te = true;
            break;
        case 10:
            if (name_is(name, "connection", 10))
                connection(v, ve - vs, &close, &keep);
            break;
        default:
            break;
        }
    }
    if (te)
        return cl_seen ? HTTP_BAD : HTTP_UNSUPPORTED;
    r->method = buf;
    r->method_len = method_len;
    r->target = buf + method_len + 1;
    r->target_len = target_len;
    r->minor = minor > 1 ? 1 : minor; /* HTTP/1.2+: answer as 1.1 (RFC 9110 2.5) */
    r->keep_alive = !close && (r->minor >= 1 || keep);
    r->content_length = clen;
    r->head_len = i;
    return (int) i;
}
