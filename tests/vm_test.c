#include "helpers.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

Test(vm, create_start_shutdown_destroy)
{
    tvm t = tvm_start(2);
    cr_assert_eq(fx_vm_threads(t.vm), 2);
    tvm_stop(&t);
}

Test(vm, default_config_uses_every_core)
{
    fx_vm *vm;
    cr_assert_eq(fx_vm_create(NULL, &vm), 0);
    cr_assert_eq(fx_vm_threads(vm), (uint32_t) sysconf(_SC_NPROCESSORS_ONLN));
    fx_vm_destroy(vm); /* never started: destroy alone is enough */
}

Test(vm, bad_config_is_rejected)
{
    fx_vm *vm = (fx_vm *) 1;
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.version = 99;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EVERSION);
    cr_assert_null(vm);
    fx_vm_config_init(&c);
    c.threads = 5000;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    cr_assert_eq(fx_vm_create(NULL, NULL), FX_EINVAL);
    cr_assert_eq(fx_vm_start(NULL), FX_EINVAL);
    cr_assert_eq(fx_vm_shutdown(NULL), FX_EINVAL);
    fx_vm_destroy(NULL);
}

Test(vm, inbox_knows_its_vm)
{
    tvm t = tvm_start(1);
    cr_assert_eq(fx_inbox_vm(t.in), t.vm);
    cr_assert_null(fx_inbox_vm(NULL));
    tvm_stop(&t);
}

Test(vm, start_twice_is_an_error)
{
    tvm t = tvm_start(1);
    cr_assert_eq(fx_vm_start(t.vm), FX_EINVAL);
    tvm_stop(&t);
}

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), fx_msg_type(m), fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

Test(vm, several_vms_in_one_process)
{
    tvm a = tvm_start(1), b = tvm_start(2);
    fx_pid pa, pb;
    cr_assert_eq(fx_vm_spawn(a.vm, echo, NULL, &pa), 0);
    cr_assert_eq(fx_vm_spawn(b.vm, echo, NULL, &pb), 0);
    uint64_t va = 1, vb = 2;
    cr_assert_eq(fx_inbox_send(a.in, pa, 5, &va, sizeof va), 0);
    cr_assert_eq(fx_inbox_send(b.in, pb, 5, &vb, sizeof vb), 0);
    cr_assert_eq(tvm_recv_u64(&a, 5), 1);
    cr_assert_eq(tvm_recv_u64(&b, 5), 2);
    tvm_stop(&a);
    tvm_stop(&b);
}

Test(vm, calls_after_shutdown_fail_cleanly)
{
    tvm t = tvm_start(2);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, echo, NULL, &p), 0);
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0); /* idempotent */
    cr_assert_eq(fx_vm_send(t.vm, p, 1, NULL, 0), FX_ESHUTDOWN);
    cr_assert_eq(fx_vm_spawn(t.vm, echo, NULL, &p), FX_ESHUTDOWN);
    fx_inbox *in;
    cr_assert_eq(fx_inbox_create(t.vm, &in), FX_ESHUTDOWN);
    cr_assert_eq(fx_vm_send_after(t.vm, 1, p, 1, NULL, 0, NULL), FX_ESHUTDOWN);
    fx_msg *m;
    cr_assert_eq(fx_msg_new(1, 8, &m), 0);
    cr_assert_eq(fx_vm_send_msg(t.vm, p, m), FX_ESHUTDOWN);
    fx_msg_free(m); /* a failed send leaves the message with the caller */
    cr_assert_eq(fx_is_alive(t.vm, p), 0);
    fx_vm_destroy(t.vm);
}

static void count_cleanup(void *state, const fx_reason *why)
{
    (void) why;
    __atomic_fetch_add((int *) state, 1, __ATOMIC_RELAXED);
}

