#include "helpers.h"

#include <pthread.h>

enum { T_REC = 1, T_DUMP, T_LIST, T_DONE };

Test(msg, new_and_accessors)
{
    fx_msg *m = NULL;
    cr_assert_eq(fx_msg_new(7, 16, &m), 0);
    cr_assert_eq(fx_msg_type(m), 7);
    cr_assert_eq(fx_msg_size(m), 16);
    cr_assert(fx_pid_is_none(fx_msg_from(m)));
    cr_assert_eq(fx_msg_ref(m).id, 0);
    fx_msg_set_ref(m, (fx_ref){42});
    cr_assert_eq(fx_msg_ref(m).id, 42);
    memset(fx_msg_data_mut(m), 0xab, 16);
    cr_assert_eq(((const unsigned char *) fx_msg_data(m))[15], 0xab);
    fx_msg_free(m);
    fx_msg_free(NULL);
}

Test(msg, bad_input_gets_codes)
{
    fx_msg *m = (fx_msg *) 1;
    cr_assert_eq(fx_msg_new(FX_MSG_TIMEOUT, 0, &m), FX_EINVAL);
    cr_assert_null(m);
    cr_assert_eq(fx_msg_new(1, 0, NULL), FX_EINVAL);
    cr_assert_eq(fx_msg_new(1, (size_t) FX_MSG_SIZE_LIMIT + 1, &m), FX_EMSGSIZE);
    cr_assert_eq(fx_msg_type(NULL), 0);
}

/* Collects every T_REC payload in order; on T_DUMP sends them back. */
typedef struct {
    uint32_t n;
    uint64_t seen[4096];
} recorder;

static fx_next record(fx_ctx *cx, fx_msg *m)
{
    recorder *r = fx_state(cx);
    if (fx_msg_type(m) == T_REC) {
        if (r->n < 4096)
            memcpy(&r->seen[r->n++], fx_msg_data(m), sizeof(uint64_t));
        return fx_continue(cx);
    }
    fx_send(cx, fx_msg_from(m), T_LIST, r->seen, r->n * sizeof(uint64_t));
    return fx_continue(cx);
}

typedef struct {
    fx_vm *vm;
    fx_pid to;
    uint64_t tag;
} sender_arg;

static void *send_seq(void *p)
{
    sender_arg *a = p;
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t v = (a->tag << 32) | i;
        if (fx_vm_send(a->vm, a->to, T_REC, &v, sizeof v) != 0)
            return (void *) 1;
    }
    return NULL;
}

/* Four threads send 1000 numbered messages each: every sender's messages
 * arrive complete and in order, interleaved arbitrarily. */
Test(msg, order_is_preserved_per_sender)
{
    tvm t = tvm_start(2);
    fx_spawn_opts o = {.handler = record, .state_size = sizeof(recorder)};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    pthread_t th[4];
    sender_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (sender_arg){t.vm, p, (uint64_t) i};
        pthread_create(&th[i], NULL, send_seq, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        cr_assert_null(ret);
    }
    /* Our own message goes after all of ours... but the senders are other
     * threads: wait until all 4000 are recorded. */
    uint32_t got = 0;
    fx_msg *m = NULL;
    for (int tries = 0; tries < 1000 && got < 4000; tries++) {
        if (m)
            fx_msg_free(m);
        cr_assert_eq(fx_inbox_send(t.in, p, T_DUMP, NULL, 0), 0);
        m = tvm_recv(&t, T_LIST);
        got = (uint32_t) (fx_msg_size(m) / sizeof(uint64_t));
    }
    cr_assert_eq(got, 4000);
    const uint64_t *seen = fx_msg_data(m);
    uint64_t next[4] = {0};
    for (uint32_t i = 0; i < got; i++) {
        uint64_t tag = seen[i] >> 32, seq = seen[i] & 0xffffffffu;
        cr_assert_lt(tag, 4);
        cr_assert_eq(seq, next[tag], "sender %llu: got %llu, expected %llu",
                     (unsigned long long) tag, (unsigned long long) seq,
                     (unsigned long long) next[tag]);
        next[tag]++;
    }
    fx_msg_free(m);
    tvm_stop(&t);
}

