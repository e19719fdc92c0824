/* Registry: names, groups, sending and calling by name, GenServers and
 * plain actors started with a name, registry restarts. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"

/* ---- helpers ------------------------------------------------------------------- */

enum { PING = 1, CMD, REPORT, HELLO, INITED, CLEANED };

/* Polls cond (an expression) every millisecond for up to 10 s: for
 * effects that follow a DOWN the test does not see. */
#define EVENTUALLY(cond)                                                                 \
    do {                                                                                 \
        int tries_ = 0;                                                                  \
        while (!(cond) && tries_++ < 10000)                                              \
            usleep(1000);                                                                \
        cr_assert(cond, "never became true: %s", #cond);                                 \
    } while (0)

static fx_next idle(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

/* Forwards every message to the pid in its state, with its own type. */
static fx_next relay(fx_ctx *cx, fx_msg *m)
{
    fx_pid *to = fx_state(cx);
    fx_send(cx, *to, fx_msg_type(m), fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

static fx_pid spawn_idle(tvm *t)
{
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t->vm, idle, NULL, &p), 0);
    return p;
}

static fx_pid spawn_relay(tvm *t)
{
    return spawn_state(t->vm, relay, &t->me, sizeof t->me);
}

/* Stops p (an exit signal) and waits until it is gone. */
static void kill_and_wait(tvm *t, fx_pid p)
{
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t->in, p, &ref), 0);
    cr_assert_eq(fx_vm_exit(t->vm, p, fx_reason_kill()), 0);
    fx_msg *m;
    cr_assert_eq(
        fx_inbox_recv(t->in, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, 10000, &m), 0);
    fx_msg_free(m);
}

static bool name_is_free(fx_vm *vm, const char *name)
{
    fx_pid p;
    return fx_whereis(vm, name, &p) == FX_ENOENT;
}

/* ---- a scriptable actor that uses the API from inside the VM --------------------- */

enum {
    OP_REGISTER = 1, /* fx_register_async(name, pid or self) */
    OP_UNREGISTER,
    OP_JOIN,
    OP_LEAVE,
    OP_SEND_NAMED,
    OP_GROUP_SEND,
    OP_BLOCKING, /* fx_register through an inbox, on a scheduler thread */
    OP_SPAWN_NAMED,
    OP_GS_START,
    OP_CALL_NAMED,
};

typedef struct cmd {
    uint32_t op;
    char name[FX_NAME_MAX];
    fx_pid pid;
    fx_inbox *inbox;
    const fx_gs_spec *spec;
} cmd;

typedef struct report {
    int32_t rc;
    fx_pid pid;
    fx_ref ref;
    uint64_t value;
} report;

static fx_next probe(fx_ctx *cx, fx_msg *m);

static void tell(fx_ctx *cx, report r)
{
    fx_pid *owner = fx_state(cx);
    fx_send(cx, *owner, REPORT, &r, sizeof r);
}

static fx_next after_write(fx_ctx *cx, fx_msg *m)
{
    report r = {0};
    r.rc = fx_registry_result(cx, m, &r.pid);
    tell(cx, r);
    return fx_become(cx, probe);
}

static fx_next after_start(fx_ctx *cx, fx_msg *m)
{
    report r = {0};
    r.rc = fx_gs_start_result(cx, m, &r.pid, NULL);
    tell(cx, r);
    return fx_become(cx, probe);
}

static fx_next after_call(fx_ctx *cx, fx_msg *m)
{
    report r = {0};
    const void *data;
    size_t size;
    r.rc = fx_gs_call_result(cx, m, &data, &size, NULL);
    if (r.rc == 0 && size == sizeof r.value)
        memcpy(&r.value, data, sizeof r.value);
    tell(cx, r);
    return fx_become(cx, probe);
}

static fx_next named_child_init(fx_ctx *cx, void *arg);

static fx_next probe(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == FX_MSG_DOWN) { /* of a child it monitors */
        const fx_down_info *d = fx_msg_data(m);
        tell(cx, (report){.rc = d->reason.code, .pid = d->pid, .value = d->reason.kind});
        return fx_continue(cx);
    }
    if (fx_msg_type(m) != CMD)
        return fx_continue(cx);
    cmd c;
    memcpy(&c, fx_msg_data(m), sizeof c);
    fx_pid who = c.pid.id ? c.pid : fx_self(cx);
    report r = {0};
    switch (c.op) {
    case OP_REGISTER:
        return fx_register_async(cx, c.name, who, after_write);
    case OP_UNREGISTER:
        return fx_unregister_async(cx, c.name, after_write);
    case OP_JOIN:
        return fx_group_join_async(cx, c.name, who, after_write);
    case OP_LEAVE:
        return fx_group_leave_async(cx, c.name, who, after_write);
    case OP_SEND_NAMED:
        r.rc = fx_send_named(cx, c.name, PING, "hi", 3);
        break;
    case OP_GROUP_SEND:
        r.rc = fx_group_send(cx, c.name, PING, "all", 4);
        break;
    case OP_BLOCKING:
        r.rc = fx_register(c.inbox, c.name, fx_self(cx), NULL);
        break;
    case OP_SPAWN_NAMED: {
        fx_pid *owner = fx_state(cx);
        fx_spawn_opts o = {.init = named_child_init,
                           .init_arg = (void *) (uintptr_t) owner->id,
                           .handler = idle};
        r.rc = fx_spawn_named(cx, c.name, &o, &r.pid, &r.ref);
        break;
    }
    case OP_GS_START:
        return fx_gs_start_async(cx, c.spec, after_start);
    case OP_CALL_NAMED:
        return fx_gs_call_named_async(cx, c.name, 1, NULL, 0, 5000, after_call);
    }
    tell(cx, r);
    return fx_continue(cx);
}

