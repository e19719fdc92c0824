/* review12: term.h checked against Erlang/OTP's documented ETF and
 * io:format("~w") behaviour (the s8 second-pass review). Each test names
 * the promise it checks and fails today for the reason its comment
 * gives. The expected bytes and texts are what OTP 25's erl answers
 * (term_to_binary/1, binary_to_term/1, io:format("~w")). */
#include <criterion/criterion.h>
#include <fauxtp/fauxtp.h>
#include <fauxtp/term.h>

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

TestSuite(review12_term, .timeout = 60);

static void expect_bytes(fx_term_builder *b, const unsigned char *want, size_t n,
                         const char *what)
{
    const void *d = NULL;
    size_t size = 0;
    int rc = fx_term_builder_data(b, &d, &size);
    cr_assert_eq(rc, 0, "%s: %s", what, fx_strerror(rc));
    const unsigned char *u = d;
    char got[128] = "";
    for (size_t i = 0, o = 0; i < size && o + 5 < sizeof got; i++)
        o += (size_t) snprintf(got + o, sizeof got - o, "%u ", u[i]);
    cr_expect(size == n && memcmp(d, want, n) == 0,
              "%s: written as %s(%zu bytes), Erlang writes INTEGER_EXT (%zu bytes)", what,
              got, size, n);
}

/* term.h:109 "Integers, in the smallest encoding (small, 32-bit or
 * bignum)" and docs/terms.md "integers ... are encoded exactly as Erlang
 * does". term_to_binary(2147483647) is <<131,98,127,255,255,255>>
 * (INTEGER_EXT: every integer that fits in a signed 32-bit word), but
 * fx_term_put_i64 goes through ei_encode_longlong, whose INTEGER_EXT
 * range is ei's old 28-bit one (ERL_MIN..ERL_MAX = -2^27..2^27-1): from
 * 2^27 to 2^31-1 and from -2^31 to -2^27-1 it writes an 8-byte
 * SMALL_BIG_EXT. */
Test(review12_term, put_i64_uses_integer_ext_for_every_32_bit_value)
{
    static const struct {
        int64_t v;
        unsigned char want[6];
    } cases[] = {
        {134217728, {131, 98, 8, 0, 0, 0}},          /* 2^27 */
        {2147483647, {131, 98, 127, 255, 255, 255}}, /* 2^31 - 1 */
        {-134217729, {131, 98, 247, 255, 255, 255}}, /* -2^27 - 1 */
        {-2147483647 - 1, {131, 98, 128, 0, 0, 0}},  /* -2^31 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_term_builder b;
        cr_assert_eq(fx_term_builder_init(&b), 0);
        cr_assert_eq(fx_term_put_i64(&b, cases[i].v), 0);
        char what[64];
        snprintf(what, sizeof what, "fx_term_put_i64(%lld)", (long long) cases[i].v);
        expect_bytes(&b, cases[i].want, sizeof cases[i].want, what);
        fx_term_builder_fini(&b);
    }
}

/* term.h:112-116: fx_term_put_bignum is "Encoded as Erlang would (an
 * integer that fits in 32 bits as a plain integer)". 2^30 fits. */
Test(review12_term, put_bignum_of_a_32_bit_value_is_a_plain_integer)
{
    static const uint8_t mag[] = {0, 0, 0, 0x40}; /* 2^30 */
    static const unsigned char want[] = {131, 98, 64, 0, 0, 0};
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    cr_assert_eq(fx_term_put_bignum(&b, 0, mag, sizeof mag), 0);
    expect_bytes(&b, want, sizeof want, "fx_term_put_bignum(2^30)");
    fx_term_builder_fini(&b);
}

/* [0 | [1 | [2 | []]]] written with the builder's own list headers of one
 * element each (term.h:125-128: "the next n terms are the list's elements
 * followed by ONE tail term"; ei_encode_list_header's way to stream a list
 * of unknown length). It is the list [0,1,2]: Erlang's binary_to_term
 * gives [0,1,2] and io:format("~w") prints "[0,1,2]" (term.h:280-281
 * promises ~w's text for lists); fx_term_print prints [0|[1|[2]]]. */
static void cons_chain(fx_term_builder *b, const int64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fx_term_put_list(b, 1);
        fx_term_put_i64(b, v[i]);
    }
    fx_term_put_nil(b);
}

Test(review12_term, a_list_written_cell_by_cell_prints_as_erlang_prints_it)
{
    static const int64_t v[] = {0, 1, 2};
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    cons_chain(&b, v, 3);
    const void *d;
    size_t n;
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    char out[64];
    int rc = fx_term_sprint(d, n, out, sizeof out);
    cr_expect(rc > 0 && strcmp(out, "[0,1,2]") == 0,
              "printed %s (rc %d), ~w prints [0,1,2]", out, rc);
    fx_term_builder_fini(&b);
}

/* term.h:222-225: fx_term_get_string reads "[] or a proper list of
 * integers 0..255". [104 | [105 | []]] is the proper list "hi"; the
 * getter refuses it with FX_EBADTERM. */
Test(review12_term, get_string_reads_a_proper_list_written_cell_by_cell)
{
    static const int64_t v[] = {'h', 'i'};
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    cons_chain(&b, v, 2);
    const void *d;
    size_t n;
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, d, n), 0);
    char s[8] = "";
    size_t len = 0;
    int rc = fx_term_get_string(&r, s, sizeof s, &len);
    cr_expect(rc == 0 && len == 2 && strcmp(s, "hi") == 0,
              "fx_term_get_string of [104|[105|[]]]: %s", rc ? fx_strerror(rc) : s);
    fx_term_builder_fini(&b);
}

