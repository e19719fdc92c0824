/* GenServer: typed calls from outside the VM (<fauxtp/typed.h>): a call
 * whose reply is copied into the caller's object after a size check, and
 * the same for the outcome of an asynchronous call inside a handler.
 * Written on the public API only. */
#include <fauxtp/error.h>
#include <fauxtp/typed.h>
#include <string.h>

/* Reads the reply of a finished call (rc from fx_gs_call*) into out. */
static int read_reply(int rc, fx_msg *reply, void *out, size_t out_size)
{
    if (rc == 0)
        rc = fx_msg_read(reply, out, out_size);
    fx_msg_free(reply);
    return rc;
}

FX_API int fx_gs_call_read(fx_inbox *inbox, fx_pid server, uint32_t type,
                           const void *data, size_t size, int64_t timeout_ms, void *out,
                           size_t out_size, fx_reason *why)
{
    if (!out && out_size)
        return FX_EINVAL;
    fx_msg *reply = NULL;
    int rc = fx_gs_call(inbox, server, type, data, size, timeout_ms, &reply, why);
    return read_reply(rc, reply, out, out_size);
}

FX_API int fx_gs_call_named_read(fx_inbox *inbox, const char *name, uint32_t type,
                                 const void *data, size_t size, int64_t timeout_ms,
                                 void *out, size_t out_size, fx_reason *why)
{
    if (!out && out_size)
        return FX_EINVAL;
    fx_msg *reply = NULL;
    int rc = fx_gs_call_named(inbox, name, type, data, size, timeout_ms, &reply, why);
    return read_reply(rc, reply, out, out_size);
}

FX_API int fx_gs_call_result_read(fx_ctx *cx, fx_msg *msg, void *out, size_t size,
                                  fx_reason *why)
{
    const void *data = NULL;
    size_t n = 0;
    int rc = fx_gs_call_result(cx, msg, &data, &n, why);
    if (rc == 0 && !out && size)
        rc = FX_EINVAL;
    if (rc != 0)
        return rc;
    const void *reply = fx_data_view_or_crash(cx, data, n, size, 0, "the reply");
    if (!reply && size) /* no process to crash: a NULL cx outside handlers */
        return FX_EMSGSIZE;
    if (size)
        memcpy(out, reply, size);
    return 0;
}
