/* Bad-input table: overload.h (queue lengths) and the overload parts of
 * spawn options and the VM config. One Test per row; .description is
 * "function | bad input | result". */
#include "badinput.h"

Test(bi_overload, queue_len_null, .description = "fx_queue_len | cx NULL | FX_EINVAL")
{
    bi_expect(fx_queue_len(NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_overload, vm_queue_len_null,
     .description = "fx_vm_queue_len | vm NULL; out NULL | FX_EINVAL")
{
    uint64_t n;
    tvm t = bi_start();
    bi_expect(fx_vm_queue_len(NULL, t.me, &n), FX_EINVAL);
    bi_expect(fx_vm_queue_len(t.vm, t.me, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_overload, vm_queue_len_bad_pid,
     .description = "fx_vm_queue_len | FX_PID_NONE; garbage pid; stale pid | FX_ENOPROC")
{
    uint64_t n = 7;
    tvm t = bi_start();
    bi_expect(fx_vm_queue_len(t.vm, FX_PID_NONE, &n), FX_ENOPROC);
    bi_expect(fx_vm_queue_len(t.vm, BI_GARBAGE_PID, &n), FX_ENOPROC);
    bi_expect(fx_vm_queue_len(t.vm, bi_stale(&t), &n), FX_ENOPROC);
    cr_assert_eq(n, 7); /* untouched */
    bi_end(&t);
}

Test(bi_overload, vm_queue_len_after_shutdown,
     .description = "fx_vm_queue_len | after shutdown | FX_ESHUTDOWN")
{
    fx_pid p;
    uint64_t n;
    fx_vm *vm = bi_dead_vm(&p);
    bi_expect(fx_vm_queue_len(vm, p, &n), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_overload, spawn_bad_mailbox_policy,
     .description = "fx_vm_spawn_opt | mailbox.policy unknown with mailbox.max > 0 | "
                    "FX_EINVAL")
{
    tvm t = bi_start();
    fx_spawn_opts o = {.handler = bi_echo, .mailbox = {10, 3}};
    fx_pid p;
    bi_expect(fx_vm_spawn_opt(t.vm, &o, &p), FX_EINVAL);
    o.mailbox.policy = UINT32_MAX;
    bi_expect(fx_vm_spawn_opt(t.vm, &o, &p), FX_EINVAL);
    bi_end(&t);
}

Test(
    bi_overload, config_bad_mute,
    .description = "fx_vm_create | mute not FX_MUTE_*; mute_low >= mute_high | FX_EINVAL")
{
    fx_vm *vm;
    fx_vm_config c = bi_config();
    c.mute = 3;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    c = bi_config();
    c.mute_high = 10;
    c.mute_low = 10;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    c.mute_low = 11;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}