/* One handler call sends to more processes than a thread keeps open
 * chains for (actor/outbox.h, FXI_OUTBOX_CHAINS), in a mix of round
 * robin (the oldest chains make room), long runs to one process (a full
 * chain publishes every older one first) and pseudo-random picks (index
 * collisions, second chains to a process). */
#define FAN_N 150
#define FAN_SENDS 20000

typedef struct {
    fx_pid report;
    fx_pid to[FAN_N];
    uint32_t sent[FAN_N];
} fanner;

static fx_next fan_out(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    fanner *f = fx_state(cx);
    uint32_t x = 12345;
    for (uint32_t i = 0; i < FAN_SENDS; i++) {
        uint32_t t;
        x = x * 1103515245u + 12345u;
        uint32_t phase = (i / 1000) % 4;
        if (phase == 0)
            t = i % FAN_N; /* round robin over all */
        else if (phase == 1)
            t = (i / 70) % FAN_N; /* runs of 70 to one process */
        else if (phase == 2)
            t = (x >> 16) % 70; /* random among 70 */
        else
            t = (x >> 16) % 8; /* random among 8 */
        uint64_t v = f->sent[t];
        if (fx_send(cx, f->to[t], T_REC, &v, sizeof v) == 0)
            f->sent[t]++;
    }
    fx_send(cx, f->report, T_DONE, f->sent, sizeof f->sent);
    return fx_stop(cx, fx_reason_normal());
}

Test(msg, one_call_sending_to_many_processes_keeps_each_pairs_order)
{
    tvm t = tvm_start(2);
    static fanner f;
    memset(&f, 0, sizeof f);
    f.report = fx_inbox_pid(t.in);
    fx_spawn_opts ro = {.handler = record, .state_size = sizeof(recorder)};
    for (int i = 0; i < FAN_N; i++)
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &ro, &f.to[i]), 0);
    fx_spawn_opts fo = {.handler = fan_out, .state_size = sizeof f, .state_init = &f};
    fx_pid fp;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &fo, &fp), 0);
    cr_assert_eq(fx_inbox_send(t.in, fp, T_REC, NULL, 0), 0);
    fx_msg *done = tvm_recv(&t, T_DONE);
    uint32_t sent[FAN_N];
    memcpy(sent, fx_msg_data(done), sizeof sent);
    fx_msg_free(done);
    uint32_t total = 0;
    for (int i = 0; i < FAN_N; i++) {
        total += sent[i];
        /* Everything was published before the report (an inbox send
         * publishes the open chains first), so one dump sees it all. */
        cr_assert_eq(fx_inbox_send(t.in, f.to[i], T_DUMP, NULL, 0), 0);
        fx_msg *m = tvm_recv(&t, T_LIST);
        uint32_t got = (uint32_t) (fx_msg_size(m) / sizeof(uint64_t));
        cr_assert_eq(got, sent[i], "process %d: %u of %u", i, got, sent[i]);
        const uint64_t *seen = fx_msg_data(m);
        for (uint32_t k = 0; k < got; k++)
            cr_assert_eq(seen[k], k, "process %d: message %u is %llu", i, k,
                         (unsigned long long) seen[k]);
        fx_msg_free(m);
    }
    cr_assert_eq(total, FAN_SENDS);
    tvm_stop(&t);
}

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), fx_msg_type(m), fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

/* Forwarding the message being handled moves it without a copy. */
static fx_next forwarder(fx_ctx *cx, fx_msg *m)
{
    fx_pid *to = fx_state(cx);
    cr_assert_eq(fx_send_msg(cx, *to, m), 0);
    return fx_continue(cx);
}

