/* Bad-input table: supervisor.h.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

#include <stdio.h>

static const fx_gs_spec sp_gs = {.ops = &bi_gs_ops};

static fx_child_spec sp_kid(const char *id)
{
    fx_child_spec k;
    memset(&k, 0, sizeof k);
    snprintf(k.id, sizeof k.id, "%s", id);
    k.start = fx_child_gen_server;
    k.arg = (void *) &sp_gs;
    return k;
}

static fx_pid sp_start(tvm *t, const fx_child_spec *kids, size_t n, int strategy)
{
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.strategy = strategy;
    s.children = kids;
    s.nchildren = n;
    fx_pid sup;
    int rc = fx_sup_start(t->in, &s, &sup, NULL);
    cr_assert_eq(rc, 0, "sup start: %s", fx_err_name(rc));
    return sup;
}

static void sp_stop(tvm *t, fx_pid sup)
{
    cr_assert_eq(fx_gs_stop_server(t->in, sup, fx_reason_shutdown(), 10000, NULL), 0);
}

static int sp_try(tvm *t, const fx_sup_spec *s)
{
    fx_pid sup;
    return fx_sup_start(t->in, s, &sup, NULL);
}

Test(bi_sup, spec_init_null,
     .description = "fx_sup_spec_init | spec NULL | ignored (header silent)")
{
    fx_sup_spec_init(NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_sup, start_null,
     .description = "fx_sup_start | inbox NULL; spec NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    fx_pid p;
    bi_expect(fx_sup_start(NULL, &s, &p, NULL), FX_EINVAL);
    bi_expect(fx_sup_start(t.in, NULL, &p, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_sup, start_bad_spec,
     .description = "fx_sup_start | duplicate id; empty id; no start; bad strategy, "
                    "restart, type; period 0; intensity -1; significant permanent; "
                    "children NULL with n 1 | FX_EINVAL")
{
    tvm t = bi_start();
    fx_child_spec k[2] = {sp_kid("a"), sp_kid("a")};
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.children = k;
    s.nchildren = 2;
    bi_expect(sp_try(&t, &s), FX_EINVAL); /* duplicate id */
    s.nchildren = 1;
    k[0].id[0] = 0;
    bi_expect(sp_try(&t, &s), FX_EINVAL); /* empty id */
    k[0] = sp_kid("a");
    k[0].start = NULL;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    k[0] = sp_kid("a");
    k[0].restart = 77;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    k[0] = sp_kid("a");
    k[0].type = -3;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    k[0] = sp_kid("a");
    k[0].significant = true; /* permanent */
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    k[0] = sp_kid("a");
    s.strategy = 99;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    s.strategy = FX_ONE_FOR_ONE;
    s.period_ms = 0;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    s.period_ms = 5000;
    s.intensity = -1;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    s.intensity = 1;
    s.auto_shutdown = 42;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    s.auto_shutdown = 0;
    s.children = NULL;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    bi_end(&t);
}

Test(bi_sup, start_bad_dynamic,
     .description = "fx_sup_start | dynamic with 0 or 2 templates; dynamic with "
                    "auto_shutdown | FX_EINVAL")
{
    tvm t = bi_start();
    fx_child_spec k[2] = {sp_kid("a"), sp_kid("b")};
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.strategy = FX_SIMPLE_ONE_FOR_ONE;
    s.children = k;
    s.nchildren = 2;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    s.nchildren = 0;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    s.nchildren = 1;
    k[0].restart = FX_TRANSIENT;
    k[0].significant = true;
    s.auto_shutdown = FX_AUTO_SHUTDOWN_ANY_SIGNIFICANT;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    bi_end(&t);
}

Test(bi_sup, start_too_many, .description = "fx_sup_start | 513 children | FX_EINVAL")
{
    tvm t = bi_start();
    static fx_child_spec k[513];
    for (int i = 0; i < 513; i++) {
        char id[16];
        snprintf(id, sizeof id, "c%d", i);
        k[i] = sp_kid(id);
    }
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.children = k;
    s.nchildren = 513;
    bi_expect(sp_try(&t, &s), FX_EINVAL);
    bi_end(&t);
}

Test(bi_sup, start_after_shutdown,
     .description = "fx_sup_start | VM shut down, inbox alive | FX_ESHUTDOWN")
{
    tvm t = bi_start();
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    bi_expect(sp_try(&t, &s), FX_ESHUTDOWN);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
    tvm u = bi_start();
    bi_end(&u);
}

typedef struct sp_arg {
    fx_inbox *in;
    fx_pid sup;
} sp_arg;

static int run_sup_start(fx_ctx *cx, void *arg)
{
    (void) cx;
    sp_arg *a = arg;
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    fx_pid p;
    return fx_sup_start(a->in, &s, &p, NULL);
}

