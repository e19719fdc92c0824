/* Links, exit signals and trap_exit: Erlang's documented semantics. */
#include "agent.h"

static const fx_reason boom = {FX_REASON_ERROR, 7, "boom"};

Test(links, are_bidirectional)
{
    tvm t = ag_start(2, false);
    for (int dir = 0; dir < 2; dir++) {
        fx_ref ra, rb;
        fx_pid a = ag_spawn(&t, &ra), b = ag_spawn(&t, &rb);
        cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = b}).rc, 0);
        /* dir 0: the linker dies; dir 1: the linked one. */
        ag_send(&t, dir ? b : a, AG_STOP, (ag_cmd){.reason = boom});
        assert_reason(ag_down(&t, dir ? rb : ra), boom);
        assert_reason(ag_down(&t, dir ? ra : rb), boom);
    }
    tvm_stop(&t);
}

Test(links, normal_exit_does_not_propagate)
{
    tvm t = ag_start(2, false);
    fx_ref rb;
    fx_pid a = ag_spawn(&t, NULL), b = ag_spawn(&t, &rb);
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = b}).rc, 0);
    ag_send(&t, b, AG_STOP, (ag_cmd){.reason = fx_reason_normal()});
    assert_reason(ag_down(&t, rb), fx_reason_normal());
    ag_assert_alive(&t, a);
    tvm_stop(&t);
}

Test(links, shutdown_propagates_to_non_trapping)
{
    tvm t = ag_start(2, false);
    fx_ref ra;
    fx_pid a = ag_spawn(&t, &ra), b = ag_spawn(&t, NULL);
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = b}).rc, 0);
    ag_send(&t, b, AG_STOP, (ag_cmd){.reason = fx_reason_shutdown()});
    assert_reason(ag_down(&t, ra), fx_reason_shutdown());
    tvm_stop(&t);
}

Test(links, trap_exit_turns_signals_into_messages)
{
    tvm t = ag_start(2, false);
    fx_pid a = ag_spawn(&t, NULL), b = ag_spawn(&t, NULL), c = ag_spawn(&t, NULL);
    cr_assert_eq(ag_do(&t, a, AG_TRAP, (ag_cmd){.value = 1}).rc, 0, "was not trapping");
    cr_assert_eq(ag_do(&t, a, AG_TRAP, (ag_cmd){.value = 1}).rc, 1, "now trapping");
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = b}).rc, 0);
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = c}).rc, 0);
    ag_send(&t, b, AG_STOP, (ag_cmd){.reason = boom});
    ag_report r = ag_next(&t, a);
    cr_assert_eq(r.type, FX_MSG_EXIT);
    cr_assert(fx_pid_eq(r.pid, b));
    assert_reason(r.reason, boom);
    /* A trapping process also sees normal exits. */
    ag_send(&t, c, AG_STOP, (ag_cmd){.reason = fx_reason_normal()});
    r = ag_next(&t, a);
    cr_assert_eq(r.type, FX_MSG_EXIT);
    cr_assert(fx_pid_eq(r.pid, c));
    assert_reason(r.reason, fx_reason_normal());
    ag_assert_alive(&t, a);
    tvm_stop(&t);
}

Test(links, unlink_stops_propagation)
{
    tvm t = ag_start(2, false);
    fx_ref ra, rb;
    fx_pid a = ag_spawn(&t, &ra), b = ag_spawn(&t, &rb), c = ag_spawn(&t, NULL);
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = b}).rc, 0);
    cr_assert_eq(ag_do(&t, a, AG_UNLINK, (ag_cmd){.pid = b}).rc, 0);
    ag_send(&t, b, AG_STOP, (ag_cmd){.reason = boom});
    assert_reason(ag_down(&t, rb), boom);
    ag_assert_alive(&t, a);
    /* The other end: c links a, a unlinks c, a crashing spares c. */
    cr_assert_eq(ag_do(&t, c, AG_LINK, (ag_cmd){.pid = a}).rc, 0);
    cr_assert_eq(ag_do(&t, a, AG_UNLINK, (ag_cmd){.pid = c}).rc, 0);
    ag_send(&t, a, AG_STOP, (ag_cmd){.reason = boom});
    /* A dying process signals links before monitors: after the DOWN, an
     * exit signal to c would be ahead of the ping. */
    assert_reason(ag_down(&t, ra), boom);
    ag_assert_alive(&t, c);
    /* Unlinking what is not linked is fine. */
    cr_assert_eq(ag_do(&t, c, AG_UNLINK, (ag_cmd){.pid = b}).rc, 0);
    tvm_stop(&t);
}

