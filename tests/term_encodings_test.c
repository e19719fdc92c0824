/* The term API on encodings Erlang reads but does not always write, and
 * the edges of the review12 fixes (docs/terms.md, "Reading", "Printing",
 * "Limits"): integer encodings, lists split into cells, map key equality
 * and order, BIT_BINARY_EXT of whole bytes, LIST_EXT(0, T), a format cut
 * short anywhere, a builder spliced into itself. Expected texts are OTP
 * 25's io:format("~w") of the same terms. */
#include <criterion/criterion.h>
#include <fauxtp/fauxtp.h>
#include <fauxtp/term.h>

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

TestSuite(term_encodings, .timeout = 60);

static void expect_put(int64_t v, const unsigned char *want, size_t n)
{
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    cr_assert_eq(fx_term_put_i64(&b, v), 0);
    const void *d;
    size_t size;
    cr_assert_eq(fx_term_builder_data(&b, &d, &size), 0);
    cr_expect(size == n + 1 && memcmp((const char *) d + 1, want, n) == 0,
              "fx_term_put_i64(%lld): %zu bytes", (long long) v, size);
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, d, size), 0);
    int64_t back = 0;
    cr_expect_eq(fx_term_get_i64(&r, &back), 0);
    cr_expect_eq(back, v);
    fx_term_builder_fini(&b);
}

Test(term_encodings, integers_as_term_to_binary_writes_them)
{
    expect_put(0, (const unsigned char[]){97, 0}, 2);
    expect_put(255, (const unsigned char[]){97, 255}, 2);
    expect_put(256, (const unsigned char[]){98, 0, 0, 1, 0}, 5);
    expect_put(-1, (const unsigned char[]){98, 255, 255, 255, 255}, 5);
    expect_put(2147483648LL, (const unsigned char[]){110, 4, 0, 0, 0, 0, 128}, 7);
    expect_put(-2147483649LL, (const unsigned char[]){110, 4, 1, 1, 0, 0, 128}, 7);
    /* u64 and a negative 32-bit bignum take the same forms */
    fx_term_builder b;
    const void *d;
    size_t n;
    fx_term_builder_init(&b);
    fx_term_put_tuple(&b, 2);
    fx_term_put_u64(&b, 2147483647u);
    fx_term_put_bignum(&b, 1, (const uint8_t[]){0, 0, 0, 0x80}, 4); /* -2^31 */
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    static const unsigned char want[] = {131, 104, 2,   98, 127, 255, 255,
                                         255, 98,  128, 0,  0,   0};
    cr_expect(n == sizeof want && memcmp(d, want, n) == 0);
    fx_term_builder_fini(&b);
}

static int sprint(const unsigned char *t, size_t n, char *out, size_t cap)
{
    return fx_term_sprint(t, n, out, cap);
}

Test(term_encodings, lists_however_their_cells_are_encoded)
{
    char out[64];
    /* [1 | "ab"]: a LIST_EXT cell whose tail is a STRING_EXT */
    static const unsigned char a[] = {131, 108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 'a', 'b'};
    cr_expect_gt(sprint(a, sizeof a, out, sizeof out), 0);
    cr_expect_str_eq(out, "[1,97,98]");
    fx_term_reader r;
    char s[8];
    size_t len;
    cr_assert_eq(fx_term_reader_init(&r, a, sizeof a), 0);
    cr_expect_eq(fx_term_get_string(&r, s, sizeof s, &len), 0);
    cr_expect(len == 3 && memcmp(s, "\1ab", 3) == 0);
    cr_expect(fx_term_at_end(&r));
    /* [1 | LIST_EXT(0, [2 | x])]: improper, through an empty header */
    static const unsigned char b[] = {131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0,
                                      0,   108, 0, 0, 0, 1, 97, 2, 100, 0, 1, 'x'};
    cr_expect_gt(sprint(b, sizeof b, out, sizeof out), 0);
    cr_expect_str_eq(out, "[1,2|x]");
    cr_assert_eq(fx_term_reader_init(&r, b, sizeof b), 0);
    cr_expect_eq(fx_term_get_string(&r, s, sizeof s, &len), FX_EBADTERM);
    /* LIST_EXT(0, 7) as a tuple element: the reader sees 7 */
    static const unsigned char c[] = {131, 104, 1, 108, 0, 0, 0, 0, 97, 7};
    cr_assert_eq(fx_term_reader_init(&r, c, sizeof c), 0);
    uint32_t ar;
    int64_t v = 0;
    cr_assert_eq(fx_term_get_tuple(&r, &ar), 0);
    cr_expect_eq(fx_term_type(&r), FX_TERM_INTEGER);
    cr_expect_eq(fx_term_get_i64(&r, &v), 0);
    cr_expect_eq(v, 7);
    cr_expect(fx_term_at_end(&r));
    cr_expect_gt(sprint(c, sizeof c, out, sizeof out), 0);
    cr_expect_str_eq(out, "{7}");
}

