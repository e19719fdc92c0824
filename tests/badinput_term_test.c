/* Bad-input table: term.h. One Test per row; .description is
 * "function | bad input | result". */
#include "badinput.h"

#include <fauxtp/term.h>

#include <math.h>

/* The bytes of a finished growable builder holding fmt. */
static void term_of(fx_term_builder *b, const char *fmt)
{
    cr_assert_eq(fx_term_builder_init(b), 0);
    cr_assert_eq(fx_term_format(b, fmt), 0);
}

static fx_term_reader reader_on(fx_term_builder *b)
{
    const void *d;
    size_t n;
    cr_assert_eq(fx_term_builder_data(b, &d, &n), 0);
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, d, n), 0);
    return r;
}

Test(bi_term, builder_init_bad,
     .description =
         "fx_term_builder_init, _init_buf | builder NULL; buf NULL with cap 8 | "
         "FX_EINVAL; FX_EINVAL and the builder is failed (later puts FX_EINVAL)")
{
    tvm t = bi_start();
    bi_expect(fx_term_builder_init(NULL), FX_EINVAL);
    bi_expect(fx_term_builder_init_buf(NULL, NULL, 0), FX_EINVAL);
    fx_term_builder b;
    bi_expect(fx_term_builder_init_buf(&b, NULL, 8), FX_EINVAL);
    bi_expect(fx_term_put_nil(&b), FX_EINVAL);
    bi_end(&t);
}

Test(bi_term, builder_fini_size,
     .description = "fx_term_builder_fini, _size | NULL; a zeroed builder; fini twice | "
                    "nothing happens; size 0")
{
    tvm t = bi_start();
    fx_term_builder_fini(NULL);
    cr_assert_eq(fx_term_builder_size(NULL), 0);
    fx_term_builder z;
    memset(&z, 0, sizeof z);
    fx_term_builder_fini(&z);
    cr_assert_eq(fx_term_builder_size(&z), 0);
    fx_term_builder b;
    term_of(&b, "ok");
    fx_term_builder_fini(&b);
    fx_term_builder_fini(&b);
    cr_assert_eq(fx_term_builder_size(&b), 0);
    bi_end(&t);
}

Test(bi_term, builder_finish_bad,
     .description =
         "fx_term_builder_data, _msg | NULL builder or out; a zeroed builder; "
         "a measuring builder; a tuple short of elements; two terms | "
         "FX_EINVAL; FX_EINVAL; FX_EINVAL; FX_EBADTERM; FX_EBADTERM (*out NULL)")
{
    tvm t = bi_start();
    const void *d;
    size_t n;
    fx_msg *m = (fx_msg *) 1;
    fx_term_builder b, z;
    memset(&z, 0, sizeof z);
    term_of(&b, "ok");
    bi_expect(fx_term_builder_data(NULL, &d, &n), FX_EINVAL);
    bi_expect(fx_term_builder_data(&b, NULL, &n), FX_EINVAL);
    bi_expect(fx_term_builder_data(&b, &d, NULL), FX_EINVAL);
    bi_expect(fx_term_builder_msg(&b, NULL), FX_EINVAL);
    bi_expect(fx_term_builder_msg(NULL, &m), FX_EINVAL);
    cr_assert_null(m);
    bi_expect(fx_term_builder_data(&z, &d, &n), FX_EINVAL);
    bi_expect(fx_term_put_nil(&b), 0);
    bi_expect(fx_term_builder_data(&b, &d, &n), FX_EBADTERM);
    bi_expect(fx_term_builder_msg(&b, &m), FX_EBADTERM);
    cr_assert_null(m);
    fx_term_builder_fini(&b);
    cr_assert_eq(fx_term_builder_init(&b), 0);
    fx_term_put_tuple(&b, 2);
    fx_term_put_nil(&b);
    bi_expect(fx_term_builder_data(&b, &d, &n), FX_EBADTERM);
    fx_term_builder_fini(&b);
    fx_term_builder s;
    cr_assert_eq(fx_term_builder_init_buf(&s, NULL, 0), 0);
    fx_term_put_nil(&s);
    bi_expect(fx_term_builder_data(&s, &d, &n), FX_EINVAL);
    bi_expect(fx_term_builder_msg(&s, &m), FX_EINVAL);
    bi_end(&t);
}

