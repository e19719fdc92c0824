/* Stress: lazily armed receive timeouts (src/actor/recv_timer.h) on four
 * scheduler threads (oversubscribed here, so actors are stolen between
 * a receive and its end). WORKERS actors each make a chain of ROUNDS
 * request/reply round trips through an echo actor, every receive waiting
 * at most 5,000-5,063 ms (lazy: no wheel entry unless it survives a
 * tick, and one left behind would outlive the final check);
 * every 16th round they wait for a reply that never comes (20 ms: the
 * TIMEOUT must come, and never early). SLEEPERS actors wait 30 s and are
 * killed by the main thread while waiting (their exit cancels the
 * timeout, often on another thread than the one that armed it).
 * Checks: no receive sees a TIMEOUT while its reply is there, every
 * unanswered wait times out no earlier than asked, and at the end no
 * timer and no tombstone is left in the VM's timers (internal look, the
 * only place a lingering cancelled timeout would show). Plain program:
 * it runs under ThreadSanitizer. Usage: recv_timer_stress [ROUNDS]. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actor/timers.h"
#include "actor/vm.h"

enum { REQ = 1, REP, DONE, BAD };
#define WORKERS 200
#define SLEEPERS 100

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    if (fx_msg_type(m) == REQ)
        (void) fx_send(cx, fx_msg_from(m), REP, fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

typedef struct worker {
    fx_pid echo, owner;
    uint64_t round, rounds, armed_ms, ref;
    uint32_t seed;
    int64_t waited;
} worker;

static bool is_reply(const fx_msg *m, void *arg)
{
    uint64_t want = *(const uint64_t *) arg, got;
    if (fx_msg_type(m) != REP || fx_msg_size(m) != sizeof got)
        return false;
    memcpy(&got, fx_msg_data(m), sizeof got);
    return got == want;
}

static fx_next step(fx_ctx *cx, worker *w);

static void fail(fx_ctx *cx, worker *w, const char *what)
{
    fprintf(stderr, "worker round %llu: %s\n", (unsigned long long) w->round, what);
    (void) fx_send(cx, w->owner, BAD, NULL, 0);
}

static fx_next got(fx_ctx *cx, fx_msg *m)
{
    worker *w = fx_state(cx);
    bool timeout = fx_msg_type(m) == FX_MSG_TIMEOUT;
    if (w->round % 16 == 0) { /* nobody answers this one */
        if (!timeout)
            fail(cx, w, "an unanswered wait ended without a TIMEOUT");
        else if ((int64_t) (now_ms() - w->armed_ms) < w->waited)
            fail(cx, w, "a TIMEOUT came early");
    } else if (timeout) {
        fail(cx, w, "a TIMEOUT although the reply was coming");
    }
    w->round++;
    return step(cx, w);
}

static fx_next step(fx_ctx *cx, worker *w)
{
    if (w->round == w->rounds) {
        (void) fx_send(cx, w->owner, DONE, NULL, 0);
        return fx_stop(cx, fx_reason_normal());
    }
    w->seed = w->seed * 1103515245u + 12345u;
    w->ref = ((uint64_t) w->seed << 20) | w->round;
    w->armed_ms = now_ms();
    if (w->round % 16 == 0) {
        w->waited = 20;
        uint64_t never = w->ref ^ 1;
        (void) fx_send(cx, w->echo, REQ, &never, sizeof never);
    } else {
        w->waited = 5000 + (int64_t) (w->seed >> 26);
        (void) fx_send(cx, w->echo, REQ, &w->ref, sizeof w->ref);
    }
    fx_match mt = {.pred = is_reply, .pred_arg = &w->ref};
    return fx_receive(cx, got, &mt, w->waited);
}

static fx_next worker_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    return step(cx, fx_state(cx));
}

static fx_next sleeper_woke(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_normal()); /* killed long before */
}

static fx_next sleeper_init(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_receive(cx, sleeper_woke, &(fx_match){.type = REQ}, 30000);
}

/* Timers still armed and tombstones left, read under the timers' lock. */
static void timers_left(fx_vm *vm, uint32_t *armed, uint32_t *tombs)
{
    fxi_timers *t = &vm->timers;
    *armed = *tombs = 0;
    fxi_mutex_lock(&t->mx);
    for (uint32_t c = 0; c < t->nchunks; c++)
        for (uint32_t i = 0; i < FXI_TCHUNK; i++)
            *armed += t->chunks[c][i].msg != NULL;
    *tombs = t->lazy.count;
    fxi_mutex_unlock(&t->mx);
}

int main(int argc, char **argv)
{
    uint64_t rounds = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000;
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 4;
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&cfg, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in))
        return 1;
    fx_pid echo_pid, sleepers[SLEEPERS];
    if (fx_vm_spawn(vm, echo, NULL, &echo_pid) != 0)
        return 1;
    for (int i = 0; i < SLEEPERS; i++) {
        fx_spawn_opts o = {.init = sleeper_init};
        if (fx_vm_spawn_opt(vm, &o, &sleepers[i]) != 0)
            return 1;
    }
    worker init = {.echo = echo_pid, .owner = fx_inbox_pid(in), .rounds = rounds};
    for (int i = 0; i < WORKERS; i++) {
        init.seed = (uint32_t) i * 2654435761u;
        fx_spawn_opts o = {
            .init = worker_init, .state_size = sizeof init, .state_init = &init};
        if (fx_vm_spawn_opt(vm, &o, NULL) != 0)
            return 1;
    }
    int failed = 0;
    for (int done = 0; done < WORKERS;) {
        fx_msg *m;
        if (fx_inbox_recv(in, NULL, 120000, &m) != 0) {
            fprintf(stderr, "a worker did not finish\n");
            return 1;
        }
        if (fx_msg_type(m) == DONE && ++done == WORKERS / 2)
            for (int i = 0; i < SLEEPERS; i++) /* long armed by now */
                (void) fx_vm_exit(vm, sleepers[i], fx_reason_kill());
        if (fx_msg_type(m) == BAD)
            failed = 1;
        fx_msg_free(m);
    }
    /* Every receive has ended (workers done, sleepers killed): once the
     * threads have ticked or slept, nothing may be left. Bounded wait. */
    uint32_t armed = 0, tombs = 0;
    for (int i = 0; i < 200; i++) {
        timers_left(vm, &armed, &tombs);
        if (!armed && !tombs)
            break;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (armed || tombs) {
        fprintf(stderr, "left: %u timers, %u lazy refs or tombstones\n", armed, tombs);
        failed = 1;
    }
    printf("recv_timer_stress: %d workers x %llu rounds, %d sleepers killed: %s\n",
           WORKERS, (unsigned long long) rounds, SLEEPERS, failed ? "FAILED" : "ok");
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    return failed;
}
