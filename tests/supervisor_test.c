/* Supervisor: strategies, restart types, intensity, escalation, the
 * shutdown protocol, and what a supervisor's death does to its children.
 * Everything is observed from outside: which pids changed, the order and
 * reasons of the children's starts and exits (sup_kids.h), error codes.
 * Dynamic supervisors, auto_shutdown, the child calls, start outcomes
 * and specs are in supervisor_children_test.c. */
#include <pthread.h>

#include "sup_kids.h"

/* ---- strategies ------------------------------------------------------------ */

/* Four GenServer children a..d; `crash` is killed with an error. changed:
 * 'x' where the pid must change, '.' where it must not; events: what the
 * children report meanwhile. */
static void strategy_case(int strategy, int crash, const char *changed,
                          const char *events)
{
    tvm t = sup_vm();
    static const char *names[] = {"a", "b", "c", "d"};
    kid k[4];
    fx_child_spec c[4];
    for (int i = 0; i < 4; i++)
        c[i] = gs_child(&k[i], names[i], K_OK, FX_PERMANENT);
    fx_sup_spec s = spec_with(strategy, c, 4);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b +c +d", NULL);
    fx_child_info before[4], after[4];
    which_n(&t, sup, before, 4);
    cr_assert_eq(fx_vm_exit(t.vm, before[crash].pid, boom), 0);
    ev e[MAX_EVENTS];
    expect_events(&t, events, e);
    /* The crashed child exited with its reason, the others were stopped. */
    for (int i = 0; e[i].kind == EV_TERM; i++)
        assert_reason(e[i].reason, i == 0 ? boom : fx_reason_shutdown());
    which_n(&t, sup, after, 4);
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(after[i].id, names[i], "start order kept");
        cr_assert_eq(after[i].status, FX_CHILD_RUNNING);
        cr_assert_eq(fx_is_alive(t.vm, after[i].pid), 1);
        if (changed[i] == 'x') {
            cr_assert(!fx_pid_eq(after[i].pid, before[i].pid), "%s kept its pid",
                      names[i]);
            cr_assert_eq(fx_is_alive(t.vm, before[i].pid), 0);
        } else {
            cr_assert(fx_pid_eq(after[i].pid, before[i].pid), "%s was restarted",
                      names[i]);
        }
    }
    assert_no_events(&t);
    assert_counts(&t, sup, 4, 4, 0, 4);
    tvm_stop(&t);
}

Test(strategy, one_for_one_restarts_only_the_child_that_exited)
{
    strategy_case(FX_ONE_FOR_ONE, 1, ".x..", "-b +b");
}

Test(strategy, one_for_all_stops_the_others_in_reverse_then_starts_all_in_order)
{
    strategy_case(FX_ONE_FOR_ALL, 1, "xxxx", "-b -d -c -a +a +b +c +d");
}

Test(strategy, rest_for_one_restarts_the_child_and_those_started_after_it)
{
    strategy_case(FX_REST_FOR_ONE, 1, ".xxx", "-b -d -c +b +c +d");
}

Test(strategy, rest_for_one_first_and_last_child)
{
    strategy_case(FX_REST_FOR_ONE, 0, "xxxx", "-a -d -c -b +a +b +c +d");
    strategy_case(FX_REST_FOR_ONE, 3, "...x", "-d +d");
}

/* Starts a child from another thread (its own inbox): the call blocks
 * while the child's init does. */
typedef struct bg_start {
    fx_vm *vm;
    fx_pid sup;
    const fx_child_spec *spec;
    int rc;
} bg_start;

static void *start_child_thread(void *arg)
{
    bg_start *b = arg;
    fx_inbox *in;
    b->rc = fx_inbox_create(b->vm, &in);
    if (b->rc == 0) {
        b->rc = fx_sup_start_child(in, b->sup, b->spec, 10000, NULL, NULL);
        fx_inbox_destroy(in);
    }
    return NULL;
}

