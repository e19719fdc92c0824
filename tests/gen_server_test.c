/* GenServer: calls, casts, infos, replies (deferred, late, stop), start
 * outcomes, terminate, system requests, calls from inside handlers. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"

/* ---- a test server ---------------------------------------------------- */

enum { /* calls */
       C_INCR = 1,
       C_GET,
       C_NOREPLY,
       C_DEFER,
       C_STOP_REPLY,
       C_STOP,
       C_CRASH,
       C_CONT,
       C_CONTS,
       C_BLOCK,
       C_STOP_REPLY_NULL,
};
enum { K_ADD = 20, K_REPLY_SAVED, K_STOP, K_CRASH };                 /* casts */
enum { I_INFO = 40 };                                                /* infos */
enum { N_TERMINATE = 100, N_CONTINUE, N_TIMEOUT, N_PID, N_BLOCKED }; /* server -> owner */

enum { M_OK, M_IGNORE, M_STOP, M_CRASH, M_BLOCK, M_CONTINUE, M_TIMEOUT, M_TRAP };

/* init's argument; must outlive init. */
typedef struct cfg {
    fx_pid owner;
    int mode;
    uint64_t cont;
    int64_t timeout;
    sem_t *gate;
} cfg;

typedef struct srv {
    fx_pid owner;
    long count;
    long conts;
    fx_from saved;
    sem_t *gate;
} srv;

static const fx_reason stopped_in_call = {FX_REASON_ERROR, 9, "stopped in call"};
static const fx_reason init_refused = {FX_REASON_ERROR, 42, "no thanks"};

static fx_gs_ret s_init(fx_ctx *cx, void *arg, void **state)
{
    const cfg *c = arg;
    srv *s = calloc(1, sizeof *s);
    s->owner = c->owner;
    s->gate = c->gate;
    *state = s; /* terminate frees it, whatever init answers */
    fx_pid self = fx_self(cx);
    fx_send(cx, c->owner, N_PID, &self, sizeof self);
    switch (c->mode) {
    case M_IGNORE:
        return fx_gs_ignore(cx);
    case M_STOP:
        return fx_gs_stop(cx, init_refused);
    case M_CRASH:
        fx_crash(cx, "init blew up");
    case M_BLOCK:
        sem_wait(c->gate);
        break;
    case M_CONTINUE:
        return fx_gs_with_continue(fx_gs_ok(cx), c->cont);
    case M_TIMEOUT:
        return fx_gs_with_timeout(fx_gs_ok(cx), c->timeout);
    case M_TRAP:
        fx_trap_exit(cx, true);
        break;
    default:
        break;
    }
    return fx_gs_ok(cx);
}

/* A deferred reply: a helper actor answers the saved `from`. */
typedef struct deferred {
    fx_from from;
    long value;
} deferred;

static fx_next reply_later(fx_ctx *cx, void *arg)
{
    (void) arg;
    deferred *d = fx_state(cx);
    fx_reply(cx, d->from, &d->value, sizeof d->value);
    return fx_stop(cx, fx_reason_normal());
}

static fx_gs_ret s_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    (void) data;
    (void) size;
    srv *s = state;
    switch (type) {
    case C_INCR:
        s->count++;
        return fx_gs_reply(cx, &s->count, sizeof s->count);
    case C_GET:
        return fx_gs_reply(cx, &s->count, sizeof s->count);
    case C_NOREPLY:
        s->saved = from;
        return fx_gs_noreply(cx);
    case C_DEFER: {
        deferred d = {from, s->count + 1000};
        fx_spawn_opts o = {.init = reply_later, .state_size = sizeof d, .state_init = &d};
        if (fx_spawn_opt(cx, &o, NULL) != 0)
            return fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "spawn"));
        return fx_gs_noreply(cx);
    }
    case C_STOP_REPLY:
        return fx_gs_stop_reply(cx, fx_reason_shutdown(), &s->count, sizeof s->count);
    case C_STOP:
        return fx_gs_stop(cx, stopped_in_call);
    case C_CRASH:
        fx_crash(cx, "crash in call");
    case C_CONT:
        return fx_gs_with_continue(fx_gs_reply(cx, &s->count, sizeof s->count), 5);
    case C_CONTS:
        return fx_gs_reply(cx, &s->conts, sizeof s->conts);
    case C_BLOCK:
        fx_send(cx, s->owner, N_BLOCKED, NULL, 0);
        sem_wait(s->gate);
        return fx_gs_reply(cx, &s->count, sizeof s->count);
    case C_STOP_REPLY_NULL:
        return fx_gs_stop_reply(cx, fx_reason_shutdown(), NULL, 8);
    default:
        return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "unknown call %u", type));
    }
}

static fx_gs_ret s_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size)
{
    srv *s = state;
    switch (type) {
    case K_ADD: {
        long v = 1;
        if (size == sizeof v)
            memcpy(&v, data, sizeof v);
        s->count += v;
        break;
    }
    case K_REPLY_SAVED:
        fx_reply(cx, s->saved, &s->count, sizeof s->count);
        break;
    case K_STOP:
        return fx_gs_stop(cx, fx_reason_normal());
    case K_CRASH:
        fx_crash(cx, "crash in cast");
    default:
        break;
    }
    return fx_gs_noreply(cx);
}

static fx_gs_ret s_info(fx_ctx *cx, void *state, fx_msg *m)
{
    srv *s = state;
    if (fx_msg_type(m) == I_INFO)
        s->count++;
    else if (fx_msg_type(m) == FX_MSG_TIMEOUT)
        fx_send(cx, s->owner, N_TIMEOUT, NULL, 0);
    return fx_gs_noreply(cx);
}

static fx_gs_ret s_continue(fx_ctx *cx, void *state, uint64_t cont)
{
    srv *s = state;
    s->conts++;
    fx_send(cx, s->owner, N_CONTINUE, &cont, sizeof cont);
    return fx_gs_noreply(cx);
}

static void s_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    srv *s = state;
    fx_vm_send(vm, s->owner, N_TERMINATE, reason, sizeof *reason);
    free(s);
}

