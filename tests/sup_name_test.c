/* Named supervisors: fx_sup_spec.name and the fx_sup_*_named calls. */
#include "helpers.h"

#include <fauxtp/testing.h>

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static const fx_spawn_opts idle_opts = {.handler = idle};
static const fx_child_spec two[] = {
    {.id = "a", .start = fx_child_actor, .carg = &idle_opts},
    {.id = "b", .start = fx_child_actor, .carg = &idle_opts},
};

static fx_sup_spec named(const char *name)
{
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.children = two;
    s.nchildren = 2;
    s.name = name;
    return s;
}

Test(sup_name, registered_and_called_by_name)
{
    tvm t = tvm_start_quiet(2);
    char name[16] = "app_sup";
    fx_sup_spec s = named(name);
    fx_pid sup;
    cr_assert_eq(fx_sup_start(t.in, &s, &sup, NULL), 0);
    strcpy(name, "scribbled"); /* the name was copied */
    fx_pid found;
    cr_assert_eq(fx_whereis(t.vm, "app_sup", &found), 0);
    cr_assert_eq(found.id, sup.id);
    fx_child_info info[2];
    cr_assert_eq(fx_sup_which_children_named(t.in, "app_sup", info, 2, 10000), 2);
    cr_assert_str_eq(info[0].id, "a");
    fx_child_counts n;
    cr_assert_eq(fx_sup_count_children_named(t.in, "app_sup", &n, 10000), 0);
    cr_assert_eq(n.active, 2);
    cr_assert_eq(fx_sup_terminate_child_named(t.in, "app_sup", "a", 10000), 0);
    fx_pid a2;
    cr_assert_eq(fx_sup_restart_child_named(t.in, "app_sup", "a", 10000, &a2, NULL), 0);
    cr_assert_neq(a2.id, info[0].pid.id);
    /* terminate_pid is for dynamic supervisors: a static one says so. */
    cr_assert_neq(fx_sup_terminate_pid_named(t.in, "app_sup", info[1].pid, 10000),
                  FX_ENOPROC);
    cr_assert_eq(fx_sup_terminate_child_named(t.in, "app_sup", "b", 10000), 0);
    cr_assert_eq(fx_sup_delete_child_named(t.in, "app_sup", "b", 10000), 0);
    fx_child_spec c = {.id = "c", .start = fx_child_actor, .carg = &idle_opts};
    fx_pid cp;
    cr_assert_eq(fx_sup_start_child_named(t.in, "app_sup", &c, 10000, &cp, NULL), 0);
    cr_assert_eq(fx_sup_which_children_named(t.in, "app_sup", info, 2, 10000), 2);
    cr_assert_str_eq(info[1].id, "c");
    /* The name dies with the supervisor. */
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    for (int i = 0; i < 10000 && fx_whereis(t.vm, "app_sup", &found) == 0; i++)
        fx_inbox_recv(t.in, &(fx_match){.type = 0xdead}, 1, &(fx_msg *){NULL});
    cr_assert_eq(fx_whereis(t.vm, "app_sup", &found), FX_ENOENT);
    cr_assert_eq(fx_sup_which_children_named(t.in, "app_sup", info, 2, 10000),
                 FX_ENOPROC);
    tvm_stop(&t);
}

Test(sup_name, taken_name_fails_the_start)
{
    tvm t = tvm_start_quiet(2);
    fx_sup_spec s = named("only");
    fx_pid first, second = FX_PID_NONE;
    cr_assert_eq(fx_sup_start(t.in, &s, &first, NULL), 0);
    cr_assert_eq(fx_sup_start(t.in, &s, &second, NULL), FX_EEXIST);
    cr_assert_eq(second.id, first.id, "*out gets the holder");
    fx_child_counts n;
    cr_assert_eq(fx_sup_count_children(t.in, first, &n, 10000), 0);
    cr_assert_eq(n.active, 2, "the holder is untouched");
    tvm_stop(&t);
}

Test(sup_name, bad_names)
{
    tvm t = tvm_start_quiet(2);
    char longname[FX_NAME_MAX + 1];
    memset(longname, 'x', FX_NAME_MAX);
    longname[FX_NAME_MAX] = '\0';
    fx_sup_spec s = named("");
    fx_pid sup;
    cr_assert_eq(fx_sup_start(t.in, &s, &sup, NULL), FX_EINVAL);
    s.name = longname;
    cr_assert_eq(fx_sup_start(t.in, &s, &sup, NULL), FX_EINVAL);
    fx_child_counts n;
    cr_assert_eq(fx_sup_count_children_named(t.in, NULL, &n, 10000), FX_EINVAL);
    cr_assert_eq(fx_sup_count_children_named(t.in, longname, &n, 10000), FX_EINVAL);
    cr_assert_eq(fx_sup_count_children_named(t.in, "nobody", &n, 10000), FX_ENOPROC);
    tvm_stop(&t);
}

/* A named supervisor as a child: restarted, it registers again. */
static const fx_sup_spec inner = {.strategy = FX_ONE_FOR_ONE,
                                  .intensity = 1,
                                  .period_ms = 5000,
                                  .children = two,
                                  .nchildren = 2,
                                  .name = "inner"};
static const fx_child_spec outer_kids[] = {
    {.id = "inner",
     .start = fx_child_supervisor,
     .carg = &inner,
     .type = FX_SUPERVISOR_CHILD},
};

Test(sup_name, nested_named_supervisor_registers_again_after_restart)
{
    tvm t = tvm_start_quiet(2);
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.children = outer_kids;
    s.nchildren = 1;
    s.intensity = 5;
    fx_pid outer;
    cr_assert_eq(fx_sup_start(t.in, &s, &outer, NULL), 0);
    fx_pid in1, in2;
    cr_assert_eq(fx_whereis(t.vm, "inner", &in1), 0);
    cr_assert_eq(fx_vm_exit(t.vm, in1, fx_reason_kill()), 0);
    /* Wait for the restart through the outer supervisor's answers. */
    fx_child_info info;
    for (int i = 0; i < 10000; i++) {
        cr_assert_eq(fx_sup_which_children(t.in, outer, &info, 1, 10000), 1);
        if (info.pid.id && info.pid.id != in1.id)
            break;
        fx_inbox_recv(t.in, &(fx_match){.type = 0xdead}, 1, &(fx_msg *){NULL});
    }
    cr_assert_neq(info.pid.id, in1.id);
    cr_assert_eq(fx_whereis(t.vm, "inner", &in2), 0);
    cr_assert_eq(in2.id, info.pid.id);
    cr_assert_eq(fx_sup_which_children_named(t.in, "inner", NULL, 0, 10000), 2);
    tvm_stop(&t);
}
