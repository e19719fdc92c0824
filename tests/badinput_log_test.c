/* Bad-input table: log.h and the report functions of report.h added with
 * the logger. One Test per row; .description is "function | bad input |
 * result". */
#include <stdarg.h>

#include "badinput.h"

Test(bi_log, log_null, .description = "fx_log | vm NULL; fmt NULL | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_log(NULL, FX_LOG_ERROR, "x"), FX_EINVAL);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
    bi_expect(fx_log(t.vm, FX_LOG_ERROR, NULL), FX_EINVAL);
#pragma GCC diagnostic pop
    bi_end(&t);
}

Test(bi_log, log_bad_level,
     .description = "fx_log | level 0, 9, -1 (FX_LOG_OFF), INT_MIN | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(fx_log(t.vm, 0, "x"), FX_EINVAL);
    bi_expect(fx_log(t.vm, 9, "x"), FX_EINVAL);
    bi_expect(fx_log(t.vm, FX_LOG_OFF, "x"), FX_EINVAL);
    bi_expect(fx_log(t.vm, INT_MIN, "x"), FX_EINVAL);
    bi_end(&t);
}

static int vlog(fx_vm *vm, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fx_vlog(vm, level, fmt, ap);
    va_end(ap);
    return rc;
}

Test(bi_log, vlog_bad, .description = "fx_vlog | vm NULL; level 0 | FX_EINVAL")
{
    tvm t = bi_start();
    bi_expect(vlog(NULL, FX_LOG_ERROR, "x"), FX_EINVAL);
    bi_expect(vlog(t.vm, 0, "x"), FX_EINVAL);
    bi_end(&t);
}

Test(bi_log, log_after_shutdown, .description = "fx_log | after shutdown | FX_ESHUTDOWN")
{
    fx_vm *vm = bi_dead_vm(NULL);
    bi_expect(fx_log(vm, FX_LOG_ERROR, "late"), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_log, set_level_bad,
     .description =
         "fx_log_set_level | vm NULL; level 0, 9, -2 | FX_EINVAL, level unchanged")
{
    tvm t = bi_start();
    bi_expect(fx_log_set_level(NULL, FX_LOG_ERROR), FX_EINVAL);
    bi_expect(fx_log_set_level(t.vm, 0), FX_EINVAL);
    bi_expect(fx_log_set_level(t.vm, 9), FX_EINVAL);
    bi_expect(fx_log_set_level(t.vm, -2), FX_EINVAL);
    bi_expect(fx_log_get_level(t.vm), FX_LOG_NOTICE);
    bi_end(&t);
}

Test(bi_log, get_level_null, .description = "fx_log_get_level | vm NULL | FX_EINVAL")
{
    bi_expect(fx_log_get_level(NULL), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_log, enabled_bad,
     .description = "fx_log_enabled | vm NULL; level 0, 9, FX_LOG_OFF | FX_EINVAL; 0")
{
    tvm t = bi_start();
    bi_expect(fx_log_enabled(NULL, FX_LOG_ERROR), FX_EINVAL);
    bi_expect(fx_log_enabled(t.vm, 0), 0);
    bi_expect(fx_log_enabled(t.vm, 9), 0);
    bi_expect(fx_log_enabled(t.vm, FX_LOG_OFF), 0);
    bi_end(&t);
}

Test(bi_log, stats_null,
     .description = "fx_log_stats_get | vm NULL; out NULL | FX_EINVAL")
{
    tvm t = bi_start();
    fx_log_stats st;
    bi_expect(fx_log_stats_get(NULL, &st), FX_EINVAL);
    bi_expect(fx_log_stats_get(t.vm, NULL), FX_EINVAL);
    bi_end(&t);
}

Test(bi_log, format_null,
     .description =
         "fx_log_format | ev NULL; buf NULL with size 0 | FX_EINVAL; the length")
{
    tvm t = bi_start();
    bi_expect(fx_log_format(NULL, NULL, 0), FX_EINVAL);
    fx_log_event ev = {.level = 99, .text = NULL};
    /* Unknown level, no text, no label: "?", nothing, "-". */
    char buf[64];
    int n = fx_log_format(&ev, buf, sizeof buf);
    cr_assert_str_eq(buf, "1970-01-01T00:00:00.000Z ? - - ");
    bi_expect(fx_log_format(&ev, NULL, 0), n);
    bi_end(&t);
}

Test(bi_log, level_name_bad,
     .description = "fx_log_level_name | 0, 9, -1, INT_MAX | \"?\"")
{
    cr_assert_str_eq(fx_log_level_name(0), "?");
    cr_assert_str_eq(fx_log_level_name(9), "?");
    cr_assert_str_eq(fx_log_level_name(-1), "?");
    cr_assert_str_eq(fx_log_level_name(INT_MAX), "?");
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_log, sinks_null, .description = "fx_log_sink_stderr, _silent | ev NULL | ignored")
{
    fx_log_sink_stderr(NULL, NULL);
    fx_log_sink_silent(NULL, NULL);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_log, report_emit_bad,
     .description = "fx_report_emit | vm NULL; report NULL; kind -1, 8 | FX_EINVAL")
{
    tvm t = bi_start();
    fx_crash_report r = {.pid = t.me, .kind = FX_REPORT_SUP_PROGRESS};
    bi_expect(fx_report_emit(NULL, &r), FX_EINVAL);
    bi_expect(fx_report_emit(t.vm, NULL), FX_EINVAL);
    r.kind = (fx_report_kind) -1;
    bi_expect(fx_report_emit(t.vm, &r), FX_EINVAL);
    r.kind = (fx_report_kind) 8;
    bi_expect(fx_report_emit(t.vm, &r), FX_EINVAL);
    bi_end(&t);
}

Test(bi_log, report_emit_null_fields,
     .description = "fx_report_emit | NULL label, child_id and handler; stale pids | "
                    "1 (reported)")
{
    tvm t = bi_start();
    bi_expect(fx_log_set_level(t.vm, FX_LOG_DEBUG), FX_LOG_NOTICE);
    for (int k = FX_REPORT_CRASH; k <= FX_REPORT_SUP_SHUTDOWN_ERROR; k++) {
        fx_crash_report r = {.pid = BI_GARBAGE_PID,
                             .kind = (fx_report_kind) k,
                             .child_pid = BI_GARBAGE_PID};
        bi_expect(fx_report_emit(t.vm, &r), 1);
    }
    bi_end(&t);
}

Test(bi_log, report_emit_after_shutdown,
     .description = "fx_report_emit | after shutdown | FX_ESHUTDOWN")
{
    fx_vm *vm = bi_dead_vm(NULL);
    fx_crash_report r = {.kind = FX_REPORT_SUP_PROGRESS};
    bi_expect(fx_report_emit(vm, &r), FX_ESHUTDOWN);
    fx_vm_destroy(vm);
    tvm t = bi_start();
    bi_end(&t);
}

Test(bi_log, config_bad,
     .description = "fx_vm_create | log_level 9 or -2; log_burst 1,000,001 | FX_EINVAL")
{
    fx_vm *vm = (fx_vm *) 1;
    fx_vm_config c = bi_config();
    c.log_level = 9;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    cr_assert_null(vm);
    c.log_level = -2;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    c = bi_config();
    c.log_burst = 1000001;
    bi_expect(fx_vm_create(&c, &vm), FX_EINVAL);
    tvm t = bi_start();
    bi_end(&t);
}
