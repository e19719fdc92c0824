/* The request-head parser: see parse.h. One pass over the bytes, no
 * memchr, no strlen, no copy: methods and header names through a tchar
 * table, targets and header values by range a block of 8 or 16 bytes at
 * a time (span_text), and what nearly every request holds ("GET ",
 * "HTTP/1.1\r\n", "Host: ") with one compare each. A malformed byte
 * answers HTTP_BAD as soon as it is seen (so garbage answers 400 at once,
 * not after max_head); header names are matched by length first, then by
 * one case-folded compare. docs/http.md, "The parser", has the figures. */
#include "parse.h"

#include <stdint.h>
#include <string.h>

/* The SSE2 block scan below, unless HTTP_PARSE_PORTABLE asks for the
 * portable path only (tests/http_parse_test.c builds both). */
#if defined(__SSE2__) && !defined(HTTP_PARSE_PORTABLE)
#include <emmintrin.h>
#define HTTP_PARSE_SSE2 1
#endif

/* RFC 9110's tchar, the bytes of a method or a header name: 1 for
 * "!#$%&'*+-.^_`|~", digits and letters, 0 otherwise (generated,
 * 0x00-0xff, 16 a row). Targets and values are checked by range instead
 * (span_text). */
static const uint8_t tchar[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 30 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 70 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* a0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* b0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* c0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* d0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* e0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* f0 */
};

/* span_text(p, i, n, lo): the end of a run of text, the first index in
 * p[i..n) whose byte is below lo or DEL (0x7f), or n if there is none.
 * lo = 0x21 ends a target at a space or a control byte; lo = 0x20 ends
 * a header value's run at a control byte, HTAB included (the caller
 * steps over an HTAB). Bytes >= 0x80 (obs-text) never stop it. Targets
 * and values are the bulk of a head, so they are scanned a block at a
 * time; every load goes through memcpy (no alignment or aliasing
 * assumption) and stays within p[0..n). */
#ifdef HTTP_PARSE_SSE2

/* One bit per byte of the 16 at p, set where the byte stops a run:
 * "x < lo" is min(x, lo - 1) == x on unsigned bytes, DEL an equality. */
static inline unsigned stops16(const unsigned char *p, __m128i below, __m128i del)
{
    __m128i x;
    memcpy(&x, p, sizeof x);
    __m128i stop =
        _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, below), x), _mm_cmpeq_epi8(x, del));
    return (unsigned) _mm_movemask_epi8(stop);
}

/* SSE2 (every x86-64): 16 bytes a step while 16 remain; then, if p[0..n)
 * holds 16 bytes at all, its last 16, with the bits of the bytes before
 * i (already passed, or not part of the run) shifted out; byte by byte
 * only in a head shorter than 16 bytes. */
static inline size_t span_text(const unsigned char *p, size_t i, size_t n,
                               unsigned char lo)
{
    const __m128i below = _mm_set1_epi8((char) (lo - 1)), del = _mm_set1_epi8(0x7f);
    for (; n - i >= 16; i += 16) {
        unsigned m = stops16(p + i, below, del);
        if (m)
            return i + (size_t) __builtin_ctz(m);
    }
    if (i == n)
        return n;
    if (n >= 16) { /* n - i < 16: drop the first 16 - (n - i) bits */
        unsigned m = stops16(p + n - 16, below, del) >> (16 - (n - i));
        return m ? i + (size_t) __builtin_ctz(m) : n;
    }
    while (i < n && p[i] >= lo && p[i] != 0x7f)
        i++;
    return i;
}

/* One bit per byte of the 16 at p, set where the byte is not a letter,
 * a digit or '-' (all the bytes of nearly every header name): a letter
 * is (x | 0x20) - 'a' <= 25, a digit x - '0' <= 9, on unsigned bytes
 * (min(y, k) == y is y <= k). */
