/* Erlang distribution wire formats, as pure functions over byte buffers:
 * epmd requests and answers, the version 6 handshake messages, 2- and
 * 4-byte framing, a bounded ETF skipper and the control-message parser.
 * Nothing here touches a VM, so the fuzz test drives it directly
 * (tests/dist_proto_test.c). Every parser takes the buffer's length and
 * never reads past it: ei's decoders trust their input, so a term is
 * first walked by fxi_etf_skip, and ei only decodes what passed. Any
 * thread; no state. */
#ifndef FXI_DIST_PROTO_H
#define FXI_DIST_PROTO_H

#include <ei.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Capability flags (OTP's dist.hrl). */
#define FXI_DFLAG_PUBLISHED 0x1ull
#define FXI_DFLAG_EXTENDED_REFERENCES 0x4ull
#define FXI_DFLAG_DIST_MONITOR 0x8ull
#define FXI_DFLAG_FUN_TAGS 0x10ull
#define FXI_DFLAG_DIST_MONITOR_NAME 0x20ull
#define FXI_DFLAG_NEW_FUN_TAGS 0x80ull
#define FXI_DFLAG_EXTENDED_PIDS_PORTS 0x100ull
#define FXI_DFLAG_EXPORT_PTR_TAG 0x200ull
#define FXI_DFLAG_BIT_BINARIES 0x400ull
#define FXI_DFLAG_NEW_FLOATS 0x800ull
#define FXI_DFLAG_SMALL_ATOM_TAGS 0x4000ull
#define FXI_DFLAG_UTF8_ATOMS 0x10000ull
#define FXI_DFLAG_MAP_TAG 0x20000ull
#define FXI_DFLAG_BIG_CREATION 0x40000ull
#define FXI_DFLAG_SEND_SENDER 0x80000ull
#define FXI_DFLAG_HANDSHAKE_23 0x1000000ull
#define FXI_DFLAG_UNLINK_ID 0x2000000ull
#define FXI_DFLAG_MANDATORY_25_DIGEST 0x4000000ull /* bit 26 on the wire */
#define FXI_DFLAG_V4_NC (1ull << 34)
#define FXI_DFLAG_ALIAS (1ull << 35)

/* What every peer must offer (OTP 25's mandatory set). */
#define FXI_DFLAG_REQUIRED                                                               \
    (FXI_DFLAG_EXTENDED_REFERENCES | FXI_DFLAG_EXTENDED_PIDS_PORTS |                     \
     FXI_DFLAG_UTF8_ATOMS | FXI_DFLAG_NEW_FUN_TAGS | FXI_DFLAG_BIG_CREATION |            \
     FXI_DFLAG_HANDSHAKE_23)

/* Control operations. */
#define FXI_DOP_LINK 1
#define FXI_DOP_SEND 2
#define FXI_DOP_EXIT 3
#define FXI_DOP_REG_SEND 6
#define FXI_DOP_EXIT2 8
#define FXI_DOP_MONITOR_P 19
#define FXI_DOP_DEMONITOR_P 20
#define FXI_DOP_MONITOR_P_EXIT 21
#define FXI_DOP_SEND_SENDER 22
#define FXI_DOP_ALIAS_SEND 33
#define FXI_DOP_UNLINK_ID 35
#define FXI_DOP_UNLINK_ID_ACK 36

/* The flags this node offers. */
uint64_t fxi_dist_flags_ours(bool hidden);

/* MD5(cookie ++ decimal(challenge)), the handshake digest. */
void fxi_dist_digest(uint32_t challenge, const char *cookie, uint8_t out[16]);

/* ---- epmd --------------------------------------------------------------- */
/* Each builder returns the bytes written, 0 when cap is too small. */
size_t fxi_epmd_alive2_req(uint8_t *buf, size_t cap, const char *alive, uint16_t port,
                           bool hidden);
/* ALIVE2_RESP / ALIVE2_X_RESP: bytes consumed (>0) with *creation set, 0
 * when more bytes are needed, -1 when refused or malformed. */
