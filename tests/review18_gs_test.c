/* review18: GenServer against docs/genserver.md and gen_server.h, the
 * promises earlier suites leave open: a trapped parent exit with an
 * abnormal reason next to another linked process's EXIT, continue versus
 * timeout, late replies after a timed-out call_async or call_then, the
 * outcomes of fx_gs_call_then, and fx_gs_stop_server's timeout. */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

enum { Q_GET = 1, Q_DEFER, Q_CONT_WINS, Q_CONT_TIMEOUT, Q_PASS, Q_CRASH }; /* calls */
enum { K_RELEASE = 20, K_SPIN };                                           /* casts */
enum { I_STOP = 30, I_LINK, A_GO };                                        /* infos */
enum { R_TERM = 100, R_EXIT, R_TIMEOUT, R_START, R_RC, R_FWD, R_DONE, R_ERR };

typedef struct cfg {
    fx_pid owner;
    bool trap;         /* fx_trap_exit in init */
    bool fwd;          /* handle_info forwards the type of any other message */
    bool init_timeout; /* init answers fx_gs_with_timeout(fx_gs_ok, 0) */
} cfg;

typedef struct srv {
    cfg c;
    int timeouts;
    fx_from pending;
    bool has_pending;
} srv;

/* Q_PASS's request: call `to` with `type` and this timeout via
 * fx_gs_call_then, and reply with a pass_out. */
typedef struct pass_in {
    fx_pid to;
    uint32_t type;
    int64_t timeout_ms;
} pass_in;
typedef struct pass_out {
    int rc;
    fx_reason reason;
} pass_out;

static fx_gs_ret s_init(fx_ctx *cx, void *arg, void **state)
{
    srv *s = calloc(1, sizeof *s);
    if (!s)
        return fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "no memory"));
    s->c = *(const cfg *) arg;
    if (s->c.trap)
        fx_trap_exit(cx, true);
    *state = s;
    if (s->c.init_timeout)
        return fx_gs_with_timeout(fx_gs_ok(cx), 0);
    return fx_gs_ok(cx);
}

static fx_gs_ret passed(fx_ctx *cx, void *state, const fx_response *res)
{
    (void) state;
    pass_out o = {.rc = res->rc, .reason = res->reason};
    return fx_gs_reply(cx, &o, sizeof o);
}

static fx_gs_ret s_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    srv *s = state;
    int one = 1;
    switch (type) {
    case Q_GET:
        return fx_gs_reply(cx, &s->timeouts, sizeof s->timeouts);
    case Q_DEFER:
        s->pending = from;
        s->has_pending = true;
        return fx_gs_noreply(cx);
    case Q_CONT_WINS: /* both modifiers: continue 1 answers a plain noreply */
        return fx_gs_with_continue(
            fx_gs_with_timeout(fx_gs_reply(cx, &one, sizeof one), 1), 1);
    case Q_CONT_TIMEOUT: /* continue 2 asks for a timeout itself */
        return fx_gs_with_continue(fx_gs_reply(cx, &one, sizeof one), 2);
    case Q_PASS: {
        pass_in p;
        if (size != sizeof p)
            return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "bad Q_PASS"));
        memcpy(&p, data, sizeof p);
        return fx_gs_call_then(cx, p.to, p.type, NULL, 0, p.timeout_ms, passed, NULL);
    }
    case Q_CRASH:
        fx_crash(cx, "backend crash");
    default:
        return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "unknown call"));
    }
}

static fx_gs_ret s_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size)
{
    srv *s = state;
    if (type == K_RELEASE) { /* answer the deferred call, then tell `dest` */
        fx_pid dest;
        if (size != sizeof dest)
            return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "bad K_RELEASE"));
        memcpy(&dest, data, sizeof dest);
        if (!s->has_pending) {
            fx_send(cx, s->c.owner, R_ERR, NULL, 0);
            return fx_gs_noreply(cx);
        }
        fx_reply(cx, s->pending, "late", 4);
        s->has_pending = false;
        fx_send(cx, dest, R_DONE, NULL, 0);
    } else if (type == K_SPIN) { /* busy until the test thread says go */
        atomic_int *go;
        if (size != sizeof go)
            return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "bad K_SPIN"));
        memcpy(&go, data, sizeof go);
        time_t limit = time(NULL) + 30;
        while (!atomic_load(go)) {
            if (time(NULL) > limit)
                fx_crash(cx, "never released");
            usleep(100);
        }
    }
    return fx_gs_noreply(cx);
}

