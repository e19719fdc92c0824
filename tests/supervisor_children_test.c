/* Supervisor: dynamic supervisors, significant children and
 * auto_shutdown, the child calls (start/terminate/restart/delete/which/
 * count), start outcomes and spec validation. Observed from outside, as
 * in supervisor_test.c. */
#include <pthread.h>

#include "sup_kids.h"

/* ---- dynamic supervisors ----------------------------------------------------- */

Test(dynamic, start_child_args_hands_the_child_its_extra)
{
    tvm t = sup_vm();
    fx_child_spec tmpl;
    fx_sup_spec s = dynamic_spec(&tmpl, FX_PERMANENT);
    fx_pid sup = sup_start(&t, &s);
    assert_counts(&t, sup, 0, 0, 0, 0);
    fx_pid p1 = start_dyn(&t, sup, "d1", K_OK);
    ev e;
    expect_events(&t, "+d1", &e);
    cr_assert(fx_pid_eq(e.pid, p1));
    fx_pid p2 = start_dyn(&t, sup, "d2", K_OK);
    expect_events(&t, "+d2", &e);
    cr_assert(fx_pid_eq(e.pid, p2));
    fx_child_info v[2];
    which_n(&t, sup, v, 2);
    cr_assert(fx_pid_eq(v[0].pid, p1));
    cr_assert(fx_pid_eq(v[1].pid, p2));
    for (int i = 0; i < 2; i++) {
        cr_assert_str_eq(v[i].id, "");
        cr_assert_eq(v[i].status, FX_CHILD_RUNNING);
        cr_assert_eq(v[i].type, FX_WORKER);
    }
    assert_counts(&t, sup, 2, 2, 0, 2);
    tvm_stop(&t);
}

Test(dynamic, max_children_is_a_limit)
{
    tvm t = sup_vm();
    fx_child_spec tmpl;
    fx_sup_spec s = dynamic_spec(&tmpl, FX_PERMANENT);
    s.max_children = 2;
    fx_pid sup = sup_start(&t, &s);
    fx_pid p1 = start_dyn(&t, sup, "d1", K_OK);
    start_dyn(&t, sup, "d2", K_OK);
    expect_events(&t, "+d1 +d2", NULL);
    winfo w = info_of("d3", K_OK);
    fx_pid p = FX_PID_NONE;
    cr_assert_eq(fx_sup_start_child_args(t.in, sup, &w, sizeof w, 10000, &p, NULL),
                 FX_ELIMIT);
    cr_assert(fx_pid_is_none(p));
    assert_counts(&t, sup, 2, 2, 0, 2);
    cr_assert_eq(fx_sup_terminate_pid(t.in, sup, p1, 10000), 0);
    expect_events(&t, "-d1", NULL);
    start_dyn(&t, sup, "d3", K_OK);
    expect_events(&t, "+d3", NULL);
    assert_no_events(&t);
    tvm_stop(&t);
}

Test(dynamic, a_restarted_child_keeps_its_extra)
{
    tvm t = sup_vm();
    fx_child_spec tmpl;
    fx_sup_spec s = dynamic_spec(&tmpl, FX_PERMANENT);
    fx_pid sup = sup_start(&t, &s);
    fx_pid p1 = start_dyn(&t, sup, "d1", K_OK);
    fx_pid p2 = start_dyn(&t, sup, "d2", K_OK);
    expect_events(&t, "+d1 +d2", NULL);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(fx_vm_exit(t.vm, p1, boom), 0);
        ev e[2];
        expect_events(&t, "-d1 +d1", e);
        cr_assert(fx_pid_eq(e[0].pid, p1));
        cr_assert(!fx_pid_eq(e[1].pid, p1));
        p1 = e[1].pid;
        fx_child_info v[2];
        which_n(&t, sup, v, 2);
        cr_assert(fx_pid_eq(v[0].pid, p1));
        cr_assert(fx_pid_eq(v[1].pid, p2));
    }
    tvm_stop(&t);
}

Test(dynamic, transient_and_temporary_children_are_removed_when_not_restarted)
{
    tvm t = sup_vm();
    fx_child_spec tmpl;
    fx_sup_spec s = dynamic_spec(&tmpl, FX_TRANSIENT);
    fx_pid sup = sup_start(&t, &s);
    fx_pid p1 = start_dyn(&t, sup, "d1", K_OK);
    fx_pid p2 = start_dyn(&t, sup, "d2", K_OK);
    expect_events(&t, "+d1 +d2", NULL);
    gs_stop_with(&t, p1, fx_reason_shutdown());
    expect_events(&t, "-d1", NULL);
    wait_gone(&t, sup, p1);
    gs_stop_with(&t, p2, boom);
    expect_events(&t, "-d2 +d2", NULL);
    assert_counts(&t, sup, 1, 1, 0, 1);

    fx_child_spec tmpl2;
    fx_sup_spec s2 = dynamic_spec(&tmpl2, FX_TEMPORARY);
    fx_pid sup2 = sup_start(&t, &s2);
    fx_pid q = start_dyn(&t, sup2, "q", K_OK);
    expect_events(&t, "+q", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, q, boom), 0);
    expect_events(&t, "-q", NULL);
    wait_gone(&t, sup2, q);
    assert_counts(&t, sup2, 0, 0, 0, 0);
    assert_no_events(&t);
    tvm_stop(&t);
}

Test(dynamic, terminate_by_pid_and_the_calls_it_refuses)
{
    tvm t = sup_vm();
    fx_child_spec tmpl;
    fx_sup_spec s = dynamic_spec(&tmpl, FX_PERMANENT);
    fx_pid sup = sup_start(&t, &s);
    fx_pid p[3] = {start_dyn(&t, sup, "d1", K_OK), start_dyn(&t, sup, "d2", K_OK),
                   start_dyn(&t, sup, "d3", K_OK)};
    expect_events(&t, "+d1 +d2 +d3", NULL);
    cr_assert_eq(fx_sup_terminate_pid(t.in, sup, p[1], 10000), 0);
    ev e;
    expect_events(&t, "-d2", &e);
    assert_reason(e.reason, fx_reason_shutdown());
    fx_child_info v[2];
    which_n(&t, sup, v, 2);
    cr_assert(fx_pid_eq(v[0].pid, p[0]));
    cr_assert(fx_pid_eq(v[1].pid, p[2]));
    cr_assert_eq(fx_sup_terminate_pid(t.in, sup, p[1], 10000), FX_ENOENT);
    cr_assert_eq(fx_sup_terminate_pid(t.in, sup, FX_PID_NONE, 10000), FX_EINVAL);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "d1", 10000), FX_ENOENT);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "d1", 10000, NULL, NULL), FX_EINVAL);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "d1", 10000), FX_EINVAL);
    kid k;
    fx_child_spec c = gs_child(&k, "x", K_OK, FX_PERMANENT);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &c, 10000, NULL, NULL), FX_EINVAL);
    assert_counts(&t, sup, 2, 2, 0, 2);
    assert_no_events(&t);
    tvm_stop(&t);
}