Test(bi_term, put_null_builder,
     .description = "fx_term_put_atom, _atomz, _i64, _u64, _bignum, _double, _binary, "
                    "_string, _tuple, _list, _map, _nil, _raw, fx_term_format, "
                    "fx_term_from_plain | builder NULL or zeroed (never initialised) | "
                    "FX_EINVAL")
{
    tvm t = bi_start();
    fx_term_builder z;
    memset(&z, 0, sizeof z);
    fx_term_builder *bs[] = {NULL, &z};
    uint8_t mag[1] = {1};
    for (int k = 0; k < 2; k++) {
        fx_term_builder *b = bs[k];
        bi_expect(fx_term_put_atom(b, "a", 1), FX_EINVAL);
        bi_expect(fx_term_put_atomz(b, "a"), FX_EINVAL);
        bi_expect(fx_term_put_i64(b, 1), FX_EINVAL);
        bi_expect(fx_term_put_u64(b, 1), FX_EINVAL);
        bi_expect(fx_term_put_bignum(b, 0, mag, 1), FX_EINVAL);
        bi_expect(fx_term_put_double(b, 1.0), FX_EINVAL);
        bi_expect(fx_term_put_binary(b, "x", 1), FX_EINVAL);
        bi_expect(fx_term_put_string(b, "x", 1), FX_EINVAL);
        bi_expect(fx_term_put_tuple(b, 1), FX_EINVAL);
        bi_expect(fx_term_put_list(b, 1), FX_EINVAL);
        bi_expect(fx_term_put_map(b, 1), FX_EINVAL);
        bi_expect(fx_term_put_nil(b), FX_EINVAL);
        bi_expect(fx_term_put_raw(b, "\x6a", 1), FX_EINVAL);
        bi_expect(fx_term_format(b, "ok"), FX_EINVAL);
        bi_expect(fx_term_from_plain(b, 1, "x", 1), FX_EINVAL);
    }
    bi_end(&t);
}

Test(bi_term, put_bad_values,
     .description =
         "fx_term_put_atom, _atomz, _bignum, _double, _binary, _string, _raw | "
         "a 256-character or invalid UTF-8 atom, NULL name; NULL magnitude "
         "with n 1; NaN, infinity; NULL data or string with size 1; raw bytes "
         "that are not one term | FX_EINVAL (raw: FX_EBADTERM), and the "
         "builder is failed: later puts return the same code")
{
    tvm t = bi_start();
    char longa[257];
    memset(longa, 'a', 256);
    longa[256] = 0;
    for (int k = 0; k < 11; k++) {
        fx_term_builder b;
        cr_assert_eq(fx_term_builder_init(&b), 0);
        int want = k >= 9 ? FX_EBADTERM : FX_EINVAL, rc;
        switch (k) {
        case 0:
            rc = fx_term_put_atomz(&b, longa);
            break;
        case 1:
            rc = fx_term_put_atom(&b, "\xff", 1);
            break;
        case 2:
            rc = fx_term_put_atomz(&b, NULL);
            break;
        case 3:
            rc = fx_term_put_atom(&b, NULL, 2);
            break;
        case 4:
            rc = fx_term_put_bignum(&b, 0, NULL, 1);
            break;
        case 5:
            rc = fx_term_put_double(&b, NAN);
            break;
        case 6:
            rc = fx_term_put_double(&b, -INFINITY);
            break;
        case 7:
            rc = fx_term_put_binary(&b, NULL, 1);
            break;
        case 8:
            rc = fx_term_put_string(&b, NULL, 1);
            break;
        case 9:
            rc = fx_term_put_raw(&b, "\x68\x02\x6a", 3);
            break;
        default:
            rc = fx_term_put_raw(&b, "\x6a\x6a", 2);
            break;
        }
        cr_assert_eq(rc, want, "case %d: %s", k, fx_err_name(rc));
        bi_expect(fx_term_put_nil(&b), want);
        fx_term_builder_fini(&b);
    }
    bi_end(&t);
}

