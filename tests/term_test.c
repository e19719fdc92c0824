/* The term API (include/fauxtp/term.h, docs/terms.md): round trips of
 * every kind and their limits, nesting up to FX_TERM_MAX_DEPTH, and the
 * bytes of a real Erlang (erl, at test time) both ways. */
#include <criterion/criterion.h>
#include <fauxtp/fauxtp.h>
#include <fauxtp/term.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A finished growable builder's bytes, in a reader. */
static fx_term_reader reader_of(fx_term_builder *b)
{
    const void *d;
    size_t n;
    int rc = fx_term_builder_data(b, &d, &n);
    cr_assert_eq(rc, 0, "builder_data: %s", fx_err_name(rc));
    fx_term_reader r;
    rc = fx_term_reader_init(&r, d, n);
    cr_assert_eq(rc, 0, "reader_init: %s", fx_err_name(rc));
    return r;
}

static const char *printed(fx_term_builder *b, char *out, size_t cap)
{
    fx_term_reader r = reader_of(b);
    int n = fx_term_print(&r, out, cap);
    cr_assert(n >= 0 && (size_t) n < cap, "print: %d", n);
    return out;
}

Test(term, integers)
{
    static const int64_t vs[] = {0,
                                 1,
                                 255,
                                 256,
                                 -1,
                                 INT32_MAX,
                                 (int64_t) INT32_MAX + 1,
                                 INT32_MIN,
                                 (int64_t) INT32_MIN - 1,
                                 INT64_MAX,
                                 INT64_MIN};
    static const uint64_t us[] = {0, 255, (uint64_t) INT64_MAX + 1, UINT64_MAX};
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    fx_term_put_list(&b, 11 + 4);
    for (size_t k = 0; k < 11; k++)
        cr_assert_eq(fx_term_put_i64(&b, vs[k]), 0);
    for (size_t k = 0; k < 4; k++)
        cr_assert_eq(fx_term_put_u64(&b, us[k]), 0);
    fx_term_put_nil(&b);
    fx_term_reader r = reader_of(&b);
    uint32_t n;
    cr_assert_eq(fx_term_get_list(&r, &n), 0);
    cr_assert_eq(n, 15);
    for (size_t k = 0; k < 11; k++) {
        int64_t v;
        cr_assert_eq(fx_term_type(&r), FX_TERM_INTEGER);
        cr_assert_eq(fx_term_get_i64(&r, &v), 0, "k=%zu", k);
        cr_assert_eq(v, vs[k]);
    }
    for (size_t k = 0; k < 4; k++) {
        uint64_t v;
        int64_t i;
        if (us[k] > INT64_MAX)
            cr_assert_eq(fx_term_get_i64(&r, &i), FX_EBADTERM, "too big for i64");
        cr_assert_eq(fx_term_get_u64(&r, &v), 0);
        cr_assert_eq(v, us[k]);
    }
    cr_assert_eq(fx_term_get_nil(&r), 0);
    cr_assert(fx_term_at_end(&r));
    fx_term_builder_fini(&b);

    /* A negative number is not a u64; the cursor stays. */
    cr_assert_eq(fx_term_builder_init(&b), 0);
    fx_term_put_i64(&b, -5);
    r = reader_of(&b);
    uint64_t u = 9;
    cr_assert_eq(fx_term_get_u64(&r, &u), FX_EBADTERM);
    cr_assert_eq(u, 9);
    int64_t i;
    cr_assert_eq(fx_term_get_i64(&r, &i), 0);
    cr_assert_eq(i, -5);
    fx_term_builder_fini(&b);
}

Test(term, bignums)
{
    uint8_t mag[300];
    for (size_t k = 0; k < sizeof mag; k++)
        mag[k] = (uint8_t) (k * 7 + 1);
    size_t sizes[] = {0, 1, 4, 8, 9, 255, 256, 300};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        for (int neg = 0; neg < 2; neg++) {
            fx_term_builder b;
            cr_assert_eq(fx_term_builder_init(&b), 0);
            cr_assert_eq(fx_term_put_bignum(&b, neg, mag, sizes[c]), 0);
            fx_term_reader r = reader_of(&b);
            uint8_t got[300];
            size_t n = 0;
            int gneg = -1;
            fx_term_reader r2 = r;
            cr_assert_eq(fx_term_get_bignum(&r2, &gneg, got, 2, &n) == FX_EMSGSIZE,
                         sizes[c] > 2, "size %zu: EMSGSIZE for a short buffer", sizes[c]);
            cr_assert_eq(fx_term_get_bignum(&r, &gneg, got, sizeof got, &n), 0);
            cr_assert_eq(n, sizes[c]);
            cr_assert_eq(gneg, sizes[c] ? neg : 0);
            cr_assert(n == 0 || memcmp(got, mag, n) == 0);
            fx_term_builder_fini(&b);
        }
    }
    /* 2^64: one more than UINT64_MAX; ten decimal digits of 2^100 too. */
    uint8_t two64[9] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
    fx_term_builder b;
    fx_term_builder_init(&b);
    fx_term_put_tuple(&b, 2);
    fx_term_put_bignum(&b, 0, two64, 9);
    uint8_t two100[13] = {0};
    two100[12] = 0x10;
    fx_term_put_bignum(&b, 1, two100, 13);
    char out[128];
    cr_assert_str_eq(printed(&b, out, sizeof out),
                     "{18446744073709551616,-1267650600228229401496703205376}");
    fx_term_reader r = reader_of(&b);
    uint32_t a;
    uint64_t u;
    fx_term_get_tuple(&r, &a);
    cr_assert_eq(fx_term_get_u64(&r, &u), FX_EBADTERM, "2^64 is not a u64");
    fx_term_builder_fini(&b);
}