Test(dynamic, failed_and_ignored_starts_are_not_kept)
{
    tvm t = sup_vm();
    fx_child_spec tmpl;
    fx_sup_spec s = dynamic_spec(&tmpl, FX_PERMANENT);
    fx_pid sup = sup_start(&t, &s);
    winfo w = info_of("f", K_FAIL);
    fx_reason why;
    fx_pid p = FX_PID_NONE;
    cr_assert_eq(fx_sup_start_child_args(t.in, sup, &w, sizeof w, 10000, &p, &why),
                 FX_EEXIT);
    assert_reason(why, init_refused);
    w = info_of("i", K_IGNORE);
    cr_assert_eq(fx_sup_start_child_args(t.in, sup, &w, sizeof w, 10000, &p, NULL),
                 FX_EIGNORE);
    cr_assert(fx_pid_is_none(p));
    /* Extra bytes the template's start rejects. */
    cr_assert_eq(fx_sup_start_child_args(t.in, sup, "xy", 2, 10000, &p, &why), FX_EEXIT);
    assert_counts(&t, sup, 0, 0, 0, 0);
    assert_no_events(&t);
    tvm_stop(&t);
}

Test(dynamic, a_child_whose_restart_answers_ignore_is_removed)
{
    /* A dynamic child is its running instance: one whose restart answers
     * ignore is gone, as one whose first start does, and no longer counts
     * against max_children (it has no pid left to terminate it by). */
    tvm t = sup_vm();
    atomic_uint starts = 0;
    fx_child_spec tmpl;
    fx_sup_spec s = dynamic_spec(&tmpl, FX_PERMANENT);
    s.max_children = 1;
    fx_pid sup = sup_start(&t, &s);
    winfo w = info_of("d", K_OK);
    w.starts = &starts;
    w.ignore_mask = 0x2; /* its first restart */
    fx_pid p = FX_PID_NONE;
    cr_assert_eq(fx_sup_start_child_args(t.in, sup, &w, sizeof w, 10000, &p, NULL), 0);
    expect_events(&t, "+d", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, p, boom), 0);
    expect_events(&t, "-d", NULL);
    wait_gone(&t, sup, p);
    cr_assert_eq(atomic_load(&starts), 2, "restarted once");
    assert_counts(&t, sup, 0, 0, 0, 0);
    start_dyn(&t, sup, "e", K_OK);
    expect_events(&t, "+e", NULL);
    tvm_stop(&t);
}

Test(dynamic, plain_actor_children_get_their_extra_as_init_arg)
{
    tvm t = sup_vm();
    kid k;
    fx_child_spec tmpl = actor_child(&k, "tmpl", K_OK, FX_PERMANENT);
    tmpl.id[0] = 0;
    fx_sup_spec s = spec_with(FX_SIMPLE_ONE_FOR_ONE, &tmpl, 1);
    fx_pid sup = sup_start(&t, &s);
    winfo w = info_of("p1", K_OK);
    fx_pid p1, p2;
    cr_assert_eq(fx_sup_start_child_args(t.in, sup, &w, sizeof w, 10000, &p1, NULL), 0);
    expect_events(&t, "+p1", NULL);
    /* Without extra, the spec's own init_arg. */
    cr_assert_eq(fx_sup_start_child_args(t.in, sup, NULL, 0, 10000, &p2, NULL), 0);
    expect_events(&t, "+tmpl", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, p1, boom), 0);
    expect_events(&t, "-p1 +p1", NULL);
    assert_counts(&t, sup, 2, 2, 0, 2);
    tvm_stop(&t);
}

/* ---- significant children and auto_shutdown ------------------------------------ */

static fx_pid start_significant(tvm *t, kid *k, int auto_shutdown, int s2_restart)
{
    fx_child_spec c[3];
    c[0] = gs_child(&k[0], "a", K_OK, FX_PERMANENT);
    c[1] = gs_child(&k[1], "s1", K_OK, FX_TRANSIENT);
    c[2] = gs_child(&k[2], "s2", K_OK, s2_restart);
    c[1].significant = c[2].significant = true;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    s.auto_shutdown = auto_shutdown;
    fx_pid sup = sup_start(t, &s);
    expect_events(t, "+a +s1 +s2", NULL);
    return sup;
}

Test(auto_shutdown, any_significant_child_exiting_stops_the_supervisor)
{
    tvm t = sup_vm();
    kid k[3];
    fx_pid sup = start_significant(&t, k, FX_AUTO_SHUTDOWN_ANY_SIGNIFICANT, FX_TRANSIENT);
    fx_ref mon = monitor(&t, sup);
    gs_stop_with(&t, pid_of(&t, sup, "s1"), fx_reason_normal());
    ev e[3];
    expect_events(&t, "-s1 -s2 -a", e);
    assert_reason(e[1].reason, fx_reason_shutdown());
    assert_reason(down(&t, mon), fx_reason_shutdown());
    tvm_stop(&t);
}

Test(auto_shutdown, all_significant_waits_for_the_last_one)
{
    tvm t = sup_vm();
    kid k[3];
    fx_pid sup = start_significant(&t, k, FX_AUTO_SHUTDOWN_ALL_SIGNIFICANT, FX_TEMPORARY);
    fx_ref mon = monitor(&t, sup);
    gs_stop_with(&t, pid_of(&t, sup, "s1"), fx_reason_shutdown());
    expect_events(&t, "-s1", NULL);
    wait_child(&t, sup, "s1", FX_CHILD_UNDEFINED, FX_PID_NONE);
    /* A temporary child exits with any reason: never restarted. */
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "s2"), boom), 0);
    expect_events(&t, "-s2 -a", NULL);
    assert_reason(down(&t, mon), fx_reason_shutdown());
    tvm_stop(&t);
}