Test(bi_term, put_counts_and_room,
     .description = "fx_term_put_tuple, _list, _map | a count above INT32_MAX; a builder "
                    "over caller memory that is full | FX_EINVAL; FX_EMSGSIZE (the bytes "
                    "after the last put that fit are untouched)")
{
    tvm t = bi_start();
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    bi_expect(fx_term_put_tuple(&b, (size_t) INT32_MAX + 1), FX_EINVAL);
    fx_term_builder_fini(&b);
    cr_assert_eq(fx_term_builder_init(&b), 0);
    bi_expect(fx_term_put_list(&b, SIZE_MAX), FX_EINVAL);
    fx_term_builder_fini(&b);
    cr_assert_eq(fx_term_builder_init(&b), 0);
    bi_expect(fx_term_put_map(&b, (size_t) INT32_MAX + 1), FX_EINVAL);
    fx_term_builder_fini(&b);
    char mem[4] = {0, 0, 0, 'z'};
    cr_assert_eq(fx_term_builder_init_buf(&b, mem, 3), 0);
    bi_expect(fx_term_put_tuple(&b, 1), 0);
    bi_expect(fx_term_put_tuple(&b, 1), FX_EMSGSIZE);
    cr_assert_eq(mem[3], 'z');
    bi_end(&t);
}

static int bad_build(fx_term_builder *b, void *arg)
{
    (void) b;
    return *(int *) arg;
}

static int grow_build(fx_term_builder *b, void *arg)
{
    int *calls = arg;
    return fx_term_put_i64(b, (*calls)++ ? 1 << 20 : 1);
}

Test(bi_term, format_and_msg_bad,
     .description = "fx_term_format, _vformat, _format_msg, fx_term_msg_build | NULL fmt "
                    "or out or build function; a syntax error; a NULL ~a string; build "
                    "returns FX_EFULL; build writes more the second time; build writes "
                    "nothing | FX_EINVAL; FX_EINVAL; FX_EINVAL; FX_EFULL; FX_EBADTERM; "
                    "FX_EBADTERM (*out NULL each time)")
{
    tvm t = bi_start();
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    bi_expect(fx_term_format(&b, NULL), FX_EINVAL);
    fx_term_builder_fini(&b);
    cr_assert_eq(fx_term_builder_init(&b), 0);
    bi_expect(fx_term_format(&b, "{a, ~a}", (const char *) NULL), FX_EINVAL);
    fx_term_builder_fini(&b);
    fx_msg *m = (fx_msg *) 1;
    bi_expect(fx_term_format_msg(NULL, "ok"), FX_EINVAL);
    bi_expect(fx_term_format_msg(&m, NULL), FX_EINVAL);
    cr_assert_null(m);
    bi_expect(fx_term_format_msg(&m, "{ok, "), FX_EINVAL);
    bi_expect(fx_term_format_msg(&m, "{ok, ~s}", (const char *) NULL), FX_EINVAL);
    cr_assert_null(m);
    int code = FX_EFULL;
    bi_expect(fx_term_msg_build(NULL, &code, &m), FX_EINVAL);
    bi_expect(fx_term_msg_build(bad_build, &code, NULL), FX_EINVAL);
    bi_expect(fx_term_msg_build(bad_build, &code, &m), FX_EFULL);
    code = 0;
    bi_expect(fx_term_msg_build(bad_build, &code, &m), FX_EBADTERM);
    int calls = 0;
    bi_expect(fx_term_msg_build(grow_build, &calls, &m), FX_EBADTERM);
    cr_assert_null(m);
    bi_end(&t);
}

