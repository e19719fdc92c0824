/* Stress: muting races. Tiny marks (high 32, low 8) so senders are muted
 * and released all the time, on both scheduler threads, while: senders
 * flood receivers that are themselves flooding others (a ring), receivers
 * die under muted senders (the release path for a dead target), and the
 * VM shuts down with actors still muted (the release path for a stopping
 * VM). Every message carries its sender and a per-sender sequence number;
 * receivers count gaps and reorderings, and every message accepted must
 * arrive. Plain program (exit status) for ThreadSanitizer.
 *   mute_stress [ROUNDS] */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DATA = 1, GO, MORE, NEXT, DONE, STOP };

#define RING 4
#define PER 50000
#define CHUNK 300

static uint64_t violations; /* atomic */

static void violation(const char *what)
{
    if (__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED) < 5)
        fprintf(stderr, "mute_stress: %s\n", what);
}

typedef struct {
    uint32_t from, seq;
} item;

/* A ring member: floods the next member with PER messages in chunks and
 * checks what the previous member sends it. */
typedef struct {
    fx_pid next, report;
    uint32_t id, sent, got, expect_seq;
    bool done;
} member;

static fx_next member_h(fx_ctx *cx, fx_msg *m)
{
    member *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case NEXT:
        memcpy(&st->next, fx_msg_data(m), sizeof st->next);
        return fx_continue(cx);
    case DATA: {
        item it;
        memcpy(&it, fx_msg_data(m), sizeof it);
        if (it.seq != st->expect_seq)
            violation("gap or reordering in a ring");
        st->expect_seq = it.seq + 1;
        st->got++;
        break;
    }
    case STOP:
        return fx_stop(cx, fx_reason_normal());
    default: /* GO, MORE */
        for (uint32_t k = 0; k < CHUNK && st->sent < PER; k++, st->sent++) {
            item it = {st->id, st->sent};
            if (fx_send(cx, st->next, DATA, &it, sizeof it) != 0)
                violation("a ring send failed");
        }
        if (st->sent < PER)
            fx_send(cx, fx_self(cx), MORE, NULL, 0);
        break;
    }
    if (!st->done && st->sent == PER && st->got == PER) {
        st->done = true;
        fx_send(cx, st->report, DONE, NULL, 0);
    }
    return fx_continue(cx);
}

/* A victim: a slow receiver that dies after `life` messages, under the
 * senders muted on it. */
typedef struct {
    uint32_t life;
} victim;

static fx_next victim_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    victim *st = fx_state(cx);
    volatile uint32_t x = 0;
    for (int i = 0; i < 50; i++)
        x += (uint32_t) i;
    (void) x;
    if (--st->life == 0)
        return fx_stop(cx, fx_reason_normal());
    return fx_continue(cx);
}

/* Floods the victim until it is gone, then reports. */
typedef struct {
    fx_pid to, report;
} pest;

static fx_next pest_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    pest *st = fx_state(cx);
    for (int k = 0; k < CHUNK; k++)
        if (fx_send(cx, st->to, DATA, &k, sizeof k) == FX_ENOPROC) {
            fx_send(cx, st->report, DONE, NULL, 0);
            return fx_stop(cx, fx_reason_normal());
        }
    fx_send(cx, fx_self(cx), MORE, NULL, 0);
    return fx_continue(cx);
}

static int round_once(uint32_t r)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.mute_high = 32;
    c.mute_low = 8;
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&c, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in))
        return 1;
    fx_pid me = fx_inbox_pid(in);
    fx_pid ring[RING];
    for (uint32_t i = 0; i < RING; i++) {
        member init = {.report = me, .id = i};
        fx_spawn_opts o = {
            .handler = member_h, .state_size = sizeof init, .state_init = &init};
        if (fx_vm_spawn_opt(vm, &o, &ring[i]))
            return 1;
    }
    for (uint32_t i = 0; i < RING; i++)
        fx_vm_send(vm, ring[i], NEXT, &ring[(i + 1) % RING], sizeof(fx_pid));
    /* Victims and their pests. */
    enum { NV = 3, NP = 4 };
    for (uint32_t v = 0; v < NV; v++) {
        victim vi = {.life = 2000 + 1000 * v + r % 500};
        fx_spawn_opts o = {
            .handler = victim_h, .state_size = sizeof vi, .state_init = &vi};
        fx_pid vp;
        if (fx_vm_spawn_opt(vm, &o, &vp))
            return 1;
        for (uint32_t p = 0; p < NP; p++) {
            pest pe = {.to = vp, .report = me};
            fx_spawn_opts po = {
                .handler = pest_h, .state_size = sizeof pe, .state_init = &pe};
            fx_pid pp;
            if (fx_vm_spawn_opt(vm, &po, &pp))
                return 1;
            fx_vm_send(vm, pp, GO, NULL, 0);
        }
    }
    for (uint32_t i = 0; i < RING; i++)
        fx_vm_send(vm, ring[i], GO, NULL, 0);
    fx_match done = {.type = DONE};
    for (uint32_t i = 0; i < RING + NV * NP; i++) {
        fx_msg *m;
        if (fx_inbox_recv(in, &done, 120000, &m) != 0) {
            fprintf(stderr, "mute_stress: round %u stalled\n", r);
            return 1;
        }
        fx_msg_free(m);
    }
    /* Odd rounds: shut down with a fresh flood in progress, so actors are
     * muted when the VM stops. */
    if (r & 1) {
        victim vi = {.life = 1000000};
        fx_spawn_opts o = {
            .handler = victim_h, .state_size = sizeof vi, .state_init = &vi};
        fx_pid vp;
        if (fx_vm_spawn_opt(vm, &o, &vp))
            return 1;
        for (uint32_t p = 0; p < NP; p++) {
            pest pe = {.to = vp, .report = me};
            fx_spawn_opts po = {
                .handler = pest_h, .state_size = sizeof pe, .state_init = &pe};
            fx_pid pp;
            if (fx_vm_spawn_opt(vm, &po, &pp) == 0)
                fx_vm_send(vm, pp, GO, NULL, 0);
        }
    }
    fx_inbox_destroy(in);
    if (fx_vm_shutdown(vm) != 0)
        return 1;
    fx_vm_destroy(vm);
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t rounds = argc > 1 ? (uint32_t) strtoul(argv[1], NULL, 10) : 20;
    for (uint32_t r = 0; r < rounds; r++)
        if (round_once(r) != 0)
            return 1;
    uint64_t v = __atomic_load_n(&violations, __ATOMIC_RELAXED);
    if (v) {
        fprintf(stderr, "mute_stress: %llu violations\n", (unsigned long long) v);
        return 1;
    }
    printf("mute_stress: %u rounds ok\n", rounds);
    return 0;
}
