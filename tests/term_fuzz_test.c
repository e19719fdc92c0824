/* The term reader, skipper and printer on random, mutated and truncated
 * bytes (bounded count, fixed seed printed): no crash and, under ASan, no
 * read outside the bytes (each input sits in an allocation of exactly
 * its size). */
#include <criterion/criterion.h>
#include <fauxtp/error.h>
#include <fauxtp/term.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED 20261130u

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t) (rng_state >> 33);
}

/* A random term of at most `budget` parts. */
static void gen(fx_term_builder *b, int depth, int *budget)
{
    --*budget;
    int kind = (int) (rnd() % (depth > 6 || *budget <= 0 ? 7 : 10));
    switch (kind) {
    case 0:
        fx_term_put_atomz(b, rnd() % 2 ? "ok" : "caf\xC3\xA9");
        break;
    case 1: {
        uint64_t hi = rnd(), lo = rnd();
        fx_term_put_i64(b, (int64_t) ((hi << 32) | lo) >> (rnd() % 64));
        break;
    }
    case 2: {
        uint8_t mag[20];
        for (int k = 0; k < 20; k++)
            mag[k] = (uint8_t) rnd();
        fx_term_put_bignum(b, (int) (rnd() % 2), mag, rnd() % 20);
        break;
    }
    case 3:
        fx_term_put_double(b, (double) (int32_t) rnd() / 7.0);
        break;
    case 4:
        fx_term_put_binary(b, "abcdefgh", rnd() % 9);
        break;
    case 5:
        fx_term_put_string(b, "hello", rnd() % 6);
        break;
    case 6:
        fx_term_put_nil(b);
        break;
    case 7: {
        size_t n = rnd() % 4;
        fx_term_put_tuple(b, n);
        for (size_t k = 0; k < n; k++)
            gen(b, depth + 1, budget);
        break;
    }
    case 8: {
        size_t n = 1 + rnd() % 3;
        fx_term_put_list(b, n);
        for (size_t k = 0; k <= n; k++)
            gen(b, depth + 1, budget); /* the last is the tail */
        break;
    }
    default: {
        size_t n = rnd() % 3;
        fx_term_put_map(b, n); /* keys {K, Any}: never two equal keys */
        for (size_t k = 0; k < n; k++) {
            fx_term_put_tuple(b, 2);
            fx_term_put_i64(b, (int64_t) k);
            gen(b, depth + 1, budget);
            gen(b, depth + 1, budget);
        }
        break;
    }
    }
}

static char strbuf[70000];

/* Reads every part of the term with the getters, without recursion. */
static void walk(fx_term_reader *r)
{
    uint64_t pending = 1;
    unsigned steps = 0;
    while (pending && steps++ < 100000) {
        pending--;
        int t = fx_term_type(r);
        cr_assert_gt(t, 0, "type past the end with %llu pending",
                     (unsigned long long) pending);
        uint32_t n;
        int rc = 0;
        switch (t) {
        case FX_TERM_TUPLE:
            rc = fx_term_get_tuple(r, &n);
            pending += n;
            break;
        case FX_TERM_LIST:
            rc = fx_term_get_list(r, &n);
            pending += n + (n > 0);
            break;
        case FX_TERM_MAP:
            rc = fx_term_get_map(r, &n);
            pending += 2ull * n;
            break;
        case FX_TERM_ATOM:
            rc = fx_term_get_atom(r, strbuf, sizeof strbuf, NULL);
            break;
        case FX_TERM_INTEGER: {
            int64_t v;
            int neg;
            size_t len;
            if (fx_term_get_i64(r, &v) != 0)
                rc = fx_term_get_bignum(r, &neg, (uint8_t *) strbuf, sizeof strbuf, &len);
            break;
        }
        case FX_TERM_FLOAT: {
            double d;
            rc = fx_term_get_double(r, &d);
            break;
        }
        case FX_TERM_BINARY: {
            const void *p;
            size_t len;
            rc = fx_term_get_binary(r, &p, &len);
            break;
        }
        case FX_TERM_STRING:
        case FX_TERM_NIL:
            rc = fx_term_get_string(r, strbuf, sizeof strbuf, NULL);
            break;
        default:
            rc = fx_term_skip(r);
            break;
        }
        if (rc) /* a value the getter refuses (a bad atom, a huge bignum) */
            cr_assert_eq(fx_term_skip(r), 0, "skip after a refused getter (%d)", rc);
    }
}