static const fx_gs_ops srv_ops = {
    .init = s_init,
    .handle_call = s_call,
    .handle_cast = s_cast,
    .handle_info = s_info,
    .handle_continue = s_continue,
    .terminate = s_terminate,
};

/* ---- the test side ------------------------------------------------------ */

static tvm start_vm(void)
{
    return tvm_start_quiet(2);
}

static void assert_reason(fx_reason got, fx_reason want)
{
    char g[96], w[96];
    fx_reason_format(&got, g, sizeof g);
    fx_reason_format(&want, w, sizeof w);
    cr_assert(fx_reason_eq(&got, &want), "reason %s, expected %s", g, w);
}

static void no_op(void *state, void *arg)
{
    (void) state;
    (void) arg;
}

static fx_pid start_mode(tvm *t, cfg *c, int mode)
{
    *c = (cfg){.owner = t->me, .mode = mode};
    fx_gs_spec spec = {.ops = &srv_ops, .arg = c, .label = "test_server"};
    fx_pid p = FX_PID_NONE;
    int rc = fx_gs_start(t->in, &spec, &p, NULL);
    cr_assert_eq(rc, 0, "start: %s", fx_strerror(rc));
    cr_assert(!fx_pid_is_none(p));
    return p;
}

/* A call expected to succeed with a long reply. */
static long call_long(tvm *t, fx_pid server, uint32_t type)
{
    fx_msg *r = NULL;
    fx_reason why;
    int rc = fx_gs_call(t->in, server, type, NULL, 0, 10000, &r, &why);
    cr_assert_eq(rc, 0, "call %u: %s", type, fx_strerror(rc));
    cr_assert_eq(fx_msg_type(r), FX_MSG_REPLY);
    cr_assert_eq(fx_msg_size(r), sizeof(long));
    long v;
    memcpy(&v, fx_msg_data(r), sizeof v);
    fx_msg_free(r);
    return v;
}

static fx_reason recv_terminate(tvm *t)
{
    fx_msg *m = tvm_recv(t, N_TERMINATE);
    fx_reason r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

/* Nothing of `type` is queued, or arrives within a poll. */
static void assert_none(tvm *t, uint32_t type)
{
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t->in, &(fx_match){.type = type}, 0, &m);
    cr_assert_eq(rc, FX_ETIMEDOUT, "an unexpected message of type %#x", type);
}

/* Waits for pid's exit (a fresh monitor) and returns the reason. Once it
 * returns, terminate has run: the cleanup callback runs before DOWNs are
 * sent. */
static fx_reason wait_exit(tvm *t, fx_pid pid)
{
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t->in, pid, &ref), 0);
    fx_msg *m = NULL;
    int rc =
        fx_inbox_recv(t->in, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, 10000, &m);
    cr_assert_eq(rc, 0, "no DOWN: %s", fx_strerror(rc));
    fx_reason r = ((const fx_down_info *) fx_msg_data(m))->reason;
    fx_msg_free(m);
    return r;
}

static fx_ref monitor(tvm *t, fx_pid pid)
{
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t->in, pid, &ref), 0);
    return ref;
}

/* The DOWN of the inbox's monitor `ref`: its reason. */
static fx_reason down(tvm *t, fx_ref ref)
{
    fx_msg *m = NULL;
    int rc =
        fx_inbox_recv(t->in, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, 10000, &m);
    cr_assert_eq(rc, 0, "no DOWN: %s", fx_strerror(rc));
    fx_reason r = ((const fx_down_info *) fx_msg_data(m))->reason;
    fx_msg_free(m);
    return r;
}

/* Exactly one terminate, with `want`. Call after the server is gone. */
static void assert_terminated_once(tvm *t, fx_reason want)
{
    assert_reason(recv_terminate(t), want);
    assert_none(t, N_TERMINATE);
}

Test(gen_server, call_updates_state)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    for (long i = 1; i <= 3; i++)
        cr_assert_eq(call_long(&t, s, C_INCR), i);
    cr_assert_eq(call_long(&t, s, C_GET), 3);
    cr_assert_eq(fx_gs_stop_server(t.in, s, fx_reason_normal(), 10000, NULL), 0);
    assert_terminated_once(&t, fx_reason_normal());
    cr_assert_eq(fx_is_alive(t.vm, s), 0);
    tvm_stop(&t);
}

Test(gen_server, cast_then_call_is_ordered)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    long total = 0;
    for (long i = 1; i <= 100; i++) {
        cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_ADD, &i, sizeof i), 0);
        total += i;
    }
    cr_assert_eq(call_long(&t, s, C_GET), total);
    tvm_stop(&t);
}

Test(gen_server, info_then_call_is_ordered)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    for (int i = 0; i < 50; i++)
        cr_assert_eq(fx_inbox_send(t.in, s, I_INFO, NULL, 0), 0);
    cr_assert_eq(call_long(&t, s, C_GET), 50);
    tvm_stop(&t);
}

/* INT64_MAX as a call timeout waits (issue 13, defect 6: it used to fail
 * with FX_ETIMEDOUT at once). */
Test(gen_server, call_with_int64_max_timeout_waits)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    fx_msg *r = NULL;
    int rc = fx_gs_call(t.in, s, C_GET, NULL, 0, INT64_MAX, &r, NULL);
    cr_assert_eq(rc, 0, "call: %s", fx_strerror(rc));
    cr_assert_eq(fx_msg_type(r), FX_MSG_REPLY);
    fx_msg_free(r);
    tvm_stop(&t);
}

Test(gen_server, call_timeout_drops_the_late_reply)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    fx_msg *r = (fx_msg *) &r;
    cr_assert_eq(fx_gs_call(t.in, s, C_NOREPLY, NULL, 0, 20, &r, NULL), FX_ETIMEDOUT);
    cr_assert_null(r);
    /* The server answers the saved call now; the GET reply comes after the
     * late one (same sender), so by then the late one has been dropped. */
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_REPLY_SAVED, NULL, 0), 0);
    cr_assert_eq(call_long(&t, s, C_GET), 0);
    assert_none(&t, FX_MSG_REPLY);
    assert_none(&t, FX_MSG_DOWN);
    tvm_stop(&t);
}

