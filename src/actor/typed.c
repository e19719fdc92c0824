/* Typed messages (<fauxtp/typed.h>): size-checked reads. A mismatch
 * crashes the running process; with no process to crash (cx NULL outside
 * a handler) it is an error code instead. Also the typed inbox receive
 * (fx_inbox_recv_read); the typed GenServer call is gen_server_typed.c. */
#include <fauxtp/error.h>
#include <fauxtp/typed.h>
#include <stdint.h>
#include <string.h>

#include "actor/actor.h"

FX_API int fx_msg_read(const fx_msg *msg, void *out, size_t size)
{
    if (!msg || (!out && size))
        return FX_EINVAL;
    if (fx_msg_size(msg) != size)
        return FX_EMSGSIZE;
    if (size)
        memcpy(out, fx_msg_data(msg), size);
    return 0;
}

/* A process to crash: cx, or the handler running on this thread. */
static bool can_crash(const fx_ctx *cx)
{
    fxi_worker *w = fxi_actor_tls_worker;
    return cx || (w && w->fault.armed);
}

static const char *name(const char *what)
{
    return what ? what : "the reader";
}

FX_API int fx_msg_read_or_crash(fx_ctx *cx, const fx_msg *msg, void *out, size_t size,
                                const char *what)
{
    int rc = fx_msg_read(msg, out, size);
    if (rc == 0 || !can_crash(cx))
        return rc;
    if (!msg)
        fx_crash(cx, "typed read of a NULL message (%s)", name(what));
    if (rc == FX_EINVAL)
        fx_crash(cx, "typed read into a NULL pointer (%s)", name(what));
    fx_crash(cx, "message of type %u: %zu bytes, %s needs %zu", fx_msg_type(msg),
             fx_msg_size(msg), name(what), size);
}

FX_API const void *fx_msg_view_or_crash(fx_ctx *cx, const fx_msg *msg, size_t size,
                                        size_t align, const char *what)
{
    const void *d = msg ? fx_msg_data(msg) : NULL;
    bool aligned =
        !align || (align & (align - 1)) != 0 || ((uintptr_t) d & (align - 1)) == 0;
    if (msg && fx_msg_size(msg) == size && aligned)
        return d;
    if (!can_crash(cx))
        return NULL;
    if (!msg)
        fx_crash(cx, "typed read of a NULL message (%s)", name(what));
    if (!aligned)
        fx_crash(cx, "message of type %u: payload not aligned to %zu for %s",
                 fx_msg_type(msg), align, name(what));
    fx_crash(cx, "message of type %u: %zu bytes, %s needs %zu", fx_msg_type(msg),
             fx_msg_size(msg), name(what), size);
}

FX_API const void *fx_data_view_or_crash(fx_ctx *cx, const void *data, size_t size,
                                         size_t want, size_t align, const char *what)
{
    bool aligned =
        !align || (align & (align - 1)) != 0 || ((uintptr_t) data & (align - 1)) == 0;
    bool present = data || want == 0;
    if (present && size == want && aligned)
        return data;
    if (!can_crash(cx))
        return NULL;
    if (!present)
        fx_crash(cx, "typed read of NULL data (%s)", name(what));
    if (size != want)
        fx_crash(cx, "payload of %zu bytes, %s needs %zu", size, name(what), want);
    fx_crash(cx, "payload not aligned to %zu for %s", align, name(what));
}

FX_API int fx_inbox_recv_read(fx_inbox *inbox, const fx_match *match, int64_t timeout_ms,
                              void *out, size_t size)
{
    if (!out && size)
        return FX_EINVAL;
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(inbox, match, timeout_ms, &m);
    if (rc != 0)
        return rc;
    rc = fx_msg_read(m, out, size);
    fx_msg_free(m);
    return rc;
}