Test(auto_shutdown, an_abnormal_exit_of_a_transient_significant_child_restarts_it)
{
    tvm t = sup_vm();
    kid k[3];
    fx_pid sup = start_significant(&t, k, FX_AUTO_SHUTDOWN_ANY_SIGNIFICANT, FX_TRANSIENT);
    fx_pid s1 = pid_of(&t, sup, "s1");
    cr_assert_eq(fx_vm_exit(t.vm, s1, boom), 0);
    expect_events(&t, "-s1 +s1", NULL);
    cr_assert(!fx_pid_eq(pid_of(&t, sup, "s1"), s1));
    assert_counts(&t, sup, 3, 3, 0, 3);
    tvm_stop(&t);
}

Test(auto_shutdown, never_refuses_significant_children_and_terminate_child_does_not_stop)
{
    tvm t = sup_vm();
    /* OTP: with auto_shutdown never, a significant child spec is invalid,
     * at start and in start_child. */
    kid k[2];
    fx_child_spec c[2];
    c[0] = gs_child(&k[0], "a", K_OK, FX_PERMANENT);
    c[1] = gs_child(&k[1], "s1", K_OK, FX_TRANSIENT);
    c[1].significant = true;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_pid none = FX_PID_NONE;
    cr_assert_eq(fx_sup_start(t.in, &s, &none, NULL), FX_EINVAL);
    s.nchildren = 1;
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a", NULL);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &c[1], 10000, NULL, NULL), FX_EINVAL);
    assert_counts(&t, sup, 1, 1, 0, 1);

    kid k2[3];
    fx_pid sup2 =
        start_significant(&t, k2, FX_AUTO_SHUTDOWN_ANY_SIGNIFICANT, FX_TRANSIENT);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup2, "s1", 10000), 0);
    expect_events(&t, "-s1", NULL);
    assert_counts(&t, sup2, 3, 2, 0, 3);
    cr_assert_eq(fx_is_alive(t.vm, sup2), 1);
    assert_no_events(&t);
    tvm_stop(&t);
}

/* ---- the child calls ------------------------------------------------------------ */

Test(children, which_and_count_describe_every_child)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec inner = gs_child(&k[0], "m1", K_OK, FX_PERMANENT);
    fx_sup_spec mid = spec_with(FX_ONE_FOR_ONE, &inner, 1);
    fx_child_spec c[3] = {gs_child(&k[1], "a", K_OK, FX_PERMANENT),
                          sup_child("m", &mid, FX_PERMANENT),
                          actor_child(&k[2], "p", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ALL, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +m1 +p", NULL);
    fx_child_info v[4];
    memset(v, 0x5a, sizeof v);
    which_n(&t, sup, v, 3);
    static const char *ids[] = {"a", "m", "p"};
    for (int i = 0; i < 3; i++) {
        cr_assert_str_eq(v[i].id, ids[i]);
        cr_assert_eq(v[i].type, i == 1 ? FX_SUPERVISOR_CHILD : FX_WORKER);
        cr_assert_eq(v[i].status, FX_CHILD_RUNNING);
        cr_assert_eq(fx_is_alive(t.vm, v[i].pid), 1);
    }
    cr_assert_eq(v[3].status, 0x5a5a5a5a, "wrote past the children");
    assert_counts(&t, sup, 3, 3, 1, 2);
    assert_counts(&t, v[1].pid, 1, 1, 0, 1);
    /* A short buffer: the count, and only cap entries written. */
    memset(v, 0x5a, sizeof v);
    cr_assert_eq(fx_sup_which_children(t.in, sup, v, 1, 10000), 3);
    cr_assert_str_eq(v[0].id, "a");
    cr_assert_eq(v[1].status, 0x5a5a5a5a);
    cr_assert_eq(fx_sup_which_children(t.in, sup, NULL, 0, 10000), 3);
    cr_assert_eq(fx_sup_which_children(t.in, sup, NULL, 1, 10000), FX_EINVAL);
    cr_assert_eq(fx_sup_count_children(t.in, sup, NULL, 10000), FX_EINVAL);
    tvm_stop(&t);
}

Test(children, terminate_restart_and_delete)
{
    tvm t = sup_vm();
    kid k[6];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b +c", NULL);
    fx_pid b = pid_of(&t, sup, "b");

    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "b", 10000), 0);
    ev e;
    expect_events(&t, "-b", &e);
    assert_reason(e.reason, fx_reason_shutdown());
    fx_child_info v[4];
    which_n(&t, sup, v, 3);
    cr_assert_str_eq(v[1].id, "b");
    cr_assert_eq(v[1].status, FX_CHILD_UNDEFINED);
    cr_assert(fx_pid_is_none(v[1].pid));
    assert_counts(&t, sup, 3, 2, 0, 3);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "b", 10000), 0, "already stopped");

    fx_pid b2 = FX_PID_NONE;
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "b", 10000, &b2, NULL), 0);
    expect_events(&t, "+b", &e);
    cr_assert(fx_pid_eq(e.pid, b2));
    cr_assert(!fx_pid_eq(b2, b));
    cr_assert(fx_pid_eq(pid_of(&t, sup, "b"), b2));
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "b", 10000, NULL, NULL), FX_EEXIST);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "b", 10000), FX_EEXIST);

    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "b", 10000), 0);
    expect_events(&t, "-b", NULL);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "b", 10000), 0);
    which_n(&t, sup, v, 2);
    cr_assert_str_eq(v[0].id, "a");
    cr_assert_str_eq(v[1].id, "c");
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "b", 10000), FX_ENOENT);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "b", 10000, NULL, NULL), FX_ENOENT);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "b", 10000), FX_ENOENT);

    /* start_child: a new id is appended; a taken one is refused. */
    fx_child_spec dup = gs_child(&k[3], "a", K_OK, FX_PERMANENT);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &dup, 10000, NULL, NULL), FX_EEXIST);
    fx_child_spec nb = gs_child(&k[3], "b", K_OK, FX_PERMANENT);
    fx_pid b3 = FX_PID_NONE;
    cr_assert_eq(fx_sup_start_child(t.in, sup, &nb, 10000, &b3, NULL), 0);
    expect_events(&t, "+b", &e);
    cr_assert(fx_pid_eq(e.pid, b3));
    which_n(&t, sup, v, 3);
    cr_assert_str_eq(v[2].id, "b");
    cr_assert(fx_pid_eq(v[2].pid, b3));

    /* A failed start is not added; an ignored one is, not running. */
    fx_child_spec f = gs_child(&k[4], "f", K_FAIL, FX_PERMANENT);
    fx_reason why;
    cr_assert_eq(fx_sup_start_child(t.in, sup, &f, 10000, NULL, &why), FX_EEXIT);
    assert_reason(why, init_refused);
    fx_child_spec ig = gs_child(&k[5], "i", K_IGNORE, FX_PERMANENT);
    fx_pid pi = FX_PID_NONE;
    cr_assert_eq(fx_sup_start_child(t.in, sup, &ig, 10000, &pi, NULL), FX_EIGNORE);
    cr_assert(fx_pid_is_none(pi));
    which_n(&t, sup, v, 4);
    cr_assert_str_eq(v[3].id, "i");
    cr_assert_eq(v[3].status, FX_CHILD_UNDEFINED);
    /* ...and a static supervisor refuses what only a dynamic one takes. */
    winfo w = info_of("x", K_OK);
    cr_assert_eq(fx_sup_start_child_args(t.in, sup, &w, sizeof w, 10000, NULL, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_sup_terminate_pid(t.in, sup, b3, 10000), FX_ENOENT);
    assert_counts(&t, sup, 4, 3, 0, 4);
    assert_no_events(&t);
    tvm_stop(&t);
}