Test(msg, built_in_place_and_moved)
{
    tvm t = tvm_start(2);
    fx_pid e, f;
    cr_assert_eq(fx_vm_spawn(t.vm, echo, NULL, &e), 0);
    f = spawn_state(t.vm, forwarder, &t.me, sizeof t.me);
    fx_msg *m;
    cr_assert_eq(fx_msg_new(9, 5000, &m), 0);
    memset(fx_msg_data_mut(m), 'z', 5000);
    cr_assert_eq(fx_vm_send_msg(t.vm, f, m), 0); /* taken */
    fx_msg *r = tvm_recv(&t, 9);
    cr_assert_eq(fx_msg_size(r), 5000);
    cr_assert_eq(((const char *) fx_msg_data(r))[4999], 'z');
    cr_assert(fx_pid_eq(fx_msg_from(r), f));
    fx_msg_free(r);
    tvm_stop(&t);
}

/* docs/actors.md promises 16-byte payload alignment (a struct can be read
 * in place): messages built with fx_msg_new, sent from outside the VM,
 * and sent by an actor (the per-thread message cache) all have it. */
Test(msg, payload_is_16_byte_aligned)
{
    tvm t = tvm_start(2);
    fx_pid e;
    cr_assert_eq(fx_vm_spawn(t.vm, echo, NULL, &e), 0);
    char buf[400] = {0};
    for (size_t size = 0; size <= sizeof buf; size += 7) {
        fx_msg *m;
        cr_assert_eq(fx_msg_new(9, size, &m), 0);
        cr_assert_eq((uintptr_t) fx_msg_data(m) % 16, 0, "fx_msg_new, size %zu", size);
        fx_msg_free(m);
        cr_assert_eq(fx_inbox_send(t.in, e, 9, buf, size), 0);
        fx_msg *r = tvm_recv(&t, 9);
        cr_assert_eq(fx_msg_size(r), size);
        cr_assert_eq((uintptr_t) fx_msg_data(r) % 16, 0, "fx_send, size %zu", size);
        fx_msg_free(r);
    }
    tvm_stop(&t);
}

/* Every small size goes through fx_vm_send's and fx_send's copies intact
 * (sizes up to 16 are copied with overlapping fixed-size moves, msg.h). */
Test(msg, small_payloads_are_copied_intact)
{
    tvm t = tvm_start(2);
    fx_pid e;
    cr_assert_eq(fx_vm_spawn(t.vm, echo, NULL, &e), 0);
    unsigned char buf[40];
    for (size_t size = 0; size <= sizeof buf; size++) {
        for (size_t i = 0; i < size; i++)
            buf[i] = (unsigned char) (size * 31 + i * 7 + 1);
        cr_assert_eq(fx_inbox_send(t.in, e, 9, buf, size), 0);
        fx_msg *r = tvm_recv(&t, 9);
        cr_assert_eq(fx_msg_size(r), size);
        cr_assert(size == 0 || memcmp(fx_msg_data(r), buf, size) == 0, "size %zu", size);
        fx_msg_free(r);
    }
    tvm_stop(&t);
}

Test(msg, oversized_message_is_refused_and_kept)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1;
    c.max_msg_size = 1024;
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    cr_assert_eq(fx_vm_start(vm), 0);
    fx_pid e;
    cr_assert_eq(fx_vm_spawn(vm, echo, NULL, &e), 0);
    char big[2048] = {0};
    cr_assert_eq(fx_vm_send(vm, e, 1, big, sizeof big), FX_EMSGSIZE);
    cr_assert_eq(fx_vm_send(vm, e, 1, big, 1024), 0);
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 1025, &m), 0);
    cr_assert_eq(fx_vm_send_msg(vm, e, m), FX_EMSGSIZE);
    /* still ours: nothing lost, nothing freed behind our back */
    cr_assert_eq(fx_msg_size(m), 1025);
    fx_msg_free(m);
    fx_vm_destroy(vm);
}

