/* Node names (docs/distribution.md, "Names"): short names against
 * `erl -sname` on this machine's host name, long names over IPv6 against
 * `erl -name e@::1 -proto_dist inet6_tcp`, short and long names refusing
 * each other as Erlang's do, and a host that does not resolve. Real
 * nodes on loopback: a private epmd and erl children stopped by pid. */
#include <criterion/criterion.h>
#include <fauxtp/dist.h>
#include <fauxtp/registry.h>
#include <netdb.h>
#include <string.h>

#include "dist_helpers.h"

TestSuite(dist_names, .fini = kill_kids, .timeout = 120);

/* A private epmd on the given addresses ("127.0.0.1,::1"). */
static void start_epmd_on(const char *addrs)
{
    atexit(kill_kids);
    snprintf(home, sizeof home, "/tmp/fxdist.XXXXXX");
    cr_assert_not_null(mkdtemp(home));
    snprintf(epmd_port, sizeof epmd_port, "%u", (unsigned) free_port());
    char *argv[] = {"/usr/bin/epmd", "-port",        epmd_port,
                    "-address",      (char *) addrs, NULL};
    spawn_argv(argv);
}

/* This machine's short host name and the IPv4 address it resolves to;
 * the test is skipped when that is not a loopback address (the test
 * must stay on loopback). */
static void short_host(char *host, size_t hcap, char *ip, size_t icap)
{
    cr_assert_eq(gethostname(host, hcap), 0);
    host[hcap - 1] = '\0';
    host[strcspn(host, ".")] = '\0';
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        cr_skip_test("the short host name %s does not resolve here", host);
    struct sockaddr_in *a = (struct sockaddr_in *) res->ai_addr;
    bool loop = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    inet_ntop(AF_INET, &a->sin_addr, ip, (socklen_t) icap);
    freeaddrinfo(res);
    if (!loop)
        cr_skip_test("the short host name %s resolves to %s, not a loopback address: "
                     "this test talks on loopback only",
                     host, ip);
}

static tvm names_vm(const char *name, fx_dist_names names, bool inet6, const char *listen)
{
    tvm t = tvm_start(2);
    fx_dist_opts o = {.name = name,
                      .cookie = COOKIE,
                      .listen_ip = listen,
                      .epmd_port = (uint16_t) atoi(epmd_port),
                      .setup_ms = 3000,
                      .names = names,
                      .inet6 = inet6};
    int rc = FX_ECONNECT;
    for (int i = 0; i < 100 && rc == FX_ECONNECT; i++) {
        rc = fx_dist_start(t.vm, &o);
        if (rc == FX_ECONNECT)
            usleep(50000);
    }
    if (rc == FX_ENOTDIST) {
        tvm_stop(&t);
        cr_skip_test("built without distribution (-Ddist)");
    }
    cr_assert_eq(rc, 0, "fx_dist_start(%s): %s", name, fx_strerror(rc));
    return t;
}

/* The Erlang side of a round trip both ways: it registers erlrecv, waits
 * for {7, <<"from fx">>} (fauxtp reaches it by {Name, Node}), then sends
 * {42, <<"hi">>} to {echo, Fx} and waits for the echo's {43, <<"hi">>}. */
static void script(char *buf, size_t cap, const char *fx)
{
    snprintf(buf, cap,
             "register(erlrecv, self()), Fx = '%s',"
             "receive {7, <<\"from fx\">>} -> ok after 30000 -> halt(3) end,"
             "{echo, Fx} ! {42, <<\"hi\">>},"
             "receive {43, <<\"hi\">>} -> halt(0) after 10000 -> halt(4) end.",
             fx);
}

/* Sends to {erlrecv, node} every 100 ms (the erl may not have registered
 * it yet: earlier sends are lost) until the erl exits; its status. */
