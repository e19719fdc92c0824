/* Stress: the watchdog's hand-over races (docs/watchdog.md). With a 1 ms
 * stuck limit, "slow" actors run handler calls of 0-3 ms that keep
 * sending to two partners (so the owner wakes them into its next slot,
 * and flushes its outbox, in the middle of calls the watchdog claims),
 * while ping-pong pairs exchange sequenced messages. The watchdog reports
 * calls, takes next/held slots, starts and retires spare threads, all
 * against a running owner. Checks: every message arrives once and in
 * order per (sender, receiver), every actor finishes its quota, and the
 * watchdog did report and hand over (deferred wake-ups and, in rounds
 * with a low muting mark, muted senders too). Some rounds shut down with a 1 ms
 * deadline while slow calls run (FX_ESTUCK, then shutdown again until it
 * completes). Plain program (exit status) so it runs under TSan.
 *
 * Usage: watchdog_stress [rounds] */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { GO = 1, DATA, DONE };

#define NPAIRS 4
#define NSLOW 3
#define BOUNCES 2000
#define SLOW_MSGS 40

static uint64_t violations, stuck_seen; /* atomic */

static void logger(void *arg, const fx_crash_report *r)
{
    (void) arg;
    if (r->kind == FX_REPORT_STUCK || r->kind == FX_REPORT_STUCK_AT_SHUTDOWN)
        __atomic_fetch_add(&stuck_seen, 1, __ATOMIC_RELAXED);
    else
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED); /* no crashes expected */
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

typedef struct {
    uint32_t from, seq;
} data;

/* ---- ping-pong pairs: strict sequence per direction ------------------- */

typedef struct {
    fx_pid peer, report;
    uint32_t id, sent, expect;
} player;

static fx_next player_h(fx_ctx *cx, fx_msg *m)
{
    player *p = fx_state(cx);
    if (fx_msg_type(m) == GO) {
        memcpy(&p->peer, fx_msg_data(m), sizeof p->peer);
        if (p->id % 2 == 0) {
            data d = {p->id, p->sent++};
            fx_send(cx, p->peer, DATA, &d, sizeof d);
        }
        return fx_continue(cx);
    }
    data d;
    memcpy(&d, fx_msg_data(m), sizeof d);
    if (d.seq != p->expect++)
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
    if (p->sent < BOUNCES) { /* to the sender: our GO may not have come yet */
        data r = {p->id, p->sent++};
        fx_send(cx, fx_msg_from(m), DATA, &r, sizeof r);
    }
    if (p->expect == BOUNCES)
        fx_send(cx, p->report, DONE, &p->id, sizeof p->id);
    return fx_continue(cx);
}

/* ---- slow actors: long calls that keep sending ------------------------- */

typedef struct {
    fx_pid a, b, report;
    uint32_t id, got, seq_a, seq_b;
    uint32_t owed; /* DATA handled before GO: sends still due */
    bool go;
    uint32_t expect[NSLOW];
    uint64_t rng;
} slow;

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t) (*s >> 33);
}

static fx_next slow_h(fx_ctx *cx, fx_msg *m)
{
    slow *s = fx_state(cx);
    if (fx_msg_type(m) == GO) {
        fx_pid peers[2];
        memcpy(peers, fx_msg_data(m), sizeof peers);
        s->a = peers[0];
        s->b = peers[1];
        s->go = true;
    } else {
        data d;
        memcpy(&d, fx_msg_data(m), sizeof d);
        if (d.from >= NSLOW || d.seq != s->expect[d.from]++)
            __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
        if (++s->got == 2 * SLOW_MSGS)
            fx_send(cx, s->report, DONE, &s->id, sizeof s->id);
        if (!s->go) { /* peers unknown yet: send when GO comes */
            s->owed++;
            return fx_continue(cx);
        }
    }
    /* A call of 0-3 ms, sending to a then b (each switch publishes the
     * other's chain and may wake it into this thread's next slot). */
    uint64_t until = now_ns() + (uint64_t) (rnd(&s->rng) % 3000) * 1000u;
    uint32_t quota = fx_msg_type(m) == GO ? 4 + s->owed : 1;
    do {
        if (quota && s->seq_a < SLOW_MSGS && s->seq_b < SLOW_MSGS) {
            data da = {s->id, s->seq_a++}, db = {s->id, s->seq_b++};
            fx_send(cx, s->a, DATA, &da, sizeof da);
            fx_send(cx, s->b, DATA, &db, sizeof db);
            quota--;
        }
    } while (now_ns() < until);
    /* Whatever is left of the quota goes out at the end. */
    while (quota-- && s->seq_a < SLOW_MSGS && s->seq_b < SLOW_MSGS) {
        data da = {s->id, s->seq_a++}, db = {s->id, s->seq_b++};
        fx_send(cx, s->a, DATA, &da, sizeof da);
        fx_send(cx, s->b, DATA, &db, sizeof db);
    }
    return fx_continue(cx);
}