static fx_pid spawn_probe(tvm *t)
{
    return spawn_state(t->vm, probe, &t->me, sizeof t->me);
}

static report probe_do(tvm *t, fx_pid probe_pid, cmd c)
{
    cr_assert_eq(fx_inbox_send(t->in, probe_pid, CMD, &c, sizeof c), 0);
    fx_msg *m;
    int rc =
        fx_inbox_recv(t->in, &(fx_match){.type = REPORT, .from = probe_pid}, 10000, &m);
    cr_assert_eq(rc, 0, "no report from the probe: %s", fx_strerror(rc));
    report r;
    memcpy(&r, fx_msg_data(m), sizeof r);
    fx_msg_free(m);
    return r;
}

static cmd named(uint32_t op, const char *name, fx_pid pid)
{
    cmd c = {.op = op, .pid = pid};
    snprintf(c.name, sizeof c.name, "%s", name);
    return c;
}

/* ---- names ------------------------------------------------------------------------ */

Test(registry, register_whereis_unregister)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_idle(&t), got = FX_PID_NONE;
    cr_assert_eq(fx_whereis(t.vm, "alice", &got), FX_ENOENT);
    cr_assert_eq(fx_register(t.in, "alice", p, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "alice", &got), 0);
    cr_assert(fx_pid_eq(got, p));
    cr_assert_eq(fx_unregister(t.in, "alice"), 0);
    cr_assert_eq(fx_whereis(t.vm, "alice", &got), FX_ENOENT);
    cr_assert_eq(fx_unregister(t.in, "alice"), FX_ENOENT);
    /* Free again: anyone may take it. */
    fx_pid q = spawn_idle(&t);
    cr_assert_eq(fx_register(t.in, "alice", q, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "alice", &got), 0);
    cr_assert(fx_pid_eq(got, q));
    tvm_stop(&t);
}

Test(registry, a_taken_name_is_eexist_and_names_its_holder)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_idle(&t), q = spawn_idle(&t), holder = FX_PID_NONE, got;
    cr_assert_eq(fx_register(t.in, "svc", p, NULL), 0);
    cr_assert_eq(fx_register(t.in, "svc", q, &holder), FX_EEXIST);
    cr_assert(fx_pid_eq(holder, p));
    cr_assert_eq(fx_whereis(t.vm, "svc", &got), 0);
    cr_assert(fx_pid_eq(got, p));
    tvm_stop(&t);
}

Test(registry, one_name_per_pid)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_idle(&t), holder = FX_PID_NONE, got;
    cr_assert_eq(fx_register(t.in, "first", p, NULL), 0);
    cr_assert_eq(fx_register(t.in, "second", p, &holder), FX_EEXIST);
    cr_assert(fx_pid_eq(holder, p), "the pid itself holds a name");
    cr_assert_eq(fx_whereis(t.vm, "second", &got), FX_ENOENT);
    /* After unregistering, it may take another. */
    cr_assert_eq(fx_unregister(t.in, "first"), 0);
    cr_assert_eq(fx_register(t.in, "second", p, NULL), 0);
    tvm_stop(&t);
}

Test(registry, a_dead_pid_is_enoproc)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_idle(&t), got;
    kill_and_wait(&t, p);
    cr_assert_eq(fx_register(t.in, "ghost", p, NULL), FX_ENOPROC);
    cr_assert_eq(fx_group_join(t.in, "ghosts", p), FX_ENOPROC);
    cr_assert_eq(fx_whereis(t.vm, "ghost", &got), FX_ENOENT);
    cr_assert_eq(fx_group_members(t.vm, "ghosts", NULL, 0), 0);
    tvm_stop(&t);
}

Test(registry, bad_names_are_einval)
{
    tvm t = tvm_start(1);
    fx_pid p = spawn_idle(&t), got;
    char longest[FX_NAME_MAX], too_long[FX_NAME_MAX + 1];
    memset(longest, 'x', sizeof longest - 1);
    longest[FX_NAME_MAX - 1] = '\0';
    memset(too_long, 'y', sizeof too_long - 1);
    too_long[FX_NAME_MAX] = '\0';
    const char *bad[] = {NULL, "", too_long};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(fx_register(t.in, bad[i], p, NULL), FX_EINVAL);
        cr_assert_eq(fx_unregister(t.in, bad[i]), FX_EINVAL);
        cr_assert_eq(fx_whereis(t.vm, bad[i], &got), FX_EINVAL);
        cr_assert_eq(fx_vm_send_named(t.vm, bad[i], PING, NULL, 0), FX_EINVAL);
        cr_assert_eq(fx_group_join(t.in, bad[i], p), FX_EINVAL);
        cr_assert_eq(fx_group_members(t.vm, bad[i], NULL, 0), FX_EINVAL);
        cr_assert_eq(fx_vm_group_send(t.vm, bad[i], PING, NULL, 0), FX_EINVAL);
        fx_spawn_opts o = {.handler = idle};
        cr_assert_eq(fx_inbox_spawn_named(t.in, bad[i], &o, NULL, NULL), FX_EINVAL);
    }
    /* FX_NAME_MAX - 1 bytes is the longest name. */
    cr_assert_eq(fx_register(t.in, longest, p, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, longest, &got), 0);
    cr_assert(fx_pid_eq(got, p));
    /* Other bad arguments. */
    cr_assert_eq(fx_register(t.in, "nobody", FX_PID_NONE, NULL), FX_EINVAL);
    cr_assert_eq(fx_register(NULL, "x", p, NULL), FX_EINVAL);
    cr_assert_eq(fx_whereis(NULL, "x", &got), FX_EINVAL);
    cr_assert_eq(fx_whereis(t.vm, "x", NULL), FX_EINVAL);
    cr_assert_eq(fx_registered(NULL, NULL, 0), FX_EINVAL);
    cr_assert_eq(fx_registered(t.vm, NULL, 3), FX_EINVAL);
    tvm_stop(&t);
}

