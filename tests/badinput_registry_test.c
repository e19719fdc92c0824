/* Bad-input table: registry.h.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

static char rg_long[FX_NAME_MAX + 1];
static char rg_big[BI_MAX_MSG + 1];

static const char *rg_long_name(void)
{
    memset(rg_long, 'n', FX_NAME_MAX);
    rg_long[FX_NAME_MAX] = 0;
    return rg_long;
}

Test(bi_registry, register_bad,
     .description = "fx_register | inbox NULL; name NULL, empty, FX_NAME_MAX bytes; pid "
                    "FX_PID_NONE | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_register(NULL, "a", t.me, NULL), FX_EINVAL);
    bi_expect(fx_register(t.in, NULL, t.me, NULL), FX_EINVAL);
    bi_expect(fx_register(t.in, "", t.me, NULL), FX_EINVAL);
    bi_expect(fx_register(t.in, rg_long_name(), t.me, NULL), FX_EINVAL);
    bi_expect(fx_register(t.in, "a", FX_PID_NONE, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_registry, register_dead,
     .description = "fx_register | stale pid, garbage pid | FX_ENOPROC")
{
    tvm t = bi_start();
    bi_expect(fx_register(t.in, "a", bi_stale(&t), NULL), FX_ENOPROC);
    bi_expect(fx_register(t.in, "a", BI_GARBAGE_PID, NULL), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_registry, register_taken,
     .description =
         "fx_register | name taken; pid already named | FX_EEXIST with the holder")
{
    tvm t = bi_start();
    fx_pid p, h;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &p), 0);
    cr_assert_eq(fx_register(t.in, "a", t.me, NULL), 0);
    bi_expect(fx_register(t.in, "a", p, &h), FX_EEXIST);
    cr_assert(fx_pid_eq(h, t.me));
    bi_expect(fx_register(t.in, "b", t.me, &h), FX_EEXIST);
    cr_assert(fx_pid_eq(h, t.me));
    cr_assert_eq(fx_unregister(t.in, "a"), 0);
    cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
    bi_end(&t);
}

Test(bi_registry, unregister_bad,
     .description = "fx_unregister | inbox NULL; name NULL, empty, too long; unknown "
                    "name | FX_EINVAL; FX_ENOENT")
{
    tvm t = bi_start();
    bi_expect(fx_unregister(NULL, "a"), FX_EINVAL);
    bi_expect(fx_unregister(t.in, NULL), FX_EINVAL);
    bi_expect(fx_unregister(t.in, ""), FX_EINVAL);
    bi_expect(fx_unregister(t.in, rg_long_name()), FX_EINVAL);
    bi_expect(fx_unregister(t.in, "nobody"), FX_ENOENT);
    bi_end(&t);
}

typedef struct rg_arg {
    fx_inbox *in;
    const char *name;
    fx_pid pid;
} rg_arg;

static int run_blocking_writes(fx_ctx *cx, void *arg)
{
    (void) cx;
    rg_arg *a = arg;
    fx_registry_stats st;
    fx_spawn_opts o = {.handler = bi_echo};
    fx_msg *r = NULL;
    int rcs[] = {
        fx_register(a->in, "x", a->pid, NULL),
        fx_unregister(a->in, "x"),
        fx_group_join(a->in, "g", a->pid),
        fx_group_leave(a->in, "g", a->pid),
        fx_registry_stats_get(a->in, &st),
        fx_inbox_spawn_named(a->in, "y", &o, NULL, NULL),
        fx_gs_call_named(a->in, "r0", 1, "x", 1, 1000, &r, NULL),
    };
    for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++)
        if (rcs[i] != FX_EWOULDBLOCK)
            return 1000 * (int) (i + 1) - rcs[i]; /* which call, and its code */
    return FX_EWOULDBLOCK;
}

Test(bi_registry, blocking_from_handler,
     .description = "fx_register, fx_unregister, fx_group_join, fx_group_leave, "
                    "fx_registry_stats_get, fx_inbox_spawn_named, fx_gs_call_named | "
                    "from a handler (registry running, name registered) | FX_EWOULDBLOCK")
{
    tvm t = bi_start();
    fx_inbox *other;
    cr_assert_eq(fx_inbox_create(t.vm, &other), 0);
    /* A running registry: without one fx_registry_stats_get answers
     * FX_ENOENT first (see badinput_known_test.c). */
    cr_assert_eq(fx_register(t.in, "r0", t.me, NULL), 0);
    rg_arg a = {.in = other, .pid = t.me};
    bi_expect(bi_in_handler(&t, run_blocking_writes, &a), FX_EWOULDBLOCK);
    cr_assert_eq(fx_unregister(t.in, "r0"), 0);
    fx_inbox_destroy(other);
    bi_end(&t);
}