Test(term, floats_binaries_strings)
{
    static const double ds[] = {0.0, -1.5, 0.1, 1e300, -1e-300, DBL_MIN, DBL_MAX};
    fx_term_builder b;
    fx_term_builder_init(&b);
    fx_term_put_tuple(&b, 7 + 5);
    for (size_t k = 0; k < 7; k++)
        cr_assert_eq(fx_term_put_double(&b, ds[k]), 0);
    char *big = malloc(70000);
    memset(big, 'x', 70000);
    fx_term_put_binary(&b, NULL, 0);
    fx_term_put_binary(&b, big, 70000);
    fx_term_put_string(&b, "", 0);
    fx_term_put_string(&b, big, 65535); /* STRING_EXT at its limit */
    fx_term_put_string(&b, big, 65536); /* a list of small integers */
    fx_term_reader r = reader_of(&b);
    uint32_t a;
    cr_assert_eq(fx_term_get_tuple(&r, &a), 0);
    cr_assert_eq(a, 12);
    for (size_t k = 0; k < 7; k++) {
        double d;
        cr_assert_eq(fx_term_get_double(&r, &d), 0);
        cr_assert_eq(d, ds[k]);
    }
    const void *p;
    size_t n;
    cr_assert_eq(fx_term_get_binary(&r, &p, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(fx_term_get_binary(&r, &p, &n), 0);
    cr_assert_eq(n, 70000);
    cr_assert_eq(memcmp(p, big, n), 0);
    char *s = malloc(70001);
    cr_assert_eq(fx_term_type(&r), FX_TERM_NIL);
    cr_assert_eq(fx_term_get_string(&r, s, 70001, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(fx_term_type(&r), FX_TERM_STRING);
    cr_assert_eq(fx_term_get_string(&r, s, 100, &n), FX_EMSGSIZE);
    cr_assert_eq(fx_term_get_string(&r, s, 70001, &n), 0);
    cr_assert_eq(n, 65535);
    cr_assert_eq(fx_term_type(&r), FX_TERM_LIST);
    cr_assert_eq(fx_term_get_string(&r, s, 70001, &n), 0);
    cr_assert_eq(n, 65536);
    cr_assert_eq(memcmp(s, big, n), 0);
    cr_assert(fx_term_at_end(&r));
    free(s);
    free(big);
    cr_assert_eq(fx_term_put_double(&b, NAN), FX_EINVAL);
    cr_assert_eq(fx_term_put_nil(&b), FX_EINVAL, "sticky after a failed put");
    fx_term_builder_fini(&b);
}

Test(term, atoms)
{
    fx_term_builder b;
    fx_term_builder_init(&b);
    char long_atom[256];
    memset(long_atom, 'a', 255);
    long_atom[255] = 0;
    /* 255 characters of 4 bytes: the longest atom in bytes. */
    char wide[FX_TERM_ATOM_MAX + 1];
    for (int k = 0; k < 255; k++)
        memcpy(wide + 4 * k, "\xF0\x9F\x98\x80", 4);
    wide[FX_TERM_ATOM_MAX] = 0;
    fx_term_put_tuple(&b, 5);
    cr_assert_eq(fx_term_put_atomz(&b, "ok"), 0);
    cr_assert_eq(fx_term_put_atomz(&b, ""), 0);
    cr_assert_eq(fx_term_put_atomz(&b, long_atom), 0);
    cr_assert_eq(fx_term_put_atomz(&b, wide), 0);
    cr_assert_eq(fx_term_put_atomz(&b, "caf\xC3\xA9"), 0);
    fx_term_reader r = reader_of(&b);
    uint32_t a;
    fx_term_get_tuple(&r, &a);
    char buf[FX_TERM_ATOM_MAX + 1];
    size_t n;
    cr_assert_eq(fx_term_match_atom(&r, "no"), 0);
    cr_assert_eq(fx_term_match_atom(&r, "ok"), 1);
    cr_assert_eq(fx_term_get_atom(&r, buf, sizeof buf, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(fx_term_get_atom(&r, buf, 10, &n), FX_EMSGSIZE);
    cr_assert_eq(fx_term_get_atom(&r, buf, sizeof buf, &n), 0);
    cr_assert_str_eq(buf, long_atom);
    cr_assert_eq(fx_term_get_atom(&r, buf, sizeof buf, &n), 0);
    cr_assert_eq(n, FX_TERM_ATOM_MAX);
    cr_assert_str_eq(buf, wide);
    cr_assert_eq(fx_term_get_atom(&r, buf, sizeof buf, &n), 0);
    cr_assert_str_eq(buf, "caf\xC3\xA9");
    fx_term_builder_fini(&b);

    char too_long[257];
    memset(too_long, 'a', 256);
    too_long[256] = 0;
    const char *const bad[] = {too_long, "\xC3", "\xC0\x80", "\xED\xA0\x80",
                               "\xF4\x90\x80\x80"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        fx_term_builder_init(&b);
        cr_assert_eq(fx_term_put_atomz(&b, bad[k]), FX_EINVAL, "bad atom %zu", k);
        fx_term_builder_fini(&b);
    }
}

/* An atom's length comes from its header, not strlen: Erlang atoms may
 * hold NUL ('a\0b' is list_to_atom([$a, 0, $b])), and a Latin-1 atom
 * (ATOM_EXT, as older peers send) grows when read as UTF-8. */
Test(term, atom_lengths)
{
    fx_term_builder b;
    fx_term_builder_init(&b);
    fx_term_put_list(&b, 2);
    cr_assert_eq(fx_term_put_atom(&b, "a\0b", 3), 0);
    cr_assert_eq(fx_term_put_atom(&b, "a\0b", 3), 0);
    fx_term_put_nil(&b);
    fx_term_reader r = reader_of(&b);
    uint32_t n32;
    cr_assert_eq(fx_term_get_list(&r, &n32), 0);
    char buf[FX_TERM_ATOM_MAX + 1];
    size_t n;
    cr_assert_eq(fx_term_match_atom(&r, "a"), 0, "'a\\0b' is not 'a'");
    cr_assert_eq(fx_term_get_atom(&r, buf, sizeof buf, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(buf, "a\0b", 4), 0);
    cr_assert_eq(fx_term_get_atom(&r, buf, 3, &n), FX_EMSGSIZE, "3 bytes and the NUL");
    fx_term_builder_fini(&b);

    const unsigned char latin1[] = {131, 100, 0, 4, 'c', 'a', 'f', 0xE9};
    cr_assert_eq(fx_term_reader_init(&r, latin1, sizeof latin1), 0);
    cr_assert_eq(fx_term_get_atom(&r, buf, sizeof buf, &n), 0);
    cr_assert_eq(n, 5);
    cr_assert_str_eq(buf, "caf\xC3\xA9");
    cr_assert_eq(fx_term_reader_init(&r, latin1, sizeof latin1), 0);
    cr_assert_eq(fx_term_match_atom(&r, "caf\xC3\xA9"), 1);
}

/* Atoms print as io_lib:format("~w") writes them (checked against OTP 25),
 * in UTF-8: Latin-1 letters need no quotes, control characters and
 * C1 codes are escaped, code points from 256 up print as \x{...}. */
static const char *print_atom(const char *name, size_t len, char *out, size_t cap)
{
    fx_term_builder b;
    fx_term_builder_init(&b);
    cr_assert_eq(fx_term_put_atom(&b, name, len), 0, "put %s", name);
    fx_term_reader r = reader_of(&b);
    int n = fx_term_print(&r, out, cap);
    cr_assert(n > 0 && (size_t) n < cap);
    fx_term_builder_fini(&b);
    return out;
}

Test(term, atoms_print_as_w)
{
    static const struct {
        const char *name;
        size_t len;
        const char *w;
    } cases[] = {
        {"\0\1\b\t\n\x1b\x1f\x7f", 8, "'\\000\\001\\b\\t\\n\\e\\037\\d'"},
        {"a\xC2\x80\xC2\x9F\xC2\xA0\xC3\xA9\xC3\xBF", 11,
         "'a\\200\\237\xC2\xA0\xC3\xA9\xC3\xBF'"},
        {"a\xC4\x80\xF0\x9F\x98\x80", 7, "'a\\x{100}\\x{1F600}'"},
        {"caf\xC3\xA9", 5, "caf\xC3\xA9"},
        {"\xC3\x9F", 2, "\xC3\x9F"},
        {"a\xC3\xB7", 3, "'a\xC3\xB7'"},
        {"a\xC3\x97", 3, "'a\xC3\x97'"},
        {"a\xC3\x80", 3, "a\xC3\x80"},
        {"\xC3\x80", 2, "'\xC3\x80'"},
        {"a\xC2\xAB", 3, "'a\xC2\xAB'"},
        {"\v\f\r \a\"'\\", 8, "'\\v\\f\\r \\007\"\\'\\\\'"},
        {"ab@_Z9", 6, "ab@_Z9"},
        {"", 0, "''"},
        {"Ab", 2, "'Ab'"},
        {"when", 4, "'when'"},
    };
    char out[128];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        cr_expect_str_eq(print_atom(cases[k].name, cases[k].len, out, sizeof out),
                         cases[k].w, "case %zu: [%s]", k, out);
}

/* What binary_to_term refuses (badarg on OTP 25) the reader refuses too,
 * so nothing sends a peer a term that makes it drop the connection. */
Test(term, reader_refuses_what_erlang_refuses)
{
    static const struct {
        const char *what;
        const char *bytes;
        size_t n;
    } bad[] = {
        {"NaN", "\x83\x46\x7f\xf8\0\0\0\0\0\0", 10},
        {"+inf", "\x83\x46\x7f\xf0\0\0\0\0\0\0", 10},
        {"-inf", "\x83\x46\xff\xf0\0\0\0\0\0\0", 10},
        {"FLOAT_EXT inf",
         "\x83\x63inf\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 32},
        {"duplicate key", "\x83\x74\0\0\0\x02\x77\x01\x61\x61\x01\x77\x01\x61\x61\x02",
         16},
        {"invalid UTF-8 atom", "\x83\x77\x01\xff", 4},
        {"overlong UTF-8 atom", "\x83\x77\x02\xc0\x80", 5},
        {"surrogate atom", "\x83\x77\x03\xed\xa0\x80", 6},
        {"truncated UTF-8 atom", "\x83\x77\x01\xc3", 4},
    };
    fx_term_reader r;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        cr_expect_eq(fx_term_reader_init(&r, bad[k].bytes, bad[k].n), FX_EBADTERM, "%s",
                     bad[k].what);
    /* 256 characters of UTF-8: one too many (255 are fine, see atoms). */
    unsigned char big[4 + 256];
    memcpy(big, "\x83\x76\x01\x00", 4);
    memset(big + 4, 'a', 256);
    cr_expect_eq(fx_term_reader_init(&r, big, sizeof big), FX_EBADTERM, "256 characters");
    /* Near misses that are fine: the largest finite double, distinct keys
     * (17 of them: the sorted check), equal keys in different maps. */
    cr_assert_eq(fx_term_reader_init(&r, "\x83\x46\x7f\xef\xff\xff\xff\xff\xff\xff", 10),
                 0);
    fx_term_builder b;
    fx_term_builder_init(&b);
    fx_term_put_tuple(&b, 2);
    fx_term_put_map(&b, 17);
    for (int k = 0; k < 17; k++) {
        fx_term_put_i64(&b, k);
        fx_term_put_map(&b, 1);
        fx_term_put_atomz(&b, "a");
        fx_term_put_i64(&b, k);
    }
    fx_term_put_map(&b, 2);
    fx_term_put_atomz(&b, "a");
    fx_term_put_nil(&b);
    fx_term_put_atomz(&b, "b");
    fx_term_put_nil(&b);
    const void *d;
    size_t n;
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    fx_term_builder_fini(&b);
    /* The same with one key repeated, past the pairwise size. */
    fx_term_builder_init(&b);
    fx_term_put_map(&b, 17);
    for (int k = 0; k < 17; k++) {
        fx_term_put_i64(&b, k == 16 ? 3 : k);
        fx_term_put_nil(&b);
    }
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), FX_EBADTERM);
    fx_term_builder_fini(&b);
}

Test(term, containers_and_print)
{
    fx_term_builder b;
    fx_term_builder_init(&b);
    /* {ok, [1, two | <<3>>], #{k => []}, {}, [a]} */
    fx_term_put_tuple(&b, 5);
    fx_term_put_atomz(&b, "ok");
    fx_term_put_list(&b, 2);
    fx_term_put_i64(&b, 1);
    fx_term_put_atomz(&b, "two");
    fx_term_put_binary(&b, "\3", 1);
    fx_term_put_map(&b, 1);
    fx_term_put_atomz(&b, "k");
    fx_term_put_list(&b, 0);
    fx_term_put_tuple(&b, 0);
    fx_term_put_list(&b, 1);
    fx_term_put_atomz(&b, "a");
    cr_assert_eq(fx_term_put_nil(&b), 0);
    char out[128];
    cr_assert_str_eq(printed(&b, out, sizeof out),
                     "{ok,[1,two|<<3>>],#{k => []},{},[a]}");
    /* Truncated output: snprintf's contract. */
    fx_term_reader r = reader_of(&b);
    cr_assert_eq(fx_term_print(&r, out, 5), 36);
    cr_assert_str_eq(out, "{ok,");

    uint32_t n;
    cr_assert_eq(fx_term_match(&r, "ok", 4), 0, "wrong arity");
    cr_assert_eq(fx_term_match(&r, "ko", 5), 0, "wrong tag");
    cr_assert_eq(fx_term_match(&r, "ok", 5), 1);
    cr_assert_eq(fx_term_get_tuple(&r, &n), FX_EBADTERM, "a list is not a tuple");
    cr_assert_eq(fx_term_get_list(&r, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(fx_term_skip(&r), 0);
    cr_assert_eq(fx_term_skip(&r), 0);
    const void *raw;
    size_t rn;
    cr_assert_eq(fx_term_get_raw(&r, &raw, &rn), 0, "the improper tail, whole");
    cr_assert_eq(rn, 6);
    cr_assert_eq(fx_term_get_map(&r, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(fx_term_skip(&r), 0);
    cr_assert_eq(fx_term_get_list(&r, &n), 0);
    cr_assert_eq(n, 0, "[] reads as an empty list");
    cr_assert_eq(fx_term_get_tuple(&r, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(fx_term_skip(&r), 0);
    cr_assert(fx_term_at_end(&r));
    cr_assert_eq(fx_term_type(&r), FX_EBADTERM);
    fx_term_builder_fini(&b);
}

Test(term, format)
{
    fx_term_builder b, inner;
    fx_term_builder_init(&b);
    fx_term_builder_init(&inner);
    fx_term_format(&inner, "[x | y]");
    int rc = fx_term_format(&b,
                            "{ok, ~i, <<\"bin\">>, ~a, ~s, ~b, ~y, ~l, ~u, ~f, ~t, "
                            "#{'a b' => \"q\\\"s\", 1 => <<>>}, [-7, 2.5], 'A'}",
                            42, "atom", "str", "bytes", "\1\2", (size_t) 2,
                            (int64_t) INT64_MIN, (uint64_t) UINT64_MAX, 0.5, &inner);
    cr_assert_eq(rc, 0, "%s", fx_err_name(rc));
    char out[512];
    cr_assert_str_eq(
        printed(&b, out, sizeof out),
        "{ok,42,<<98,105,110>>,atom,[115,116,114],<<98,121,116,101,115>>,<<1,"
        "2>>,-9223372036854775808,18446744073709551615,0.5,[x|y],#{1 => <<>>,"
        "'a b' => [113,34,115]},[-7,2.5],'A'}"); /* keys in term order, as ~w */
    fx_term_builder_fini(&b);
    fx_term_builder_fini(&inner);

    static const char *const bad[] = {"{ok",   "[a | ]", "#{a}",
                                      "<<1>>", "ok ok",  "",
                                      "{~z}",  "\"open", "99999999999999999999",
                                      "Var"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        fx_term_builder_init(&b);
        cr_assert_eq(fx_term_format(&b, bad[k]), FX_EINVAL, "\"%s\"", bad[k]);
        fx_term_builder_fini(&b);
    }
}

/* Escapes inside quotes read as erl_scan reads them (checked against
 * OTP 25's printing of the same source): in a string or binary an escaped
 * code point is a byte (over 255: FX_EINVAL), in an atom it is UTF-8. */
Test(term, format_escapes)
{
    static const struct {
        const char *src, *printed;
    } ok[] = {
        {"\"\\b\\d\\e\\f\\n\\r\\s\\t\\v\"", "[8,127,27,12,10,13,32,9,11]"},
        {"\"\\^a\\^Z\\0\\101\\1012\\x41\\x{42}\\z\\\\\\'\"",
         "[1,26,0,65,65,50,65,66,122,92,39]"},
        {"<<\"\\x{ff}\\377\">>", "<<255,255>>"},
        {"'\\x{1F600}\\351'", "'\\x{1F600}\xC3\xA9'"},
        {"'a\\nb'", "'a\\nb'"},
    };
    char out[128];
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
        fx_term_builder b;
        fx_term_builder_init(&b);
        cr_assert_eq(fx_term_format(&b, ok[k].src), 0, "%s", ok[k].src);
        cr_expect_str_eq(printed(&b, out, sizeof out), ok[k].printed, "%s", ok[k].src);
        fx_term_builder_fini(&b);
    }
    static const char *const bad[] = {"\"\\x{100}\"",  "\"\\x4\"",    "\"\\x{}\"",
                                      "'\\x{110000}'", "'\\x{D800}'", "\"\\x{41\""};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        fx_term_builder b;
        fx_term_builder_init(&b);
        cr_expect_eq(fx_term_format(&b, bad[k]), FX_EINVAL, "%s", bad[k]);
        fx_term_builder_fini(&b);
    }
}

static int build_reply(fx_term_builder *b, void *arg)
{
    return fx_term_format(b, "{reply, ~i, ~b}", *(int *) arg, "payload");
}

static int build_unstable(fx_term_builder *b, void *arg)
{
    int *calls = arg;
    return fx_term_put_i64(b, (*calls)++ ? 1000000 : 1); /* 2 bytes, then 5 */
}

Test(term, builders_and_messages)
{
    /* Caller memory: exact, then one byte short. */
    char mem[64];
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init_buf(&b, mem, sizeof mem), 0);
    cr_assert_eq(fx_term_format(&b, "{a, 1}"), 0);
    size_t need = fx_term_builder_size(&b);
    const void *d;
    size_t n;
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    cr_assert_eq(d, (const void *) mem);
    cr_assert_eq(n, need);
    cr_assert_eq(fx_term_builder_init_buf(&b, mem, need - 1), 0);
    cr_assert_eq(fx_term_format(&b, "{a, 1}"), FX_EMSGSIZE);
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), FX_EMSGSIZE);
    /* Measuring. */
    cr_assert_eq(fx_term_builder_init_buf(&b, NULL, 0), 0);
    fx_term_format(&b, "{a, 1}");
    cr_assert_eq(fx_term_builder_size(&b), need);
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), FX_EINVAL);
    /* Incomplete or two terms: not a term. */
    fx_term_builder_init(&b);
    fx_term_put_tuple(&b, 2);
    fx_term_put_i64(&b, 1);
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), FX_EBADTERM);
    fx_term_put_i64(&b, 2);
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    fx_term_put_i64(&b, 3);
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), FX_EBADTERM);
    fx_msg *m = NULL;
    cr_assert_eq(fx_term_builder_msg(&b, &m), FX_EBADTERM);
    cr_assert_null(m);
    fx_term_builder_fini(&b);

    /* Messages: copied, formatted in place, built in place. */
    fx_term_builder_init(&b);
    fx_term_format(&b, "{reply, 7, <<\"payload\">>}");
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    fx_msg *m1, *m2, *m3;
    cr_assert_eq(fx_term_builder_msg(&b, &m1), 0);
    cr_assert_eq(fx_term_format_msg(&m2, "{reply, ~i, ~b}", 7, "payload"), 0);
    int seven = 7;
    cr_assert_eq(fx_term_msg_build(build_reply, &seven, &m3), 0);
    fx_msg *ms[] = {m1, m2, m3};
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(fx_msg_type(ms[k]), FX_MSG_TERM);
        cr_assert_eq(fx_msg_size(ms[k]), n);
        cr_assert_eq(memcmp(fx_msg_data(ms[k]), d, n), 0);
        fx_term_reader r;
        cr_assert_eq(fx_term_reader_init_msg(&r, ms[k]), 0);
        cr_assert_eq(fx_term_match(&r, "reply", 3), 1);
        fx_msg_free(ms[k]);
    }
    fx_term_builder_fini(&b);
    int calls = 0;
    cr_assert_eq(fx_term_msg_build(build_unstable, &calls, &m), FX_EBADTERM);
    cr_assert_null(m);
    cr_assert_eq(fx_msg_new(1, 4, &m), 0);
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init_msg(&r, m), FX_EBADTERM, "not FX_MSG_TERM");
    fx_msg_free(m);
}

