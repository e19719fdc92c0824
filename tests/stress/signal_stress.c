/* Stress: links, monitors and exit signals racing across the schedulers.
 * Each round, K cells start at once; each links to and monitors random
 * peers of its round (some of them already dying), some trap exits, some
 * kill a peer, and each finally ends itself. Exit signals propagate along
 * the links meanwhile. Checks: every cell's DOWN reaches the main thread
 * with a reason that can happen, the process count returns to zero, and
 * (in the sanitizer builds) no leak and no data race. Plain program, so it
 * runs under ThreadSanitizer. Usage: signal_stress [CELLS] (default 1M). */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GO = 1, DIE };
#define K 250
#define LINKS 3
#define MONITORS 3

static fx_pid round_pids[K];

static uint64_t next_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static fx_next cell(fx_ctx *cx, fx_msg *m)
{
    uint64_t *seed = fx_state(cx);
    if (fx_msg_type(m) == GO) {
        const fx_pid *peers = fx_msg_data(m);
        if (next_rand(seed) % 3 == 0)
            fx_trap_exit(cx, true);
        for (int i = 0; i < LINKS; i++) {
            int rc = fx_link(cx, peers[next_rand(seed) % K]);
            if (rc != 0 && rc != FX_ENOPROC)
                return fx_stop(cx, fx_reason_error(rc, "link"));
        }
        for (int i = 0; i < MONITORS; i++) {
            fx_ref ref;
            if (fx_monitor(cx, peers[next_rand(seed) % K], &ref) != 0)
                return fx_stop(cx, fx_reason_error(2, "monitor"));
            if (next_rand(seed) % 4 == 0)
                fx_demonitor(cx, ref, FX_DEMONITOR_FLUSH);
        }
        if (next_rand(seed) % 16 == 0)
            fx_exit(cx, peers[next_rand(seed) % K], fx_reason_kill());
        if (next_rand(seed) % 8 == 0)
            fx_unlink(cx, peers[next_rand(seed) % K]);
        fx_send(cx, fx_self(cx), DIE, NULL, 0);
        return fx_continue(cx);
    }
    if (fx_msg_type(m) == DIE)
        return fx_stop(cx, (*seed & 1) ? fx_reason_normal() : fx_reason_error(1, "die"));
    return fx_continue(cx); /* EXIT and DOWN messages of trapping cells */
}

static bool reason_possible(const fx_reason *r)
{
    switch (r->kind) {
    case FX_REASON_NORMAL:
    case FX_REASON_KILLED: /* fx_exit(kill), or a link to a killed cell */
    case FX_REASON_NOPROC: /* a link that reached a cell already dead */
        return true;
    case FX_REASON_ERROR:
        return r->code == 1 && strcmp(r->text, "die") == 0;
    default:
        return false;
    }
}

int main(int argc, char **argv)
{
    uint64_t cells = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.crash_logger = fx_crash_logger_silent;
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&c, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in)) {
        fprintf(stderr, "signal_stress: VM start failed\n");
        return 1;
    }
    uint64_t rounds = (cells + K - 1) / K, bad = 0, downs = 0;
    for (uint64_t r = 0; r < rounds; r++) {
        fx_ref refs[K];
        for (int i = 0; i < K; i++) {
            uint64_t seed = r * K + (uint64_t) i + 1;
            fx_spawn_opts o = {
                .handler = cell, .state_size = sizeof seed, .state_init = &seed};
            if (fx_inbox_spawn_monitor(in, &o, &round_pids[i], &refs[i]) != 0) {
                fprintf(stderr, "signal_stress: spawn failed\n");
                return 1;
            }
        }
        for (int i = 0; i < K; i++)
            fx_inbox_send(in, round_pids[i], GO, round_pids, sizeof round_pids);
        for (int i = 0; i < K; i++) {
            fx_match mt = {.type = FX_MSG_DOWN};
            fx_msg *m = NULL;
            if (fx_inbox_recv(in, &mt, 60000, &m) != 0) {
                fprintf(stderr, "signal_stress: round %llu: a DOWN is missing\n",
                        (unsigned long long) r);
                return 1;
            }
            const fx_down_info *d = fx_msg_data(m);
            if (!reason_possible(&d->reason)) {
                char why[96];
                fx_reason_format(&d->reason, why, sizeof why);
                fprintf(stderr, "signal_stress: impossible reason %s\n", why);
                bad++;
            }
            downs++;
            fx_msg_free(m);
        }
    }
    /* Every cell is dead; the count settles once exits are counted. */
    fx_vm_stats st;
    fx_vm_stats_get(vm, &st);
    fx_inbox_destroy(in);
    fx_vm_shutdown(vm);
    fx_vm_destroy(vm);
    printf(
        "signal_stress: %llu cells, %llu DOWNs, %llu live at the end, %llu bad reasons\n",
        (unsigned long long) (rounds * K), (unsigned long long) downs,
        (unsigned long long) st.processes, (unsigned long long) bad);
    return bad == 0 && downs == rounds * K && st.processes == 0 ? 0 : 1;
}