Test(bi_registry, writes_after_shutdown,
     .description =
         "fx_register, fx_group_join | VM shut down, inbox alive | FX_ESHUTDOWN")
{
    tvm t = bi_start();
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    bi_expect(fx_register(t.in, "a", t.me, NULL), FX_ESHUTDOWN);
    bi_expect(fx_group_join(t.in, "g", t.me), FX_ESHUTDOWN);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
    tvm u = bi_start();
    bi_end(&u);
}

/* --- async writes ------------------------------------------------------------ */

static fx_next reg_async(fx_ctx *cx, void *arg, fx_handler then)
{
    rg_arg *a = arg;
    return fx_register_async(cx, a->name, a->pid, then);
}

static fx_next unreg_async(fx_ctx *cx, void *arg, fx_handler then)
{
    rg_arg *a = arg;
    return fx_unregister_async(cx, a->name, then);
}

static fx_next join_async(fx_ctx *cx, void *arg, fx_handler then)
{
    rg_arg *a = arg;
    return fx_group_join_async(cx, a->name, a->pid, then);
}

static fx_next leave_async(fx_ctx *cx, void *arg, fx_handler then)
{
    rg_arg *a = arg;
    return fx_group_leave_async(cx, a->name, a->pid, then);
}

static int decode_reg(fx_ctx *cx, fx_msg *m, void *arg)
{
    (void) arg;
    return fx_registry_result(cx, m, NULL);
}

Test(bi_registry, async_bad_name,
     .description =
         "fx_register_async, fx_unregister_async, fx_group_join_async, "
         "fx_group_leave_async | name NULL, empty, too long | `then` gets FX_EINVAL")
{
    tvm t = bi_start();
    const char *names[] = {NULL, "", rg_long_name()};
    for (int i = 0; i < 3; i++) {
        rg_arg a = {.name = names[i], .pid = t.me};
        bi_expect(bi_in_handler_next(&t, reg_async, decode_reg, &a), FX_EINVAL);
        bi_expect(bi_in_handler_next(&t, unreg_async, decode_reg, &a), FX_EINVAL);
        bi_expect(bi_in_handler_next(&t, join_async, decode_reg, &a), FX_EINVAL);
        bi_expect(bi_in_handler_next(&t, leave_async, decode_reg, &a), FX_EINVAL);
    }
    bi_end(&t);
}

Test(bi_registry, async_dead_pid,
     .description =
         "fx_register_async, fx_group_join_async | stale pid | `then` gets FX_ENOPROC")
{
    tvm t = bi_start();
    rg_arg a = {.name = "a", .pid = bi_stale(&t)};
    bi_expect(bi_in_handler_next(&t, reg_async, decode_reg, &a), FX_ENOPROC);
    bi_expect(bi_in_handler_next(&t, join_async, decode_reg, &a), FX_ENOPROC);
    bi_end(&t);
}

static int run_result_foreign(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_msg *m;
    if (fx_msg_new(1, 8, &m) != 0)
        return FX_ENOMEM;
    int rc = fx_registry_result(cx, m, NULL);
    fx_msg_free(m);
    if (rc != FX_EINVAL)
        return rc;
    return fx_registry_result(cx, NULL, NULL);
}

Test(bi_registry, result_foreign,
     .description = "fx_registry_result | a message that is not a registry answer; msg "
                    "NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler(&t, run_result_foreign, NULL), FX_EINVAL);
    bi_end(&t);
}

/* --- reads ----------------------------------------------------------------------- */

Test(bi_registry, whereis_bad,
     .description = "fx_whereis | vm NULL; out NULL; name NULL, empty, too long; unknown "
                    "name | FX_EINVAL; FX_ENOENT")
{
    tvm t = bi_start();
    fx_pid p;
    bi_expect(fx_whereis(NULL, "a", &p), FX_EINVAL);
    bi_expect(fx_whereis(t.vm, "a", NULL), FX_EINVAL);
    bi_expect(fx_whereis(t.vm, NULL, &p), FX_EINVAL);
    bi_expect(fx_whereis(t.vm, "", &p), FX_EINVAL);
    bi_expect(fx_whereis(t.vm, rg_long_name(), &p), FX_EINVAL);
    bi_expect(fx_whereis(t.vm, "nobody", &p), FX_ENOENT);
    bi_end(&t);
}

