/* Shared by the statem_*_test.c suites: a data block that remembers the
 * observer (the test's inbox), a log line sender, and a collector that
 * joins the lines the machine sent up to "end". */
#ifndef FAUXTP_TEST_STATEM_HELPERS_H
#define FAUXTP_TEST_STATEM_HELPERS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

#define SM_LOG 1000u /* machine -> observer: a NUL-terminated line */
/* Test -> machine casts and calls. */
enum { C_A = 1, C_B, C_C, C_D, C_E, C_F, C_G, C_H, C_PING, C_END };

typedef struct smd {
    fx_pid obs;
    int64_t n;
    fx_pid peer;
    fx_from held; /* a deferred call */
} smd;

/* The test's inbox pid, set before any machine starts (each test runs in
 * its own process). */
static fx_pid sm_observer;

static inline void sm_log(fx_sm *sm, const char *fmt, ...)
{
    char line[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    (void) fx_send(fx_sm_ctx(sm), sm_observer, SM_LOG, line, strlen(line) + 1);
}

static inline fx_sm_ret sm_init_data(fx_sm *sm, void *arg, void **data)
{
    (void) arg;
    smd *d = calloc(1, sizeof *d);
    d->obs = sm_observer;
    *data = d;
    return fx_sm_keep_state(sm); /* replaced by the caller's answer */
}

static inline void sm_free_data(fx_vm *vm, fx_sm_state st, void *data,
                                const fx_reason *why)
{
    (void) vm;
    (void) st;
    (void) why;
    free(data);
}

/* Collects log lines until "end" (10 s at most per line); returns them
 * joined by spaces, "end" excluded (static buffer). */
static inline const char *sm_collect(tvm *t)
{
    static char out[2048];
    out[0] = 0;
    for (int i = 0; i < 200; i++) {
        fx_msg *m = tvm_recv(t, SM_LOG);
        const char *s = fx_msg_data(m);
        if (!strcmp(s, "end")) {
            fx_msg_free(m);
            return out;
        }
        if (out[0])
            strncat(out, " ", sizeof out - strlen(out) - 1);
        strncat(out, s, sizeof out - strlen(out) - 1);
        fx_msg_free(m);
    }
    cr_assert_fail("no end line");
    return out;
}

static inline fx_pid sm_start(tvm *t, const fx_sm_ops *ops)
{
    sm_observer = t->me;
    static fx_sm_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.ops = ops;
    fx_pid p;
    fx_reason why;
    int rc = fx_sm_start(t->in, &spec, &p, &why);
    cr_assert_eq(rc, 0, "start: %s", fx_strerror(rc));
    return p;
}

static inline void sm_cast(tvm *t, fx_pid p, uint32_t type, int64_t v)
{
    cr_assert_eq(fx_vm_gs_cast(t->vm, p, type, &v, sizeof v), 0);
}

static inline int64_t sm_arg(const fx_sm_event *ev)
{
    int64_t v = 0;
    if (ev->size >= sizeof v)
        memcpy(&v, ev->data, sizeof v);
    return v;
}

#endif