static fx_next sleepy(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

/* Waits for a type nobody sends: everything else piles up, saved. */
static fx_next wait_forever(fx_ctx *cx, void *arg)
{
    (void) arg;
    fx_match never = {.type = 999};
    return fx_receive(cx, sleepy, &never, FX_INFINITY);
}

/* Processes alive at shutdown exit with reason shutdown; messages still
 * queued are freed (the ASan build checks nothing leaks). */
Test(vm, shutdown_with_queued_messages_frees_everything)
{
    tvm t = tvm_start(2);
    static int cleaned;
    for (int i = 0; i < 100; i++) {
        fx_spawn_opts o = {.init = wait_forever,
                           .handler = sleepy,
                           .state = &cleaned,
                           .cleanup = count_cleanup};
        fx_pid p;
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
        for (int k = 0; k < 50; k++)
            cr_assert_eq(fx_vm_send(t.vm, p, 1, "payload", 8), 0);
    }
    fx_vm_stats st;
    fx_vm_stats_get(t.vm, &st);
    cr_assert_eq(st.processes, 100);
    tvm_stop(&t);
    cr_assert_eq(cleaned, 100);
}

/* ---- attached values (fx_vm_attach) --------------------------------------- */

static const char key_a, key_b, key_c;

Test(vm_attach, attach_and_find)
{
    tvm t = tvm_start(1);
    int a = 1, b = 2, other = 3;
    cr_assert_null(fx_vm_attached(t.vm, &key_a));
    cr_assert_eq(fx_vm_attach(t.vm, &key_a, &a, NULL), 0);
    cr_assert_eq(fx_vm_attach(t.vm, &key_b, &b, NULL), 0);
    cr_assert_eq(fx_vm_attached(t.vm, &key_a), &a);
    cr_assert_eq(fx_vm_attached(t.vm, &key_b), &b);
    /* One value per key: the second attach changes nothing. */
    cr_assert_eq(fx_vm_attach(t.vm, &key_a, &other, NULL), FX_EEXIST);
    cr_assert_eq(fx_vm_attached(t.vm, &key_a), &a);
    cr_assert_null(fx_vm_attached(t.vm, &key_c));
    cr_assert_eq(fx_vm_attach(NULL, &key_c, &a, NULL), FX_EINVAL);
    cr_assert_eq(fx_vm_attach(t.vm, NULL, &a, NULL), FX_EINVAL);
    cr_assert_null(fx_vm_attached(NULL, &key_a));
    cr_assert_null(fx_vm_attached(t.vm, NULL));
    tvm_stop(&t);
}

/* A NULL value would read as "nothing attached", so it is refused (issue
 * 13, defect 9: it could be attached twice under one key). */
Test(vm_attach, null_value_is_refused)
{
    tvm t = tvm_start(1);
    cr_assert_eq(fx_vm_attach(t.vm, &key_c, NULL, NULL), FX_EINVAL);
    cr_assert_eq(fx_vm_attach(t.vm, &key_c, NULL, NULL), FX_EINVAL);
    cr_assert_null(fx_vm_attached(t.vm, &key_c));
    int v = 5;
    cr_assert_eq(fx_vm_attach(t.vm, &key_c, &v, NULL), 0);
    cr_assert_eq(fx_vm_attach(t.vm, &key_c, &v, NULL), FX_EEXIST);
    tvm_stop(&t);
}

/* What the hooks saw, in order. */
typedef struct hook_log {
    char seen[16];
    int n;
    int ping; /* a round trip made from inside a stop hook */
} hook_log;
static hook_log hlog;

static fx_next echo_once(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), 7, fx_msg_data(m), fx_msg_size(m));
    return fx_stop(cx, fx_reason_normal());
}

static void stop_hook(fx_vm *vm, void *value)
{
    hlog.seen[hlog.n++] = (char) ('A' + *(int *) value);
    /* The schedulers still run: an actor answers. */
    fx_inbox *in;
    fx_pid p;
    fx_msg *m = NULL;
    if (fx_inbox_create(vm, &in) != 0)
        return;
    int v = *(int *) value;
    if (fx_vm_spawn(vm, echo_once, NULL, &p) == 0 &&
        fx_inbox_send(in, p, 7, &v, sizeof v) == 0 &&
        fx_inbox_recv(in, &(fx_match){.type = 7}, 10000, &m) == 0)
        hlog.ping++;
    fx_msg_free(m);
    fx_inbox_destroy(in);
}

static void free_hook(fx_vm *vm, void *value)
{
    (void) vm;
    hlog.seen[hlog.n++] = (char) ('a' + *(int *) value);
}

Test(vm_attach, hooks_run_in_reverse_order_stop_while_running)
{
    tvm t = tvm_start(2);
    static int v0 = 0, v1 = 1, v2 = 2;
    fx_vm_hooks h = {.stop = stop_hook, .free = free_hook};
    cr_assert_eq(fx_vm_attach(t.vm, &key_a, &v0, &h), 0);
    cr_assert_eq(fx_vm_attach(t.vm, &key_b, &v1, &h), 0);
    cr_assert_eq(fx_vm_attach(t.vm, &key_c, &v2, &h), 0);
    fx_inbox_destroy(t.in);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    cr_assert_eq(hlog.n, 3);
    cr_assert_eq(hlog.ping, 3, "stop hooks could not reach an actor");
    /* Still attached after shutdown; no attach any more. */
    cr_assert_eq(fx_vm_attached(t.vm, &key_b), &v1);
    int late = 9;
    cr_assert_eq(fx_vm_attach(t.vm, &late, &late, NULL), FX_ESHUTDOWN);
    fx_vm_destroy(t.vm);
    hlog.seen[hlog.n] = 0;
    cr_assert_str_eq(hlog.seen, "CBAcba");
}

