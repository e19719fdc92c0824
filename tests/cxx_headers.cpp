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
    fx_sm_state s = fx_sm_id(3);
    if (!fx_sm_state_eq(s, fx_sm_id(3)) || fx_sm_state_eq(s, fx_sm_fn(nullptr)))
        return 1;
    return p.id == 0 && r.id == 0 ? 0 : 1;
}
