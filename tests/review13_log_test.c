/* review13: log.h:112-116: fx_log(vm, ...) is "about the running process
 * when called inside one of vm's handlers" (fx_log_event.pid, log.h:66-68:
 * "for fx_log inside a handler, the running process; ... else
 * FX_PID_NONE"). Called in a handler of another VM, the event is about no
 * process of vm. */
#include <pthread.h>
#include <stdio.h>

#include "helpers.h"

typedef struct rec {
    pthread_mutex_t mx;
    int n;
    fx_pid pid;
    char label[64];
} rec;

static void record(void *arg, const fx_log_event *ev)
{
    rec *r = arg;
    if (!ev->text || strcmp(ev->text, "review13 line") != 0)
        return;
    pthread_mutex_lock(&r->mx);
    r->n++;
    r->pid = ev->pid;
    snprintf(r->label, sizeof r->label, "%s", ev->label ? ev->label : "(null)");
    pthread_mutex_unlock(&r->mx);
}

typedef struct logger {
    fx_vm *other;
    fx_pid report;
} logger;

static fx_next log_on_other(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    logger *l = fx_state(cx);
    int rc = fx_log(l->other, FX_LOG_ERROR, "review13 line");
    (void) fx_send(cx, l->report, 5, &rc, sizeof rc);
    return fx_continue(cx);
}

Test(review13_log, log_on_another_vm_from_a_handler_names_no_process)
{
    rec r = {.mx = PTHREAD_MUTEX_INITIALIZER};
    fx_vm_config ca;
    fx_vm_config_init(&ca);
    ca.threads = 1;
    ca.log_sink = record;
    ca.log_sink_arg = &r;
    tvm a = tvm_start_with(&ca);
    tvm b = tvm_start_quiet(1);
    logger l = {.other = a.vm, .report = b.me};
    fx_spawn_opts o = {.handler = log_on_other,
                       .state_size = sizeof l,
                       .state_init = &l,
                       .label = "b_worker"};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(b.vm, &o, &p), 0);
    cr_assert_eq(fx_vm_send(b.vm, p, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(&b, 5);
    int rc;
    memcpy(&rc, fx_msg_data(m), sizeof rc);
    fx_msg_free(m);
    cr_expect_eq(rc, 1, "fx_log: %d", rc);
    pthread_mutex_lock(&r.mx);
    cr_expect_eq(r.n, 1);
    char pid[32];
    fx_pid_format(r.pid, pid, sizeof pid);
    cr_expect(fx_pid_is_none(r.pid),
              "VM A's event is about %s (label %s), a process of VM B", pid, r.label);
    pthread_mutex_unlock(&r.mx);
    tvm_stop(&b);
    tvm_stop(&a);
}
