/* review14: supervisor cases, second pass, written from OTP's supervisor
 * documentation as event sequences: a child whose restart fails inside a
 * group restart, a child whose restart answers ignore inside a group
 * restart, intensity counted across children, a slow but obedient child
 * at shutdown. Each test names the promise it checks. */
#include "sup_kids.h"

/* OTP (supervisor, one_for_all): a child that fails to start during a
 * group restart makes the supervisor try the whole restart again (the
 * children started so far are stopped again, in reverse order, then all
 * start in order), within the intensity. supervisor.h:100 and :214-215. */
Test(review14_sup, one_for_all_failed_restart_retries_the_group)
{
    tvm t = sup_vm();
    atomic_uint starts = 0;
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    k[1].info.starts = &starts;
    k[1].info.fail_mask = 0x2; /* b's second start (its first restart) fails */
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    s.strategy = FX_ONE_FOR_ALL;
    fx_pid sup = sup_start(&t, &s);
    fx_ref mon = monitor(&t, sup);
    expect_events(&t, "+a +b +c", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "a"), boom), 0);
    /* The group goes down, a comes back, b fails; the retry stops a again
     * and starts a, b, c in order. */
    expect_events(&t, "-a -c -b +a -a +a +b +c", NULL);
    cr_assert_eq(atomic_load(&starts), 3);
    assert_counts(&t, sup, 3, 3, 0, 3);
    cr_assert_eq(fx_is_alive(t.vm, sup), 1);
    (void) mon;
    tvm_stop(&t);
}

/* The same for rest_for_one: b crashes, c goes down, b's restart fails,
 * the retry starts b then c. */
Test(review14_sup, rest_for_one_failed_restart_retries_the_rest)
{
    tvm t = sup_vm();
    atomic_uint starts = 0;
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    k[1].info.starts = &starts;
    k[1].info.fail_mask = 0x2;
    fx_sup_spec s = spec_with(FX_REST_FOR_ONE, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b +c", NULL);
    fx_pid a = pid_of(&t, sup, "a");
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "b"), boom), 0);
    expect_events(&t, "-b -c +b +c", NULL);
    cr_assert_eq(atomic_load(&starts), 3);
    assert_counts(&t, sup, 3, 3, 0, 3);
    cr_assert(fx_pid_eq(pid_of(&t, sup, "a"), a), "a was not part of the restart");
    tvm_stop(&t);
}

/* OTP: a child whose start answers ignore during a group restart is kept,
 * not running (pid undefined), and the rest of the group still starts. */
Test(review14_sup, one_for_all_restart_answered_ignore_keeps_the_rest)
{
    tvm t = sup_vm();
    atomic_uint starts = 0;
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    k[1].info.starts = &starts;
    k[1].info.ignore_mask = 0x2;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ALL, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b +c", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "c"), boom), 0);
    expect_events(&t, "-c -b -a +a +c", NULL);
    fx_child_info v[3];
    which_n(&t, sup, v, 3);
    cr_assert_eq(v[1].status, FX_CHILD_UNDEFINED);
    cr_assert(fx_pid_is_none(v[1].pid));
    assert_counts(&t, sup, 3, 2, 0, 3);
    assert_no_events(&t);
    tvm_stop(&t);
}

/* OTP: the intensity counts restarts of the supervisor, whichever child
 * they were for: MaxR = 2 allows the restarts of a and b, the crash of c
 * within the period is one too many (supervisor.h:5-9). */
Test(review14_sup, intensity_counts_restarts_of_different_children)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_TRANSIENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    s.intensity = 2;
    s.period_ms = 600000;
    fx_pid sup = sup_start(&t, &s);
    fx_ref mon = monitor(&t, sup);
    expect_events(&t, "+a +b +c", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "a"), boom), 0);
    expect_events(&t, "-a +a", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "b"), boom), 0);
    expect_events(&t, "-b +b", NULL);
    /* A clean exit of a transient child is not a restart: not counted. */
    gs_stop_with(&t, pid_of(&t, sup, "b"), fx_reason_normal());
    expect_events(&t, "-b", NULL);
    (void) wait_child(&t, sup, "b", FX_CHILD_UNDEFINED, FX_PID_NONE);
    cr_assert_eq(fx_is_alive(t.vm, sup), 1);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "c"), boom), 0);
    expect_events(&t, "-c -a", NULL);
    assert_reason(down(&t, mon), gave_up());
    tvm_stop(&t);
}