Test(children, terminate_child_forgets_a_temporary_child)
{
    tvm t = sup_vm();
    kid k[2];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "t", K_OK, FX_TEMPORARY)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +t", NULL);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "t", 10000), 0);
    expect_events(&t, "-t", NULL);
    fx_child_info v[2];
    which_n(&t, sup, v, 1);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "t", 10000, NULL, NULL), FX_ENOENT);
    tvm_stop(&t);
}

static void never(void *state, void *arg)
{
    (void) state;
    *(int *) arg = 1;
}

Test(children, get_state_is_refused_at_once)
{
    tvm t = sup_vm();
    kid k[1];
    fx_child_spec c[1] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 1);
    fx_pid sup = sup_start(&t, &s);
    int ran = 0;
    /* Without a limit: a supervisor that ignored it would hang the test. */
    cr_assert_eq(fx_gs_get_state(t.in, sup, never, &ran, FX_INFINITY), FX_EINVAL);
    cr_assert_eq(ran, 0);
    cr_assert_eq(fx_is_alive(t.vm, sup), 1);
    tvm_stop(&t);
}

Test(children, terminate_child_ends_the_retries_of_a_failing_restart)
{
    /* b's restart fails and is retried (status restarting) until
     * terminate_child: from then on b is a stopped child like any other,
     * started again only by restart_child (OTP's terminate_child). */
    tvm t = sup_vm();
    kid k[2];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_FLAKY, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    s.intensity = 1000000000;
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b", NULL);
    atomic_store(&g_fail, true);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "b"), boom), 0);
    expect_events(&t, "-b", NULL);
    wait_child(&t, sup, "b", FX_CHILD_RESTARTING, FX_PID_NONE);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "b", 10000, NULL, NULL), FX_EEXIST);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "b", 10000), FX_EEXIST);
    assert_counts(&t, sup, 2, 1, 0, 2);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "b", 10000), 0);
    atomic_store(&g_fail, false);
    /* A retry still queued would now succeed: two round trips are enough
     * for one queued before or after the first. */
    for (int i = 0; i < 3; i++) {
        fx_child_info v[2];
        which_n(&t, sup, v, 2);
        cr_assert_eq(v[1].status, FX_CHILD_UNDEFINED, "round %d: status %d", i,
                     v[1].status);
    }
    assert_no_events(&t);
    fx_pid b = FX_PID_NONE;
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "b", 10000, &b, NULL), 0);
    ev e;
    expect_events(&t, "+b", &e);
    cr_assert(fx_pid_eq(e.pid, b));
    tvm_stop(&t);
}

/* From a handler: count_children with fx_gs_call_async, decoded with
 * fx_sup_reply_decode; the blocking form refuses a scheduler thread. */
typedef struct asker {
    fx_pid sup;
    fx_inbox *in;
} asker;

typedef struct asked {
    int32_t blocking_rc, rc;
    fx_child_counts n;
} asked;

static fx_next asker_got(fx_ctx *cx, fx_msg *m)
{
    asked *a = fx_state(cx);
    const void *data = NULL, *rest = NULL;
    size_t size = 0, rest_size = 0;
    fx_sup_reply h;
    a->rc = fx_gs_call_result(cx, m, &data, &size, NULL);
    if (a->rc == 0)
        a->rc = fx_sup_reply_decode(data, size, &h, &rest, &rest_size);
    if (a->rc == 0 && rest_size == sizeof a->n)
        memcpy(&a->n, rest, sizeof a->n);
    else if (a->rc == 0)
        a->rc = FX_EINVAL;
    fx_send(cx, g_owner, OUTCOME, a, sizeof *a);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next asker_init(fx_ctx *cx, void *arg)
{
    const asker *q = arg;
    asked *a = fx_state(cx);
    fx_child_counts n;
    a->blocking_rc = fx_sup_count_children(q->in, q->sup, &n, 1000);
    return fx_gs_call_async(cx, q->sup, FX_SUP_COUNT_CHILDREN, NULL, 0, 10000, asker_got);
}

Test(children, calls_from_a_handler)
{
    tvm t = sup_vm();
    kid k[2];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_IGNORE, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_pid sup = sup_start(&t, &s);
    asker q = {sup, t.in};
    fx_spawn_opts o = {.init = asker_init, .init_arg = &q, .state_size = sizeof(asked)};
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, NULL), 0);
    fx_msg *m = tvm_recv(&t, OUTCOME);
    asked a;
    memcpy(&a, fx_msg_data(m), sizeof a);
    fx_msg_free(m);
    cr_assert_eq(a.blocking_rc, FX_EWOULDBLOCK);
    cr_assert_eq(a.rc, 0, "%s", fx_err_name(a.rc));
    cr_assert_eq(a.n.specs, 2);
    cr_assert_eq(a.n.active, 1);
    cr_assert_eq(a.n.workers, 2);
    tvm_stop(&t);
}

