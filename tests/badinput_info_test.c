/* Bad-input table: info.h (process info, the process snapshot,
 * per-scheduler statistics, handler timing, restart counting). One Test
 * per row; .description is "function | bad input | result". */
#include "badinput.h"

static int bi_visit(void *arg, const fx_proc_info *i)
{
    (void) arg;
    (void) i;
    return 0;
}

static int bi_visit_stop(void *arg, const fx_proc_info *i)
{
    (void) arg;
    (void) i;
    return -77;
}

Test(bi_info, process_info_null,
     .description = "fx_process_info | vm NULL; out NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_proc_info i;
    i.version = FX_PROC_INFO_VERSION;
    bi_expect(fx_process_info(NULL, t.me, &i), FX_EINVAL);
    bi_expect(fx_process_info(t.vm, t.me, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_info, process_info_bad_version,
     .description = "fx_process_info | out->version above FX_PROC_INFO_VERSION | "
                    "FX_EINVAL, *out untouched")
{
    tvm t = bi_start();
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &p), 0);
    fx_proc_info i;
    memset(&i, 0, sizeof i);
    i.version = FX_PROC_INFO_VERSION + 1;
    bi_expect(fx_process_info(t.vm, p, &i), FX_EINVAL);
    cr_assert_eq(i.version, FX_PROC_INFO_VERSION + 1);
    cr_assert(fx_pid_is_none(i.pid));
    bi_end(&t);
}

Test(bi_info, process_info_bad_pid,
     .description = "fx_process_info | FX_PID_NONE; garbage pid; stale pid; an inbox's "
                    "pid | FX_ENOPROC")
{
    tvm t = bi_start();
    fx_proc_info i;
    i.version = FX_PROC_INFO_VERSION;
    bi_expect(fx_process_info(t.vm, FX_PID_NONE, &i), FX_ENOPROC);
    bi_expect(fx_process_info(t.vm, BI_GARBAGE_PID, &i), FX_ENOPROC);
    bi_expect(fx_process_info(t.vm, bi_stale(&t), &i), FX_ENOPROC);
    bi_expect(fx_process_info(t.vm, t.me, &i), FX_ENOPROC);
    bi_end(&t);
}

Test(bi_info, process_info_other_vm,
     .description = "fx_process_info | a live pid of another VM | FX_ENOPROC")
{
    tvm t = bi_start();
    tvm u = bi_start();
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(u.vm, bi_echo, NULL, &p), 0);
    fx_proc_info i;
    i.version = FX_PROC_INFO_VERSION;
    bi_expect(fx_process_info(t.vm, p, &i), FX_ENOPROC);
    bi_expect(fx_process_info(u.vm, p, &i), 0);
    bi_end(&u);
    bi_end(&t);
}

