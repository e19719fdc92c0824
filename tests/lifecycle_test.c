#include "helpers.h"

#include <stdio.h>
#include <unistd.h>

enum { GO = 1, HIT, DONE };

static long rss_kb(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
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
    for (int i = 0; i < 2000; i++) {
        fx_vm_stats_get(vm, &st);
        if (st.processes == n)
            return;
        usleep(5000);
    }
    cr_assert_eq(st.processes, n);
}

/* 1,000,000 actors spawned, messaged and exited in four rounds: memory
 * after the last round is where it was after the first (slots and actor
 * memory are recycled), and no process is left. */
Test(lifecycle, million_actors_memory_is_flat, .timeout = 120)
{
    tvm t = tvm_start(2);
    long after_first = 0;
    for (int round = 0; round < 8; round++) {
        spawner init = {.report = t.me, .n = 250000};
        fx_pid s = spawn_state(t.vm, spawn_batch, &init, sizeof init);
        cr_assert_eq(fx_vm_send(t.vm, s, GO, NULL, 0), 0);
        fx_msg_free(tvm_recv(&t, DONE));
        wait_processes(t.vm, 1 + (uint64_t) round);
        if (round == 0)
            after_first = rss_kb();
        cr_log_info("round %d: rss %ld KiB", round, rss_kb());
    }
    long after_last = rss_kb();
    fx_vm_stats st;
    fx_vm_stats_get(t.vm, &st);
    cr_assert_eq(st.spawned, 4 * 250000 + 4, "spawned %llu", (unsigned long long) st.spawned);
    cr_log_info("rss after round 1: %ld KiB, after round 4: %ld KiB", after_first,
                after_last);
    cr_assert_lt(after_last, after_first + 16 * 1024, "memory grew by %ld KiB",
                 after_last - after_first);
    tvm_stop(&t);
}