static fx_gs_ret s_info(fx_ctx *cx, void *state, fx_msg *m)
{
    srv *s = state;
    switch (fx_msg_type(m)) {
    case FX_MSG_TIMEOUT:
        s->timeouts++;
        fx_send(cx, s->c.owner, R_TIMEOUT, NULL, 0);
        break;
    case FX_MSG_EXIT:
        fx_send(cx, s->c.owner, R_EXIT, fx_msg_data(m), fx_msg_size(m));
        break;
    case I_LINK: {
        fx_pid p;
        memcpy(&p, fx_msg_data(m), sizeof p);
        fx_link(cx, p);
        break;
    }
    default:
        if (s->c.fwd) {
            uint32_t t = fx_msg_type(m);
            fx_send(cx, s->c.owner, R_FWD, &t, sizeof t);
        }
    }
    return fx_gs_noreply(cx);
}

static fx_gs_ret s_continue(fx_ctx *cx, void *state, uint64_t cont)
{
    (void) state;
    if (cont == 2)
        return fx_gs_with_timeout(fx_gs_noreply(cx), 1);
    return fx_gs_noreply(cx);
}

static void s_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    srv *s = state;
    if (!s)
        return;
    fx_vm_send(vm, s->c.owner, R_TERM, reason, sizeof *reason);
    free(s);
}

static const fx_gs_ops ops = {.init = s_init,
                              .handle_call = s_call,
                              .handle_cast = s_cast,
                              .handle_info = s_info,
                              .handle_continue = s_continue,
                              .terminate = s_terminate};

static fx_pid start(tvm *t, const cfg *c)
{
    fx_gs_spec spec = {.ops = &ops, .carg = c};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t->in, &spec, &s, NULL), 0);
    return s;
}

static void *call(tvm *t, fx_pid s, uint32_t type, const void *data, size_t size,
                  void *out, size_t out_size)
{
    fx_msg *r = NULL;
    fx_reason why;
    int rc = fx_gs_call(t->in, s, type, data, size, 10000, &r, &why);
    cr_assert_eq(rc, 0, "call %u: %s", type, fx_strerror(rc));
    cr_assert_eq(fx_msg_size(r), out_size);
    memcpy(out, fx_msg_data(r), out_size);
    fx_msg_free(r);
    return out;
}

static int timeouts(tvm *t, fx_pid s)
{
    int n;
    return *(int *) call(t, s, Q_GET, NULL, 0, &n, sizeof n);
}

static fx_reason recv_reason(tvm *t, uint32_t type)
{
    fx_msg *m = tvm_recv(t, type);
    fx_reason r;
    cr_assert_eq(fx_msg_size(m), sizeof r);
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

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

static void assert_none(tvm *t, uint32_t type, int64_t wait_ms)
{
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t->in, &(fx_match){.type = type}, wait_ms, &m);
    cr_assert_eq(rc, FX_ETIMEDOUT, "unexpected message of type %#x",
                 m ? fx_msg_type(m) : 0);
}

/* ---- the parent's exit, trapped, with an abnormal reason --------------- */

typedef struct parent_st {
    fx_pid owner;
    cfg c; /* the server's init argument: lives as long as the parent */
} parent_st;

typedef struct start_out {
    fx_pid pid;
    int rc;
} start_out;

static fx_pid recv_started(tvm *t)
{
    fx_msg *m = tvm_recv(t, R_START);
    start_out o;
    cr_assert_eq(fx_msg_size(m), sizeof o);
    memcpy(&o, fx_msg_data(m), sizeof o);
    fx_msg_free(m);
    cr_assert_eq(o.rc, 0, "start: %s", fx_strerror(o.rc));
    return o.pid;
}

static fx_next parent_loop(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == I_STOP)
        return fx_stop(cx, fx_reason_error(9, "parent died"));
    return fx_continue(cx);
}