Test(registry, reads_never_start_the_registry)
{
    tvm t = tvm_start(1);
    fx_pid got;
    cr_assert_eq(fx_whereis(t.vm, "x", &got), FX_ENOENT);
    cr_assert_eq(fx_registered(t.vm, NULL, 0), 0);
    cr_assert_eq(fx_group_members(t.vm, "g", NULL, 0), 0);
    cr_assert_eq(fx_vm_group_send(t.vm, "g", PING, NULL, 0), 0);
    cr_assert_eq(fx_vm_send_named(t.vm, "x", PING, NULL, 0), FX_ENOENT);
    cr_assert_eq(fx_registry_pid(t.vm, &got), FX_ENOENT);
    fx_vm_stats st;
    fx_vm_stats_get(t.vm, &st);
    cr_assert_eq(st.processes, 0, "%llu processes", (unsigned long long) st.processes);
    tvm_stop(&t);
}

Test(registry, the_name_is_freed_when_its_process_dies)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_idle(&t), q = spawn_idle(&t), got;
    cr_assert_eq(fx_register(t.in, "mortal", p, NULL), 0);
    kill_and_wait(&t, p);
    /* The registry learns it from its own DOWN. */
    EVENTUALLY(name_is_free(t.vm, "mortal"));
    cr_assert_eq(fx_register(t.in, "mortal", q, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "mortal", &got), 0);
    cr_assert(fx_pid_eq(got, q));
    tvm_stop(&t);
}

Test(registry, a_dead_holder_does_not_block_its_name)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_idle(&t), q = spawn_idle(&t), got;
    cr_assert_eq(fx_register(t.in, "seat", p, NULL), 0);
    kill_and_wait(&t, p);
    /* At once, whether or not the registry has had p's DOWN yet. */
    cr_assert_eq(fx_register(t.in, "seat", q, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "seat", &got), 0);
    cr_assert(fx_pid_eq(got, q));
    tvm_stop(&t);
}

/* A holder whose cleanup waits: its pid is stale (fx_is_alive says 0)
 * but it has not told its monitors yet, so the registry cannot have its
 * DOWN. A new holder must still get the name (a restarted server
 * re-registering while the old one's exit is still being processed). */
static sem_t cleanup_gate;

static void slow_cleanup(void *state, const fx_reason *reason)
{
    (void) state, (void) reason;
    sem_wait(&cleanup_gate);
}

Test(registry, a_dying_holder_does_not_block_its_name)
{
    tvm t = tvm_start(2);
    sem_init(&cleanup_gate, 0, 0);
    fx_spawn_opts o = {.handler = idle, .cleanup = slow_cleanup};
    fx_pid p, q = spawn_idle(&t), got;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    cr_assert_eq(fx_register(t.in, "seat2", p, NULL), 0);
    cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
    EVENTUALLY(fx_is_alive(t.vm, p) == 0); /* stale, stuck in its cleanup */
    cr_assert_eq(fx_register(t.in, "seat2", q, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "seat2", &got), 0);
    cr_assert(fx_pid_eq(got, q));
    sem_post(&cleanup_gate);
    /* p's late DOWN must not take q's name away. */
    fx_pid r = spawn_idle(&t);
    cr_assert_eq(fx_register(t.in, "after", r, NULL), 0); /* a round trip */
    cr_assert_eq(fx_whereis(t.vm, "seat2", &got), 0);
    cr_assert(fx_pid_eq(got, q));
    tvm_stop(&t);
}

/* registry.h: fx_registered leaves out a name whose holder has exited,
 * as fx_whereis does, even while the holder's DOWN cannot have reached
 * the registry (its cleanup waits). */
Test(registry, registered_lists_no_exited_holder)
{
    tvm t = tvm_start(2);
    sem_init(&cleanup_gate, 0, 0);
    fx_spawn_opts o = {.handler = idle, .cleanup = slow_cleanup};
    fx_pid p, q = spawn_idle(&t), got;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    cr_assert_eq(fx_register(t.in, "gone", p, NULL), 0);
    cr_assert_eq(fx_register(t.in, "here", q, NULL), 0);
    cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
    EVENTUALLY(fx_is_alive(t.vm, p) == 0); /* stale, stuck in its cleanup */
    cr_assert_eq(fx_whereis(t.vm, "gone", &got), FX_ENOENT);
    fx_registered_name all[4];
    cr_assert_eq(fx_registered(t.vm, all, 4), 1);
    cr_assert_str_eq(all[0].name, "here");
    cr_assert(fx_pid_eq(all[0].pid, q));
    sem_post(&cleanup_gate);
    tvm_stop(&t);
}

/* ...and an array too small for every name gets a count above cap and
 * no name twice (the names copied are taken as they are). */
Test(registry, registered_with_a_short_array_says_to_call_again)
{
    tvm t = tvm_start(2);
    sem_init(&cleanup_gate, 0, 0);
    fx_spawn_opts o = {.handler = idle, .cleanup = slow_cleanup};
    fx_pid p, q = spawn_idle(&t), r = spawn_idle(&t);
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    cr_assert_eq(fx_register(t.in, "gone2", p, NULL), 0);
    cr_assert_eq(fx_register(t.in, "q", q, NULL), 0);
    cr_assert_eq(fx_register(t.in, "r", r, NULL), 0);
    cr_assert_eq(fx_vm_exit(t.vm, p, fx_reason_kill()), 0);
    EVENTUALLY(fx_is_alive(t.vm, p) == 0); /* stale, stuck in its cleanup */
    fx_registered_name few[2];
    cr_assert_gt(fx_registered(t.vm, few, 2), 2);
    cr_assert_str_neq(few[0].name, few[1].name);
    fx_registered_name all[3];
    cr_assert_eq(fx_registered(t.vm, all, 3), 2);
    cr_assert_str_neq(all[0].name, all[1].name);
    for (int i = 0; i < 2; i++)
        cr_assert_str_neq(all[i].name, "gone2");
    sem_post(&cleanup_gate);
    tvm_stop(&t);
}