Test(bi_registry, registered_bad,
     .description = "fx_registered | vm NULL; out NULL with cap 0 | FX_EINVAL; the count")
{
    tvm t = bi_start();
    bi_expect(fx_registered(NULL, NULL, 0), FX_EINVAL);
    cr_assert_eq(fx_register(t.in, "a", t.me, NULL), 0);
    bi_expect(fx_registered(t.vm, NULL, 0), 1);
    cr_assert_eq(fx_unregister(t.in, "a"), 0);
    bi_end(&t);
}

Test(bi_registry, registered_null_out_cap,
     .description = "fx_registered | out NULL with cap 4 | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_registered(t.vm, NULL, 4), FX_EINVAL);
    bi_end(&t);
}

/* --- by name ---------------------------------------------------------------------- */

typedef struct nm_arg {
    const char *name;
    const void *data;
    size_t size;
    int64_t timeout;
} nm_arg;

static int run_send_named(fx_ctx *cx, void *arg)
{
    nm_arg *a = arg;
    return fx_send_named(cx, a->name, 1, a->data, a->size);
}

static int run_cast_named(fx_ctx *cx, void *arg)
{
    nm_arg *a = arg;
    return fx_gs_cast_named(cx, a->name, 1, a->data, a->size);
}

static int run_group_send(fx_ctx *cx, void *arg)
{
    nm_arg *a = arg;
    return fx_group_send(cx, a->name, 1, a->data, a->size);
}

static fx_next call_named_async(fx_ctx *cx, void *arg, fx_handler then)
{
    nm_arg *a = arg;
    return fx_gs_call_named_async(cx, a->name, 1, a->data, a->size, a->timeout, then);
}

static int decode_call(fx_ctx *cx, fx_msg *m, void *arg)
{
    (void) arg;
    const void *d;
    size_t n;
    return fx_gs_call_result(cx, m, &d, &n, NULL);
}

Test(bi_registry, by_name_unknown,
     .description = "fx_send_named, fx_vm_send_named, fx_gs_call_named, "
                    "fx_gs_call_named_async, fx_gs_cast_named, fx_vm_gs_cast_named | "
                    "unknown name | FX_ENOENT (async: to `then`)")
{
    tvm t = bi_start();
    nm_arg a = {.name = "nobody", .data = "x", .size = 1, .timeout = 1000};
    bi_expect(bi_in_handler(&t, run_send_named, &a), FX_ENOENT);
    bi_expect(fx_vm_send_named(t.vm, "nobody", 1, "x", 1), FX_ENOENT);
    fx_msg *r;
    bi_expect(fx_gs_call_named(t.in, "nobody", 1, "x", 1, 1000, &r, NULL), FX_ENOENT);
    bi_expect(bi_in_handler_next(&t, call_named_async, decode_call, &a), FX_ENOENT);
    bi_expect(bi_in_handler(&t, run_cast_named, &a), FX_ENOENT);
    bi_expect(fx_vm_gs_cast_named(t.vm, "nobody", 1, "x", 1), FX_ENOENT);
    bi_end(&t);
}

Test(bi_registry, by_name_bad_name,
     .description =
         "fx_send_named, fx_vm_send_named, fx_gs_call_named, fx_gs_cast_named, "
         "fx_vm_gs_cast_named | name NULL, empty, too long | FX_EINVAL")
{
    tvm t = bi_start();
    const char *names[] = {NULL, "", rg_long_name()};
    for (int i = 0; i < 3; i++) {
        nm_arg a = {.name = names[i], .data = "x", .size = 1};
        bi_expect(bi_in_handler(&t, run_send_named, &a), FX_EINVAL);
        bi_expect(fx_vm_send_named(t.vm, names[i], 1, "x", 1), FX_EINVAL);
        fx_msg *r;
        bi_expect(fx_gs_call_named(t.in, names[i], 1, "x", 1, 1000, &r, NULL), FX_EINVAL);
        bi_expect(bi_in_handler(&t, run_cast_named, &a), FX_EINVAL);
        bi_expect(fx_vm_gs_cast_named(t.vm, names[i], 1, "x", 1), FX_EINVAL);
    }
    bi_end(&t);
}