/* A term message goes through a VM like any built message. */
static fx_next term_echo(fx_ctx *cx, fx_msg *m)
{
    fx_term_reader r;
    int64_t v = -1;
    if (fx_term_reader_init_msg(&r, m) == 0 && fx_term_match(&r, "ping", 2) == 1)
        fx_term_get_i64(&r, &v);
    fx_msg *out;
    if (fx_term_format_msg(&out, "{pong, ~l}", v) == 0 &&
        fx_send_msg(cx, fx_msg_from(m), out))
        fx_msg_free(out);
    return fx_continue(cx);
}

Test(term, through_a_vm)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    fx_vm *vm;
    fx_inbox *in;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    cr_assert_eq(fx_inbox_create(vm, &in), 0);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(vm, term_echo, NULL, &p), 0);
    fx_msg *m;
    cr_assert_eq(fx_term_format_msg(&m, "{ping, 41}"), 0);
    cr_assert_eq(fx_inbox_send_msg(in, p, m), 0);
    fx_match mt = {.type = FX_MSG_TERM, .from = p};
    fx_msg *reply = NULL;
    cr_assert_eq(fx_inbox_recv(in, &mt, 10000, &reply), 0);
    char out[64];
    cr_assert_gt(fx_term_sprint(fx_msg_data(reply), fx_msg_size(reply), out, sizeof out),
                 0);
    cr_assert_str_eq(out, "{pong,41}");
    fx_msg_free(reply);
    fx_inbox_destroy(in);
    fx_vm_shutdown(vm);
    fx_vm_destroy(vm);
}

