/* review18: links, monitors and exit signals against docs/failures.md,
 * link.h and monitor.h, where earlier suites leave a promise open:
 * fx_trap_exit changed while an exit signal is already queued, double
 * and self links, a DOWN that a selective receive set aside and a
 * demonitor with flush, the sender in fx_exit_info, and an inbox
 * trapping `kill`. */
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

enum { I_SPIN = 1, I_FLIP, I_STOP, I_PING, I_LINK2, I_GO, I_X, I_MARK, I_EXIT_IT };
enum { R_DONE = 100, R_EXIT, R_FWD, R_RC, R_ERR };

static void assert_reason(fx_reason got, fx_reason want)
{
    char g[128], w[128];
    fx_reason_format(&got, g, sizeof g);
    fx_reason_format(&want, w, sizeof w);
    cr_assert(fx_reason_eq(&got, &want), "reason %s, want %s", g, w);
}

static fx_reason down(tvm *t, fx_ref ref)
{
    fx_msg *m = NULL;
    int rc =
        fx_inbox_recv(t->in, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, 10000, &m);
    cr_assert_eq(rc, 0, "DOWN: %s", fx_strerror(rc));
    fx_down_info d;
    memcpy(&d, fx_msg_data(m), sizeof d);
    fx_msg_free(m);
    return d.reason;
}

static fx_exit_info recv_exit(tvm *t)
{
    fx_msg *m = tvm_recv(t, R_EXIT);
    fx_exit_info e;
    cr_assert_eq(fx_msg_size(m), sizeof e);
    memcpy(&e, fx_msg_data(m), sizeof e);
    fx_msg_free(m);
    return e;
}

static uint32_t recv_fwd(tvm *t)
{
    fx_msg *m = tvm_recv(t, R_FWD);
    uint32_t v;
    memcpy(&v, fx_msg_data(m), sizeof v);
    fx_msg_free(m);
    return v;
}

/* An actor that stops with {error, 5, "b"} on I_STOP. */
static fx_next victim(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == I_STOP)
        return fx_stop(cx, fx_reason_error(5, "b"));
    return fx_continue(cx);
}

static fx_pid spawn_victim(tvm *t)
{
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t->vm, victim, NULL, &p), 0);
    return p;
}

/* ---- fx_trap_exit changed with an exit signal already queued ------------ */

typedef struct flipper_st {
    fx_pid owner;
    fx_pid peer;
    bool trap;
    atomic_int *go;
} flipper_st;

static fx_next flipper(fx_ctx *cx, fx_msg *m)
{
    flipper_st *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case I_SPIN: { /* busy until the test thread says go */
        time_t limit = time(NULL) + 30;
        while (!atomic_load(st->go)) {
            if (time(NULL) > limit)
                fx_crash(cx, "never released");
            usleep(100);
        }
        break;
    }
    case I_FLIP:
        st->trap = !st->trap;
        fx_trap_exit(cx, st->trap);
        break;
    case I_PING:
        fx_send(cx, st->owner, R_DONE, NULL, 0);
        break;
    case FX_MSG_EXIT:
        fx_send(cx, st->owner, R_EXIT, fx_msg_data(m), fx_msg_size(m));
        break;
    default:
        break;
    }
    return fx_continue(cx);
}

static fx_next flipper_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    flipper_st *st = fx_state(cx);
    fx_trap_exit(cx, st->trap);
    int rc = fx_link(cx, st->peer);
    fx_send(cx, st->owner, rc == 0 ? R_DONE : R_ERR, NULL, 0);
    return fx_become(cx, flipper);
}

/* Sets up: the flipper (trapping or not) linked to a victim, busy in a
 * handler while an I_FLIP and then the victim's exit signal queue up
 * behind it; then lets it go. Returns the flipper; *mon monitors it. */
