/* Registry internals shared by src/otp/registry*.c, reg_table.c and
 * kernel.c. Public API only (plus other src/otp headers).
 *
 * The protocol: every write is a GenServer call to the registry whose
 * type is an FXI_REG_OP_* and whose data is an fxi_reg_req; the reply is
 * an fxi_reg_ans. Reads go to the published tables (reg_table.h). */
#ifndef FXI_OTP_REG_IMPL_H
#define FXI_OTP_REG_IMPL_H

#include <fauxtp/error.h>
#include <fauxtp/registry.h>
#include <string.h>

/* The registry's part of the behaviour range: [BASE + 0x200, BASE + 0x300). */
#define FXI_REG_TYPE(n) (FX_MSG_BEHAVIOUR_BASE + 0x200u + (n))
#define FXI_REG_READY FXI_REG_TYPE(0) /* kernel -> waiter: a registry runs (or not) */
#define FXI_REG_GO FXI_REG_TYPE(1)    /* fx_*spawn_named -> the new process */

/* Call types understood by the registry. */
enum {
    FXI_REG_OP_REGISTER = 1,
    FXI_REG_OP_UNREGISTER,
    FXI_REG_OP_JOIN,
    FXI_REG_OP_LEAVE,
    FXI_REG_OP_STATS, /* no data; the reply is an fx_registry_stats */
};

/* A write request. name is NUL-terminated, len bytes long. */
typedef struct fxi_reg_req {
    fx_pid pid; /* register, join, leave */
    uint32_t len;
    char name[FX_NAME_MAX];
} fxi_reg_req;

/* The registry's answer. */
typedef struct fxi_reg_ans {
    int32_t rc;
    uint32_t reserved;
    fx_pid holder; /* FX_EEXIST from register */
} fxi_reg_ans;

/* Length of a valid name (1..FX_NAME_MAX-1), else 0. */
static inline size_t fxi_reg_name_len(const char *name)
{
    size_t n = name ? strnlen(name, FX_NAME_MAX) : 0;
    return n < FX_NAME_MAX ? n : 0;
}

/* Fills *req; FX_EINVAL for a bad name. */
int fxi_reg_req_init(fxi_reg_req *req, uint32_t op, const char *name, fx_pid pid);

/* registry_server.c: the registry's GenServer spec (ops, arg, label) for
 * the kernel k. The kernel starts the registry with it (kernel.c). */
struct fxi_kernel;
void fxi_registry_spec(struct fxi_kernel *k, fx_gs_spec *out);

#endif