static unsigned accepted;

/* One input through everything; returns reader_init's code. */
static int feed(const unsigned char *src, size_t n)
{
    unsigned char *p = malloc(n ? n : 1);
    memcpy(p, src, n);
    char out[256];
    fx_term_reader r;
    int rc = fx_term_reader_init(&r, p, n);
    int prc = fx_term_sprint(p, n, out, sizeof out);
    cr_assert(rc == 0 || rc == FX_EBADTERM, "init: %d", rc);
    fx_term_reader pr;
    size_t used = 0;
    int prefix = fx_term_reader_init_prefix(&pr, p, n, &used);
    cr_assert(rc != 0 || (prefix == 0 && used == n), "a whole term is its own prefix");
    if (prefix == 0) {
        cr_assert(used <= n);
        cr_assert_eq(fx_term_skip(&pr), 0);
    }
    if (rc == 0 && prc < 0) {
        for (size_t k = 0; k < n; k++)
            fprintf(stderr, "%02x", p[k]);
        fprintf(stderr, "\n");
    }
    cr_assert(rc != 0 || prc >= 0, "valid but not printable: %d", prc);
    cr_assert(rc == 0 || prc == FX_EBADTERM);
    if (rc == 0) {
        accepted++;
        fx_term_reader s = r;
        cr_assert_eq(fx_term_skip(&s), 0);
        cr_assert(fx_term_at_end(&s));
        uint32_t ty;
        const void *d;
        size_t dn;
        s = r;
        (void) fx_term_to_plain(&s, &ty, &d, &dn);
        walk(&r);
    }
    free(p);
    return rc;
}

Test(term, fuzz, .timeout = 300)
{
    /* FX_TERM_FUZZ_SEED and FX_TERM_FUZZ_SCALE (a multiplier of the
     * counts) for longer runs by hand; the test run uses the defaults. */
    const char *es = getenv("FX_TERM_FUZZ_SEED"), *ek = getenv("FX_TERM_FUZZ_SCALE");
    unsigned seed = es ? (unsigned) strtoul(es, NULL, 10) : SEED;
    int scale = ek ? atoi(ek) : 1;
    scale = scale < 1 ? 1 : scale > 1000 ? 1000 : scale;
    rng_state = seed;
    fprintf(stderr, "term fuzz: seed %u, scale %d\n", seed, scale);
    unsigned terms = 0, truncs = 0, mutants = 0, randoms = 0;
    for (int it = 0; it < 400 * scale; it++) {
        fx_term_builder b;
        fx_term_builder_init(&b);
        int budget = 40;
        gen(&b, 0, &budget);
        const void *d;
        size_t n;
        cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
        unsigned char *t = malloc(n);
        memcpy(t, d, n);
        fx_term_builder_fini(&b);
        cr_assert_eq(feed(t, n), 0);
        terms++;
        /* Every truncation is malformed (ETF is prefix-free). */
        for (size_t k = 0; k < n; k++, truncs++)
            cr_assert_eq(feed(t, k), FX_EBADTERM, "truncated to %zu of %zu", k, n);
        /* Mutations: one to four bytes changed. */
        for (int m = 0; m < 40; m++, mutants++) {
            unsigned char *x = malloc(n);
            memcpy(x, t, n);
            for (unsigned c = 1 + rnd() % 4; c > 0; c--) {
                size_t at = 1 + rnd() % (n - 1);
                x[at] = (unsigned char) (rnd() % 3 == 0 ? 0xFF : rnd());
            }
            feed(x, n);
            free(x);
        }
        free(t);
    }
    /* Random bytes after the version byte, biased towards ETF's tags. */
    static const unsigned char tags[] = {
        70,  77,  88,  89,  90,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106,
        107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 118, 119, 120, 0,   255};
    for (int it = 0; it < 20000 * scale; it++, randoms++) {
        unsigned char x[64];
        size_t n = 1 + rnd() % sizeof x;
        x[0] = 131;
        for (size_t k = 1; k < n; k++)
            x[k] = rnd() % 2 ? tags[rnd() % sizeof tags] : (unsigned char) (rnd() % 8);
        feed(x, n);
    }
    fprintf(stderr,
            "term fuzz: %u valid terms, %u truncations, %u mutants, %u random inputs; %u "
            "accepted by the reader\n",
            terms, truncs, mutants, randoms, accepted);
}