static fx_pid flip_with_an_exit_queued(tvm *t, bool trap, fx_ref *mon)
{
    static atomic_int go;
    atomic_store(&go, 0);
    fx_pid b = spawn_victim(t);
    flipper_st st = {.owner = t->me, .peer = b, .trap = trap, .go = &go};
    fx_spawn_opts o = {.init = flipper_init, .state_size = sizeof st, .state_init = &st};
    fx_pid a;
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, &a), 0);
    fx_msg_free(tvm_recv(t, R_DONE)); /* linked: the request is in b's queue */
    cr_assert_eq(fx_inbox_monitor(t->in, a, mon), 0);
    fx_ref bmon;
    cr_assert_eq(fx_inbox_monitor(t->in, b, &bmon), 0);
    cr_assert_eq(fx_inbox_send(t->in, a, I_SPIN, NULL, 0), 0);
    cr_assert_eq(fx_inbox_send(t->in, a, I_FLIP, NULL, 0), 0);
    cr_assert_eq(fx_inbox_send(t->in, b, I_STOP, NULL, 0), 0);
    /* failures.md:144: "A dying process signals its links before its
     * monitors": with b's DOWN here, the exit signal is in a's mailbox,
     * behind I_FLIP, while a is still busy. */
    assert_reason(down(t, bmon), fx_reason_error(5, "b"));
    atomic_store(&go, 1);
    return a;
}

/* link.h:67-68 ("Takes effect for the signals it has not reached yet")
 * and failures.md:146-149 ("A signal takes effect when the receiver
 * reaches it in its mailbox ... messages queued ahead of an exit signal
 * are still handled first"): a trapping process that turns trapping off
 * before it reaches a queued exit signal dies of it. */
Test(review18_signals, trap_off_before_a_queued_exit_is_reached_dies_of_it)
{
    tvm t = tvm_start_quiet(2);
    fx_ref mon;
    flip_with_an_exit_queued(&t, true, &mon);
    assert_reason(down(&t, mon), fx_reason_error(5, "b"));
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.type = R_EXIT}, 0, &m), FX_ETIMEDOUT,
                 "the exit was trapped although trapping was off when it was reached");
    tvm_stop(&t);
}

/* The converse: a process not trapping turns trapping on before it
 * reaches a queued exit signal and gets it as a message (link.h:5-6). */
Test(review18_signals, trap_on_before_a_queued_exit_is_reached_gets_a_message)
{
    tvm t = tvm_start_quiet(2);
    fx_ref mon;
    fx_pid a = flip_with_an_exit_queued(&t, false, &mon);
    fx_exit_info e = recv_exit(&t);
    assert_reason(e.reason, fx_reason_error(5, "b"));
    cr_assert_eq(fx_inbox_send(t.in, a, I_PING, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, R_DONE));
    cr_assert_eq(fx_inbox_demonitor(t.in, mon, FX_DEMONITOR_FLUSH), 0, "it died");
    tvm_stop(&t);
}

/* ---- linking twice, and to oneself ------------------------------------- */

typedef struct linker_st {
    fx_pid owner;
} linker_st;

static fx_next linker(fx_ctx *cx, fx_msg *m)
{
    linker_st *st = fx_state(cx);
    uint32_t ty = fx_msg_type(m);
    if (ty == I_LINK2) {
        fx_pid p;
        memcpy(&p, fx_msg_data(m), sizeof p);
        fx_trap_exit(cx, true);
        int rc = fx_link(cx, p);
        int rc2 = fx_link(cx, p);
        int rc3 = fx_link(cx, fx_self(cx));
        fx_send(cx, st->owner, rc == 0 && rc2 == 0 && rc3 == 0 ? R_DONE : R_ERR, NULL, 0);
    } else if (ty == FX_MSG_EXIT) {
        fx_send(cx, st->owner, R_EXIT, fx_msg_data(m), fx_msg_size(m));
    } else {
        fx_send(cx, st->owner, R_FWD, &ty, sizeof ty);
    }
    return fx_continue(cx);
}

static fx_proc_info info_of(tvm *t, fx_pid p)
{
    fx_proc_info i = {.version = FX_PROC_INFO_VERSION};
    cr_assert_eq(fx_process_info(t->vm, p, &i), 0);
    return i;
}

