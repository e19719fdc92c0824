/* Public message API. */
#include "actor/msg.h"

#include <fauxtp/error.h>

static int msg_new(uint32_t type, size_t size, fx_msg **out)
{
    if (size > FX_MSG_SIZE_LIMIT)
        return FX_EMSGSIZE;
    fx_msg *m = fxi_msg_alloc(type, (uint32_t) size);
    if (!m)
        return FX_ENOMEM;
    *out = m;
    return 0;
}

FX_API int fx_msg_new(uint32_t type, size_t size, fx_msg **out)
{
    if (!out)
        return FX_EINVAL;
    *out = NULL;
    /* FX_MSG_TERM: an Erlang term, which users build and send (dist.h). */
    return type >= FX_MSG_SYSTEM_BASE && type != FX_MSG_TERM ? FX_EINVAL
                                                             : msg_new(type, size, out);
}

FX_API int fx_msg_new_behaviour(uint32_t type, size_t size, fx_msg **out)
{
    if (!out)
        return FX_EINVAL;
    *out = NULL;
    return fxi_msg_sendable(type) && type >= FX_MSG_BEHAVIOUR_BASE
               ? msg_new(type, size, out)
               : FX_EINVAL;
}

FX_API void fx_msg_free(fx_msg *msg)
{
    if (msg)
        fxi_msg_release(msg);
}

FX_API uint32_t fx_msg_type(const fx_msg *msg)
{
    return msg ? msg->type : 0;
}

FX_API size_t fx_msg_size(const fx_msg *msg)
{
    return msg ? msg->size : 0;
}

FX_API const void *fx_msg_data(const fx_msg *msg)
{
    return msg ? msg->data : NULL;
}

FX_API void *fx_msg_data_mut(fx_msg *msg)
{
    return msg ? msg->data : NULL;
}

FX_API fx_pid fx_msg_from(const fx_msg *msg)
{
    return msg ? msg->from : FX_PID_NONE;
}

FX_API fx_ref fx_msg_ref(const fx_msg *msg)
{
    return msg ? msg->ref : FX_REF_NONE;
}

FX_API void fx_msg_set_ref(fx_msg *msg, fx_ref ref)
{
    if (msg)
        msg->ref = ref;
}