Test(children, bad_ids_and_dead_supervisors)
{
    tvm t = sup_vm();
    kid k;
    fx_child_spec c = gs_child(&k, "a", K_OK, FX_PERMANENT);
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, &c, 1);
    fx_pid sup = sup_start(&t, &s);
    char longid[FX_CHILD_ID_MAX + 1];
    memset(longid, 'x', FX_CHILD_ID_MAX);
    longid[FX_CHILD_ID_MAX] = 0;
    const char *bad[] = {NULL, "", longid};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(fx_sup_terminate_child(t.in, sup, bad[i], 10000), FX_EINVAL);
        cr_assert_eq(fx_sup_restart_child(t.in, sup, bad[i], 10000, NULL, NULL),
                     FX_EINVAL);
        cr_assert_eq(fx_sup_delete_child(t.in, sup, bad[i], 10000), FX_EINVAL);
    }
    cr_assert_eq(fx_sup_start_child(t.in, sup, NULL, 10000, NULL, NULL), FX_EINVAL);
    /* Any other call is refused, and the supervisor goes on. */
    fx_msg *r = NULL;
    cr_assert_eq(fx_gs_call(t.in, sup, 999, NULL, 0, 10000, &r, NULL), 0);
    fx_sup_reply h;
    cr_assert_eq(fx_sup_reply_decode(fx_msg_data(r), fx_msg_size(r), &h, NULL, NULL),
                 FX_EINVAL);
    fx_msg_free(r);
    cr_assert_eq(fx_sup_reply_decode(NULL, 0, &h, NULL, NULL), FX_EINVAL);
    cr_assert_eq(fx_is_alive(t.vm, pid_of(&t, sup, "a")), 1);
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    expect_events(&t, "+a -a", NULL);
    fx_child_info v[1];
    fx_child_counts n;
    cr_assert_eq(fx_sup_which_children(t.in, sup, v, 1, 10000), FX_ENOPROC);
    cr_assert_eq(fx_sup_count_children(t.in, sup, &n, 10000), FX_ENOPROC);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "a", 10000), FX_ENOPROC);
    tvm_stop(&t);
}

/* ---- start ------------------------------------------------------------------- */

Test(start, a_child_that_fails_to_start_fails_the_supervisor)
{
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    kid k[4];
    fx_child_spec c[4] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_FAIL, FX_PERMANENT),
                          gs_child(&k[3], "d", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 4);
    s.link = true;
    fx_pid p = FX_PID_NONE;
    fx_reason why;
    cr_assert_eq(fx_sup_start(t.in, &s, &p, &why), FX_EEXIT);
    assert_reason(why, fx_reason_shutdown_with("failed_to_start_child c %s",
                                               "{error,42,\"no thanks\"}"));
    /* The two started first were stopped, in reverse order, before the
     * start returned; d was never started. */
    expect_events(&t, "+a +b -b -a", NULL);
    assert_no_events(&t);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(t.in, NULL, 0, &m), FX_ETIMEDOUT, "a stray message");
    wait_processes(&t, base);
    tvm_stop(&t);
}

Test(start, a_nested_failure_names_the_nested_supervisor)
{
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    kid k[3];
    fx_child_spec inner[2] = {gs_child(&k[0], "y", K_OK, FX_PERMANENT),
                              gs_child(&k[1], "z", K_FAIL, FX_PERMANENT)};
    fx_sup_spec mid = spec_with(FX_ONE_FOR_ONE, inner, 2);
    fx_child_spec c[2] = {gs_child(&k[2], "x", K_OK, FX_PERMANENT),
                          sup_child("m", &mid, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_reason why;
    cr_assert_eq(fx_sup_start(t.in, &s, NULL, &why), FX_EEXIT);
    /* The nested reason, itself a failed start, is cut to fit. */
    assert_reason(why,
                  fx_reason_shutdown_with(
                      "failed_to_start_child m %s",
                      "{shutdown,\"failed_to_start_child z {error,42,\"no thanks\"}\"}"));
    expect_events(&t, "+x +y -y -x", NULL);
    wait_processes(&t, base);
    tvm_stop(&t);
}

Test(start, a_child_whose_init_crashes)
{
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    kid k[3];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "c", K_CRASH, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    s.link = true;
    fx_reason why;
    cr_assert_eq(fx_sup_start(t.in, &s, NULL, &why), FX_EEXIT);
    assert_reason(why, fx_reason_shutdown_with("failed_to_start_child c %s",
                                               "{error,FX_ECRASHED,\"init crashed\"}"));
    expect_events(&t, "+a -a", NULL);
    wait_processes(&t, base);
    /* start_child: the crash is the reason; the supervisor goes on. */
    s.nchildren = 1;
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a", NULL);
    fx_child_spec x = gs_child(&k[2], "x", K_CRASH, FX_PERMANENT);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &x, 10000, NULL, &why), FX_EEXIT);
    assert_reason(why, fx_reason_error(FX_ECRASHED, "init crashed"));
    fx_child_info v[1];
    which_n(&t, sup, v, 1);
    assert_counts(&t, sup, 1, 1, 0, 1);
    assert_no_events(&t);
    tvm_stop(&t);
}

Test(start, ignore_keeps_the_child_not_running)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_IGNORE, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +c", NULL);
    fx_child_info v[3];
    which_n(&t, sup, v, 3);
    cr_assert_eq(v[1].status, FX_CHILD_UNDEFINED);
    cr_assert(fx_pid_is_none(v[1].pid));
    cr_assert_eq(v[0].status, FX_CHILD_RUNNING);
    cr_assert_eq(v[2].status, FX_CHILD_RUNNING);
    assert_counts(&t, sup, 3, 2, 0, 3);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "b", 10000, NULL, NULL), FX_EIGNORE);
    tvm_stop(&t);
}

/* supervisor.h: an ignored FX_TEMPORARY child is not kept, at start-up
 * or through start_child (OTP keeps no spec of it), while an ignored
 * permanent one is kept, not running. */
Test(start, an_ignored_temporary_child_is_not_kept)
{
    tvm t = sup_vm();
    kid k[4];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "t", K_IGNORE, FX_TEMPORARY),
                          gs_child(&k[2], "p", K_IGNORE, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a", NULL);
    fx_child_info v[3];
    which_n(&t, sup, v, 2);
    cr_assert_str_eq(v[0].id, "a");
    cr_assert_str_eq(v[1].id, "p");
    cr_assert_eq(v[1].status, FX_CHILD_UNDEFINED);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "t", 10000, NULL, NULL), FX_ENOENT);
    fx_child_spec t2 = gs_child(&k[3], "t2", K_IGNORE, FX_TEMPORARY);
    fx_pid pt = FX_PID_NONE;
    cr_assert_eq(fx_sup_start_child(t.in, sup, &t2, 10000, &pt, NULL), FX_EIGNORE);
    cr_assert(fx_pid_is_none(pt));
    which_n(&t, sup, v, 2);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "t2", 10000), FX_ENOENT);
    assert_counts(&t, sup, 2, 1, 0, 2);
    assert_no_events(&t);
    tvm_stop(&t);
}

