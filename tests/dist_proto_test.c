/* The distribution layer's wire parsers (src/dist/dist_proto.h): known
 * vectors, and random and truncated input that must be refused without
 * reading out of bounds (run under ASan to catch that). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "dist/dist_proto.h"

static void hex(const uint8_t d[16], char out[33])
{
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

Test(dist_proto, digest_matches_md5_of_cookie_and_decimal_challenge)
{
    uint8_t d[16];
    char h[33];
    fxi_dist_digest(12345, "cookie", d);
    hex(d, h);
    cr_assert_str_eq(h, "5563360ee47f359fc1cb107e01052d08"); /* python hashlib */
    fxi_dist_digest(4294967295u, "abc", d);
    hex(d, h);
    cr_assert_str_eq(h, "beec35cc2e8e170d9c45291c5c1eb475");
}

Test(dist_proto, handshake_name_round_trip)
{
    uint8_t b[300];
    size_t n = fxi_hs_challenge(b, sizeof b, 0x123456789ull, 77, 9, "fx@127.0.0.1");
    cr_assert_gt(n, 0);
    const uint8_t *body;
    size_t blen;
    cr_assert_eq(fxi_frame_next(b, n, 2, 1024, &body, &blen), (long) n);
    fxi_hs_peer p;
    cr_assert_eq(fxi_hs_parse_n(body, blen, true, &p), 0);
    cr_assert_eq(p.flags, 0x123456789ull);
    cr_assert_eq(p.challenge, 77);
    cr_assert_eq(p.creation, 9);
    cr_assert_str_eq(p.name, "fx@127.0.0.1");
    for (size_t k = 0; k < blen; k++) /* every truncation is refused */
        cr_assert_eq(fxi_hs_parse_n(body, k, true, &p), -1, "prefix %zu", k);
    for (size_t k = 0; k < n; k++)
        cr_assert_eq(fxi_frame_next(b, k, 2, 1024, &body, &blen), 0);
}

/* A REG_SEND frame body: {6, From, '', echo} and {42, <<"hi">>}. */
static size_t reg_send(uint8_t *out)
{
    ei_x_buff x;
    ei_x_new_with_version(&x);
    erlang_pid p = {.num = 5, .serial = 1, .creation = 3};
    strcpy(p.node, "e@127.0.0.1");
    ei_x_encode_tuple_header(&x, 4);
    ei_x_encode_long(&x, FXI_DOP_REG_SEND);
    ei_x_encode_pid(&x, &p);
    ei_x_encode_atom(&x, "");
    ei_x_encode_atom(&x, "echo");
    ei_x_encode_version(&x);
    ei_x_encode_tuple_header(&x, 2);
    ei_x_encode_long(&x, 42);
    ei_x_encode_binary(&x, "hi", 2);
    out[0] = 112;
    memcpy(out + 1, x.buff, (size_t) x.index);
    size_t n = 1 + (size_t) x.index;
    ei_x_free(&x);
    return n;
}

Test(dist_proto, reg_send_parses_and_maps_plain)
{
    uint8_t b[512];
    size_t n = reg_send(b);
    fxi_dist_ctl c;
    cr_assert_eq(fxi_dist_parse(b, n, &c), 0);
    cr_assert_eq(c.op, FXI_DOP_REG_SEND);
    cr_assert_str_eq(c.name, "echo");
    cr_assert_str_eq(c.from.node, "e@127.0.0.1");
    cr_assert_eq(c.from.num, 5);
    uint32_t t;
    const uint8_t *d;
    size_t sz;
    cr_assert_eq(fxi_dist_plain(b + c.msg_off, c.msg_len, &t, &d, &sz), 1);
    cr_assert_eq(t, 42);
    cr_assert_eq(sz, 2);
    cr_assert_eq(memcmp(d, "hi", 2), 0);
}

Test(dist_proto, truncated_frames_are_refused)
{
    uint8_t b[512];
    size_t n = reg_send(b);
    fxi_dist_ctl c;
    for (size_t k = 0; k < n; k++) {
        uint8_t *copy = malloc(k ? k : 1); /* exact size: ASan sees any overread */
        memcpy(copy, b, k);
        cr_assert_eq(fxi_dist_parse(copy, k, &c), -1, "prefix %zu", k);
        free(copy);
    }
}

