/* review8: supervisor cases written from OTP's supervisor documentation,
 * as a matrix (strategy x restart type x exit reason, intensity, the
 * child calls). Each test fails now only if the runtime breaks the
 * promise its comment names. */
#include "sup_kids.h"

/* A temporary child (or a transient one exiting cleanly) that exits under
 * one_for_all / rest_for_one is not restarted, so nothing else is touched
 * either (OTP: the strategy only applies when the child is restarted). */
static void group_case(int strategy, int restart, fx_reason why)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, restart),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(strategy, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b +c", NULL);
    fx_child_info v[3];
    which_n(&t, sup, v, 3);
    gs_stop_with(&t, v[1].pid, why);
    expect_events(&t, "-b", NULL);
    if (restart == FX_TEMPORARY)
        wait_gone(&t, sup, v[1].pid);
    else
        (void) wait_child(&t, sup, "b", FX_CHILD_UNDEFINED, FX_PID_NONE);
    assert_no_events(&t);
    cr_assert(fx_pid_eq(pid_of(&t, sup, "a"), v[0].pid), "a was restarted");
    cr_assert(fx_pid_eq(pid_of(&t, sup, "c"), v[2].pid), "c was restarted");
    tvm_stop(&t);
}

Test(review8_sup, one_for_all_temporary_crash_restarts_nothing)
{
    group_case(FX_ONE_FOR_ALL, FX_TEMPORARY, boom);
}

Test(review8_sup, one_for_all_transient_normal_exit_restarts_nothing)
{
    group_case(FX_ONE_FOR_ALL, FX_TRANSIENT, fx_reason_normal());
}

Test(review8_sup, rest_for_one_transient_shutdown_with_restarts_nothing)
{
    group_case(FX_REST_FOR_ONE, FX_TRANSIENT, fx_reason_shutdown_with("x"));
}

Test(review8_sup, rest_for_one_temporary_crash_restarts_nothing)
{
    group_case(FX_REST_FOR_ONE, FX_TEMPORARY, boom);
}

/* OTP counts one restart per restart decision, not one per child a group
 * restart starts again: with intensity 1, one crash under one_for_all
 * (three children restarted) is one restart, and the supervisor lives. */
static void one_restart_counts_once(int strategy)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(strategy, c, 3);
    s.intensity = 1;
    s.period_ms = 600000;
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b +c", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "a"), boom), 0);
    expect_events(&t, "-a -c -b +a +b +c", NULL);
    assert_counts(&t, sup, 3, 3, 0, 3);
    cr_assert_eq(fx_is_alive(t.vm, sup), 1);
    tvm_stop(&t);
}

Test(review8_sup, one_for_all_group_restart_is_one_restart)
{
    one_restart_counts_once(FX_ONE_FOR_ALL);
}

Test(review8_sup, rest_for_one_group_restart_is_one_restart)
{
    one_restart_counts_once(FX_REST_FOR_ONE);
}

/* Intensity exceeded: the supervisor stops the remaining children in
 * reverse start order, then exits (supervisor.h:8-9). */
Test(review8_sup, giving_up_stops_the_rest_in_reverse_start_order)
{
    tvm t = sup_vm();
    kid k[4];
    fx_child_spec c[4] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT),
                          gs_child(&k[3], "d", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 4);
    s.intensity = 0;
    fx_pid sup = sup_start(&t, &s);
    fx_ref mon = monitor(&t, sup);
    expect_events(&t, "+a +b +c +d", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "b"), boom), 0);
    ev e[4];
    expect_events(&t, "-b -d -c -a", e);
    for (int i = 1; i < 4; i++)
        assert_reason(e[i].reason, fx_reason_shutdown());
    assert_reason(down(&t, mon), gave_up());
    tvm_stop(&t);
}

