/* Calls from callbacks: genserver_deferred.c without the helper actor.
 *
 * `front` answers SQUARE calls from a one-entry cache. On a miss its
 * handle_call calls `backend` with fx_gs_call_then and returns at once,
 * so it keeps serving other callers; the continuation `got_square` runs
 * later in `front`, with its state: it fills the cache and answers the
 * original caller with fx_gs_reply. A backend that does not answer in
 * time gives the continuation FX_ETIMEDOUT (and its late reply is
 * dropped). */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <string.h>

enum { SQUARE = 1, STALL, CALLS };

/* ---- backend: computes squares, counts its calls, or stalls ------------- */

static fx_gs_ret backend_init(fx_ctx *cx, void *arg, void **state)
{
    *state = arg; /* a long owned by main, which outlives the server */
    return fx_gs_ok(cx);
}

static fx_gs_ret backend_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                              const void *data, size_t size)
{
    (void) from, (void) size;
    long *calls = state, v;
    if (type == CALLS)
        return fx_gs_reply(cx, calls, sizeof *calls);
    if (type == STALL)
        return fx_gs_noreply(cx); /* never answers */
    ++*calls;
    memcpy(&v, data, sizeof v);
    v *= v;
    return fx_gs_reply(cx, &v, sizeof v);
}

static const fx_gs_ops backend_ops = {.init = backend_init, .handle_call = backend_call};

/* ---- front: a one-entry cache ------------------------------------------ */

typedef struct front {
    fx_pid backend;
    long key, value; /* key 0: empty */
} front;

static fx_gs_ret front_init(fx_ctx *cx, void *arg, void **state)
{
    *state = arg;
    return fx_gs_ok(cx);
}

/* The continuation: runs in front, with its state, when the call ends. */
static fx_gs_ret got_square(fx_ctx *cx, void *state, const fx_response *res)
{
    front *f = state;
    long v = -1; /* the caller's answer when the backend failed */
    if (res->rc == 0 && res->size == sizeof v) {
        memcpy(&v, res->data, sizeof v);
        f->key = (long) (intptr_t) res->tag;
        f->value = v;
    }
    return fx_gs_reply(cx, &v, sizeof v); /* to front's caller */
}

static fx_gs_ret front_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                            const void *data, size_t size)
{
    (void) from, (void) size;
    front *f = state;
    long n;
    memcpy(&n, data, sizeof n);
    if (type == SQUARE && n == f->key)
        return fx_gs_reply(cx, &f->value, sizeof f->value);
    /* A miss: ask the backend (STALL: a backend that hangs), 100 ms. */
    return fx_gs_call_then(cx, f->backend, type, &n, sizeof n, 100, got_square,
                           (void *) (intptr_t) n);
}

static const fx_gs_ops front_ops = {.init = front_init, .handle_call = front_call};

static long call_long(fx_inbox *me, fx_pid server, uint32_t type, long arg)
{
    fx_msg *reply;
    if (fx_gs_call(me, server, type, &arg, sizeof arg, 5000, &reply, NULL) != 0)
        return -2;
    long v = *(const long *) fx_msg_data(reply);
    fx_msg_free(reply);
    return v;
}

int main(void)
{
    fx_vm *vm;
    fx_inbox *me;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me))
        return 1;
    long backend_calls = 0;
    front cache = {0};
    fx_gs_spec bs = {.ops = &backend_ops, .arg = &backend_calls, .label = "backend"};
    fx_gs_spec fs = {.ops = &front_ops, .arg = &cache, .label = "front"};
    if (fx_gs_start(me, &bs, &cache.backend, NULL) != 0)
        return 1;
    fx_pid f;
    if (fx_gs_start(me, &fs, &f, NULL) != 0)
        return 1;
    /* A miss (the continuation fills the cache before replying), then
     * hits: exactly one backend call. Then a backend that stalls. */
    long first = call_long(me, f, SQUARE, 7);
    long second = call_long(me, f, SQUARE, 7);
    long third = call_long(me, f, SQUARE, 7);
    long stalled = call_long(me, f, STALL, 8);
    long calls = call_long(me, cache.backend, CALLS, 0);
    printf("7^2 = %ld, %ld, %ld; backend calls: %ld; stalled: %ld\n", first, second,
           third, calls, stalled);
    fx_gs_stop_server(me, f, fx_reason_normal(), 5000, NULL);
    fx_gs_stop_server(me, cache.backend, fx_reason_normal(), 5000, NULL);
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return first == 49 && second == 49 && third == 49 && calls == 1 && stalled == -1 ? 0
                                                                                     : 1;
}
