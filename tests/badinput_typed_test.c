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