Test(strategy, exits_queued_during_a_job_are_handled_once)
{
    /* one_for_all, intensity 1. While the supervisor is busy starting n
     * (whose init blocks), c is killed and b crashes: both EXITs wait in
     * its mailbox. The first one handled restarts the group, and the
     * group's stop consumes the other: one restart, not two (a second
     * would make it give up). */
    tvm t = sup_vm();
    cr_assert_eq(sem_init(&g_gate, 0, 0), 0);
    atomic_uint starts = 0;
    kid k[4];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ALL, c, 3);
    s.intensity = 1;
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b +c", NULL);
    fx_child_info v[4];
    which_n(&t, sup, v, 3);
    fx_ref mon = monitor(&t, sup);
    fx_child_spec n = gs_child(&k[3], "n", K_BLOCK, FX_PERMANENT);
    k[3].info.starts = &starts;
    bg_start bg = {t.vm, sup, &n, -1};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, start_child_thread, &bg), 0);
    expect_events(&t, "+n", NULL); /* its init now blocks the supervisor */
    fx_ref rc = monitor(&t, v[2].pid), rb = monitor(&t, v[1].pid);
    cr_assert_eq(fx_vm_exit(t.vm, v[2].pid, fx_reason_kill()), 0);
    down(&t, rc);
    cr_assert_eq(fx_vm_exit(t.vm, v[1].pid, boom), 0);
    down(&t, rb);
    expect_events(&t, "-c -b", NULL);
    cr_assert_eq(sem_post(&g_gate), 0);
    cr_assert_eq(pthread_join(th, NULL), 0);
    cr_assert_eq(bg.rc, 0, "start_child: %s", fx_err_name(bg.rc));
    expect_events(&t, "-n -a +a +b +c +n", NULL);
    fx_child_info w[4];
    which_n(&t, sup, w, 4);
    for (int i = 0; i < 3; i++)
        cr_assert(!fx_pid_eq(v[i].pid, w[i].pid));
    assert_no_events(&t);
    cr_assert_eq(fx_inbox_demonitor(t.in, mon, FX_DEMONITOR_FLUSH), 0, "it gave up");
    tvm_stop(&t);
    sem_destroy(&g_gate);
}

/* ---- restart types ----------------------------------------------------------- */

Test(restart, transient_restarts_only_after_an_abnormal_exit)
{
    tvm t = sup_vm();
    static const char *names[] = {"n", "s", "w", "e", "k"};
    kid k[5];
    fx_child_spec c[5];
    for (int i = 0; i < 5; i++)
        c[i] = gs_child(&k[i], names[i], K_OK, FX_TRANSIENT);
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 5);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+n +s +w +e +k", NULL);
    fx_child_info v[5];
    which_n(&t, sup, v, 5);
    /* Clean exits: normal, shutdown, {shutdown,...}: not restarted. */
    fx_reason clean[] = {fx_reason_normal(), fx_reason_shutdown(),
                         fx_reason_shutdown_with("done")};
    for (int i = 0; i < 3; i++) {
        char want[8];
        snprintf(want, sizeof want, "-%s", names[i]);
        gs_stop_with(&t, v[i].pid, clean[i]);
        ev e;
        expect_events(&t, want, &e);
        assert_reason(e.reason, clean[i]);
        fx_child_info x = wait_child(&t, sup, names[i], FX_CHILD_UNDEFINED, v[i].pid);
        cr_assert(fx_pid_is_none(x.pid));
    }
    /* Abnormal exits: an error, and killed. */
    gs_stop_with(&t, v[3].pid, boom);
    expect_events(&t, "-e +e", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, v[4].pid, fx_reason_kill()), 0);
    ev e[2];
    expect_events(&t, "-k +k", e);
    assert_reason(e[0].reason, fx_reason_killed());
    fx_child_info w[5];
    which_n(&t, sup, w, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(w[i].status, i < 3 ? FX_CHILD_UNDEFINED : FX_CHILD_RUNNING);
    cr_assert(!fx_pid_eq(w[3].pid, v[3].pid));
    cr_assert(!fx_pid_eq(w[4].pid, v[4].pid));
    assert_counts(&t, sup, 5, 2, 0, 5);
    assert_no_events(&t);
    tvm_stop(&t);
}