Test(vm_attach, destroy_alone_runs_both_hooks_once)
{
    tvm t = tvm_start(1);
    static int v = 0;
    fx_vm_hooks h = {.stop = stop_hook, .free = free_hook};
    cr_assert_eq(fx_vm_attach(t.vm, &key_a, &v, &h), 0);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm); /* shuts down, then frees */
    hlog.seen[hlog.n] = 0;
    cr_assert_str_eq(hlog.seen, "Aa");
}

Test(vm_attach, never_started_vm_runs_only_free)
{
    fx_vm *vm;
    static int v = 1;
    cr_assert_eq(fx_vm_create(NULL, &vm), 0);
    fx_vm_hooks h = {.stop = stop_hook, .free = free_hook};
    cr_assert_eq(fx_vm_attach(vm, &key_a, &v, &h), 0);
    fx_vm_destroy(vm);
    hlog.seen[hlog.n] = 0;
    cr_assert_str_eq(hlog.seen, "b");
}

/* Many threads attach under one key at once: exactly one wins and every
 * one of them then finds the winner's value. */
typedef struct racer {
    fx_vm *vm;
    int id;
    int rc;
    void *found;
} racer;

static void *attach_racer(void *p)
{
    racer *r = p;
    r->rc = fx_vm_attach(r->vm, &key_a, r, NULL);
    r->found = fx_vm_attached(r->vm, &key_a);
    return NULL;
}

Test(vm_attach, first_attach_wins_a_race)
{
    tvm t = tvm_start(2);
    enum { N = 8 };
    racer rs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        rs[i] = (racer){.vm = t.vm, .id = i};
        pthread_create(&th[i], NULL, attach_racer, &rs[i]);
    }
    int wins = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (rs[i].rc == 0)
            wins++;
        else
            cr_assert_eq(rs[i].rc, FX_EEXIST);
    }
    void *winner = fx_vm_attached(t.vm, &key_a);
    cr_assert_eq(wins, 1);
    for (int i = 0; i < N; i++)
        cr_assert_eq(rs[i].found, winner);
    tvm_stop(&t);
}

/* ---- shutdown races (defect 4, issue 13) ---------------------------------
 *
 * A stop hook holds the first shutdown open until a releaser thread lets
 * it go; the releaser waits until the test's own (second) call is about
 * to start, then gives it a moment to get there. The assertions hold for
 * every interleaving once the fix is in; without it the second call
 * returned at once, while the first was still in its hook. */
typedef struct held {
    int entered, release, calling, stop_done, free_ok, nested_rc;
} held;

static void held_stop(fx_vm *vm, void *value)
{
    held *h = value;
    h->nested_rc = fx_vm_shutdown(vm); /* from inside its own shutdown */
    fx_vm_destroy(vm);                 /* must do nothing here */
    __atomic_store_n(&h->entered, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&h->release, __ATOMIC_ACQUIRE))
        sched_yield();
    __atomic_store_n(&h->stop_done, 1, __ATOMIC_RELEASE);
}

static void held_free(fx_vm *vm, void *value)
{
    (void) vm;
    held *h = value;
    h->free_ok = __atomic_load_n(&h->stop_done, __ATOMIC_ACQUIRE);
}

typedef struct shut_arg {
    fx_vm *vm;
    held *h;
    int rc;
} shut_arg;

static void *first_shutdown(void *p)
{
    shut_arg *s = p;
    s->rc = fx_vm_shutdown(s->vm);
    return NULL;
}

