/* fauxtp-bench: shared definitions. */
#ifndef FAUXTP_BENCH_H
#define FAUXTP_BENCH_H

#include <fauxtp/fauxtp.h>
#include <stdint.h>
#include <stdio.h>

/* Message types used by the benchmarks. */
enum {
    B_GO = 1,
    B_PING,
    B_PONG,
    B_INC,
    B_GET,
    B_VALUE,
    B_TOKEN,
    B_WORK,
    B_MORE,
    B_DONE,
    B_NEXT,
    B_MEET,
    B_CHANGE,
    B_FADE,
    B_MEETINGS,
};

typedef struct bench_run {
    fx_vm *vm;
    fx_inbox *inbox; /* results come here */
    uint64_t n;
    uint32_t threads;
    /* filled by the benchmark */
    double seconds;
    uint64_t ops;
    char extra[512]; /* extra JSON members, e.g. ,"bytes_per_actor":96 */
    char error[256]; /* set when the result is wrong */
} bench_run;

typedef int (*bench_fn)(bench_run *r);

typedef struct bench_def {
    const char *name;
    uint64_t default_n;
    bench_fn fn;
} bench_def;

double bench_now(void);
/* Waits for one message of `type` on the run's inbox and copies its first
 * 8 payload bytes into *value. 0, or -1 with r->error set. */
int bench_wait(bench_run *r, uint32_t type, uint64_t *value);
int bench_fail(bench_run *r, const char *fmt, ...);

int bench_pingpong(bench_run *r);
int bench_counting(bench_run *r);
int bench_threadring(bench_run *r);
int bench_fjthrput(bench_run *r);
int bench_mailbox(bench_run *r);
int bench_fjcreate(bench_run *r);
int bench_chameneos(bench_run *r);
int bench_big(bench_run *r);
int bench_skynet(bench_run *r);
int bench_spawnmem(bench_run *r);
int bench_callrt(bench_run *r);
int bench_calllat(bench_run *r);
/* callq_*: calls made with a long queue (bench/callq_bench.c). */
int bench_callq_0(bench_run *r);
int bench_callq_10k(bench_run *r);
int bench_callq_100k(bench_run *r);
int bench_overload(bench_run *r);
int bench_whereis(bench_run *r);
/* info_bench.c */
int bench_procinfo(bench_run *r);
int bench_snapshot(bench_run *r);
int bench_sendname(bench_run *r);
int bench_heavy_inline(bench_run *r);
int bench_heavy_pool(bench_run *r);
/* savina2_benches.c, savina3_benches.c */
int bench_bndbuffer(bench_run *r);
int bench_philosopher(bench_run *r);
int bench_barber(bench_run *r);
int bench_banking(bench_run *r);
int bench_trapezoid(bench_run *r);
int bench_fib(bench_run *r);

#endif