Test(registry, registered_is_a_snapshot_of_every_name)
{
    tvm t = tvm_start(2);
    enum { N = 40 };
    fx_pid pids[N];
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%02d", i);
        pids[i] = spawn_idle(&t);
        cr_assert_eq(fx_register(t.in, name, pids[i], NULL), 0);
    }
    cr_assert_eq(fx_registered(t.vm, NULL, 0), N);
    fx_registered_name few[5];
    cr_assert_eq(fx_registered(t.vm, few, 5), N, "the count, beyond cap");
    fx_registered_name all[N + 1];
    cr_assert_eq(fx_registered(t.vm, all, N + 1), N);
    bool seen[N] = {false};
    for (int i = 0; i < N; i++) {
        int k = atoi(all[i].name + 1);
        cr_assert(k >= 0 && k < N && !seen[k], "name %s", all[i].name);
        seen[k] = true;
        cr_assert(fx_pid_eq(all[i].pid, pids[k]));
    }
    cr_assert_eq(fx_unregister(t.in, "n07"), 0);
    cr_assert_eq(fx_registered(t.vm, all, N + 1), N - 1);
    for (int i = 0; i < N - 1; i++)
        cr_assert_str_neq(all[i].name, "n07");
    tvm_stop(&t);
}

static uint64_t pending_frees(tvm *t)
{
    fx_registry_stats info;
    cr_assert_eq(fx_registry_stats_get(t->in, &info), 0);
    return info.pending;
}

Test(registry, removed_entries_are_reclaimed)
{
    tvm t = tvm_start(2);
    fx_registry_stats info;
    cr_assert_eq(fx_registry_stats_get(t.in, &info), FX_ENOENT, "no registry yet");
    fx_pid p = spawn_idle(&t), got;
    cr_assert_eq(fx_register(t.in, "r1", p, NULL), 0);
    cr_assert_eq(fx_group_join(t.in, "rg", p), 0);
    cr_assert_eq(fx_registry_stats_get(t.in, &info), 0);
    cr_assert_eq(info.names, 1);
    cr_assert_eq(info.groups, 1);
    /* Readers on this thread, between the writes. */
    cr_assert_eq(fx_whereis(t.vm, "r1", &got), 0);
    cr_assert_eq(fx_unregister(t.in, "r1"), 0);
    cr_assert_eq(fx_group_leave(t.in, "rg", p), 0);
    cr_assert_eq(fx_registry_stats_get(t.in, &info), 0);
    cr_assert_eq(info.names, 0);
    cr_assert_eq(info.groups, 0);
    cr_assert_geq(info.retired, 2, "entry and group retired");
    /* Freed once no read section can see them (the registry polls). */
    EVENTUALLY(pending_frees(&t) == 0);
    tvm_stop(&t);
}

/* ---- from inside the VM ------------------------------------------------------------ */

Test(registry, a_handler_registers_itself_and_others)
{
    tvm t = tvm_start(2);
    fx_pid pr = spawn_probe(&t), other = spawn_idle(&t), got;
    report r = probe_do(&t, pr, named(OP_REGISTER, "me", FX_PID_NONE));
    cr_assert_eq(r.rc, 0, "%s", fx_err_name(r.rc));
    cr_assert_eq(fx_whereis(t.vm, "me", &got), 0);
    cr_assert(fx_pid_eq(got, pr));
    r = probe_do(&t, pr, named(OP_REGISTER, "me", other));
    cr_assert_eq(r.rc, FX_EEXIST);
    cr_assert(fx_pid_eq(r.pid, pr), "holder");
    r = probe_do(&t, pr, named(OP_REGISTER, "", other));
    cr_assert_eq(r.rc, FX_EINVAL);
    r = probe_do(&t, pr, named(OP_UNREGISTER, "me", FX_PID_NONE));
    cr_assert_eq(r.rc, 0);
    r = probe_do(&t, pr, named(OP_UNREGISTER, "me", FX_PID_NONE));
    cr_assert_eq(r.rc, FX_ENOENT);
    tvm_stop(&t);
}

Test(registry, the_first_write_may_come_from_a_handler)
{
    tvm t = tvm_start(2);
    fx_pid pr = spawn_probe(&t), got;
    cr_assert_eq(fx_registry_pid(t.vm, &got), FX_ENOENT);
    /* No registry yet: the handler waits for it through its mailbox. */
    report r = probe_do(&t, pr, named(OP_REGISTER, "early", FX_PID_NONE));
    cr_assert_eq(r.rc, 0, "%s", fx_err_name(r.rc));
    cr_assert_eq(fx_registry_pid(t.vm, &got), 0);
    cr_assert_eq(fx_whereis(t.vm, "early", &got), 0);
    cr_assert(fx_pid_eq(got, pr));
    tvm_stop(&t);
}

Test(registry, blocking_writes_are_refused_on_a_scheduler_thread)
{
    tvm t = tvm_start(1);
    fx_pid pr = spawn_probe(&t);
    cmd c = named(OP_BLOCKING, "x", FX_PID_NONE);
    c.inbox = t.in;
    report r = probe_do(&t, pr, c);
    cr_assert_eq(r.rc, FX_EWOULDBLOCK);
    fx_spawn_opts o = {.handler = idle};
    cr_assert_eq(fx_inbox_spawn_named(NULL, "x", &o, NULL, NULL), FX_EINVAL);
    tvm_stop(&t);
}

