/* fauxtp-top: rendering a frame; see top.h. */
#include "top.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void top_sample_free(top_sample *s)
{
    top_obj_free(&s->stats);
    for (int i = 0; i < s->nproc; i++)
        top_obj_free(&s->procs[i]);
    free(s->procs);
    memset(s, 0, sizeof *s);
}

int top_sample_parse(top_sample *s, const char *stats, const char *ps)
{
    memset(s, 0, sizeof *s);
    if (top_obj_parse(&s->stats, stats, strlen(stats)) != 0)
        return -1;
    int lines = 0;
    for (const char *p = ps; *p; p++)
        lines += *p == '\n';
    s->procs = calloc((size_t) lines + 1, sizeof *s->procs);
    if (!s->procs)
        return -1;
    for (const char *p = ps; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t) (nl - p) : strlen(p);
        if (len && top_obj_parse(&s->procs[s->nproc], p, len) == 0)
            s->nproc++;
        else
            top_obj_free(&s->procs[s->nproc]);
        p += len + (nl ? 1 : 0);
    }
    s->have = true;
    return 0;
}

/* 1234567 -> "1.2M"; below 100,000 as is. */
static const char *human(char *b, size_t n, uint64_t v)
{
    if (v < 100000)
        snprintf(b, n, "%llu", (unsigned long long) v);
    else if (v < 100000000)
        snprintf(b, n, "%.1fk", (double) v / 1e3);
    else if (v < 100000000000ull)
        snprintf(b, n, "%.1fM", (double) v / 1e6);
    else
        snprintf(b, n, "%.1fG", (double) v / 1e9);
    return b;
}

static const char *bytes(char *b, size_t n, uint64_t v)
{
    if (v < 10240)
        snprintf(b, n, "%lluB", (unsigned long long) v);
    else if (v < 10485760)
        snprintf(b, n, "%.1fK", (double) v / 1024);
    else
        snprintf(b, n, "%.1fM", (double) v / 1048576);
    return b;
}

static const char *duration(char *b, size_t n, uint64_t ns)
{
    if (ns < 10000000)
        snprintf(b, n, "%.2fms", (double) ns / 1e6);
    else if (ns < 100000000000ull)
        snprintf(b, n, "%.2fs", (double) ns / 1e9);
    else
        snprintf(b, n, "%.0fs", (double) ns / 1e9);
    return b;
}

/* "+123/s" against the previous sample, "" without one. */
static const char *rate(char *b, size_t n, const top_sample *cur, const top_sample *prev,
                        const char *key)
{
    b[0] = '\0';
    if (!prev || !prev->have)
        return b;
    uint64_t t0 = top_u64(&prev->stats, "time_ms"), t1 = top_u64(&cur->stats, "time_ms");
    uint64_t v0 = top_u64(&prev->stats, key), v1 = top_u64(&cur->stats, key);
    if (t1 <= t0 || v1 < v0)
        return b;
    char h[32];
    snprintf(b, n, " (+%s/s)", human(h, sizeof h, (v1 - v0) * 1000u / (t1 - t0)));
    return b;
}

/* Scheduler utilization: busy time over wall time between the samples.
 * Known when handler timing was on in between: some running thread's
 * busy or parked time grew. */
static uint64_t sched_u64(const top_sample *s, int i, const char *field)
{
    char k[64];
    snprintf(k, sizeof k, "schedulers.%d.%s", i, field);
    return top_u64(&s->stats, k);
}

static bool sched_running(const top_sample *s, int i)
{
    char k[64];
    snprintf(k, sizeof k, "schedulers.%d.running", i);
    const char *v = top_get(&s->stats, k);
    return v && strcmp(v, "true") == 0;
}

static void utilization(const top_sample *cur, const top_sample *prev)
{
    bool two = prev && prev->have;
    uint64_t t0 = two ? top_u64(&prev->stats, "time_ms") : 0;
    uint64_t t1 = top_u64(&cur->stats, "time_ms");
    int n = 0;
    bool timed = false;
    for (char k[64];; n++) {
        snprintf(k, sizeof k, "schedulers.%d.index", n);
        if (!top_get(&cur->stats, k))
            break;
        if (two && sched_running(cur, n) &&
            (sched_u64(cur, n, "busy_ns") != sched_u64(prev, n, "busy_ns") ||
             sched_u64(cur, n, "parked_ns") != sched_u64(prev, n, "parked_ns")))
            timed = true;
    }
    timed = timed && t1 > t0;
    printf("schedulers:");
    for (int i = 0; i < n; i++) {
        if (!sched_running(cur, i))
            continue;
        unsigned long long rq = (unsigned long long) sched_u64(cur, i, "run_queue");
        if (timed) {
            uint64_t b1 = sched_u64(cur, i, "busy_ns"),
                     b0 = sched_u64(prev, i, "busy_ns");
            double u =
                b1 > b0 ? (double) (b1 - b0) / ((double) (t1 - t0) * 1e6) * 100.0 : 0;
            printf("  %d: %3.0f%% q%llu", i, u > 100 ? 100 : u, rq);
        } else {
            printf("  %d: q%llu", i, rq);
        }
    }
    if (!timed)
        printf("   (utilization: needs handler timing, --timing, and two samples)");
    printf("\n");
}