Test(gen_server, deferred_reply_from_another_actor)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    call_long(&t, s, C_INCR);
    cr_assert_eq(call_long(&t, s, C_DEFER), 1001);
    cr_assert_eq(call_long(&t, s, C_GET), 1, "the server went on meanwhile");
    tvm_stop(&t);
}

Test(gen_server, stop_reply_replies_after_terminate_then_exits)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    call_long(&t, s, C_INCR);
    fx_ref mon;
    cr_assert_eq(fx_inbox_monitor(t.in, s, &mon), 0);
    cr_assert_eq(call_long(&t, s, C_STOP_REPLY), 1);
    /* terminate ran before the reply was sent: its message is queued. */
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.type = N_TERMINATE}, 0, &m), 0);
    assert_reason(*(const fx_reason *) fx_msg_data(m), fx_reason_shutdown());
    fx_msg_free(m);
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.ref = mon}, 10000, &m), 0);
    cr_assert_eq(fx_msg_type(m), FX_MSG_DOWN);
    assert_reason(((const fx_down_info *) fx_msg_data(m))->reason, fx_reason_shutdown());
    fx_msg_free(m);
    assert_none(&t, N_TERMINATE);
    tvm_stop(&t);
}

Test(gen_server, stop_from_call_without_reply)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    fx_msg *r = NULL;
    fx_reason why;
    cr_assert_eq(fx_gs_call(t.in, s, C_STOP, NULL, 0, FX_INFINITY, &r, &why), FX_EEXIT);
    assert_reason(why, stopped_in_call);
    assert_reason(wait_exit(&t, s), fx_reason_noproc());
    assert_terminated_once(&t, stopped_in_call);
    tvm_stop(&t);
}

Test(gen_server, init_failures_reach_the_starter)
{
    tvm t = start_vm();
    for (int link = 0; link < 2; link++) {
        cfg c = {.owner = t.me, .mode = M_STOP};
        fx_gs_spec spec = {.ops = &srv_ops, .arg = &c, .link = link};
        fx_pid p = FX_PID_NONE;
        fx_reason why;
        cr_assert_eq(fx_gs_start(t.in, &spec, &p, &why), FX_EEXIT);
        assert_reason(why, init_refused);
        cr_assert(fx_pid_is_none(p));
        assert_terminated_once(&t, init_refused);

        c.mode = M_IGNORE;
        cr_assert_eq(fx_gs_start(t.in, &spec, &p, &why), FX_EIGNORE);
        cr_assert(fx_pid_is_none(p));
        assert_terminated_once(&t, fx_reason_normal());

        c.mode = M_CRASH;
        cr_assert_eq(fx_gs_start(t.in, &spec, &p, &why), FX_EEXIT);
        assert_reason(why, fx_reason_error(FX_ECRASHED, "init blew up"));
        assert_terminated_once(&t, why);
        /* A linked starter is told by the start, not by an EXIT. */
        assert_none(&t, FX_MSG_EXIT);
        assert_none(&t, FX_MSG_DOWN);
        assert_none(&t, FX_MSG_REPLY);
    }
    tvm_stop(&t);
}

Test(gen_server, init_timeout_kills_the_server)
{
    tvm t = start_vm();
    for (int link = 0; link < 2; link++) {
        sem_t gate;
        sem_init(&gate, 0, 0);
        cfg c = {.owner = t.me, .mode = M_BLOCK, .gate = &gate};
        fx_gs_spec spec = {.ops = &srv_ops, .arg = &c, .link = link, .timeout_ms = 30};
        fx_pid p = FX_PID_NONE;
        cr_assert_eq(fx_gs_start(t.in, &spec, &p, NULL), FX_ETIMEDOUT);
        cr_assert(fx_pid_is_none(p));
        fx_msg *m = tvm_recv(&t, N_PID); /* init runs (blocked) */
        fx_pid server = *(const fx_pid *) fx_msg_data(m);
        fx_msg_free(m);
        sem_post(&gate); /* init returns ok, too late */
        fx_reason r = wait_exit(&t, server);
        cr_assert(r.kind == FX_REASON_KILLED || r.kind == FX_REASON_NOPROC);
        assert_terminated_once(&t, fx_reason_killed());
        assert_none(&t, FX_MSG_REPLY); /* the late ACK was dropped */
        assert_none(&t, FX_MSG_EXIT);
        sem_destroy(&gate);
    }
    tvm_stop(&t);
}

Test(gen_server, call_to_a_dead_server_fails_fast)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    cr_assert_eq(fx_gs_stop_server(t.in, s, fx_reason_shutdown(), FX_INFINITY, NULL), 0);
    fx_msg *r = NULL;
    /* An infinite timeout: only failing fast (the request cannot be sent,
     * or the monitor's DOWN says noproc) can end it. */
    cr_assert_eq(fx_gs_call(t.in, s, C_GET, NULL, 0, FX_INFINITY, &r, NULL), FX_ENOPROC);
    cr_assert_eq(fx_gs_call(t.in, (fx_pid){12345}, C_GET, NULL, 0, FX_INFINITY, &r, NULL),
                 FX_ENOPROC);
    cr_assert_eq(fx_gs_stop_server(t.in, s, fx_reason_normal(), FX_INFINITY, NULL),
                 FX_ENOPROC);
    cr_assert_eq(fx_gs_get_state(t.in, s, no_op, NULL, FX_INFINITY), FX_ENOPROC);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_ADD, NULL, 0), FX_ENOPROC);
    assert_none(&t, FX_MSG_DOWN);
    tvm_stop(&t);
}

Test(gen_server, crash_mid_call_gives_the_reason)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    fx_msg *r = NULL;
    fx_reason why;
    cr_assert_eq(fx_gs_call(t.in, s, C_CRASH, NULL, 0, FX_INFINITY, &r, &why), FX_EEXIT);
    fx_reason crash = fx_reason_error(FX_ECRASHED, "crash in call");
    assert_reason(why, crash);
    wait_exit(&t, s);
    assert_terminated_once(&t, crash);
    tvm_stop(&t);
}

