/* Wire-level helpers of the distribution tests that need the library's
 * internals (meson defines FXT_DIST_ON for them): a node's port from
 * epmd, the node table's size, handshake messages read by hand. Include
 * after dist_helpers.h and dist/dist.h. */
#ifndef FX_TESTS_DIST_WIRE_H
#define FX_TESTS_DIST_WIRE_H

#include <sys/time.h>

/* The node's listen port, from epmd. */
static inline uint16_t node_port(const char *alive)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t) atoi(epmd_port)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(s, (struct sockaddr *) &a, sizeof a), 0);
    uint8_t b[300];
    size_t n = fxi_epmd_port2_req(b, sizeof b, alive);
    cr_assert_eq(send(s, b, n, 0), (ssize_t) n);
    size_t got = 0;
    uint16_t port = 0;
    for (int i = 0; i < 100; i++) {
        ssize_t r = recv(s, b + got, sizeof b - got, 0);
        if (r <= 0)
            break;
        got += (size_t) r;
        if (fxi_epmd_port2_resp(b, got, &port) != 0)
            break;
    }
    close(s);
    cr_assert_neq(port, 0, "epmd does not know %s", alive);
    return port;
}

static inline uint32_t node_entries(fx_vm *vm)
{
    fxi_dist *d = fxi_dist_get(vm);
    fxi_mutex_lock(&d->mx);
    uint32_t n = d->nnodes;
    fxi_mutex_unlock(&d->mx);
    return n;
}

/* Reads one 2-byte-framed handshake message into b (cap bytes): its
 * length, or -1 when the connection closed first. */
static inline ssize_t hs_read(int s, uint8_t *b, size_t cap)
{
    uint8_t h[2];
    if (recv(s, h, 2, MSG_WAITALL) != 2)
        return -1;
    size_t n = ((size_t) h[0] << 8) | h[1];
    if (n > cap || recv(s, b, n, MSG_WAITALL) != (ssize_t) n)
        return -1;
    return (ssize_t) n;
}

#endif