Test(restart, permanent_restarts_after_any_exit)
{
    tvm t = sup_vm();
    kid k;
    fx_child_spec c = gs_child(&k, "p", K_OK, FX_PERMANENT);
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, &c, 1);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+p", NULL);
    fx_reason rs[] = {fx_reason_normal(), fx_reason_shutdown(),
                      fx_reason_shutdown_with("x"), boom};
    for (int i = 0; i < 4; i++) {
        fx_pid p = pid_of(&t, sup, "p");
        gs_stop_with(&t, p, rs[i]);
        expect_events(&t, "-p +p", NULL);
        cr_assert(!fx_pid_eq(pid_of(&t, sup, "p"), p));
    }
    tvm_stop(&t);
}

Test(restart, temporary_is_forgotten_after_any_exit)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "t", K_OK, FX_TEMPORARY),
                          gs_child(&k[2], "u", K_OK, FX_TEMPORARY)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +t +u", NULL);
    fx_pid a = pid_of(&t, sup, "a");
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "t"), boom), 0);
    expect_events(&t, "-t", NULL);
    wait_child(&t, sup, "t", 0, FX_PID_NONE);
    gs_stop_with(&t, pid_of(&t, sup, "u"), fx_reason_normal());
    expect_events(&t, "-u", NULL);
    wait_child(&t, sup, "u", 0, FX_PID_NONE);
    fx_child_info v[1];
    which_n(&t, sup, v, 1);
    cr_assert_str_eq(v[0].id, "a");
    cr_assert(fx_pid_eq(v[0].pid, a));
    assert_counts(&t, sup, 1, 1, 0, 1);
    cr_assert_eq(fx_sup_restart_child(t.in, sup, "t", 10000, NULL, NULL), FX_ENOENT);
    assert_no_events(&t);
    tvm_stop(&t);
}

Test(restart, a_group_restart_stops_and_forgets_temporary_children)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "t", K_OK, FX_TEMPORARY),
                          gs_child(&k[2], "b", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ALL, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +t +b", NULL);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "b"), boom), 0);
    expect_events(&t, "-b -t -a +a +b", NULL);
    fx_child_info v[2];
    which_n(&t, sup, v, 2);
    cr_assert_str_eq(v[0].id, "a");
    cr_assert_str_eq(v[1].id, "b");
    assert_no_events(&t);
    tvm_stop(&t);
}

/* ---- restart intensity ------------------------------------------------------- */

Test(intensity, more_restarts_than_allowed_within_the_period_give_up)
{
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    kid k[2];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    s.intensity = 2;
    s.period_ms = 600000; /* every restart is inside it */
    fx_pid sup = sup_start(&t, &s);
    fx_ref mon = monitor(&t, sup);
    expect_events(&t, "+a +b", NULL);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "a"), boom), 0);
        expect_events(&t, "-a +a", NULL);
    }
    /* The third restart within the period is one too many: b is not
     * restarted, a is stopped, the supervisor exits. */
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "b"), boom), 0);
    ev e[2];
    expect_events(&t, "-b -a", e);
    assert_reason(e[1].reason, fx_reason_shutdown());
    assert_reason(down(&t, mon), gave_up());
    wait_processes(&t, base);
    tvm_stop(&t);
}

Test(intensity, restarts_that_left_the_window_no_longer_count)
{
    tvm t = sup_vm();
    kid k;
    fx_child_spec c = gs_child(&k, "a", K_OK, FX_PERMANENT);
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, &c, 1);
    s.intensity = 1;
    s.period_ms = 50; /* the sleeps below are far longer */
    fx_pid sup = sup_start(&t, &s);
    fx_ref mon = monitor(&t, sup);
    expect_events(&t, "+a", NULL);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "a"), boom), 0);
        expect_events(&t, "-a +a", NULL);
        sleep_ms(300);
    }
    cr_assert_eq(fx_inbox_demonitor(t.in, mon, FX_DEMONITOR_FLUSH), 0, "it gave up");
    tvm_stop(&t);
}