Test(links, circle_dies_together)
{
    enum { N = 12 };
    tvm t = ag_start(2, false);
    fx_pid p[N];
    fx_ref r[N];
    for (int i = 0; i < N; i++)
        p[i] = ag_spawn(&t, &r[i]);
    for (int i = 0; i < N; i++)
        cr_assert_eq(ag_do(&t, p[i], AG_LINK, (ag_cmd){.pid = p[(i + 1) % N]}).rc, 0);
    ag_send(&t, p[N / 2], AG_STOP, (ag_cmd){.reason = boom});
    for (int i = 0; i < N; i++)
        assert_reason(ag_down(&t, r[i]), boom);
    tvm_stop(&t);
}

Test(links, kill_bypasses_trapping_and_propagates_as_killed)
{
    tvm t = ag_start(2, false);
    fx_ref ra;
    fx_pid a = ag_spawn(&t, &ra), b = ag_spawn(&t, NULL);
    cr_assert_eq(ag_do(&t, a, AG_TRAP, (ag_cmd){.value = 1}).rc, 0);
    cr_assert_eq(ag_do(&t, b, AG_TRAP, (ag_cmd){.value = 1}).rc, 0);
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = b}).rc, 0);
    cr_assert_eq(fx_vm_exit(t.vm, a, fx_reason_kill()), 0);
    assert_reason(ag_down(&t, ra), fx_reason_killed());
    ag_report r = ag_next(&t, b);
    cr_assert_eq(r.type, FX_MSG_EXIT);
    cr_assert(fx_pid_eq(r.pid, a));
    assert_reason(r.reason, fx_reason_killed());
    tvm_stop(&t);
}

Test(links, stopping_with_kill_sends_a_trappable_kill)
{
    tvm t = ag_start(2, false);
    fx_ref rb;
    fx_pid a = ag_spawn(&t, NULL), b = ag_spawn(&t, &rb), c = ag_spawn(&t, NULL);
    cr_assert_eq(ag_do(&t, c, AG_TRAP, (ag_cmd){.value = 1}).rc, 0);
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = b}).rc, 0);
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = c}).rc, 0);
    ag_send(&t, a, AG_STOP, (ag_cmd){.reason = fx_reason_kill()});
    assert_reason(ag_down(&t, rb), fx_reason_kill()); /* not `killed` */
    ag_report r = ag_next(&t, c);
    cr_assert_eq(r.type, FX_MSG_EXIT);
    assert_reason(r.reason, fx_reason_kill());
    ag_assert_alive(&t, c);
    tvm_stop(&t);
}

Test(exit_signals, normal_is_ignored_unless_trapping)
{
    tvm t = ag_start(2, false);
    fx_pid a = ag_spawn(&t, NULL), b = ag_spawn(&t, NULL);
    cr_assert_eq(fx_vm_exit(t.vm, a, fx_reason_normal()), 0);
    ag_assert_alive(&t, a);
    cr_assert_eq(ag_do(&t, b, AG_TRAP, (ag_cmd){.value = 1}).rc, 0);
    cr_assert_eq(
        ag_do(&t, a, AG_EXIT, (ag_cmd){.pid = b, .reason = fx_reason_normal()}).rc, 0);
    ag_report r = ag_next(&t, b);
    cr_assert_eq(r.type, FX_MSG_EXIT);
    cr_assert(fx_pid_eq(r.pid, a));
    assert_reason(r.reason, fx_reason_normal());
    tvm_stop(&t);
}

Test(exit_signals, normal_to_self_ends_the_caller)
{
    tvm t = ag_start(2, false);
    fx_ref ra;
    fx_pid a = ag_spawn(&t, &ra);
    ag_send(&t, a, AG_EXIT, (ag_cmd){.pid = a, .reason = fx_reason_normal()});
    cr_assert_eq(ag_next(&t, a).rc, 0);
    assert_reason(ag_down(&t, ra), fx_reason_normal());
    tvm_stop(&t);
}