Test(gen_server, handle_continue_runs_before_the_next_message)
{
    tvm t = start_vm();
    cfg c = {.owner = t.me, .mode = M_CONTINUE, .cont = 77};
    fx_gs_spec spec = {.ops = &srv_ops, .arg = &c};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    /* The first call is handled after init's continue. */
    cr_assert_eq(call_long(&t, s, C_CONTS), 1);
    cr_assert_eq(tvm_recv_u64(&t, N_CONTINUE), 77);
    /* A reply with a continue: the reply first, the continue before the
     * next call. */
    call_long(&t, s, C_CONT);
    cr_assert_eq(call_long(&t, s, C_CONTS), 2);
    cr_assert_eq(tvm_recv_u64(&t, N_CONTINUE), 5);
    tvm_stop(&t);
}

Test(gen_server, timeout_reaches_handle_info)
{
    tvm t = start_vm();
    cfg c = {.owner = t.me, .mode = M_TIMEOUT, .timeout = 5};
    fx_gs_spec spec = {.ops = &srv_ops, .arg = &c};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    fx_msg_free(tvm_recv(&t, N_TIMEOUT));
    /* noreply without a timeout: none follows. */
    cr_assert_eq(call_long(&t, s, C_GET), 0);
    tvm_stop(&t);
}

Test(gen_server, terminate_once_in_every_stop_path)
{
    tvm t = start_vm();
    cfg c;
    /* A stop answer from a cast. */
    fx_pid s = start_mode(&t, &c, M_OK);
    fx_ref mon = monitor(&t, s);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_STOP, NULL, 0), 0);
    assert_reason(down(&t, mon), fx_reason_normal());
    assert_terminated_once(&t, fx_reason_normal());
    /* fx_gs_stop_server. */
    s = start_mode(&t, &c, M_OK);
    fx_reason bye = fx_reason_error(5, "bye");
    cr_assert_eq(fx_gs_stop_server(t.in, s, bye, 10000, NULL), 0);
    assert_terminated_once(&t, bye);
    /* A crash. */
    s = start_mode(&t, &c, M_OK);
    mon = monitor(&t, s);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_CRASH, NULL, 0), 0);
    fx_reason crash = fx_reason_error(FX_ECRASHED, "crash in cast");
    assert_reason(down(&t, mon), crash);
    assert_terminated_once(&t, crash);
    /* A kill. */
    s = start_mode(&t, &c, M_TRAP);
    mon = monitor(&t, s);
    cr_assert_eq(fx_vm_exit(t.vm, s, fx_reason_kill()), 0);
    assert_reason(down(&t, mon), fx_reason_killed());
    assert_terminated_once(&t, fx_reason_killed());
    /* The parent's exit, trapped: terminate with its reason, and exit. */
    fx_inbox *parent;
    cr_assert_eq(fx_inbox_create(t.vm, &parent), 0);
    c = (cfg){.owner = t.me, .mode = M_TRAP};
    fx_gs_spec spec = {.ops = &srv_ops, .arg = &c, .link = true};
    cr_assert_eq(fx_gs_start(parent, &spec, &s, NULL), 0);
    mon = monitor(&t, s);
    fx_inbox_destroy(parent); /* exits normal */
    assert_reason(down(&t, mon), fx_reason_normal());
    assert_terminated_once(&t, fx_reason_normal());
    /* VM shutdown. */
    s = start_mode(&t, &c, M_OK);
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0); /* terminate's send is refused: no leak */
    fx_vm_destroy(t.vm);
}

Test(gen_server, missing_callbacks_stop_the_server)
{
    static const fx_gs_ops bare = {.init = s_init, .terminate = s_terminate};
    tvm t = start_vm();
    cfg c = {.owner = t.me};
    fx_gs_spec spec = {.ops = &bare, .arg = &c};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    fx_msg *r = NULL;
    fx_reason why;
    cr_assert_eq(fx_gs_call(t.in, s, C_GET, NULL, 0, FX_INFINITY, &r, &why), FX_EEXIT);
    assert_reason(why, fx_reason_error(FX_EINVAL, "no handle_call"));
    assert_terminated_once(&t, why);
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    fx_ref mon = monitor(&t, s);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_ADD, NULL, 0), 0);
    assert_reason(down(&t, mon), fx_reason_error(FX_EINVAL, "no handle_cast"));
    recv_terminate(&t);
    /* handle_info NULL: messages are dropped, the server lives on. */
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    cr_assert_eq(fx_inbox_send(t.in, s, I_INFO, NULL, 0), 0);
    cr_assert_eq(fx_gs_stop_server(t.in, s, fx_reason_normal(), 10000, NULL), 0);
    tvm_stop(&t);
}

/* OTP: {reply, ...} from handle_cast, handle_info or handle_continue,
 * and a negative timeout, are bad_return_values, which stop the server. */
#define I_CONTINUE 0x777 /* reply_info asks for a continue that replies */
static fx_gs_ret reply_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                            size_t size)
{
    (void) state, (void) type, (void) data, (void) size;
    return fx_gs_reply(cx, "x", 1);
}

static fx_gs_ret reply_info(fx_ctx *cx, void *state, fx_msg *m)
{
    (void) state;
    if (fx_msg_type(m) == I_CONTINUE)
        return fx_gs_with_continue(fx_gs_noreply(cx), 1);
    return fx_gs_reply(cx, "x", 1);
}

static fx_gs_ret reply_continue(fx_ctx *cx, void *state, uint64_t cont)
{
    (void) state, (void) cont;
    return fx_gs_reply(cx, "x", 1);
}

static fx_gs_ret negative_timeout(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                                  const void *data, size_t size)
{
    (void) state, (void) from, (void) type, (void) data, (void) size;
    return fx_gs_with_timeout(fx_gs_noreply(cx), -5);
}

