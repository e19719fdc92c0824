/* The request-head parser: see parse.h. One pass over the head once its
 * end (CRLF CRLF) is in the buffer; before that, only the request line
 * is checked (so garbage answers 400 at once, not after max_head). */
#include "parse.h"

#include <stdint.h>
#include <string.h>

/* RFC 9110 tchar: the characters of a token. Branches, not strchr: a
 * strchr per character cost 15 % of a pipelined benchmark's CPU. */
static inline bool tchar(unsigned char c)
{
    unsigned char l = c | 0x20; /* ASCII lower case */
    if ((l >= 'a' && l <= 'z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

/* Visible characters, and obs-text (bytes >= 0x80) in header values. */
static inline bool vchar(unsigned char c)
{
    return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

static bool ieq(const char *a, size_t alen, const char *lit)
{
    size_t n = strlen(lit);
    if (alen != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return true;
}

/* The request line at p[0..n) (without its CRLF). 0 or HTTP_BAD. */
static int request_line(const char *p, size_t n, http_req *r)
{
    size_t i = 0;
    while (i < n && tchar((unsigned char) p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ' ')
        return HTTP_BAD;
    r->method = p;
    r->method_len = i;
    size_t t = ++i;
    while (i < n && vchar((unsigned char) p[i]))
        i++;
    if (i == t || i >= n || p[i] != ' ')
        return HTTP_BAD;
    r->target = p + t;
    r->target_len = i - t;
    i++;
    if (n - i != 8 || memcmp(p + i, "HTTP/1.", 7) != 0 || p[i + 7] < '0' ||
        p[i + 7] > '9')
        return HTTP_BAD;
    r->minor = p[i + 7] - '0';
    if (r->minor > 1)
        r->minor = 1; /* HTTP/1.2+: answer as 1.1 (RFC 9110 2.5) */
    return 0;
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
        if (ieq(v + s, i - s, "close"))
            *close = true;
        else if (ieq(v + s, i - s, "keep-alive"))
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
    size_t scan = len < max_head ? len : max_head;
    const char *end = NULL;
    memset(r, 0, sizeof *r);
    for (const char *q = buf, *stop = buf + scan;
         (q = memchr(q, '\n', (size_t) (stop - q))) != NULL; q++) {
        if (q == buf || q[-1] != '\r')
            return HTTP_BAD; /* a bare LF (RFC 9112 allows; we are strict) */
        if (q - buf >= 3 && q[-2] == '\n') {
            end = q + 1;
            break;
        }
    }
    const char *eol = memchr(buf, '\n', scan);
    if (!eol) /* no full request line yet: check what is there */
        return len >= max_head ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;
    if (eol == buf || request_line(buf, (size_t) (eol - buf) - 1, r))
        return HTTP_BAD; /* an empty or bad request line */
    if (!end)
        return len >= max_head ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;

    bool close = false, keep = false, cl_seen = false, te = false;
    const char *p = eol + 1;
    while (p < end - 2) { /* header lines up to the empty one */
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        size_t n = (size_t) (nl - p) - 1, i = 0;
        while (i < n && tchar((unsigned char) p[i]))
            i++;
        if (i == 0 || i >= n || p[i] != ':') /* obs-fold starts with a space */
            return HTTP_BAD;
        size_t name_len = i++;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t vs = i, ve = n;
        while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
            ve--;
        for (size_t k = vs; k < ve; k++)
            if (!vchar((unsigned char) p[k]) && p[k] != ' ' && p[k] != '\t')
                return HTTP_BAD;
        const char *v = p + vs;
        if (ieq(p, name_len, "content-length")) {
            if (content_length(v, ve - vs, &r->content_length, &cl_seen))
                return HTTP_BAD;
        } else if (ieq(p, name_len, "transfer-encoding")) {
            te = true;
        } else if (ieq(p, name_len, "connection")) {
            connection(v, ve - vs, &close, &keep);
        }
        p = nl + 1;
    }
    if (te)
        return cl_seen ? HTTP_BAD : HTTP_UNSUPPORTED;
    r->keep_alive = !close && (r->minor >= 1 || keep);
    r->head_len = (size_t) (end - buf);
    return (int) r->head_len;
}