/* term.h:32-35: "a proper list of N elements is one level, not N".
 * A proper list of 300 integers written cell by cell (each tail a list
 * header) is one list to Erlang (binary_to_term accepts it), but the
 * validator counts each tail as a level and refuses it past
 * FX_TERM_MAX_DEPTH, in fx_term_builder_data and in fx_term_reader_init
 * (so such a term from a C node is dropped). */
Test(review12_term, a_proper_list_written_cell_by_cell_is_one_level)
{
    int64_t v[300];
    for (int i = 0; i < 300; i++)
        v[i] = i;
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    cons_chain(&b, v, 300);
    const void *d = NULL;
    size_t n = 0;
    int rc = fx_term_builder_data(&b, &d, &n);
    cr_expect_eq(rc, 0, "fx_term_builder_data of a 300-element proper list: %s",
                 fx_strerror(rc));
    fx_term_builder_fini(&b);
}

/* term.h:280-281: ~w's text for maps. A map is a set of pairs: #{b => 1,
 * a => 2} is the same term as #{a => 2, b => 1}, and ~w prints a small map
 * in key order: "#{a => 2,b => 1}" (OTP 25). fx_term_print prints the
 * pairs in the order they were encoded (a C builder's order). */
Test(review12_term, a_small_map_prints_in_key_order_as_erlang_prints_it)
{
    static const unsigned char t[] = {131, 116, 0, 0,   0, 2, 100, 0,  1,
                                      'b', 97,  1, 100, 0, 1, 'a', 97, 2};
    char out[64];
    int rc = fx_term_sprint(t, sizeof t, out, sizeof out);
    cr_expect(rc > 0 && strcmp(out, "#{a => 2,b => 1}") == 0,
              "printed %s (rc %d), ~w prints #{a => 2,b => 1}", out, rc);
}

/* term.h:182-187: fx_term_reader_init refuses "what binary_to_term also
 * refuses: ... a map with two equal keys". binary_to_term refuses (badarg)
 * a map whose keys are the atom a written as ATOM_EXT and as
 * SMALL_ATOM_UTF8_EXT, and one whose keys are 1 as SMALL_INTEGER_EXT and
 * INTEGER_EXT; the validator compares key bytes only and accepts both
 * (docs/terms.md owns up to it, the header does not). */
Test(review12_term, a_map_with_equal_keys_in_two_encodings_is_refused)
{
    static const unsigned char atoms[] = {131, 116, 0, 0,   0, 2,   100, 0, 1,
                                          'a', 97,  1, 119, 1, 'a', 97,  2};
    static const unsigned char ints[] = {131, 116, 0, 0, 0, 2, 97, 1, 97,
                                         1,   98,  0, 0, 0, 1, 97, 2};
    fx_term_reader r;
    int rc = fx_term_reader_init(&r, atoms, sizeof atoms);
    cr_expect_eq(rc, FX_EBADTERM, "#{a => 1, a => 2} (two atom encodings): %d", rc);
    rc = fx_term_reader_init(&r, ints, sizeof ints);
    cr_expect_eq(rc, FX_EBADTERM, "#{1 => 1, 1 => 2} (two integer encodings): %d", rc);
}

/* term.h:280: integers print as ~w prints them. SMALL_BIG_EXT with sign 1
 * and a zero magnitude is 0 to binary_to_term (~w prints "0");
 * fx_term_print prints "-0", which is not an Erlang integer's text. */
Test(review12_term, a_negative_zero_bignum_prints_as_0)
{
    static const unsigned char t[] = {131, 110, 1, 1, 0};
    char out[16];
    int rc = fx_term_sprint(t, sizeof t, out, sizeof out);
    cr_expect(rc > 0 && strcmp(out, "0") == 0, "printed %s (rc %d), ~w prints 0", out,
              rc);
}

