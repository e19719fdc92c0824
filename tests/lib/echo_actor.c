/* A handler for tests/lib/dlopen_ctypes.py, which cannot write one in
 * Python (ctypes callbacks cannot return a struct such as fx_next):
 * answers each message with type + 1 and the same data. Linked against
 * libfauxtp.so.0, so loading it after the test's own dlopen of the
 * library binds to that same, already loaded copy. */
#include <fauxtp/fauxtp.h>

__attribute__((visibility("default"))) fx_next fxt_echo(fx_ctx *cx, fx_msg *m);

fx_next fxt_echo(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), fx_msg_type(m) + 1, fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}