Test(gen_server, bad_return_values_stop_the_server)
{
    static const fx_gs_ops ops = {.init = s_init,
                                  .terminate = s_terminate,
                                  .handle_call = negative_timeout,
                                  .handle_cast = reply_cast,
                                  .handle_info = reply_info,
                                  .handle_continue = reply_continue};
    tvm t = start_vm();
    cfg c = {.owner = t.me};
    fx_gs_spec spec = {.ops = &ops, .arg = &c};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    fx_ref mon = monitor(&t, s);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_ADD, NULL, 0), 0);
    assert_reason(down(&t, mon),
                  fx_reason_error(FX_EINVAL, "bad_return_value: reply from handle_cast"));
    recv_terminate(&t);
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    mon = monitor(&t, s);
    cr_assert_eq(fx_inbox_send(t.in, s, I_INFO, NULL, 0), 0);
    assert_reason(down(&t, mon),
                  fx_reason_error(FX_EINVAL, "bad_return_value: reply from handle_info"));
    recv_terminate(&t);
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    mon = monitor(&t, s);
    cr_assert_eq(fx_inbox_send(t.in, s, I_CONTINUE, NULL, 0), 0);
    assert_reason(
        down(&t, mon),
        fx_reason_error(FX_EINVAL, "bad_return_value: reply from handle_continue"));
    recv_terminate(&t);
    /* A negative timeout other than FX_INFINITY: OTP's bad_return_value. */
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    fx_msg *r = NULL;
    fx_reason why;
    cr_assert_eq(fx_gs_call(t.in, s, C_GET, NULL, 0, FX_INFINITY, &r, &why), FX_EEXIT);
    assert_reason(why, fx_reason_error(FX_EINVAL, "bad_return_value: negative timeout"));
    recv_terminate(&t);
    tvm_stop(&t);
}

static void read_count(void *state, void *arg)
{
    *(long *) arg = ((srv *) state)->count;
}

static void *swap_state(void *state, void *arg)
{
    srv *old = state, *fresh = arg;
    *fresh = *old;
    fresh->count = 1000;
    free(old);
    return fresh;
}

Test(gen_server, get_state_and_replace_state)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    call_long(&t, s, C_INCR);
    call_long(&t, s, C_INCR);
    long seen = -1;
    cr_assert_eq(fx_gs_get_state(t.in, s, read_count, &seen, 10000), 0);
    cr_assert_eq(seen, 2);
    srv *fresh = malloc(sizeof *fresh);
    cr_assert_eq(fx_gs_replace_state(t.in, s, swap_state, fresh, 10000), 0);
    cr_assert_eq(call_long(&t, s, C_INCR), 1001);
    cr_assert_eq(fx_gs_get_state(t.in, s, NULL, NULL, 10000), FX_EINVAL);
    tvm_stop(&t); /* terminate frees the new state */
}

/* ---- callers inside the VM ---------------------------------------------- */

/* Blocks the server in a call, from an actor. */
static fx_next block_then(fx_ctx *cx, fx_msg *m)
{
    fx_gs_call_result(cx, m, NULL, NULL, NULL);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next block_server(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_pid s = *(fx_pid *) fx_state(cx);
    return fx_gs_call_async(cx, s, C_BLOCK, NULL, 0, FX_INFINITY, block_then);
}

Test(gen_server, get_state_timeout_never_runs_fn_later)
{
    tvm t = start_vm();
    sem_t gate;
    sem_init(&gate, 0, 0);
    cfg c = {.owner = t.me, .mode = M_OK, .gate = &gate};
    fx_gs_spec spec = {.ops = &srv_ops, .arg = &c};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    fx_spawn_opts o = {.init = block_server, .state_size = sizeof s, .state_init = &s};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, NULL), 0);
    fx_msg_free(tvm_recv(&t, N_BLOCKED)); /* the server is stuck in a call */
    long seen = -1;
    cr_assert_eq(fx_gs_get_state(t.in, s, read_count, &seen, 20), FX_ETIMEDOUT);
    sem_post(&gate);
    cr_assert_eq(call_long(&t, s, C_INCR), 1); /* the server went on */
    cr_assert_eq(seen, -1, "fn ran after the caller gave up");
    assert_none(&t, FX_MSG_REPLY);
    sem_destroy(&gate);
    tvm_stop(&t);
}

/* A caller making `k` increments one after another, reporting the
 * replies. */
enum { R_VALUES = 200, R_ERROR, R_RC, R_FIRST };
#define MAXK 1000

typedef struct caller {
    fx_pid owner, server;
    uint32_t k, i;
    long values[MAXK];
} caller;

static fx_next caller_got(fx_ctx *cx, fx_msg *m)
{
    caller *c = fx_state(cx);
    const void *data;
    size_t size;
    int rc = fx_gs_call_result(cx, m, &data, &size, NULL);
    if (rc != 0 || size != sizeof(long)) {
        fx_send(cx, c->owner, R_ERROR, &rc, sizeof rc);
        return fx_stop(cx, fx_reason_normal());
    }
    memcpy(&c->values[c->i++], data, sizeof(long));
    if (c->i == c->k) {
        fx_send(cx, c->owner, R_VALUES, c->values, c->k * sizeof(long));
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_gs_call_async(cx, c->server, C_INCR, NULL, 0, FX_INFINITY, caller_got);
}

static fx_next caller_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    caller *c = fx_state(cx);
    return fx_gs_call_async(cx, c->server, C_INCR, NULL, 0, FX_INFINITY, caller_got);
}

static bool from_caller(const fx_msg *m, void *arg)
{
    (void) arg;
    return fx_msg_type(m) == R_VALUES || fx_msg_type(m) == R_ERROR;
}

static void concurrent_callers(uint32_t n, uint32_t k)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    caller *init = calloc(1, sizeof *init);
    *init = (caller){.owner = t.me, .server = s, .k = k};
    fx_spawn_opts o = {
        .init = caller_init, .state_size = sizeof *init, .state_init = init};
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, NULL), 0);
    free(init);
    long total = (long) n * k;
    unsigned char *seen = calloc((size_t) total + 1, 1);
    for (uint32_t i = 0; i < n; i++) {
        fx_msg *m = NULL;
        cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.pred = from_caller}, 30000, &m), 0);
        cr_assert_eq(fx_msg_type(m), R_VALUES, "a caller failed: %s",
                     fx_strerror(*(const int *) fx_msg_data(m)));
        cr_assert_eq(fx_msg_size(m), k * sizeof(long));
        const long *v = fx_msg_data(m);
        for (uint32_t j = 0; j < k; j++) {
            cr_assert(v[j] >= 1 && v[j] <= total, "reply %ld out of range", v[j]);
            cr_assert(!seen[v[j]], "reply %ld given twice", v[j]);
            seen[v[j]] = 1;
            if (j)
                cr_assert_gt(v[j], v[j - 1], "one caller's replies go up");
        }
        fx_msg_free(m);
    }
    free(seen);
    cr_assert_eq(call_long(&t, s, C_GET), total);
    tvm_stop(&t);
}

