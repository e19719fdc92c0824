/* review8: tasks, from task.h's promises and Elixir's Task: await again
 * after a timeout, nothing after the outcome was taken, cancel of a done
 * task, a trapping owner of a crashing linked task. */
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"

enum { RESULT = 7, REPORT, GO };

static atomic_int gate;

static int gated_twice(void *arg, fx_msg **result)
{
    for (int i = 0; i < 10000 && !atomic_load(&gate); i++)
        usleep(1000);
    uint64_t v = (uint64_t) (uintptr_t) arg * 2;
    if (fx_msg_new(RESULT, sizeof v, result) == 0)
        memcpy(fx_msg_data_mut(*result), &v, sizeof v);
    return 0;
}

static int crash_fn(void *arg, fx_msg **result)
{
    (void) arg, (void) result;
    fx_crash(NULL, "task boom");
}

typedef struct report {
    int32_t step, rc, kind;
    uint64_t value;
    fx_reason reason;
} report;

typedef struct owner {
    fx_pid inbox;
    fx_task task;
    fx_task_opts opts;
    int mode;
    int step;
} owner;

enum { M_AWAIT_TWICE = 1, M_NOTHING_AFTER, M_TRAP_CRASH };

static void say(fx_ctx *cx, int rc, const fx_task_result *r, uint64_t value)
{
    owner *o = fx_state(cx);
    report rep = {.step = o->step++, .rc = rc, .value = value};
    if (rc == 0 && r) {
        rep.kind = r->kind;
        rep.reason = r->reason;
        if (r->kind == FX_TASK_DONE && r->size == sizeof rep.value)
            memcpy(&rep.value, r->data, sizeof rep.value);
    }
    (void) fx_send(cx, o->inbox, REPORT, &rep, sizeof rep);
}

static fx_next last(fx_ctx *cx, fx_msg *m)
{
    owner *o = fx_state(cx);
    if (o->mode == M_NOTHING_AFTER) {
        /* Anything about the task after its outcome was taken is a stray. */
        say(cx, fx_msg_type(m) == FX_MSG_TIMEOUT ? 0 : -1000, NULL, fx_msg_type(m));
        say(cx, fx_task_cancel(cx, o->task), NULL, 0);
    } else { /* M_TRAP_CRASH: the EXIT from the task, or the timeout */
        uint64_t from_task =
            fx_msg_type(m) == FX_MSG_EXIT && fx_pid_eq(fx_msg_from(m), o->task.pid);
        say(cx, 0, NULL, from_task);
    }
    return fx_stop(cx, fx_reason_normal());
}