Test(
    bi_registry, by_name_null_ctx,
    .description = "fx_send_named, fx_gs_cast_named, fx_group_send | cx NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_send_named(NULL, "a", 1, "x", 1), FX_EINVAL);
    bi_expect(fx_gs_cast_named(NULL, "a", 1, "x", 1), FX_EINVAL);
    bi_expect(fx_group_send(NULL, "g", 1, "x", 1), FX_EINVAL);
    bi_end(&t);
}

Test(bi_registry, by_name_null_vm,
     .description = "fx_vm_send_named, fx_vm_gs_cast_named, fx_vm_group_send, "
                    "fx_gs_call_named | vm NULL / inbox NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_msg *r;
    bi_expect(fx_vm_send_named(NULL, "a", 1, "x", 1), FX_EINVAL);
    bi_expect(fx_vm_gs_cast_named(NULL, "a", 1, "x", 1), FX_EINVAL);
    bi_expect(fx_vm_group_send(NULL, "g", 1, "x", 1), FX_EINVAL);
    bi_expect(fx_gs_call_named(NULL, "a", 1, "x", 1, 1000, &r, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_registry, send_named_oversized,
     .description = "fx_send_named, fx_vm_send_named | registered name, size "
                    "max_msg_size + 1 | FX_EMSGSIZE")
{
    tvm t = bi_start();
    cr_assert_eq(fx_register(t.in, "me", t.me, NULL), 0);
    nm_arg a = {.name = "me", .data = rg_big, .size = sizeof rg_big};
    bi_expect(bi_in_handler(&t, run_send_named, &a), FX_EMSGSIZE);
    bi_expect(fx_vm_send_named(t.vm, "me", 1, rg_big, sizeof rg_big), FX_EMSGSIZE);
    cr_assert_eq(fx_unregister(t.in, "me"), 0);
    bi_end(&t);
}

/* --- spawning with a name ------------------------------------------------------------
 */

typedef struct sn_arg {
    const char *name;
    const fx_spawn_opts *opts;
} sn_arg;

static int run_spawn_named(fx_ctx *cx, void *arg)
{
    sn_arg *a = arg;
    return fx_spawn_named(cx, a->name, a->opts, NULL, NULL);
}

Test(bi_registry, spawn_named_bad,
     .description = "fx_spawn_named | cx NULL; name NULL, empty, too long; opts NULL; no "
                    "handler | FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.handler = bi_echo};
    fx_spawn_opts none = {.state = NULL};
    bi_expect(fx_spawn_named(NULL, "a", &o, NULL, NULL), FX_EINVAL);
    const char *names[] = {NULL, "", rg_long_name()};
    for (int i = 0; i < 3; i++) {
        sn_arg a = {names[i], &o};
        bi_expect(bi_in_handler(&t, run_spawn_named, &a), FX_EINVAL);
    }
    sn_arg a = {"a", NULL};
    bi_expect(bi_in_handler(&t, run_spawn_named, &a), FX_EINVAL);
    a.opts = &none;
    bi_expect(bi_in_handler(&t, run_spawn_named, &a), FX_EINVAL);
    bi_end(&t);
}

Test(bi_registry, inbox_spawn_named_bad,
     .description = "fx_inbox_spawn_named | inbox NULL; bad name; opts NULL; name taken "
                    "| FX_EINVAL; FX_EINVAL; FX_EINVAL; FX_EEXIST with holder")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.handler = bi_echo};
    fx_pid p, h;
    bi_expect(fx_inbox_spawn_named(NULL, "a", &o, &p, NULL), FX_EINVAL);
    bi_expect(fx_inbox_spawn_named(t.in, "", &o, &p, NULL), FX_EINVAL);
    bi_expect(fx_inbox_spawn_named(t.in, rg_long_name(), &o, &p, NULL), FX_EINVAL);
    bi_expect(fx_inbox_spawn_named(t.in, "a", NULL, &p, NULL), FX_EINVAL);
    cr_assert_eq(fx_register(t.in, "a", t.me, NULL), 0);
    bi_expect(fx_inbox_spawn_named(t.in, "a", &o, &p, &h), FX_EEXIST);
    cr_assert(fx_pid_eq(h, t.me));
    cr_assert_eq(fx_unregister(t.in, "a"), 0);
    bi_end(&t);
}