/* A child that traps exits and takes its time (200 ms) but stops within
 * its shutdown time is waited for, not killed: it exits with shutdown. */
Test(review14_sup, a_slow_child_within_its_shutdown_time_is_not_killed)
{
    tvm t = sup_vm();
    kid k[2];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          actor_child(&k[1], "s", K_SLOW, FX_PERMANENT)};
    c[1].shutdown_ms = 60000;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_pid sup = sup_start(&t, &s);
    expect_unordered(&t, "+a +s");
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 30000, NULL), 0);
    ev e[2];
    expect_events(&t, "-s -a", e);
    assert_reason(e[0].reason, fx_reason_shutdown());
    tvm_stop(&t);
}

/* OTP: start_child of a running child's id: {error, already_started};
 * of a kept stopped one: already_present; both FX_EEXIST here, and
 * neither disturbs the child. delete_child / restart_child of a running
 * child: {error, running}, FX_EEXIST, the child untouched. */
Test(review14_sup, duplicate_and_running_child_calls_leave_the_child_alone)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[1] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 1);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a", NULL);
    fx_pid a = pid_of(&t, sup, "a"), out = FX_PID_NONE;
    fx_child_spec dup = gs_child(&k[1], "a", K_OK, FX_TEMPORARY);
    cr_assert_eq(fx_sup_start_child(t.in, sup, &dup, 10000, &out, NULL), FX_EEXIST);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "a", 10000, &out, NULL), FX_EEXIST);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "a", 10000), FX_EEXIST);
    cr_assert(fx_pid_eq(pid_of(&t, sup, "a"), a));
    assert_counts(&t, sup, 1, 1, 0, 1);
    assert_no_events(&t);
    tvm_stop(&t);
}

/* A child whose restart keeps failing is being retried: which_children
 * shows it restarting (supervisor.h:213-215, OTP's `restarting`), with no
 * pid; count_children does not count it active; restart_child and
 * delete_child refuse it (OTP: {error, restarting}; here FX_EEXIST) and
 * leave it being retried; once its start works again it runs. */
Test(review14_sup, a_child_being_retried_is_restarting)
{
    tvm t = sup_vm();
    kid k[2];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "f", K_FLAKY, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    s.intensity = 1000000; /* the retries must not give up meanwhile */
    s.period_ms = 1;
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +f", NULL);
    atomic_store(&g_fail, true);
    fx_pid f = pid_of(&t, sup, "f");
    cr_assert_eq(fx_vm_exit(t.vm, f, boom), 0);
    expect_events(&t, "-f", NULL);
    fx_child_info x = wait_child(&t, sup, "f", FX_CHILD_RESTARTING, FX_PID_NONE);
    cr_assert(fx_pid_is_none(x.pid));
    fx_child_counts n = counts(&t, sup);
    cr_assert_eq(n.specs, 2);
    cr_assert_eq(n.active, 1, "active %u: a restarting child is not active", n.active);
    fx_pid out = FX_PID_NONE;
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "f", 10000, &out, NULL), FX_EEXIST);
    cr_assert_eq(fx_sup_delete_child(t.in, sup, "f", 10000), FX_EEXIST);
    x = wait_child(&t, sup, "f", FX_CHILD_RESTARTING, FX_PID_NONE);
    atomic_store(&g_fail, false);
    x = wait_child(&t, sup, "f", FX_CHILD_RUNNING, FX_PID_NONE);
    expect_events(&t, "+f", NULL);
    cr_assert_eq(fx_is_alive(t.vm, x.pid), 1);
    cr_assert_eq(fx_is_alive(t.vm, sup), 1);
    tvm_stop(&t);
}

