/* Supervisor: started with a name (fx_sup_spec.name), and the calls by
 * name (fx_sup_*_named).
 *
 * As a named GenServer (gen_server_name.c): the supervisor registers
 * itself when START arrives, before it starts any child, with an
 * asynchronous registry call (other messages stay queued meanwhile), so
 * once fx_sup_start returns the name finds it. A taken name is answered
 * with an ACK carrying FX_EEXIST and the holder, and the supervisor exits
 * normally without starting a child. The calls by name look the name up
 * with fx_whereis and make the pid call. */
#include <string.h>

#include "otp/reg_impl.h"
#include "otp/sup_impl.h"

bool fxi_sup_name_ok(const char *name)
{
    return !name || fxi_reg_name_len(name) != 0;
}

void fxi_sup_copy_name(fxi_sup_boot *b, const char *name)
{
    size_t n = name ? fxi_reg_name_len(name) : 0;
    memcpy(b->name, name ? name : "", n);
    b->name[n] = '\0';
}

/* While the registration is in flight (the continuation below has no
 * other place to keep it). */
typedef fx_next (*begin_fn)(fx_ctx *cx, fxi_sup *s);

static fx_next registered(fx_ctx *cx, fx_msg *m)
{
    fxi_sup_boot *b = fx_state(cx);
    fxi_sup *s = b->sup;
    fx_pid holder = FX_PID_NONE;
    int rc = fx_registry_result(cx, m, &holder);
    if (rc == 0)
        return s->begin(cx, s);
    if (rc == FX_EEXIST) {
        (void) fxi_proc_ack(cx, s->start_ack, FX_EEXIST, holder);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_stop(cx, fx_reason_error(rc, "register: %s", fx_strerror(rc)));
}

fx_next fxi_sup_register_name(fx_ctx *cx, fxi_sup *s, begin_fn begin)
{
    fxi_sup_boot *b = fx_state(cx);
    s->begin = begin;
    return fx_register_async(cx, b->name, fx_self(cx), registered);
}

/* ---- calls by name --------------------------------------------------------- */

static int resolve(fx_inbox *inbox, const char *name, fx_pid *sup)
{
    if (!inbox || !name)
        return FX_EINVAL;
    int rc = fx_whereis(fx_inbox_vm(inbox), name, sup);
    return rc == FX_ENOENT ? FX_ENOPROC : rc;
}

#define BY_NAME(call)                                                                    \
    do {                                                                                 \
        fx_pid sup;                                                                      \
        int rc_ = resolve(inbox, name, &sup);                                            \
        return rc_ ? rc_ : (call);                                                       \
    } while (0)

FX_API int fx_sup_start_child_named(fx_inbox *inbox, const char *name,
                                    const fx_child_spec *spec, int64_t timeout_ms,
                                    fx_pid *out, fx_reason *why)
{
    BY_NAME(fx_sup_start_child(inbox, sup, spec, timeout_ms, out, why));
}

FX_API int fx_sup_start_child_args_named(fx_inbox *inbox, const char *name,
                                         const void *extra, size_t extra_size,
                                         int64_t timeout_ms, fx_pid *out, fx_reason *why)
{
    BY_NAME(fx_sup_start_child_args(inbox, sup, extra, extra_size, timeout_ms, out, why));
}

FX_API int fx_sup_terminate_child_named(fx_inbox *inbox, const char *name, const char *id,
                                        int64_t timeout_ms)
{
    BY_NAME(fx_sup_terminate_child(inbox, sup, id, timeout_ms));
}

FX_API int fx_sup_terminate_pid_named(fx_inbox *inbox, const char *name, fx_pid child,
                                      int64_t timeout_ms)
{
    BY_NAME(fx_sup_terminate_pid(inbox, sup, child, timeout_ms));
}

FX_API int fx_sup_restart_child_named(fx_inbox *inbox, const char *name, const char *id,
                                      int64_t timeout_ms, fx_pid *out, fx_reason *why)
{
    BY_NAME(fx_sup_restart_child(inbox, sup, id, timeout_ms, out, why));
}

FX_API int fx_sup_delete_child_named(fx_inbox *inbox, const char *name, const char *id,
                                     int64_t timeout_ms)
{
    BY_NAME(fx_sup_delete_child(inbox, sup, id, timeout_ms));
}

FX_API int fx_sup_which_children_named(fx_inbox *inbox, const char *name,
                                       fx_child_info *out, size_t cap, int64_t timeout_ms)
{
    BY_NAME(fx_sup_which_children(inbox, sup, out, cap, timeout_ms));
}

FX_API int fx_sup_count_children_named(fx_inbox *inbox, const char *name,
                                       fx_child_counts *out, int64_t timeout_ms)
{
    BY_NAME(fx_sup_count_children(inbox, sup, out, timeout_ms));
}