Test(exit_signals, abnormal_kills_a_non_trapping_target)
{
    tvm t = ag_start(2, false);
    fx_ref rb;
    fx_pid a = ag_spawn(&t, NULL), b = ag_spawn(&t, &rb);
    cr_assert_eq(ag_do(&t, a, AG_EXIT, (ag_cmd){.pid = b, .reason = boom}).rc, 0);
    assert_reason(ag_down(&t, rb), boom);
    /* The sender is not linked: it lives on. */
    ag_assert_alive(&t, a);
    /* A dead target answers FX_ENOPROC; bad reasons FX_EINVAL. */
    cr_assert_eq(ag_do(&t, a, AG_EXIT, (ag_cmd){.pid = b, .reason = boom}).rc,
                 FX_ENOPROC);
    fx_reason bad = {99, 0, ""};
    cr_assert_eq(fx_vm_exit(t.vm, a, bad), FX_EINVAL);
    cr_assert_eq(fx_vm_exit(NULL, a, boom), FX_EINVAL);
    tvm_stop(&t);
}

Test(links, to_a_dead_process)
{
    tvm t = ag_start(2, false);
    fx_ref rb;
    fx_pid a = ag_spawn(&t, NULL), b = ag_spawn(&t, &rb);
    ag_send(&t, b, AG_STOP, (ag_cmd){.reason = fx_reason_normal()});
    ag_down(&t, rb);
    /* Not trapping: link fails with noproc, nothing else happens. */
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = b}).rc, FX_ENOPROC);
    ag_assert_alive(&t, a);
    /* Trapping: link succeeds and an EXIT noproc arrives. */
    cr_assert_eq(ag_do(&t, a, AG_TRAP, (ag_cmd){.value = 1}).rc, 0);
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = b}).rc, 0);
    ag_report r = ag_next(&t, a);
    cr_assert_eq(r.type, FX_MSG_EXIT);
    cr_assert(fx_pid_eq(r.pid, b));
    assert_reason(r.reason, fx_reason_noproc());
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = FX_PID_NONE}).rc, FX_EINVAL);
    tvm_stop(&t);
}

Test(links, spawn_link_from_a_handler)
{
    tvm t = ag_start(2, false);
    fx_ref ra;
    fx_pid a = ag_spawn(&t, &ra);
    ag_report r = ag_do(&t, a, AG_SPAWN_LINK, (ag_cmd){0});
    cr_assert_eq(r.rc, 0);
    fx_pid child = r.pid;
    ag_assert_alive(&t, child);
    ag_send(&t, child, AG_STOP, (ag_cmd){.reason = boom});
    assert_reason(ag_down(&t, ra), boom);
    tvm_stop(&t);
}

Test(links, spawn_link_from_outside_and_inbox_destroy)
{
    tvm t = ag_start(2, false);
    ag_state st = {t.me};
    fx_spawn_opts o = ag_opts(&st);
    fx_pid a;
    cr_assert_eq(fx_inbox_spawn_link(t.in, &o, &a), 0);
    ag_send(&t, a, AG_STOP, (ag_cmd){.reason = boom});
    /* The inbox always traps: the exit arrives as a message. */
    fx_msg *m = tvm_recv(&t, FX_MSG_EXIT);
    const fx_exit_info *e = fx_msg_data(m);
    cr_assert(fx_pid_eq(e->pid, a));
    cr_assert(fx_pid_eq(fx_msg_from(m), a));
    assert_reason(e->reason, boom);
    fx_msg_free(m);
    /* A second inbox linked to a trapping agent: destroying it sends
     * the agent an EXIT with reason normal. */
    fx_inbox *in2;
    cr_assert_eq(fx_inbox_create(t.vm, &in2), 0);
    fx_pid b = ag_spawn(&t, NULL);
    cr_assert_eq(ag_do(&t, b, AG_TRAP, (ag_cmd){.value = 1}).rc, 0);
    cr_assert_eq(fx_inbox_link(in2, b), 0);
    fx_pid in2_pid = fx_inbox_pid(in2);
    fx_inbox_destroy(in2);
    ag_report r = ag_next(&t, b);
    cr_assert_eq(r.type, FX_MSG_EXIT);
    cr_assert(fx_pid_eq(r.pid, in2_pid));
    assert_reason(r.reason, fx_reason_normal());
    tvm_stop(&t);
}