/* A custom start function that forgets the link (spec.link false). */
static fx_next start_unlinked(fx_ctx *cx, void *arg, const void *extra, size_t extra_size,
                              fx_handler then)
{
    (void) extra;
    (void) extra_size;
    fx_gs_spec s = {.ops = &w_ops, .arg = arg, .link = false, .label = "unlinked"};
    return fx_gs_start_async(cx, &s, then);
}

/* Issue 18: such a child was silently unsupervised (it crashed, was never
 * restarted, and count_children still said active). The supervisor now
 * links to every child it starts. */
Test(start, a_child_started_without_a_link_is_still_supervised)
{
    tvm t = sup_vm();
    kid k;
    kid_info(&k, "u", K_OK);
    fx_child_spec c = spec_of("u", start_unlinked, &k.info, FX_PERMANENT);
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, &c, 1);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+u", NULL);
    fx_pid before = pid_of(&t, sup, "u");
    cr_assert_eq(fx_vm_exit(t.vm, before, boom), 0);
    ev e[2];
    expect_events(&t, "-u +u", e);
    assert_reason(e[0].reason, boom);
    fx_pid after = wait_child(&t, sup, "u", FX_CHILD_RUNNING, before).pid;
    cr_assert(!fx_pid_eq(after, before));
    cr_assert_eq(fx_is_alive(t.vm, after), 1);
    assert_counts(&t, sup, 1, 1, 0, 1);
    /* Stopping the supervisor stops it too (through the link). */
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    expect_events(&t, "-u", NULL);
    tvm_stop(&t);
}

Test(start, an_empty_supervisor_starts_and_stops)
{
    tvm t = sup_vm();
    fx_sup_spec s = spec_with(FX_ONE_FOR_ALL, NULL, 0);
    fx_pid sup = sup_start(&t, &s);
    assert_counts(&t, sup, 0, 0, 0, 0);
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_normal(), 10000, NULL), 0);
    tvm_stop(&t);
}

/* From a handler: an actor starts a linked supervisor with
 * fx_sup_start_async and reports the outcome; W_STOP stops it. */
typedef struct outcome {
    int32_t rc;
    fx_pid pid;
    fx_reason why;
} outcome;

static fx_next starter_loop(fx_ctx *cx, fx_msg *m)
{
    fx_reason r;
    if (fx_msg_type(m) == W_STOP && fx_msg_size(m) == sizeof r) {
        memcpy(&r, fx_msg_data(m), sizeof r);
        return fx_stop(cx, r);
    }
    return fx_continue(cx);
}

static fx_next starter_started(fx_ctx *cx, fx_msg *m)
{
    outcome o;
    memset(&o, 0, sizeof o);
    o.rc = fx_gs_start_result(cx, m, &o.pid, &o.why);
    fx_send(cx, g_owner, OUTCOME, &o, sizeof o);
    return fx_become(cx, starter_loop);
}

static fx_next starter_init(fx_ctx *cx, void *arg)
{
    return fx_sup_start_async(cx, arg, starter_started);
}

static outcome start_from_actor(tvm *t, const fx_sup_spec *s, fx_pid *starter)
{
    fx_spawn_opts o = {.init = starter_init, .init_arg = (void *) s};
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, starter), 0);
    fx_msg *m = tvm_recv(t, OUTCOME);
    outcome r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

