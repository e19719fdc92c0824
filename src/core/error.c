/* Error strings, generated from the FX_ERRORS table. */
#include <fauxtp/error.h>

FX_API const char *fx_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define FX_ERR_TEXT_(name, value, text)                                                  \
    case value:                                                                          \
        return text;
        FX_ERRORS(FX_ERR_TEXT_)
#undef FX_ERR_TEXT_
    default:
        return "unknown error";
    }
}

FX_API const char *fx_err_name(int err)
{
    switch (err) {
    case 0:
        return "FX_OK";
#define FX_ERR_NAME_(name, value, text)                                                  \
    case value:                                                                          \
        return #name;
        FX_ERRORS(FX_ERR_NAME_)
#undef FX_ERR_NAME_
    default:
        return "FX_E?";
    }
}
