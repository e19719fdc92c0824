/* review7: registry.h against Erlang's register/whereis (each test fails
 * today for the reason its comment gives). */
#include <stdio.h>

#include "helpers.h"

enum { T_DIE = 1, T_TICK };

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == T_DIE)
        return fx_stop(cx, fx_reason_normal());
    return fx_continue(cx);
}

/* registry.h:1-2 ("Erlang's register, whereis"), :43-45, :74-77 and
 * :97-99. Erlang unregisters a name as part of its holder's exit, so
 * once a monitor's DOWN has arrived, whereis(Name) is undefined and
 * Name ! Msg raises badarg. fauxtp frees the name only when the registry
 * handles its own DOWN; the header documents that window ("whereis may
 * still answer the dead pid", "(microseconds)"), but it is wide: here
 * about a quarter of the whereis calls made right after the caller's
 * DOWN still name the dead pid, and
 * fx_vm_send_named answers FX_ENOPROC instead of FX_ENOENT. Code ported
 * from Erlang that re-checks a name after a DOWN (a restart loop, a
 * "wait until gone") sees a dead holder. A fix: fx_whereis and the sends
 * by name treat a holder that fx_is_alive says is dead as no holder (the
 * registry already treats such a name as free for fx_register). Then
 * the header's window note goes. */
Test(review7_registry, whereis_after_the_holders_down_is_enoent)
{
    tvm t = tvm_start(2);
    int stale = 0, sends = 0;
    for (int i = 0; i < 200; i++) {
        fx_pid a = spawn_state(t.vm, idle, NULL, 0);
        char name[32];
        snprintf(name, sizeof name, "r7w%d", i);
        cr_assert_eq(fx_register(t.in, name, a, NULL), 0);
        fx_ref r;
        cr_assert_eq(fx_inbox_monitor(t.in, a, &r), 0);
        cr_assert_eq(fx_vm_send(t.vm, a, T_DIE, NULL, 0), 0);
        fx_msg_free(tvm_recv(&t, FX_MSG_DOWN));
        fx_pid w;
        if (fx_whereis(t.vm, name, &w) == 0)
            stale++;
        if (fx_vm_send_named(t.vm, name, T_TICK, NULL, 0) != FX_ENOENT)
            sends++;
    }
    tvm_stop(&t);
    cr_assert_eq(stale + sends, 0,
                 "of 200 names whose holder's DOWN had arrived, %d whereis still named "
                 "the dead pid and %d sends by name answered other than FX_ENOENT",
                 stale, sends);
}