Test(term, plain_mapping)
{
    fx_term_builder b;
    fx_term_builder_init(&b);
    uint32_t payload = 0xdeadbeef;
    cr_assert_eq(fx_term_from_plain(&b, 7, &payload, sizeof payload), 0);
    char out[64];
    cr_assert_str_eq(printed(&b, out, sizeof out), "{7,<<239,190,173,222>>}");
    fx_term_reader r = reader_of(&b);
    uint32_t type;
    const void *d;
    size_t n;
    cr_assert_eq(fx_term_to_plain(&r, &type, &d, &n), 0);
    cr_assert_eq(type, 7);
    cr_assert_eq(n, 4);
    cr_assert_eq(memcmp(d, &payload, 4), 0);
    cr_assert(fx_term_at_end(&r));
    fx_term_builder_fini(&b);
    /* The largest user type, an empty payload. */
    fx_term_builder_init(&b);
    cr_assert_eq(fx_term_from_plain(&b, FX_MSG_SYSTEM_BASE - 1, NULL, 0), 0);
    r = reader_of(&b);
    cr_assert_eq(fx_term_to_plain(&r, &type, &d, &n), 0);
    cr_assert_eq(type, FX_MSG_SYSTEM_BASE - 1);
    cr_assert_eq(n, 0);
    fx_term_builder_fini(&b);
    /* Other shapes: refused, cursor kept. */
    static const char *const other[] = {"{7, <<\"a\">>, x}",  "{-1, <<>>}",
                                        "{4294901760, <<>>}", "{7, \"str\"}",
                                        "[7, <<>>]",          "{a, <<>>}"};
    for (size_t k = 0; k < sizeof other / sizeof other[0]; k++) {
        fx_term_builder_init(&b);
        cr_assert_eq(fx_term_format(&b, other[k]), 0);
        r = reader_of(&b);
        fx_term_reader before = r;
        cr_assert_eq(fx_term_to_plain(&r, &type, &d, &n), FX_EBADTERM, "%s", other[k]);
        cr_assert_eq(memcmp(&r, &before, sizeof r), 0);
        fx_term_builder_fini(&b);
    }
}

