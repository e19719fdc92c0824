/* A key-value store application: the shape of a fauxtp backend.
 *
 * fx_app_run starts a root supervisor (rest_for_one) with three children:
 *   store   a GenServer holding the table, registered as "kv";
 *   writer  an actor that puts keys into "kv" when asked;
 *   reader  an actor that gets them back.
 * Writer and reader find the store by name on every request, so they keep
 * working after the store is restarted under a new pid. The driver (on
 * the main thread, from on_start) writes, reads, crashes the store on
 * purpose, watches the supervisor restart it, and stops the application.
 * Every step checks its outcome; the program exits non-zero on any
 * surprise. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PUT = 1, GET, CRASH };      /* store calls and casts */
enum { DO_PUT = 1, DO_GET, DONE }; /* driver <-> writer/reader */

typedef struct kv {
    char key[16];
    long val;
} kv;

/* A request to the writer or reader, and the answer to the driver. */
typedef struct job {
    fx_pid reply_to;
    kv item;
    int32_t rc;
} job;

/* ---- the store: a GenServer ---------------------------------------------- */

#define SLOTS 16
typedef struct table {
    kv items[SLOTS];
    int n;
} table;

static fx_gs_ret store_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = calloc(1, sizeof(table)); /* a restarted store starts empty */
    return *state ? fx_gs_ok(cx)
                  : fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "no memory"));
}

static kv *find(table *t, const char *key)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->items[i].key, key) == 0)
            return &t->items[i];
    return NULL;
}

static fx_gs_ret store_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                            const void *data, size_t size)
{
    (void) from;
    table *t = state;
    kv in;
    if (size != sizeof in)
        return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "bad request"));
    memcpy(&in, data, sizeof in);
    kv *slot = find(t, in.key);
    if (type == PUT) {
        if (!slot && t->n < SLOTS)
            slot = &t->items[t->n++];
        if (slot)
            *slot = in;
        int32_t rc = slot ? 0 : FX_ENOMEM;
        return fx_gs_reply(cx, &rc, sizeof rc);
    }
    kv out = slot ? *slot : in; /* GET */
    int32_t rc = slot ? 0 : FX_ENOENT;
    char buf[sizeof rc + sizeof out];
    memcpy(buf, &rc, sizeof rc);
    memcpy(buf + sizeof rc, &out, sizeof out);
    return fx_gs_reply(cx, buf, sizeof buf);
}

static fx_gs_ret store_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                            size_t size)
{
    (void) state;
    (void) data;
    (void) size;
    if (type == CRASH)
        fx_crash(cx, "crashed on purpose");
    return fx_gs_noreply(cx);
}

static void store_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm;
    (void) reason;
    free(state);
}

static const fx_gs_ops store_ops = {
    .init = store_init,
    .handle_call = store_call,
    .handle_cast = store_cast,
    .terminate = store_terminate,
};
static const fx_gs_spec store_spec = {
    .ops = &store_ops, .name = "kv", .label = "kvstore"};

/* ---- writer and reader: plain actors calling the store by name ---------- */

static fx_next worker(fx_ctx *cx, fx_msg *m);

/* The job being served, kept in the actor's inline state. */
static fx_next answered(fx_ctx *cx, fx_msg *m)
{
    job *j = fx_state(cx);
    const void *data;
    size_t size;
    fx_reason why;
    int rc = fx_gs_call_result(cx, m, &data, &size, &why);
    if (rc == 0 && size >= sizeof j->rc) {
        memcpy(&j->rc, data, sizeof j->rc);
        if (size == sizeof j->rc + sizeof j->item)
            memcpy(&j->item, (const char *) data + sizeof j->rc, sizeof j->item);
    } else {
        j->rc = rc ? rc : FX_EINVAL;
    }
    fx_send(cx, j->reply_to, DONE, j, sizeof *j);
    return fx_become(cx, worker);
}

static fx_next worker(fx_ctx *cx, fx_msg *m)
{
    uint32_t type = fx_msg_type(m);
    if ((type != DO_PUT && type != DO_GET) || fx_msg_size(m) != sizeof(job))
        return fx_continue(cx);
    job *j = fx_state(cx);
    memcpy(j, fx_msg_data(m), sizeof *j);
    return fx_gs_call_named_async(cx, "kv", type == DO_PUT ? PUT : GET, &j->item,
                                  sizeof j->item, 1000, answered);
}

static fx_spawn_opts worker_opts = {.handler = worker, .state_size = sizeof(job)};

static const fx_child_spec children[] = {
    {.id = "store", .start = fx_child_gen_server, .carg = &store_spec},
    {.id = "writer", .start = fx_child_actor, .arg = &worker_opts},
    {.id = "reader", .start = fx_child_actor, .arg = &worker_opts},
};