/* failures.md:69 and link.h:34: "Linking to an existing link or to itself
 * does nothing": one link at each end (fx_proc_info.links), and one EXIT
 * when the peer dies. */
Test(review18_signals, linking_twice_or_to_oneself_makes_one_link)
{
    tvm t = tvm_start_quiet(2);
    fx_pid b = spawn_victim(&t);
    linker_st st = {.owner = t.me};
    fx_spawn_opts o = {.handler = linker, .state_size = sizeof st, .state_init = &st};
    fx_pid a;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &a), 0);
    cr_assert_eq(fx_inbox_send(t.in, a, I_LINK2, &b, sizeof b), 0);
    fx_msg_free(tvm_recv(&t, R_DONE));
    /* a is idle now; b applies the link requests when it reaches them. */
    cr_assert_eq(info_of(&t, a).links, 1);
    fx_proc_info bi;
    for (int i = 0; i < 10000; i++) {
        bi = info_of(&t, b);
        if (bi.queue_len == 0 && bi.status == FX_PROC_WAITING)
            break;
        usleep(1000);
    }
    cr_assert_eq(bi.links, 1, "the peer holds %u links", bi.links);
    cr_assert_eq(fx_inbox_send(t.in, b, I_STOP, NULL, 0), 0);
    fx_exit_info e = recv_exit(&t);
    cr_assert(fx_pid_eq(e.pid, b));
    assert_reason(e.reason, fx_reason_error(5, "b"));
    cr_assert_eq(fx_inbox_send(t.in, a, I_MARK, NULL, 0), 0);
    cr_assert_eq(recv_fwd(&t), (uint32_t) I_MARK);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.type = R_EXIT}, 0, &m), FX_ETIMEDOUT,
                 "a second EXIT for a double link");
    cr_assert_eq(info_of(&t, a).links, 0);
    tvm_stop(&t);
}

/* ---- demonitor with flush of a DOWN a selective receive set aside ------- */

typedef struct watcher_st {
    fx_pid owner;
    fx_pid target;
    fx_ref ref;
} watcher_st;

static fx_next watcher_fwd(fx_ctx *cx, fx_msg *m)
{
    watcher_st *st = fx_state(cx);
    uint32_t ty = fx_msg_type(m);
    fx_send(cx, st->owner, R_FWD, &ty, sizeof ty);
    return fx_continue(cx);
}

static fx_next watcher_got_x(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    watcher_st *st = fx_state(cx);
    int rc = fx_demonitor(cx, st->ref, FX_DEMONITOR_FLUSH);
    fx_send(cx, st->owner, R_RC, &rc, sizeof rc);
    return fx_become(cx, watcher_fwd);
}

static fx_next watcher(fx_ctx *cx, fx_msg *m)
{
    watcher_st *st = fx_state(cx);
    if (fx_msg_type(m) != I_GO)
        return fx_continue(cx);
    int rc = fx_monitor(cx, st->target, &st->ref);
    fx_send(cx, st->owner, rc == 0 ? R_DONE : R_ERR, NULL, 0);
    return fx_receive(cx, watcher_got_x, &(fx_match){.type = I_X}, FX_INFINITY);
}

/* failures.md:115-121 and monitor.h:47-54: a DOWN already in the queue
 * ("whether or not the caller has reached it") is removed by
 * FX_DEMONITOR_FLUSH, and the call answers FX_ENOENT (the monitor had
 * fired). Here the DOWN was passed over by a selective receive waiting
 * for something else (actors.md:128-131: it stays queued), so it sits
 * among the set-aside messages when the demonitor runs. */