Test(bi_info, process_info_after_shutdown,
     .description = "fx_process_info | after shutdown | FX_ESHUTDOWN")
{
    fx_pid p;
    fx_vm *vm = bi_dead_vm(&p);
    fx_proc_info i;
    i.version = FX_PROC_INFO_VERSION;
    bi_expect(fx_process_info(vm, p, &i), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_info, processes_null,
     .description = "fx_vm_processes | vm NULL; fn NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_vm_processes(NULL, bi_visit, NULL), FX_EINVAL);
    bi_expect(fx_vm_processes(t.vm, NULL, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_info, processes_fn_stops,
     .description =
         "fx_vm_processes | fn returns non-zero (here -77, which reads like an "
         "error code) | fn's value, the walk stops")
{
    tvm t = bi_start();
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, bi_echo, NULL, &p), 0);
    bi_expect(fx_vm_processes(t.vm, bi_visit_stop, NULL), -77);
    cr_assert_geq(fx_vm_processes(t.vm, bi_visit, NULL), 1);
    bi_end(&t);
}

Test(bi_info, processes_after_shutdown,
     .description = "fx_vm_processes | after shutdown | FX_ESHUTDOWN")
{
    fx_vm *vm = bi_dead_vm(NULL);
    bi_expect(fx_vm_processes(vm, bi_visit, NULL), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_info, set_timing_null, .description = "fx_vm_set_timing | vm NULL | FX_EINVAL")
{
    bi_expect(fx_vm_set_timing(NULL, true), FX_EINVAL);
    tvm t = bi_start();
    bi_expect(fx_vm_set_timing(t.vm, false), 0);
    bi_end(&t);
}

Test(bi_info, set_timing_after_shutdown,
     .description = "fx_vm_set_timing | after shutdown | the previous setting (0 or 1): "
                    "nothing runs to be timed")
{
    fx_vm *vm = bi_dead_vm(NULL);
    bi_expect(fx_vm_set_timing(vm, true), 0);
    bi_expect(fx_vm_set_timing(vm, false), 1);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_info, sched_stats_null,
     .description = "fx_vm_sched_stats | vm NULL; out NULL; out->version above "
                    "FX_SCHED_STATS_VERSION | FX_EINVAL")
{
    tvm t = bi_start();
    fx_sched_stats s;
    s.version = FX_SCHED_STATS_VERSION;
    bi_expect(fx_vm_sched_stats(NULL, 0, &s), FX_EINVAL);
    bi_expect(fx_vm_sched_stats(t.vm, 0, NULL), FX_EINVAL);
    s.version = FX_SCHED_STATS_VERSION + 1;
    bi_expect(fx_vm_sched_stats(t.vm, 0, &s), FX_EINVAL);
    bi_end(&t);
}

Test(bi_info, sched_stats_bad_index,
     .description = "fx_vm_sched_stats | idx = fx_vm_sched_count(vm); UINT32_MAX | "
                    "FX_ENOENT")
{
    tvm t = bi_start();
    fx_sched_stats s;
    s.version = FX_SCHED_STATS_VERSION;
    bi_expect(fx_vm_sched_stats(t.vm, fx_vm_sched_count(t.vm), &s), FX_ENOENT);
    bi_expect(fx_vm_sched_stats(t.vm, UINT32_MAX, &s), FX_ENOENT);
    bi_end(&t);
}

Test(bi_info, sched_count_null, .description = "fx_vm_sched_count | vm NULL | 0")
{
    cr_assert_eq(fx_vm_sched_count(NULL), 0);
    tvm t = bi_start();
    cr_assert_geq(fx_vm_sched_count(t.vm), 2);
    bi_end(&t);
}

Test(bi_info, count_restart_null,
     .description = "fx_vm_count_restart | vm NULL | FX_EINVAL")
{
    bi_expect(fx_vm_count_restart(NULL), FX_EINVAL);
    tvm t = bi_start();
    fx_vm_stats a, b;
    cr_assert_eq(fx_vm_stats_get(t.vm, &a), 0);
    bi_expect(fx_vm_count_restart(t.vm), 0);
    cr_assert_eq(fx_vm_stats_get(t.vm, &b), 0);
    cr_assert_eq(b.restarts, a.restarts + 1);
    bi_end(&t);
}

/* --- from a fork()ed child (docs/failures.md, "fork") ------------------- */

static int fork_info(tvm *t)
{
    fx_proc_info i;
    i.version = FX_PROC_INFO_VERSION;
    BI_FORKED(fx_process_info(t->vm, t->me, &i));
    BI_FORKED(fx_vm_processes(t->vm, bi_visit, NULL));
    BI_FORKED(fx_vm_set_timing(t->vm, true));
    fx_sched_stats s;
    s.version = FX_SCHED_STATS_VERSION;
    BI_FORKED(fx_vm_sched_stats(t->vm, 0, &s));
    BI_FORKED(fx_vm_count_restart(t->vm));
    return FX_EFORKED;
}

Test(bi_info, info_from_forked_child,
     .description = "fx_process_info, fx_vm_processes, fx_vm_set_timing, "
                    "fx_vm_sched_stats, fx_vm_count_restart | from a fork()ed child | "
                    "FX_EFORKED")
{
    tvm t = bi_start();
    bi_expect(bi_in_child(&t, fork_info), FX_EFORKED);
    bi_end(&t);
}
