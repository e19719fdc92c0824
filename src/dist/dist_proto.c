/* Erlang distribution wire formats (dist_proto.h). References: OTP's
 * erts/doc "Distribution Protocol" (epmd requests, the version 6
 * handshake, pass-through frames) and "External Term Format". */
#include "dist/dist_proto.h"

#include <nettle/md5.h>
#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t) (v >> 32));
    put32(p + 4, (uint32_t) v);
}

static uint32_t get16(const uint8_t *p)
{
    return ((uint32_t) p[0] << 8) | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) |
           p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return ((uint64_t) get32(p) << 32) | get32(p + 4);
}

uint64_t fxi_dist_flags_ours(bool hidden)
{
    uint64_t f = FXI_DFLAG_REQUIRED | FXI_DFLAG_DIST_MONITOR | FXI_DFLAG_FUN_TAGS |
                 FXI_DFLAG_DIST_MONITOR_NAME | FXI_DFLAG_EXPORT_PTR_TAG |
                 FXI_DFLAG_BIT_BINARIES | FXI_DFLAG_NEW_FLOATS |
                 FXI_DFLAG_SMALL_ATOM_TAGS | FXI_DFLAG_MAP_TAG | FXI_DFLAG_SEND_SENDER |
                 FXI_DFLAG_UNLINK_ID | FXI_DFLAG_MANDATORY_25_DIGEST | FXI_DFLAG_V4_NC |
                 FXI_DFLAG_ALIAS;
    return hidden ? f : f | FXI_DFLAG_PUBLISHED;
}

void fxi_dist_digest(uint32_t challenge, const char *cookie, uint8_t out[16])
{
    char num[16];
    int n = snprintf(num, sizeof num, "%u", challenge);
    struct md5_ctx ctx;
    md5_init(&ctx);
    md5_update(&ctx, strlen(cookie), (const uint8_t *) cookie);
    md5_update(&ctx, (size_t) n, (const uint8_t *) num);
    md5_digest(&ctx, 16, out);
}

/* ---- epmd --------------------------------------------------------------- */

size_t fxi_epmd_alive2_req(uint8_t *buf, size_t cap, const char *alive, uint16_t port,
                           bool hidden)
{
    size_t nl = strlen(alive);
    size_t body = 1 + 2 + 1 + 1 + 2 + 2 + 2 + nl + 2;
    if (nl > 255 || cap < 2 + body)
        return 0;
    uint8_t *p = buf;
    put16(p, (uint32_t) body);
    p[2] = 120; /* ALIVE2_REQ */
    put16(p + 3, port);
    p[5] = hidden ? 72 : 77;
    p[6] = 0;        /* TCP/IPv4 */
    put16(p + 7, 6); /* highest version */
    put16(p + 9, 6); /* lowest version */
    put16(p + 11, (uint32_t) nl);
    memcpy(p + 13, alive, nl);
    put16(p + 13 + nl, 0); /* no extra */
    return 2 + body;
}

int fxi_epmd_alive2_resp(const uint8_t *b, size_t len, uint32_t *creation)
{
    if (len < 1)
        return 0;
    if (b[0] == 118) { /* ALIVE2_X_RESP */
        if (len < 6)
            return 0;
        if (b[1] != 0)
            return -1;
        *creation = get32(b + 2);
        return 6;
    }
    if (b[0] == 121) { /* ALIVE2_RESP */
        if (len < 4)
            return 0;
        if (b[1] != 0)
            return -1;
        *creation = get16(b + 2);
        return 4;
    }
    return -1;
}

size_t fxi_epmd_port2_req(uint8_t *buf, size_t cap, const char *alive)
{
    size_t nl = strlen(alive);
    if (nl > 255 || cap < 3 + nl)
        return 0;
    put16(buf, (uint32_t) (1 + nl));
    buf[2] = 122; /* PORT_PLEASE2_REQ */
    memcpy(buf + 3, alive, nl);
    return 3 + nl;
}

int fxi_epmd_port2_resp(const uint8_t *b, size_t len, uint16_t *port)
{
    if (len < 2)
        return 0;
    if (b[0] != 119 || b[1] != 0)
        return -1;
    if (len < 12)
        return 0;
    size_t nl = get16(b + 10);
    if (len < 12 + nl + 2)
        return 0;
    size_t el = get16(b + 12 + nl);
    if (len < 14 + nl + el)
        return 0;
    *port = (uint16_t) get16(b + 2);
    return (int) (14 + nl + el);
}

