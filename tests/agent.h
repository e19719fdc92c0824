/* A scriptable test actor: it carries out commands sent from the test's
 * inbox (link, monitor, exit, trap_exit...) and reports every command's
 * result and every message it receives (EXIT, DOWN, pings) back to its
 * owner, in order. Crash reports are forwarded to the owner too, which
 * gives tests a barrier: a report is logged after the dying process's
 * links and monitors were signalled. */
#ifndef FAUXTP_TEST_AGENT_H
#define FAUXTP_TEST_AGENT_H

#include "helpers.h"

enum {
    AG_LINK = 1,
    AG_UNLINK,
    AG_TRAP,
    AG_STOP,
    AG_EXIT,
    AG_MONITOR,
    AG_DEMONITOR,
    AG_SEND, /* send `value` pings numbered 0.. to pid */
    AG_SPAWN_LINK,
    AG_SPAWN_MONITOR,
    AG_PING,
    AG_SEGV,
    AG_ILL,
    AG_CRASH,
    AG_OVERFLOW,
    AG_REPORT = 100, /* agent -> owner */
    AG_LOGGED,       /* crash logger -> owner: payload fx_crash_report */
};

typedef struct ag_cmd {
    fx_pid pid;
    fx_reason reason;
    fx_ref ref;
    uint64_t value;
} ag_cmd;

typedef struct ag_report {
    uint32_t type; /* what the agent received */
    int32_t rc;    /* result of the command */
    fx_pid pid;    /* EXIT/DOWN pid, spawned child */
    fx_reason reason;
    fx_ref ref;
    uint64_t value;
} ag_report;

typedef struct ag_state {
    fx_pid owner;
} ag_state;

static fx_next agent(fx_ctx *cx, fx_msg *m);

/* A wild pointer the compiler cannot see through (no -Warray-bounds). */
static int *volatile ag_wild = (int *) (uintptr_t) 16;

/* Recurses until the stack overflows (the limit is never reached). */
static uint64_t ag_recurse(uint64_t depth, uint64_t limit)
{
    volatile char pad[512];
    pad[depth % sizeof pad] = (char) depth;
    if (depth == limit)
        return 0;
    return ag_recurse(depth + 1, limit) + (uint64_t) pad[0];
}

static inline fx_spawn_opts ag_opts(const ag_state *st)
{
    fx_spawn_opts o = {.handler = agent, .state_size = sizeof *st, .state_init = st};
    return o;
}

static fx_next agent(fx_ctx *cx, fx_msg *m)
{
    ag_state *st = fx_state(cx);
    ag_cmd c;
    memset(&c, 0, sizeof c);
    if (fx_msg_size(m) >= sizeof c)
        memcpy(&c, fx_msg_data(m), sizeof c);
    ag_report r;
    memset(&r, 0, sizeof r);
    r.type = fx_msg_type(m);
    fx_spawn_opts o = ag_opts(st);
    switch (r.type) {
    case FX_MSG_EXIT: {
        const fx_exit_info *e = fx_msg_data(m);
        r.pid = e->pid;
        r.reason = e->reason;
        break;
    }
    case FX_MSG_DOWN: {
        const fx_down_info *d = fx_msg_data(m);
        r.pid = d->pid;
        r.reason = d->reason;
        r.ref = d->ref;
        break;
    }
    case AG_LINK:
        r.rc = fx_link(cx, c.pid);
        break;
    case AG_UNLINK:
        r.rc = fx_unlink(cx, c.pid);
        break;
    case AG_TRAP:
        r.rc = fx_trap_exit(cx, c.value != 0);
        break;
    case AG_STOP:
        return fx_stop(cx, c.reason);
    case AG_EXIT:
        r.rc = fx_exit(cx, c.pid, c.reason);
        break;
    case AG_MONITOR:
        r.rc = fx_monitor(cx, c.pid, &r.ref);
        break;
    case AG_DEMONITOR:
        r.rc = fx_demonitor(cx, c.ref, (unsigned) c.value);
        break;
    case AG_SEND:
        for (uint64_t i = 0; i < c.value; i++)
            fx_send(cx, c.pid, AG_PING, &(ag_cmd){.value = i}, sizeof(ag_cmd));
        break;
    case AG_SPAWN_LINK:
        r.rc = fx_spawn_link(cx, &o, &r.pid);
        break;
    case AG_SPAWN_MONITOR:
        r.rc = fx_spawn_monitor(cx, &o, &r.pid, &r.ref);
        break;
    case AG_SEGV:
        *ag_wild = 1;
        break;
    case AG_ILL:
#if defined(__aarch64__)
        /* __builtin_trap is brk there (SIGTRAP); udf #0 is undefined: SIGILL. */
        __asm__ __volatile__("udf #0");
        __builtin_unreachable();
#else
        __builtin_trap(); /* ud2 on x86: SIGILL */
#endif
    case AG_CRASH:
        fx_crash(cx, "crash %d", (int) c.value);
    case AG_OVERFLOW:
        r.value = ag_recurse(0, UINT64_MAX - c.value);
        break;
    default:
        r.value = c.value;
        break;
    }
    fx_send(cx, st->owner, AG_REPORT, &r, sizeof r);
    return fx_continue(cx);
}