/* ---- the driver ------------------------------------------------------------ */

typedef struct driver {
    fx_vm *vm;
    fx_pid root;
    fx_inbox *inbox;
    int failures;
} driver;

static fx_pid child_pid(driver *d, const char *id)
{
    fx_child_info kids[3];
    int n = fx_sup_which_children(d->inbox, d->root, kids, 3, 1000);
    for (int i = 0; i < n && i < 3; i++)
        if (strcmp(kids[i].id, id) == 0)
            return kids[i].pid;
    return FX_PID_NONE;
}

static void expect(driver *d, bool ok, const char *what)
{
    printf("%s %s\n", ok ? "ok:  " : "FAIL:", what);
    d->failures += !ok;
}

/* Asks the writer or reader to do one request; returns the answer. */
static job ask(driver *d, const char *who, uint32_t type, const char *key, long val)
{
    job j = {.reply_to = fx_inbox_pid(d->inbox), .item = {.val = val}};
    snprintf(j.item.key, sizeof j.item.key, "%s", key);
    fx_msg *m;
    if (fx_inbox_send(d->inbox, child_pid(d, who), type, &j, sizeof j) != 0 ||
        fx_inbox_recv(d->inbox, &(fx_match){.type = DONE}, 2000, &m) != 0) {
        j.rc = FX_ETIMEDOUT;
        return j;
    }
    memcpy(&j, fx_msg_data(m), sizeof j);
    fx_msg_free(m);
    return j;
}

/* Waits for "kv" to name a live process other than old. */
static fx_pid wait_new_store(driver *d, fx_pid old)
{
    for (int i = 0; i < 5000; i++) {
        fx_pid p;
        if (fx_whereis(d->vm, "kv", &p) == 0 && !fx_pid_eq(p, old) &&
            fx_is_alive(d->vm, p))
            return p;
        fx_msg *m; /* a 1 ms pause */
        (void) fx_inbox_recv(d->inbox, &(fx_match){.type = 0xDEAD}, 1, &m);
    }
    return FX_PID_NONE;
}

static void drive(fx_vm *vm, fx_pid root, void *arg)
{
    driver *d = arg;
    d->vm = vm;
    d->root = root;
    if (fx_inbox_create(vm, &d->inbox) != 0) {
        d->failures++;
        return;
    }
    fx_pid store;
    expect(d, fx_whereis(vm, "kv", &store) == 0, "the store is registered as \"kv\"");
    expect(d, ask(d, "writer", DO_PUT, "apple", 3).rc == 0, "writer: put apple = 3");
    expect(d, ask(d, "writer", DO_PUT, "pear", 5).rc == 0, "writer: put pear = 5");
    job j = ask(d, "reader", DO_GET, "apple", 0);
    expect(d, j.rc == 0 && j.item.val == 3, "reader: get apple -> 3");

    fx_pid writer = child_pid(d, "writer");
    printf("crashing the store on purpose\n");
    fx_vm_gs_cast_named(vm, "kv", CRASH, NULL, 0);
    fx_pid fresh = wait_new_store(d, store);
    expect(d, fresh.id != 0,
           "the supervisor restarted the store; \"kv\" names the new one");
    /* rest_for_one: the writer and reader, started after the store, were
     * restarted with it. */
    expect(d, !fx_pid_eq(child_pid(d, "writer"), writer), "writer restarted with it");
    j = ask(d, "reader", DO_GET, "apple", 0);
    expect(d, j.rc == FX_ENOENT,
           "reader: get apple -> not found (a new store starts empty)");
    expect(d, ask(d, "writer", DO_PUT, "apple", 4).rc == 0, "writer: put apple = 4");
    j = ask(d, "reader", DO_GET, "apple", 0);
    expect(d, j.rc == 0 && j.item.val == 4, "reader: get apple -> 4");

    fx_inbox_destroy(d->inbox);
    printf("stopping the application\n");
    fx_app_stop(vm);
}

int main(void)
{
    fx_vm_config vm;
    fx_vm_config_init(&vm);
    vm.threads = 2;
    vm.crash_logger = fx_crash_logger_silent; /* the crash is on purpose */
    driver d = {0};
    fx_app_spec app = {.vm = &vm, .on_start = drive, .arg = &d};
    fx_sup_spec_init(&app.root);
    app.root.strategy = FX_REST_FOR_ONE;
    app.root.intensity = 3;
    app.root.children = children;
    app.root.nchildren = sizeof children / sizeof children[0];
    int status = fx_app_run(&app);
    printf("application exited with status %d\n", status);
    return status == FX_APP_OK && d.failures == 0 ? 0 : 1;
}