static fx_next parent_started(fx_ctx *cx, fx_msg *m)
{
    parent_st *st = fx_state(cx);
    start_out out = {.pid = FX_PID_NONE};
    out.rc = fx_gs_start_result(cx, m, &out.pid, NULL);
    fx_send(cx, st->owner, R_START, &out, sizeof out);
    return fx_become(cx, parent_loop);
}

static fx_next parent_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    parent_st *st = fx_state(cx);
    fx_gs_spec spec = {.ops = &ops, .arg = &st->c, .link = true};
    return fx_gs_start_async(cx, &spec, parent_started);
}

/* A process that links itself to a pid on I_LINK (and reports R_DONE),
 * and stops with {error, 3, "buddy"} on I_STOP. */
static fx_next buddy(fx_ctx *cx, fx_msg *m)
{
    fx_pid *owner = fx_state(cx);
    if (fx_msg_type(m) == I_LINK) {
        fx_pid p;
        memcpy(&p, fx_msg_data(m), sizeof p);
        fx_send(cx, *owner, fx_link(cx, p) == 0 ? R_DONE : R_ERR, NULL, 0);
    } else if (fx_msg_type(m) == I_STOP) {
        return fx_stop(cx, fx_reason_error(3, "buddy"));
    }
    return fx_continue(cx);
}

/* docs/genserver.md:359-362 ("If the server traps exits ... and the parent
 * exits, the server calls terminate with the parent's reason and exits
 * with it; other processes' EXITs go to handle_info") and gen_server.h:55-56
 * (handle_info gets FX_MSG_EXIT "except the parent's"). The parent here is
 * an actor that start-links the server and then crashes with its own
 * reason; another linked process's death comes first and must reach
 * handle_info, leaving the server alive. */
Test(review18_gs, trapped_parent_exit_terminates_with_its_reason_other_exits_are_infos)
{
    tvm t = tvm_start_quiet(2);
    parent_st st = {.owner = t.me, .c = {.owner = t.me, .trap = true}};
    fx_spawn_opts po = {.init = parent_init, .state_size = sizeof st, .state_init = &st};
    fx_pid parent;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &po, &parent), 0);
    fx_pid server = recv_started(&t);
    fx_ref mon;
    cr_assert_eq(fx_inbox_monitor(t.in, server, &mon), 0);

    /* Another process links to the server and dies: an info. */
    fx_pid owner = t.me, b;
    fx_spawn_opts bo = {
        .handler = buddy, .state_size = sizeof owner, .state_init = &owner};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &bo, &b), 0);
    cr_assert_eq(fx_inbox_send(t.in, b, I_LINK, &server, sizeof server), 0);
    fx_msg_free(tvm_recv(&t, R_DONE));
    cr_assert_eq(fx_inbox_send(t.in, b, I_STOP, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, R_EXIT);
    fx_exit_info e;
    cr_assert_eq(fx_msg_size(m), sizeof e);
    memcpy(&e, fx_msg_data(m), sizeof e);
    fx_msg_free(m);
    cr_assert(fx_pid_eq(e.pid, b), "EXIT from another process than the buddy");
    assert_reason(e.reason, fx_reason_error(3, "buddy"));
    cr_assert_eq(timeouts(&t, server), 0, "the server lives on after a non-parent EXIT");

    /* The parent crashes: terminate with its reason, exit with it, and no
     * info for the parent's EXIT. */
    cr_assert_eq(fx_inbox_send(t.in, parent, I_STOP, NULL, 0), 0);
    fx_reason want = fx_reason_error(9, "parent died");
    assert_reason(recv_reason(&t, R_TERM), want);
    assert_reason(down(&t, mon), want);
    /* handle_info's forward would have been sent before the exit, so it
     * would be in the inbox by now. */
    assert_none(&t, R_EXIT, 0);
    tvm_stop(&t);
}

/* docs/genserver.md:359-363, the parent killed: a link's exit signal
 * `killed` is trappable for the server (docs/failures.md:103-104: only
 * fx_exit(kill) is untrappable), and it comes from the parent, so the
 * server terminates with `killed` rather than handling an info. */
