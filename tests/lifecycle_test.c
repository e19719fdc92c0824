#include "helpers.h"

#include <stdio.h>
#if FX_TEST_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif
#include <unistd.h>

enum { GO = 1, HIT, DONE };
#define ROUNDS 4

/* Bytes the program has allocated and not freed. With jemalloc this is
 * exact (stats.allocated); RSS is not usable because jemalloc keeps freed
 * pages for a decay period. Without jemalloc (sanitizer builds) it returns
 * -1 and LeakSanitizer checks the frees instead. */
static long live_kb(void)
{
#if FX_TEST_JEMALLOC
    uint64_t epoch = 1;
    size_t sz = sizeof epoch, allocated = 0;
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    sz = sizeof allocated;
    if (mallctl("stats.allocated", &allocated, &sz, NULL, 0) != 0)
        return -1;
    return (long) (allocated / 1024);
#else
    return -1;
#endif
}

/* Each worker handles one message and exits. */
static fx_next one_shot(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    return fx_stop(cx, fx_reason_normal());
}

typedef struct {
    fx_pid report;
    uint64_t n, done;
} spawner;

static fx_next spawn_batch(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    spawner *st = fx_state(cx);
    for (int i = 0; i < 1000 && st->done < st->n; i++, st->done++) {
        fx_pid w;
        cr_assert_eq(fx_spawn(cx, one_shot, NULL, &w), 0);
        cr_assert_eq(fx_send(cx, w, HIT, NULL, 0), 0);
    }
    if (st->done < st->n)
        fx_send(cx, fx_self(cx), GO, NULL, 0);
    else
        fx_send(cx, st->report, DONE, NULL, 0);
    return fx_continue(cx);
}

static void wait_processes(fx_vm *vm, uint64_t n)
{
    fx_vm_stats st;
    for (int i = 0; i < 12000; i++) { /* 60 s: a loaded machine is slow */
        fx_vm_stats_get(vm, &st);
        if (st.processes == n)
            return;
        usleep(5000);
    }
    cr_assert_eq(st.processes, n);
}

/* 1,000,000 actors spawned, messaged and exited in four rounds: live
 * memory does not grow from round to round (actors, messages and slots
 * are all recycled), and only the spawners are left. The first round is
 * the warm-up: what it leaves live (run-queue arrays grown to the peak
 * backlog, allocator and message caches) depends on how far spawns ran
 * ahead of exits, which depends on the machine's load, so it gets only a
 * loose bound; each later round must end within 16 MiB of it (seen on a
 * loaded machine: rounds end 3 to 10 MiB above the baseline, up and down,
 * not growing). Leaking even 24 bytes per actor would exceed that over
 * the three later rounds (18 MiB); an actor or a message is 64+. */
Test(lifecycle, million_actors_memory_is_flat, .timeout = 300)
{
    tvm t = tvm_start(2);
    long baseline = live_kb(), warm = -1;
    for (int round = 0; round < ROUNDS; round++) {
        spawner init = {.report = t.me, .n = 250000};
        fx_pid s = spawn_state(t.vm, spawn_batch, &init, sizeof init);
        cr_assert_eq(fx_vm_send(t.vm, s, GO, NULL, 0), 0);
        fx_msg_free(tvm_recv(&t, DONE));
        wait_processes(t.vm, 1 + (uint64_t) round);
        if (baseline < 0)
            continue; /* no jemalloc: LeakSanitizer checks the frees */
        /* Dead actors are freed after a grace period (parked threads
         * retry every millisecond): give it up to 10 s before judging. */
        long bound = round == 0 ? baseline + 32 * 1024 : warm + 16 * 1024;
        long now = live_kb();
        for (int i = 0; i < 200 && now >= bound; i++) {
            usleep(50000);
            now = live_kb();
        }
        cr_log_info("round %d: live %ld KiB (baseline %ld KiB, warm %ld KiB)", round, now,
                    baseline, warm);
        cr_assert_lt(now, bound, "round %d: %ld KiB live, baseline %ld KiB, warm %ld KiB",
                     round, now, baseline, warm);
        if (round == 0)
            warm = now;
    }
    fx_vm_stats st;
    fx_vm_stats_get(t.vm, &st);
    cr_assert_eq(st.spawned, ROUNDS * 250000 + ROUNDS, "spawned %llu",
                 (unsigned long long) st.spawned);
    tvm_stop(&t);
}