/* Many threads make the first writes of a fresh VM at once: one registry
 * serves them all (a second one would replace the first's table and
 * lose names). */
typedef struct first_user {
    tvm *t;
    int id;
    int rc;
    fx_pid pid;
} first_user;

static void *first_use(void *p)
{
    first_user *u = p;
    fx_inbox *in;
    if ((u->rc = fx_inbox_create(u->t->vm, &in)) != 0)
        return NULL;
    char name[16];
    snprintf(name, sizeof name, "racer%d", u->id);
    u->rc = fx_register(in, name, u->pid, NULL);
    fx_inbox_destroy(in);
    return NULL;
}

Test(registry, concurrent_first_users_share_one_registry)
{
    tvm t = tvm_start(2);
    enum { N = 8 };
    first_user us[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        us[i] = (first_user){.t = &t, .id = i, .pid = spawn_idle(&t)};
        pthread_create(&th[i], NULL, first_use, &us[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(us[i].rc, 0, "%s", fx_err_name(us[i].rc));
    }
    for (int i = 0; i < N; i++) {
        char name[16];
        fx_pid got;
        snprintf(name, sizeof name, "racer%d", i);
        cr_assert_eq(fx_whereis(t.vm, name, &got), 0, "%s lost", name);
        cr_assert(fx_pid_eq(got, us[i].pid));
    }
    tvm_stop(&t);
}

/* ---- sending and calling by name -------------------------------------------------- */

Test(registry_send, send_by_name)
{
    tvm t = tvm_start(2);
    fx_pid r = spawn_relay(&t), pr = spawn_probe(&t);
    cr_assert_eq(fx_register(t.in, "relay", r, NULL), 0);
    uint64_t v = 42;
    cr_assert_eq(fx_vm_send_named(t.vm, "relay", PING, &v, sizeof v), 0);
    cr_assert_eq(tvm_recv_u64(&t, PING), 42);
    /* From a handler. */
    report rep = probe_do(&t, pr, named(OP_SEND_NAMED, "relay", FX_PID_NONE));
    cr_assert_eq(rep.rc, 0);
    fx_msg *m = tvm_recv(&t, PING);
    cr_assert_str_eq(fx_msg_data(m), "hi");
    fx_msg_free(m);
    /* No such name: nothing sent. */
    cr_assert_eq(fx_vm_send_named(t.vm, "nobody", PING, &v, sizeof v), FX_ENOENT);
    rep = probe_do(&t, pr, named(OP_SEND_NAMED, "nobody", FX_PID_NONE));
    cr_assert_eq(rep.rc, FX_ENOENT);
    tvm_stop(&t);
}

enum { C_GET = 1 };
enum { K_ADD = 10 };

static int counter_inits; /* how many times c_init ran */

static fx_gs_ret c_init(fx_ctx *cx, void *arg, void **state)
{
    __atomic_fetch_add(&counter_inits, 1, __ATOMIC_RELAXED);
    uint64_t *n = calloc(1, sizeof *n);
    *n = arg ? *(const uint64_t *) arg : 0;
    *state = n;
    return fx_gs_ok(cx);
}

static fx_gs_ret c_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    (void) from, (void) type, (void) data, (void) size;
    return fx_gs_reply(cx, state, sizeof(uint64_t));
}

static fx_gs_ret c_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size)
{
    (void) type;
    uint64_t add = 0;
    if (size == sizeof add)
        memcpy(&add, data, sizeof add);
    *(uint64_t *) state += add;
    return fx_gs_noreply(cx);
}

static void c_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm, (void) reason;
    free(state);
}

static const fx_gs_ops counter_ops = {.init = c_init,
                                      .handle_call = c_call,
                                      .handle_cast = c_cast,
                                      .terminate = c_terminate};

static uint64_t call_get(tvm *t, const char *name)
{
    fx_msg *reply;
    int rc = fx_gs_call_named(t->in, name, C_GET, NULL, 0, 5000, &reply, NULL);
    cr_assert_eq(rc, 0, "call %s: %s", name, fx_err_name(rc));
    uint64_t v;
    memcpy(&v, fx_msg_data(reply), sizeof v);
    fx_msg_free(reply);
    return v;
}

Test(registry_send, call_and_cast_by_name)
{
    tvm t = tvm_start(2);
    uint64_t start = 5;
    fx_gs_spec spec = {.ops = &counter_ops, .arg = &start, .name = "counter"};
    fx_pid server;
    cr_assert_eq(fx_gs_start(t.in, &spec, &server, NULL), 0);
    cr_assert_eq(call_get(&t, "counter"), 5);
    uint64_t add = 3;
    cr_assert_eq(fx_vm_gs_cast_named(t.vm, "counter", K_ADD, &add, sizeof add), 0);
    cr_assert_eq(call_get(&t, "counter"), 8);
    fx_msg *reply = (fx_msg *) 1;
    cr_assert_eq(fx_gs_call_named(t.in, "nobody", C_GET, NULL, 0, 5000, &reply, NULL),
                 FX_ENOENT);
    cr_assert_null(reply);
    cr_assert_eq(fx_vm_gs_cast_named(t.vm, "nobody", K_ADD, &add, sizeof add), FX_ENOENT);
    /* From a handler. */
    fx_pid pr = spawn_probe(&t);
    report r = probe_do(&t, pr, named(OP_CALL_NAMED, "counter", FX_PID_NONE));
    cr_assert_eq(r.rc, 0);
    cr_assert_eq(r.value, 8);
    r = probe_do(&t, pr, named(OP_CALL_NAMED, "nobody", FX_PID_NONE));
    cr_assert_eq(r.rc, FX_ENOENT);
    tvm_stop(&t);
}

