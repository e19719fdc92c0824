/* term.h promises checked against OTP 25 (each test names the promise). */
#include <criterion/criterion.h>
#include <fauxtp/fauxtp.h>
#include <fauxtp/term.h>

#include <string.h>

/* SMALL_ATOM_UTF8_EXT 'a\0b', as Erlang's term_to_binary(list_to_atom([97,0,98]))
 * writes it. */
static const unsigned char nul_atom[] = {131, 119, 3, 'a', 0, 'b'};

/* term.h:198-203: get_atom gives the atom's name and "its length to
 * *len". An atom may hold a NUL byte (valid UTF-8; Erlang allows it, and
 * fx_term_put_atom writes it), but the reader cuts the name at the NUL and
 * reports length 1 with success. */
Test(term_otp, get_atom_does_not_cut_a_name_at_a_nul)
{
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, nul_atom, sizeof nul_atom), 0);
    char buf[FX_TERM_ATOM_MAX + 1];
    size_t len = 0;
    int rc = fx_term_get_atom(&r, buf, sizeof buf, &len);
    cr_expect(rc != 0 || (len == 3 && memcmp(buf, "a\0b", 3) == 0),
              "get_atom of 'a\\0b' succeeded with length %zu", len);
}

/* term.h:234-238: fx_term_match_atom answers 1 only when the term "is the
 * atom `name`". 'a\0b' is not the atom a. */
Test(term_otp, match_atom_does_not_take_a_nul_atom_for_its_prefix)
{
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, nul_atom, sizeof nul_atom), 0);
    cr_expect_eq(fx_term_match_atom(&r, "a"), 0);
    cr_expect_eq(fx_term_type(&r), FX_TERM_ATOM, "the cursor moved");
}

/* The same through the builder: what fx_term_put_atom accepted must not
 * read back as another atom. */
Test(term_otp, an_atom_put_with_a_nul_reads_back_whole_or_is_refused)
{
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    int put = fx_term_put_atom(&b, "a\0b", 3);
    if (put == 0) {
        const void *d;
        size_t n;
        cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
        fx_term_reader r;
        cr_assert_eq(fx_term_reader_init(&r, d, n), 0);
        char buf[16];
        size_t len = 0;
        int rc = fx_term_get_atom(&r, buf, sizeof buf, &len);
        cr_expect(rc != 0 || len == 3, "put 3 bytes, read back %zu", len);
    } else {
        cr_expect_eq(put, FX_EINVAL);
    }
    fx_term_builder_fini(&b);
}

static void print_bytes(const unsigned char *t, size_t n, char *out, size_t cap)
{
    int rc = fx_term_sprint(t, n, out, cap);
    cr_assert_gt(rc, 0, "fx_term_sprint: %d", rc);
}

/* term.h:274-276: atoms print "as io:format("~w") would". Erlang prints
 * the atom 'a\nb' as '\'a\\nb\'' (escaped), and 'a\0b' as '\'a\\000b\''; the
 * printer writes the raw control bytes (and cuts at the NUL: "a"). */
Test(term_otp, printer_escapes_control_characters_in_atoms_as_erlang)
{
    static const unsigned char nl[] = {131, 119, 3, 'a', '\n', 'b'};
    char out[64];
    print_bytes(nl, sizeof nl, out, sizeof out);
    cr_expect_str_eq(out, "'a\\nb'");
    print_bytes(nul_atom, sizeof nul_atom, out, sizeof out);
    cr_expect_str_eq(out, "'a\\000b'");
}

/* The same promise: io:format("~w", ['été']) prints été (Latin-1 letters
 * are name characters; io_lib:quote_atom), the printer quotes it. */
Test(term_otp, printer_leaves_latin1_atoms_unquoted_as_erlang)
{
    static const unsigned char ete[] = {131, 119, 5, 0xC3, 0xA9, 't', 0xC3, 0xA9};
    char out[64];
    print_bytes(ete, sizeof ete, out, sizeof out);
    cr_expect_str_eq(out, "\xC3\xA9t\xC3\xA9");
}

/* term.h:62-66: a failed put leaves the builder failed, "later puts return
 * the same code and write nothing". fx_term_put_atomz(b, NULL) after an
 * FX_EMSGSIZE answers FX_EINVAL instead. */
Test(term_otp, a_failed_builder_answers_its_sticky_code_to_put_atomz)
{
    char small[4];
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init_buf(&b, small, sizeof small), 0);
    cr_assert_eq(fx_term_put_binary(&b, "hello", 5), FX_EMSGSIZE);
    cr_expect_eq(fx_term_put_i64(&b, 1), FX_EMSGSIZE);
    cr_expect_eq(fx_term_put_atomz(&b, NULL), FX_EMSGSIZE);
}

/* term.h:140-151: fx_term_format reads Erlang syntax; a syntax error in
 * fmt is FX_EINVAL. Erlang reads "\r" as [13] and "\x41" as "A"; the
 * formatter only knows \n and \t and silently drops the backslash of any
 * other escape: "\r" becomes [114] ("r"), "\x41" becomes "x41". Either
 * the Erlang value or FX_EINVAL is right; a different term is not. */