Test(bi_term, reader_init_bad,
     .description =
         "fx_term_reader_init, _init_msg, _init_prefix | NULL reader, data, msg or "
         "used; 0 or 1 bytes; no version byte; a truncated tuple; trailing bytes "
         "(init_prefix: accepted, the first term read); a "
         "compressed term; an atom-cache reference; a message of another type | "
         "FX_EINVAL; then FX_EBADTERM for each, and the reader reads nothing")
{
    tvm t = bi_start();
    fx_term_reader r;
    bi_expect(fx_term_reader_init(NULL, "\x83\x6a", 2), FX_EINVAL);
    bi_expect(fx_term_reader_init(&r, NULL, 2), FX_EINVAL);
    bi_expect(fx_term_reader_init_msg(NULL, NULL), FX_EINVAL);
    bi_expect(fx_term_reader_init_msg(&r, NULL), FX_EINVAL);
    size_t used;
    bi_expect(fx_term_reader_init_prefix(&r, "\x83\x6a", 2, NULL), FX_EINVAL);
    bi_expect(fx_term_reader_init_prefix(NULL, "\x83\x6a", 2, &used), FX_EINVAL);
    static const struct {
        const char *b;
        size_t n;
    } bad[] = {{"", 0},
               {"\x83", 1},
               {"\x6a", 1},
               {"\x82\x6a", 2},
               {"\x83\x68\x02\x6a", 4},
               {"\x83\x6a\x6a", 3},
               {"\x83\x50\0\0\0\1\x78", 7},
               {"\x83\x52\x01", 3}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        bi_expect(fx_term_reader_init(&r, bad[k].b, bad[k].n), FX_EBADTERM);
        if (k != 5) /* "\x83\x6a\x6a": a whole term, then a byte */
            bi_expect(fx_term_reader_init_prefix(&r, bad[k].b, bad[k].n, &used),
                      FX_EBADTERM);
        bi_expect(fx_term_type(&r), FX_EBADTERM);
        bi_expect(fx_term_skip(&r), FX_EBADTERM);
    }
    fx_msg *m;
    cr_assert_eq(fx_msg_new(5, 2, &m), 0);
    memcpy(fx_msg_data_mut(m), "\x83\x6a", 2);
    bi_expect(fx_term_reader_init_msg(&r, m), FX_EBADTERM);
    fx_msg_free(m);
    bi_end(&t);
}

Test(bi_term, reader_query_bad,
     .description = "fx_term_type, _at_end | NULL; a zeroed reader; the cursor past the "
                    "end | FX_EINVAL (at_end: 1); FX_EBADTERM (1); FX_EBADTERM (1)")
{
    tvm t = bi_start();
    bi_expect(fx_term_type(NULL), FX_EINVAL);
    cr_assert_eq(fx_term_at_end(NULL), 1);
    fx_term_reader z;
    memset(&z, 0, sizeof z);
    bi_expect(fx_term_type(&z), FX_EBADTERM);
    cr_assert_eq(fx_term_at_end(&z), 1);
    fx_term_builder b;
    term_of(&b, "ok");
    fx_term_reader r = reader_on(&b);
    cr_assert_eq(fx_term_at_end(&r), 0);
    cr_assert_eq(fx_term_skip(&r), 0);
    bi_expect(fx_term_type(&r), FX_EBADTERM);
    cr_assert_eq(fx_term_at_end(&r), 1);
    fx_term_builder_fini(&b);
    bi_end(&t);
}