static inline unsigned others16(const unsigned char *p)
{
    __m128i x;
    memcpy(&x, p, sizeof x);
    __m128i l = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    __m128i name = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(25)), l),
                                _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    name = _mm_or_si128(name, _mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
    return ~(unsigned) _mm_movemask_epi8(name) & 0xffff;
}

/* skip_name(p, i, n): an index in p[i..n] up to which p holds only
 * letters, digits and '-' (all tchars): the caller's tchar loop goes on
 * from there to the name's end. 16 bytes a step, the last block
 * overlapped as in span_text. */
static inline size_t skip_name(const unsigned char *p, size_t i, size_t n)
{
    for (; n - i >= 16; i += 16) {
        unsigned m = others16(p + i);
        if (m)
            return i + (size_t) __builtin_ctz(m);
    }
    if (i < n && n >= 16) {
        unsigned m = others16(p + n - 16) >> (16 - (n - i));
        return m ? i + (size_t) __builtin_ctz(m) : n;
    }
    return i;
}

#else

/* Portable: 8 bytes a step as a 64-bit word, then byte by byte.
 * "Some byte < k" is (x - k*0x01..) & ~x & 0x80.. (k <= 0x80), "some byte
 * == 0x7f" the same with k = 1 on x ^ 0x7f... The lowest flagged byte is
 * exact (a borrow only flags bytes above a true one), so on a
 * little-endian machine the count of trailing zero bits finds the stop
 * byte itself; elsewhere the byte loop goes on from the word that
 * stopped. */
static inline size_t span_text(const unsigned char *p, size_t i, size_t n,
                               unsigned char lo)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const uint64_t low = ones * lo, del = ones * 0x7fu;
    while (n - i >= 8) {
        uint64_t x;
        memcpy(&x, p + i, sizeof x);
        uint64_t y = x ^ del;
        uint64_t stop = ((x - low) & ~x & highs) | ((y - ones) & ~y & highs);
        if (stop) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return i + (size_t) __builtin_ctzll(stop) / 8;
#else
            break;
#endif
        }
        i += 8;
    }
    while (i < n && p[i] >= lo && p[i] != 0x7f)
        i++;
    return i;
}

/* Portable: no skipping; the caller's tchar loop looks at every byte. */
static inline size_t skip_name(const unsigned char *p, size_t i, size_t n)
{
    (void) p;
    (void) n;
    return i;
}

#endif

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

/* What the head's headers said, as bits: kept in one register through
 * the header loop (no variable of it has its address taken). */
enum { CLOSE = 1, KEEP = 2, CL_SEEN = 4, TE = 8 };

/* Comma-separated Connection tokens: CLOSE for close, KEEP for
 * keep-alive. */
static unsigned connection(const char *v, size_t n)
{
    unsigned f = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        size_t len = i - s;
        if (len == 5 && name_is(v + s, "close", 5))
            f |= CLOSE;
        else if (len == 10 && name_is(v + s, "keep-alive", 10))
            f |= KEEP;
    }
    return f;
}

/* A Content-Length value: one or more digits, not past (SIZE_MAX - 9) / 10
 * before the last one, between optional blanks (SP, HTAB: the header
 * line's, not the value's). false: not a length. */
static bool content_length(const char *v, size_t n, size_t *out)
{
    size_t i = 0, x = 0;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    while (n > i && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (i == n)
        return false;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (SIZE_MAX - 9) / 10)
            return false;
        x = x * 10 + (size_t) (v[i] - '0');
    }
    *out = x;
    return true;
}

/* The bytes at p start with the string literal s (the caller has checked
 * that its sizeof s - 1 bytes are there): a fixed-size compare the
 * compiler turns into one or two word compares. */
#define HAS(p, s) (memcmp((p), (s), sizeof(s) - 1) == 0)