static void *releaser(void *p)
{
    held *h = p;
    while (!__atomic_load_n(&h->calling, __ATOMIC_ACQUIRE))
        sched_yield();
    usleep(20000); /* lets the second call reach its wait (not asserted) */
    __atomic_store_n(&h->release, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Starts a VM whose shutdown is held in a stop hook, a thread shutting it
 * down, and the releaser; returns once the hook has been entered. */
static void hold_shutdown(held *h, shut_arg *s, pthread_t *t1, pthread_t *t2)
{
    memset(h, 0, sizeof *h);
    tvm t = tvm_start(2);
    fx_inbox_destroy(t.in);
    fx_vm_hooks hooks = {.stop = held_stop, .free = held_free};
    cr_assert_eq(fx_vm_attach(t.vm, h, h, &hooks), 0);
    *s = (shut_arg){.vm = t.vm, .h = h, .rc = 1};
    cr_assert_eq(pthread_create(t1, NULL, first_shutdown, s), 0);
    while (!__atomic_load_n(&h->entered, __ATOMIC_ACQUIRE))
        sched_yield();
    cr_assert_eq(pthread_create(t2, NULL, releaser, h), 0);
    __atomic_store_n(&h->calling, 1, __ATOMIC_RELEASE);
}

Test(vm_shutdown, a_concurrent_second_call_waits_and_returns_0)
{
    held h;
    shut_arg s;
    pthread_t t1, t2;
    hold_shutdown(&h, &s, &t1, &t2);
    cr_assert_eq(fx_vm_shutdown(s.vm), 0);
    cr_assert(__atomic_load_n(&h.stop_done, __ATOMIC_ACQUIRE),
              "returned while the first shutdown was still running");
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    cr_assert_eq(s.rc, 0);
    cr_assert_eq(h.nested_rc, FX_ESHUTDOWN);
    cr_assert_eq(fx_vm_shutdown(s.vm), 0, "idempotent");
    fx_vm_destroy(s.vm);
    cr_assert(h.free_ok);
}

Test(vm_shutdown, destroy_waits_for_a_shutdown_in_progress)
{
    held h;
    shut_arg s;
    pthread_t t1, t2;
    hold_shutdown(&h, &s, &t1, &t2);
    fx_vm_destroy(s.vm); /* t1 is inside fx_vm_shutdown */
    cr_assert(h.free_ok, "freed while the shutdown was still running");
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    cr_assert_eq(s.rc, 0);
}

static fx_next destroy_from_handler(fx_ctx *cx, fx_msg *m)
{
    fx_vm_destroy(fx_ctx_vm(cx)); /* refused: the VM stays valid */
    int rc = fx_vm_shutdown(fx_ctx_vm(cx));
    fx_send(cx, fx_msg_from(m), 2, &rc, sizeof rc);
    return fx_stop(cx, fx_reason_normal());
}

Test(vm_shutdown, destroy_from_a_handler_does_nothing)
{
    tvm t = tvm_start(2);
    fx_pid p;
    cr_assert_eq(fx_vm_spawn(t.vm, destroy_from_handler, NULL, &p), 0);
    cr_assert_eq(fx_inbox_send(t.in, p, 1, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, 2);
    int rc;
    memcpy(&rc, fx_msg_data(m), sizeof rc);
    fx_msg_free(m);
    cr_assert_eq(rc, FX_ECONTEXT);
    tvm_stop(&t);
}

/* ---- blocking waits across shutdown (defect 5, issue 13) ---------------- */

typedef struct waiter {
    fx_inbox *in;
    int64_t timeout_ms;
    int rc;
} waiter;

static void *wait_in_recv(void *p)
{
    waiter *w = p;
    fx_msg *m = NULL;
    w->rc = fx_inbox_recv(w->in, NULL, w->timeout_ms, &m);
    fx_msg_free(m);
    return NULL;
}

/* Two threads wait on their inboxes, forever and for a minute; the
 * shutdown ends both waits with FX_ESHUTDOWN, whether it comes before or
 * while they wait. (The timeout only turns a hang into a failure.) */
Test(vm_shutdown, ends_inbox_waits_with_eshutdown, .timeout = 60)
{
    tvm t = tvm_start(2);
    fx_inbox *in2;
    cr_assert_eq(fx_inbox_create(t.vm, &in2), 0);
    waiter w[2] = {{t.in, FX_INFINITY, 1}, {in2, 60000, 1}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, wait_in_recv, &w[i]), 0);
    cr_assert_eq(fx_vm_shutdown(t.vm), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].rc, FX_ESHUTDOWN, "wait %d: %s", i, fx_strerror(w[i].rc));
    }
    /* After the shutdown too, even a poll. */
    fx_msg *m = NULL;
    cr_assert_eq(fx_inbox_recv(t.in, NULL, 0, &m), FX_ESHUTDOWN);
    cr_assert_eq(fx_inbox_recv(t.in, NULL, FX_INFINITY, &m), FX_ESHUTDOWN);
    cr_assert_eq(fx_vm_running(t.vm), 0);
    fx_inbox_destroy(in2);
    fx_inbox_destroy(t.in);
    fx_vm_destroy(t.vm);
}