static fx_next on_outcome(fx_ctx *cx, fx_msg *m)
{
    owner *o = fx_state(cx);
    fx_task_result r;
    int rc = fx_task_result_get(cx, o->task, m, &r);
    say(cx, rc, &r, 0);
    if (o->mode == M_AWAIT_TWICE && rc == 0 && r.kind == FX_TASK_TIMEOUT)
        return fx_task_await(cx, o->task, on_outcome, FX_INFINITY);
    if (o->mode == M_NOTHING_AFTER)
        return fx_receive(cx, last, &(fx_match){.ref = o->task.ref}, 300);
    if (o->mode == M_TRAP_CRASH)
        return fx_receive(cx, last, &(fx_match){.type = FX_MSG_EXIT}, 5000);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next owner_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    owner *o = fx_state(cx);
    if (o->mode == M_TRAP_CRASH)
        (void) fx_trap_exit(cx, true);
    int rc = fx_task_async(cx, &o->opts, &o->task);
    if (rc != 0) {
        say(cx, rc, NULL, 0);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_task_await(cx, o->task, on_outcome, o->mode == M_AWAIT_TWICE ? 10 : 10000);
}

static void start_owner(tvm *t, const fx_task_opts *opts, int mode)
{
    owner init = {.inbox = t->me, .opts = *opts, .mode = mode};
    fx_pid p = spawn_state(t->vm, owner_go, &init, sizeof init);
    cr_assert_eq(fx_vm_send(t->vm, p, GO, NULL, 0), 0);
}

static report recv_report(tvm *t)
{
    fx_msg *m = tvm_recv(t, REPORT);
    report r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

/* task.h:66: "On a timeout the task keeps running: await again". */
Test(review8_task, await_again_after_a_timeout_gets_the_result)
{
    tvm t = tvm_start_quiet(2);
    for (int blocking = 0; blocking < 2; blocking++) {
        atomic_store(&gate, 0);
        fx_task_opts o = {.fn = gated_twice, .arg = (void *) 21, .blocking = blocking};
        start_owner(&t, &o, M_AWAIT_TWICE);
        report r = recv_report(&t);
        cr_assert_eq(r.rc, 0);
        cr_assert_eq(r.kind, FX_TASK_TIMEOUT);
        atomic_store(&gate, 1);
        r = recv_report(&t);
        cr_assert_eq(r.rc, 0);
        cr_assert_eq(r.kind, FX_TASK_DONE, "kind %d", r.kind);
        cr_assert_eq(r.value, 42);
    }
    tvm_stop(&t);
}

/* task.h:83-85: once DONE was decoded nothing more arrives for the task
 * (its DOWN normal included); task.h:94-97: cancel then answers
 * FX_ENOENT. */
Test(review8_task, nothing_after_the_outcome_and_cancel_answers_enoent)
{
    tvm t = tvm_start_quiet(2);
    atomic_store(&gate, 1);
    for (int blocking = 0; blocking < 2; blocking++) {
        fx_task_opts o = {.fn = gated_twice, .arg = (void *) 4, .blocking = blocking};
        start_owner(&t, &o, M_NOTHING_AFTER);
        report r = recv_report(&t);
        cr_assert_eq(r.rc, 0);
        cr_assert_eq(r.kind, FX_TASK_DONE);
        cr_assert_eq(r.value, 8);
        r = recv_report(&t);
        cr_assert_eq(r.rc, 0, "a message of type %llu about the task came after DONE",
                     (unsigned long long) r.value);
        r = recv_report(&t);
        cr_assert_eq(r.rc, FX_ENOENT, "cancel after the outcome: %s", fx_err_name(r.rc));
    }
    tvm_stop(&t);
}

/* Elixir: an owner that traps exits survives its linked task's crash; it
 * gets the DOWN (EXITED) and the EXIT message (task.h:22-24). */
Test(review8_task, a_trapping_owner_survives_a_linked_crash)
{
    tvm t = tvm_start_quiet(2);
    for (int blocking = 0; blocking < 2; blocking++) {
        fx_task_opts o = {.fn = crash_fn, .blocking = blocking};
        start_owner(&t, &o, M_TRAP_CRASH);
        report r = recv_report(&t);
        cr_assert_eq(r.rc, 0);
        cr_assert_eq(r.kind, FX_TASK_EXITED, "kind %d", r.kind);
        cr_assert_neq(r.reason.kind, FX_REASON_NORMAL);
        r = recv_report(&t);
        cr_assert_eq(r.value, 1, "no EXIT from the linked task");
    }
    tvm_stop(&t);
}

/* task.h:26-27: an owner that dies abnormally takes its linked task
 * process with it (a running pool job still completes); one that exits
 * normally leaves it running, as a normal exit signal does in Erlang. */
typedef struct dier {
    fx_pid inbox;
    fx_reason why;
} dier;

static fx_next die_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    dier *d = fx_state(cx);
    fx_task_opts o = {.fn = gated_twice, .arg = (void *) 1, .blocking = true};
    fx_task task;
    if (fx_task_async(cx, &o, &task) != 0)
        task.pid = FX_PID_NONE;
    (void) fx_send(cx, d->inbox, REPORT, &task.pid, sizeof task.pid);
    return fx_stop(cx, d->why);
}

static fx_pid task_of_dying_owner(tvm *t, fx_reason why)
{
    dier init = {.inbox = t->me, .why = why};
    fx_pid p = spawn_state(t->vm, die_go, &init, sizeof init);
    cr_assert_eq(fx_vm_send(t->vm, p, GO, NULL, 0), 0);
    fx_msg *m = tvm_recv(t, REPORT);
    fx_pid task;
    memcpy(&task, fx_msg_data(m), sizeof task);
    fx_msg_free(m);
    cr_assert(!fx_pid_is_none(task));
    return task;
}

Test(review8_task, linked_task_dies_with_its_owner_unless_normal)
{
    tvm t = tvm_start_quiet(2);
    fx_reason whys[] = {fx_reason_error(3, "owner dies"), fx_reason_shutdown(),
                        fx_reason_normal()};
    for (int i = 0; i < 3; i++) {
        atomic_store(&gate, 0);
        fx_pid task = task_of_dying_owner(&t, whys[i]);
        int alive = 1;
        for (int j = 0; j < 200 && (alive = fx_is_alive(t.vm, task)) == 1; j++)
            usleep(1000);
        if (i < 2)
            cr_assert_eq(alive, 0, "case %d: the task outlived its owner", i);
        else
            cr_assert_eq(alive, 1, "a normal exit of the owner killed its task");
        atomic_store(&gate, 1);
        for (int j = 0; j < 5000 && fx_is_alive(t.vm, task) == 1; j++)
            usleep(1000);
    }
    tvm_stop(&t);
}