Test(gen_server, ten_concurrent_callers)
{
    concurrent_callers(10, MAXK);
}

/* From a handler: a cast and a call to a dead server fail with noproc at
 * once (the envelopes are freed: LeakSanitizer checks it). */
static fx_next dead_caller_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    caller *c = fx_state(cx);
    int rc = fx_gs_cast(cx, c->server, K_ADD, NULL, 0);
    fx_send(cx, c->owner, R_RC, &rc, sizeof rc);
    return fx_gs_call_async(cx, c->server, C_INCR, NULL, 0, FX_INFINITY, caller_got);
}

Test(gen_server, handler_cast_and_call_to_a_dead_server_fail_with_noproc)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    cr_assert_eq(fx_gs_stop_server(t.in, s, fx_reason_shutdown(), FX_INFINITY, NULL), 0);
    caller *init = calloc(1, sizeof *init);
    *init = (caller){.owner = t.me, .server = s, .k = 1};
    fx_spawn_opts o = {
        .init = dead_caller_init, .state_size = sizeof *init, .state_init = init};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, NULL), 0);
    free(init);
    int rc;
    fx_msg *m = tvm_recv(&t, R_RC);
    memcpy(&rc, fx_msg_data(m), sizeof rc);
    fx_msg_free(m);
    cr_assert_eq(rc, FX_ENOPROC);
    m = tvm_recv(&t, R_ERROR);
    memcpy(&rc, fx_msg_data(m), sizeof rc);
    fx_msg_free(m);
    cr_assert_eq(rc, FX_ENOPROC);
    tvm_stop(&t);
}

Test(gen_server, ten_thousand_concurrent_callers)
{
    concurrent_callers(10000, 3);
}

/* Blocking calls refuse scheduler threads. */
typedef struct blocker {
    fx_inbox *inbox;
    fx_pid owner, server;
} blocker;

static fx_next try_blocking(fx_ctx *cx, void *arg)
{
    (void) arg;
    blocker *b = fx_state(cx);
    fx_msg *r = NULL;
    int rc[4];
    rc[0] = fx_gs_call(b->inbox, b->server, C_GET, NULL, 0, 1000, &r, NULL);
    fx_gs_spec spec = {.ops = &srv_ops};
    rc[1] = fx_gs_start(b->inbox, &spec, NULL, NULL);
    rc[2] = fx_gs_stop_server(b->inbox, b->server, fx_reason_normal(), 1000, NULL);
    rc[3] = fx_gs_get_state(b->inbox, b->server, read_count, NULL, 1000);
    fx_send(cx, b->owner, R_RC, rc, sizeof rc);
    return fx_stop(cx, fx_reason_normal());
}

Test(gen_server, blocking_calls_refuse_scheduler_threads)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    blocker b = {t.in, t.me, s};
    fx_spawn_opts o = {.init = try_blocking, .state_size = sizeof b, .state_init = &b};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, NULL), 0);
    fx_msg *m = tvm_recv(&t, R_RC);
    const int *rc = fx_msg_data(m);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(rc[i], FX_EWOULDBLOCK, "operation %d: %s", i, fx_strerror(rc[i]));
    fx_msg_free(m);
    cr_assert_eq(call_long(&t, s, C_GET), 0, "nothing reached the server");
    tvm_stop(&t);
}

/* An actor that starts a server (optionally linked), calls it, checks a
 * timed-out call leaves nothing behind, and then obeys commands. */
enum { A_CRASH = 300, A_PING };

typedef struct starter {
    fx_pid owner;
    bool link;
    cfg c;
    fx_pid server;
} starter;

typedef struct report {
    int32_t step, rc;
    fx_pid pid;
    long value;
} report;

static void send_report(fx_ctx *cx, int step, int rc, long value)
{
    starter *st = fx_state(cx);
    report r = {step, rc, st->server, value};
    fx_send(cx, st->owner, R_FIRST + step, &r, sizeof r);
}

static fx_next st_idle(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == A_CRASH)
        fx_crash(cx, "starter crashed");
    /* Reports the first message after the calls: a stray reply would
     * show up here instead of the ping. */
    send_report(cx, 4, (int) fx_msg_type(m), 0);
    return fx_continue(cx);
}

static fx_next st_get(fx_ctx *cx, fx_msg *m)
{
    const void *d;
    size_t n;
    int rc = fx_gs_call_result(cx, m, &d, &n, NULL);
    send_report(cx, 3, rc, rc == 0 ? *(const long *) d : -1);
    return fx_become(cx, st_idle);
}

static fx_next st_timed_out(fx_ctx *cx, fx_msg *m)
{
    starter *st = fx_state(cx);
    send_report(cx, 2, fx_gs_call_result(cx, m, NULL, NULL, NULL), 0);
    /* The late reply is sent now; the GET comes after it. */
    fx_gs_cast(cx, st->server, K_REPLY_SAVED, NULL, 0);
    return fx_gs_call_async(cx, st->server, C_GET, NULL, 0, FX_INFINITY, st_get);
}

static fx_next st_called(fx_ctx *cx, fx_msg *m)
{
    starter *st = fx_state(cx);
    const void *d;
    size_t n;
    int rc = fx_gs_call_result(cx, m, &d, &n, NULL);
    send_report(cx, 1, rc, rc == 0 ? *(const long *) d : -1);
    return fx_gs_call_async(cx, st->server, C_NOREPLY, NULL, 0, 10, st_timed_out);
}

static fx_next st_started(fx_ctx *cx, fx_msg *m)
{
    starter *st = fx_state(cx);
    int rc = fx_gs_start_result(cx, m, &st->server, NULL);
    send_report(cx, 0, rc, 0);
    if (rc != 0)
        return fx_stop(cx, fx_reason_normal());
    return fx_gs_call_async(cx, st->server, C_INCR, NULL, 0, FX_INFINITY, st_called);
}

