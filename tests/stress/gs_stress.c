/* Stress: GenServer calls racing across the schedulers and from threads
 * outside the VM. One counter server; CALLERS actors each make a chain of
 * calls with short timeouts to it (so timeouts, late replies and
 * demonitors race with the replies), two outside threads make blocking
 * calls, casts and get_state requests, and one of them keeps starting,
 * calling and stopping short-lived linked servers. Checks: every
 * increment that was answered is counted once (the final count equals the
 * answered calls plus the casts plus the timed-out calls that the server
 * did handle, which it counts itself), no caller sees a stray message,
 * and (in the sanitizer builds) no leak and no data race. Plain program,
 * so it runs under ThreadSanitizer. Usage: gs_stress [CALLS] (default
 * 1M, spread over the callers). */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { INCR = 1, GET, HANDLED, BUMP = 10, DONE = 20, STRAY, FLUSH, FLUSHED };
#define CALLERS 200

typedef struct counter {
    uint64_t count;   /* increments by calls and casts */
    uint64_t handled; /* calls handled, answered in time or not */
} counter;

static fx_gs_ret c_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = calloc(1, sizeof(counter));
    return fx_gs_ok(cx);
}

static fx_gs_ret c_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    (void) from;
    (void) data;
    (void) size;
    counter *c = state;
    if (type == INCR) {
        c->count++;
        c->handled++;
    }
    uint64_t v = type == HANDLED ? c->handled : c->count;
    return fx_gs_reply(cx, &v, sizeof v);
}

static fx_gs_ret c_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size)
{
    (void) type;
    (void) data;
    (void) size;
    ((counter *) state)->count++;
    return fx_gs_noreply(cx);
}

static void c_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm;
    (void) reason;
    free(state);
}

static const fx_gs_ops counter_ops = {
    .init = c_init,
    .handle_call = c_call,
    .handle_cast = c_cast,
    .terminate = c_terminate,
};

/* ---- callers inside the VM ---------------------------------------------- */

typedef struct caller {
    fx_pid server, owner;
    uint64_t left;
    uint64_t answered, timed_out; /* reported at the end */
    uint64_t last;                /* replies only go up */
    uint32_t seed;
} caller;

/* After its calls: FLUSH comes after anything the server sent it (see
 * main), so a late reply that got through would show up first. */
static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    caller *c = fx_state(cx);
    uint32_t t = fx_msg_type(m);
    if (t == FLUSH) {
        fx_send(cx, c->owner, FLUSHED, NULL, 0);
        return fx_stop(cx, fx_reason_normal());
    }
    fx_send(cx, c->owner, STRAY, &t, sizeof t);
    return fx_continue(cx);
}

static fx_next got(fx_ctx *cx, fx_msg *m);

static fx_next next_call(fx_ctx *cx, caller *c)
{
    if (c->left == 0) {
        uint64_t r[2] = {c->answered, c->timed_out};
        fx_send(cx, c->owner, DONE, r, sizeof r);
        return fx_become(cx, idle);
    }
    c->left--;
    c->seed = c->seed * 1103515245u + 12345u;
    /* Mostly generous timeouts, some of 0-1 ms that do expire. */
    int64_t timeout = (c->seed >> 16) % 16 == 0 ? (c->seed >> 8) % 2 : 10000;
    return fx_gs_call_async(cx, c->server, INCR, NULL, 0, timeout, got);
}

static fx_next got(fx_ctx *cx, fx_msg *m)
{
    caller *c = fx_state(cx);
    const void *data;
    size_t size;
    int rc = fx_gs_call_result(cx, m, &data, &size, NULL);
    if (rc == 0) {
        uint64_t v;
        memcpy(&v, data, sizeof v);
        if (v <= c->last)
            return fx_stop(cx, fx_reason_error(1, "reply %llu after %llu",
                                               (unsigned long long) v,
                                               (unsigned long long) c->last));
        c->last = v;
        c->answered++;
    } else if (rc == FX_ETIMEDOUT) {
        c->timed_out++;
    } else {
        return fx_stop(cx, fx_reason_error(rc, "call: %s", fx_strerror(rc)));
    }
    return next_call(cx, c);
}

static fx_next caller_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    return next_call(cx, fx_state(cx));
}

/* ---- threads outside the VM --------------------------------------------- */

typedef struct outside {
    fx_vm *vm;
    fx_pid server;
    uint64_t calls, answered, timed_out, casts;
    bool churn; /* also start and stop servers of its own */
    int failed;
} outside;

static void peek(void *state, void *arg)
{
    *(uint64_t *) arg = ((counter *) state)->count;
}

static bool reply_or_down(const fx_msg *m, void *arg)
{
    (void) arg;
    return fx_msg_type(m) == FX_MSG_REPLY || fx_msg_type(m) == FX_MSG_DOWN;
}

