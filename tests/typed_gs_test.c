/* Typed GenServer requests and replies (<fauxtp/typed.h>): FX_DATA_AS,
 * FX_GS_REPLY_T, FX_GS_CAST_T, FX_GS_CALL_T / FX_GS_CALL_NAMED_T,
 * FX_GS_CALL_RESULT_T, FX_INBOX_RECV_T; and fx_gs_init_arg. */
#include <criterion/criterion.h>
#include <fauxtp/fauxtp.h>
#include <string.h>

typedef struct point {
    int32_t x, y;
} point;

enum { MOVE = 1, GET, SET };

/* A server whose state is a point (its spec's arg, fx_gs_init_arg). MOVE {dx,
 * dy} replies the moved point; GET replies it; SET (a cast) sets it. */
static fx_gs_ret pt_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                         const void *data, size_t size)
{
    (void) from;
    point *p = state;
    if (type == MOVE) {
        const point *d = FX_DATA_AS(cx, data, size, point);
        p->x += d->x;
        p->y += d->y;
    }
    return FX_GS_REPLY_T(cx, *p);
}

static fx_gs_ret pt_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                         size_t size)
{
    (void) type;
    point *p = state;
    *p = *FX_DATA_AS(cx, data, size, point);
    return fx_gs_noreply(cx);
}

static const fx_gs_ops pt_ops = {
    .init = fx_gs_init_arg, .handle_call = pt_call, .handle_cast = pt_cast};

static fx_vm *quiet_vm(fx_crash_capture *cap)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.log_level = FX_LOG_OFF;
    fx_vm *vm;
    cr_assert_eq(fx_test_vm_create(&c, cap, &vm), 0);
    return vm;
}

Test(typed_gs, no_init_state_is_arg)
{
    fx_vm *vm = quiet_vm(NULL);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    point where = {3, 4};
    fx_pid s;
    cr_assert_eq(fx_gs_start(ib, &(fx_gs_spec){.ops = &pt_ops, .arg = &where}, &s, NULL),
                 0);
    point got = {0, 0};
    cr_assert_eq(FX_GS_CALL_T(ib, s, GET, ((point){0, 0}), &got, 10000), 0);
    cr_assert(got.x == 3 && got.y == 4);
    cr_assert_eq(fx_gs_stop_server(ib, s, fx_reason_normal(), 10000, NULL), 0);
    /* the state was main's object: the server wrote nothing else to it */
    cr_assert(where.x == 3 && where.y == 4);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
}

Test(typed_gs, call_cast_reply_by_pid_and_name)
{
    fx_vm *vm = quiet_vm(NULL);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    point where = {0, 0};
    fx_pid s;
    fx_gs_spec spec = {.ops = &pt_ops, .arg = &where, .name = "typed_pt"};
    cr_assert_eq(fx_gs_start(ib, &spec, &s, NULL), 0);
    point d = {1, 2}, got;
    cr_assert_eq(FX_GS_CALL_T(ib, s, MOVE, d, &got, 10000), 0);
    cr_assert(got.x == 1 && got.y == 2);
    cr_assert_eq(FX_GS_CALL_NAMED_T(ib, "typed_pt", MOVE, d, &got, 10000), 0);
    cr_assert(got.x == 2 && got.y == 4);
    point set = {10, 20};
    cr_assert_eq(fx_vm_gs_cast(vm, s, SET, &set, sizeof set), 0);
    cr_assert_eq(FX_GS_CALL_NAMED_T(ib, "typed_pt", GET, d, &got, 10000), 0);
    cr_assert(got.x == 10 && got.y == 20);
    /* A reply of another size: FX_EMSGSIZE, nothing copied. */
    int64_t wide[2] = {99, 99};
    cr_assert_eq(FX_GS_CALL_T(ib, s, GET, d, &wide, 10000), FX_EMSGSIZE);
    cr_assert_eq(wide[0], 99);
    cr_assert_eq(fx_gs_stop_server(ib, s, fx_reason_normal(), 10000, NULL), 0);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
}

