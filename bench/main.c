/* fauxtp-bench NAME [--n N] [--threads T] [--json] | --list
 * Runs one benchmark and prints its result; see docs/benchmarks.md. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static const bench_def benches[] = {
    {"pingpong", 1000000, bench_pingpong},
    {"counting", 2000000, bench_counting},
    {"threadring", 2000000, bench_threadring},
    {"fjthrput", 200000, bench_fjthrput},
    {"fjcreate", 100000, bench_fjcreate},
    {"chameneos", 200000, bench_chameneos},
    {"big", 20000, bench_big},
    {"mailbox", 100000, bench_mailbox},
    {"skynet", 1000000, bench_skynet},
    {"spawnmem", 1000000, bench_spawnmem},
    {"callrt", 500000, bench_callrt},
    {"bndbuffer", 1000000, bench_bndbuffer},
    {"philosopher", 20000, bench_philosopher},
    {"barber", 200000, bench_barber},
    {"banking", 500000, bench_banking},
    {"trapezoid", 2000000, bench_trapezoid},
    {"fib", 27, bench_fib},
    {"calllat", 100000, bench_calllat},
    {"callq_0", 20000, bench_callq_0},
    {"callq_10k", 20000, bench_callq_10k},
    {"callq_100k", 20000, bench_callq_100k},
    {"whereis", 10000000, bench_whereis},
    {"sendname", 2000000, bench_sendname},
    {"heavy_inline", 500, bench_heavy_inline},
    {"heavy_pool", 500, bench_heavy_pool},
    {"overload", 250000, bench_overload},
    {"procinfo", 1000000, bench_procinfo},
    {"snapshot", 1000000, bench_snapshot},
};
#define NBENCH (sizeof benches / sizeof benches[0])

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

int bench_fail(bench_run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    return -1;
}

int bench_wait(bench_run *r, uint32_t type, uint64_t *value)
{
    fx_match m = {.type = type};
    fx_msg *msg;
    int rc = fx_inbox_recv(r->inbox, &m, 600000, &msg);
    if (rc != 0)
        return bench_fail(r, "waiting for result: %s", fx_strerror(rc));
    if (value) {
        *value = 0;
        if (fx_msg_size(msg) >= sizeof *value)
            memcpy(value, fx_msg_data(msg), sizeof *value);
    }
    fx_msg_free(msg);
    return 0;
}

static int usage(void)
{
    fprintf(
        stderr,
        "usage: fauxtp-bench NAME [--n N] [--threads T] [--mute on|off] [--pool-nice K] "
        "[--json] | "
        "--list\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *name = NULL;
    uint64_t n = 0;
    uint32_t threads = 0;
    int json = 0;
    uint32_t mute = FX_MUTE_DEFAULT;
    int32_t pool_nice = 0; /* fx_vm_config.pool_nice: 0 = the default */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--list")) {
            for (size_t k = 0; k < NBENCH; k++)
                printf("%s\n", benches[k].name);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
            n = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--mute") && i + 1 < argc) {
            i++;
            if (!strcmp(argv[i], "on"))
                mute = FX_MUTE_ON;
            else if (!strcmp(argv[i], "off"))
                mute = FX_MUTE_OFF;
            else
                return usage();
        } else if (!strcmp(argv[i], "--pool-nice") && i + 1 < argc) {
            pool_nice = (int32_t) strtol(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = (uint32_t) strtoul(argv[++i], NULL, 10);
        } else if (argv[i][0] != '-' && !name) {
            name = argv[i];
        } else {
            return usage();
        }
    }
    const bench_def *def = NULL;
    for (size_t k = 0; name && k < NBENCH; k++)
        if (!strcmp(benches[k].name, name))
            def = &benches[k];
    if (!def)
        return usage();

    bench_run r;
    memset(&r, 0, sizeof r);
    r.n = n ? n : def->default_n;
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = threads;
    cfg.mute = mute;
    cfg.pool_nice = pool_nice;
    int rc = fx_vm_create(&cfg, &r.vm);
    if (rc == 0)
        rc = fx_vm_start(r.vm);
    if (rc == 0)
        rc = fx_inbox_create(r.vm, &r.inbox);
    if (rc != 0) {
        fprintf(stderr, "fauxtp-bench: VM start failed: %s\n", fx_strerror(rc));
        return 1;
    }
    r.threads = fx_vm_threads(r.vm);
    int ok = def->fn(&r) == 0 && r.error[0] == '\0';
    fx_inbox_destroy(r.inbox);
    fx_vm_destroy(r.vm);
    if (!ok) {
        fprintf(stderr, "fauxtp-bench %s: FAILED: %s\n", def->name, r.error);
        return 1;
    }
    double rate = r.seconds > 0 ? (double) r.ops / r.seconds : 0;
    if (json)
        printf("{\"bench\":\"%s\",\"system\":\"fauxtp\",\"n\":%llu,\"threads\":%u,"
               "\"seconds\":%.6f,\"ops_per_sec\":%.1f,\"alloc\":\"%s\","
               "\"extra\":{\"ops\":%llu%s}}\n",
               def->name, (unsigned long long) r.n, r.threads, r.seconds, rate,
               fx_allocator_name(), (unsigned long long) r.ops, r.extra);
    else
        printf("%-10s n=%llu threads=%u  %.3f s  %.0f ops/s  (%.1f ns/op)\n", def->name,
               (unsigned long long) r.n, r.threads, r.seconds, rate,
               r.ops ? r.seconds * 1e9 / (double) r.ops : 0.0);
    return 0;
}