static void *outside_main(void *p)
{
    outside *o = p;
    fx_inbox *in;
    if (fx_inbox_create(o->vm, &in) != 0) {
        o->failed = 1;
        return NULL;
    }
    for (uint64_t i = 0; i < o->calls && !o->failed; i++) {
        fx_msg *r;
        int rc =
            fx_gs_call(in, o->server, INCR, NULL, 0, i % 64 == 0 ? 0 : 10000, &r, NULL);
        if (rc == 0) {
            o->answered++;
            fx_msg_free(r);
        } else if (rc == FX_ETIMEDOUT) {
            o->timed_out++;
        } else {
            fprintf(stderr, "outside call: %s\n", fx_strerror(rc));
            o->failed = 1;
        }
        if (i % 8 == 0 && fx_vm_gs_cast(o->vm, o->server, BUMP, NULL, 0) == 0)
            o->casts++;
        if (i % 128 == 0) {
            uint64_t seen = 0;
            rc = fx_gs_get_state(in, o->server, peek, &seen, i % 256 ? 10000 : 0);
            if (rc != 0 && rc != FX_ETIMEDOUT) {
                fprintf(stderr, "get_state: %s\n", fx_strerror(rc));
                o->failed = 1;
            }
        }
        if (o->churn && i % 64 == 0) {
            fx_gs_spec spec = {.ops = &counter_ops, .link = (i / 64) % 2};
            fx_pid s;
            if (fx_gs_start(in, &spec, &s, NULL) != 0 ||
                fx_gs_call(in, s, INCR, NULL, 0, 10000, &r, NULL) != 0) {
                o->failed = 1;
                break;
            }
            fx_msg_free(r);
            if (fx_gs_stop_server(in, s, fx_reason_shutdown(), 10000, NULL) != 0)
                o->failed = 1;
        }
    }
    /* No reply or DOWN may be left over (a late reply would be queued
     * here). The linked churn servers' EXITs are expected. */
    fx_msg *m;
    if (fx_inbox_recv(in, &(fx_match){.pred = reply_or_down}, 0, &m) == 0) {
        fprintf(stderr, "outside: stray message %#x\n", fx_msg_type(m));
        fx_msg_free(m);
        o->failed = 1;
    }
    fx_inbox_destroy(in);
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t calls = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint64_t per_caller = calls / 2 / CALLERS, per_thread = calls / 4 / 2 / 10;
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&cfg, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in))
        return 1;
    fx_gs_spec spec = {.ops = &counter_ops};
    fx_pid server;
    if (fx_gs_start(in, &spec, &server, NULL) != 0)
        return 1;
    caller init = {.server = server, .owner = fx_inbox_pid(in), .left = per_caller};
    for (int i = 0; i < CALLERS; i++) {
        init.seed = (uint32_t) i * 2654435761u;
        fx_spawn_opts o = {
            .init = caller_init, .state_size = sizeof init, .state_init = &init};
        if (fx_vm_spawn_opt(vm, &o, NULL) != 0)
            return 1;
    }
    outside out[2] = {{vm, server, per_thread, 0, 0, 0, true, 0},
                      {vm, server, per_thread, 0, 0, 0, false, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, outside_main, &out[i]);

    uint64_t answered = 0, timed_out = 0;
    int failed = 0;
    fx_pid *callers = calloc(CALLERS, sizeof *callers);
    for (int i = 0; i < CALLERS; i++) {
        fx_msg *m;
        if (fx_inbox_recv(in, NULL, 120000, &m) != 0) {
            fprintf(stderr, "a caller did not finish\n");
            return 1;
        }
        if (fx_msg_type(m) == DONE) {
            callers[i] = fx_msg_from(m);
            const uint64_t *r = fx_msg_data(m);
            answered += r[0];
            timed_out += r[1];
        } else {
            fprintf(stderr, "caller: unexpected message %#x\n", fx_msg_type(m));
            failed = 1;
            i--;
        }
        fx_msg_free(m);
    }
    uint64_t casts = 0;
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        failed |= out[i].failed;
        answered += out[i].answered;
        timed_out += out[i].timed_out;
        casts += out[i].casts;
    }
    /* Every call the server handled counted once; answered ones surely. */
    fx_msg *r;
    uint64_t count = 0, handled = 0;
    if (fx_gs_call(in, server, GET, NULL, 0, 10000, &r, NULL) == 0) {
        memcpy(&count, fx_msg_data(r), sizeof count);
        fx_msg_free(r);
    }
    if (fx_gs_call(in, server, HANDLED, NULL, 0, 10000, &r, NULL) == 0) {
        memcpy(&handled, fx_msg_data(r), sizeof handled);
        fx_msg_free(r);
    }
    if (count != handled + casts || handled < answered ||
        handled > answered + timed_out) {
        fprintf(stderr,
                "count %llu, handled %llu, casts %llu, answered %llu, timed out %llu\n",
                (unsigned long long) count, (unsigned long long) handled,
                (unsigned long long) casts, (unsigned long long) answered,
                (unsigned long long) timed_out);
        failed = 1;
    }
    /* Each caller's requests reached the server before its DONE reached
     * us, so before our GET: whatever the server sent the callers is in
     * their mailboxes ahead of FLUSH. */
    for (int i = 0; i < CALLERS; i++)
        fx_inbox_send(in, callers[i], FLUSH, NULL, 0);
    for (int i = 0; i < CALLERS; i++) {
        if (fx_inbox_recv(in, &(fx_match){.type = FLUSHED}, 60000, &r) != 0) {
            fprintf(stderr, "a caller did not flush\n");
            return 1;
        }
        fx_msg_free(r);
    }
    free(callers);
    if (fx_inbox_recv(in, &(fx_match){.type = STRAY}, 0, &r) == 0) {
        fprintf(stderr, "a caller got a stray message %#x\n",
                *(const uint32_t *) fx_msg_data(r));
        fx_msg_free(r);
        failed = 1;
    }
    if (fx_gs_stop_server(in, server, fx_reason_normal(), 10000, NULL) != 0)
        failed = 1;
    printf("gs_stress: %llu answered, %llu timed out, %llu casts: %s\n",
           (unsigned long long) answered, (unsigned long long) timed_out,
           (unsigned long long) casts, failed ? "FAILED" : "ok");
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    return failed;
}