Test(intensity, zero_gives_up_at_the_first_restart)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "t", K_OK, FX_TRANSIENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    s.intensity = 0;
    fx_pid sup = sup_start(&t, &s);
    fx_ref mon = monitor(&t, sup);
    expect_events(&t, "+a +t +c", NULL);
    /* An exit that needs no restart is fine. */
    gs_stop_with(&t, pid_of(&t, sup, "t"), fx_reason_normal());
    expect_events(&t, "-t", NULL);
    wait_child(&t, sup, "t", FX_CHILD_UNDEFINED, FX_PID_NONE);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, sup, "a"), boom), 0);
    expect_events(&t, "-a -c", NULL);
    assert_reason(down(&t, mon), gave_up());
    tvm_stop(&t);
}

Test(intensity, a_failed_restart_is_retried_and_counts)
{
    tvm t = sup_vm();
    /* b starts once, then fails twice, then starts again. */
    atomic_uint starts = 0;
    kid k[2];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT)};
    k[1].info.starts = &starts;
    k[1].info.fail_mask = 0x6;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    s.intensity = 3;
    fx_pid sup = sup_start(&t, &s);
    fx_ref mon = monitor(&t, sup);
    expect_events(&t, "+a +b", NULL);
    fx_pid a = pid_of(&t, sup, "a"), b = pid_of(&t, sup, "b");
    cr_assert_eq(fx_vm_exit(t.vm, b, boom), 0);
    expect_events(&t, "-b +b", NULL); /* the third attempt */
    cr_assert_eq(atomic_load(&starts), 4);
    fx_child_info x = wait_child(&t, sup, "b", FX_CHILD_RUNNING, b);
    cr_assert_eq(fx_is_alive(t.vm, x.pid), 1);
    cr_assert(fx_pid_eq(pid_of(&t, sup, "a"), a));
    /* Those three attempts were three restarts: one more is too many. */
    cr_assert_eq(fx_vm_exit(t.vm, a, boom), 0);
    expect_events(&t, "-a -b", NULL);
    assert_reason(down(&t, mon), gave_up());
    tvm_stop(&t);
}

/* ---- escalation -------------------------------------------------------------- */

Test(escalation, through_two_levels_of_supervisors)
{
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    kid k;
    fx_child_spec w = gs_child(&k, "w", K_OK, FX_PERMANENT);
    fx_sup_spec mid = spec_with(FX_ONE_FOR_ONE, &w, 1);
    mid.intensity = 1;
    fx_child_spec m = sup_child("m", &mid, FX_PERMANENT);
    fx_sup_spec root_spec = spec_with(FX_ONE_FOR_ONE, &m, 1);
    root_spec.intensity = 1;
    fx_pid root = sup_start(&t, &root_spec);
    fx_ref root_mon = monitor(&t, root);
    expect_events(&t, "+w", NULL);
    for (int round = 0; round < 2; round++) {
        fx_pid mid_pid = pid_of(&t, root, "m");
        fx_ref mid_mon = monitor(&t, mid_pid);
        /* The first crash is restarted by the mid supervisor... */
        fx_pid w1 = pid_of(&t, mid_pid, "w");
        cr_assert_eq(fx_vm_exit(t.vm, w1, boom), 0);
        expect_events(&t, "-w +w", NULL);
        fx_pid w2 = pid_of(&t, mid_pid, "w");
        cr_assert(!fx_pid_eq(w1, w2));
        /* ...the second makes it give up; the root restarts it (round 0)
         * or, its own intensity reached, gives up in turn (round 1). */
        cr_assert_eq(fx_vm_exit(t.vm, w2, boom), 0);
        expect_events(&t, round == 0 ? "-w +w" : "-w", NULL);
        assert_reason(down(&t, mid_mon), gave_up());
        if (round == 0) {
            fx_pid again = pid_of(&t, root, "m");
            cr_assert(!fx_pid_eq(again, mid_pid));
            cr_assert_eq(fx_is_alive(t.vm, again), 1);
            assert_counts(&t, again, 1, 1, 0, 1);
        }
    }
    assert_reason(down(&t, root_mon), gave_up());
    wait_processes(&t, base);
    assert_no_events(&t);
    tvm_stop(&t);
}