/* ---- GenServers and actors started with a name ------------------------------------ */

Test(registry_named, a_genserver_with_a_name_is_findable_once_started)
{
    tvm t = tvm_start(2);
    fx_gs_spec spec = {.ops = &counter_ops, .name = "named_server"};
    fx_pid server, got, holder = FX_PID_NONE;
    cr_assert_eq(fx_gs_start(t.in, &spec, &server, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "named_server", &got), 0);
    cr_assert(fx_pid_eq(got, server));
    cr_assert_eq(counter_inits, 1);
    /* A second one with the same name: refused, init never runs. */
    cr_assert_eq(fx_gs_start(t.in, &spec, &holder, NULL), FX_EEXIST);
    cr_assert(fx_pid_eq(holder, server));
    cr_assert_eq(counter_inits, 1);
    /* Linked: the refused server leaves no EXIT behind. */
    spec.link = true;
    cr_assert_eq(fx_gs_start(t.in, &spec, NULL, NULL), FX_EEXIST);
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.type = FX_MSG_EXIT}, 50, &m),
                 FX_ETIMEDOUT);
    /* Stopped: its name goes with it, and a restart takes it again at
     * once (the registry treats a dead holder's name as free). */
    cr_assert_eq(fx_gs_stop_server(t.in, server, fx_reason_shutdown(), 5000, NULL), 0);
    spec.link = false;
    fx_pid again;
    cr_assert_eq(fx_gs_start(t.in, &spec, &again, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "named_server", &got), 0);
    cr_assert(fx_pid_eq(got, again));
    cr_assert_eq(counter_inits, 2);
    /* A bad name is refused before anything starts. */
    char too_long[FX_NAME_MAX + 1];
    memset(too_long, 'z', FX_NAME_MAX);
    too_long[FX_NAME_MAX] = '\0';
    spec.name = too_long;
    cr_assert_eq(fx_gs_start(t.in, &spec, NULL, NULL), FX_EINVAL);
    spec.name = "";
    cr_assert_eq(fx_gs_start(t.in, &spec, NULL, NULL), FX_EINVAL);
    tvm_stop(&t);
}

Test(registry_named, a_supervised_named_server_is_registered_again_after_a_restart)
{
    tvm t = tvm_start(2);
    static const fx_gs_spec spec = {.ops = &counter_ops, .name = "svc"};
    fx_child_spec child = {
        .id = "svc", .start = fx_child_gen_server, .arg = (void *) &spec};
    fx_sup_spec sup;
    fx_sup_spec_init(&sup);
    sup.intensity = 5;
    sup.children = &child;
    sup.nchildren = 1;
    fx_pid sp, first, got;
    cr_assert_eq(fx_sup_start(t.in, &sup, &sp, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "svc", &first), 0);
    cr_assert_eq(fx_is_alive(t.vm, first), 1);
    kill_and_wait(&t, first);
    /* The restarted server took its name again, under a new pid. */
    EVENTUALLY(fx_whereis(t.vm, "svc", &got) == 0 && !fx_pid_eq(got, first) &&
               fx_is_alive(t.vm, got) == 1);
    fx_child_info info;
    cr_assert_eq(fx_sup_which_children(t.in, sp, &info, 1, 5000), 1);
    cr_assert(fx_pid_eq(info.pid, got));
    /* Stopping the tree frees the name. */
    cr_assert_eq(fx_gs_stop_server(t.in, sp, fx_reason_shutdown(), 5000, NULL), 0);
    EVENTUALLY(name_is_free(t.vm, "svc"));
    tvm_stop(&t);
}

Test(registry_named, a_named_genserver_started_from_a_handler)
{
    tvm t = tvm_start(2);
    fx_pid pr = spawn_probe(&t), got;
    fx_gs_spec spec = {.ops = &counter_ops, .name = "async_named"};
    cmd c = {.op = OP_GS_START, .spec = &spec};
    report r = probe_do(&t, pr, c);
    cr_assert_eq(r.rc, 0, "%s", fx_err_name(r.rc));
    cr_assert_eq(fx_whereis(t.vm, "async_named", &got), 0);
    cr_assert(fx_pid_eq(got, r.pid));
    fx_pid first = r.pid;
    r = probe_do(&t, pr, c);
    cr_assert_eq(r.rc, FX_EEXIST);
    cr_assert(fx_pid_eq(r.pid, first), "the holder");
    tvm_stop(&t);
}

/* The named child: checks the name is its own before anything else. */
static fx_next named_child_init(fx_ctx *cx, void *arg)
{
    fx_pid owner = {(uint64_t) (uintptr_t) arg}, got = FX_PID_NONE;
    int rc = fx_whereis(fx_ctx_vm(cx), "child", &got);
    uint64_t mine = rc == 0 && fx_pid_eq(got, fx_self(cx));
    fx_send(cx, owner, INITED, &mine, sizeof mine);
    return fx_become(cx, idle);
}