/* depth nested one-element tuples around an atom, as raw bytes. */
static char *nested(size_t depth, size_t *size)
{
    char *p = malloc(depth * 2 + 4);
    p[0] = (char) 131;
    for (size_t k = 0; k < depth; k++) {
        p[1 + 2 * k] = 104;
        p[2 + 2 * k] = 1;
    }
    memcpy(p + 1 + 2 * depth, "\x6a", 1); /* [] */
    *size = 2 + 2 * depth;
    return p;
}

Test(term, nesting_has_no_limit_but_format_has)
{
    /* OTP accepts any depth, and so do the reader, the printer and the
     * builder: their stacks are on the heap, no recursion. */
    size_t n;
    char *ok = nested(FX_TERM_MAX_DEPTH + 1, &n);
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, ok, n), 0, "past FX_TERM_MAX_DEPTH is fine");
    char *out = malloc(4 * FX_TERM_MAX_DEPTH + 8);
    cr_assert_eq(fx_term_print(&r, out, 4 * FX_TERM_MAX_DEPTH + 8),
                 2 * FX_TERM_MAX_DEPTH + 4);
    cr_assert_eq(fx_term_skip(&r), 0);
    cr_assert(fx_term_at_end(&r));
    free(ok);
    /* A million levels: read, skipped and printed without recursing. */
    char *deep = nested(1000000, &n);
    cr_assert_eq(fx_term_reader_init(&r, deep, n), 0);
    cr_assert_eq(fx_term_sprint(deep, n, out, 8), 2 * 1000000 + 2);
    cr_assert_str_eq(out, "{{{{{{{");
    cr_assert_eq(fx_term_skip(&r), 0);
    /* ... cut short by one byte: refused, still without recursing */
    cr_assert_eq(fx_term_reader_init(&r, deep, n - 1), FX_EBADTERM);
    free(deep);
    free(out);
    /* The builder too (fx_term_builder_data validates). */
    fx_term_builder b;
    fx_term_builder_init(&b);
    for (int k = 0; k <= FX_TERM_MAX_DEPTH; k++)
        fx_term_put_tuple(&b, 1);
    fx_term_put_nil(&b);
    const void *d;
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    fx_term_builder_fini(&b);
    /* fx_term_format: the same limit, without overflowing its recursion. */
    for (int extra = 0; extra < 2; extra++) {
        int levels = FX_TERM_MAX_DEPTH + extra;
        char *f = malloc(2 * (size_t) levels + 3);
        memset(f, '{', (size_t) levels);
        memcpy(f + levels, "ok", 2);
        memset(f + levels + 2, '}', (size_t) levels);
        f[2 * levels + 2] = 0;
        fx_term_builder_init(&b);
        cr_assert_eq(fx_term_format(&b, f), extra ? FX_EINVAL : 0, "%d levels", levels);
        fx_term_builder_fini(&b);
        free(f);
    }
    /* A list of a million elements is one level. */
    fx_term_builder_init(&b);
    fx_term_put_list(&b, 1000000);
    for (int k = 0; k < 1000000; k++)
        fx_term_put_i64(&b, k);
    fx_term_put_nil(&b);
    r = reader_of(&b);
    cr_assert_eq(fx_term_skip(&r), 0);
    fx_term_builder_fini(&b);
}