Test(escalation, a_transient_supervisor_that_gave_up_is_not_restarted)
{
    /* {shutdown,"reached_max_restart_intensity"} is a clean exit. */
    tvm t = sup_vm();
    kid k[2];
    fx_child_spec w = gs_child(&k[0], "w", K_OK, FX_PERMANENT);
    fx_sup_spec mid = spec_with(FX_ONE_FOR_ONE, &w, 1);
    mid.intensity = 0;
    fx_child_spec c[2] = {gs_child(&k[1], "a", K_OK, FX_PERMANENT),
                          sup_child("m", &mid, FX_TRANSIENT)};
    fx_sup_spec root_spec = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_pid root = sup_start(&t, &root_spec);
    expect_events(&t, "+a +w", NULL);
    fx_pid mid_pid = pid_of(&t, root, "m");
    fx_ref mid_mon = monitor(&t, mid_pid);
    cr_assert_eq(fx_vm_exit(t.vm, pid_of(&t, mid_pid, "w"), boom), 0);
    expect_events(&t, "-w", NULL);
    assert_reason(down(&t, mid_mon), gave_up());
    fx_child_info x = wait_child(&t, root, "m", FX_CHILD_UNDEFINED, FX_PID_NONE);
    cr_assert_eq(x.type, FX_SUPERVISOR_CHILD);
    assert_counts(&t, root, 2, 1, 1, 1);
    assert_no_events(&t);
    tvm_stop(&t);
}

/* ---- shutdown ---------------------------------------------------------------- */

Test(shutdown, stop_server_stops_the_children_in_reverse_start_order)
{
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    kid k[4];
    fx_child_spec c[4] = {
        gs_child(&k[0], "a", K_OK, FX_PERMANENT),
        gs_child(&k[1], "b", K_OK, FX_TRANSIENT),
        gs_child(&k[2], "c", K_OK, FX_TEMPORARY),
        actor_child(&k[3], "d", K_OK, FX_PERMANENT),
    };
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 4);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b +c +d", NULL);
    fx_reason why;
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, &why), 0);
    ev e[4];
    expect_events(&t, "-d -c -b -a", e);
    for (int i = 0; i < 4; i++)
        assert_reason(e[i].reason, fx_reason_shutdown());
    cr_assert_eq(fx_is_alive(t.vm, sup), 0);
    wait_processes(&t, base);
    tvm_stop(&t);
}

Test(shutdown, a_child_ignoring_shutdown_is_killed_after_its_timeout)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {
        gs_child(&k[0], "a", K_OK, FX_PERMANENT),
        actor_child(&k[1], "x", K_STUBBORN, FX_PERMANENT),
        gs_child(&k[2], "c", K_OK, FX_PERMANENT),
    };
    c[1].shutdown_ms = 100;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_unordered(&t, "+a +x +c");
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    ev e[3];
    expect_events(&t, "-c -x -a", e);
    assert_reason(e[0].reason, fx_reason_shutdown());
    assert_reason(e[1].reason, fx_reason_killed());
    assert_reason(e[2].reason, fx_reason_shutdown());
    tvm_stop(&t);
}

Test(shutdown, terminate_child_kills_a_child_ignoring_shutdown)
{
    tvm t = sup_vm();
    kid k;
    fx_child_spec c = actor_child(&k, "x", K_STUBBORN, FX_PERMANENT);
    c.shutdown_ms = 50;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, &c, 1);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+x", NULL);
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "x", 10000), 0);
    ev e;
    expect_events(&t, "-x", &e);
    assert_reason(e.reason, fx_reason_killed());
    assert_counts(&t, sup, 1, 0, 0, 1);
    tvm_stop(&t);
}