Test(registry_named, spawn_named_from_a_handler)
{
    tvm t = tvm_start(2);
    fx_pid pr = spawn_probe(&t), got;
    report r = probe_do(&t, pr, named(OP_SPAWN_NAMED, "child", FX_PID_NONE));
    cr_assert_eq(r.rc, 0);
    cr_assert_eq(tvm_recv_u64(&t, INITED), 1, "init ran before the name was its");
    cr_assert_eq(fx_whereis(t.vm, "child", &got), 0);
    cr_assert(fx_pid_eq(got, r.pid));
    /* Taken: the second exits without running its init, and says why. */
    r = probe_do(&t, pr, named(OP_SPAWN_NAMED, "child", FX_PID_NONE));
    cr_assert_eq(r.rc, 0);
    fx_pid second = r.pid;
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.type = REPORT, .from = pr}, 10000, &m),
                 0);
    memcpy(&r, fx_msg_data(m), sizeof r); /* the probe's DOWN of it */
    fx_msg_free(m);
    cr_assert(fx_pid_eq(r.pid, second));
    cr_assert_eq(r.value, FX_REASON_ERROR);
    cr_assert_eq(r.rc, FX_EEXIST);
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.type = INITED}, 100, &m), FX_ETIMEDOUT);
    cr_assert_eq(fx_whereis(t.vm, "child", &got), 0);
    cr_assert(!fx_pid_eq(got, r.pid));
    tvm_stop(&t);
}

/* A plain actor's state: counts its cleanups. */
typedef struct counted {
    int cleaned;
} counted;

static void count_cleanup(void *state, const fx_reason *reason)
{
    (void) reason;
    __atomic_fetch_add(&((counted *) state)->cleaned, 1, __ATOMIC_RELAXED);
}

static fx_next hello_init(fx_ctx *cx, void *arg)
{
    fx_pid *owner = arg;
    fx_send(cx, *owner, HELLO, NULL, 0);
    return fx_become(cx, idle);
}

Test(registry_named, inbox_spawn_named_waits_for_the_name)
{
    tvm t = tvm_start(2);
    static counted st;
    fx_spawn_opts o = {
        .init = hello_init, .init_arg = &t.me, .state = &st, .cleanup = count_cleanup};
    fx_pid p, got, holder = FX_PID_NONE;
    cr_assert_eq(fx_inbox_spawn_named(t.in, "worker", &o, &p, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "worker", &got), 0);
    cr_assert(fx_pid_eq(got, p));
    fx_msg_free(tvm_recv(&t, HELLO));
    /* Taken: EEXIST with the holder; the new process runs nothing of
     * ours but its cleanup, once. */
    fx_pid q = FX_PID_NONE;
    cr_assert_eq(fx_inbox_spawn_named(t.in, "worker", &o, &q, &holder), FX_EEXIST);
    cr_assert(fx_pid_eq(holder, p));
    cr_assert(fx_pid_is_none(q));
    EVENTUALLY(__atomic_load_n(&st.cleaned, __ATOMIC_RELAXED) == 1);
    fx_msg *m;
    cr_assert_eq(fx_inbox_recv(t.in, &(fx_match){.type = HELLO}, 100, &m), FX_ETIMEDOUT);
    tvm_stop(&t);
    cr_assert_eq(st.cleaned, 2);
}

/* ---- groups -------------------------------------------------------------------------
 */

Test(registry_groups, join_leave_members)
{
    tvm t = tvm_start(2);
    fx_pid a = spawn_idle(&t), b = spawn_idle(&t), c = spawn_idle(&t);
    fx_pid out[4];
    cr_assert_eq(fx_group_join(t.in, "g", a), 0);
    cr_assert_eq(fx_group_join(t.in, "g", b), 0);
    cr_assert_eq(fx_group_join(t.in, "g", c), 0);
    cr_assert_eq(fx_group_join(t.in, "g", b), FX_EEXIST);
    cr_assert_eq(fx_group_members(t.vm, "g", out, 4), 3);
    cr_assert(fx_pid_eq(out[0], a) && fx_pid_eq(out[1], b) && fx_pid_eq(out[2], c),
              "join order");
    cr_assert_eq(fx_group_members(t.vm, "g", out, 1), 3, "the count, beyond cap");
    cr_assert_eq(fx_group_leave(t.in, "g", b), 0);
    cr_assert_eq(fx_group_leave(t.in, "g", b), FX_ENOENT);
    cr_assert_eq(fx_group_leave(t.in, "nogroup", b), FX_ENOENT);
    cr_assert_eq(fx_group_members(t.vm, "g", out, 4), 2);
    cr_assert(fx_pid_eq(out[0], a) && fx_pid_eq(out[1], c));
    /* A pid in several groups; groups and names are separate. */
    cr_assert_eq(fx_group_join(t.in, "h", a), 0);
    cr_assert_eq(fx_register(t.in, "g", a, NULL), 0);
    cr_assert_eq(fx_group_members(t.vm, "h", out, 4), 1);
    cr_assert(fx_pid_eq(out[0], a));
    /* Empty groups vanish. */
    cr_assert_eq(fx_group_leave(t.in, "h", a), 0);
    cr_assert_eq(fx_group_members(t.vm, "h", out, 4), 0);
    tvm_stop(&t);
}

Test(registry_groups, members_leave_when_they_die)
{
    tvm t = tvm_start(2);
    fx_pid a = spawn_idle(&t), b = spawn_idle(&t), out[4];
    cr_assert_eq(fx_group_join(t.in, "g1", a), 0);
    cr_assert_eq(fx_group_join(t.in, "g2", a), 0);
    cr_assert_eq(fx_group_join(t.in, "g1", b), 0);
    cr_assert_eq(fx_register(t.in, "a", a, NULL), 0);
    kill_and_wait(&t, a);
    EVENTUALLY(fx_group_members(t.vm, "g1", out, 4) == 1);
    cr_assert(fx_pid_eq(out[0], b));
    EVENTUALLY(fx_group_members(t.vm, "g2", out, 4) == 0);
    EVENTUALLY(name_is_free(t.vm, "a"));
    tvm_stop(&t);
}