Test(review18_gs, trapped_parent_killed_terminates_with_killed)
{
    tvm t = tvm_start_quiet(2);
    parent_st st = {.owner = t.me, .c = {.owner = t.me, .trap = true}};
    fx_spawn_opts po = {.init = parent_init, .state_size = sizeof st, .state_init = &st};
    fx_pid parent;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &po, &parent), 0);
    fx_pid server = recv_started(&t);
    fx_ref mon;
    cr_assert_eq(fx_inbox_monitor(t.in, server, &mon), 0);
    cr_assert_eq(fx_vm_exit(t.vm, parent, fx_reason_kill()), 0);
    assert_reason(recv_reason(&t, R_TERM), fx_reason_killed());
    assert_reason(down(&t, mon), fx_reason_killed());
    assert_none(&t, R_EXIT, 0);
    tvm_stop(&t);
}

/* ---- continue and timeout ---------------------------------------------- */

/* docs/genserver.md:339-341 and gen_server.h:110-111: "With both, the
 * continue wins and handle_continue's own answer decides what follows."
 * The call's answer asks for a 1 ms timeout and a continue; the continue
 * answers a plain noreply, so no timeout may ever reach handle_info. */
Test(review18_gs, continue_wins_over_the_timeout_of_the_same_answer)
{
    tvm t = tvm_start(2);
    cfg c = {.owner = t.me};
    fx_pid s = start(&t, &c);
    int one;
    cr_assert_eq(*(int *) call(&t, s, Q_CONT_WINS, NULL, 0, &one, sizeof one), 1);
    /* Long enough for a 1 ms timeout to fire many times over, if it had
     * been kept (the pass does not depend on it). */
    usleep(50 * 1000);
    cr_assert_eq(timeouts(&t, s), 0,
                 "the answer's own timeout fired although a continue won");
    assert_none(&t, R_TIMEOUT, 0);
    cr_assert_eq(fx_gs_stop_server(t.in, s, fx_reason_normal(), 10000, NULL), 0);
    assert_reason(recv_reason(&t, R_TERM), fx_reason_normal());
    tvm_stop(&t);
}

/* docs/genserver.md:334-341: the continue's answer decides: its own
 * timeout fires (once: handle_info answers without one). */
Test(review18_gs, the_continues_own_timeout_fires_once)
{
    tvm t = tvm_start(2);
    cfg c = {.owner = t.me};
    fx_pid s = start(&t, &c);
    int one;
    cr_assert_eq(*(int *) call(&t, s, Q_CONT_TIMEOUT, NULL, 0, &one, sizeof one), 1);
    fx_msg_free(tvm_recv(&t, R_TIMEOUT));
    cr_assert_eq(timeouts(&t, s), 1);
    usleep(20 * 1000);
    cr_assert_eq(timeouts(&t, s), 1, "the timeout was asked again");
    cr_assert_eq(fx_gs_stop_server(t.in, s, fx_reason_normal(), 10000, NULL), 0);
    fx_msg_free(tvm_recv(&t, R_TERM));
    tvm_stop(&t);
}

/* docs/genserver.md:45 and gen_server.h:106-110: the timeout modifier
 * applies to init's ok as to noreply/reply (OTP's {ok, S, Timeout}): with
 * 0 and no message coming, handle_info gets one FX_MSG_TIMEOUT after the
 * start. */
Test(review18_gs, zero_timeout_from_init_fires_once)
{
    tvm t = tvm_start(2);
    cfg c = {.owner = t.me, .init_timeout = true};
    fx_pid s = start(&t, &c);
    fx_msg_free(tvm_recv(&t, R_TIMEOUT));
    cr_assert_eq(timeouts(&t, s), 1);
    assert_none(&t, R_TIMEOUT, 20);
    cr_assert_eq(timeouts(&t, s), 1);
    tvm_stop(&t);
}

/* ---- late replies ------------------------------------------------------ */

typedef struct asker_st {
    fx_pid owner;
    fx_pid server;
    int64_t timeout_ms;
} asker_st;

static fx_next asker_fwd(fx_ctx *cx, fx_msg *m)
{
    asker_st *st = fx_state(cx);
    uint32_t ty = fx_msg_type(m);
    fx_send(cx, st->owner, R_FWD, &ty, sizeof ty);
    return fx_continue(cx);
}