Test(term_encodings, bit_binaries_as_erlang_reads_them)
{
    char out[32];
    fx_term_reader r;
    /* no bytes and 0 bits: <<>> */
    static const unsigned char e[] = {131, 77, 0, 0, 0, 0, 0};
    cr_assert_eq(fx_term_reader_init(&r, e, sizeof e), 0);
    cr_expect_eq(fx_term_type(&r), FX_TERM_BINARY);
    const void *d;
    size_t n = 9;
    cr_expect_eq(fx_term_get_binary(&r, &d, &n), 0);
    cr_expect_eq(n, 0);
    cr_expect_gt(sprint(e, sizeof e, out, sizeof out), 0);
    cr_expect_str_eq(out, "<<>>");
    /* 0 bits with bytes, bits with no bytes, 9 bits: badarg in OTP */
    static const unsigned char bad1[] = {131, 77, 0, 0, 0, 1, 0, 1};
    static const unsigned char bad2[] = {131, 77, 0, 0, 0, 0, 3};
    static const unsigned char bad3[] = {131, 77, 0, 0, 0, 1, 9, 1};
    cr_expect_eq(fx_term_reader_init(&r, bad1, sizeof bad1), FX_EBADTERM);
    cr_expect_eq(fx_term_reader_init(&r, bad2, sizeof bad2), FX_EBADTERM);
    cr_expect_eq(fx_term_reader_init(&r, bad3, sizeof bad3), FX_EBADTERM);
    /* a partial last byte stays a bitstring */
    static const unsigned char p[] = {131, 77, 0, 0, 0, 1, 3, 0xE0};
    cr_assert_eq(fx_term_reader_init(&r, p, sizeof p), 0);
    cr_expect_eq(fx_term_type(&r), FX_TERM_BITSTRING);
    cr_expect_eq(fx_term_get_binary(&r, &d, &n), FX_EBADTERM);
}

static int map_of(const char *fmt, char *out, size_t cap)
{
    fx_term_builder b;
    fx_term_builder_init(&b);
    int rc = fx_term_format(&b, fmt);
    const void *d;
    size_t n;
    if (!rc)
        rc = fx_term_builder_data(&b, &d, &n);
    if (!rc)
        rc = fx_term_sprint(d, n, out, cap);
    fx_term_builder_fini(&b);
    return rc;
}

Test(term_encodings, small_maps_print_in_key_order)
{
    char out[256];
    fx_term_builder b;
    fx_term_builder_init(&b);
    fx_term_put_map(&b, 9);
    fx_term_format(&b, "1.5"), fx_term_format(&b, "a");
    fx_term_format(&b, "2"), fx_term_format(&b, "b");
    fx_term_format(&b, "\"ab\""), fx_term_format(&b, "c");
    fx_term_format(&b, "[]"), fx_term_format(&b, "d");
    fx_term_format(&b, "<<>>"), fx_term_format(&b, "e");
    fx_term_format(&b, "{1}"), fx_term_format(&b, "f");
    fx_term_format(&b, "x"), fx_term_format(&b, "g");
    fx_term_format(&b, "-3"), fx_term_format(&b, "h");
    fx_term_put_bignum(&b, 0, (const uint8_t[]){0, 0, 0, 0, 0, 0, 0, 0, 64},
                       9); /* 2^70 */
    fx_term_format(&b, "i");
    const void *d;
    size_t n;
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    cr_assert_gt(fx_term_sprint(d, n, out, sizeof out), 0);
    cr_expect_str_eq(out, "#{-3 => h,2 => b,1180591620717411303424 => i,1.5 => a,x => g,"
                          "{1} => f,[] => d,[97,98] => c,<<>> => e}");
    fx_term_builder_fini(&b);
    cr_assert_gt(map_of("#{b => #{z => 1, y => 2}, a => [1|2]}", out, sizeof out), 0);
    cr_expect_str_eq(out, "#{a => [1|2],b => #{y => 2,z => 1}}");
    /* 33 keys: a hashmap to Erlang, printed in encoded order */
    fx_term_builder_init(&b);
    fx_term_put_map(&b, 33);
    for (int k = 33; k > 0; k--) {
        fx_term_put_i64(&b, k);
        fx_term_put_nil(&b);
    }
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    cr_assert_gt(fx_term_sprint(d, n, out, sizeof out), 0);
    cr_expect(strncmp(out, "#{33 => [],32 => [],", 20) == 0, "%s", out);
    fx_term_builder_fini(&b);
}

