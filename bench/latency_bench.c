/* calllat: GenServer call latency under load. While 120 actors run the
 * big workload without end in the background, a client actor makes n
 * calls to a counter GenServer (one in flight, as in callrt: each issued
 * from the continuation that received the previous reply, 5 s timeout)
 * and times each round trip. Reported: the calls' rate, p50/p99/p99.9 and
 * the maximum round trip in ns (nearest rank), and the background's rate
 * (extra.bg_ops_per_sec: pings + pongs over its lifetime), so that a run
 * which starves the background shows. Verified: every reply is its call's
 * number, the server's count is 2n, and every background ping was answered.
 * The peers run the same workload (bench/peers/, "calllat").
 * Extra, not in the peers: n more calls with FX_INFINITY right after, under
 * the same load (extra.untimed_*: a timed call also arms and cancels a
 * receive timer). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

enum { LAT_INCR = 1, LAT_GET };     /* calls */
enum { LAT_STOP = 200, LAT_QUERY }; /* to the background actors */

#define LAT_ACTORS 120
#define CALL_TIMEOUT 5000 /* gen_server:call/2's default */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* ---- the background: big without end ------------------------------------ */

/* Written before the actors start, read-only while they run (one run per
 * process). */
static fx_pid lat_peers[LAT_ACTORS];

typedef struct {
    fx_pid report;
    uint64_t sent, answered, rng;
    uint32_t id;
    int stopping, reported;
} lat_bg;

static void lat_ping(fx_ctx *cx, lat_bg *st)
{
    /* xorshift64*, as in big */
    st->rng ^= st->rng >> 12;
    st->rng ^= st->rng << 25;
    st->rng ^= st->rng >> 27;
    uint32_t r = (uint32_t) ((st->rng * 0x2545F4914F6CDD1DULL) >> 32);
    uint32_t peer = (uint32_t) (((uint64_t) r * (LAT_ACTORS - 1)) >> 32);
    if (peer >= st->id)
        peer++;
    st->sent++;
    fx_send(cx, lat_peers[peer], B_PING, NULL, 0);
}

/* LAT_STOP: ping no more, report the pings sent once the last pong is in
 * (pings from others are still answered). LAT_QUERY: report the pings
 * answered and stop. */
static fx_next lat_bg_h(fx_ctx *cx, fx_msg *m)
{
    lat_bg *st = fx_state(cx);
    switch (fx_msg_type(m)) {
    case B_PING:
        st->answered++;
        fx_send(cx, fx_msg_from(m), B_PONG, NULL, 0);
        break;
    case B_PONG:
        if (!st->stopping) {
            lat_ping(cx, st);
        } else if (!st->reported) {
            st->reported = 1;
            fx_send(cx, st->report, B_DONE, &st->sent, sizeof st->sent);
        }
        break;
    case B_GO:
        lat_ping(cx, st);
        break;
    case LAT_STOP:
        st->stopping = 1;
        break;
    default: /* LAT_QUERY */
        fx_send(cx, st->report, B_VALUE, &st->answered, sizeof st->answered);
        return fx_stop(cx, fx_reason_normal());
    }
    return fx_continue(cx);
}

/* ---- the counter server and the timing client ---------------------------- */

static fx_gs_ret lat_init(fx_ctx *cx, void *arg, void **state)
{
    *state = arg; /* the bench's counter, which outlives the server */
    return fx_gs_ok(cx);
}

static fx_gs_ret lat_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                          const void *data, size_t size)
{
    (void) from;
    (void) data;
    (void) size;
    uint64_t *count = state;
    if (type == LAT_INCR)
        ++*count;
    return fx_gs_reply(cx, count, sizeof *count);
}

static const fx_gs_ops lat_ops = {.init = lat_init, .handle_call = lat_call};

typedef struct {
    fx_pid server, report;
    uint64_t i, n, t;
    int64_t timeout;
    uint64_t *rtts; /* the driver's, indexed by call number - first */
    uint64_t first;
} lat_client;

static fx_next lat_got(fx_ctx *cx, fx_msg *m)
{
    lat_client *c = fx_state(cx);
    const void *data;
    size_t size;
    uint64_t v = 0;
    int rc = fx_gs_call_result(cx, m, &data, &size, NULL);
    c->rtts[c->i - c->first] = now_ns() - c->t;
    if (rc == 0 && size == sizeof v)
        memcpy(&v, data, sizeof v);
    if (v != c->i || c->i == c->n) {
        /* Done, or a wrong reply: the driver checks v against n. */
        fx_send(cx, c->report, B_DONE, &v, sizeof v);
        return fx_stop(cx, fx_reason_normal());
    }
    c->i++;
    c->t = now_ns();
    return fx_gs_call_async(cx, c->server, LAT_INCR, NULL, 0, c->timeout, lat_got);
}

