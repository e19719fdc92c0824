/* Bad-input table: dist.h. One Test per row; .description is
 * "function | bad input | result". Every row holds with and without the
 * distribution feature (a VM that never became a node). */
#include "badinput.h"

#include <string.h>

/* --- dist.h -------------------------------------------------------------- */

Test(bi_dist, start_null,
     .description = "fx_dist_start | NULL vm, NULL opts or NULL opts->name | FX_EINVAL")
{
    tvm t = bi_start();
    fx_dist_opts o = {0};
    cr_assert_eq(fx_dist_start(NULL, &o), FX_EINVAL);
    cr_assert_eq(fx_dist_start(t.vm, NULL), FX_EINVAL);
    cr_assert_eq(fx_dist_start(t.vm, &o), FX_EINVAL);
    bi_end(&t);
}

Test(bi_dist, start_bad_name,
     .description = "fx_dist_start | a name with two '@', with a bad character, an "
                    "empty alive or host part, a host with a dot under short names, a "
                    "names value out of range, an empty cookie | FX_EINVAL "
                    "(FX_ENOTDIST when built without distribution)")
{
    tvm t = bi_start();
    const char *names[] = {"a@b@c", "a b@127.0.0.1", "@127.0.0.1", "a@", "a b"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        fx_dist_opts o = {.name = names[i], .cookie = "c", .epmd_port = 1};
        int rc = fx_dist_start(t.vm, &o);
        cr_assert(rc == FX_EINVAL || rc == FX_ENOTDIST, "%s: %d", names[i], rc);
    }
    fx_dist_opts sn = {.name = "a@b.example.org",
                       .cookie = "c",
                       .epmd_port = 1,
                       .names = FX_DIST_SHORTNAMES};
    int r = fx_dist_start(t.vm, &sn);
    cr_assert(r == FX_EINVAL || r == FX_ENOTDIST, "%d", r);
    sn.name = "a@127.0.0.1";
    sn.names = (fx_dist_names) 7;
    r = fx_dist_start(t.vm, &sn);
    cr_assert(r == FX_EINVAL || r == FX_ENOTDIST, "%d", r);
    fx_dist_opts o = {.name = "a@127.0.0.1", .cookie = "", .epmd_port = 1};
    int rc = fx_dist_start(t.vm, &o);
    cr_assert(rc == FX_EINVAL || rc == FX_ENOTDIST);
    bi_end(&t);
}

Test(bi_dist, stop,
     .description = "fx_dist_stop | NULL vm; a VM that is not a node | "
                    "FX_EINVAL; FX_ENOTDIST")
{
    tvm t = bi_start();
    cr_assert_eq(fx_dist_stop(NULL), FX_EINVAL);
    cr_assert_eq(fx_dist_stop(t.vm), FX_ENOTDIST);
    bi_end(&t);
}

Test(bi_dist, node_name,
     .description =
         "fx_dist_node_name | NULL vm or buf, cap 0; a VM that is not a node | "
         "FX_EINVAL; FX_ENOTDIST")
{
    tvm t = bi_start();
    char b[64];
    cr_assert_eq(fx_dist_node_name(NULL, b, sizeof b), FX_EINVAL);
    cr_assert_eq(fx_dist_node_name(t.vm, NULL, sizeof b), FX_EINVAL);
    cr_assert_eq(fx_dist_node_name(t.vm, b, 0), FX_EINVAL);
    cr_assert_eq(fx_dist_node_name(t.vm, b, sizeof b), FX_ENOTDIST);
    bi_end(&t);
}

Test(bi_dist, pid_node,
     .description =
         "fx_dist_pid_node | NULL vm or buf, cap 0; a local pid of a VM that is "
         "not a node; a garbage pid | FX_EINVAL; 0 and an empty name; FX_ENOENT")
{
    tvm t = bi_start();
    char b[64] = "x";
    cr_assert_eq(fx_dist_pid_node(NULL, t.me, b, sizeof b), FX_EINVAL);
    cr_assert_eq(fx_dist_pid_node(t.vm, t.me, NULL, sizeof b), FX_EINVAL);
    cr_assert_eq(fx_dist_pid_node(t.vm, t.me, b, 0), FX_EINVAL);
    cr_assert_eq(fx_dist_pid_node(t.vm, t.me, b, sizeof b), 0);
    cr_assert_str_eq(b, "");
    int rc = fx_dist_pid_node(t.vm, BI_GARBAGE_PID, b, sizeof b);
    cr_assert_eq(rc, FX_ENOENT);
    bi_end(&t);
}

Test(bi_dist, connect,
     .description = "fx_dist_connect | NULL vm or node; a VM that is not a node | "
                    "FX_EINVAL; FX_ENOTDIST")
{
    tvm t = bi_start();
    cr_assert_eq(fx_dist_connect(NULL, "a@127.0.0.1", 10), FX_EINVAL);
    cr_assert_eq(fx_dist_connect(t.vm, NULL, 10), FX_EINVAL);
    cr_assert_eq(fx_dist_connect(t.vm, "a@127.0.0.1", 10), FX_ENOTDIST);
    bi_end(&t);
}

Test(bi_dist, send_named,
     .description =
         "fx_dist_send_named, fx_dist_vm_send_named | NULL ctx or vm, NULL node "
         "or name; a VM that is not a node | FX_EINVAL; FX_ENOTDIST")
{
    tvm t = bi_start();
    cr_assert_eq(fx_dist_send_named(NULL, "a@127.0.0.1", "x", 1, "a", 1), FX_EINVAL);
    cr_assert_eq(fx_dist_vm_send_named(NULL, "a@127.0.0.1", "x", 1, "a", 1), FX_EINVAL);
    int rc = fx_dist_vm_send_named(t.vm, NULL, "x", 1, "a", 1);
    cr_assert(rc == FX_EINVAL || rc == FX_ENOTDIST);
    cr_assert_eq(fx_dist_vm_send_named(t.vm, "a@127.0.0.1", "x", 1, "a", 1), FX_ENOTDIST);
    bi_end(&t);
}

