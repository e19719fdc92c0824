/* Bad-input table: typed.h. One Test per row; .description is
 * "function | bad input | result". */
#include "badinput.h"

#include <fauxtp/typed.h>

static fx_msg *msg_of(size_t size)
{
    fx_msg *m = NULL;
    cr_assert_eq(fx_msg_new(1, size, &m), 0);
    memset(fx_msg_data_mut(m), 0, size);
    return m;
}

Test(bi_typed, read_bad,
     .description = "fx_msg_read | msg NULL; out NULL with size 8; payload of another "
                    "size | FX_EINVAL; FX_EINVAL; FX_EMSGSIZE, out untouched")
{
    tvm t = bi_start();
    uint64_t v = 7;
    fx_msg *m = msg_of(4);
    bi_expect(fx_msg_read(NULL, &v, sizeof v), FX_EINVAL);
    bi_expect(fx_msg_read(m, NULL, sizeof v), FX_EINVAL);
    bi_expect(fx_msg_read(m, &v, sizeof v), FX_EMSGSIZE);
    cr_assert_eq(v, 7);
    bi_expect(fx_msg_read(m, &v, 4), 0);
    fx_msg_free(m);
    bi_end(&t);
}

Test(bi_typed, outside_handlers,
     .description = "fx_msg_read_or_crash, fx_msg_view_or_crash | cx NULL outside any "
                    "handler: msg NULL, payload of another size | fx_msg_read's code "
                    "(view: NULL); nothing crashes")
{
    tvm t = bi_start();
    uint64_t v = 7;
    fx_msg *m = msg_of(4);
    bi_expect(fx_msg_read_or_crash(NULL, NULL, &v, sizeof v, "u64"), FX_EINVAL);
    bi_expect(fx_msg_read_or_crash(NULL, m, &v, sizeof v, NULL), FX_EMSGSIZE);
    cr_assert_null(fx_msg_view_or_crash(NULL, NULL, 8, 8, "u64"));
    cr_assert_null(fx_msg_view_or_crash(NULL, m, 8, 8, NULL));
    cr_assert_not_null(fx_msg_view_or_crash(NULL, m, 4, 4, NULL));
    fx_msg_free(m);
    bi_end(&t);
}

typedef struct ty_case {
    int kind; /* 0 NULL msg, 1 NULL out, 2 size, 3 view size, 4 view NULL msg, 5 align 32
               */
} ty_case;

static fx_next ty_reader(fx_ctx *cx, fx_msg *m)
{
    ty_case *c = fx_state(cx);
    uint64_t v;
    switch (c->kind) {
    case 0:
        fx_msg_read_or_crash(cx, NULL, &v, sizeof v, "u64");
        break;
    case 1:
        fx_msg_read_or_crash(NULL, m, NULL, sizeof v, "u64");
        break;
    case 2:
        FX_MSG_GET(cx, m, uint64_t, &v);
        break;
    case 3:
        (void) FX_MSG_AS(cx, m, uint64_t);
        break;
    default:
        (void) fx_msg_view_or_crash(NULL, NULL, 8, 8, "u64");
        break;
    }
    return fx_continue(cx);
}

Test(bi_typed, in_handler,
     .description =
         "fx_msg_read_or_crash, fx_msg_view_or_crash | in a handler: msg NULL, "
         "out NULL, payload of another size | the process "
         "crashes: {error, FX_ECRASHED, \"message of type T: N bytes, X needs "
         "M\"...}; the VM goes on")
{
    tvm t = bi_start();
    static const char *want[] = {"typed read of a NULL message (u64)",
                                 "typed read into a NULL pointer (u64)",
                                 "message of type 1: 4 bytes, uint64_t needs 8",
                                 "message of type 1: 4 bytes, uint64_t needs 8",
                                 "typed read of a NULL message (u64)",
                                 NULL};
    for (int k = 0; k < 5; k++) {
        ty_case c = {k};
        fx_pid p;
        fx_ref r;
        fx_spawn_opts o = {.handler = ty_reader, .state = &c};
        cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
        uint32_t four = 4;
        cr_assert_eq(fx_inbox_send(t.in, p, 1, &four, sizeof four), 0);
        fx_msg *down = NULL;
        cr_assert_eq(
            fx_inbox_recv(t.in, &(fx_match){.type = FX_MSG_DOWN, .ref = r}, 10000, &down),
            0);
        fx_down_info di;
        cr_assert_eq(FX_MSG_READ(down, &di), 0);
        fx_msg_free(down);
        fx_reason why = di.reason;
        cr_assert_eq(why.code, FX_ECRASHED, "case %d", k);
        cr_assert_str_eq(why.text, want[k], "case %d", k);
    }
    bi_end(&t);
}