Test(review18_signals, demonitor_flush_removes_a_down_a_selective_receive_passed_over)
{
    tvm t = tvm_start_quiet(2);
    fx_pid b = spawn_victim(&t);
    watcher_st st = {.owner = t.me, .target = b};
    fx_spawn_opts o = {.handler = watcher, .state_size = sizeof st, .state_init = &st};
    fx_pid w;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &w), 0);
    cr_assert_eq(fx_inbox_send(t.in, w, I_GO, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, R_DONE));
    fx_ref bmon;
    cr_assert_eq(fx_inbox_monitor(t.in, b, &bmon), 0);
    cr_assert_eq(fx_inbox_send(t.in, b, I_STOP, NULL, 0), 0);
    assert_reason(down(&t, bmon), fx_reason_error(5, "b"));
    /* Wait (bounded) until the watcher's DOWN is queued and the watcher,
     * in its receive, has looked at it. */
    fx_proc_info i;
    for (int n = 0; n < 10000; n++) {
        i = info_of(&t, w);
        if (i.queue_len == 1 && i.status == FX_PROC_WAITING)
            break;
        usleep(1000);
    }
    cr_assert_eq(i.queue_len, 1, "the watcher's DOWN never came");
    cr_assert_eq(fx_inbox_send(t.in, w, I_X, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, R_RC);
    int rc;
    memcpy(&rc, fx_msg_data(m), sizeof rc);
    fx_msg_free(m);
    cr_assert_eq(rc, FX_ENOENT, "demonitor of a fired monitor: %s", fx_strerror(rc));
    cr_assert_eq(fx_inbox_send(t.in, w, I_MARK, NULL, 0), 0);
    uint32_t first = recv_fwd(&t);
    cr_assert_eq(first, (uint32_t) I_MARK,
                 "got %#x first: the flushed DOWN was delivered", first);
    tvm_stop(&t);
}

/* ---- who sent the exit signal ----------------------------------------- */

static fx_next exiter(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == I_EXIT_IT) {
        fx_pid p;
        memcpy(&p, fx_msg_data(m), sizeof p);
        fx_exit(cx, p, fx_reason_error(4, "from an actor"));
    }
    return fx_continue(cx);
}

/* link.h:25-28: fx_exit_info.pid "is the sender of the signal (the linked
 * process that exited, or the caller of fx_exit; FX_PID_NONE from outside
 * the VM)", and link.h:60-62 for fx_vm_exit. The trapping target lives
 * on (failures.md:98-101). */
Test(review18_signals, exit_info_names_the_sender_of_the_signal)
{
    tvm t = tvm_start_quiet(2);
    linker_st st = {.owner = t.me};
    fx_spawn_opts o = {.handler = linker, .state_size = sizeof st, .state_init = &st};
    fx_pid a, c;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &a), 0);
    fx_pid none = FX_PID_NONE;
    cr_assert_eq(fx_vm_spawn(t.vm, exiter, NULL, &c), 0);
    /* I_LINK2 to a dead pid would be noproc: use it only to turn trapping
     * on, with a live target (c), then unlink is not needed: c never
     * exits during the test. */
    cr_assert_eq(fx_inbox_send(t.in, a, I_LINK2, &c, sizeof c), 0);
    fx_msg_free(tvm_recv(&t, R_DONE));
    cr_assert_eq(fx_inbox_send(t.in, c, I_EXIT_IT, &a, sizeof a), 0);
    fx_exit_info e = recv_exit(&t);
    cr_assert(fx_pid_eq(e.pid, c), "fx_exit's EXIT does not name its caller");
    assert_reason(e.reason, fx_reason_error(4, "from an actor"));
    cr_assert_eq(fx_vm_exit(t.vm, a, fx_reason_error(6, "from outside")), 0);
    e = recv_exit(&t);
    cr_assert(fx_pid_eq(e.pid, none), "fx_vm_exit's EXIT names a sender");
    assert_reason(e.reason, fx_reason_error(6, "from outside"));
    cr_assert_eq(fx_inbox_send(t.in, a, I_MARK, NULL, 0), 0);
    cr_assert_eq(recv_fwd(&t), (uint32_t) I_MARK, "the trapping target died");
    tvm_stop(&t);
}

/* failures.md, "Inboxes": an inbox "always traps exits, even kill": a
 * kill sent to it is an EXIT message with reason kill itself, and the
 * inbox goes on working. */
