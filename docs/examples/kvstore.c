/* A supervised key-value store called by name (issue 19's first
 * example): a supervisor (one_for_one) whose child is the store, a
 * GenServer registered as "kv". main calls it by name: puts, gets,
 * kills it on purpose, finds the restarted store under the same name
 * (empty: a restarted server starts afresh).
 * Every call checks its outcome; the program exits non-zero on any
 * surprise. The Erlang version: erlang/kvstore.erl. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { PUT = 1, GET };
#define SLOTS 16

typedef struct kv {
    char key[16];
    long val;
    bool ok; /* in a reply: GET found the key, PUT stored it */
} kv;

/* ---- the store: a GenServer ---------------------------------------------- */

typedef struct table {
    kv items[SLOTS];
    int n;
} table;
static table store_table; /* the store is a singleton: its name is unique */

static fx_gs_ret init(fx_ctx *cx, void *arg, void **state)
{
    *state = memset(arg, 0, sizeof(table)); /* a restarted store starts empty */
    return fx_gs_ok(cx);
}

static fx_gs_ret call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                      const void *data, size_t size)
{
    (void) from;
    table *t = state;
    kv in = *FX_DATA_AS(cx, data, size, kv);
    int i = 0;
    while (i < t->n && strncmp(t->items[i].key, in.key, sizeof in.key) != 0)
        i++;
    if (type == GET) {
        in.ok = i < t->n;
        in.val = in.ok ? t->items[i].val : 0;
    } else if ((in.ok = i < SLOTS)) { /* PUT */
        t->items[i] = in;
        t->n += i == t->n;
    }
    return FX_GS_REPLY_T(cx, in);
}

static const fx_gs_ops store_ops = {.init = init, .handle_call = call};
static const fx_gs_spec store = {.ops = &store_ops, .arg = &store_table, .name = "kv"};
static const fx_child_spec children[] = {
    {.id = "store", .start = fx_child_gen_server, .carg = &store}};

/* ---- the driver ------------------------------------------------------------ */

static int failures;

/* Calls the store by name and prints what it answered. */
static void ask(fx_inbox *me, uint32_t type, const char *key, long val)
{
    kv item = {.val = val};
    snprintf(item.key, sizeof item.key, "%s", key);
    int rc = FX_GS_CALL_NAMED_T(me, "kv", type, item, &item, 1000);
    failures += rc != 0;
    if (rc != 0)
        printf("%s: %s\n", key, fx_strerror(rc));
    else if (type == PUT)
        printf("put %s = %ld: %s\n", key, val, item.ok ? "ok" : "full");
    else if (item.ok)
        printf("get %s -> %ld\n", key, item.val);
    else
        printf("get %s -> not found\n", key);
}

int main(void)
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.log_level = FX_LOG_OFF; /* the kill is on purpose */
    fx_sup_spec sup;
    fx_sup_spec_init(&sup); /* one_for_one, 1 restart in 5 s */
    sup.children = children;
    sup.nchildren = 1;
    sup.name = "kv_sup";
    fx_vm *vm;
    fx_inbox *me;
    fx_pid old, now;
    if (fx_vm_create(&cfg, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me) ||
        fx_sup_start(me, &sup, NULL, NULL) || fx_whereis(vm, "kv", &old))
        return 1;
    ask(me, PUT, "apple", 3);
    ask(me, PUT, "pear", 5);
    ask(me, GET, "apple", 0);
    printf("killing the store on purpose\n");
    failures += fx_vm_exit(vm, old, fx_reason_kill()) != 0;
    now = old; /* wait up to 5 s for "kv" to name a new process */
    for (int i = 0; i < 5000 && (fx_whereis(vm, "kv", &now) || fx_pid_eq(now, old)); i++)
        usleep(1000);
    failures += fx_pid_eq(now, old);
    printf("the store was restarted: %s\n", fx_pid_eq(now, old) ? "false" : "true");
    ask(me, GET, "apple", 0);
    ask(me, PUT, "apple", 4);
    ask(me, GET, "apple", 0);
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return failures != 0;
}