static int run_sup_calls(fx_ctx *cx, void *arg)
{
    (void) cx;
    sp_arg *a = arg;
    fx_child_spec k = sp_kid("z");
    fx_child_counts c;
    int rcs[] = {
        fx_sup_start_child(a->in, a->sup, &k, 1000, NULL, NULL),
        fx_sup_start_child_args(a->in, a->sup, NULL, 0, 1000, NULL, NULL),
        fx_sup_terminate_child(a->in, a->sup, "a", 1000),
        fx_sup_terminate_pid(a->in, a->sup, BI_GARBAGE_PID, 1000),
        fx_sup_restart_child(a->in, a->sup, "a", 1000, NULL, NULL),
        fx_sup_delete_child(a->in, a->sup, "a", 1000),
        fx_sup_which_children(a->in, a->sup, NULL, 0, 1000),
        fx_sup_count_children(a->in, a->sup, &c, 1000),
    };
    for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++)
        if (rcs[i] != FX_EWOULDBLOCK)
            return rcs[i] == 0 ? 1000 + (int) i : rcs[i];
    return FX_EWOULDBLOCK;
}

Test(bi_sup, blocking_from_handler,
     .description = "fx_sup_start, fx_sup_start_child, fx_sup_start_child_args, "
                    "fx_sup_terminate_child, fx_sup_terminate_pid, fx_sup_restart_child, "
                    "fx_sup_delete_child, fx_sup_which_children, fx_sup_count_children | "
                    "from a handler "
                    "(scheduler thread) | FX_EWOULDBLOCK")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_pid sup = sp_start(&t, &k, 1, FX_ONE_FOR_ONE);
    fx_inbox *other;
    cr_assert_eq(fx_inbox_create(t.vm, &other), 0);
    sp_arg a = {other, sup};
    bi_expect(bi_in_handler(&t, run_sup_start, &a), FX_EWOULDBLOCK);
    bi_expect(bi_in_handler(&t, run_sup_calls, &a), FX_EWOULDBLOCK);
    fx_inbox_destroy(other);
    sp_stop(&t, sup);
    bi_end(&t);
}

static fx_next sup_async_null(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) arg;
    return fx_sup_start_async(cx, NULL, then);
}

static fx_next sup_async_bad(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) arg;
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.period_ms = 0;
    return fx_sup_start_async(cx, &s, then);
}

static int decode_start(fx_ctx *cx, fx_msg *m, void *arg)
{
    (void) arg;
    fx_pid p;
    return fx_gs_start_result(cx, m, &p, NULL);
}

Test(bi_sup, start_async_bad,
     .description = "fx_sup_start_async | spec NULL; period 0 | `then` gets FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler_next(&t, sup_async_null, decode_start, NULL), FX_EINVAL);
    bi_expect(bi_in_handler_next(&t, sup_async_bad, decode_start, NULL), FX_EINVAL);
    bi_end(&t);
}

static fx_next child_gs_null(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) arg;
    return fx_child_gen_server(cx, NULL, NULL, 0, then);
}

static fx_next child_sup_null(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) arg;
    return fx_child_supervisor(cx, NULL, NULL, 0, then);
}

static fx_next child_actor_null(fx_ctx *cx, void *arg, fx_handler then)
{
    (void) arg;
    return fx_child_actor(cx, NULL, NULL, 0, then);
}