static void expect_string(const char *fmt, const char *want, size_t wlen)
{
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    int rc = fx_term_format(&b, fmt);
    if (rc == 0) {
        const void *d;
        size_t n;
        cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
        fx_term_reader r;
        cr_assert_eq(fx_term_reader_init(&r, d, n), 0);
        char s[32];
        size_t len = 0;
        cr_assert_eq(fx_term_get_string(&r, s, sizeof s, &len), 0);
        cr_expect(len == wlen && memcmp(s, want, wlen) == 0,
                  "%s read as \"%.*s\" (%zu bytes)", fmt, (int) len, s, len);
    } else {
        cr_expect_eq(rc, FX_EINVAL, "%s: %d", fmt, rc);
    }
    fx_term_builder_fini(&b);
}

Test(term_otp, format_string_escapes_mean_what_they_mean_in_erlang)
{
    expect_string("\"a\\rb\"", "a\rb", 3);
    expect_string("\"\\x41\"", "A", 1);
    expect_string("\"\\101\"", "A", 1);
    expect_string("\"\\e\"", "\x1b", 1);
}

/* print.c's flt() says it picks "the shorter of plain decimal and
 * scientific notation ..., as float_to_list(F, [short]) chooses", and
 * term.h:274-277 prints floats in Erlang syntax. But float_to_list(F,
 * [short]) (erlang docs) uses scientific notation for every float outside
 * (-2^53, 2^53), "to avoid confusing results": io:format("~w",
 * [9007199254740992.0]) gives 9.007199254740992e15, the printer
 * 9007199254740992.0. Low severity: term.h only promises the digits. */
Test(term_otp, printer_uses_scientific_notation_beyond_2_pow_53_as_erlang)
{
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    cr_assert_eq(fx_term_put_double(&b, 9007199254740992.0), 0);
    const void *d;
    size_t n;
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    char out[64];
    cr_assert_gt(fx_term_sprint(d, n, out, sizeof out), 0);
    cr_expect_str_eq(out, "9.007199254740992e15");
    fx_term_builder_fini(&b);
    cr_assert_eq(fx_term_builder_init(&b), 0);
    cr_assert_eq(fx_term_put_double(&b, 123456789012345680.0), 0);
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    cr_assert_gt(fx_term_sprint(d, n, out, sizeof out), 0);
    cr_expect_str_eq(out, "1.2345678901234568e17");
    fx_term_builder_fini(&b);
}

/* term.h:215-218: fx_term_get_string reads a charlist; "FX_EMSGSIZE when
 * it does not fit", and (term.h:198-200) FX_EBADTERM for another kind. A
 * list that is not a charlist ([1,2,3,foo]) read with a small buffer
 * answers FX_EMSGSIZE, so a caller that retries with a bigger buffer
 * learns only then that it was never a string. */
Test(term_otp, get_string_of_a_non_charlist_is_ebadterm_whatever_the_buffer)
{
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    cr_assert_eq(fx_term_format(&b, "[1,2,3,foo]"), 0);
    const void *d;
    size_t n;
    cr_assert_eq(fx_term_builder_data(&b, &d, &n), 0);
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, d, n), 0);
    char s[2];
    cr_expect_eq(fx_term_get_string(&r, s, sizeof s, NULL), FX_EBADTERM);
    fx_term_builder_fini(&b);
}

/* term.h:10-15 (FX_EBADTERM for malformed input) and 117-118 (Erlang
 * floats cannot hold NaN and infinities): Erlang's binary_to_term refuses
 * a NEW_FLOAT_EXT holding NaN or an infinity (badarg), and an old
 * FLOAT_EXT whose text is "nan". The validator accepts all three, so
 * fx_term_get_double hands out a NaN and the printer writes "nan" (not
 * Erlang syntax); and the same check guards the distribution, where such
 * a term sent to an Erlang node makes it drop the connection (see
 * dist_otp_test.c). */
Test(term_otp, reader_refuses_nan_and_infinite_floats_as_erlang)
{
    static const unsigned char nan_new[] = {131, 70, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
    static const unsigned char inf_new[] = {131, 70, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0};
    unsigned char nan_old[33] = {131, 99, 'n', 'a', 'n'};
    fx_term_reader r;
    cr_expect_eq(fx_term_reader_init(&r, nan_new, sizeof nan_new), FX_EBADTERM);
    cr_expect_eq(fx_term_reader_init(&r, inf_new, sizeof inf_new), FX_EBADTERM);
    cr_expect_eq(fx_term_reader_init(&r, nan_old, sizeof nan_old), FX_EBADTERM);
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    cr_expect_eq(fx_term_put_raw(&b, nan_new + 1, sizeof nan_new - 1), FX_EBADTERM);
    fx_term_builder_fini(&b);
}