/* ---- typed GenServer calls, typed inbox receives, FX_DATA_AS ------------- */

Test(bi_typed, call_read_bad,
     .description = "fx_gs_call_read, fx_gs_call_named_read | out NULL with out_size 8; "
                    "inbox NULL; a reply of another size; (named) no such name | "
                    "FX_EINVAL, nothing sent; FX_EINVAL; FX_EMSGSIZE, out untouched; "
                    "FX_ENOENT")
{
    tvm t = bi_start();
    fx_pid gs = bi_gs(&t); /* echoes the request */
    uint64_t v = 7;
    uint32_t four = 4;
    bi_expect(fx_gs_call_read(t.in, gs, 1, &v, sizeof v, 10000, NULL, 8, NULL),
              FX_EINVAL);
    bi_expect(fx_gs_call_read(NULL, gs, 1, &v, sizeof v, 10000, &v, sizeof v, NULL),
              FX_EINVAL);
    bi_expect(fx_gs_call_read(t.in, gs, 1, &four, sizeof four, 10000, &v, sizeof v, NULL),
              FX_EMSGSIZE);
    cr_assert_eq(v, 7);
    bi_expect(fx_gs_call_named_read(t.in, "bi_nobody", 1, &v, sizeof v, 10000, &v,
                                    sizeof v, NULL),
              FX_ENOENT);
    bi_expect(
        fx_gs_call_named_read(t.in, "bi_nobody", 1, &v, sizeof v, 10000, NULL, 8, NULL),
        FX_EINVAL);
    bi_expect(fx_gs_call_read(t.in, gs, 1, &v, sizeof v, 10000, &v, sizeof v, NULL), 0);
    cr_assert_eq(fx_gs_stop_server(t.in, gs, fx_reason_normal(), 10000, NULL), 0);
    bi_end(&t);
}

Test(bi_typed, recv_read_bad,
     .description = "fx_inbox_recv_read | out NULL with size 8; inbox NULL; a message "
                    "of another size | FX_EINVAL, nothing received; FX_EINVAL; "
                    "FX_EMSGSIZE: the message is taken off the inbox and freed, out "
                    "untouched")
{
    tvm t = bi_start();
    uint64_t v = 7;
    uint32_t four = 4;
    fx_match m = {.type = 9};
    cr_assert_eq(fx_inbox_send(t.in, t.me, 9, &four, sizeof four), 0);
    bi_expect(fx_inbox_recv_read(t.in, &m, 10000, NULL, sizeof v), FX_EINVAL);
    bi_expect(fx_inbox_recv_read(NULL, &m, 10000, &v, sizeof v), FX_EINVAL);
    bi_expect(fx_inbox_recv_read(t.in, &m, 10000, &v, sizeof v), FX_EMSGSIZE);
    cr_assert_eq(v, 7);
    bi_expect(fx_inbox_recv_read(t.in, &m, 0, &v, sizeof v), FX_ETIMEDOUT);
    bi_end(&t);
}

Test(bi_typed, data_view_outside,
     .description = "fx_data_view_or_crash | cx NULL outside any handler: data of "
                    "another size; data NULL with want 8; data misaligned for align 8 | "
                    "NULL; nothing crashes")
{
    tvm t = bi_start();
    _Alignas(16) unsigned char buf[16] = {0};
    cr_assert_null(fx_data_view_or_crash(NULL, buf, 4, 8, 8, "u64"));
    cr_assert_null(fx_data_view_or_crash(NULL, NULL, 0, 8, 8, NULL));
    cr_assert_null(fx_data_view_or_crash(NULL, buf + 1, 8, 8, 8, "u64"));
    cr_assert_eq(fx_data_view_or_crash(NULL, buf, 8, 8, 8, "u64"), buf);
    cr_assert_null(fx_data_view_or_crash(NULL, NULL, 0, 0, 8, NULL));
    bi_end(&t);
}

static fx_next dv_reader(fx_ctx *cx, fx_msg *m)
{
    ty_case *c = fx_state(cx);
    const unsigned char *d = fx_msg_data(m);
    switch (c->kind) {
    case 0:
        (void) FX_DATA_AS(cx, d, fx_msg_size(m), uint64_t);
        break;
    case 1:
        (void) fx_data_view_or_crash(cx, NULL, 0, 8, 8, "u64");
        break;
    default:
        (void) fx_data_view_or_crash(NULL, d + 1, 8, 8, 8, "u64");
        break;
    }
    return fx_continue(cx);
}