/* ---- framing ------------------------------------------------------------ */

long fxi_frame_next(const uint8_t *b, size_t len, size_t hdr, size_t max,
                    const uint8_t **body, size_t *blen)
{
    if (len < hdr)
        return 0;
    size_t n = hdr == 2 ? get16(b) : get32(b);
    if (n > max)
        return -1;
    if (len - hdr < n)
        return 0;
    *body = b + hdr;
    *blen = n;
    return (long) (hdr + n);
}

/* ---- handshake ---------------------------------------------------------- */

size_t fxi_hs_send_name(uint8_t *buf, size_t cap, uint64_t flags, uint32_t creation,
                        const char *name)
{
    size_t nl = strlen(name);
    size_t body = 1 + 8 + 4 + 2 + nl;
    if (nl > 255 || cap < 2 + body)
        return 0;
    put16(buf, (uint32_t) body);
    buf[2] = 'N';
    put64(buf + 3, flags);
    put32(buf + 11, creation);
    put16(buf + 15, (uint32_t) nl);
    memcpy(buf + 17, name, nl);
    return 2 + body;
}

size_t fxi_hs_status(uint8_t *buf, size_t cap, const char *status)
{
    size_t sl = strlen(status);
    if (cap < 3 + sl)
        return 0;
    put16(buf, (uint32_t) (1 + sl));
    buf[2] = 's';
    memcpy(buf + 3, status, sl);
    return 3 + sl;
}

size_t fxi_hs_challenge(uint8_t *buf, size_t cap, uint64_t flags, uint32_t challenge,
                        uint32_t creation, const char *name)
{
    size_t nl = strlen(name);
    size_t body = 1 + 8 + 4 + 4 + 2 + nl;
    if (nl > 255 || cap < 2 + body)
        return 0;
    put16(buf, (uint32_t) body);
    buf[2] = 'N';
    put64(buf + 3, flags);
    put32(buf + 11, challenge);
    put32(buf + 15, creation);
    put16(buf + 19, (uint32_t) nl);
    memcpy(buf + 21, name, nl);
    return 2 + body;
}

size_t fxi_hs_reply(uint8_t *buf, size_t cap, uint32_t challenge,
                    const uint8_t digest[16])
{
    if (cap < 23)
        return 0;
    put16(buf, 21);
    buf[2] = 'r';
    put32(buf + 3, challenge);
    memcpy(buf + 7, digest, 16);
    return 23;
}

size_t fxi_hs_ack(uint8_t *buf, size_t cap, const uint8_t digest[16])
{
    if (cap < 19)
        return 0;
    put16(buf, 17);
    buf[2] = 'a';
    memcpy(buf + 3, digest, 16);
    return 19;
}

int fxi_hs_parse_n(const uint8_t *b, size_t len, bool with_challenge, fxi_hs_peer *out)
{
    size_t fixed = with_challenge ? 19 : 15;
    if (len < fixed || b[0] != 'N')
        return -1;
    out->flags = get64(b + 1);
    out->challenge = with_challenge ? get32(b + 9) : 0;
    size_t o = with_challenge ? 13 : 9;
    out->creation = get32(b + o);
    size_t nl = get16(b + o + 4);
    if (nl == 0 || nl > 255 || len < fixed + nl)
        return -1;
    memcpy(out->name, b + fixed, nl);
    out->name[nl] = '\0';
    if (memchr(out->name, '\0', nl) || !strchr(out->name, '@'))
        return -1;
    return 0;
}

int fxi_hs_parse_reply(const uint8_t *b, size_t len, uint32_t *challenge,
                       uint8_t digest[16])
{
    if (len != 21 || b[0] != 'r')
        return -1;
    *challenge = get32(b + 1);
    memcpy(digest, b + 5, 16);
    return 0;
}

int fxi_hs_parse_ack(const uint8_t *b, size_t len, uint8_t digest[16])
{
    if (len != 17 || b[0] != 'a')
        return -1;
    memcpy(digest, b + 1, 16);
    return 0;
}