Test(msg, bad_send_arguments)
{
    tvm t = tvm_start(1);
    fx_pid e;
    cr_assert_eq(fx_vm_spawn(t.vm, echo, NULL, &e), 0);
    cr_assert_eq(fx_vm_send(NULL, e, 1, NULL, 0), FX_EINVAL);
    cr_assert_eq(fx_vm_send(t.vm, e, 1, NULL, 8), FX_EINVAL);
    cr_assert_eq(fx_vm_send(t.vm, e, FX_MSG_TIMEOUT, NULL, 0), FX_EINVAL);
    cr_assert_eq(fx_vm_send_msg(t.vm, e, NULL), FX_EINVAL);
    cr_assert_eq(fx_vm_send(t.vm, FX_PID_NONE, 1, NULL, 0), FX_ENOPROC);
    cr_assert_eq(fx_vm_send(t.vm, (fx_pid){0xffffffffffffull}, 1, NULL, 0), FX_ENOPROC);
    cr_assert_eq(fx_send(NULL, e, 1, NULL, 0), FX_EINVAL);
    tvm_stop(&t);
}

/* ---- ownership: 0 takes the message, any error leaves it with the caller */

static fx_next stop_now(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_normal());
}

/* A pid whose process has exited (stale from the DOWN on). */
static fx_pid dead_pid(tvm *t)
{
    fx_pid p;
    fx_ref ref;
    cr_assert_eq(fx_vm_spawn(t->vm, stop_now, NULL, &p), 0);
    cr_assert_eq(fx_inbox_monitor(t->in, p, &ref), 0);
    cr_assert_eq(fx_vm_send(t->vm, p, 1, NULL, 0), 0);
    fx_msg_free(tvm_recv(t, FX_MSG_DOWN));
    cr_assert_eq(fx_is_alive(t->vm, p), 0);
    return p;
}

static fx_msg *filled(uint32_t type, char c)
{
    fx_msg *m;
    cr_assert_eq(fx_msg_new(type, 300, &m), 0);
    memset(fx_msg_data_mut(m), c, 300);
    return m;
}

static void assert_filled(fx_msg *m, char c)
{
    cr_assert_eq(fx_msg_size(m), 300);
    const char *d = fx_msg_data(m);
    cr_assert(d[0] == c && d[299] == c);
    fx_msg_free(m);
}

Test(ownership, vm_send_msg_to_a_dead_pid_leaves_it_with_the_caller)
{
    tvm t = tvm_start(2);
    fx_pid dead = dead_pid(&t), e;
    cr_assert_eq(fx_vm_spawn(t.vm, echo, NULL, &e), 0);
    fx_msg *m = filled(11, 'a');
    cr_assert_eq(fx_vm_send_msg(t.vm, dead, m), FX_ENOPROC);
    /* still ours: sent on to a live process it arrives intact (ASan would
     * see a use after free, LeakSanitizer a leak, had the send kept it) */
    cr_assert_eq(fx_msg_size(m), 300);
    cr_assert_eq(fx_inbox_send_msg(t.in, e, m), 0);
    assert_filled(tvm_recv(&t, 11), 'a');
    fx_vm_stats st;
    cr_assert_eq(fx_vm_stats_get(t.vm, &st), 0);
    cr_assert_geq(st.messages_dropped, 1); /* counted as a send to the dead */
    /* a failed send, freed by the caller */
    m = filled(11, 'b');
    cr_assert_eq(fx_vm_send_msg(t.vm, dead, m), FX_ENOPROC);
    fx_msg_free(m);
    tvm_stop(&t);
}

Test(ownership, inbox_send_msg_to_a_dead_pid_leaves_it_with_the_caller)
{
    tvm t = tvm_start(2);
    fx_pid dead = dead_pid(&t), e;
    cr_assert_eq(fx_vm_spawn(t.vm, echo, NULL, &e), 0);
    fx_msg *m = filled(12, 'c');
    cr_assert_eq(fx_inbox_send_msg(t.in, dead, m), FX_ENOPROC);
    cr_assert_eq(fx_inbox_send_msg(t.in, FX_PID_NONE, m), FX_ENOPROC);
    cr_assert_eq(fx_inbox_send_msg(t.in, e, m), 0);
    assert_filled(tvm_recv(&t, 12), 'c');
    tvm_stop(&t);
}

