/* fauxtp: error codes.
 *
 * Every public function returns int: 0 on success, a negative FX_E* code on
 * failure, or a positive count where a count is the answer.
 *
 * The same table names the codes of fauxtp's own error exit reasons
 * (fx_reason.code, see <fauxtp/reason.h>): FX_ECRASHED and FX_EFAULT are
 * only ever reason codes, never a function's return value; others (such
 * as FX_EINVAL, FX_ENOMEM) are both. Ownership of the messages a function
 * takes: <fauxtp/msg.h>. */
#ifndef FAUXTP_ERROR_H
#define FAUXTP_ERROR_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, text): the single table behind the enum, fx_strerror and
 * fx_err_name. Values are stable ABI. */
#define FX_ERRORS(X)                                                                     \
    X(FX_EINVAL, -1, "invalid argument")                                                 \
    X(FX_ENOMEM, -2, "out of memory")                                                    \
    X(FX_ENOPROC, -3, "no such process")                                                 \
    X(FX_ESHUTDOWN, -4, "VM is not running")                                             \
    X(FX_EFULL, -5, "process table is full")                                             \
    X(FX_EMSGSIZE, -6, "message too large")                                              \
    X(FX_ETIMEDOUT, -7, "timed out")                                                     \
    X(FX_ENOENT, -8, "no such entry")                                                    \
    X(FX_EEXIST, -9, "already exists")                                                   \
    X(FX_EWOULDBLOCK, -10, "operation would block a scheduler thread")                   \
    X(FX_ECONTEXT, -11, "not allowed from this thread")                                  \
    X(FX_ESYS, -12, "operating system error")                                            \
    X(FX_EVERSION, -13, "unsupported config version")                                    \
    X(FX_EEXIT, -14, "the process exited")                                               \
    X(FX_EIGNORE, -15, "the process chose not to start")                                 \
    X(FX_ELIMIT, -16, "limit reached")                                                   \
    X(FX_ECRASHED, -17, "the process crashed (fx_crash)")                                \
    X(FX_EFAULT, -18, "hardware fault in a handler")                                     \
    X(FX_EFORKED, -19, "VM belongs to the parent process")                               \
    X(FX_EAGAIN, -20, "resource temporarily full; try again")                            \
    X(FX_EBADF, -21, "closed or unknown socket")                                         \
    X(FX_ENOTOWNER, -22, "socket is owned by another process")                           \
    X(FX_ECONNECT, -23, "connection refused, reset or unreachable")                      \
    X(FX_EADDR, -24, "address in use or not available")                                  \
    X(FX_ENOFILE, -25, "out of file descriptors")                                        \
    X(FX_EMAILBOX_FULL, -26, "the receiver's mailbox is at its limit")                   \
    X(FX_ESTUCK, -28, "handlers still running at the shutdown deadline")                 \
    X(FX_EACTION, -33, "gen_statem action not allowed in this callback")                 \
    X(FX_ENOTDET, -34, "the VM is not in deterministic mode")                            \
    X(FX_ENODE, -35, "no connection to that node")                                       \
    X(FX_EAUTH, -36, "distribution handshake refused (cookie or name)")                  \
    X(FX_ENOTDIST, -37, "the VM is not a distributed node")                              \
    X(FX_EDIST, -38, "distribution protocol error")                                      \
    X(FX_EBADTERM, -39, "malformed or unexpected term")

typedef enum fx_err {
#define FX_ERR_ENUM_(name, value, text) name = value,
    FX_ERRORS(FX_ERR_ENUM_)
#undef FX_ERR_ENUM_
} fx_err;

/* Human-readable text for an error code ("unknown error" for anything else).
 * Returns a static string. Any thread. */
FX_API const char *fx_strerror(int err);

/* The code's symbolic name ("FX_ENOPROC"), "FX_OK" for 0, "FX_E?" for an
 * unknown code. Returns a static string. Any thread. */
FX_API const char *fx_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif
