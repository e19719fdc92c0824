/* Stress: what a stuck call holds back besides its slots, handed over by
 * the watchdog (docs/watchdog.md, "Keeping the VM serving"): a
 * deferred-wake receiver and a muted sender must run while a handler
 * spins on a flag, at 1 thread (served by a spare) and 2, round after
 * round; the same scenarios as tests/watchdog_hold_test.c, as a plain
 * program (exit status) so they run under ThreadSanitizer, which
 * Criterion cannot. Every round releases the spinner and shuts the VM
 * down cleanly. Usage: hold_stress [rounds] */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SPIN = 1, FWD, HELLO, PONG, DONE, GO, GO2, SENT2, FLOOD, OPEN, JUNK };

static int release_spin; /* __atomic */

typedef struct spin_state {
    fx_pid report, sink;
} spin_state;

static fx_next spinner(fx_ctx *cx, fx_msg *m)
{
    spin_state *st = fx_state(cx);
    if (fx_msg_type(m) == FWD) {
        fx_pid peer;
        memcpy(&peer, fx_msg_data(m), sizeof peer);
        fx_send(cx, peer, HELLO, &st->report, sizeof st->report);
        for (int i = 0; i < 64; i++) /* a full chain: HELLO's wake-up deferred */
            fx_send(cx, st->sink, JUNK, NULL, 0);
    }
    while (!__atomic_load_n(&release_spin, __ATOMIC_ACQUIRE))
        ;
    fx_send(cx, st->report, DONE, NULL, 0);
    return fx_continue(cx);
}

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    fx_pid to;
    memcpy(&to, fx_msg_data(m), sizeof to);
    fx_send(cx, to, PONG, NULL, 0);
    return fx_continue(cx);
}

static fx_next sink(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static fx_next gate_open(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_continue(cx);
}

static fx_next gate(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_receive(cx, gate_open, &(fx_match){.type = OPEN}, FX_INFINITY);
}

typedef struct muter {
    fx_pid gate, spinner, report;
} muter;

static fx_next muter_h(fx_ctx *cx, fx_msg *m)
{
    muter *st = fx_state(cx);
    if (fx_msg_type(m) == GO) {
        for (int i = 0; i < 20; i++)
            fx_send(cx, st->gate, FLOOD, NULL, 0);
        fx_send(cx, st->spinner, SPIN, NULL, 0);
    } else {
        fx_send(cx, st->report, SENT2, NULL, 0);
    }
    return fx_continue(cx);
}

static fx_pid spawn(fx_vm *vm, fx_handler h, const void *init, size_t size,
                    const char *label)
{
    fx_spawn_opts o = {
        .handler = h, .state_size = size, .state_init = init, .label = label};
    fx_pid p = FX_PID_NONE;
    if (fx_vm_spawn_opt(vm, &o, &p) != 0) {
        fprintf(stderr, "hold_stress: spawn failed\n");
        exit(1);
    }
    return p;
}

/* Waits (10 s) for a message of `type`; false if none came. */
static bool recv(fx_inbox *in, uint32_t type)
{
    fx_msg *m = NULL;
    if (fx_inbox_recv(in, &(fx_match){.type = type}, 10000, &m) != 0)
        return false;
    fx_msg_free(m);
    return true;
}

/* One round: scenario 0 (deferred wake-up) or 1 (muted sender). */
static bool round_ok(uint32_t threads, int scenario)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = threads;
    c.stuck_ms = 20;
    c.mute_high = 8;
    c.crash_logger = fx_crash_logger_silent;
    c.log_sink = fx_log_sink_silent;
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&c, &vm) != 0 || fx_vm_start(vm) != 0 ||
        fx_inbox_create(vm, &in) != 0)
        return false;
    fx_pid me = fx_inbox_pid(in);
    __atomic_store_n(&release_spin, 0, __ATOMIC_RELEASE);
    fx_pid k = spawn(vm, sink, NULL, 0, "sink");
    spin_state ss = {me, k};
    fx_pid s = spawn(vm, spinner, &ss, sizeof ss, "spinner");
    bool ok;
    fx_pid g = FX_PID_NONE;
    if (scenario == 0) {
        fx_pid e = spawn(vm, echo, NULL, 0, "echo");
        ok = fx_vm_send(vm, s, FWD, &e, sizeof e) == 0 && recv(in, PONG);
    } else {
        g = spawn(vm, gate, NULL, 0, "gate");
        muter ms = {g, s, me};
        fx_pid mp = spawn(vm, muter_h, &ms, sizeof ms, "muter");
        ok = fx_vm_send(vm, mp, GO, NULL, 0) == 0 &&
             fx_vm_send(vm, mp, GO2, NULL, 0) == 0 && recv(in, SENT2);
    }
    /* Still spinning when the answer came: the hand-over made it. */
    ok = ok && __atomic_load_n(&release_spin, __ATOMIC_ACQUIRE) == 0;
    if (scenario == 1)
        (void) fx_vm_send(vm, g, OPEN, NULL, 0);
    __atomic_store_n(&release_spin, 1, __ATOMIC_RELEASE);
    ok = recv(in, DONE) && ok;
    fx_inbox_destroy(in);
    ok = fx_vm_shutdown(vm) == 0 && ok;
    fx_vm_destroy(vm);
    return ok;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 8;
    int bad = 0;
    for (int r = 0; r < rounds; r++) {
        uint32_t threads = 1 + (uint32_t) (r % 2);
        int scenario = (r / 2) % 2;
        if (!round_ok(threads, scenario)) {
            fprintf(stderr, "hold_stress: round %d (%u threads, %s) failed\n", r, threads,
                    scenario ? "muted sender" : "deferred wake-up");
            bad++;
        }
    }
    printf("hold_stress: %d rounds, %d failed\n", rounds, bad);
    return bad ? 1 : 0;
}