Test(shutdown, a_child_that_unlinked_itself_is_still_stopped)
{
    /* No EXIT comes: the supervisor's monitor tells it the child is gone. */
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          actor_child(&k[1], "x", K_OK, FX_PERMANENT),
                          actor_child(&k[2], "y", K_OK, FX_PERMANENT)};
    c[2].shutdown_ms = FX_SHUTDOWN_BRUTAL_KILL;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_unordered(&t, "+a +x +y");
    for (int i = 1; i < 3; i++) {
        cr_assert_eq(fx_inbox_send(t.in, pid_of(&t, sup, i == 1 ? "x" : "y"), W_UNLINK,
                                   &sup, sizeof sup),
                     0);
    }
    expect_unordered(&t, "~x ~y");
    cr_assert_eq(fx_sup_terminate_child(t.in, sup, "x", 10000), 0);
    ev e;
    expect_events(&t, "-x", &e);
    assert_reason(e.reason, fx_reason_shutdown());
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    ev f[2];
    expect_events(&t, "-y -a", f);
    assert_reason(f[0].reason, fx_reason_killed());
    tvm_stop(&t);
}

Test(shutdown, brutal_kill_kills_without_asking)
{
    tvm t = sup_vm();
    kid k[3];
    fx_child_spec c[3] = {
        gs_child(&k[0], "a", K_OK, FX_PERMANENT),
        gs_child(&k[1], "b", K_OK, FX_PERMANENT),
        actor_child(&k[2], "x", K_SLOW, FX_PERMANENT),
    };
    c[0].shutdown_ms = FX_SHUTDOWN_BRUTAL_KILL;
    c[2].shutdown_ms = FX_SHUTDOWN_BRUTAL_KILL;
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b +x", NULL);
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    ev e[3];
    expect_events(&t, "-x -b -a", e);
    assert_reason(e[0].reason, fx_reason_killed());
    assert_reason(e[1].reason, fx_reason_shutdown());
    assert_reason(e[2].reason, fx_reason_killed());
    tvm_stop(&t);
}

Test(shutdown, infinity_waits_as_long_as_the_child_takes)
{
    tvm t = sup_vm();
    kid k[2];
    fx_child_spec c[2] = {
        actor_child(&k[0], "x", K_SLOW, FX_PERMANENT),
        actor_child(&k[1], "y", K_SLOW, FX_PERMANENT),
    };
    c[0].shutdown_ms = FX_INFINITY;
    c[1].shutdown_ms = 0; /* the default: 5000 ms for a worker */
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_pid sup = sup_start(&t, &s);
    expect_unordered(&t, "+x +y");
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    ev e[2];
    expect_events(&t, "-y -x", e);
    assert_reason(e[0].reason, fx_reason_shutdown());
    assert_reason(e[1].reason, fx_reason_shutdown());
    tvm_stop(&t);
}