Test(start, from_a_handler_with_every_child_type)
{
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    kid k[3];
    fx_child_spec inner = gs_child(&k[0], "m1", K_OK, FX_PERMANENT);
    fx_sup_spec mid = spec_with(FX_ONE_FOR_ONE, &inner, 1);
    fx_child_spec c[3] = {gs_child(&k[1], "g", K_OK, FX_PERMANENT),
                          sup_child("m", &mid, FX_PERMANENT),
                          actor_child(&k[2], "p", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_REST_FOR_ONE, c, 3);
    s.link = true;
    fx_pid starter;
    outcome o = start_from_actor(&t, &s, &starter);
    cr_assert_eq(o.rc, 0, "start: %s", fx_err_name(o.rc));
    expect_events(&t, "+g +m1 +p", NULL);
    fx_ref mon = monitor(&t, o.pid);
    assert_counts(&t, o.pid, 3, 3, 1, 2);
    /* rest_for_one over the three kinds: m and p come back. */
    fx_pid g = pid_of(&t, o.pid, "g");
    fx_reason why;
    cr_assert_eq(fx_gs_stop_server(t.in, pid_of(&t, o.pid, "m"), boom, 10000, &why), 0);
    expect_events(&t, "-m1 -p +m1 +p", NULL);
    cr_assert(fx_pid_eq(pid_of(&t, o.pid, "g"), g));
    /* Its parent's exit shuts it down, children in reverse order. */
    fx_reason r = fx_reason_shutdown_with("parent");
    cr_assert_eq(fx_inbox_send(t.in, starter, W_STOP, &r, sizeof r), 0);
    ev e[3];
    expect_events(&t, "-p -m1 -g", e);
    for (int i = 0; i < 3; i++)
        assert_reason(e[i].reason, fx_reason_shutdown());
    assert_reason(down(&t, mon), r);
    wait_processes(&t, base);
    tvm_stop(&t);
}

Test(start, failures_from_a_handler)
{
    tvm t = sup_vm();
    kid k[2];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "f", K_FAIL, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    s.link = true;
    fx_reason failed =
        fx_reason_shutdown_with("failed_to_start_child f %s", "{error,42,\"no thanks\"}");
    /* Unlinked: the starter gets the outcome. */
    s.link = false;
    fx_pid starter;
    outcome o = start_from_actor(&t, &s, &starter);
    cr_assert_eq(o.rc, FX_EEXIT);
    assert_reason(o.why, failed);
    expect_events(&t, "+a -a", NULL);
    cr_assert_eq(fx_is_alive(t.vm, starter), 1, "an unlinked starter survives");
    /* Linked (OTP 25): the supervisor exits still linked, so a starter
     * that does not trap exits dies with the reason. */
    s.link = true;
    fx_spawn_opts so = {.init = starter_init, .init_arg = &s};
    fx_ref smon;
    cr_assert_eq(fx_inbox_spawn_monitor(t.in, &so, &starter, &smon), 0);
    assert_reason(down(&t, smon), failed);
    expect_events(&t, "+a -a", NULL);
    s.intensity = -1;
    o = start_from_actor(&t, &s, &starter);
    cr_assert_eq(o.rc, FX_EINVAL);
    tvm_stop(&t);
}

/* Every child that started has exited (call once nothing is left). A
 * child's last event may still be on its way when the live count is back
 * (a message sent while exiting is published at the end of that run), so
 * the events are read until they balance, for at most POLL_MS. */
static void assert_balanced_events(tvm *t)
{
    int live[256] = {0};
    fx_msg *m = NULL;
    int64_t timeout = 0; /* 0 while draining what is there, then 10 ms waits */
    for (int waited = 0; waited <= POLL_MS;) {
        if (fx_inbox_recv(t->in, &(fx_match){.type = EV}, timeout, &m) == 0) {
            ev e;
            memcpy(&e, fx_msg_data(m), sizeof e);
            fx_msg_free(m);
            live[(unsigned char) e.name[0]] += e.kind == EV_START ? 1 : -1;
            continue;
        }
        bool unbalanced = false;
        for (int i = 0; i < 256; i++)
            unbalanced |= live[i] != 0;
        if (!unbalanced)
            break;
        waited += (int) timeout;
        timeout = 10;
    }
    for (int i = 0; i < 256; i++)
        cr_assert_eq(live[i], 0, "child %c: %d instances left", i, live[i]);
}

Test(start, a_start_that_times_out_leaves_nothing_behind)
{
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    cr_assert_eq(sem_init(&g_gate, 0, 0), 0);
    atomic_uint starts = 0;
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_BLOCK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    k[1].info.starts = &starts;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    s.link = true;
    s.timeout_ms = 100;
    fx_pid p = FX_PID_NONE;
    /* From an inbox: b's init blocks past the start's timeout. */
    cr_assert_eq(fx_sup_start(t.in, &s, &p, NULL), FX_ETIMEDOUT);
    cr_assert(fx_pid_is_none(p));
    cr_assert_eq(sem_post(&g_gate), 0);
    wait_processes(&t, base);
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.type = FX_MSG_EXIT}, 0, &m),
                 FX_ETIMEDOUT, "an EXIT reached the starter");
    assert_balanced_events(&t);
    /* From a handler: the same. */
    atomic_store(&starts, 0);
    fx_pid starter;
    outcome o = start_from_actor(&t, &s, &starter);
    cr_assert_eq(o.rc, FX_ETIMEDOUT);
    cr_assert_eq(sem_post(&g_gate), 0);
    wait_processes(&t, base + 1); /* the starter is still there */
    cr_assert_eq(fx_is_alive(t.vm, starter), 1);
    assert_balanced_events(&t);
    tvm_stop(&t);
    sem_destroy(&g_gate);
}

Test(spec, the_largest_spec)
{
    /* A spec lists at most 512 children (it travels in the supervisor's
     * inline state); more can be added with start_child. */
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    static fx_child_spec c[513];
    static fx_spawn_opts po = {.handler = NULL};
    po.init = p_init;
    static winfo w;
    w = info_of("p", K_OK);
    po.init_arg = &w;
    po.state_size = sizeof(wstate);
    for (int i = 0; i < 513; i++) {
        char id[16];
        snprintf(id, sizeof id, "p%d", i);
        c[i] = spec_of(id, fx_child_actor, &po, FX_PERMANENT);
    }
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 513);
    cr_assert_eq(fx_sup_start(t.in, &s, NULL, NULL), FX_EINVAL);
    s.nchildren = 512;
    fx_pid sup = sup_start(&t, &s);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &c[512], 10000, NULL, NULL), 0);
    assert_counts(&t, sup, 513, 513, 0, 513);
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    wait_processes(&t, base);
    tvm_stop(&t);
}

/* ---- bad specs ------------------------------------------------------------------ */