/* The child calls' return codes, OTP's {error, running | not_found}. */
Test(review8_sup, child_call_codes)
{
    tvm t = sup_vm();
    kid k[2];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "t", K_OK, FX_TEMPORARY)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +t", NULL);
    fx_pid out;
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "a", 10000, &out, NULL), FX_EEXIST);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "a", 10000), FX_EEXIST);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "zz", 10000), FX_ENOENT);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "zz", 10000, &out, NULL), FX_ENOENT);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "zz", 10000), FX_ENOENT);
    /* A running child's id is taken. */
    kid k2;
    fx_child_spec dup = gs_child(&k2, "a", K_OK, FX_PERMANENT);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &dup, 10000, &out, NULL), FX_EEXIST);
    /* terminate: kept, restart_child starts it again with a new pid. */
    fx_pid old = pid_of(&t, sup, "a");
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "a", 10000), 0);
    expect_events(&t, "-a", NULL);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "a", 10000), 0,
                 "OTP: terminating a stopped child is ok");
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "a", 10000, &out, NULL), 0);
    expect_events(&t, "+a", NULL);
    cr_assert(!fx_pid_eq(out, old));
    cr_assert(fx_pid_eq(out, pid_of(&t, sup, "a")));
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "a", 10000), 0);
    expect_events(&t, "-a", NULL);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "a", 10000), 0);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "a", 10000, &out, NULL), FX_ENOENT);
    /* A temporary child that exited is forgotten: its id is free again. */
    gs_stop_with(&t, pid_of(&t, sup, "t"), boom);
    expect_events(&t, "-t", NULL);
    wait_child(&t, sup, "t", 0, FX_PID_NONE);
    fx_child_spec again = gs_child(&k2, "t", K_OK, FX_TEMPORARY);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &again, 10000, &out, NULL), 0);
    expect_events(&t, "+t", NULL);
    assert_counts(&t, sup, 1, 1, 0, 1);
    tvm_stop(&t);
}

/* count_children for a tree with a supervisor child: supervisors and
 * workers count specs, active counts running children. */
Test(review8_sup, counts_with_a_supervisor_child)
{
    tvm t = sup_vm();
    static kid k[2];
    static fx_child_spec inner_c[1];
    inner_c[0] = gs_child(&k[0], "i", K_OK, FX_PERMANENT);
    static fx_sup_spec inner;
    inner = spec_with(FX_ONE_FOR_ONE, inner_c, 1);
    fx_child_spec c[2] = {sup_child("s", &inner, FX_PERMANENT),
                          gs_child(&k[1], "w", K_OK, FX_TRANSIENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+i +w", NULL);
    assert_counts(&t, sup, 2, 2, 1, 1);
    fx_child_info v[2];
    which_n(&t, sup, v, 2);
    cr_assert_eq(v[0].type, FX_SUPERVISOR_CHILD);
    cr_assert_eq(v[1].type, FX_WORKER);
    gs_stop_with(&t, v[1].pid, fx_reason_normal());
    expect_events(&t, "-w", NULL);
    wait_child(&t, sup, "w", FX_CHILD_UNDEFINED, FX_PID_NONE);
    assert_counts(&t, sup, 2, 1, 1, 1);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "s", 10000), 0);
    expect_events(&t, "-i", NULL);
    assert_counts(&t, sup, 2, 0, 1, 1);
    tvm_stop(&t);
}

/* Dynamic supervisor: max_children counts running children only; a
 * stopped supervisor stops every dynamic child. */
Test(review8_sup, dynamic_max_children_frees_a_slot_and_stop_stops_all)
{
    tvm t = sup_vm();
    fx_child_spec tmpl;
    fx_sup_spec s = dynamic_spec(&tmpl, FX_TEMPORARY);
    s.max_children = 2;
    fx_pid sup = sup_start(&t, &s);
    fx_pid a = start_dyn(&t, sup, "a", K_OK);
    (void) start_dyn(&t, sup, "b", K_OK);
    expect_events(&t, "+a +b", NULL);
    winfo w = info_of("c", K_OK);
    cr_assert_eq(fx_sup_start_child_args(t.in, sup, &w, sizeof w, 10000, NULL, NULL),
                 FX_ELIMIT);
    gs_stop_with(&t, a, boom);
    expect_events(&t, "-a", NULL);
    wait_gone(&t, sup, a);
    (void) start_dyn(&t, sup, "c", K_OK);
    expect_events(&t, "+c", NULL);
    /* count_children / which_children: every dynamic child is known. */
    assert_counts(&t, sup, 2, 2, 0, 2);
    fx_child_info v[2];
    which_n(&t, sup, v, 2);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(v[i].status, FX_CHILD_RUNNING);
        cr_assert_eq(v[i].type, FX_WORKER);
        cr_assert_eq(fx_is_alive(t.vm, v[i].pid), 1);
    }
    cr_assert_eq(fx_sup_terminate_pid(t.in, sup, a, 10000), FX_ENOENT);
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    expect_unordered(&t, "-b -c");
    tvm_stop(&t);
}