Test(shutdown, a_supervisor_child_stops_its_own_children_first)
{
    tvm t = sup_vm();
    kid k[4];
    fx_child_spec inner[2] = {gs_child(&k[0], "m1", K_OK, FX_PERMANENT),
                              actor_child(&k[1], "m2", K_SLOW, FX_PERMANENT)};
    fx_sup_spec mid = spec_with(FX_ONE_FOR_ONE, inner, 2);
    fx_child_spec c[3] = {gs_child(&k[2], "a", K_OK, FX_PERMANENT),
                          sup_child("m", &mid, FX_PERMANENT),
                          gs_child(&k[3], "z", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    fx_pid sup = sup_start(&t, &s);
    expect_unordered(&t, "+a +m1 +m2 +z");
    cr_assert_eq(fx_gs_stop_server(t.in, sup, fx_reason_shutdown(), 10000, NULL), 0);
    expect_events(&t, "-z -m2 -m1 -a", NULL);
    tvm_stop(&t);
}

/* ---- a supervisor's death --------------------------------------------------------- */

Test(death, killing_a_supervisor_kills_its_children)
{
    tvm t = sup_vm();
    uint64_t base = live_processes(&t);
    kid k[4];
    fx_child_spec inner = gs_child(&k[0], "m1", K_OK, FX_PERMANENT);
    fx_sup_spec mid = spec_with(FX_ONE_FOR_ONE, &inner, 1);
    fx_child_spec c[4] = {gs_child(&k[1], "a", K_OK, FX_PERMANENT),
                          sup_child("m", &mid, FX_PERMANENT),
                          gs_child(&k[2], "b", K_OK, FX_PERMANENT),
                          actor_child(&k[3], "p", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 4);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +m1 +b +p", NULL);
    fx_child_info v[4];
    which_n(&t, sup, v, 4);
    fx_ref mons[5];
    for (int i = 0; i < 4; i++)
        mons[i] = monitor(&t, v[i].pid);
    mons[4] = monitor(&t, pid_of(&t, v[1].pid, "m1"));
    fx_ref smon = monitor(&t, sup);
    cr_assert_eq(fx_vm_exit(t.vm, sup, fx_reason_kill()), 0);
    assert_reason(down(&t, smon), fx_reason_killed());
    for (int i = 0; i < 5; i++)
        down(&t, mons[i]); /* each died */
    expect_unordered(&t, "-a -m1 -b -p");
    wait_processes(&t, base);
    tvm_stop(&t);
}

Test(death, an_inbox_parent_going_away_stops_the_tree)
{
    tvm t = sup_vm();
    fx_inbox *parent;
    cr_assert_eq(fx_inbox_create(t.vm, &parent), 0);
    kid k[3];
    fx_child_spec c[3] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT),
                          gs_child(&k[2], "c", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 3);
    s.link = true;
    fx_pid sup;
    cr_assert_eq(fx_sup_start(parent, &s, &sup, NULL), 0);
    expect_events(&t, "+a +b +c", NULL);
    fx_ref mon = monitor(&t, sup);
    fx_inbox_destroy(parent); /* it exits with reason normal */
    expect_events(&t, "-c -b -a", NULL);
    assert_reason(down(&t, mon), fx_reason_normal());
    tvm_stop(&t);
}

Test(death, an_exit_signal_from_a_stranger_is_ignored)
{
    tvm t = sup_vm();
    kid k[2];
    fx_child_spec c[2] = {gs_child(&k[0], "a", K_OK, FX_PERMANENT),
                          gs_child(&k[1], "b", K_OK, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_pid sup = sup_start(&t, &s);
    expect_events(&t, "+a +b", NULL);
    fx_pid a = pid_of(&t, sup, "a");
    cr_assert_eq(fx_vm_exit(t.vm, sup, boom), 0);
    cr_assert(fx_pid_eq(pid_of(&t, sup, "a"), a), "it went on");
    assert_no_events(&t);
    tvm_stop(&t);
}

Test(death, vm_shutdown_with_a_running_tree)
{
    tvm t = sup_vm();
    kid k;
    fx_child_spec tmpl = spec_of("", start_from_extra, NULL, FX_PERMANENT);
    fx_sup_spec mid = spec_with(FX_SIMPLE_ONE_FOR_ONE, &tmpl, 1);
    fx_child_spec c[2] = {gs_child(&k, "a", K_OK, FX_PERMANENT),
                          sup_child("m", &mid, FX_PERMANENT)};
    fx_sup_spec s = spec_with(FX_ONE_FOR_ONE, c, 2);
    fx_pid sup = sup_start(&t, &s);
    start_dyn(&t, pid_of(&t, sup, "m"), "d", K_OK);
    expect_events(&t, "+a +d", NULL);
    tvm_stop(&t); /* every cleanup runs; no leak */
}