static fx_next asker_then(fx_ctx *cx, fx_msg *m)
{
    asker_st *st = fx_state(cx);
    const void *d;
    size_t n;
    int rc = fx_gs_call_result(cx, m, &d, &n, NULL);
    fx_send(cx, st->owner, R_RC, &rc, sizeof rc);
    return fx_become(cx, asker_fwd);
}

static fx_next asker(fx_ctx *cx, fx_msg *m)
{
    asker_st *st = fx_state(cx);
    if (fx_msg_type(m) == A_GO)
        return fx_gs_call_async(cx, st->server, Q_DEFER, NULL, 0, st->timeout_ms,
                                asker_then);
    return fx_continue(cx);
}

static int recv_int(tvm *t, uint32_t type)
{
    fx_msg *m = tvm_recv(t, type);
    int v;
    cr_assert_eq(fx_msg_size(m), sizeof v);
    memcpy(&v, fx_msg_data(m), sizeof v);
    fx_msg_free(m);
    return v;
}

static uint32_t recv_fwd(tvm *t)
{
    fx_msg *m = tvm_recv(t, R_FWD);
    uint32_t v;
    memcpy(&v, fx_msg_data(m), sizeof v);
    fx_msg_free(m);
    return v;
}

/* docs/genserver.md:182-184 and 188-189: after FX_ETIMEDOUT "a reply that
 * comes later is dropped by the runtime ... it never shows up in the
 * caller's mailbox"; fx_gs_call_result "ends the call (its monitor and any
 * late reply go)". The server answers the timed-out call and then sends
 * the caller R_DONE: from one sender, so a leaked reply would be handled
 * first. */
Test(review18_gs, call_async_late_reply_never_reaches_the_caller)
{
    tvm t = tvm_start(2);
    cfg c = {.owner = t.me};
    fx_pid s = start(&t, &c);
    /* 0: "only what is already there" (actors.md:131), the reply cannot
     * be; 1 ms: a timer. */
    for (int64_t ms = 0; ms < 2; ms++) {
        asker_st st = {.owner = t.me, .server = s, .timeout_ms = ms};
        fx_spawn_opts o = {.handler = asker, .state_size = sizeof st, .state_init = &st};
        fx_pid a;
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &a), 0);
        cr_assert_eq(fx_inbox_send(t.in, a, A_GO, NULL, 0), 0);
        cr_assert_eq(recv_int(&t, R_RC), FX_ETIMEDOUT);
        /* The request reached the server's mailbox before the caller
         * handled its timeout, so the server holds it by the time it
         * reaches this cast. */
        cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_RELEASE, &a, sizeof a), 0);
        cr_assert_eq(recv_fwd(&t), (uint32_t) R_DONE,
                     "a late reply reached the caller (%d ms)", (int) ms);
        assert_none(&t, R_ERR, 0);
    }
    tvm_stop(&t);
}

/* gen_server.h:150-160 and docs/genserver.md:182-184 with a timeout of 0
 * from an inbox: FX_ETIMEDOUT, and the reply the server sends afterwards
 * (before R_DONE, from the same sender) never shows up in the inbox. */
Test(review18_gs, call_with_zero_timeout_drops_the_late_reply)
{
    tvm t = tvm_start(2);
    cfg c = {.owner = t.me};
    fx_pid s = start(&t, &c);
    fx_msg *r = NULL;
    cr_assert_eq(fx_gs_call(t.in, s, Q_DEFER, NULL, 0, 0, &r, NULL), FX_ETIMEDOUT);
    cr_assert_null(r);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_RELEASE, &t.me, sizeof t.me), 0);
    fx_msg_free(tvm_recv(&t, R_DONE));
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t.in, &(fx_match){0}, 0, &m);
    cr_assert_eq(rc, FX_ETIMEDOUT, "a stray message of type %#x", m ? fx_msg_type(m) : 0);
    cr_assert_eq(timeouts(&t, s), 0);
    tvm_stop(&t);
}

/* docs/genserver.md:259 and 303-305: a call_then that timed out: "A reply
 * after the timeout never reaches handle_info". */
