// The public headers compile as pedantic C++17 (-Werror), macros included:
// a C++ program links fauxtp through them. Exits 0 when the values the
// macros and inline helpers give are the documented ones.
#include <fauxtp/fauxtp.h>

int main()
{
    fx_pid p = FX_PID_NONE;
    fx_ref r = FX_REF_NONE;
    if (!fx_pid_is_none(p) || !fx_pid_eq(p, FX_PID_NONE) || !fx_ref_eq(r, FX_REF_NONE))
        return 1;
    // The typed.h macros expand to valid C++ (unevaluated here: this
    // program does not link the library).
    long x = 0, y = 0;
    fx_inbox *ib = nullptr;
    fx_ctx *cx = nullptr;
    fx_msg *m = nullptr;
    static_assert(sizeof(FX_DATA_AS(cx, &x, sizeof x, long)) == sizeof(const long *), "");
    static_assert(sizeof(FX_GS_CALL_T(ib, p, 1, x, &y, 0)) == sizeof(int), "");
    static_assert(sizeof(FX_GS_CALL_NAMED_T(ib, "n", 1, x, &y, 0)) == sizeof(int), "");
    static_assert(sizeof(FX_GS_CALL_RESULT_T(cx, m, &y)) == sizeof(int), "");
    static_assert(sizeof(FX_INBOX_RECV_T(ib, nullptr, 0, &y)) == sizeof(int), "");
    static_assert(sizeof(FX_GS_REPLY_T(cx, x)) == sizeof(fx_gs_ret), "");
    static_assert(sizeof(FX_GS_CAST_T(cx, p, 1, x)) == sizeof(int), "");
    fx_sm_state s = fx_sm_id(3);
    if (!fx_sm_state_eq(s, fx_sm_id(3)) || fx_sm_state_eq(s, fx_sm_fn(nullptr)))
        return 1;
    return p.id == 0 && r.id == 0 ? 0 : 1;
}