Test(dist_proto, random_and_mutated_frames_never_crash)
{
    uint8_t b[512];
    size_t n = reg_send(b);
    srand(12345);
    fxi_dist_ctl c;
    size_t end;
    for (int i = 0; i < 200000; i++) {
        size_t len = (size_t) (rand() % (int) n) + 1;
        uint8_t *m = malloc(len);
        if (i % 2) { /* random bytes behind a plausible header */
            for (size_t k = 0; k < len; k++)
                m[k] = (uint8_t) rand();
            m[0] = 112;
            if (len > 1)
                m[1] = 131;
        } else { /* the valid frame with a few bytes flipped */
            memcpy(m, b, len);
            for (int f = 0; f < 3; f++)
                m[rand() % (int) len] = (uint8_t) rand();
        }
        if (fxi_dist_parse(m, len, &c) == 0 && c.msg_len) {
            uint32_t t;
            const uint8_t *d;
            size_t sz;
            cr_assert_leq(c.msg_off + c.msg_len, len);
            fxi_dist_plain(m + c.msg_off, c.msg_len, &t, &d, &sz);
        }
        fxi_etf_skip(m, len, 0, &end);
        free(m);
    }
}

Test(dist_proto, deep_nesting_and_huge_counts_are_refused)
{
    /* a list claiming 2^32-1 elements in 10 bytes */
    uint8_t l[] = {112, 131, 108, 0xff, 0xff, 0xff, 0xff, 106, 106, 106};
    fxi_dist_ctl c;
    cr_assert_eq(fxi_dist_parse(l, sizeof l, &c), -1);
    /* 10,000 nested 1-tuples, then nil: walked without recursion (any
     * depth is valid, as in OTP), but not a control message */
    size_t n = 2 + 2 * 10000 + 1;
    uint8_t *d = malloc(n);
    d[0] = 112;
    d[1] = 131;
    for (size_t i = 0; i < 10000; i++) {
        d[2 + 2 * i] = 104;
        d[3 + 2 * i] = 1;
    }
    d[n - 1] = 106;
    size_t end;
    cr_assert_eq(fxi_etf_skip(d, n, 2, &end), 0);
    cr_assert_eq(end, n);
    cr_assert_eq(fxi_etf_skip(d, n - 1, 2, &end), -1); /* cut short */
    cr_assert_eq(fxi_dist_parse(d, n, &c), -1);
    free(d);
}

/* ---- peer terms nested deep (review finding 1, review12 F2) -------------
 * Once refused (recursion in ei_skip_term could overflow the stack); OTP
 * accepts any depth, so now they parse, walked on heap stacks only (the
 * ASan build would report a stack overflow). */

/* n nested 1-tuples around nil, appended to x. */
static void put_deep(ei_x_buff *x, size_t n)
{
    static const char t1[2] = {104, 1}, nil = 106;
    for (size_t k = 0; k < n; k++)
        ei_x_append_buf(x, t1, 2);
    ei_x_append_buf(x, &nil, 1);
}

static erlang_pid peer_pid(void)
{
    erlang_pid p = {.num = 5, .serial = 1, .creation = 3};
    strcpy(p.node, "e@127.0.0.1");
    return p;
}

/* The frame (112 + control [+ message]) in exact-size memory (ASan sees
 * any overread); *n its length. */
static uint8_t *frame_of(ei_x_buff *ctl, ei_x_buff *msg, size_t *n)
{
    size_t a = (size_t) ctl->index, b = msg ? (size_t) msg->index : 0;
    uint8_t *f = malloc(1 + a + b);
    f[0] = 112;
    memcpy(f + 1, ctl->buff, a);
    if (msg)
        memcpy(f + 1 + a, msg->buff, b);
    *n = 1 + a + b;
    ei_x_free(ctl);
    if (msg)
        ei_x_free(msg);
    return f;
}

/* {2, '', To} with message Msg. */
static uint8_t *send_frame(ei_x_buff *msg, size_t *n)
{
    ei_x_buff x;
    erlang_pid p = peer_pid();
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_long(&x, FXI_DOP_SEND);
    ei_x_encode_atom(&x, "");
    ei_x_encode_pid(&x, &p);
    return frame_of(&x, msg, n);
}