static fx_next lat_first(fx_ctx *cx, void *arg)
{
    (void) arg;
    lat_client *c = fx_state(cx);
    c->t = now_ns();
    return fx_gs_call_async(cx, c->server, LAT_INCR, NULL, 0, c->timeout, lat_got);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile (permille / 1000) of n sorted values. */
static uint64_t percentile(const uint64_t *sorted, uint64_t n, uint64_t permille)
{
    uint64_t rank = (n * permille + 999) / 1000;
    return sorted[(rank ? rank : 1) - 1];
}

/* A client making calls number from..to, one at a time, timing each into
 * rtts[0..to-from]; 0 when the last reply is `to`. */
static int lat_client_run(bench_run *r, fx_pid server, uint64_t from, uint64_t to,
                          int64_t timeout, uint64_t *rtts)
{
    uint64_t last = 0;
    lat_client init = {.server = server,
                       .report = fx_inbox_pid(r->inbox),
                       .i = from,
                       .n = to,
                       .timeout = timeout,
                       .rtts = rtts,
                       .first = from};
    fx_spawn_opts o = {.init = lat_first, .state_size = sizeof init, .state_init = &init};
    if (fx_vm_spawn_opt(r->vm, &o, NULL) != 0)
        return bench_fail(r, "spawn");
    if (bench_wait(r, B_DONE, &last))
        return -1;
    return last == to ? 0
                      : bench_fail(r, "last reply %llu, want %llu",
                                   (unsigned long long) last, (unsigned long long) to);
}

/* The percentiles of n round trips, sorted in place, as JSON members. */
static void lat_summary(char *buf, size_t len, const char *prefix, uint64_t *rtts,
                        uint64_t n)
{
    qsort(rtts, n, sizeof *rtts, cmp_u64);
    snprintf(buf, len,
             ",\"%sp50_ns\":%llu,\"%sp99_ns\":%llu,\"%sp999_ns\":%llu,\"%smax_ns\":%llu",
             prefix, (unsigned long long) percentile(rtts, n, 500), prefix,
             (unsigned long long) percentile(rtts, n, 990), prefix,
             (unsigned long long) percentile(rtts, n, 999), prefix,
             (unsigned long long) rtts[n - 1]);
}

static int lat_measure(bench_run *r, uint64_t *rtts, uint64_t *untimed)
{
    uint64_t count = 0, final = 0, sent = 0, answered = 0, v;
    double bg0 = bench_now();
    for (uint32_t i = 0; i < LAT_ACTORS; i++) {
        lat_bg init = {.report = fx_inbox_pid(r->inbox),
                       .rng = (i + 1) * 0x9E3779B97F4A7C15ULL,
                       .id = i};
        fx_spawn_opts o = {
            .handler = lat_bg_h, .state_size = sizeof init, .state_init = &init};
        if (fx_vm_spawn_opt(r->vm, &o, &lat_peers[i]) != 0)
            return bench_fail(r, "spawn");
    }
    for (uint32_t i = 0; i < LAT_ACTORS; i++)
        fx_vm_send(r->vm, lat_peers[i], B_GO, NULL, 0);

    fx_gs_spec spec = {.ops = &lat_ops, .arg = &count, .label = "calllat_server"};
    fx_pid server;
    double t0 = bench_now();
    int rc = fx_gs_start(r->inbox, &spec, &server, NULL);
    if (rc != 0)
        return bench_fail(r, "start: %s", fx_strerror(rc));
    if (lat_client_run(r, server, 1, r->n, CALL_TIMEOUT, rtts))
        return -1;
    r->seconds = bench_now() - t0;
    r->ops = r->n;
    double t1 = bench_now();
    if (lat_client_run(r, server, r->n + 1, 2 * r->n, FX_INFINITY, untimed))
        return -1;
    double untimed_s = bench_now() - t1;

    for (uint32_t i = 0; i < LAT_ACTORS; i++)
        fx_vm_send(r->vm, lat_peers[i], LAT_STOP, NULL, 0);
    for (uint32_t i = 0; i < LAT_ACTORS; i++) {
        if (bench_wait(r, B_DONE, &v))
            return -1;
        sent += v;
    }
    double bg_s = bench_now() - bg0;
    for (uint32_t i = 0; i < LAT_ACTORS; i++)
        fx_vm_send(r->vm, lat_peers[i], LAT_QUERY, NULL, 0);
    for (uint32_t i = 0; i < LAT_ACTORS; i++) {
        if (bench_wait(r, B_VALUE, &v))
            return -1;
        answered += v;
    }

    fx_msg *reply;
    rc = fx_gs_call(r->inbox, server, LAT_GET, NULL, 0, 60000, &reply, NULL);
    if (rc != 0)
        return bench_fail(r, "get: %s", fx_strerror(rc));
    memcpy(&final, fx_msg_data(reply), sizeof final);
    fx_msg_free(reply);
    rc = fx_gs_stop_server(r->inbox, server, fx_reason_normal(), 60000, NULL);
    if (rc != 0)
        return bench_fail(r, "stop: %s", fx_strerror(rc));
    if (final != 2 * r->n)
        return bench_fail(r, "server count %llu, want %llu", (unsigned long long) final,
                          (unsigned long long) (2 * r->n));
    if (sent != answered || sent == 0)
        return bench_fail(r, "background sent %llu pings, %llu answered",
                          (unsigned long long) sent, (unsigned long long) answered);

    char timed[128], free_[128];
    lat_summary(timed, sizeof timed, "", rtts, r->n);
    lat_summary(free_, sizeof free_, "untimed_", untimed, r->n);
    snprintf(
        r->extra, sizeof r->extra,
        "%s,\"bg_ops\":%llu,\"bg_ops_per_sec\":%.1f%s,\"untimed_calls_per_sec\":%.1f",
        timed, (unsigned long long) (2 * sent),
        bg_s > 0 ? 2.0 * (double) sent / bg_s : 0.0, free_,
        untimed_s > 0 ? (double) r->n / untimed_s : 0.0);
    return 0;
}

int bench_calllat(bench_run *r)
{
    uint64_t *rtts = calloc(2 * r->n, sizeof *rtts);
    if (!rtts)
        return bench_fail(r, "out of memory for %llu round trips",
                          (unsigned long long) r->n);
    int rc = lat_measure(r, rtts, rtts + r->n);
    free(rtts);
    return rc;
}