static int send_until_exit(tvm *t, const char *node, pid_t e)
{
    for (int i = 0; i < 400; i++) {
        int rc = fx_dist_vm_send_named(t->vm, node, "erlrecv", 7, "from fx", 7);
        cr_assert(rc == 0 || rc == FX_EAGAIN, "send: %s", fx_strerror(rc));
        int st;
        if (waitpid(e, &st, WNOHANG) == e) {
            for (int k = 0; k < nkids; k++)
                if (kids[k] == e)
                    kids[k] = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(100000);
    }
    return -1;
}

Test(dist_names, short_names_talk_to_erl_sname_both_ways)
{
    skip_unless_ready();
    char host[256], ip[64], addrs[96], fx[300], enode[300], iface[64], s[600];
    short_host(host, sizeof host, ip, sizeof ip);
    snprintf(addrs, sizeof addrs, strcmp(ip, "127.0.0.1") ? "127.0.0.1,%s" : "%s", ip);
    start_epmd_on(addrs);
    /* no host part: short names take this machine's host name */
    tvm t = names_vm("fx", FX_DIST_SHORTNAMES, false, ip);
    cr_assert_gt(fx_dist_node_name(t.vm, fx, sizeof fx), 0);
    snprintf(enode, sizeof enode, "fx@%s", host);
    cr_assert_str_eq(fx, enode);
    start_echo(&t);
    snprintf(enode, sizeof enode, "e@%s", host);
    unsigned a, b, c, d;
    cr_assert_eq(sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
    snprintf(iface, sizeof iface, "{%u,%u,%u,%u}", a, b, c, d);
    script(s, sizeof s, fx);
    char *argv[] = {"/usr/bin/erl",
                    "-sname",
                    "e",
                    "-setcookie",
                    COOKIE,
                    "-kernel",
                    "inet_dist_use_interface",
                    iface,
                    "-noshell",
                    "-eval",
                    s,
                    NULL};
    pid_t e = spawn_argv(argv);
    cr_assert_eq(send_until_exit(&t, enode, e), 0,
                 "the erl -sname side failed (3: nothing from fauxtp, 4: no echo)");
    cr_assert_eq(fx_dist_stop(t.vm), 0);
    tvm_stop(&t);
}

Test(dist_names, long_names_over_ipv6_talk_to_erl_inet6_both_ways)
{
    skip_unless_ready();
    int sk = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 la = {.sin6_family = AF_INET6,
                              .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool v6 = sk >= 0 && bind(sk, (struct sockaddr *) &la, sizeof la) == 0;
    if (sk >= 0)
        close(sk);
    if (!v6)
        cr_skip_test("no IPv6 loopback (::1) here");
    start_epmd_on("127.0.0.1,::1");
    tvm t = names_vm("fx@::1", FX_DIST_NAMES_AUTO, true, "::1");
    start_echo(&t);
    char s[600];
    script(s, sizeof s, "fx@::1");
    char *argv[] = {"/usr/bin/erl",
                    "-name",
                    "e@::1",
                    "-proto_dist",
                    "inet6_tcp",
                    "-setcookie",
                    COOKIE,
                    "-kernel",
                    "inet_dist_use_interface",
                    "{0,0,0,0,0,0,0,1}",
                    "-noshell",
                    "-eval",
                    s,
                    NULL};
    pid_t e = spawn_argv(argv);
    cr_assert_eq(send_until_exit(&t, "e@::1", e), 0,
                 "the erl inet6 side failed (3: nothing from fauxtp, 4: no echo)");
    cr_assert_eq(fx_dist_stop(t.vm), 0);
    tvm_stop(&t);
}

/* Erlang's splitnode: a node with short names refuses hosts with a dot,
 * one with long names hosts without (unless an IP address). */
Test(dist_names, short_and_long_names_refuse_each_other)
{
    skip_unless_ready();
    start_epmd();
    tvm sh = names_vm("s@localhost", FX_DIST_NAMES_AUTO, false, "127.0.0.1");
    tvm lg = names_vm("l@127.0.0.1", FX_DIST_NAMES_AUTO, false, "127.0.0.1");
    cr_assert_eq(fx_dist_connect(sh.vm, "l@127.0.0.1", 5000), FX_EINVAL);
    cr_assert_eq(fx_dist_connect(sh.vm, "x@a.example.org", 5000), FX_EINVAL);
    cr_assert_eq(fx_dist_connect(lg.vm, "s@localhost", 5000), FX_EINVAL);
    cr_assert_eq(fx_dist_connect(lg.vm, "x@myhost", 5000), FX_EINVAL);
    /* a send to such a node is dropped, as in Erlang, and nothing hangs */
    fx_dist_vm_send_named(sh.vm, "l@127.0.0.1", "echo", 1, "x", 1);
    tvm_stop(&lg);
    tvm_stop(&sh);
}

Test(dist_names, a_host_that_does_not_resolve_is_a_clear_error)
{
    skip_unless_ready();
    start_epmd();
    tvm lg = names_vm("l@127.0.0.1", FX_DIST_NAMES_AUTO, false, "127.0.0.1");
    tvm sh = names_vm("s@localhost", FX_DIST_NAMES_AUTO, false, "127.0.0.1");
    /* .invalid never resolves (RFC 6761); a resolver that does not answer
     * in setup_ms (3 s) gives FX_ETIMEDOUT instead: bounded either way */
    int rc = fx_dist_connect(lg.vm, "x@no-such-host.invalid", 20000);
    cr_assert(rc == FX_EADDR || rc == FX_ETIMEDOUT, "%s", fx_strerror(rc));
    rc = fx_dist_connect(sh.vm, "x@no-such-host-fx6", 20000);
    cr_assert(rc == FX_EADDR || rc == FX_ETIMEDOUT, "%s", fx_strerror(rc));
    /* the nodes still work: they reach each other's kind */
    tvm l2 = names_vm("l2@127.0.0.1", FX_DIST_NAMES_AUTO, false, "127.0.0.1");
    cr_assert_eq(fx_dist_connect(lg.vm, "l2@127.0.0.1", 5000), 0);
    tvm_stop(&l2);
    tvm_stop(&sh);
    tvm_stop(&lg);
}