Test(bi_typed, data_view_in_handler,
     .description = "fx_data_view_or_crash | in a handler: data of another size; data "
                    "NULL with want 8; data misaligned | the process crashes: {error, "
                    "FX_ECRASHED, \"payload of N bytes, T needs M\"} (\"typed read of "
                    "NULL data (T)\", \"payload not aligned to A for T\"); the VM goes "
                    "on")
{
    tvm t = bi_start();
    static const char *want[] = {"payload of 4 bytes, uint64_t needs 8",
                                 "typed read of NULL data (u64)",
                                 "payload not aligned to 8 for u64"};
    for (int k = 0; k < 3; k++) {
        ty_case c = {k};
        fx_pid p;
        fx_ref r;
        fx_spawn_opts o = {.handler = dv_reader, .state = &c};
        cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
        uint64_t pay[2] = {0, 0};
        cr_assert_eq(fx_inbox_send(t.in, p, 1, pay, k == 0 ? 4 : sizeof pay), 0);
        fx_down_info di;
        cr_assert_eq(FX_INBOX_RECV_T(t.in, &((fx_match){.type = FX_MSG_DOWN, .ref = r}),
                                     10000, &di),
                     0);
        cr_assert_eq(di.reason.code, FX_ECRASHED, "case %d", k);
        cr_assert_str_eq(di.reason.text, want[k], "case %d", k);
    }
    bi_end(&t);
}

/* fx_gs_call_result_read in a handler, on an echo server's reply. */
typedef struct rr_case {
    fx_pid server;
    int kind; /* 0 out NULL, 1 msg NULL, 2 cx NULL */
} rr_case;

static fx_next rr_call(fx_ctx *cx, void *arg, fx_handler then)
{
    rr_case *c = arg;
    uint64_t v = 5;
    return fx_gs_call_async(cx, c->server, 1, &v, sizeof v, 10000, then);
}

static int rr_decode(fx_ctx *cx, fx_msg *m, void *arg)
{
    rr_case *c = arg;
    uint64_t v = 0;
    if (c->kind == 1)
        return fx_gs_call_result_read(cx, NULL, &v, sizeof v, NULL) +
               100 * fx_gs_call_result_read(cx, m, &v, sizeof v, NULL);
    if (c->kind == 2)
        return fx_gs_call_result_read(NULL, m, &v, sizeof v, NULL) +
               100 * fx_gs_call_result_read(cx, m, &v, sizeof v, NULL);
    return fx_gs_call_result_read(cx, m, NULL, sizeof v, NULL);
}

static fx_next rr_wrong(fx_ctx *cx, fx_msg *m)
{
    uint32_t small;
    (void) FX_GS_CALL_RESULT_T(cx, m, &small); /* the reply has 8 bytes */
    return fx_stop(cx, fx_reason_normal());
}

static fx_next rr_wrong_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    uint64_t v = 5;
    return fx_gs_call_async(cx, *(fx_pid *) fx_state(cx), 1, &v, sizeof v, 10000,
                            rr_wrong);
}

Test(bi_typed, call_result_read_bad,
     .description = "fx_gs_call_result_read | out NULL with size 8; msg NULL; cx NULL; "
                    "a reply of another size | FX_EINVAL (the call is still ended); "
                    "FX_EINVAL; FX_EINVAL; the process crashes: {error, FX_ECRASHED, "
                    "\"payload of 8 bytes, the reply needs 4\"}")
{
    tvm t = bi_start();
    fx_pid gs = bi_gs(&t);
    rr_case c = {gs, 0};
    cr_assert_eq(bi_in_handler_next(&t, rr_call, rr_decode, &c), FX_EINVAL);
    c.kind = 1; /* NULL msg, then the real one decodes (0) */
    cr_assert_eq(bi_in_handler_next(&t, rr_call, rr_decode, &c), FX_EINVAL);
    c.kind = 2;
    cr_assert_eq(bi_in_handler_next(&t, rr_call, rr_decode, &c), FX_EINVAL);
    fx_pid p;
    fx_ref r;
    fx_spawn_opts o = {
        .handler = rr_wrong_go, .state_size = sizeof gs, .state_init = &gs};
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &p, &r), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, 1, NULL, 0), 0);
    fx_down_info di;
    cr_assert_eq(
        FX_INBOX_RECV_T(t.in, &((fx_match){.type = FX_MSG_DOWN, .ref = r}), 10000, &di),
        0);
    cr_assert_eq(di.reason.code, FX_ECRASHED);
    cr_assert_str_eq(di.reason.text, "payload of 8 bytes, the reply needs 4");
    cr_assert_eq(fx_gs_stop_server(t.in, gs, fx_reason_normal(), 10000, NULL), 0);
    bi_end(&t);
}
