/* fauxtp-top: a small JSON reader, enough for the control socket's
 * one-line objects; see top.h. Recursive descent over objects, arrays,
 * strings (with \u escapes, written out as UTF-8), numbers and literals. */
#include "top.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEAVES 256
#define MAX_DEPTH 8

typedef struct rd {
    const char *p, *end;
    top_obj *o;
} rd;

static void ws(rd *r)
{
    while (r->p < r->end &&
           (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n'))
        r->p++;
}

static void utf8(char **q, unsigned cp)
{
    unsigned char *u = (unsigned char *) *q;
    if (cp < 0x80) {
        *u++ = (unsigned char) cp;
    } else if (cp < 0x800) {
        *u++ = (unsigned char) (0xC0 | cp >> 6);
        *u++ = (unsigned char) (0x80 | (cp & 0x3F));
    } else {
        *u++ = (unsigned char) (0xE0 | cp >> 12);
        *u++ = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
        *u++ = (unsigned char) (0x80 | (cp & 0x3F));
    }
    *q = (char *) u;
}

/* A string at r->p (the opening quote): malloc()ed, unescaped. */
static char *string(rd *r)
{
    if (r->p >= r->end || *r->p != '"')
        return NULL;
    r->p++;
    const char *s = r->p;
    while (r->p < r->end && *r->p != '"')
        r->p += *r->p == '\\' ? 2 : 1;
    if (r->p >= r->end)
        return NULL;
    char *out = malloc((size_t) (r->p - s) + 1), *q = out;
    if (!out)
        return NULL;
    for (const char *x = s; x < r->p; x++) {
        if (*x != '\\') {
            *q++ = *x;
            continue;
        }
        x++;
        switch (*x) {
        case 'n':
            *q++ = '\n';
            break;
        case 't':
            *q++ = '\t';
            break;
        case 'r':
            *q++ = '\r';
            break;
        case 'b':
            *q++ = '\b';
            break;
        case 'f':
            *q++ = '\f';
            break;
        case 'u': {
            unsigned cp = 0;
            if (r->p - x < 5 || sscanf(x + 1, "%4x", &cp) != 1) {
                free(out);
                return NULL;
            }
            utf8(&q, cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp);
            x += 4;
            break;
        }
        default:
            *q++ = *x; /* \" \\ \/ */
        }
    }
    *q = '\0';
    r->p++;
    return out;
}

static int leaf(rd *r, const char *key, char *val, bool str)
{
    top_obj *o = r->o;
    if (!val || o->n == MAX_LEAVES) {
        free(val);
        return -1;
    }
    o->key[o->n] = strdup(key);
    o->val[o->n] = val;
    o->str[o->n] = str;
    o->n++;
    return o->key[o->n - 1] ? 0 : -1;
}

static int value(rd *r, const char *path, int depth);

static int container(rd *r, const char *path, int depth, bool array)
{
    if (depth > MAX_DEPTH)
        return -1;
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == (array ? ']' : '}')) {
        r->p++;
        return 0;
    }
    for (int i = 0;; i++) {
        char sub[256];
        ws(r);
        if (array) {
            snprintf(sub, sizeof sub, "%s%s%d", path, *path ? "." : "", i);
        } else {
            char *k = string(r);
            if (!k)
                return -1;
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
            free(k);
            ws(r);
            if (r->p >= r->end || *r->p++ != ':')
                return -1;
        }
        if (value(r, sub, depth + 1) != 0)
            return -1;
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == (array ? ']' : '}')) {
            r->p++;
            return 0;
        }
        return -1;
    }
}

static int value(rd *r, const char *path, int depth)
{
    ws(r);
    if (r->p >= r->end)
        return -1;
    if (*r->p == '{' || *r->p == '[')
        return container(r, path, depth, *r->p == '[');
    if (*r->p == '"')
        return leaf(r, path, string(r), true);
    const char *s = r->p;
    while (r->p < r->end && strchr(",}] \t\r\n", *r->p) == NULL)
        r->p++;
    if (r->p == s)
        return -1;
    return leaf(r, path, strndup(s, (size_t) (r->p - s)), false);
}

int top_obj_parse(top_obj *o, const char *text, size_t len)
{
    memset(o, 0, sizeof *o);
    rd r = {.p = text, .end = text + len, .o = o};
    ws(&r);
    if (r.p >= r.end || *r.p != '{')
        return -1;
    if (container(&r, "", 0, false) != 0)
        return -1;
    ws(&r);
    return r.p == r.end ? 0 : -1;
}

void top_obj_free(top_obj *o)
{
    for (int i = 0; i < o->n; i++) {
        free(o->key[i]);
        free(o->val[i]);
    }
    o->n = 0;
}

const char *top_get(const top_obj *o, const char *key)
{
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->key[i], key) == 0)
            return o->val[i];
    return NULL;
}

uint64_t top_u64(const top_obj *o, const char *key)
{
    const char *v = top_get(o, key);
    return v ? strtoull(v, NULL, 10) : 0;
}