/* ---- bytes of a real Erlang ------------------------------------------- */

typedef struct interop_case {
    const char *src; /* Erlang source; fx_term_format builds it when it can */
    bool print;      /* our printer must equal io_lib:format("~w") */
} interop_case;

static const interop_case cases[] = {
    {"ok", true},
    {"'hello world'", true},
    {"'Quoted'", true},
    {"{'receive', 'a\\'b', '', 'a-b', a@b_C1}", true},
    {"[]", true},
    {"{0, 255, 256, -1, 2147483647, 2147483648, -2147483648, -2147483649}", true},
    {"{9223372036854775807, -9223372036854775808}", true},
    {"18446744073709551616", true},
    {"-340282366920938463463374607431768211456", true},
    {"1 bsl 2100", true},
    {"{1.5, -0.25, 0.1, 100.0, 1.0e20, 123456789.0, 2.5e-7, 1.0e300}", true},
    {"<<>>", true},
    {"<<\"bin\">>", true},
    {"<<1, 2:3>>", true},
    {"\"abc\"", true},
    {"lists:seq(1, 70000)", true},
    {"{}", true},
    {"{ok, 42, <<\"bin\">>}", true},
    {"[1, 2, 3]", true},
    {"[a, b | c]", true},
    {"[{a, 1}, [], \"\", [[]]]", true},
    {"#{a => 1, b => [x], \"k\" => #{}}", true},
    {"#{}", true},
    {"list_to_tuple(lists:seq(1, 300))", true},
    {"maps:from_list([{N, N} || N <- lists:seq(1, 40)])", false},
    {"{self(), make_ref(), hd(erlang:ports()), fun lists:map/2, fun() -> ok end}", false},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static void hex(FILE *f, const unsigned char *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        fprintf(f, "%02X", p[k]);
}

static unsigned char *unhex(const char *h, size_t *n)
{
    size_t len = strlen(h) / 2;
    unsigned char *p = malloc(len ? len : 1);
    for (size_t k = 0; k < len; k++) {
        unsigned v;
        cr_assert_eq(sscanf(h + 2 * k, "%2X", &v), 1);
        p[k] = (unsigned char) v;
    }
    *n = len;
    return p;
}

Test(term, erlang_interop, .timeout = 120)
{
    if (system("command -v escript >/dev/null 2>&1") != 0)
        cr_skip_test(
            "escript (erlang-base) not installed: no real Erlang to compare with");
    char in[] = "/tmp/fx_term_inXXXXXX", outp[] = "/tmp/fx_term_outXXXXXX";
    int fi = mkstemp(in), fo = mkstemp(outp);
    cr_assert(fi >= 0 && fo >= 0);
    close(fo);
    FILE *f = fdopen(fi, "w");
    int built = 0;
    for (size_t k = 0; k < N_CASES; k++) {
        fprintf(f, "%s\t", cases[k].src);
        fx_term_builder b;
        fx_term_builder_init(&b);
        const void *d;
        size_t n;
        if (fx_term_format(&b, cases[k].src) == 0 &&
            fx_term_builder_data(&b, &d, &n) == 0) {
            hex(f, d, n);
            built++;
        } else {
            fputs("-", f);
        }
        fputs("\n", f);
        fx_term_builder_fini(&b);
    }
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "escript '%s' '%s' '%s'", FX_TERM_INTEROP_SCRIPT, in, outp);
    int st = system(cmd);
    cr_assert_eq(st, 0, "%s: status %d", cmd, st);
    f = fopen(outp, "r");
    cr_assert_not_null(f);
    size_t cap = 8 << 20;
    char *line = malloc(cap);
    char *text = malloc(cap);
    for (size_t k = 0; k < N_CASES; k++) {
        cr_assert_not_null(fgets(line, (int) cap, f), "case %zu: no answer", k);
        line[strcspn(line, "\n")] = 0;
        char *t1 = strchr(line, '\t');
        cr_assert_not_null(t1);
        *t1 = 0;
        char *t2 = strchr(t1 + 1, '\t');
        cr_assert_not_null(t2);
        *t2 = 0;
        if (strcmp(line, "-") != 0)
            cr_expect_str_eq(line, "same", "%s: Erlang decodes our bytes to another term",
                             cases[k].src);
        size_t n;
        unsigned char *bytes = unhex(t1 + 1, &n);
        fx_term_reader r;
        int rc = fx_term_reader_init(&r, bytes, n);
        cr_assert_eq(rc, 0, "%s: %s", cases[k].src, fx_err_name(rc));
        int len = fx_term_print(&r, text, cap);
        cr_assert(len >= 0 && (size_t) len < cap);
        if (cases[k].print)
            cr_expect_str_eq(text, t2 + 1, "%s: printed differently", cases[k].src);
        /* Copied whole through put_raw: the same bytes. */
        const void *raw;
        size_t rn;
        cr_assert_eq(fx_term_get_raw(&r, &raw, &rn), 0);
        cr_assert(fx_term_at_end(&r));
        fx_term_builder b;
        fx_term_builder_init(&b);
        cr_assert_eq(fx_term_put_raw(&b, raw, rn), 0);
        const void *d;
        size_t dn;
        cr_assert_eq(fx_term_builder_data(&b, &d, &dn), 0);
        cr_assert(dn == n && memcmp(d, bytes, n) == 0);
        fx_term_builder_fini(&b);
        free(bytes);
    }
    fprintf(stderr,
            "term interop: %zu terms from erl decoded and printed, %d built here and "
            "decoded by erl\n",
            N_CASES, built);
    free(line);
    free(text);
    fclose(f);
    unlink(in);
    unlink(outp);
}