int http_parse(const char *buf, size_t len, size_t max_head, http_req *r)
{
    /* Bytes past max_head are never looked at: running out of bytes is
     * HTTP_TOO_LARGE when the limit cut the scan, else HTTP_INCOMPLETE. */
    const size_t n = len < max_head ? len : max_head;
    const int more = len >= max_head ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;
    const unsigned char *p = (const unsigned char *) buf;
    size_t i = 0;

    /* The request line: method SP target SP HTTP/1.d CRLF. Most requests
     * are GETs: "GET " is one 4-byte compare (its letters are tchars, so
     * the token loop would have accepted them too). */
    if (n >= 4 && HAS(p, "GET "))
        i = 3;
    else
        while (i < n && tchar[p[i]])
            i++;
    if (i == n)
        return more;
    if (i == 0 || p[i] != ' ')
        return HTTP_BAD;
    size_t method_len = i++, t = i;
    i = span_text(p, i, n, 0x21);
    if (i == n)
        return more;
    if (i == t || p[i] != ' ')
        return HTTP_BAD;
    size_t target_len = i++ - t;
    /* "HTTP/1.1\r\n" (nearly every client) is one 10-byte compare, any
     * "HTTP/1.d\r\n" a 7-byte one and three bytes; with fewer than ten
     * bytes there, whatever part of it is there must match. */
    int minor;
    if (n - i >= 10 && HAS(p + i, "HTTP/1.1\r\n")) {
        minor = 1;
        i += 10;
    } else if (n - i >= 10 && HAS(p + i, "HTTP/1.") && p[i + 7] >= '0' &&
               p[i + 7] <= '9' && p[i + 8] == '\r' && p[i + 9] == '\n') {
        minor = p[i + 7] - '0';
        i += 10;
    } else {
        static const char ver[] = "HTTP/1.";
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
        return HTTP_BAD; /* unreachable: a full match took a branch above */
    }

    /* Header lines up to the empty one. */
    unsigned f = 0;
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
        /* The name. Every request has a Host header: "Host: " is one
         * 6-byte compare (then the ':' below, as for any name). */
        size_t ns = i;
        if (n - i >= 6 && HAS(p + i, "Host: ")) {
            i += 4;
        } else {
            i = skip_name(p, i, n);
            while (i < n && tchar[p[i]])
                i++;
        }
        if (i == n)
            return more;
        if (i == ns || p[i] != ':') /* obs-fold starts with a space */
            return HTTP_BAD;
        size_t name_len = i++ - ns;
        /* The value: VCHAR, obs-text, SP and HTAB, up to the CR. The
         * blanks around it are not part of it; they are left in v[vs..ve)
         * here, and only the values looked at skip them (connection,
         * content_length). */
        size_t vs = i;
        while ((i = span_text(p, i, n, 0x20)) < n && p[i] == '\t')
            i++;
        if (i == n)
            return more;
        size_t ve = i;
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
            if (name_is(name, "content-length", 14)) {
                size_t x;
                if (!content_length(v, ve - vs, &x))
                    return HTTP_BAD;
                if ((f & CL_SEEN) && x != clen)
                    return HTTP_BAD; /* two different lengths: request smuggling */
                f |= CL_SEEN;
                clen = x;
            }
            break;
        case 17:
            if (name_is(name, "transfer-encoding", 17))
                f |= TE;
            break;
        case 10:
            if (name_is(name, "connection", 10))
                f |= connection(v, ve - vs); /* blanks separate tokens */
            break;
        default:
            break;
        }
    }
    if (f & TE)
        return (f & CL_SEEN) ? HTTP_BAD : HTTP_UNSUPPORTED;
    r->method = buf;
    r->method_len = method_len;
    r->target = buf + method_len + 1;
    r->target_len = target_len;
    r->minor = minor > 1 ? 1 : minor; /* HTTP/1.2+: answer as 1.1 (RFC 9110 2.5) */
    r->keep_alive = !(f & CLOSE) && (r->minor >= 1 || (f & KEEP));
    r->content_length = clen;
    r->head_len = i;
    return (int) i;
}