/* --- groups
 * ------------------------------------------------------------------------------ */

Test(bi_registry, group_join_bad,
     .description = "fx_group_join | inbox NULL; group NULL, empty, too long; pid "
                    "FX_PID_NONE | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_group_join(NULL, "g", t.me), FX_EINVAL);
    bi_expect(fx_group_join(t.in, NULL, t.me), FX_EINVAL);
    bi_expect(fx_group_join(t.in, "", t.me), FX_EINVAL);
    bi_expect(fx_group_join(t.in, rg_long_name(), t.me), FX_EINVAL);
    bi_expect(fx_group_join(t.in, "g", FX_PID_NONE), FX_EINVAL);
    bi_end(&t);
}

Test(bi_registry, group_join_dead_twice,
     .description = "fx_group_join | stale pid; already a member | FX_ENOPROC; FX_EEXIST")
{
    tvm t = bi_start();
    bi_expect(fx_group_join(t.in, "g", bi_stale(&t)), FX_ENOPROC);
    cr_assert_eq(fx_group_join(t.in, "g", t.me), 0);
    bi_expect(fx_group_join(t.in, "g", t.me), FX_EEXIST);
    cr_assert_eq(fx_group_leave(t.in, "g", t.me), 0);
    bi_end(&t);
}

Test(bi_registry, group_leave_bad,
     .description = "fx_group_leave | inbox NULL; bad group; not a member | FX_EINVAL; "
                    "FX_EINVAL; FX_ENOENT")
{
    tvm t = bi_start();
    bi_expect(fx_group_leave(NULL, "g", t.me), FX_EINVAL);
    bi_expect(fx_group_leave(t.in, "", t.me), FX_EINVAL);
    bi_expect(fx_group_leave(t.in, "g", t.me), FX_ENOENT);
    bi_end(&t);
}

Test(bi_registry, group_members_bad,
     .description =
         "fx_group_members | vm NULL; bad group; unknown group | FX_EINVAL; FX_EINVAL; 0")
{
    tvm t = bi_start();
    fx_pid out[2];
    bi_expect(fx_group_members(NULL, "g", out, 2), FX_EINVAL);
    bi_expect(fx_group_members(t.vm, "", out, 2), FX_EINVAL);
    bi_expect(fx_group_members(t.vm, NULL, out, 2), FX_EINVAL);
    bi_expect(fx_group_members(t.vm, "nobody", out, 2), 0);
    bi_end(&t);
}

Test(bi_registry, group_send_bad,
     .description = "fx_group_send, fx_vm_group_send | unknown group; bad group; data "
                    "NULL size 8; oversized | 0; FX_EINVAL; FX_EINVAL; FX_EMSGSIZE")
{
    tvm t = bi_start();
    cr_assert_eq(fx_group_join(t.in, "g", t.me), 0);
    nm_arg a = {.name = "nobody", .data = "x", .size = 1};
    bi_expect(bi_in_handler(&t, run_group_send, &a), 0);
    a.name = "";
    bi_expect(bi_in_handler(&t, run_group_send, &a), FX_EINVAL);
    a.name = "g";
    a.data = NULL;
    a.size = 8;
    bi_expect(bi_in_handler(&t, run_group_send, &a), FX_EINVAL);
    a.data = rg_big;
    a.size = sizeof rg_big;
    bi_expect(bi_in_handler(&t, run_group_send, &a), FX_EMSGSIZE);
    bi_expect(fx_vm_group_send(t.vm, "nobody", 1, "x", 1), 0);
    bi_expect(fx_vm_group_send(t.vm, "", 1, "x", 1), FX_EINVAL);
    bi_expect(fx_vm_group_send(t.vm, "g", 1, NULL, 8), FX_EINVAL);
    bi_expect(fx_vm_group_send(t.vm, "g", 1, rg_big, sizeof rg_big), FX_EMSGSIZE);
    cr_assert_eq(fx_group_leave(t.in, "g", t.me), 0);
    bi_end(&t);
}

/* --- the registry process
 * ----------------------------------------------------------------- */

