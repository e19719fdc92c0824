/* An echo server and its clients in one program (docs/net.md).
 *
 * The server: an acceptor process owns the listening socket and hands
 * each connection to a process of its own, which echoes what it reads
 * with {active, once} flow control. The clients: processes that connect,
 * send a line, and print what comes back. Prints one line per client, in
 * client order, then "done". */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <string.h>

/* ---- the server ----------------------------------------------------------- */

enum { LISTEN = 1, GO, PORT, ANSWER };

static fx_next connection(fx_ctx *cx, fx_msg *m)
{
    fx_sock *s = fx_state(cx);
    switch (fx_msg_type(m)) {
    case GO: /* we own the socket: one message of credit */
        fx_net_active(cx, *s, 1);
        return fx_continue(cx);
    case FX_NET_DATA: /* echo the message itself: no copy */
        if (fx_net_send_msg(cx, *s, m) != 0)
            return fx_stop(cx, fx_reason_normal());
        fx_net_active(cx, *s, 1);
        return fx_continue(cx);
    case FX_NET_CLOSED: /* the peer is done */
        fx_net_close(cx, *s);
        return fx_stop(cx, fx_reason_normal());
    case FX_NET_ERROR: /* reset: the socket is closed already */
        return fx_stop(cx, fx_reason_normal());
    default:
        return fx_continue(cx);
    }
}

static fx_next acceptor(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == LISTEN) {
        fx_pid reply_to = fx_msg_from(m);
        fx_net_addr addr;
        fx_sock ls;
        fx_net_addr_ip("127.0.0.1", 0, &addr); /* any free port */
        if (fx_net_listen(cx, &addr, NULL, &ls) != 0)
            return fx_stop(cx, fx_reason_error(FX_EADDR, "listen"));
        fx_net_sockname(cx, ls, &addr);
        uint16_t port = fx_net_addr_port(&addr);
        fx_send(cx, reply_to, PORT, &port, sizeof port);
        fx_net_accept(cx, ls, UINT32_MAX); /* every connection that comes */
    } else if (fx_msg_type(m) == FX_NET_ACCEPTED) {
        fx_sock s;
        memcpy(&s, fx_msg_data(m), sizeof s);
        fx_spawn_opts o = {
            .handler = connection, .state_size = sizeof s, .state_init = &s};
        fx_pid p;
        if (fx_spawn_opt(cx, &o, &p) != 0 || fx_net_controlling_process(cx, s, p) != 0)
            fx_net_close(cx, s);
        else
            fx_send(cx, p, GO, NULL, 0);
    }
    return fx_continue(cx);
}

/* ---- the clients ------------------------------------------------------------- */

typedef struct client {
    fx_net_addr addr;
    fx_pid report;
    int id;
    fx_sock s;
    char line[64];
    size_t len, got;
} client;

static fx_next client_loop(fx_ctx *cx, fx_msg *m)
{
    client *c = fx_state(cx);
    switch (fx_msg_type(m)) {
    case GO:
        fx_net_connect(cx, &c->addr, NULL, 5000, &c->s);
        break;
    case FX_NET_CONNECTED:
        c->len =
            (size_t) snprintf(c->line, sizeof c->line, "hello from client %d", c->id);
        fx_net_send(cx, c->s, c->line, c->len);
        fx_net_active(cx, c->s, 1);
        break;
    case FX_NET_DATA: { /* the echo may come in pieces */
        const char *d = fx_msg_data(m);
        if (c->got + fx_msg_size(m) > c->len ||
            memcmp(c->line + c->got, d, fx_msg_size(m)))
            return fx_stop(cx, fx_reason_error(FX_EINVAL, "bad echo"));
        c->got += fx_msg_size(m);
        if (c->got < c->len) {
            fx_net_active(cx, c->s, 1);
            break;
        }
        fx_send(cx, c->report, ANSWER, c, sizeof *c);
        fx_net_close(cx, c->s);
        return fx_stop(cx, fx_reason_normal());
    }
    case FX_NET_ERROR:
    case FX_NET_CLOSED:
        return fx_stop(cx, fx_reason_error(FX_ECONNECT, "connection lost"));
    default:
        break;
    }
    return fx_continue(cx);
}

int main(void)
{
    enum { CLIENTS = 3 };
    fx_vm *vm;
    fx_inbox *in;
    fx_pid acc;
    fx_msg *m;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in) ||
        fx_vm_spawn(vm, acceptor, NULL, &acc) ||
        fx_inbox_send(in, acc, LISTEN, NULL, 0) || fx_inbox_recv(in, NULL, 5000, &m) ||
        fx_msg_type(m) != PORT)
        return 1;
    uint16_t port;
    memcpy(&port, fx_msg_data(m), sizeof port);
    fx_msg_free(m);

    char lines[CLIENTS][64];
    for (int i = 0; i < CLIENTS; i++) {
        client c = {.report = fx_inbox_pid(in), .id = i};
        fx_net_addr_ip("127.0.0.1", port, &c.addr);
        fx_spawn_opts o = {
            .handler = client_loop, .state_size = sizeof c, .state_init = &c};
        fx_pid p;
        if (fx_vm_spawn_opt(vm, &o, &p) || fx_inbox_send(in, p, GO, NULL, 0))
            return 1;
    }
    for (int i = 0; i < CLIENTS; i++) {
        if (fx_inbox_recv(in, NULL, 5000, &m) != 0 || fx_msg_type(m) != ANSWER)
            return 1;
        const client *c = fx_msg_data(m);
        snprintf(lines[c->id], sizeof lines[c->id], "%.*s", (int) c->len, c->line);
        fx_msg_free(m);
    }
    for (int i = 0; i < CLIENTS; i++)
        printf("echoed: %s\n", lines[i]);
    printf("done\n");
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    return 0;
}