Test(spec, every_validation_rule_answers_einval)
{
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    kid k[2];
    fx_child_spec good[2] = {gs_child(&k[0], "a", K_OK, FX_TRANSIENT),
                             gs_child(&k[1], "b", K_OK, FX_PERMANENT)};
    fx_child_spec c[2];
    fx_sup_spec s;
#define BAD(what, ...)                                                                   \
    do {                                                                                 \
        memcpy(c, good, sizeof c);                                                       \
        s = spec_with(FX_ONE_FOR_ONE, c, 2);                                             \
        __VA_ARGS__;                                                                     \
        fx_pid p = FX_PID_NONE;                                                          \
        cr_assert_eq(fx_sup_start(t.in, &s, &p, NULL), FX_EINVAL, "%s", what);           \
        cr_assert(fx_pid_is_none(p));                                                    \
    } while (0)
    BAD("duplicate id", strcpy(c[1].id, "a"));
    BAD("empty id", c[0].id[0] = 0);
    BAD("unterminated id", memset(c[0].id, 'x', FX_CHILD_ID_MAX));
    BAD("no start function", c[1].start = NULL);
    BAD("restart type", c[0].restart = FX_TEMPORARY + 1);
    BAD("negative restart type", c[0].restart = -1);
    BAD("child type", c[0].type = FX_SUPERVISOR_CHILD + 1);
    BAD("shutdown", c[0].shutdown_ms = FX_SHUTDOWN_BRUTAL_KILL - 1);
    BAD("significant permanent child", c[1].significant = true);
    BAD("strategy", s.strategy = FX_SIMPLE_ONE_FOR_ONE + 1);
    BAD("negative strategy", s.strategy = -1);
    BAD("auto_shutdown", s.auto_shutdown = FX_AUTO_SHUTDOWN_ALL_SIGNIFICANT + 1);
    BAD("intensity < 0", s.intensity = -1);
    BAD("period 0", s.period_ms = 0);
    BAD("period < 0", s.period_ms = -5);
    BAD("timeout", s.timeout_ms = -2);
    BAD("children NULL", s.children = NULL);
    BAD("dynamic, two templates", s.strategy = FX_SIMPLE_ONE_FOR_ONE);
    BAD("dynamic, no template", s.strategy = FX_SIMPLE_ONE_FOR_ONE; s.nchildren = 0);
    BAD("dynamic with auto_shutdown", s.strategy = FX_SIMPLE_ONE_FOR_ONE; s.nchildren = 1;
        s.auto_shutdown = FX_AUTO_SHUTDOWN_ANY_SIGNIFICANT);
    BAD("dynamic, bad template", s.strategy = FX_SIMPLE_ONE_FOR_ONE; s.nchildren = 1;
        c[0].start = NULL);
#undef BAD
    cr_assert_eq(fx_sup_start(t.in, NULL, NULL, NULL), FX_EINVAL);
    memcpy(c, good, sizeof c);
    s = spec_with(FX_ONE_FOR_ONE, c, 2);
    cr_assert_eq(fx_sup_start(NULL, &s, NULL, NULL), FX_EINVAL);
    /* The edges that are allowed. */
    c[0].significant = true; /* transient, under auto_shutdown */
    s.auto_shutdown = FX_AUTO_SHUTDOWN_ANY_SIGNIFICANT;
    c[0].shutdown_ms = FX_SHUTDOWN_BRUTAL_KILL;
    c[1].shutdown_ms = FX_INFINITY;
    s.intensity = 0;
    s.timeout_ms = FX_INFINITY;
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b", NULL);
    /* start_child checks its spec the same way. */
    fx_child_spec bad = good[0];
    strcpy(bad.id, "z");
    bad.restart = 7;
    cr_assert_eq(fx_sup_start_child(t.in, sup, &bad, 10000, NULL, NULL), FX_EINVAL);
    bad.restart = FX_PERMANENT;
    bad.significant = true;
    cr_assert_eq(fx_sup_start_child(t.in, sup, &bad, 10000, NULL, NULL), FX_EINVAL);
    /* ...on the supervisor's side too, for a request built by hand. */
    fx_msg *r = NULL;
    fx_sup_reply h;
    cr_assert_eq(
        fx_gs_call(t.in, sup, FX_SUP_START_CHILD, &bad, sizeof bad, 10000, &r, NULL), 0);
    cr_assert_eq(fx_sup_reply_decode(fx_msg_data(r), fx_msg_size(r), &h, NULL, NULL),
                 FX_EINVAL);
    fx_msg_free(r);
    cr_assert_eq(fx_gs_call(t.in, sup, FX_SUP_START_CHILD, &bad, 3, 10000, &r, NULL), 0);
    cr_assert_eq(fx_sup_reply_decode(fx_msg_data(r), fx_msg_size(r), &h, NULL, NULL),
                 FX_EINVAL);
    fx_msg_free(r);
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    expect_events(&t, "-b -a", NULL);
    /* A dynamic supervisor's template may have an empty id. */
    memcpy(c, good, sizeof c);
    c[0].id[0] = 0;
    s = spec_with(FX_SIMPLE_ONE_FOR_ONE, c, 1);
    sup = sup_start(&t, &s);
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    wait_processes(&t, base);
    tvm_stop(&t);
}

/* A reply that cannot be sent (which_children over max_msg_size) becomes
 * a small error reply: the caller gets FX_EMSGSIZE, it does not time out. */
Test(dynamic, an_oversized_reply_is_an_error_not_a_timeout)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.max_msg_size = 64;
    c.crash_logger = fx_crash_logger_silent;
    tvm t = tvm_start_with(&c);
    g_vm = t.vm;
    g_owner = t.me;
    fx_child_spec tmpl;
    fx_sup_spec s = dynamic_spec(&tmpl, FX_PERMANENT);
    fx_pid sup = sup_start(&t, &s);
    for (int i = 0; i < 8; i++)
        start_dyn(&t, sup, "d", K_OK);
    fx_child_info v[8];
    cr_assert_eq(fx_sup_which_children(t.in, sup, v, 8, 10000), FX_EMSGSIZE);
    assert_counts(&t, sup, 8, 8, 0, 8); /* the supervisor carries on */
    tvm_stop(&t);
}

/* A dynamic supervisor finds each of many children by pid (its exits,
 * terminate by pid) after restarts gave some of them new pids. */
static fx_next quiet_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

Test(dynamic, many_children_found_by_pid_after_restarts)
{
    enum { N = 3000 };
    tvm t = sup_vm();
    static const fx_spawn_opts po = {.handler = quiet_h, .label = "quiet"};
    fx_child_spec tmpl = {.start = fx_child_actor,
                          .carg = &po,
                          .restart = FX_PERMANENT,
                          .shutdown_ms = 1000};
    fx_sup_spec s = spec_with(FX_SIMPLE_ONE_FOR_ONE, &tmpl, 1);
    s.intensity = N; /* every third child is killed once below */
    fx_pid sup = sup_start(&t, &s);
    static fx_pid p[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(fx_sup_start_child_args(t.in, sup, NULL, 0, 10000, &p[i], NULL), 0);
    assert_counts(&t, sup, N, N, 0, N);
    /* Every third one dies and is restarted under a new pid. */
    for (int i = 0; i < N; i += 3)
        cr_assert_eq(fx_vm_exit(t.vm, p[i], fx_reason_kill()), 0);
    static fx_child_info v[N];
    bool settled = false;
    for (int tries = 0; !settled && tries < 20000; tries++) { /* restarts done? */
        cr_assert_eq(fx_sup_which_children(t.in, sup, v, N, 10000), N);
        settled = true;
        for (int j = 0; j < N && settled; j++)
            settled = v[j].pid.id != 0 && fx_is_alive(t.vm, v[j].pid) == 1;
        if (!settled)
            sleep_ms(1);
    }
    cr_assert(settled, "the killed children were not all restarted");
    for (int i = 0; i < N; i += 3)
        for (int j = 0; j < N; j++)
            cr_assert(!fx_pid_eq(v[j].pid, p[i]));
    /* Terminated by pid in an order unlike the start order: each found. */
    for (int i = N; i-- > 0;) {
        int j = (int) (((uint64_t) i * 7919) % N);
        cr_assert_eq(fx_sup_terminate_pid(t.in, sup, v[j].pid, 10000), 0, "child %d", j);
        cr_assert_eq(fx_sup_terminate_pid(t.in, sup, v[j].pid, 10000), FX_ENOENT);
    }
    assert_counts(&t, sup, 0, 0, 0, 0);
    tvm_stop(&t);
}
