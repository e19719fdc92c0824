/* Links and trap_exit: a hand-made "supervisor" that restarts a crashing
 * worker. The worker crashes on every third job; the keeper traps exits,
 * sees the EXIT with the crash reason, and spawns a linked replacement.
 * main watches the keeper with a monitor. (Real supervision trees are
 * fauxtp's Supervisor behaviour; this shows the primitives under it.) */
#include <fauxtp/fauxtp.h>
#include <stdio.h>

enum { JOB = 1, DONE, RESTARTED, QUIT };

typedef struct job {
    int n;
    fx_pid reply_to;
} job;

typedef struct keeper {
    fx_pid worker, main;
} keeper;

static fx_next worker(fx_ctx *cx, fx_msg *m)
{
    const job *j = fx_msg_data(m);
    if (j->n % 3 == 0)
        fx_crash(cx, "job %d is cursed", j->n); /* exits; links are told */
    fx_send(cx, j->reply_to, DONE, &j->n, sizeof j->n);
    return fx_continue(cx);
}

static void start_worker(fx_ctx *cx, keeper *k)
{
    fx_spawn_opts o = {.handler = worker, .label = "worker"};
    if (fx_spawn_link(cx, &o, &k->worker) != 0)
        fx_crash(cx, "cannot start the worker");
}

static fx_next keep(fx_ctx *cx, fx_msg *m)
{
    keeper *k = fx_state(cx);
    switch (fx_msg_type(m)) {
    case FX_MSG_EXIT: {
        const fx_exit_info *e = fx_msg_data(m);
        char why[64];
        fx_reason_format(&e->reason, why, sizeof why);
        printf("worker exited: %s\n", why);
        start_worker(cx, k);
        fx_send(cx, k->main, RESTARTED, NULL, 0);
        return fx_continue(cx);
    }
    case JOB:
        k->main = fx_msg_from(m);
        fx_send_msg(cx, k->worker, m); /* forward it, no copy */
        return fx_continue(cx);
    default: /* QUIT: shutdown is abnormal for links, so the worker goes too */
        return fx_stop(cx, fx_reason_shutdown());
    }
}

static fx_next keeper_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_trap_exit(cx, true);
    start_worker(cx, fx_state(cx));
    return fx_become(cx, keep);
}

static bool done_or_restarted(const fx_msg *m, void *arg)
{
    (void) arg;
    return fx_msg_type(m) == DONE || fx_msg_type(m) == RESTARTED;
}

int main(void)
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.crash_logger = fx_crash_logger_silent; /* the keeper prints instead */
    fx_vm *vm;
    fx_inbox *me;
    if (fx_vm_create(&cfg, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me))
        return 1;
    fx_pid k;
    fx_ref ref;
    fx_spawn_opts o = {.init = keeper_init, .state_size = sizeof(keeper)};
    if (fx_inbox_spawn_monitor(me, &o, &k, &ref) != 0)
        return 1;
    int done = 0, restarts = 0;
    fx_msg *m;
    for (int n = 1; n <= 7; n++) {
        job j = {n, fx_inbox_pid(me)};
        fx_inbox_send(me, k, JOB, &j, sizeof j);
        fx_match answer = {.pred = done_or_restarted};
        if (fx_inbox_recv(me, &answer, 5000, &m) != 0)
            return 1;
        *(fx_msg_type(m) == DONE ? &done : &restarts) += 1;
        fx_msg_free(m);
    }
    fx_inbox_send(me, k, QUIT, NULL, 0);
    int rc = fx_inbox_recv(me, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, 5000, &m);
    bool ok = rc == 0 && done == 5 && restarts == 2 && fx_msg_type(m) == FX_MSG_DOWN &&
              ((const fx_down_info *) fx_msg_data(m))->reason.kind == FX_REASON_SHUTDOWN;
    printf("jobs done: %d, restarts: %d, keeper %s\n", done, restarts,
           ok ? "shut down" : "WRONG");
    if (rc == 0)
        fx_msg_free(m);
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return ok ? 0 : 1;
}