Test(typed_gs, wrong_request_size_crashes_the_server)
{
    fx_crash_capture *cap;
    cr_assert_eq(fx_crash_capture_create(&cap), 0);
    fx_vm *vm = quiet_vm(cap);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    point where = {0, 0};
    fx_pid s;
    cr_assert_eq(fx_gs_start(ib, &(fx_gs_spec){.ops = &pt_ops, .arg = &where}, &s, NULL),
                 0);
    int32_t one = 1;
    point got;
    fx_reason why;
    cr_assert_eq(
        fx_gs_call_read(ib, s, MOVE, &one, sizeof one, 10000, &got, sizeof got, &why),
        FX_EEXIT);
    cr_assert_eq(why.code, FX_ECRASHED);
    cr_assert_str_eq(why.text, "payload of 4 bytes, point needs 8");
    cr_assert_geq(fx_crash_capture_wait(cap, vm, 1, 10000), 1);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
    fx_crash_capture_destroy(cap);
}

/* A plain actor calls the server and reads the reply typed; it reports
 * to main with FX_SEND_T, which main reads with FX_INBOX_RECV_T. */
typedef struct asker {
    fx_pid server, report;
} asker;

static fx_next asked(fx_ctx *cx, fx_msg *m)
{
    const asker *a = fx_state(cx);
    point got = {-1, -1};
    int rc = FX_GS_CALL_RESULT_T(cx, m, &got);
    point out = {rc == 0 ? got.x : rc, got.y};
    FX_SEND_T(cx, a->report, GET, out);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next ask(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    const asker *a = fx_state(cx);
    point d = {5, 6};
    return fx_gs_call_async(cx, a->server, MOVE, &d, sizeof d, 10000, asked);
}

/* A GenServer that forwards a cast to another with FX_GS_CAST_T. */
static fx_gs_ret fwd_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                          size_t size)
{
    point p = *FX_DATA_AS(cx, data, size, point);
    p.x *= 2;
    cr_assert_eq(FX_GS_CAST_T(cx, *(fx_pid *) state, type, p), 0);
    return fx_gs_noreply(cx);
}

static const fx_gs_ops fwd_ops = {.init = fx_gs_init_arg, .handle_cast = fwd_cast};

Test(typed_gs, result_read_and_typed_cast_inside_the_vm)
{
    fx_vm *vm = quiet_vm(NULL);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    point where = {0, 0};
    fx_pid s, f, a;
    cr_assert_eq(fx_gs_start(ib, &(fx_gs_spec){.ops = &pt_ops, .arg = &where}, &s, NULL),
                 0);
    asker st = {s, fx_inbox_pid(ib)};
    fx_spawn_opts o = {.handler = ask, .state_size = sizeof st, .state_init = &st};
    cr_assert_eq(fx_vm_spawn_opt(vm, &o, &a), 0);
    cr_assert_eq(fx_inbox_send(ib, a, 1, NULL, 0), 0);
    point got = {0, 0};
    cr_assert_eq(FX_INBOX_RECV_T(ib, &(fx_match){.type = GET}, 10000, &got), 0);
    cr_assert(got.x == 5 && got.y == 6, "got %d %d", got.x, got.y);
    /* FX_GS_CAST_T: the forwarder doubles x and casts SET on. */
    cr_assert_eq(fx_gs_start(ib, &(fx_gs_spec){.ops = &fwd_ops, .arg = &s}, &f, NULL), 0);
    point set = {7, 8};
    cr_assert_eq(fx_vm_gs_cast(vm, f, SET, &set, sizeof set), 0);
    for (int i = 0; i < 10000 && !(got.x == 14 && got.y == 8); i++)
        cr_assert_eq(FX_GS_CALL_T(ib, s, GET, set, &got, 10000), 0);
    cr_assert(got.x == 14 && got.y == 8);
    cr_assert_eq(fx_gs_stop_server(ib, f, fx_reason_normal(), 10000, NULL), 0);
    cr_assert_eq(fx_gs_stop_server(ib, s, fx_reason_normal(), 10000, NULL), 0);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
}