/* A behaviour's reserved type, resent to the inbox itself. */
Test(ownership, behaviour_message_to_a_dead_pid_leaves_it_with_the_caller)
{
    tvm t = tvm_start(2);
    fx_pid dead = dead_pid(&t);
    fx_msg *m;
    cr_assert_eq(fx_msg_new_behaviour(FX_MSG_BEHAVIOUR_BASE + 7, 300, &m), 0);
    memset(fx_msg_data_mut(m), 'd', 300);
    cr_assert_eq(fx_vm_send_msg(t.vm, dead, m), FX_ENOPROC);
    cr_assert_eq(fx_inbox_send_msg(t.in, dead, m), FX_ENOPROC);
    cr_assert_eq(fx_vm_send_msg(t.vm, t.me, m), 0);
    assert_filled(tvm_recv(&t, FX_MSG_BEHAVIOUR_BASE + 7), 'd');
    tvm_stop(&t);
}

/* From a handler: a message it built, then the message it is handling. */
enum { O_BUILT = 20, O_FORWARD, O_DROP, O_RESULT, O_ARRIVED };

typedef struct {
    fx_pid dead, me;
} o_pids;

static void o_result(fx_ctx *cx, fx_pid to, int rc)
{
    int32_t v = rc;
    fx_send(cx, to, O_RESULT, &v, sizeof v);
}

static fx_next o_sender(fx_ctx *cx, fx_msg *m)
{
    const o_pids *p = fx_state(cx);
    switch (fx_msg_type(m)) {
    case O_BUILT: {
        fx_msg *b;
        if (fx_msg_new(O_ARRIVED, 300, &b) != 0)
            fx_crash(cx, "no memory");
        memset(fx_msg_data_mut(b), 'e', 300);
        o_result(cx, p->me, fx_send_msg(cx, p->dead, b));
        /* still ours: move it on to the inbox */
        if (fx_send_msg(cx, p->me, b) != 0)
            fx_msg_free(b);
        return fx_continue(cx);
    }
    case O_FORWARD:
        /* Forwarding the message being handled: a failed send leaves it
         * borrowed, a later successful one moves it. */
        o_result(cx, p->me, fx_send_msg(cx, p->dead, m));
        o_result(cx, p->me, fx_send_msg(cx, p->me, m));
        return fx_continue(cx);
    default: /* O_DROP: a failed forward only; the runtime frees m after us */
        o_result(cx, p->me, fx_send_msg(cx, p->dead, m));
        return fx_continue(cx);
    }
}

static int32_t o_rc(tvm *t)
{
    fx_msg *r = tvm_recv(t, O_RESULT);
    int32_t v;
    cr_assert_eq(fx_msg_size(r), sizeof v);
    memcpy(&v, fx_msg_data(r), sizeof v);
    fx_msg_free(r);
    return v;
}

Test(ownership, send_msg_from_a_handler_to_a_dead_pid_leaves_it_with_the_caller)
{
    tvm t = tvm_start(2);
    o_pids p = {dead_pid(&t), t.me};
    fx_pid s = spawn_state(t.vm, o_sender, &p, sizeof p);
    cr_assert_eq(fx_vm_send(t.vm, s, O_BUILT, NULL, 0), 0);
    cr_assert_eq(o_rc(&t), FX_ENOPROC);
    assert_filled(tvm_recv(&t, O_ARRIVED), 'e');

    fx_msg *m = filled(O_FORWARD, 'f');
    cr_assert_eq(fx_vm_send_msg(t.vm, s, m), 0);
    cr_assert_eq(o_rc(&t), FX_ENOPROC);
    cr_assert_eq(o_rc(&t), 0);
    m = tvm_recv(&t, O_FORWARD);
    cr_assert(fx_pid_eq(fx_msg_from(m), s));
    assert_filled(m, 'f');

    /* Freed by the runtime after the handler (LeakSanitizer checks it). */
    cr_assert_eq(fx_vm_send_msg(t.vm, s, filled(O_DROP, 'g')), 0);
    cr_assert_eq(o_rc(&t), FX_ENOPROC);
    tvm_stop(&t);
}