static fx_next st_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    starter *st = fx_state(cx);
    fx_gs_spec spec = {.ops = &srv_ops, .arg = &st->c, .link = st->link};
    return fx_gs_start_async(cx, &spec, st_started);
}

static report recv_report(tvm *t, int step)
{
    fx_msg *m = tvm_recv(t, R_FIRST + step);
    report r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

Test(gen_server, start_and_call_from_inside_handlers)
{
    tvm t = start_vm();
    for (int link = 0; link < 2; link++) {
        starter st = {.owner = t.me, .link = link, .c = {.owner = t.me}};
        fx_spawn_opts o = {.init = st_init, .state_size = sizeof st, .state_init = &st};
        fx_pid a;
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &a), 0);
        report r = recv_report(&t, 0);
        cr_assert_eq(r.rc, 0, "start: %s", fx_strerror(r.rc));
        fx_pid server = r.pid;
        r = recv_report(&t, 1);
        cr_assert_eq(r.rc, 0);
        cr_assert_eq(r.value, 1);
        cr_assert_eq(recv_report(&t, 2).rc, FX_ETIMEDOUT);
        r = recv_report(&t, 3);
        cr_assert_eq(r.rc, 0);
        cr_assert_eq(r.value, 1);
        cr_assert_eq(fx_inbox_send(t.in, a, A_PING, NULL, 0), 0);
        cr_assert_eq(recv_report(&t, 4).rc, A_PING, "a stray message reached the caller");
        fx_ref mon = monitor(&t, server), amon = monitor(&t, a);
        cr_assert_eq(fx_inbox_send(t.in, a, A_CRASH, NULL, 0), 0);
        fx_reason crash = fx_reason_error(FX_ECRASHED, "starter crashed");
        assert_reason(down(&t, amon), crash);
        if (link) {
            /* start_link: the server dies with its parent. */
            assert_reason(down(&t, mon), crash);
            assert_terminated_once(&t, crash);
        } else {
            cr_assert_eq(call_long(&t, server, C_GET), 1, "unlinked: still there");
            cr_assert_eq(fx_inbox_demonitor(t.in, mon, FX_DEMONITOR_FLUSH), 0);
        }
    }
    tvm_stop(&t);
}

Test(gen_server, start_failures_inside_handlers)
{
    tvm t = start_vm();
    int modes[] = {M_STOP, M_IGNORE, M_CRASH};
    int want[] = {FX_EEXIT, FX_EIGNORE, FX_EEXIT};
    for (int i = 0; i < 3; i++) {
        starter st = {.owner = t.me, .c = {.owner = t.me, .mode = modes[i]}};
        fx_spawn_opts o = {.init = st_init, .state_size = sizeof st, .state_init = &st};
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, NULL), 0);
        cr_assert_eq(recv_report(&t, 0).rc, want[i]);
        recv_terminate(&t);
    }
    tvm_stop(&t);
}

/* Issue 18, OTP 25: a non-trapping process that start-links a server
 * whose init stops (or crashes) dies with the reason, because the server
 * exits while still linked; ignore (reason normal) leaves it alive. */
Test(gen_server, failed_start_link_kills_a_non_trapping_starter)
{
    tvm t = start_vm();
    int modes[] = {M_STOP, M_IGNORE, M_CRASH};
    fx_reason want[] = {init_refused, fx_reason_normal(),
                        fx_reason_error(FX_ECRASHED, "init blew up")};
    for (int i = 0; i < 3; i++) {
        starter st = {
            .owner = t.me, .link = true, .c = {.owner = t.me, .mode = modes[i]}};
        fx_spawn_opts o = {.init = st_init, .state_size = sizeof st, .state_init = &st};
        fx_pid a;
        fx_ref mon;
        cr_assert_eq(fx_inbox_spawn_monitor(t.in, &o, &a, &mon), 0);
        if (modes[i] == M_IGNORE) /* it lives to see the outcome */
            cr_assert_eq(recv_report(&t, 0).rc, FX_EIGNORE);
        assert_reason(down(&t, mon), want[i]);
        recv_terminate(&t);
    }
    assert_none(&t, R_FIRST); /* the killed starters never saw the outcome */
    tvm_stop(&t);
}

Test(gen_server, start_link_from_an_inbox)
{
    tvm t = start_vm();
    cfg c = {.owner = t.me};
    fx_gs_spec spec = {.ops = &srv_ops, .arg = &c, .link = true};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_CRASH, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, FX_MSG_EXIT); /* the inbox traps */
    const fx_exit_info *e = fx_msg_data(m);
    cr_assert(fx_pid_eq(e->pid, s));
    assert_reason(e->reason, fx_reason_error(FX_ECRASHED, "crash in cast"));
    fx_msg_free(m);
    tvm_stop(&t);
}