Test(registry_groups, send_to_every_member)
{
    tvm t = tvm_start(2);
    enum { N = 5 };
    for (int i = 0; i < N; i++)
        cr_assert_eq(fx_group_join(t.in, "room", spawn_relay(&t)), 0);
    uint64_t v = 7;
    cr_assert_eq(fx_vm_group_send(t.vm, "room", PING, &v, sizeof v), N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(tvm_recv_u64(&t, PING), 7);
    /* From a handler, which may itself be a member. */
    fx_pid pr = spawn_probe(&t);
    cr_assert_eq(probe_do(&t, pr, named(OP_JOIN, "room", FX_PID_NONE)).rc, 0);
    report r = probe_do(&t, pr, named(OP_GROUP_SEND, "room", FX_PID_NONE));
    cr_assert_eq(r.rc, N + 1);
    for (int i = 0; i < N; i++) {
        fx_msg *m = tvm_recv(&t, PING);
        cr_assert_str_eq(fx_msg_data(m), "all");
        fx_msg_free(m);
    }
    cr_assert_eq(probe_do(&t, pr, named(OP_LEAVE, "room", FX_PID_NONE)).rc, 0);
    cr_assert_eq(probe_do(&t, pr, named(OP_LEAVE, "room", FX_PID_NONE)).rc, FX_ENOENT);
    cr_assert_eq(fx_vm_group_send(t.vm, "empty", PING, &v, sizeof v), 0);
    tvm_stop(&t);
}

/* ---- the registry process ---------------------------------------------------------- */

Test(registry_restart, a_crashed_registry_is_replaced_by_an_empty_one)
{
    tvm t = tvm_start(2);
    fx_pid a = spawn_idle(&t), b = spawn_idle(&t), reg, reg2, got;
    cr_assert_eq(fx_register(t.in, "a", a, NULL), 0);
    cr_assert_eq(fx_group_join(t.in, "g", b), 0);
    cr_assert_eq(fx_registry_pid(t.vm, &reg), 0);
    kill_and_wait(&t, reg);
    /* Names and groups died with it (its terminate ran before the DOWN). */
    cr_assert_eq(fx_whereis(t.vm, "a", &got), FX_ENOENT);
    cr_assert_eq(fx_group_members(t.vm, "g", NULL, 0), 0);
    /* The kernel supervisor starts a new one, without any write. */
    EVENTUALLY(fx_registry_pid(t.vm, &reg2) == 0 && !fx_pid_eq(reg, reg2));
    cr_assert_eq(fx_whereis(t.vm, "a", &got), FX_ENOENT);
    cr_assert_eq(fx_register(t.in, "a", a, NULL), 0);
    cr_assert_eq(fx_registry_pid(t.vm, &got), 0);
    cr_assert(fx_pid_eq(got, reg2));
    cr_assert_eq(fx_whereis(t.vm, "a", &got), 0);
    cr_assert(fx_pid_eq(got, a));
    /* And it monitors as the old one did. */
    kill_and_wait(&t, a);
    EVENTUALLY(name_is_free(t.vm, "a"));
    tvm_stop(&t);
}

Test(registry_restart, writes_after_shutdown_fail_cleanly)
{
    tvm t = tvm_start(2);
    fx_pid a = spawn_idle(&t), got;
    cr_assert_eq(fx_register(t.in, "a", a, NULL), 0);
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    /* The stop hook stopped the registry: its tables are gone. */
    cr_assert_eq(fx_whereis(t.vm, "a", &got), FX_ENOENT);
    cr_assert_eq(fx_registry_pid(t.vm, &got), FX_ENOENT);
    fx_vm_destroy(t.vm);
}

/* Defect 5 (issue 13): by-name and group sends from outside the VM answer
 * FX_ESHUTDOWN once it is not running, not "no such name" or 0. */
Test(registry, sends_by_name_after_shutdown_are_eshutdown)
{
    tvm t = tvm_start(2);
    fx_pid p = spawn_idle(&t);
    cr_assert_eq(fx_register(t.in, "alice", p, NULL), 0);
    cr_assert_eq(fx_group_join(t.in, "band", p), 0);
    cr_assert_eq(fx_vm_send_named(t.vm, "alice", 1, NULL, 0), 0);
    cr_assert_eq(fx_vm_group_send(t.vm, "band", 1, NULL, 0), 1);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    cr_assert_eq(fx_vm_send_named(t.vm, "alice", 1, NULL, 0), FX_ESHUTDOWN);
    cr_assert_eq(fx_vm_group_send(t.vm, "band", 1, NULL, 0), FX_ESHUTDOWN);
    cr_assert_eq(fx_vm_gs_cast_named(t.vm, "alice", 1, NULL, 0), FX_ESHUTDOWN);
    fx_msg *r = NULL;
    cr_assert_eq(fx_gs_call_named(t.in, "alice", 1, NULL, 0, 1000, &r, NULL),
                 FX_ESHUTDOWN);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
}

/* Registry writes are the runtime's own calls: a tiny max_msg_size, far
 * below the size of a request, does not limit them. */
Test(registry, writes_ignore_a_tiny_max_msg_size)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.max_msg_size = 1;
    tvm t = tvm_start_with(&c);
    fx_pid p = spawn_idle(&t), got = FX_PID_NONE;
    cr_assert_eq(fx_register(t.in, "a_name_longer_than_the_limit", p, NULL), 0);
    cr_assert_eq(fx_whereis(t.vm, "a_name_longer_than_the_limit", &got), 0);
    cr_assert(fx_pid_eq(got, p));
    cr_assert_eq(fx_group_join(t.in, "g", p), 0);
    cr_assert_eq(fx_unregister(t.in, "a_name_longer_than_the_limit"), 0);
    cr_assert_eq(fx_whereis(t.vm, "a_name_longer_than_the_limit", &got), FX_ENOENT);
    tvm_stop(&t);
}