#define DEEP 200000

Test(dist_proto, deep_send_payload_parses)
{
    ei_x_buff m;
    ei_x_new_with_version(&m);
    put_deep(&m, DEEP);
    size_t n;
    uint8_t *f = send_frame(&m, &n);
    fxi_dist_ctl c;
    cr_assert_eq(fxi_dist_parse(f, n, &c), 0);
    free(f);
    /* a modest nesting still goes through */
    ei_x_new_with_version(&m);
    put_deep(&m, 100);
    f = send_frame(&m, &n);
    cr_assert_eq(fxi_dist_parse(f, n, &c), 0);
    cr_assert_eq(c.msg_off + c.msg_len, n);
    free(f);
}

Test(dist_proto, deep_gen_call_tag_parses)
{
    /* {'$gen_call', {From, DeepTag}, req}: the tag is what ei_skip_term
     * recursed over in fxi_dsig_gen_in */
    ei_x_buff m;
    erlang_pid p = peer_pid();
    ei_x_new_with_version(&m);
    ei_x_encode_tuple_header(&m, 3);
    ei_x_encode_atom(&m, "$gen_call");
    ei_x_encode_tuple_header(&m, 2);
    ei_x_encode_pid(&m, &p);
    put_deep(&m, DEEP);
    ei_x_encode_atom(&m, "req");
    size_t n;
    uint8_t *f = send_frame(&m, &n);
    fxi_dist_ctl c;
    cr_assert_eq(fxi_dist_parse(f, n, &c), 0);
    free(f);
}

Test(dist_proto, deep_reg_send_field_parses)
{
    /* {6, From, Deep, echo} + a message */
    ei_x_buff x, m;
    erlang_pid p = peer_pid();
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 4);
    ei_x_encode_long(&x, FXI_DOP_REG_SEND);
    ei_x_encode_pid(&x, &p);
    put_deep(&x, DEEP);
    ei_x_encode_atom(&x, "echo");
    ei_x_new_with_version(&m);
    ei_x_encode_atom(&m, "hi");
    size_t n;
    uint8_t *f = frame_of(&x, &m, &n);
    fxi_dist_ctl c;
    cr_assert_eq(fxi_dist_parse(f, n, &c), 0);
    free(f);
}

Test(dist_proto, deep_exit_reason_parses)
{
    for (int op = 0; op < 2; op++) {
        ei_x_buff x;
        erlang_pid p = peer_pid();
        ei_x_new_with_version(&x);
        ei_x_encode_tuple_header(&x, 4);
        ei_x_encode_long(&x, op ? FXI_DOP_EXIT2 : FXI_DOP_EXIT);
        ei_x_encode_pid(&x, &p);
        ei_x_encode_pid(&x, &p);
        put_deep(&x, DEEP);
        size_t n;
        uint8_t *f = frame_of(&x, NULL, &n);
        fxi_dist_ctl c;
        cr_assert_eq(fxi_dist_parse(f, n, &c), 0);
        cr_assert_eq(c.reason_end, n);
        free(f);
    }
    /* a shallow reason parses, and its end is known */
    ei_x_buff x;
    erlang_pid p = peer_pid();
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 4);
    ei_x_encode_long(&x, FXI_DOP_EXIT);
    ei_x_encode_pid(&x, &p);
    ei_x_encode_pid(&x, &p);
    put_deep(&x, 10);
    size_t n;
    uint8_t *f = frame_of(&x, NULL, &n);
    fxi_dist_ctl c;
    cr_assert_eq(fxi_dist_parse(f, n, &c), 0);
    cr_assert_eq(c.reason_end, n);
    cr_assert_eq(c.reason_off + 21, n);
    free(f);
}