Test(review18_signals, an_inbox_traps_kill)
{
    tvm t = tvm_start_quiet(2);
    fx_inbox *in2;
    cr_assert_eq(fx_inbox_create(t.vm, &in2), 0);
    fx_pid p2 = fx_inbox_pid(in2);
    cr_assert_eq(fx_vm_exit(t.vm, p2, fx_reason_kill()), 0);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(in2, &(fx_match){.type = FX_MSG_EXIT}, 10000, &m), 0);
    fx_exit_info e;
    cr_assert_eq(fx_msg_size(m), sizeof e);
    memcpy(&e, fx_msg_data(m), sizeof e);
    fx_msg_free(m);
    cr_assert_eq(e.reason.kind, FX_REASON_KILL, "the EXIT's reason is not the kill sent");
    cr_assert(fx_is_alive(t.vm, p2), "the inbox process died of a kill");
    cr_assert_eq(fx_inbox_send(t.in, p2, I_MARK, NULL, 0), 0);
    m = NULL;
    cr_assert_eq(fx_inbox_recv(in2, &(fx_match){.type = I_MARK}, 10000, &m), 0);
    fx_msg_free(m);
    fx_inbox_destroy(in2);
    tvm_stop(&t);
}

/* ---- a link that reaches its peer too late; an unlink ahead of a queued
 * exit signal ------------------------------------------------------------ */

enum { J_SPIN = 50, J_LINK, J_SPIN_UNLINK };

typedef struct ln_st {
    fx_pid owner;
    fx_pid peer;
    bool trap;
    bool link_at_init;
    atomic_int *go;
} ln_st;

static void spin_until(fx_ctx *cx, atomic_int *go)
{
    time_t limit = time(NULL) + 30;
    while (!atomic_load(go)) {
        if (time(NULL) > limit)
            fx_crash(cx, "never released");
        usleep(100);
    }
}

/* The peer: busy on J_SPIN until released, stops with {error, 5, "b"} on
 * I_STOP. */
static fx_next spinner(fx_ctx *cx, fx_msg *m)
{
    atomic_int **go = fx_state(cx);
    if (fx_msg_type(m) == J_SPIN)
        spin_until(cx, *go);
    else if (fx_msg_type(m) == I_STOP)
        return fx_stop(cx, fx_reason_error(5, "b"));
    return fx_continue(cx);
}

static fx_next ln(fx_ctx *cx, fx_msg *m)
{
    ln_st *st = fx_state(cx);
    int rc;
    switch (fx_msg_type(m)) {
    case J_LINK:
        rc = fx_link(cx, st->peer);
        fx_send(cx, st->owner, R_RC, &rc, sizeof rc);
        break;
    case J_SPIN_UNLINK:
        spin_until(cx, st->go);
        rc = fx_unlink(cx, st->peer);
        fx_send(cx, st->owner, R_RC, &rc, sizeof rc);
        break;
    case I_PING:
        fx_send(cx, st->owner, R_DONE, NULL, 0);
        break;
    case FX_MSG_EXIT:
        fx_send(cx, st->owner, R_EXIT, fx_msg_data(m), fx_msg_size(m));
        break;
    default:
        break;
    }
    return fx_continue(cx);
}

static fx_next ln_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    ln_st *st = fx_state(cx);
    fx_trap_exit(cx, st->trap);
    if (st->link_at_init) {
        int rc = fx_link(cx, st->peer);
        fx_send(cx, st->owner, R_RC, &rc, sizeof rc);
    }
    return fx_become(cx, ln);
}

static int recv_rc(tvm *t)
{
    fx_msg *m = tvm_recv(t, R_RC);
    int rc;
    memcpy(&rc, fx_msg_data(m), sizeof rc);
    fx_msg_free(m);
    return rc;
}

