/* Bad-input table: supervisor.h, the calls by name and fx_sup_spec.name.
 * One Test per row; .description is "function | bad input | result". */
#include "badinput.h"

static char sn_long[FX_NAME_MAX + 1];

/* Every named call with the given inbox and name; each answer must be
 * want. */
static void sn_all(fx_inbox *in, const char *name, int want)
{
    fx_child_spec c = {
        .id = "x", .start = fx_child_actor, .carg = &(fx_spawn_opts){.handler = bi_echo}};
    fx_child_info info;
    fx_child_counts n;
    fx_pid p;
    bi_expect(fx_sup_start_child_named(in, name, &c, 1000, &p, NULL), want);
    bi_expect(fx_sup_start_child_args_named(in, name, NULL, 0, 1000, &p, NULL), want);
    bi_expect(fx_sup_terminate_child_named(in, name, "x", 1000), want);
    bi_expect(fx_sup_terminate_pid_named(in, name, BI_GARBAGE_PID, 1000), want);
    bi_expect(fx_sup_restart_child_named(in, name, "x", 1000, &p, NULL), want);
    bi_expect(fx_sup_delete_child_named(in, name, "x", 1000), want);
    bi_expect(fx_sup_which_children_named(in, name, &info, 1, 1000), want);
    bi_expect(fx_sup_count_children_named(in, name, &n, 1000), want);
}

Test(bi_supname, bad_names,
     .description = "fx_sup_start_child_named, fx_sup_start_child_args_named, "
                    "fx_sup_terminate_child_named, fx_sup_terminate_pid_named, "
                    "fx_sup_restart_child_named, "
                    "fx_sup_delete_child_named, fx_sup_which_children_named, "
                    "fx_sup_count_children_named | "
                    "inbox NULL; name NULL, \"\", FX_NAME_MAX bytes | FX_EINVAL")
{
    tvm t = bi_start();
    memset(sn_long, 'n', FX_NAME_MAX);
    sn_all(NULL, "x", FX_EINVAL);
    sn_all(t.in, NULL, FX_EINVAL);
    sn_all(t.in, "", FX_EINVAL);
    sn_all(t.in, sn_long, FX_EINVAL);
    bi_end(&t);
}

Test(bi_supname, nobody,
     .description = "fx_sup_start_child_named, fx_sup_start_child_args_named, "
                    "fx_sup_terminate_child_named, fx_sup_terminate_pid_named, "
                    "fx_sup_restart_child_named, "
                    "fx_sup_delete_child_named, fx_sup_which_children_named, "
                    "fx_sup_count_children_named | "
                    "a name nobody holds | FX_ENOPROC")
{
    tvm t = bi_start();
    sn_all(t.in, "nobody", FX_ENOPROC);
    bi_end(&t);
}

Test(bi_supname, spec_name,
     .description = "fx_sup_start | spec.name \"\" or FX_NAME_MAX bytes | "
                    "FX_EINVAL")
{
    tvm t = bi_start();
    memset(sn_long, 'n', FX_NAME_MAX);
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.name = "";
    fx_pid p;
    bi_expect(fx_sup_start(t.in, &s, &p, NULL), FX_EINVAL);
    s.name = sn_long;
    bi_expect(fx_sup_start(t.in, &s, &p, NULL), FX_EINVAL);
    bi_end(&t);
}
