/* Deferred replies and calls made from inside the VM.
 *
 * `front` answers SQUARE calls from a small cache. On a miss it does not
 * wait (a GenServer callback cannot): it hands the caller's `from` to a
 * helper actor and returns noreply, so it keeps serving other callers.
 * The helper calls `backend` with fx_gs_call_async, replies to the
 * original caller with fx_reply and casts the result back to `front`. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <string.h>

enum { SQUARE = 1, STORE, CALLS };

/* ---- backend: computes squares, counts its calls ----------------------- */

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
    ++*calls;
    memcpy(&v, data, sizeof v);
    v *= v;
    return fx_gs_reply(cx, &v, sizeof v);
}

static const fx_gs_ops backend_ops = {.init = backend_init, .handle_call = backend_call};

/* ---- the helper: one per miss ------------------------------------------ */

typedef struct helper {
    fx_from caller; /* whom to answer */
    fx_pid front, backend;
    long n;
} helper;

static fx_next helper_got(fx_ctx *cx, fx_msg *m)
{
    helper *h = fx_state(cx);
    const void *data;
    size_t size;
    fx_reason why;
    int rc = fx_gs_call_result(cx, m, &data, &size, &why);
    if (rc != 0) /* the caller learns through its monitor: we crash */
        fx_crash(cx, "backend: %s", fx_strerror(rc));
    long entry[2] = {h->n, 0};
    memcpy(&entry[1], data, sizeof entry[1]);
    fx_gs_cast(cx, h->front, STORE, entry, sizeof entry); /* cache it, then */
    fx_reply(cx, h->caller, &entry[1], sizeof entry[1]);  /* the deferred reply */
    return fx_stop(cx, fx_reason_normal());
}

static fx_next helper_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    helper *h = fx_state(cx);
    return fx_gs_call_async(cx, h->backend, SQUARE, &h->n, sizeof h->n, 5000, helper_got);
}

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

static fx_gs_ret front_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                            const void *data, size_t size)
{
    (void) type, (void) size;
    front *f = state;
    long n;
    memcpy(&n, data, sizeof n);
    if (n == f->key)
        return fx_gs_reply(cx, &f->value, sizeof f->value);
    helper h = {.caller = from, .front = fx_self(cx), .backend = f->backend, .n = n};
    fx_spawn_opts o = {.init = helper_init, .state_size = sizeof h, .state_init = &h};
    if (fx_spawn_opt(cx, &o, NULL) != 0)
        return fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "no helper"));
    return fx_gs_noreply(cx); /* the helper replies */
}

static fx_gs_ret front_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                            size_t size)
{
    front *f = state;
    if (type == STORE && size == 2 * sizeof(long)) {
        memcpy(&f->key, data, sizeof f->key);
        memcpy(&f->value, (const char *) data + sizeof f->key, sizeof f->value);
    }
    return fx_gs_noreply(cx);
}

static const fx_gs_ops front_ops = {
    .init = front_init, .handle_call = front_call, .handle_cast = front_cast};

static long call_long(fx_inbox *me, fx_pid server, uint32_t type, long arg)
{
    fx_msg *reply;
    if (fx_gs_call(me, server, type, &arg, sizeof arg, 5000, &reply, NULL) != 0)
        return -1;
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
    /* A miss (deferred), then hits. Order is only promised per sender
     * pair, so in principle the second call could overtake the helper's
     * STORE and miss too: hence "1 or 2" backend calls below. */
    long first = call_long(me, f, SQUARE, 7);
    long second = call_long(me, f, SQUARE, 7);
    long third = call_long(me, f, SQUARE, 7);
    long calls = call_long(me, cache.backend, CALLS, 0);
    printf("7^2 = %ld, %ld, %ld; backend calls: %ld\n", first, second, third, calls);
    fx_gs_stop_server(me, f, fx_reason_normal(), 5000, NULL);
    fx_gs_stop_server(me, cache.backend, fx_reason_normal(), 5000, NULL);
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return first == 49 && second == 49 && third == 49 && calls >= 1 && calls <= 2 ? 0 : 1;
}