Test(bi_term, getters_bad,
     .description = "fx_term_get_atom, _i64, _u64, _bignum, _double, _binary, _string, "
                    "_tuple, _list, _map, _nil, _raw, fx_term_skip | NULL reader or "
                    "out; a term of another kind; past the end; a buffer too small "
                    "(atom, string, bignum) | FX_EINVAL; FX_EBADTERM; FX_EBADTERM; "
                    "FX_EMSGSIZE; the cursor does not move")
{
    tvm t = bi_start();
    fx_term_builder b;
    term_of(&b, "{1.5}");
    fx_term_reader r = reader_on(&b);
    char buf[8];
    int64_t i;
    uint64_t u;
    int neg;
    uint8_t mag[8];
    size_t n;
    double d;
    const void *p;
    uint32_t c;
    bi_expect(fx_term_get_atom(NULL, buf, 8, &n), FX_EINVAL);
    bi_expect(fx_term_get_atom(&r, NULL, 8, &n), FX_EINVAL);
    bi_expect(fx_term_get_i64(&r, NULL), FX_EINVAL);
    bi_expect(fx_term_get_u64(NULL, &u), FX_EINVAL);
    bi_expect(fx_term_get_bignum(&r, NULL, mag, 8, &n), FX_EINVAL);
    bi_expect(fx_term_get_double(&r, NULL), FX_EINVAL);
    bi_expect(fx_term_get_binary(&r, NULL, &n), FX_EINVAL);
    bi_expect(fx_term_get_string(&r, NULL, 8, &n), FX_EINVAL);
    bi_expect(fx_term_get_tuple(&r, NULL), FX_EINVAL);
    bi_expect(fx_term_get_list(NULL, &c), FX_EINVAL);
    bi_expect(fx_term_get_map(&r, NULL), FX_EINVAL);
    bi_expect(fx_term_get_nil(NULL), FX_EINVAL);
    bi_expect(fx_term_get_raw(&r, NULL, &n), FX_EINVAL);
    bi_expect(fx_term_skip(NULL), FX_EINVAL);
    fx_term_reader before = r;
    bi_expect(fx_term_get_atom(&r, buf, 8, &n), FX_EBADTERM);
    bi_expect(fx_term_get_i64(&r, &i), FX_EBADTERM);
    bi_expect(fx_term_get_u64(&r, &u), FX_EBADTERM);
    bi_expect(fx_term_get_bignum(&r, &neg, mag, 8, &n), FX_EBADTERM);
    bi_expect(fx_term_get_double(&r, &d), FX_EBADTERM);
    bi_expect(fx_term_get_binary(&r, &p, &n), FX_EBADTERM);
    bi_expect(fx_term_get_string(&r, buf, 8, &n), FX_EBADTERM);
    bi_expect(fx_term_get_list(&r, &c), FX_EBADTERM);
    bi_expect(fx_term_get_map(&r, &c), FX_EBADTERM);
    bi_expect(fx_term_get_nil(&r), FX_EBADTERM);
    cr_assert_eq(memcmp(&r, &before, sizeof r), 0);
    bi_expect(fx_term_get_tuple(&r, &c), 0);
    bi_expect(fx_term_get_double(&r, &d), 0);
    bi_expect(fx_term_get_double(&r, &d), FX_EBADTERM);
    bi_expect(fx_term_get_raw(&r, &p, &n), FX_EBADTERM);
    bi_expect(fx_term_skip(&r), FX_EBADTERM);
    fx_term_builder_fini(&b);
    term_of(&b, "{longer_atom, \"long string\", 1}");
    fx_term_builder_fini(&b);
    cr_assert_eq(fx_term_builder_init(&b), 0);
    fx_term_format(&b, "{longer_atom, \"long string\", ~u}", (uint64_t) UINT64_MAX);
    r = reader_on(&b);
    fx_term_get_tuple(&r, &c);
    before = r;
    bi_expect(fx_term_get_atom(&r, buf, 8, &n), FX_EMSGSIZE);
    cr_assert_eq(memcmp(&r, &before, sizeof r), 0);
    fx_term_skip(&r);
    bi_expect(fx_term_get_string(&r, buf, 8, &n), FX_EMSGSIZE);
    fx_term_skip(&r);
    before = r;
    bi_expect(fx_term_get_bignum(&r, &neg, mag, 4, &n), FX_EMSGSIZE);
    cr_assert_eq(n, 8);
    cr_assert_eq(memcmp(&r, &before, sizeof r), 0);
    fx_term_builder_fini(&b);
    bi_end(&t);
}