/* supervisor.h:183-199: start_child / restart_child outcomes. */
Test(review8_sup, start_child_and_restart_child_outcomes)
{
    tvm t = sup_vm();
    kid k[5];
    fx_child_spec c[1] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 1);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a", NULL);
    fx_pid out = FX_PID_NONE;
    fx_reason why;
    /* A stopped child kept for restart_child still holds its id. */
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "a", 10000), 0);
    expect_events(&t, "-a", NULL);
    fx_child_spec dup = gs_child(&k[1], "a", K_OK, FX_PERMANENT);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &dup, 10000, &out, NULL), FX_EEXIST);
    /* A failed start: FX_EEXIT with the reason, not added. */
    fx_child_spec bad = gs_child(&k[2], "f", K_FAIL, FX_PERMANENT);
    memset(&why, 0, sizeof why);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &bad, 10000, &out, &why), FX_EEXIT);
    assert_reason(why, init_refused);
    fx_child_info v[4];
    which_n(&t, sup, v, 1);
    /* ignore: FX_EIGNORE, added, not running; restart_child: FX_EIGNORE. */
    fx_child_spec ign = gs_child(&k[3], "i", K_IGNORE, FX_PERMANENT);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &ign, 10000, &out, NULL), FX_EIGNORE);
    which_n(&t, sup, v, 2);
    cr_assert_str_eq(v[1].id, "i");
    cr_assert_eq(v[1].status, FX_CHILD_UNDEFINED);
    cr_assert(fx_pid_is_none(v[1].pid));
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "i", 10000, &out, NULL), FX_EIGNORE);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "i", 10000), 0);
    assert_counts(&t, sup, 1, 0, 0, 1);
    assert_no_events(&t);
    tvm_stop(&t);
}

/* A restart_child whose start fails: FX_EEXIT with the reason; the child
 * stays kept and stopped (OTP: {error, Reason}, the spec remains). */
Test(review8_sup, restart_child_whose_start_fails)
{
    tvm t = sup_vm();
    atomic_uint starts = 0;
    kid k;
    fx_child_spec c = gs_child(&k, "a", K_OK, FX_PERMANENT);
    k.info.fail_mask = 2u; /* the second start fails */
    k.info.starts = &starts;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, &c, 1);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a", NULL);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "a", 10000), 0);
    expect_events(&t, "-a", NULL);
    fx_pid out = FX_PID_NONE;
    fx_reason why;
    memset(&why, 0, sizeof why);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "a", 10000, &out, &why), FX_EEXIT);
    assert_reason(why, init_refused);
    fx_child_info v[1];
    which_n(&t, sup, v, 1);
    cr_assert_eq(v[0].status, FX_CHILD_UNDEFINED);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "a", 10000, &out, NULL), 0);
    expect_events(&t, "+a", NULL);
    tvm_stop(&t);
}

/* supervisor.h:220-222: which_children fills up to cap entries and
 * returns how many children there are; cap 0 with NULL out counts. */
Test(review8_sup, which_children_cap_smaller_than_the_count)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b +c", NULL);
    fx_child_info v[3];
    memset(v, 0x5a, sizeof v);
    cr_assert_eq(fx_sup_which_children(t.in, sup, v, 1, 10000), 3);
    cr_assert_str_eq(v[0].id, "a");
    cr_assert_eq(((unsigned char *) &v[1])[0], 0x5a, "wrote past cap");
    cr_assert_eq(fx_sup_which_children(t.in, sup, NULL, 0, 10000), 3);
    tvm_stop(&t);
}