Test(
    bi_dist, remote_calls,
    .description =
        "fx_gs_call_remote, fx_gs_cast_remote, fx_vm_gs_cast_remote | NULL inbox, reply, "
        "ctx or vm, NULL node or "
        "name, an empty name, data NULL with size > 0; a VM that is not a node | "
        "FX_EINVAL; FX_ENOTDIST")
{
    tvm t = bi_start();
    fx_msg *r = (fx_msg *) 1;
    cr_assert_eq(fx_gs_call_remote(NULL, "a@127.0.0.1", "x", 1, NULL, 0, 10, &r, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_gs_call_remote(t.in, "a@127.0.0.1", "x", 1, NULL, 0, 10, NULL, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_gs_call_remote(t.in, NULL, "x", 1, NULL, 0, 10, &r, NULL), FX_EINVAL);
    cr_assert_null(r);
    cr_assert_eq(fx_gs_call_remote(t.in, "a@127.0.0.1", NULL, 1, NULL, 0, 10, &r, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_gs_call_remote(t.in, "a@127.0.0.1", "", 1, NULL, 0, 10, &r, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_gs_call_remote(t.in, "a@127.0.0.1", "x", 1, NULL, 4, 10, &r, NULL),
                 FX_EINVAL);
    cr_assert_eq(fx_gs_call_remote(t.in, "a@127.0.0.1", "x", 1, "a", 1, 10, &r, NULL),
                 FX_ENOTDIST);
    cr_assert_eq(fx_gs_cast_remote(NULL, "a@127.0.0.1", "x", 1, "a", 1), FX_EINVAL);
    cr_assert_eq(fx_vm_gs_cast_remote(NULL, "a@127.0.0.1", "x", 1, "a", 1), FX_EINVAL);
    cr_assert_eq(fx_vm_gs_cast_remote(t.vm, "a@127.0.0.1", "", 1, "a", 1), FX_EINVAL);
    cr_assert_eq(fx_vm_gs_cast_remote(t.vm, "a@127.0.0.1", "x", 1, "a", 1), FX_ENOTDIST);
    bi_end(&t);
}

Test(bi_dist, nodes,
     .description = "fx_dist_nodes | NULL vm, NULL out with cap > 0; a VM that is not a "
                    "node | FX_EINVAL; FX_ENOTDIST")
{
    tvm t = bi_start();
    fx_dist_node_info ni[2];
    cr_assert_eq(fx_dist_nodes(NULL, ni, 2), FX_EINVAL);
    cr_assert_eq(fx_dist_nodes(t.vm, NULL, 2), FX_EINVAL);
    cr_assert_eq(fx_dist_nodes(t.vm, ni, 2), FX_ENOTDIST);
    bi_end(&t);
}

Test(bi_dist, monitor_node,
     .description =
         "fx_dist_monitor_node, fx_inbox_monitor_node, fx_dist_monitor_nodes, "
         "fx_inbox_monitor_nodes | NULL ctx or inbox, NULL node; a bad node name; a VM "
         "that is not a node | FX_EINVAL; FX_EINVAL (FX_ENOTDIST when built without "
         "distribution); FX_ENOTDIST")
{
    tvm t = bi_start();
    cr_assert_eq(fx_dist_monitor_node(NULL, "a@127.0.0.1", true), FX_EINVAL);
    cr_assert_eq(fx_inbox_monitor_node(NULL, "a@127.0.0.1", true), FX_EINVAL);
    cr_assert_eq(fx_inbox_monitor_node(t.in, NULL, true), FX_EINVAL);
    cr_assert_eq(fx_dist_monitor_nodes(NULL, true), FX_EINVAL);
    cr_assert_eq(fx_inbox_monitor_nodes(NULL, false), FX_EINVAL);
    int rc = fx_inbox_monitor_node(t.in, "no name", true);
    cr_assert(rc == FX_EINVAL || rc == FX_ENOTDIST);
    cr_assert_eq(fx_inbox_monitor_node(t.in, "a@127.0.0.1", true), FX_ENOTDIST);
    cr_assert_eq(fx_inbox_monitor_nodes(t.in, true), FX_ENOTDIST);
    bi_end(&t);
}

Test(bi_dist, send_nosuspend,
     .description = "fx_dist_send_nosuspend | NULL ctx | FX_EINVAL")
{
    tvm t = bi_start();
    cr_assert_eq(fx_dist_send_nosuspend(NULL, t.me, 1, "a", 1), FX_EINVAL);
    bi_end(&t);
}

Test(bi_dist, pid_name,
     .description = "fx_dist_pid_name | NULL vm or buf, cap 0; a pid that stands for no "
                    "{Name, Node} | FX_EINVAL; FX_ENOENT")
{
    tvm t = bi_start();
    char b[64];
    cr_assert_eq(fx_dist_pid_name(NULL, t.me, b, sizeof b), FX_EINVAL);
    cr_assert_eq(fx_dist_pid_name(t.vm, t.me, NULL, sizeof b), FX_EINVAL);
    cr_assert_eq(fx_dist_pid_name(t.vm, t.me, b, 0), FX_EINVAL);
    cr_assert_eq(fx_dist_pid_name(t.vm, t.me, b, sizeof b), FX_ENOENT);
    cr_assert_eq(fx_dist_pid_name(t.vm, BI_GARBAGE_PID, b, sizeof b), FX_ENOENT);
    bi_end(&t);
}