Test(bi_sup, child_starters_null,
     .description = "fx_child_gen_server, fx_child_supervisor, fx_child_actor | arg NULL "
                    "| `then` gets FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(bi_in_handler_next(&t, child_gs_null, decode_start, NULL), FX_EINVAL);
    bi_expect(bi_in_handler_next(&t, child_sup_null, decode_start, NULL), FX_EINVAL);
    bi_expect(bi_in_handler_next(&t, child_actor_null, decode_start, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_sup, reply_decode_bad,
     .description = "fx_sup_reply_decode | data NULL; size shorter than the header; out "
                    "NULL | FX_EINVAL")
{
    fx_sup_reply r, hdr;
    memset(&hdr, 0, sizeof hdr);
    bi_expect(fx_sup_reply_decode(NULL, sizeof hdr, &r, NULL, NULL), FX_EINVAL);
    bi_expect(fx_sup_reply_decode(&hdr, sizeof hdr - 1, &r, NULL, NULL), FX_EINVAL);
    bi_expect(fx_sup_reply_decode(&hdr, sizeof hdr, NULL, NULL, NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_sup, calls_dead_sup,
     .description = "fx_sup_start_child, fx_sup_start_child_args, "
                    "fx_sup_terminate_child, fx_sup_terminate_pid, fx_sup_restart_child, "
                    "fx_sup_delete_child, fx_sup_which_children, fx_sup_count_children | "
                    "stale supervisor pid | FX_ENOPROC")
{
    tvm t = bi_start();
    fx_pid dead = bi_stale(&t);
    fx_child_spec k = sp_kid("z");
    fx_child_counts c;
    bi_expect(fx_sup_start_child(t.in, dead, &k, 1000, NULL, NULL), FX_ENOPROC);
    bi_expect(fx_sup_start_child_args(t.in, dead, NULL, 0, 1000, NULL, NULL), FX_ENOPROC);
    bi_expect(fx_sup_terminate_child(t.in, dead, "a", 1000), FX_ENOPROC);
    bi_expect(fx_sup_terminate_pid(t.in, dead, BI_GARBAGE_PID, 1000), FX_ENOPROC);
    bi_expect(fx_sup_restart_child(t.in, dead, "a", 1000, NULL, NULL), FX_ENOPROC);
    bi_expect(fx_sup_delete_child(t.in, dead, "a", 1000), FX_ENOPROC);
    bi_expect(fx_sup_which_children(t.in, dead, NULL, 0, 1000), FX_ENOPROC);
    bi_expect(fx_sup_count_children(t.in, dead, &c, 1000), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_sup, calls_null_inbox,
     .description =
         "fx_sup_start_child, fx_sup_start_child_args, fx_sup_terminate_child, "
         "fx_sup_terminate_pid, fx_sup_restart_child, fx_sup_delete_child, "
         "fx_sup_which_children, fx_sup_count_children | inbox NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_pid sup = sp_start(&t, &k, 1, FX_ONE_FOR_ONE);
    fx_child_counts c;
    bi_expect(fx_sup_start_child(NULL, sup, &k, 1000, NULL, NULL), FX_EINVAL);
    bi_expect(fx_sup_start_child_args(NULL, sup, NULL, 0, 1000, NULL, NULL), FX_EINVAL);
    bi_expect(fx_sup_terminate_child(NULL, sup, "a", 1000), FX_EINVAL);
    bi_expect(fx_sup_terminate_pid(NULL, sup, BI_GARBAGE_PID, 1000), FX_EINVAL);
    bi_expect(fx_sup_restart_child(NULL, sup, "a", 1000, NULL, NULL), FX_EINVAL);
    bi_expect(fx_sup_delete_child(NULL, sup, "a", 1000), FX_EINVAL);
    bi_expect(fx_sup_which_children(NULL, sup, NULL, 0, 1000), FX_EINVAL);
    bi_expect(fx_sup_count_children(NULL, sup, &c, 1000), FX_EINVAL);
    sp_stop(&t, sup);
    bi_end(&t);
}

Test(bi_sup, start_child_bad,
     .description = "fx_sup_start_child | spec NULL; bad spec (no start); id taken | "
                    "FX_EINVAL; FX_EINVAL; FX_EEXIST")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_pid sup = sp_start(&t, &k, 1, FX_ONE_FOR_ONE);
    bi_expect(fx_sup_start_child(t.in, sup, NULL, 1000, NULL, NULL), FX_EINVAL);
    fx_child_spec bad = sp_kid("b");
    bad.start = NULL;
    bi_expect(fx_sup_start_child(t.in, sup, &bad, 1000, NULL, NULL), FX_EINVAL);
    bi_expect(fx_sup_start_child(t.in, sup, &k, 1000, NULL, NULL), FX_EEXIST);
    sp_stop(&t, sup);
    bi_end(&t);
}

Test(bi_sup, static_vs_dynamic,
     .description = "fx_sup_start_child, fx_sup_start_child_args | start_child on a "
                    "dynamic supervisor; start_child_args on a static one | FX_EINVAL")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_pid st = sp_start(&t, &k, 1, FX_ONE_FOR_ONE);
    fx_pid dyn = sp_start(&t, &k, 1, FX_SIMPLE_ONE_FOR_ONE);
    fx_child_spec k2 = sp_kid("b");
    bi_expect(fx_sup_start_child(t.in, dyn, &k2, 1000, NULL, NULL), FX_EINVAL);
    bi_expect(fx_sup_start_child_args(t.in, st, NULL, 0, 1000, NULL, NULL), FX_EINVAL);
    sp_stop(&t, dyn);
    sp_stop(&t, st);
    bi_end(&t);
}

Test(bi_sup, dynamic_limit,
     .description = "fx_sup_start_child_args | max_children (1) reached | FX_ELIMIT")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.strategy = FX_SIMPLE_ONE_FOR_ONE;
    s.children = &k;
    s.nchildren = 1;
    s.max_children = 1;
    fx_pid sup;
    cr_assert_eq(fx_sup_start(t.in, &s, &sup, NULL), 0);
    bi_expect(fx_sup_start_child_args(t.in, sup, NULL, 0, 1000, NULL, NULL), 0);
    bi_expect(fx_sup_start_child_args(t.in, sup, NULL, 0, 1000, NULL, NULL), FX_ELIMIT);
    sp_stop(&t, sup);
    bi_end(&t);
}

Test(bi_sup, unknown_child,
     .description = "fx_sup_terminate_child, fx_sup_restart_child, fx_sup_delete_child | "
                    "unknown id | FX_ENOENT")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_pid sup = sp_start(&t, &k, 1, FX_ONE_FOR_ONE);
    bi_expect(fx_sup_terminate_child(t.in, sup, "nope", 1000), FX_ENOENT);
    bi_expect(fx_sup_restart_child(t.in, sup, "nope", 1000, NULL, NULL), FX_ENOENT);
    bi_expect(fx_sup_delete_child(t.in, sup, "nope", 1000), FX_ENOENT);
    sp_stop(&t, sup);
    bi_end(&t);
}

Test(bi_sup, null_or_long_id,
     .description = "fx_sup_terminate_child, fx_sup_restart_child, fx_sup_delete_child | "
                    "id NULL; id of FX_CHILD_ID_MAX bytes | FX_EINVAL")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_pid sup = sp_start(&t, &k, 1, FX_ONE_FOR_ONE);
    char longid[FX_CHILD_ID_MAX + 1];
    memset(longid, 'i', FX_CHILD_ID_MAX);
    longid[FX_CHILD_ID_MAX] = 0;
    bi_expect(fx_sup_terminate_child(t.in, sup, NULL, 1000), FX_EINVAL);
    bi_expect(fx_sup_restart_child(t.in, sup, NULL, 1000, NULL, NULL), FX_EINVAL);
    bi_expect(fx_sup_delete_child(t.in, sup, NULL, 1000), FX_EINVAL);
    bi_expect(fx_sup_terminate_child(t.in, sup, longid, 1000), FX_EINVAL);
    bi_expect(fx_sup_restart_child(t.in, sup, longid, 1000, NULL, NULL), FX_EINVAL);
    bi_expect(fx_sup_delete_child(t.in, sup, longid, 1000), FX_EINVAL);
    sp_stop(&t, sup);
    bi_end(&t);
}

