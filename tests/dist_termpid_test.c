/* Pids in terms (term.h's fx_term_put_pid / fx_term_get_pid) on a running
 * node: local and remote pids round-trip through NEW_PID_EXT, and an
 * Erlang process and a fauxtp process reach each other through pids
 * carried inside terms. Real epmd and erl on loopback (dist_helpers.h). */
#include <fauxtp/term.h>

#include "dist_helpers.h"

/* NEW_PID_EXT (no version byte) of <id.serial> on node with creation. */
static size_t pid_ext(uint8_t *out, const char *node, uint32_t id, uint32_t serial,
                      uint32_t creation)
{
    size_t len = strlen(node), k = 0;
    out[k++] = 88;
    out[k++] = 119;
    out[k++] = (uint8_t) len;
    memcpy(out + k, node, len);
    k += len;
    uint32_t v[3] = {id, serial, creation};
    for (int i = 0; i < 3; i++) {
        out[k++] = (uint8_t) (v[i] >> 24);
        out[k++] = (uint8_t) (v[i] >> 16);
        out[k++] = (uint8_t) (v[i] >> 8);
        out[k++] = (uint8_t) v[i];
    }
    return k;
}

/* Encodes pid alone; *bytes and *n borrow b's term without its version byte. */
static int put_one(fx_term_builder *b, fx_vm *vm, fx_pid pid, const uint8_t **bytes,
                   size_t *n)
{
    cr_assert_eq(fx_term_builder_init(b), 0);
    int rc = fx_term_put_pid(b, vm, pid);
    if (rc == 0) {
        const void *d;
        cr_assert_eq(fx_term_builder_data(b, &d, n), 0);
        *bytes = (const uint8_t *) d + 1;
        *n -= 1;
    }
    return rc;
}

static fx_pid get_one(fx_vm *vm, const uint8_t *ext, size_t n)
{
    uint8_t buf[300];
    buf[0] = 131;
    memcpy(buf + 1, ext, n);
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, buf, n + 1), 0);
    fx_pid p = FX_PID_NONE;
    cr_assert_eq(fx_term_get_pid(&r, vm, &p), 0);
    cr_assert(fx_term_at_end(&r));
    return p;
}

TestSuite(dist_termpid, .fini = kill_kids, .timeout = 120);

Test(dist_termpid, local_and_remote_pids_round_trip)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    fx_term_builder b;
    const uint8_t *bytes;
    size_t n;

    /* A local pid: this node's name, and back to the same pid. */
    cr_assert_eq(put_one(&b, t.vm, t.me, &bytes, &n), 0);
    cr_assert_eq(bytes[0], 88);
    cr_assert_eq(bytes[2], strlen(FXNODE));
    cr_assert_eq(memcmp(bytes + 3, FXNODE, strlen(FXNODE)), 0);
    fx_pid back = get_one(t.vm, bytes, n);
    cr_assert_eq(back.id, t.me.id);
    fx_term_builder_fini(&b);

    /* A pid of another node: a remote pid naming that node, which encodes
     * to the same bytes and reads back as the same pid (interned). */
    uint8_t ext[300];
    size_t en = pid_ext(ext, "x@127.0.0.1", 77, 3, 9);
    fx_pid rp = get_one(t.vm, ext, en);
    char node[256];
    cr_assert_gt(fx_dist_pid_node(t.vm, rp, node, sizeof node), 0);
    cr_assert_str_eq(node, "x@127.0.0.1");
    cr_assert_eq(put_one(&b, t.vm, rp, &bytes, &n), 0);
    cr_assert_eq(n, en);
    cr_assert_eq(memcmp(bytes, ext, en), 0);
    cr_assert_eq(get_one(t.vm, ext, en).id, rp.id);
    fx_term_builder_fini(&b);

    /* This node's name with another creation: a local pid that is dead. */
    en = pid_ext(ext, FXNODE, (uint32_t) (t.me.id & 0xFFFFFF), 1, 123456);
    fx_pid old = get_one(t.vm, ext, en);
    cr_assert_eq(fx_dist_pid_node(t.vm, old, node, sizeof node), 0);
    cr_assert_neq(old.id, t.me.id);
    cr_assert_eq(fx_is_alive(t.vm, old), 0);

    /* A pid of another VM that is not a node: no Erlang form here. */
    tvm other = tvm_start(1);
    cr_assert_eq(put_one(&b, t.vm, other.me, &bytes, &n), FX_ENOENT);
    fx_term_builder_fini(&b);
    tvm_stop(&other);

    /* After the node stops, neither direction works. */
    cr_assert_eq(fx_dist_stop(t.vm), 0);
    cr_assert_eq(put_one(&b, t.vm, t.me, &bytes, &n), FX_ENOTDIST);
    fx_term_builder_fini(&b);
    uint8_t buf[300] = {131};
    memcpy(buf + 1, ext, en);
    fx_term_reader r;
    cr_assert_eq(fx_term_reader_init(&r, buf, en + 1), 0);
    fx_pid p;
    cr_assert_eq(fx_term_get_pid(&r, t.vm, &p), FX_ENOTDIST);
    tvm_stop(&t);
}

/* {ping, Pid} -> sends {pong, self()} to Pid (the pid read from the term,
 * not the sender); a plain message {T, B} -> {T + 1, B} to its sender. */
static fx_next pid_echo(fx_ctx *cx, fx_msg *m)
{
    uint32_t type = fx_msg_type(m);
    if (type < FX_MSG_SYSTEM_BASE) {
        fx_send(cx, fx_msg_from(m), type + 1, fx_msg_data(m), fx_msg_size(m));
        return fx_continue(cx);
    }
    fx_term_reader r;
    fx_pid to;
    if (fx_term_reader_init_msg(&r, m) != 0 || fx_term_match(&r, "ping", 2) != 1 ||
        fx_term_get_pid(&r, fx_ctx_vm(cx), &to) != 0)
        return fx_continue(cx);
    fx_term_builder b;
    fx_msg *out = NULL;
    if (fx_term_builder_init(&b) == 0 && fx_term_put_tuple(&b, 2) == 0 &&
        fx_term_put_atomz(&b, "pong") == 0 &&
        fx_term_put_pid(&b, fx_ctx_vm(cx), fx_self(cx)) == 0 &&
        fx_term_builder_msg(&b, &out) == 0 && fx_send_msg(cx, to, out) != 0)
        fx_msg_free(out);
    fx_term_builder_fini(&b);
    return fx_continue(cx);
}

Test(dist_termpid, erlang_and_fauxtp_reach_each_other_through_pids_in_terms)
{
    skip_unless_ready();
    start_epmd();
    tvm t = node_vm(FXNODE);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, pid_echo, NULL, &p), 0);
    cr_assert_eq(fx_register(t.in, "pidecho", p, NULL), 0);
    pid_t e =
        start_erl("e1@127.0.0.1", COOKIE,
                  "Fx = 'fx@127.0.0.1',"
                  "true = net_kernel:connect_node(Fx),"
                  "{pidecho, Fx} ! {ping, self()},"
                  "P = receive {pong, X} when is_pid(X) -> X after 10000 -> halt(3) end,"
                  "Fx = node(P),"
                  "P ! {7, <<\"by pid\">>},"
                  "receive {8, <<\"by pid\">>} -> ok after 10000 -> halt(4) end,"
                  "halt(0).");
    cr_assert_eq(erl_status(e), 0,
                 "the Erlang side failed (3: no pong with a pid, 4: no reply by pid; "
                 "a badmatch: the pid's node)");
    tvm_stop(&t);
}