/* ---- the test side ------------------------------------------------------ */

static fx_pid ag_log_to; /* where the crash logger forwards reports */

static void ag_logger(void *arg, const fx_crash_report *r)
{
    (void) arg;
    /* Crashes only: on a loaded machine a short handler preempted past
     * stuck_ms gets a stuck report, which is no test's business here. */
    if (r->kind != FX_REPORT_CRASH)
        return;
    fx_vm_send(r->vm, ag_log_to, AG_LOGGED, r, sizeof *r);
}

/* A VM with `threads` schedulers whose crash reports go to the inbox. */
static inline tvm ag_start(uint32_t threads, bool trap_faults)
{
    tvm t;
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = threads;
    c.trap_faults = trap_faults;
    c.crash_logger = ag_logger;
    cr_assert_eq(fx_vm_create(&c, &t.vm), 0);
    cr_assert_eq(fx_vm_start(t.vm), 0);
    cr_assert_eq(fx_inbox_create(t.vm, &t.in), 0);
    t.me = fx_inbox_pid(t.in);
    ag_log_to = t.me;
    return t;
}

/* An agent owned by the inbox and monitored by it (*ref, may be NULL). */
static inline fx_pid ag_spawn(tvm *t, fx_ref *ref)
{
    ag_state st = {t->me};
    fx_spawn_opts o = ag_opts(&st);
    fx_pid p;
    fx_ref r;
    cr_assert_eq(fx_inbox_spawn_monitor(t->in, &o, &p, &r), 0);
    if (ref)
        *ref = r;
    return p;
}

/* The next report from agent `from`. */
static inline ag_report ag_next(tvm *t, fx_pid from)
{
    fx_match mt = {.type = AG_REPORT, .from = from};
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t->in, &mt, 10000, &m);
    cr_assert_eq(rc, 0, "no report from the agent: %s", fx_strerror(rc));
    ag_report r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

static inline void ag_send(tvm *t, fx_pid to, uint32_t cmd, ag_cmd c)
{
    cr_assert_eq(fx_inbox_send(t->in, to, cmd, &c, sizeof c), 0);
}

/* Runs a command that reports and returns its report. */
static inline ag_report ag_do(tvm *t, fx_pid to, uint32_t cmd, ag_cmd c)
{
    ag_send(t, to, cmd, c);
    ag_report r = ag_next(t, to);
    cr_assert_eq(r.type, cmd, "agent reported type %u, expected %u", r.type, cmd);
    return r;
}

/* Asserts that the agent is alive and answering (a ping round trip). */
static inline void ag_assert_alive(tvm *t, fx_pid p)
{
    ag_report r = ag_do(t, p, AG_PING, (ag_cmd){.value = 77});
    cr_assert_eq(r.value, 77);
}

/* Waits for the DOWN of the inbox's monitor ref and returns its reason. */
static inline fx_reason ag_down(tvm *t, fx_ref ref)
{
    fx_match mt = {.type = FX_MSG_DOWN, .ref = ref};
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(t->in, &mt, 10000, &m);
    cr_assert_eq(rc, 0, "no DOWN: %s", fx_strerror(rc));
    fx_down_info d;
    memcpy(&d, fx_msg_data(m), sizeof d);
    cr_assert(fx_ref_eq(d.ref, ref));
    cr_assert(fx_ref_eq(fx_msg_ref(m), ref));
    cr_assert(fx_pid_eq(d.pid, fx_msg_from(m)));
    fx_msg_free(m);
    return d.reason;
}

/* Waits for the crash report of pid. */
static inline fx_crash_report ag_logged(tvm *t, fx_pid pid)
{
    fx_match mt = {.type = AG_LOGGED};
    for (;;) {
        fx_msg *m = NULL;
        int rc = fx_inbox_recv(t->in, &mt, 10000, &m);
        cr_assert_eq(rc, 0, "no crash report: %s", fx_strerror(rc));
        fx_crash_report r;
        memcpy(&r, fx_msg_data(m), sizeof r);
        fx_msg_free(m);
        if (fx_pid_eq(r.pid, pid))
            return r;
    }
}

static inline void assert_reason(fx_reason got, fx_reason want)
{
    char g[96], w[96];
    fx_reason_format(&got, g, sizeof g);
    fx_reason_format(&want, w, sizeof w);
    cr_assert(fx_reason_eq(&got, &want), "reason %s, expected %s", g, w);
}

#endif
