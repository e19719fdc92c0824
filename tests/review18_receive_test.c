/* review18: selective receive with a timeout of 0 against docs/actors.md
 * and actor.h: "0 means only what is already there", so a matching
 * message already queued (behind unmatched ones) is received, not a
 * timeout; the skipped ones stay queued in arrival order; and with
 * nothing matching, the FX_MSG_TIMEOUT repeats the pattern's from and
 * ref. */
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

enum { M_GO = 1, M_X, M_Y, M_Z, M_T0, M_W, M_Q };
enum { R_GOT = 100 };

typedef struct rx_st {
    fx_pid owner;
    atomic_int *go;
    fx_pid pat_from; /* the third receive's pattern */
    fx_ref pat_ref;
} rx_st;

typedef struct got {
    uint32_t type;
    int ok; /* for a timeout: its payload repeats the pattern */
} got;

static void report(fx_ctx *cx, uint32_t type, int ok)
{
    rx_st *st = fx_state(cx);
    got g = {type, ok};
    fx_send(cx, st->owner, R_GOT, &g, sizeof g);
}

static fx_next rx_plain(fx_ctx *cx, fx_msg *m);

static fx_next rx_got3(fx_ctx *cx, fx_msg *m)
{
    rx_st *st = fx_state(cx);
    int ok = 0;
    if (fx_msg_type(m) == FX_MSG_TIMEOUT && fx_msg_size(m) == sizeof(fx_timeout_info)) {
        const fx_timeout_info *ti = fx_msg_data(m);
        ok = fx_pid_eq(ti->from, st->pat_from) && ti->ref.id == st->pat_ref.id;
    }
    report(cx, fx_msg_type(m), ok);
    return fx_become(cx, rx_plain);
}

static fx_next rx_plain(fx_ctx *cx, fx_msg *m)
{
    rx_st *st = fx_state(cx);
    report(cx, fx_msg_type(m), 1);
    if (fx_msg_type(m) == M_T0) {
        st->pat_from = fx_self(cx); /* a sender that never sends M_W */
        st->pat_ref = fx_make_ref(cx);
        fx_match w = {.type = M_W, .from = st->pat_from, .ref = st->pat_ref};
        return fx_receive(cx, rx_got3, &w, 0);
    }
    return fx_continue(cx);
}

static fx_next rx_got2(fx_ctx *cx, fx_msg *m)
{
    report(cx, fx_msg_type(m), 1);
    return fx_become(cx, rx_plain);
}

static fx_next rx_got1(fx_ctx *cx, fx_msg *m)
{
    report(cx, fx_msg_type(m), 1);
    return fx_receive(cx, rx_got2, &(fx_match){.type = M_Z}, 0);
}

static fx_next rx_main(fx_ctx *cx, fx_msg *m)
{
    rx_st *st = fx_state(cx);
    if (fx_msg_type(m) != M_GO)
        return fx_continue(cx);
    /* Busy until the test thread has queued Y, X and Z behind GO. */
    time_t limit = time(NULL) + 30;
    while (!atomic_load(st->go)) {
        if (time(NULL) > limit)
            fx_crash(cx, "never released");
        usleep(100);
    }
    return fx_receive(cx, rx_got1, &(fx_match){.type = M_X}, 0);
}

static got recv_got(tvm *t)
{
    fx_msg *m = tvm_recv(t, R_GOT);
    got g;
    cr_assert_eq(fx_msg_size(m), sizeof g);
    memcpy(&g, fx_msg_data(m), sizeof g);
    fx_msg_free(m);
    return g;
}

/* actors.md:121-131 ("The first message, in arrival order, that matches
 * ... goes to the handler. The others stay queued in arrival order and
 * are looked at again as soon as the continuation changes; a plain
 * handler receives them first. If nothing matches within the timeout the
 * handler receives a message of type FX_MSG_TIMEOUT, whose payload
 * (fx_timeout_info) repeats the pattern's from and ref ... 0 means 'only
 * what is already there'") and actor.h:64-69. */
Test(review18_receive, zero_timeout_takes_what_is_already_there)
{
    tvm t = tvm_start(2);
    static atomic_int go;
    atomic_store(&go, 0);
    rx_st st = {.owner = t.me, .go = &go};
    fx_spawn_opts o = {.handler = rx_main, .state_size = sizeof st, .state_init = &st};
    fx_pid a;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &a), 0);
    cr_assert_eq(fx_inbox_send(t.in, a, M_GO, NULL, 0), 0);
    cr_assert_eq(fx_inbox_send(t.in, a, M_Y, NULL, 0), 0);
    cr_assert_eq(fx_inbox_send(t.in, a, M_X, NULL, 0), 0);
    cr_assert_eq(fx_inbox_send(t.in, a, M_Z, NULL, 0), 0);
    atomic_store(&go, 1);
    /* X behind Y: received by the 0 ms receive; then Z, found among the
     * set-aside messages by the next 0 ms receive; then Y, to the plain
     * handler. */
    cr_assert_eq(recv_got(&t).type, (uint32_t) M_X);
    cr_assert_eq(recv_got(&t).type, (uint32_t) M_Z);
    cr_assert_eq(recv_got(&t).type, (uint32_t) M_Y);
    /* Nothing matching: the timeout, repeating the pattern. */
    cr_assert_eq(fx_inbox_send(t.in, a, M_T0, NULL, 0), 0);
    cr_assert_eq(recv_got(&t).type, (uint32_t) M_T0);
    got g = recv_got(&t);
    cr_assert_eq(g.type, FX_MSG_TIMEOUT);
    cr_assert(g.ok, "the timeout's payload does not repeat the pattern's from and ref");
    cr_assert_eq(fx_inbox_send(t.in, a, M_Q, NULL, 0), 0);
    cr_assert_eq(recv_got(&t).type, (uint32_t) M_Q);
    tvm_stop(&t);
}