static void row(const top_view *v, const top_obj *p)
{
    char q[32], m[32], rt[32], mem[32];
    const char *name = top_get(p, "name");
    if (!name || !*name)
        name = top_get(p, "label");
    const char *handler = top_get(p, "handler");
    int w = v->width > 0 ? v->width : 132;
    char line[512];
    snprintf(line, sizeof line, "%-16s %-20.20s %-9s %7s %8s %9s %7s  %s",
             top_get(p, "pid") ? top_get(p, "pid") : "?", name ? name : "",
             top_get(p, "status") ? top_get(p, "status") : "?",
             human(q, sizeof q, top_u64(p, "queue_len")),
             human(m, sizeof m, top_u64(p, "handled")),
             top_u64(p, "runtime_ns") ? duration(rt, sizeof rt, top_u64(p, "runtime_ns"))
                                      : "-",
             bytes(mem, sizeof mem, top_u64(p, "memory")), handler ? handler : "");
    if ((int) strlen(line) > w && w < (int) sizeof line)
        line[w] = '\0';
    printf("%s\n", line);
}

void top_render(const top_view *v, const top_sample *cur, const top_sample *prev)
{
    const top_obj *s = &cur->stats;
    char a[32], b[32], c[32], d[32], r1[48], r2[48];
    time_t now = (time_t) (top_u64(s, "time_ms") / 1000u);
    struct tm tm;
    localtime_r(&now, &tm);
    char when[16];
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    if (v->ansi)
        printf("\033[H\033[2J");
    const char *running = top_get(s, "running");
    printf("fauxtp-top  %s  %s  %s threads  sort %s\n", v->socket, when,
           top_get(s, "threads") ? top_get(s, "threads") : "?", v->sort);
    printf("processes %s  spawned %s%s  restarts %s  run queue %s%s\n",
           human(a, sizeof a, top_u64(s, "processes")),
           human(b, sizeof b, top_u64(s, "spawned")),
           rate(r1, sizeof r1, cur, prev, "spawned"),
           human(c, sizeof c, top_u64(s, "restarts")),
           human(d, sizeof d, top_u64(s, "run_queue")),
           running && strcmp(running, "true") != 0 ? "  [not running]" : "");
    printf(
        "messages sent %s%s  dropped %s (noproc %llu, mailbox full %llu)  stuck %llu\n",
        human(a, sizeof a, top_u64(s, "messages_sent")),
        rate(r2, sizeof r2, cur, prev, "messages_sent"),
        human(b, sizeof b, top_u64(s, "messages_dropped")),
        (unsigned long long) top_u64(s, "dropped_noproc"),
        (unsigned long long) top_u64(s, "dropped_full"),
        (unsigned long long) top_u64(s, "stuck"));
    printf(
        "exits normal %llu  shutdown %llu  killed %llu  other %llu   pool threads %llu "
        "queued %llu running %llu\n",
        (unsigned long long) top_u64(s, "exits_normal"),
        (unsigned long long) top_u64(s, "exits_shutdown"),
        (unsigned long long) top_u64(s, "exits_killed"),
        (unsigned long long) top_u64(s, "exits_other"),
        (unsigned long long) top_u64(s, "pool.threads"),
        (unsigned long long) top_u64(s, "pool.queued"),
        (unsigned long long) top_u64(s, "pool.running"));
    utilization(cur, prev);
    printf("\n%-16s %-20s %-9s %7s %8s %9s %7s  %s\n", "PID", "NAME/LABEL", "STATUS",
           "QUEUE", "MSGS", "RUNTIME", "MEMORY", "HANDLER");
    int rows = cur->nproc;
    if (v->height > 0 && rows > v->height - 8)
        rows = v->height - 8 > 0 ? v->height - 8 : 0;
    for (int i = 0; i < rows; i++)
        row(v, &cur->procs[i]);
    fflush(stdout);
}

void top_render_info(const top_obj *o)
{
    for (int i = 0; i < o->n; i++)
        printf("%-13s %s\n", o->key[i], o->val[i]);
}