/* --- a mailbox limit refuses a term like an application message -------- */

static int gate;    /* atomic: 1 = open */
static int entered; /* atomic: 1 = the first message is being handled */

static fx_next gated_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    /* Release: the test's acquire load sees the message taken out. */
    __atomic_store_n(&entered, 1, __ATOMIC_RELEASE);
    /* Acquire pairs with the test's release store opening the gate. */
    for (int i = 0; i < 100000 && !__atomic_load_n(&gate, __ATOMIC_ACQUIRE); i++)
        usleep(100); /* bounded: 10 s */
    return fx_continue(cx);
}

Test(term, mailbox_limit_refuses_terms)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    fx_spawn_opts o = {.handler = gated_h,
                       .mailbox = {.max = 1, .policy = FX_MAILBOX_DROP}};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(vm, &o, &p), 0);
    cr_assert_eq(fx_vm_send(vm, p, 1, NULL, 0), 0);
    /* Acquire pairs with the handler's release store. */
    for (int i = 0; i < 100000 && !__atomic_load_n(&entered, __ATOMIC_ACQUIRE); i++)
        usleep(100);
    cr_assert_eq(fx_vm_send(vm, p, 1, NULL, 0), 0, "one queued: at the limit");
    fx_msg *m;
    cr_assert_eq(fx_term_format_msg(&m, "{ping, 1}"), 0);
    cr_assert_eq(fx_vm_send_msg(vm, p, m), FX_EAGAIN, "a term past the limit is refused");
    /* Release: the handler's acquire load sees the gate open. */
    __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
    fx_msg_free(m);
    fx_vm_shutdown(vm);
    fx_vm_destroy(vm);
}