Test(term_encodings, map_keys_equal_in_other_encodings_are_duplicates)
{
    fx_term_reader r;
    /* #{"a" => 1, [97] => 2}: STRING_EXT and LIST_EXT */
    static const unsigned char s1[] = {131, 116, 0, 0, 0, 2, 107, 0,   1,   'a', 97,
                                       1,   108, 0, 0, 0, 1, 97,  'a', 106, 97,  2};
    cr_expect_eq(fx_term_reader_init(&r, s1, sizeof s1), FX_EBADTERM);
    /* #{0.0 => 1, -0.0 => 2}: one key in OTP 25 */
    static const unsigned char f0[] = {131, 116, 0, 0,  0,   2, 70, 0, 0, 0, 0, 0, 0,  0,
                                       0,   97,  1, 70, 128, 0, 0,  0, 0, 0, 0, 0, 97, 2};
    cr_expect_eq(fx_term_reader_init(&r, f0, sizeof f0), FX_EBADTERM);
    /* #{{a} => 1, {a} => 2}: the atom in two encodings inside a tuple */
    static const unsigned char t[] = {131, 116, 0, 0,   0, 2,   104, 1,   100, 0, 1,
                                      'a', 97,  1, 104, 1, 119, 1,   'a', 97,  2};
    cr_expect_eq(fx_term_reader_init(&r, t, sizeof t), FX_EBADTERM);
    /* #{1 => a, 1.0 => b}: two keys */
    char out[64];
    cr_assert_gt(map_of("#{1.0 => b, 1 => a}", out, sizeof out), 0);
    cr_expect_str_eq(out, "#{1 => a,1.0 => b}");
    /* 5 as a bignum and as SMALL_INTEGER_EXT among 20 keys (the sorted path) */
    fx_term_builder b;
    fx_term_builder_init(&b);
    fx_term_put_map(&b, 20);
    for (int k = 0; k < 19; k++)
        fx_term_put_i64(&b, 100 + k), fx_term_put_nil(&b);
    fx_term_put_raw(&b, (const unsigned char[]){110, 1, 0, 5}, 4);
    fx_term_put_nil(&b);
    const void *d;
    size_t n;
    cr_expect_eq(fx_term_builder_data(&b, &d, &n), 0);
    fx_term_builder_fini(&b);
    fx_term_builder_init(&b);
    fx_term_put_map(&b, 20);
    for (int k = 0; k < 19; k++)
        fx_term_put_i64(&b, k), fx_term_put_nil(&b);
    fx_term_put_raw(&b, (const unsigned char[]){110, 1, 0, 5}, 4);
    fx_term_put_nil(&b);
    cr_expect_eq(fx_term_builder_data(&b, &d, &n), FX_EBADTERM);
    fx_term_builder_fini(&b);
}

/* Each cut ends exactly at the end of a readable page followed by an
 * inaccessible one: reading past its NUL faults. */
Test(term_encodings, a_fmt_cut_anywhere_is_einval)
{
    static const char *cuts[] = {
        "~",   "#{a => 1", "#{a =", "#{a", "<<\"a\"",   "<<\"a\">", "'\\x{41", "\"\\^",
        "[1,", "{ok, ~t",  "'a\\",  "[1|", "#{a => 1,", "<<\"\\x{", "\"\\x4"};
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, (size_t) pg * 2, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    cr_assert_eq(mprotect(m + pg, (size_t) pg, PROT_NONE), 0);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        size_t n = strlen(cuts[i]) + 1;
        char *f = m + pg - n;
        memcpy(f, cuts[i], n);
        fx_term_builder b;
        cr_assert_eq(fx_term_builder_init(&b), 0);
        int rc = fx_term_format(&b, f);
        fx_term_builder_fini(&b);
        cr_expect_eq(rc, FX_EINVAL, "fx_term_format(\"%s\"): %d", cuts[i], rc);
    }
    munmap(m, (size_t) pg * 2);
}

Test(term_encodings, a_builder_spliced_into_itself_is_copied)
{
    /* growable: the copy survives the buffer's move */
    fx_term_builder b;
    fx_term_builder_init(&b);
    char big[100];
    memset(big, 'x', sizeof big);
    fx_term_put_tuple(&b, 2);
    fx_term_put_binary(&b, big, sizeof big);
    fx_term_put_atomz(&b, "ok");
    fx_term_builder t;
    fx_term_builder_init(&t);
    fx_term_put_tuple(&t, 2);
    cr_assert_eq(fx_term_format(&t, "~t", &b), 0);
    cr_assert_eq(fx_term_format(&t, "~t", &t), FX_EBADTERM); /* t is unfinished */
    fx_term_builder_fini(&t);
    size_t before = fx_term_builder_size(&b);
    cr_assert_eq(fx_term_format(&b, "~t", &b), 0);
    cr_expect_eq(fx_term_builder_size(&b), 2 * before - 1);
    const char *p = b.fxi_buf;
    cr_expect_eq(memcmp(p + 1, p + before, before - 1), 0, "the copy is the term");
    fx_term_builder_fini(&b);
    /* over caller memory */
    char mem[64];
    fx_term_builder_init_buf(&b, mem, sizeof mem);
    fx_term_put_atomz(&b, "abc");
    cr_assert_eq(fx_term_format(&b, "~t", &b), 0);
    cr_expect_eq(memcmp(mem + 1, mem + 6, 5), 0);
}