static int round_once(int r)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 1 + (uint32_t) (r % 2);
    c.stuck_ms = 1;
    c.shutdown_timeout_ms = r % 5 == 4 ? 1 : 0;
    c.crash_logger = logger;
    /* Every third round a low muting mark: slow actors flooding their
     * partners are muted on the threads whose calls the watchdog claims,
     * which hand them over (docs/watchdog.md, "Hand-over"). */
    if (r % 3 == 1)
        c.mute_high = 16;
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&c, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in))
        return 1;
    fx_pid me = fx_inbox_pid(in);
    fx_pid pl[2 * NPAIRS], sl[NSLOW];
    for (uint32_t i = 0; i < 2 * NPAIRS; i++) {
        player p = {.report = me, .id = i};
        fx_spawn_opts o = {.handler = player_h, .state_size = sizeof p, .state_init = &p};
        if (fx_vm_spawn_opt(vm, &o, &pl[i]))
            return 1;
    }
    for (uint32_t i = 0; i < NSLOW; i++) {
        slow s = {
            .report = me, .id = i, .rng = 0x9E3779B97F4A7C15ULL * (i + 1 + (uint64_t) r)};
        fx_spawn_opts o = {.handler = slow_h, .state_size = sizeof s, .state_init = &s};
        if (fx_vm_spawn_opt(vm, &o, &sl[i]))
            return 1;
    }
    for (uint32_t i = 0; i < 2 * NPAIRS; i++)
        fx_vm_send(vm, pl[i], GO, &pl[i ^ 1], sizeof pl[i]);
    for (uint32_t i = 0; i < NSLOW; i++) {
        fx_pid peers[2] = {sl[(i + 1) % NSLOW], sl[(i + 2) % NSLOW]};
        fx_vm_send(vm, sl[i], GO, peers, sizeof peers);
    }
    /* Every player and every slow actor reports DONE once. */
    int want = 2 * NPAIRS + NSLOW;
    if (r % 5 == 4)
        want = 2 * NPAIRS; /* shut down while the slow ones still run */
    unsigned done_mask = 0;
    for (int k = 0; k < want;) {
        fx_match any = {.type = DONE};
        fx_msg *m;
        int rc = fx_inbox_recv(in, &any, 60000, &m);
        if (rc) {
            fx_vm_stats st;
            fx_vm_stats_get(vm, &st);
            fprintf(
                stderr,
                "round %d: %d of %d done: %s (done mask %x, stuck %llu, spares %llu)\n",
                r, k, want, fx_strerror(rc), done_mask, (unsigned long long) st.stuck,
                (unsigned long long) st.spares_started);
            return 1;
        }
        uint32_t id;
        memcpy(&id, fx_msg_data(m), sizeof id);
        done_mask |= 1u << id;
        fx_msg_free(m);
        k++;
    }
    int rc;
    int tries = 0;
    while ((rc = fx_vm_shutdown(vm)) == FX_ESTUCK && tries++ < 100000)
        nanosleep(&(struct timespec){0, 100000}, NULL);
    if (rc) {
        fprintf(stderr, "round %d: shutdown: %s\n", r, fx_strerror(rc));
        return 1;
    }
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    for (int r = 0; r < rounds; r++)
        if (round_once(r))
            return 1;
    uint64_t v = __atomic_load_n(&violations, __ATOMIC_RELAXED);
    uint64_t st = __atomic_load_n(&stuck_seen, __ATOMIC_RELAXED);
    printf("watchdog_stress: %d rounds, %llu stuck reports, %llu violations\n", rounds,
           (unsigned long long) st, (unsigned long long) v);
    if (v || st == 0)
        return 1;
    return 0;
}