Test(bi_registry, registry_pid_bad,
     .description =
         "fx_registry_pid | vm NULL, out NULL; no registry yet | FX_EINVAL; FX_ENOENT")
{
    tvm t = bi_start();
    fx_pid p;
    bi_expect(fx_registry_pid(NULL, &p), FX_EINVAL);
    bi_expect(fx_registry_pid(t.vm, NULL), FX_EINVAL);
    bi_expect(fx_registry_pid(t.vm, &p), FX_ENOENT);
    bi_end(&t);
}

Test(bi_registry, registry_stats_bad,
     .description = "fx_registry_stats_get | inbox NULL, out NULL; no registry yet | "
                    "FX_EINVAL; FX_ENOENT")
{
    tvm t = bi_start();
    fx_registry_stats st;
    bi_expect(fx_registry_stats_get(NULL, &st), FX_EINVAL);
    bi_expect(fx_registry_stats_get(t.in, NULL), FX_EINVAL);
    bi_expect(fx_registry_stats_get(t.in, &st), FX_ENOENT);
    bi_end(&t);
}

/* --- blocking calls from a handler: the thread is checked first ------------------- */

static int run_stats_get(fx_ctx *cx, void *arg)
{
    (void) cx;
    fx_registry_stats st;
    return fx_registry_stats_get(arg, &st);
}

static int run_call_named(fx_ctx *cx, void *arg)
{
    (void) cx;
    fx_msg *r = NULL;
    return fx_gs_call_named(arg, "nobody", 1, "x", 1, 1000, &r, NULL);
}

static int run_call_named_bad(fx_ctx *cx, void *arg)
{
    (void) cx;
    fx_msg *r = NULL;
    return fx_gs_call_named(arg, "", 1, "x", 1, 1000, &r, NULL);
}

Test(bi_registry, blocking_before_lookup,
     .description = "fx_registry_stats_get, fx_gs_call_named | from a handler, no "
                    "registry / unknown name, empty name | FX_EWOULDBLOCK (the thread is "
                    "checked before the registry or the name)")
{
    tvm t = bi_start();
    fx_inbox *other;
    cr_assert_eq(fx_inbox_create(t.vm, &other), 0);
    bi_expect(bi_in_handler(&t, run_stats_get, other), FX_EWOULDBLOCK);
    bi_expect(bi_in_handler(&t, run_call_named, other), FX_EWOULDBLOCK);
    bi_expect(bi_in_handler(&t, run_call_named_bad, other), FX_EWOULDBLOCK);
    /* From outside, the same calls answer the lookup. */
    fx_registry_stats st;
    fx_msg *r = NULL;
    bi_expect(fx_registry_stats_get(other, &st), FX_ENOENT);
    bi_expect(fx_gs_call_named(other, "nobody", 1, "x", 1, 1000, &r, NULL), FX_ENOENT);
    fx_inbox_destroy(other);
    bi_end(&t);
}

/* --- by name after shutdown ----------------------------------------------------------
 */

Test(bi_registry, by_name_after_shutdown,
     .description = "fx_vm_send_named, fx_vm_group_send, fx_cancel_timer, fx_read_timer "
                    "| after shutdown (name, group and timer set before) | FX_ESHUTDOWN")
{
    tvm t = bi_start();
    cr_assert_eq(fx_register(t.in, "me", t.me, NULL), 0);
    cr_assert_eq(fx_group_join(t.in, "g", t.me), 0);
    fx_timer tm;
    cr_assert_eq(fx_vm_send_after(t.vm, 100000, t.me, 1, NULL, 0, &tm), 0);
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    bi_expect(fx_vm_send_named(t.vm, "me", 1, "x", 1), FX_ESHUTDOWN);
    bi_expect(fx_vm_group_send(t.vm, "g", 1, "x", 1), FX_ESHUTDOWN);
    bi_expect(fx_cancel_timer(t.vm, tm), FX_ESHUTDOWN);
    bi_expect(fx_read_timer(t.vm, tm), FX_ESHUTDOWN);
    fx_vm_destroy(t.vm);
    tvm u = bi_start();
    bi_end(&u);
}

Test(bi_registry, register_small_max,
     .description = "fx_register | VM with max_msg_size 16 | 0")
{
    fx_vm_config c = bi_config();
    c.max_msg_size = 16;
    tvm t = tvm_start_with(&c);
    bi_expect(fx_register(t.in, "small", t.me, NULL), 0);
    cr_assert_eq(fx_unregister(t.in, "small"), 0);
    tvm_stop(&t);
}
