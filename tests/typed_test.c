/* Typed messages (<fauxtp/typed.h>) and const spec tables. */
#include <criterion/criterion.h>
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <string.h>

typedef struct point {
    int32_t x, y;
} point;

typedef struct big {
    double v[4];
} big;

enum { MOVE = 1, MOVED, VIEW };

/* Replies MOVED with the point moved by (1, 1): FX_MSG_GET or, for VIEW,
 * FX_MSG_AS. */
static fx_next mover(fx_ctx *cx, fx_msg *m)
{
    point p;
    if (fx_msg_type(m) == VIEW) {
        const point *v = FX_MSG_AS(cx, m, point);
        p = *v;
    } else {
        FX_MSG_GET(cx, m, point, &p);
    }
    p.x++;
    p.y++;
    FX_SEND_T(cx, fx_msg_from(m), MOVED, p);
    return fx_continue(cx);
}

static fx_vm *vm_with(fx_crash_capture *cap)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    fx_vm *vm;
    cr_assert_eq(fx_test_vm_create(&c, cap, &vm), 0);
    return vm;
}

Test(typed, round_trip)
{
    fx_vm *vm = vm_with(NULL);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(vm, mover, NULL, &p), 0);
    point a = {1, 2};
    cr_assert_eq(FX_INBOX_SEND_T(ib, p, MOVE, a), 0);
    cr_assert_eq(FX_INBOX_SEND_T(ib, p, VIEW, ((point){10, 20})), 0);
    fx_msg *m = NULL;
    point got;
    cr_assert_eq(fx_inbox_recv(ib, &(fx_match){.type = MOVED}, 10000, &m), 0);
    cr_assert_eq(FX_MSG_READ(m, &got), 0);
    cr_assert(got.x == 2 && got.y == 3);
    fx_msg_free(m);
    cr_assert_eq(fx_inbox_recv(ib, &(fx_match){.type = MOVED}, 10000, &m), 0);
    cr_assert_eq(FX_MSG_READ(m, &got), 0);
    cr_assert(got.x == 11 && got.y == 21);
    /* Outside a handler a wrong size is an error code, nothing copied. */
    big b = {{0}};
    cr_assert_eq(FX_MSG_READ(m, &b), FX_EMSGSIZE);
    cr_assert_eq(b.v[0], 0.0);
    cr_assert_eq(fx_msg_read(NULL, &b, sizeof b), FX_EINVAL);
    cr_assert_eq(fx_msg_read(m, NULL, sizeof got), FX_EINVAL);
    fx_msg_free(m);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
}

static void wrong_size_crashes(uint32_t tag)
{
    fx_crash_capture *cap;
    cr_assert_eq(fx_crash_capture_create(&cap), 0);
    fx_vm *vm = vm_with(cap);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_pid p;
    fx_ref r;
    fx_spawn_opts o = {.handler = mover};
    cr_assert_eq(fx_inbox_spawn_monitor(ib, &o, &p, &r), 0);
    big b = {{1.0}};
    cr_assert_eq(FX_INBOX_SEND_T(ib, p, tag, b), 0);
    fx_msg *down = NULL;
    cr_assert_eq(
        fx_inbox_recv(ib, &(fx_match){.type = FX_MSG_DOWN, .ref = r}, 10000, &down), 0);
    fx_msg_free(down);
    /* The report is made after the monitors are signalled: wait for it. */
    cr_assert_eq(fx_crash_capture_wait(cap, vm, 1, 10000), 1);
    fx_captured_report rep;
    cr_assert_eq(fx_crash_capture_find(cap, p, &rep), 0);
    cr_assert_eq(rep.reason.code, FX_ECRASHED);
    char want[96];
    snprintf(want, sizeof want, "message of type %u: 32 bytes, %s needs 8", tag, "point");
    cr_assert_str_eq(rep.reason.text, want);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
    fx_crash_capture_destroy(cap);
}

Test(typed, wrong_size_crashes_the_receiver_get)
{
    wrong_size_crashes(MOVE);
}

Test(typed, wrong_size_crashes_the_receiver_view)
{
    wrong_size_crashes(VIEW);
}

/* A static const spec table needs no cast (carg). */
static const fx_spawn_opts mover_opts = {.handler = mover};
static const fx_child_spec kids[] = {
    {.id = "mover", .start = fx_child_actor, .carg = &mover_opts},
};

Test(typed, const_spec_tables)
{
    fx_vm *vm = vm_with(NULL);
    fx_inbox *ib;
    cr_assert_eq(fx_inbox_create(vm, &ib), 0);
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.children = kids;
    s.nchildren = 1;
    fx_pid sup;
    cr_assert_eq(fx_sup_start(ib, &s, &sup, NULL), 0);
    fx_child_info info;
    cr_assert_eq(fx_sup_which_children(ib, sup, &info, 1, 10000), 1);
    point a = {5, 5};
    cr_assert_eq(FX_INBOX_SEND_T(ib, info.pid, MOVE, a), 0);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(ib, &(fx_match){.type = MOVED}, 10000, &m), 0);
    point got;
    cr_assert_eq(FX_MSG_READ(m, &got), 0);
    cr_assert(got.x == 6 && got.y == 6);
    fx_msg_free(m);
    fx_inbox_destroy(ib);
    fx_vm_destroy(vm);
}
