/* Stress: processes are born and die continuously while senders (inside
 * the VM and on outside threads) keep sending to pids that may have just
 * died. Every message carries the pid it was addressed to; a process that
 * receives a message addressed to anyone else means a send reached a
 * recycled slot. Runs as a plain program (exit status) so it can run under
 * ThreadSanitizer. */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HIT = 1, SPAWN, BLAST, DONE };

#define RING 256
#define VICTIMS 30000
#define LIFE 2 /* the factory sends both; blasts may land in between */

static uint64_t ring[RING]; /* recently spawned pids (atomic access) */
static uint64_t violations; /* atomic */
static uint64_t delivered;  /* atomic */
static int stop_threads;    /* atomic */

static fx_next victim(fx_ctx *cx, fx_msg *m)
{
    uint64_t *hits = fx_state(cx);
    uint64_t to;
    memcpy(&to, fx_msg_data(m), sizeof to);
    if (to != fx_self(cx).id)
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&delivered, 1, __ATOMIC_RELAXED);
    if (++*hits == LIFE)
        return fx_stop(cx, fx_reason_normal());
    return fx_continue(cx);
}

static void blast_some(fx_ctx *cx, fx_vm *vm, uint64_t *seed, int n)
{
    for (int i = 0; i < n; i++) {
        *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t id = __atomic_load_n(&ring[(*seed >> 33) % RING], __ATOMIC_RELAXED);
        if (!id)
            continue;
        fx_pid p = {id};
        if (cx)
            fx_send(cx, p, HIT, &id, sizeof id);
        else
            fx_vm_send(vm, p, HIT, &id, sizeof id);
    }
}

typedef struct {
    fx_pid report;
    uint64_t spawned, seed;
} factory;

static fx_next factory_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    factory *st = fx_state(cx);
    fx_spawn_opts o = {.handler = victim, .state_size = sizeof(uint64_t)};
    for (int i = 0; i < 200 && st->spawned < VICTIMS; i++) {
        fx_pid p;
        if (fx_spawn_opt(cx, &o, &p) != 0)
            break; /* table full of dying victims: retry next round */
        st->spawned++;
        __atomic_store_n(&ring[st->spawned % RING], p.id, __ATOMIC_RELAXED);
        uint64_t id = p.id;
        for (int k = 0; k < LIFE; k++)
            fx_send(cx, p, HIT, &id, sizeof id);
    }
    blast_some(cx, NULL, &st->seed, 100);
    if (st->spawned < VICTIMS)
        fx_send(cx, fx_self(cx), SPAWN, NULL, 0);
    else
        fx_send(cx, st->report, DONE, NULL, 0);
    return fx_continue(cx);
}

static fx_next blaster_h(fx_ctx *cx, fx_msg *m)
{
    uint64_t *seed = fx_state(cx);
    if (fx_msg_type(m) == DONE)
        return fx_stop(cx, fx_reason_normal());
    blast_some(cx, NULL, seed, 50);
    fx_send(cx, fx_self(cx), BLAST, NULL, 0);
    return fx_continue(cx);
}

static void *outside(void *arg)
{
    fx_vm *vm = arg;
    uint64_t seed = (uint64_t) (uintptr_t) &seed;
    while (!__atomic_load_n(&stop_threads, __ATOMIC_RELAXED))
        blast_some(NULL, vm, &seed, 64), sched_yield();
    return NULL;
}

int main(void)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.max_processes = 4096; /* small table: slots are reused constantly */
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&c, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in)) {
        fprintf(stderr, "churn_stress: VM start failed\n");
        return 1;
    }
    fx_pid blasters[4];
    for (int i = 0; i < 4; i++) {
        uint64_t seed = (uint64_t) i * 7919 + 1;
        fx_spawn_opts o = {
            .handler = blaster_h, .state_size = sizeof seed, .state_init = &seed};
        fx_vm_spawn_opt(vm, &o, &blasters[i]);
        fx_vm_send(vm, blasters[i], BLAST, NULL, 0);
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, outside, vm);
    factory f = {.report = fx_inbox_pid(in), .seed = 12345};
    fx_spawn_opts o = {.handler = factory_h, .state_size = sizeof f, .state_init = &f};
    fx_pid fp;
    fx_vm_spawn_opt(vm, &o, &fp);
    fx_vm_send(vm, fp, SPAWN, NULL, 0);
    fx_msg *m;
    int rc = fx_inbox_recv(in, &(fx_match){.type = DONE}, 300000, &m);
    if (rc == 0)
        fx_msg_free(m);
    __atomic_store_n(&stop_threads, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        fx_vm_send(vm, blasters[i], DONE, NULL, 0);
    fx_vm_stats st;
    fx_vm_stats_get(vm, &st);
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    uint64_t v = __atomic_load_n(&violations, __ATOMIC_RELAXED);
    printf("churn_stress: spawned %llu, delivered %llu, dropped %llu, violations %llu\n",
           (unsigned long long) st.spawned, (unsigned long long) delivered,
           (unsigned long long) st.messages_dropped, (unsigned long long) v);
    if (rc != 0) {
        fprintf(stderr, "churn_stress: factory did not finish: %s\n", fx_strerror(rc));
        return 1;
    }
    if (v != 0 || st.spawned < VICTIMS) {
        fprintf(stderr, "churn_stress: FAILED\n");
        return 1;
    }
    return 0;
}