/* auto_shutdown all_significant (supervisor.h:111): the supervisor stops
 * when the last significant child has exited. A significant child whose
 * restart failed and is being retried has not: OTP's check counts every
 * significant child whose pid is not undefined, and a restarting child's
 * is {restarting, Pid}. So when the other significant child exits
 * normally meanwhile, the supervisor stays, and x runs once its start
 * works again. */
Test(review14_sup, all_significant_waits_for_a_child_being_restarted)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "x", K_FLAKY, FX_TRANSIENT),
                          gs_child(&k[2], "y", K_OK, FX_TRANSIENT)};
    c[1].significant = c[2].significant = true;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    s.auto_shutdown = FX_AUTO_SHUTDOWN_ALL_SIGNIFICANT;
    s.intensity = 1000000; /* the retries must not give up meanwhile */
    s.period_ms = 1;
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +x +y", NULL);
    atomic_store(&g_fail, true);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "x"), boom), 0);
    expect_events(&t, "-x", NULL);
    (void) wait_child(&t, sup, "x", FX_CHILD_RESTARTING, FX_PID_NONE);
    gs_stop_with(&t, pid_of(&t, sup, "y"), fx_reason_normal());
    expect_events(&t, "-y", NULL);
    /* Until the supervisor has handled y's exit (y no longer running). */
    bool seen = false;
    for (int i = 0; i < POLL_MS && !seen; i++) {
        fx_child_info v[3];
        int n = fx_sup_which_children(t.in, sup, v, 3, 10000);
        cr_assert_eq(n, 3,
                     "which_children: %s: the supervisor shut down on y's exit "
                     "while x was being restarted",
                     n < 0 ? fx_err_name(n) : "a count");
        const fx_child_info *y = find_id(v, 3, "y");
        seen = y && y->status != FX_CHILD_RUNNING;
        if (!seen)
            sleep_ms(1);
    }
    cr_assert(seen);
    atomic_store(&g_fail, false);
    (void) wait_child(&t, sup, "x", FX_CHILD_RUNNING, FX_PID_NONE);
    expect_events(&t, "+x", NULL);
    assert_no_events(&t);
    tvm_stop(&t);
}

/* A named supervisor child (supervisor.h:127-128: "A restarted supervisor
 * registers again") killed once is restarted once: its name is free by
 * the time its parent learns of its exit (OTP frees a registered name
 * before the exit signals go out), so the restart does not fail with
 * FX_EEXIST and need a retry. With intensity 1 a failed first attempt
 * would make the retry one restart too many. Repeated to catch a race. */
static fx_next r14_idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

Test(review14_sup, a_named_supervisor_child_is_restarted_at_the_first_attempt)
{
    tvm t = sup_vm();
    static fx_spawn_opts po;
    po = (fx_spawn_opts){.handler = r14_idle};
    static fx_child_spec inner_kid;
    inner_kid = spec_of("w", fx_child_actor, &po, FX_PERMANENT);
    static fx_sup_spec inner;
    inner = spec_with(FX_ONE_FOR_ONE, &inner_kid, 1);
    inner.name = "r14_inner";
    fx_child_spec outer_kid = sup_child("inner", &inner, FX_PERMANENT);
    for (int round = 0; round < 200; round++) {
        fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, &outer_kid, 1);
        s.intensity = 1;
        s.period_ms = 600000;
        fx_pid outer = sup_start(&t, &s);
        fx_ref mon = monitor(&t, outer);
        fx_pid in1 = pid_of(&t, outer, "inner");
        cr_assert_eq(fx_vm_exit(t.vm, in1, fx_reason_kill()), 0);
        fx_child_info x = wait_child(&t, outer, "inner", FX_CHILD_RUNNING, in1);
        fx_pid in2;
        cr_assert_eq(fx_whereis(t.vm, "r14_inner", &in2), 0);
        cr_assert(fx_pid_eq(in2, x.pid), "round %d", round);
        cr_assert_eq(fx_gs_stop_server(t.in, outer, fx_reason_shutdown(), 10000, NULL), 0,
                     "round %d: the outer supervisor gave up", round);
        fx_reason r = down(&t, mon);
        assert_reason(r, fx_reason_shutdown());
    }
    tvm_stop(&t);
}