Test(term, prefix_of_a_frame)
{
    /* A control term and a message back to back, then garbage. */
    fx_term_builder a, b;
    fx_term_builder_init(&a);
    fx_term_builder_init(&b);
    fx_term_format(&a, "{2, '', ~u}", (uint64_t) 42);
    fx_term_format(&b, "{hello, <<\"x\">>}");
    const void *da, *db;
    size_t na, nb;
    fx_term_builder_data(&a, &da, &na);
    fx_term_builder_data(&b, &db, &nb);
    char frame[128];
    memcpy(frame, da, na);
    memcpy(frame + na, db, nb);
    memcpy(frame + na + nb, "\xff", 1);
    fx_term_reader r;
    size_t used = 0;
    cr_assert_eq(fx_term_reader_init(&r, frame, na + nb), FX_EBADTERM, "two terms");
    cr_assert_eq(fx_term_reader_init_prefix(&r, frame, na + nb + 1, &used), 0);
    cr_assert_eq(used, na);
    cr_assert_eq(fx_term_match(&r, "2", 3), 0);
    cr_assert_eq(fx_term_skip(&r), 0);
    cr_assert(fx_term_at_end(&r), "the reader stops at the first term's end");
    cr_assert_eq(fx_term_reader_init_prefix(&r, frame + used, na + nb + 1 - used, &used),
                 0);
    cr_assert_eq(used, nb);
    cr_assert_eq(fx_term_match(&r, "hello", 2), 1);
    cr_assert_eq(fx_term_reader_init_prefix(&r, frame + na + nb, 1, &used), FX_EBADTERM);
    cr_assert_eq(fx_term_reader_init_prefix(&r, frame, na - 1, &used), FX_EBADTERM,
                 "truncated");
    fx_term_builder_fini(&a);
    fx_term_builder_fini(&b);
}
