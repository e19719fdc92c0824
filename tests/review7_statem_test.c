/* review7: gen_server.h's fx_gs_get_state / fx_gs_replace_state on a
 * gen_statem (fails today for the reason the test's comment gives). */
#include "helpers.h"

typedef struct mdata {
    uint64_t magic;
} mdata;

static fx_sm_ret m_state(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    (void) ev;
    (void) data;
    return fx_sm_keep_state(sm);
}

static fx_sm_ret m_init(fx_sm *sm, void *arg, void **data)
{
    *data = arg;
    return fx_sm_next_state(sm, fx_sm_fn(m_state));
}

static const fx_sm_ops m_ops = {.init = m_init};

static void look(void *state, void *arg)
{
    *(void **) arg = state;
}

/* gen_server.h:249-256: fx_gs_get_state runs fn(state, arg) for "a
 * consistent look at a live server's state", and answers FX_EINVAL at
 * once for a process with no state to show (a supervisor); gen_statem.h:3-7
 * says a machine "is started, named, supervised, called, cast to and
 * stopped like one" (a GenServer). On a machine fx_gs_get_state answers 0
 * and hands fn the library's internal struct (src/otp/gen_statem.c runs
 * the machine as a GenServer whose state is that struct), neither the
 * machine's data nor a refusal; fx_gs_replace_state on a machine then
 * installs whatever fn returns in place of that struct, and the machine
 * crashes (a wild pointer) at its next event: bad input that crashes
 * instead of getting an error code. docs/statem.md only warns "do not
 * use it on machines". OTP's sys:get_state on a gen_statem answers
 * {State, Data}. A fix: refuse both with FX_EINVAL, as a supervisor does
 * (or pass the machine's data). */
Test(review7_statem, get_state_on_a_machine_is_its_data_or_einval)
{
    tvm t = tvm_start(2);
    static mdata d = {0x5eed};
    fx_sm_spec spec = {.ops = &m_ops, .arg = &d};
    fx_pid m;
    cr_assert_eq(fx_sm_start(t.in, &spec, &m, NULL), 0);
    void *seen = NULL;
    int rc = fx_gs_get_state(t.in, m, look, &seen, 10000);
    tvm_stop(&t);
    cr_assert(rc == FX_EINVAL || (rc == 0 && seen == &d),
              "fx_gs_get_state on a gen_statem: %s, fn saw %p (the machine's data is %p)",
              fx_strerror(rc), seen, (void *) &d);
}