Test(bi_sup, running_child,
     .description =
         "fx_sup_restart_child, fx_sup_delete_child | the child is running | FX_EEXIST")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_pid sup = sp_start(&t, &k, 1, FX_ONE_FOR_ONE);
    bi_expect(fx_sup_restart_child(t.in, sup, "a", 1000, NULL, NULL), FX_EEXIST);
    bi_expect(fx_sup_delete_child(t.in, sup, "a", 1000), FX_EEXIST);
    sp_stop(&t, sup);
    bi_end(&t);
}

Test(bi_sup, terminate_pid_unknown,
     .description =
         "fx_sup_terminate_pid | pid not a child (dynamic supervisor) | FX_ENOENT")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_pid dyn = sp_start(&t, &k, 1, FX_SIMPLE_ONE_FOR_ONE);
    bi_expect(fx_sup_terminate_pid(t.in, dyn, BI_GARBAGE_PID, 1000), FX_ENOENT);
    sp_stop(&t, dyn);
    bi_end(&t);
}

Test(bi_sup, which_children_null,
     .description = "fx_sup_which_children | out NULL, cap 0 | the count (1)")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_pid sup = sp_start(&t, &k, 1, FX_ONE_FOR_ONE);
    bi_expect(fx_sup_which_children(t.in, sup, NULL, 0, 1000), 1);
    sp_stop(&t, sup);
    bi_end(&t);
}

Test(bi_sup, count_children_null,
     .description = "fx_sup_count_children | out NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_child_spec k = sp_kid("a");
    fx_pid sup = sp_start(&t, &k, 1, FX_ONE_FOR_ONE);
    bi_expect(fx_sup_count_children(t.in, sup, NULL, 1000), FX_EINVAL);
    sp_stop(&t, sup);
    bi_end(&t);
}

Test(bi_sup, calls_to_non_supervisor,
     .description =
         "fx_sup_count_children, fx_sup_which_children | a GenServer that is not a "
         "supervisor (echoes the request) | FX_EINVAL (reply is not a supervisor reply)")
{
    tvm t = bi_start();
    fx_pid srv = bi_gs(&t);
    fx_child_counts c;
    bi_expect(fx_sup_count_children(t.in, srv, &c, 1000), FX_EINVAL);
    bi_expect(fx_sup_which_children(t.in, srv, NULL, 0, 1000), FX_EINVAL);
    bi_end(&t);
}