Test(links, messages_sent_before_an_exit_arrive_before_it)
{
    enum { N = 500 };
    tvm t = ag_start(2, false);
    fx_pid a = ag_spawn(&t, NULL), b = ag_spawn(&t, NULL);
    cr_assert_eq(ag_do(&t, b, AG_TRAP, (ag_cmd){.value = 1}).rc, 0);
    cr_assert_eq(ag_do(&t, b, AG_LINK, (ag_cmd){.pid = a}).rc, 0);
    ag_send(&t, a, AG_SEND, (ag_cmd){.pid = b, .value = N});
    ag_send(&t, a, AG_STOP, (ag_cmd){.reason = boom});
    cr_assert_eq(ag_next(&t, a).type, AG_SEND);
    for (uint64_t i = 0; i < N; i++) {
        ag_report r = ag_next(&t, b);
        cr_assert_eq(r.type, AG_PING, "message %llu: got type %u", (unsigned long long) i,
                     r.type);
        cr_assert_eq(r.value, i);
    }
    ag_report r = ag_next(&t, b);
    cr_assert_eq(r.type, FX_MSG_EXIT);
    assert_reason(r.reason, boom);
    tvm_stop(&t);
}

Test(links, null_arguments_are_refused)
{
    cr_assert_eq(fx_link(NULL, FX_PID_NONE), FX_EINVAL);
    cr_assert_eq(fx_unlink(NULL, FX_PID_NONE), FX_EINVAL);
    cr_assert_eq(fx_exit(NULL, FX_PID_NONE, fx_reason_normal()), FX_EINVAL);
    cr_assert_eq(fx_trap_exit(NULL, true), false);
    cr_assert_eq(fx_spawn_link(NULL, NULL, NULL), FX_EINVAL);
    cr_assert_eq(fx_inbox_link(NULL, FX_PID_NONE), FX_EINVAL);
}

/* Defect 2 (issue 13): link and monitor requests that reach an inbox
 * which never receives are still applied when it is destroyed, so the
 * inbox exits with `normal` as documented: a non-trapping linker lives
 * on, a trapping one gets EXIT normal, a monitor DOWN normal. */
Test(links, destroying_an_idle_inbox_is_a_normal_exit)
{
    tvm t = ag_start(2, false);
    fx_inbox *idle;
    cr_assert_eq(fx_inbox_create(t.vm, &idle), 0);
    fx_pid ip = fx_inbox_pid(idle);
    fx_ref ra;
    fx_pid a = ag_spawn(&t, &ra), b = ag_spawn(&t, NULL), c = ag_spawn(&t, NULL);
    cr_assert_eq(ag_do(&t, b, AG_TRAP, (ag_cmd){.value = 1}).rc, 0);
    cr_assert_eq(ag_do(&t, a, AG_LINK, (ag_cmd){.pid = ip}).rc, 0);
    cr_assert_eq(ag_do(&t, b, AG_LINK, (ag_cmd){.pid = ip}).rc, 0);
    ag_report mon = ag_do(&t, c, AG_MONITOR, (ag_cmd){.pid = ip});
    cr_assert_eq(mon.rc, 0);
    fx_inbox_destroy(idle); /* never called fx_inbox_recv */
    ag_report r = ag_next(&t, b);
    cr_assert_eq(r.type, FX_MSG_EXIT);
    cr_assert(fx_pid_eq(r.pid, ip));
    assert_reason(r.reason, fx_reason_normal());
    r = ag_next(&t, c);
    cr_assert_eq(r.type, FX_MSG_DOWN);
    cr_assert(fx_ref_eq(r.ref, mon.ref));
    assert_reason(r.reason, fx_reason_normal());
    /* The exit signal reached a before this ping: it ignored it. */
    ag_assert_alive(&t, a);
    tvm_stop(&t);
}