int fxi_epmd_alive2_resp(const uint8_t *b, size_t len, uint32_t *creation);
size_t fxi_epmd_port2_req(uint8_t *buf, size_t cap, const char *alive);
/* PORT2_RESP: >0 with *port, 0 need more, -1 unknown name or malformed. */
int fxi_epmd_port2_resp(const uint8_t *b, size_t len, uint16_t *port);

/* ---- framing ------------------------------------------------------------ */
/* The next frame with a hdr-byte (2 or 4) big-endian length: bytes
 * consumed (>0) with body and blen set, 0 when incomplete, -1 when the
 * announced length exceeds max. */
long fxi_frame_next(const uint8_t *b, size_t len, size_t hdr, size_t max,
                    const uint8_t **body, size_t *blen);

/* ---- handshake (bodies without the 2-byte length; builders add it) ----- */
typedef struct fxi_hs_peer {
    uint64_t flags;
    uint32_t challenge; /* 0 in a send_name */
    uint32_t creation;
    char name[256];
} fxi_hs_peer;

size_t fxi_hs_send_name(uint8_t *buf, size_t cap, uint64_t flags, uint32_t creation,
                        const char *name);
size_t fxi_hs_status(uint8_t *buf, size_t cap, const char *status);
size_t fxi_hs_challenge(uint8_t *buf, size_t cap, uint64_t flags, uint32_t challenge,
                        uint32_t creation, const char *name);
size_t fxi_hs_reply(uint8_t *buf, size_t cap, uint32_t challenge,
                    const uint8_t digest[16]);
size_t fxi_hs_ack(uint8_t *buf, size_t cap, const uint8_t digest[16]);
/* 'N' send_name (with_challenge false) or 'N' challenge (true). 0 or -1. */
int fxi_hs_parse_n(const uint8_t *b, size_t len, bool with_challenge, fxi_hs_peer *out);
/* 'r' challenge_reply: 0 or -1. */
int fxi_hs_parse_reply(const uint8_t *b, size_t len, uint32_t *challenge,
                       uint8_t digest[16]);
/* 'a' challenge_ack: 0 or -1. */
int fxi_hs_parse_ack(const uint8_t *b, size_t len, uint8_t digest[16]);

/* ---- terms and control messages ---------------------------------------- */
/* Validates one term starting at b[pos] (no version byte) with the term
 * API's validator (fxi_term_validate: no recursion, any nesting depth as
 * in OTP, never reads past len, old FLOAT_EXT must hold its NUL); *end is
 * the offset after it. 0 or -1 (truncated, unknown tag, atom-cache
 * reference, nesting counts beyond the buffer, out of memory). */
int fxi_etf_skip(const uint8_t *b, size_t len, size_t pos, size_t *end);

typedef struct fxi_dist_ctl {
    long op;
    bool has_from, has_to, has_name;
    erlang_pid from;
    erlang_pid to;
    /* REG_SEND's registered name; MONITOR_P / DEMONITOR_P's target and
     * MONITOR_P_EXIT's monitored process when given by name */
    char name[MAXATOMLEN_UTF8];
    uint64_t id;             /* UNLINK_ID's id */
    bool has_ref;            /* the monitor operations */
    erlang_ref ref;          /* their ref */
    size_t reason_off;       /* EXIT, EXIT2, MONITOR_P_EXIT: the reason term; 0 = none */
    size_t reason_end;       /* just past it */
    size_t msg_off, msg_len; /* the message term, with its 131; 0 = none */
} fxi_dist_ctl;

/* Parses a pass-through frame body (112, 131 control [, 131 message]).
 * Unknown operations parse (op set, nothing else) so the caller can
 * ignore them. 0 or -1 (malformed: the caller closes the connection). */
int fxi_dist_parse(const uint8_t *b, size_t len, fxi_dist_ctl *out);

/* If the term at b (with its 131) is exactly {Integer T, Binary B} with
 * 0 <= T < 0xFFFF0000: 1 with *type, *data, *size set; else 0. b must
 * have passed fxi_etf_skip. */
int fxi_dist_plain(const uint8_t *b, size_t len, uint32_t *type, const uint8_t **data,
                   size_t *size);

#endif
