/* Bad-input rows that FAIL today because of known defects (issue 13's
 * campaign; each row names its defect). NOT in tests/meson.build yet: the
 * lead enables it once the fixes have landed. Same format as the other
 * badinput_*_test.c files. */
#include "badinput.h"

Test(bi_vm, start_after_shutdown, .description = "fx_vm_start | after shutdown | FX_ESHUTDOWN (vm.h: further calls fail with FX_ESHUTDOWN; fx_vm_start lists only FX_EINVAL: ambiguous) [observed FX_EINVAL]")
{
    fx_vm *vm = bi_dead_vm(NULL);
    bi_expect(fx_vm_start(vm), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}


Test(bi_spawn, table_full, .description = "fx_vm_spawn | process table full, then every process killed and its DOWN received | FX_EFULL, then spawns succeed again [defect 1: FX_EFULL with free slots]")
{
    fx_vm_config c = bi_config();
    c.max_processes = 16;
    tvm t = tvm_start_with(&c);
    fx_pid kids[64];
    int n = 0, rc = 0;
    while (n < 64 && (rc = fx_vm_spawn(t.vm, bi_echo, NULL, &kids[n])) == 0)
        n++;
    bi_expect(rc, FX_EFULL);
    cr_assert_lt(n, 16);
    /* Free the table again (monitor each kill so the slots are really
     * free), then check the VM. */
    for (int i = 0; i < n; i++) {
        fx_ref r;
        cr_assert_eq(fx_inbox_monitor(t.in, kids[i], &r), 0);
        cr_assert_eq(fx_vm_exit(t.vm, kids[i], fx_reason_kill()), 0);
        fx_match m = {.type = FX_MSG_DOWN, .ref = r};
        fx_msg *msg;
        cr_assert_eq(fx_inbox_recv(t.in, &m, 10000, &msg), 0);
        fx_msg_free(msg);
    }
    bi_end(&t);
}