Test(bi_term, match_bad,
     .description = "fx_term_match, _match_atom | NULL reader or name; arity 0; past the "
                    "end; a term of another shape | FX_EINVAL; FX_EINVAL; FX_EBADTERM; 0 "
                    "and the cursor does not move")
{
    tvm t = bi_start();
    fx_term_builder b;
    term_of(&b, "{ok, 1}");
    fx_term_reader r = reader_on(&b);
    bi_expect(fx_term_match(NULL, "ok", 2), FX_EINVAL);
    bi_expect(fx_term_match(&r, NULL, 2), FX_EINVAL);
    bi_expect(fx_term_match(&r, "ok", 0), FX_EINVAL);
    bi_expect(fx_term_match_atom(NULL, "ok"), FX_EINVAL);
    bi_expect(fx_term_match_atom(&r, NULL), FX_EINVAL);
    fx_term_reader before = r;
    bi_expect(fx_term_match_atom(&r, "ok"), 0);
    bi_expect(fx_term_match(&r, "ok", 3), 0);
    bi_expect(fx_term_match(&r, "error", 2), 0);
    cr_assert_eq(memcmp(&r, &before, sizeof r), 0);
    fx_term_skip(&r);
    bi_expect(fx_term_match(&r, "ok", 2), FX_EBADTERM);
    bi_expect(fx_term_match_atom(&r, "ok"), FX_EBADTERM);
    fx_term_builder_fini(&b);
    bi_end(&t);
}

Test(bi_term, print_bad,
     .description = "fx_term_print, _sprint | NULL reader or data; out NULL with cap 8; "
                    "malformed or truncated bytes; the cursor past the end | FX_EINVAL; "
                    "FX_EINVAL; FX_EBADTERM and out \"\"; FX_EBADTERM")
{
    tvm t = bi_start();
    char out[8] = "x";
    bi_expect(fx_term_print(NULL, out, sizeof out), FX_EINVAL);
    bi_expect(fx_term_sprint(NULL, 2, out, sizeof out), FX_EINVAL);
    bi_expect(fx_term_sprint("\x83\x6a", 2, NULL, 8), FX_EINVAL);
    bi_expect(fx_term_sprint("\x83\x68\x03\x6a", 4, out, sizeof out), FX_EBADTERM);
    cr_assert_str_eq(out, "");
    bi_expect(fx_term_sprint("\x83\x6d\0\0\0\x09zz", 8, out, sizeof out), FX_EBADTERM);
    bi_expect(fx_term_sprint("\x83\x6a", 2, NULL, 0), 2);
    fx_term_builder b;
    term_of(&b, "ok");
    fx_term_reader r = reader_on(&b);
    bi_expect(fx_term_print(&r, NULL, 0), 2);
    fx_term_skip(&r);
    bi_expect(fx_term_print(&r, out, sizeof out), FX_EBADTERM);
    fx_term_builder_fini(&b);
    bi_end(&t);
}

Test(bi_term, plain_bad,
     .description = "fx_term_from_plain, fx_term_to_plain | a type at or above "
                    "FX_MSG_SYSTEM_BASE; NULL data with size 1; NULL reader or out; "
                    "{T, Bin} of another shape, a negative or reserved T | FX_EINVAL; "
                    "FX_EINVAL; FX_EINVAL; FX_EBADTERM and the cursor does not move")
{
    tvm t = bi_start();
    fx_term_builder b;
    cr_assert_eq(fx_term_builder_init(&b), 0);
    bi_expect(fx_term_from_plain(&b, FX_MSG_SYSTEM_BASE, "x", 1), FX_EINVAL);
    fx_term_builder_fini(&b);
    cr_assert_eq(fx_term_builder_init(&b), 0);
    bi_expect(fx_term_from_plain(&b, FX_MSG_TERM, "x", 1), FX_EINVAL);
    fx_term_builder_fini(&b);
    cr_assert_eq(fx_term_builder_init(&b), 0);
    bi_expect(fx_term_from_plain(&b, 1, NULL, 1), FX_EINVAL);
    fx_term_builder_fini(&b);
    term_of(&b, "{-3, <<\"x\">>}");
    fx_term_reader r = reader_on(&b);
    uint32_t ty;
    const void *d;
    size_t n;
    bi_expect(fx_term_to_plain(NULL, &ty, &d, &n), FX_EINVAL);
    bi_expect(fx_term_to_plain(&r, NULL, &d, &n), FX_EINVAL);
    bi_expect(fx_term_to_plain(&r, &ty, NULL, &n), FX_EINVAL);
    bi_expect(fx_term_to_plain(&r, &ty, &d, NULL), FX_EINVAL);
    fx_term_reader before = r;
    bi_expect(fx_term_to_plain(&r, &ty, &d, &n), FX_EBADTERM);
    cr_assert_eq(memcmp(&r, &before, sizeof r), 0);
    fx_term_builder_fini(&b);
    term_of(&b, "{4294901765, <<>>}");
    r = reader_on(&b);
    bi_expect(fx_term_to_plain(&r, &ty, &d, &n), FX_EBADTERM);
    fx_term_builder_fini(&b);
    bi_end(&t);
}