static fx_next call_self_then(fx_ctx *cx, fx_msg *m)
{
    int64_t rc = fx_gs_call_result(cx, m, NULL, NULL, NULL);
    fx_send(cx, *(fx_pid *) fx_state(cx), R_RC, &rc, sizeof rc);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next call_self(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_gs_call_async(cx, fx_self(cx), C_GET, NULL, 0, FX_INFINITY, call_self_then);
}

Test(gen_server, bad_arguments)
{
    tvm t = start_vm();
    fx_gs_spec spec = {.ops = NULL};
    fx_pid p;
    fx_msg *r;
    cr_assert_eq(fx_gs_start(t.in, &spec, &p, NULL), FX_EINVAL);
    cr_assert_eq(fx_gs_start(t.in, NULL, &p, NULL), FX_EINVAL);
    cr_assert_eq(fx_gs_start(NULL, &spec, &p, NULL), FX_EINVAL);
    static const fx_gs_ops no_init = {.handle_call = s_call};
    spec.ops = &no_init;
    cr_assert_eq(fx_gs_start(t.in, &spec, &p, NULL), FX_EINVAL);
    cr_assert_eq(fx_gs_call(t.in, FX_PID_NONE, 1, NULL, 0, 10, &r, NULL), FX_EINVAL);
    cr_assert_eq(fx_gs_call(t.in, t.me, 1, NULL, 0, 10, NULL, NULL), FX_EINVAL);
    cr_assert_eq(fx_gs_call(t.in, t.me, 1, NULL, 5, 10, &r, NULL), FX_EINVAL);
    cr_assert_eq(fx_vm_gs_cast(NULL, t.me, 1, NULL, 0), FX_EINVAL);
    cr_assert_eq(fx_vm_gs_cast(t.vm, t.me, 1, NULL, 5), FX_EINVAL);
    cr_assert_eq(fx_gs_stop_server(t.in, FX_PID_NONE, fx_reason_normal(), 10, NULL),
                 FX_EINVAL);
    /* Calling oneself would never be answered. */
    cr_assert_eq(fx_gs_call(t.in, t.me, 1, NULL, 0, FX_INFINITY, &r, NULL), FX_EINVAL);
    cr_assert_eq(fx_gs_stop_server(t.in, t.me, fx_reason_normal(), FX_INFINITY, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_gs_get_state(t.in, t.me, no_op, NULL, FX_INFINITY), FX_EINVAL);
    fx_spawn_opts o = {
        .init = call_self, .state_size = sizeof(fx_pid), .state_init = &t.me};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, NULL), 0);
    cr_assert_eq(tvm_recv_u64(&t, R_RC), (uint64_t) (int64_t) FX_EINVAL);
    tvm_stop(&t);
}

/* ---- bad arguments (issue 13, defect 9) ---------------------------------- */

/* fx_gs_stop_reply with NULL data and a size crashes the server (as
 * fx_gs_reply does with a reply it cannot send), not the whole program. */
Test(gen_server, stop_reply_with_null_data_crashes_only_the_server)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    fx_msg *r = NULL;
    fx_reason why;
    cr_assert_eq(fx_gs_call(t.in, s, C_STOP_REPLY_NULL, NULL, 0, 10000, &r, &why),
                 FX_EEXIT);
    cr_assert_null(r);
    cr_assert_eq(why.kind, FX_REASON_ERROR);
    cr_assert_eq(why.code, FX_ECRASHED);
    cr_assert_eq(fx_is_alive(t.vm, s), 0);
    /* The VM carries on. */
    fx_pid s2 = start_mode(&t, &c, M_OK);
    cr_assert_eq(call_long(&t, s2, C_INCR), 1);
    tvm_stop(&t);
}

static fx_next never_called(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

/* A NULL ctx gets the invalid continuation, and nothing is started or
 * sent. */
Test(gen_server, async_start_and_call_with_null_ctx)
{
    tvm t = start_vm();
    cfg c = {.owner = t.me, .mode = M_OK};
    fx_gs_spec spec = {.ops = &srv_ops, .arg = &c};
    fx_vm_stats before, after;
    fx_vm_stats_get(t.vm, &before);
    int invalid = fx_stop(NULL, fx_reason_normal()).op;
    cr_assert_eq(fx_gs_start_async(NULL, &spec, never_called).op, invalid);
    cr_assert_eq(fx_gs_call_async(NULL, t.me, 1, NULL, 0, 100, never_called).op, invalid);
    fx_vm_stats_get(t.vm, &after);
    cr_assert_eq(after.spawned, before.spawned);
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t.in, NULL, 0, &m), FX_ETIMEDOUT);
    tvm_stop(&t);
}

/* Defect 5 (issue 13): a call waiting forever on a server that never
 * answers ends with FX_ESHUTDOWN when the VM shuts down (the server dies
 * without a DOWN: every process goes at once). The test's timeout only
 * turns a hang into a failure. */
typedef struct blocked_call {
    fx_inbox *in;
    fx_pid server;
    int started; /* atomic */
    int rc;
} blocked_call;

static void *call_forever(void *p)
{
    blocked_call *c = p;
    fx_msg *r = NULL;
    __atomic_store_n(&c->started, 1, __ATOMIC_RELEASE);
    c->rc = fx_gs_call(c->in, c->server, C_NOREPLY, NULL, 0, FX_INFINITY, &r, NULL);
    fx_msg_free(r);
    return NULL;
}

Test(gen_server, infinite_call_ends_at_shutdown, .timeout = 60)
{
    tvm t = start_vm();
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    blocked_call cl = {.server = s, .rc = 1};
    cr_assert_eq(fx_inbox_create(t.vm, &cl.in), 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, call_forever, &cl), 0);
    while (!__atomic_load_n(&cl.started, __ATOMIC_ACQUIRE))
        sched_yield();
    usleep(20000); /* most likely waiting by now; either way the same answer */
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    pthread_join(th, NULL);
    cr_assert_eq(cl.rc, FX_ESHUTDOWN, "%s", fx_strerror(cl.rc));
    fx_msg *r = NULL;
    cr_assert_eq(fx_gs_call(cl.in, s, C_GET, NULL, 0, 1000, &r, NULL), FX_ESHUTDOWN);
    fx_inbox_destroy(cl.in);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
}

/* max_msg_size limits the application's payload: a call or cast carrying
 * exactly max_msg_size bytes goes through (the envelope around it does
 * not count), one byte more is FX_EMSGSIZE. */
Test(gen_server, payload_of_exactly_max_msg_size)
{
    fx_vm_config vc;
    fx_vm_config_init(&vc);
    vc.threads = 2;
    vc.max_msg_size = 64;
    vc.crash_logger = fx_crash_logger_silent;
    tvm t = tvm_start_with(&vc);
    cfg c;
    fx_pid s = start_mode(&t, &c, M_OK);
    char pay[65] = {0};
    fx_msg *r = NULL;
    cr_assert_eq(fx_gs_call(t.in, s, C_INCR, pay, 64, 10000, &r, NULL), 0);
    fx_msg_free(r);
    cr_assert_eq(fx_gs_call(t.in, s, C_INCR, pay, 65, 10000, &r, NULL), FX_EMSGSIZE);
    cr_assert_null(r);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_ADD, pay, 64), 0);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, K_ADD, pay, 65), FX_EMSGSIZE);
    cr_assert_eq(call_long(&t, s, C_GET), 2); /* one call, one cast of 1 */
    tvm_stop(&t);
}