Test(dist_proto, epmd_answers)
{
    uint8_t x[] = {118, 0, 0, 0, 1, 2};
    uint32_t cr;
    cr_assert_eq(fxi_epmd_alive2_resp(x, sizeof x, &cr), 6);
    cr_assert_eq(cr, 0x0102);
    cr_assert_eq(fxi_epmd_alive2_resp(x, 3, &cr), 0);
    x[1] = 1;
    cr_assert_eq(fxi_epmd_alive2_resp(x, sizeof x, &cr), -1);
    uint8_t p[] = {119, 0, 0x12, 0x34, 77, 0, 0, 6, 0, 6, 0, 1, 'a', 0, 0};
    uint16_t port;
    cr_assert_eq(fxi_epmd_port2_resp(p, sizeof p, &port), (int) sizeof p);
    cr_assert_eq(port, 0x1234);
    for (size_t k = 0; k < sizeof p; k++)
        cr_assert_eq(fxi_epmd_port2_resp(p, k, &port), 0);
    uint8_t no[] = {119, 1};
    cr_assert_eq(fxi_epmd_port2_resp(no, 2, &port), -1);
}

/* For a peer without SEND_SENDER, a SEND_SENDER frame is rewritten as
 * SEND with the same recipient and message. */
Test(dist_proto, send_sender_frame_rewritten_as_send)
{
    erlang_pid from = {.num = 1, .serial = 2, .creation = 3};
    erlang_pid to = {.num = 4, .serial = 5, .creation = 6};
    strcpy(from.node, "a@127.0.0.1");
    strcpy(to.node, "b@127.0.0.1");
    ei_x_buff x;
    ei_x_new_with_version(&x);
    ei_x_encode_tuple_header(&x, 3);
    ei_x_encode_long(&x, FXI_DOP_SEND_SENDER);
    ei_x_encode_pid(&x, &from);
    ei_x_encode_pid(&x, &to);
    int rc;
    fx_msg *f = fxi_dist_frame(NULL, &x, 42, "hi", 2, &rc);
    ei_x_free(&x);
    cr_assert_not_null(f);
    fx_msg *g = fxi_dist_frame_without_sender(f);
    cr_assert_not_null(g);
    const uint8_t *b = fx_msg_data(g);
    size_t n = fx_msg_size(g);
    cr_assert_eq(((size_t) b[0] << 24 | (size_t) b[1] << 16 | (size_t) b[2] << 8 | b[3]),
                 n - 4);
    fxi_dist_ctl c;
    cr_assert_eq(fxi_dist_parse(b + 4, n - 4, &c), 0);
    cr_assert_eq(c.op, FXI_DOP_SEND);
    cr_assert_str_eq(c.to.node, "b@127.0.0.1");
    cr_assert_eq(c.to.num, 4);
    uint32_t t;
    const uint8_t *d;
    size_t sz;
    cr_assert_eq(fxi_dist_plain(b + 4 + c.msg_off, c.msg_len, &t, &d, &sz), 1);
    cr_assert_eq(t, 42);
    cr_assert_eq(memcmp(d, "hi", 2), 0);
    cr_assert_null(fxi_dist_frame_without_sender(g)); /* not a SEND_SENDER frame */
    fx_msg_free(f);
    fx_msg_free(g);
}

/* ---- old FLOAT_EXT without its NUL (review finding 2) ------------------- */

Test(dist_proto, float_ext_without_nul_at_the_end_of_the_buffer_is_refused)
{
    /* SEND whose message is FLOAT_EXT: 31 digits, no NUL, the frame's last
     * bytes in exact-size memory: ei_decode_double's sscanf would read on */
    for (int nul = 0; nul < 2; nul++) {
        ei_x_buff m;
        ei_x_new_with_version(&m);
        char f[32];
        f[0] = 99;
        memset(f + 1, '1', 31);
        if (nul)
            memcpy(f + 1, "1.50000000000000000000e+00\0\0\0\0\0", 31);
        ei_x_append_buf(&m, f, 32);
        size_t n;
        uint8_t *b = send_frame(&m, &n);
        fxi_dist_ctl c;
        if (!nul) {
            cr_assert_eq(fxi_dist_parse(b, n, &c), -1);
            size_t end;
            cr_assert_eq(fxi_etf_skip(b, n, n - 32, &end), -1);
        } else { /* the well-formed one decodes */
            cr_assert_eq(fxi_dist_parse(b, n, &c), 0);
            int i = (int) c.msg_off + 1;
            double v;
            cr_assert_eq(ei_decode_double((const char *) b, &i, &v), 0);
            cr_assert_float_eq(v, 1.5, 1e-9);
        }
        free(b);
    }
}