/* NEW_PID_EXT of <0.5.0> on 'a@127.0.0.1' with creation 7, version byte
 * first. */
static const uint8_t pid_term[] = {131, 88,  119, 11,  'a', '@', '1', '2', '7',
                                   '.', '0', '.', '0', '.', '1', 0,   0,   0,
                                   5,   0,   0,   0,   0,   0,   0,   0,   7};

Test(bi_term, put_pid_bad,
     .description =
         "fx_term_put_pid | NULL builder or vm; FX_PID_NONE; a VM that is not a "
         "node (or no distribution); a failed builder | FX_EINVAL; FX_EINVAL; "
         "FX_ENOTDIST, nothing appended, the builder failed (sticky); its own code")
{
    tvm t = bi_start();
    bi_expect(fx_term_put_pid(NULL, t.vm, t.me), FX_EINVAL);
    fx_term_builder b;
    struct {
        fx_vm *vm;
        fx_pid pid;
        int want;
    } cases[] = {{NULL, t.me, FX_EINVAL},
                 {t.vm, FX_PID_NONE, FX_EINVAL},
                 {t.vm, t.me, FX_ENOTDIST}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cr_assert_eq(fx_term_builder_init(&b), 0);
        bi_expect(fx_term_put_pid(&b, cases[k].vm, cases[k].pid), cases[k].want);
        cr_assert_eq(fx_term_builder_size(&b), 1);        /* the version byte only */
        bi_expect(fx_term_put_i64(&b, 1), cases[k].want); /* sticky */
        fx_term_builder_fini(&b);
    }
    cr_assert_eq(fx_term_builder_init(&b), 0);
    bi_expect(fx_term_put_raw(&b, "x", 1), FX_EBADTERM);
    bi_expect(fx_term_put_pid(&b, t.vm, t.me), FX_EBADTERM);
    fx_term_builder_fini(&b);
    bi_end(&t);
}

Test(bi_term, get_pid_bad,
     .description =
         "fx_term_get_pid | NULL reader, vm or pid; a term that is not a pid; a "
         "pid on a VM that is not a node | FX_EINVAL; FX_EBADTERM, not moved; "
         "FX_ENOTDIST, not moved")
{
    tvm t = bi_start();
    fx_pid p = FX_PID_NONE;
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, pid_term, sizeof pid_term), 0);
    bi_expect(fx_term_get_pid(NULL, t.vm, &p), FX_EINVAL);
    bi_expect(fx_term_get_pid(&r, NULL, &p), FX_EINVAL);
    bi_expect(fx_term_get_pid(&r, t.vm, NULL), FX_EINVAL);
    bi_expect(fx_term_get_pid(&r, t.vm, &p), FX_ENOTDIST);
    cr_assert_eq(fx_term_type(&r), FX_TERM_PID); /* not moved */
    fx_term_builder b;
    term_of(&b, "{ok}");
    fx_term_reader r2 = reader_on(&b);
    bi_expect(fx_term_get_pid(&r2, t.vm, &p), FX_EBADTERM);
    cr_assert_eq(fx_term_type(&r2), FX_TERM_TUPLE);
    cr_assert_eq(p.id, 0);
    fx_term_builder_fini(&b);
    bi_end(&t);
}