Test(review18_gs, call_then_late_reply_never_reaches_handle_info)
{
    tvm t = tvm_start(2);
    cfg bc = {.owner = t.me}, fc = {.owner = t.me, .fwd = true};
    fx_pid back = start(&t, &bc), front = start(&t, &fc);
    for (int64_t ms = 0; ms < 2; ms++) { /* gen_server.h:195: FX_INFINITY or >= 0 */
        pass_in p = {.to = back, .type = Q_DEFER, .timeout_ms = ms};
        pass_out o;
        call(&t, front, Q_PASS, &p, sizeof p, &o, sizeof o);
        cr_assert_eq(o.rc, FX_ETIMEDOUT, "%d ms: %s", (int) ms, fx_strerror(o.rc));
        cr_assert_eq(fx_vm_gs_cast(t.vm, back, K_RELEASE, &front, sizeof front), 0);
        cr_assert_eq(recv_fwd(&t), (uint32_t) R_DONE,
                     "a late reply reached handle_info (%d ms)", (int) ms);
        assert_none(&t, R_ERR, 0);
    }
    tvm_stop(&t);
}

/* docs/genserver.md:256-262 and gen_server.h:193-200: then's res->rc is
 * FX_EEXIT with the reason when the server died first, FX_ENOPROC when
 * it was not alive, FX_EINVAL for the server itself; and 0 with the
 * reply otherwise. */
Test(review18_gs, call_then_outcomes)
{
    tvm t = tvm_start_quiet(2);
    cfg c = {.owner = t.me};
    fx_pid back = start(&t, &c), front = start(&t, &c);
    pass_out o;

    pass_in p = {.to = back, .type = Q_GET, .timeout_ms = 10000};
    call(&t, front, Q_PASS, &p, sizeof p, &o, sizeof o);
    cr_assert_eq(o.rc, 0);

    p.to = front;
    call(&t, front, Q_PASS, &p, sizeof p, &o, sizeof o);
    cr_assert_eq(o.rc, FX_EINVAL, "a call_then to the server itself: %s",
                 fx_strerror(o.rc));

    p = (pass_in){.to = back, .type = Q_CRASH, .timeout_ms = FX_INFINITY};
    call(&t, front, Q_PASS, &p, sizeof p, &o, sizeof o);
    cr_assert_eq(o.rc, FX_EEXIT, "%s", fx_strerror(o.rc));
    assert_reason(o.reason, fx_reason_error(FX_ECRASHED, "backend crash"));
    fx_msg_free(tvm_recv(&t, R_TERM)); /* the backend's */

    p.type = Q_GET; /* the backend is dead now */
    call(&t, front, Q_PASS, &p, sizeof p, &o, sizeof o);
    cr_assert_eq(o.rc, FX_ENOPROC, "%s", fx_strerror(o.rc));
    cr_assert_eq(timeouts(&t, front), 0, "the front server lives on");
    tvm_stop(&t);
}

/* ---- fx_gs_stop_server's timeout --------------------------------------- */

/* gen_server.h:229-233: "FX_ETIMEDOUT (the request stays queued: the
 * server still stops when it reaches it)", with the reason asked; and the
 * timed-out stop leaves nothing behind in the inbox (its monitor went). */
Test(review18_gs, stop_server_timeout_leaves_the_request_queued)
{
    tvm t = tvm_start_quiet(2);
    cfg c = {.owner = t.me};
    fx_pid s = start(&t, &c);
    fx_ref mon;
    cr_assert_eq(fx_inbox_monitor(t.in, s, &mon), 0);
    static atomic_int go;
    atomic_store(&go, 0);
    atomic_int *gp = &go;
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_SPIN, &gp, sizeof gp), 0);
    fx_reason bye = fx_reason_error(11, "asked to stop");
    fx_reason why;
    cr_assert_eq(fx_gs_stop_server(t.in, s, bye, 20, &why), FX_ETIMEDOUT);
    atomic_store(&go, 1);
    assert_reason(recv_reason(&t, R_TERM), bye);
    assert_reason(down(&t, mon), bye);
    /* Nothing else: no DOWN or reply of the abandoned stop. */
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t.in, &(fx_match){0}, 100, &m);
    cr_assert_eq(rc, FX_ETIMEDOUT, "a stray message of type %#x after a timed-out stop",
                 m ? fx_msg_type(m) : 0);
    cr_assert_eq(fx_gs_stop_server(t.in, s, bye, 1000, NULL), FX_ENOPROC);
    tvm_stop(&t);
}