/* Two encodings Erlang's own encoder never writes but binary_to_term
 * accepts (a C node's or another library's), checked against OTP 25:
 * BIT_BINARY_EXT with 8 bits in the last byte is a binary (<<"x">>), so
 * {1, <<"x">>} written that way is the plain message {T, Binary}
 * (term.h:294-302) and fx_term_type says FX_TERM_BINARY (term.h:46 "a
 * whole number of bytes"); LIST_EXT with 0 elements and tail x is x itself
 * (binary_to_term gives x; ~w prints "x"), but fx_term_print writes "[|x]",
 * which is no Erlang text. */
Test(review12_term, a_bit_binary_of_whole_bytes_is_a_binary)
{
    static const unsigned char t[] = {131, 104, 2, 97, 1, 77, 0, 0, 0, 1, 8, 'x'};
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, t, sizeof t), 0);
    uint32_t type = 0;
    const void *d = NULL;
    size_t n = 0;
    int rc = fx_term_to_plain(&r, &type, &d, &n);
    cr_expect(rc == 0 && type == 1 && n == 1, "fx_term_to_plain of {1, <<\"x\">>}: %s",
              fx_strerror(rc));
    static const unsigned char b[] = {131, 77, 0, 0, 0, 1, 8, 'x'};
    cr_assert_eq(fx_term_reader_init(&r, b, sizeof b), 0);
    cr_expect_eq(fx_term_type(&r), FX_TERM_BINARY, "fx_term_type of <<\"x\">>: %d",
                 fx_term_type(&r));
}

Test(review12_term, an_empty_list_ext_with_a_tail_prints_as_the_tail)
{
    static const unsigned char t[] = {131, 108, 0, 0, 0, 0, 100, 0, 1, 'x'};
    char out[16];
    int rc = fx_term_sprint(t, sizeof t, out, sizeof out);
    cr_expect(rc > 0 && strcmp(out, "x") == 0, "printed %s (rc %d), ~w prints x", out,
              rc);
}

/* term.h:151-153: fx_term_format answers "FX_EINVAL for a syntax error
 * in fmt". A fmt that ends in the middle of a term makes the parser step
 * over the terminating NUL and read on past the string (checked one by one
 * under ASan): "~" (hole() consumes the NUL, then fx_term_vformat's
 * spaces() reads the next byte), "[1|2" and "[1|[2|[]]" (a list whose ']'
 * is missing: "*f->s++ != close" in container()), "'abc\\" (escape()
 * consumes the NUL, then unquote() reads on). The other cuts are refused
 * cleanly today and stay as guards. Each fmt ends exactly at the end of a
 * readable page followed by an inaccessible one, so reading past its NUL
 * faults (without ASan too). */
Test(review12_term, a_fmt_cut_short_is_einval_and_read_only_up_to_its_nul)
{
    static const char *cuts[] = {"~",     "{ok, ~", "[1|2",   "[1|[2|[]]",
                                 "{1, 2", "'abc\\", "\"ab\\", "<<\"ab\\"};
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, (size_t) pg * 2, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    cr_assert_eq(mprotect(m + pg, (size_t) pg, PROT_NONE), 0);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        size_t n = strlen(cuts[i]) + 1;
        char *f = m + pg - n; /* its NUL is the page's last byte */
        memcpy(f, cuts[i], n);
        fx_term_builder b;
        cr_assert_eq(fx_term_builder_init(&b), 0);
        int rc = fx_term_format(&b, f);
        fx_term_builder_fini(&b);
        cr_expect_eq(rc, FX_EINVAL, "fx_term_format(\"%s\"): %d", cuts[i], rc);
    }
    munmap(m, (size_t) pg * 2);
}

/* term.h:150 "~t const fx_term_builder * (its finished term, spliced
 * in)", and bad input is an error code, never a crash: splicing a
 * growable builder's term into that same builder reads the term from the
 * buffer fx_term_put_raw has just realloc()ed away (src/term/builder.c:
 * fxi_tb_reserve, then memcpy from the old buffer): a use after free that
 * the ASan build reports (the debug build may not notice). The builder
 * then holds two terms, so fx_term_builder_data answers FX_EBADTERM
 * either way; the expected result is an error or a copy, not a memory
 * error. */
Test(review12_term, splicing_a_builder_into_itself_is_no_use_after_free)
{
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    char big[100];
    memset(big, 'x', sizeof big);
    cr_assert_eq(fx_term_put_binary(&b, big, sizeof big), 0); /* 128-byte buffer, full */
    int rc = fx_term_format(&b, "~t", &b);
    const void *d;
    size_t n;
    int fin = fx_term_builder_data(&b, &d, &n);
    fx_term_builder_fini(&b);
    cr_expect(rc != 0 || fin == FX_EBADTERM, "format %d, data %d", rc, fin);
}