/* failures.md:74-75 and link.h:38-39: "If pid dies before the link
 * reaches it, the caller still gets an exit signal with reason noproc"
 * (Erlang's link/1 too). The peer is alive when fx_link runs (0), but its
 * stop is queued ahead of the link request. Trapping: an EXIT noproc;
 * not trapping: the caller dies with noproc. */
Test(review18_signals, link_that_reaches_a_peer_already_gone_gives_noproc)
{
    tvm t = tvm_start_quiet(2);
    for (int trap = 1; trap >= 0; trap--) {
        static atomic_int go;
        atomic_store(&go, 0);
        atomic_int *gp = &go;
        fx_spawn_opts bo = {
            .handler = spinner, .state_size = sizeof gp, .state_init = &gp};
        fx_pid b;
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &bo, &b), 0);
        cr_assert_eq(fx_inbox_send(t.in, b, J_SPIN, NULL, 0), 0);
        cr_assert_eq(fx_inbox_send(t.in, b, I_STOP, NULL, 0), 0);
        ln_st st = {.owner = t.me, .peer = b, .trap = trap};
        fx_spawn_opts o = {.init = ln_init, .state_size = sizeof st, .state_init = &st};
        fx_pid a;
        fx_ref amon;
        cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &a, &amon), 0);
        cr_assert_eq(fx_inbox_send(t.in, a, J_LINK, NULL, 0), 0);
        cr_assert_eq(recv_rc(&t), 0, "fx_link to a live peer");
        atomic_store(&go, 1); /* the peer stops before it reaches the link */
        if (trap) {
            fx_exit_info e = recv_exit(&t);
            cr_assert(fx_pid_eq(e.pid, b));
            assert_reason(e.reason, fx_reason_noproc());
            cr_assert_eq(fx_inbox_send(t.in, a, I_PING, NULL, 0), 0);
            fx_msg_free(tvm_recv(&t, R_DONE));
            cr_assert_eq(fx_inbox_demonitor(t.in, amon, FX_DEMONITOR_FLUSH), 0);
        } else {
            assert_reason(down(&t, amon), fx_reason_noproc());
        }
    }
    tvm_stop(&t);
}

/* link.h:43-47 and failures.md:76-80 ("After fx_unlink returns, the link
 * has no further effect on the caller"; Erlang's unlink/1 guarantees the
 * same): the peer's exit signal is already in the mailbox of a caller
 * that does not trap exits when it unlinks; reaching it afterwards must
 * not kill the caller. */
Test(review18_signals, unlink_ahead_of_a_queued_exit_keeps_a_non_trapping_caller_alive)
{
    tvm t = tvm_start_quiet(2);
    static atomic_int go;
    atomic_store(&go, 0);
    fx_pid b = spawn_victim(&t);
    ln_st st = {.owner = t.me, .peer = b, .link_at_init = true, .go = &go};
    fx_spawn_opts o = {.init = ln_init, .state_size = sizeof st, .state_init = &st};
    fx_pid a;
    fx_ref amon;
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &a, &amon), 0);
    cr_assert_eq(recv_rc(&t), 0); /* linked at init */
    cr_assert_eq(fx_inbox_send(t.in, a, J_SPIN_UNLINK, NULL, 0), 0);
    fx_ref bmon;
    cr_assert_eq(fx_inbox_monitor(t.in, b, &bmon), 0);
    cr_assert_eq(fx_inbox_send(t.in, b, I_STOP, NULL, 0), 0);
    /* Links are signalled before monitors (failures.md:144): the exit
     * signal is in a's mailbox now, behind the handler a is busy in. */
    assert_reason(down(&t, bmon), fx_reason_error(5, "b"));
    atomic_store(&go, 1);
    cr_assert_eq(recv_rc(&t), 0, "fx_unlink");
    cr_assert_eq(fx_inbox_send(t.in, a, I_PING, NULL, 0), 0);
    fx_msg_free(tvm_recv(&t, R_DONE));
    cr_assert_eq(fx_inbox_demonitor(t.in, amon, FX_DEMONITOR_FLUSH), 0,
                 "the caller died of a link it had removed");
    tvm_stop(&t);
}
