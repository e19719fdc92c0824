/* Overload: queue lengths, mailbox limits (kill, drop, backpressure) and
 * muting backpressure (docs/overload.md). */
#include "helpers.h"

#include <sys/resource.h>
#include <unistd.h>

enum { T_DATA = 1, T_GO, T_MORE, T_QUERY, T_STATS, T_REPORT, T_LEN, T_DONE, T_NEXT_SET };

/* --- a gated receiver: blocks its scheduler on the first message until
 * the test opens the gate, so the test controls what is queued -------- */

static int gate; /* atomic: 1 = open */

static void gate_wait(void)
{
    for (int i = 0; i < 100000 && !__atomic_load_n(&gate, __ATOMIC_ACQUIRE); i++)
        usleep(100); /* bounded: 10 s */
}

static void gate_open(void)
{
    __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
}

typedef struct {
    fx_pid report;
    bool gated; /* the first message has waited at the gate */
    uint64_t got;
} gated;

static fx_next gated_h(fx_ctx *cx, fx_msg *m)
{
    gated *st = fx_state(cx);
    if (!st->gated) {
        st->gated = true;
        gate_wait();
    }
    st->got++;
    if (fx_msg_type(m) == T_LEN) {
        int64_t len = fx_queue_len(cx);
        fx_send(cx, st->report, T_LEN, &len, sizeof len);
    }
    return fx_continue(cx);
}

static fx_pid spawn_gated(tvm *t, fx_mailbox_limit lim)
{
    gated g = {.report = t->me};
    fx_spawn_opts o = {
        .handler = gated_h, .state_size = sizeof g, .state_init = &g, .mailbox = lim};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, &p), 0);
    return p;
}

/* Waits until pid's queue holds n messages (bounded). */
static void wait_len(tvm *t, fx_pid pid, uint64_t n)
{
    uint64_t len = 0;
    for (int i = 0; i < 10000; i++) {
        cr_assert_eq(fx_vm_queue_len(t->vm, pid, &len), 0);
        if (len == n)
            return;
        usleep(1000);
    }
    cr_assert_fail("queue length %llu, expected %llu", (unsigned long long) len,
                   (unsigned long long) n);
}

Test(queue_len, seen_from_outside_and_from_the_handler)
{
    tvm t = tvm_start(2);
    fx_pid r = spawn_gated(&t, (fx_mailbox_limit){0});
    cr_assert_eq(fx_vm_send(t.vm, r, T_DATA, NULL, 0), 0); /* held at the gate */
    wait_len(&t, r, 0);
    cr_assert_eq(fx_vm_send(t.vm, r, T_LEN, NULL, 0), 0);
    for (int i = 0; i < 99; i++)
        cr_assert_eq(fx_vm_send(t.vm, r, T_DATA, NULL, 0), 0);
    wait_len(&t, r, 100);
    gate_open();
    /* The handler of T_LEN sees the 99 messages behind it. */
    cr_assert_eq(tvm_recv_u64(&t, T_LEN), 99);
    wait_len(&t, r, 0);
    uint64_t len;
    cr_assert_eq(fx_vm_queue_len(t.vm, FX_PID_NONE, &len), FX_ENOPROC);
    tvm_stop(&t);
}

/* Sends T_LEN to `to`, then one T_DATA per handler call (each its own
 * publication: the next send goes to itself), n times, then reports. */
typedef struct {
    fx_pid to, report;
    uint32_t n;
    bool started;
} trickle;

static fx_next trickle_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    trickle *st = fx_state(cx);
    if (!st->started) {
        st->started = true;
        fx_send(cx, st->to, T_LEN, NULL, 0);
    } else if (st->n == 0) {
        fx_send(cx, st->report, T_DONE, NULL, 0);
        return fx_stop(cx, fx_reason_normal());
    } else {
        st->n--;
        fx_send(cx, st->to, T_DATA, NULL, 0);
    }
    fx_send(cx, fx_self(cx), T_MORE, NULL, 0);
    return fx_continue(cx);
}

/* Messages sent one per handler call from another actor to a busy process
 * are each counted, seen by the handler and from outside. */
Test(queue_len, counts_single_sends_from_actors)
{
    tvm t = tvm_start(2);
    fx_pid r = spawn_gated(&t, (fx_mailbox_limit){0});
    cr_assert_eq(fx_vm_send(t.vm, r, T_DATA, NULL, 0), 0); /* held at the gate */
    wait_len(&t, r, 0);
    trickle tr = {.to = r, .report = t.me, .n = 99};
    fx_pid s = spawn_state(t.vm, trickle_h, &tr, sizeof tr);
    cr_assert_eq(fx_vm_send(t.vm, s, T_MORE, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, T_DONE);
    fx_msg_free(m);
    wait_len(&t, r, 100);
    gate_open();
    /* The handler of T_LEN sees the 99 messages behind it. */
    cr_assert_eq(tvm_recv_u64(&t, T_LEN), 99);
    wait_len(&t, r, 0);
    tvm_stop(&t);
}

/* --- limits ----------------------------------------------------------- */

typedef struct {
    fx_pid to, report;
    uint32_t n;
} burst;

/* Sends n messages to `to` in one handler call and reports how many were
 * accepted and how many refused with FX_EMAILBOX_FULL. */
static fx_next burst_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    burst *st = fx_state(cx);
    uint64_t res[2] = {0, 0};
    for (uint32_t i = 0; i < st->n; i++) {
        int rc = fx_send(cx, st->to, T_DATA, &i, sizeof i);
        if (rc == 0)
            res[0]++;
        else if (rc == FX_EMAILBOX_FULL)
            res[1]++;
    }
    fx_send(cx, st->report, T_REPORT, res, sizeof res);
    return fx_stop(cx, fx_reason_normal());
}

static void run_burst(tvm *t, fx_pid to, uint32_t n, uint64_t res[2])
{
    burst b = {.to = to, .report = t->me, .n = n};
    fx_pid s = spawn_state(t->vm, burst_h, &b, sizeof b);
    cr_assert_eq(fx_vm_send(t->vm, s, T_GO, NULL, 0), 0);
    fx_msg *m = tvm_recv(t, T_REPORT);
    memcpy(res, fx_msg_data(m), 2 * sizeof *res);
    fx_msg_free(m);
}

Test(limit, drop_refuses_inside_and_outside_senders_get_eagain)
{
    tvm t = tvm_start(2);
    fx_pid r = spawn_gated(&t, (fx_mailbox_limit){10, FX_MAILBOX_DROP});
    cr_assert_eq(fx_vm_send(t.vm, r, T_DATA, NULL, 0), 0);
    wait_len(&t, r, 0);
    uint64_t res[2];
    run_burst(&t, r, 25, res);
    cr_assert_eq(res[0], 10, "accepted %llu", (unsigned long long) res[0]);
    cr_assert_eq(res[1], 15);
    wait_len(&t, r, 10);
    /* Outside the VM: FX_EAGAIN, and the message stays with the caller. */
    cr_assert_eq(fx_vm_send(t.vm, r, T_DATA, NULL, 0), FX_EAGAIN);
    fx_msg *m;
    cr_assert_eq(fx_msg_new(T_DATA, 8, &m), 0);
    cr_assert_eq(fx_vm_send_msg(t.vm, r, m), FX_EAGAIN);
    cr_assert_eq(fx_inbox_send_msg(t.in, r, m), FX_EAGAIN);
    fx_msg_free(m);
    /* Signals always get through: a monitor of the full process works. */
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t.in, r, &ref), 0);
    fx_vm_stats st;
    cr_assert_eq(fx_vm_stats_get(t.vm, &st), 0);
    cr_assert_geq(st.messages_dropped, 15);
    gate_open();
    wait_len(&t, r, 0);
    cr_assert_eq(fx_vm_send(t.vm, r, T_DATA, NULL, 0), 0); /* room again */
    cr_assert_eq(fx_vm_exit(t.vm, r, fx_reason_kill()), 0);
    fx_msg *down = tvm_recv(&t, FX_MSG_DOWN);
    fx_msg_free(down);
    tvm_stop(&t);
}

Test(limit, backpressure_refuses_only_outside_senders)
{
    tvm t = tvm_start(2);
    fx_pid r = spawn_gated(&t, (fx_mailbox_limit){10, FX_MAILBOX_BACKPRESSURE});
    cr_assert_eq(fx_vm_send(t.vm, r, T_DATA, NULL, 0), 0);
    wait_len(&t, r, 0);
    uint64_t res[2];
    run_burst(&t, r, 25, res);
    cr_assert_eq(res[0], 25);
    cr_assert_eq(fx_vm_send(t.vm, r, T_DATA, NULL, 0), FX_EAGAIN);
    gate_open();
    wait_len(&t, r, 0);
    tvm_stop(&t);
}

Test(limit, bad_policy_is_einval)
{
    tvm t = tvm_start(1);
    fx_spawn_opts o = {.handler = gated_h, .mailbox = {5, 99}};
    fx_pid p;
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), FX_EINVAL);
    o.mailbox.max = 0; /* unbounded: the policy is ignored */
    cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
    tvm_stop(&t);
}

Test(limit, kill_exits_with_its_own_reason)
{
    tvm t = tvm_start_quiet(2);
    fx_pid r = spawn_gated(&t, (fx_mailbox_limit){10, FX_MAILBOX_KILL});
    fx_ref ref;
    cr_assert_eq(fx_inbox_monitor(t.in, r, &ref), 0);
    cr_assert_eq(fx_vm_send(t.vm, r, T_DATA, NULL, 0), 0);
    wait_len(&t, r, 0);
    uint64_t res[2];
    run_burst(&t, r, 200, res); /* accepted: the kill comes when it runs */
    cr_assert_eq(res[0], 200);
    gate_open();
    fx_msg *m = tvm_recv(&t, FX_MSG_DOWN);
    const fx_down_info *d = fx_msg_data(m);
    cr_assert_eq(d->reason.kind, FX_REASON_ERROR);
    cr_assert_eq(d->reason.code, FX_EMAILBOX_FULL);
    fx_msg_free(m);
    tvm_stop(&t);
}

/* A supervisor restarts a child killed for its queue. */
static fx_next sink_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    gate_wait();
    return fx_continue(cx);
}

static const fx_spawn_opts limited_child = {
    .handler = sink_h, .mailbox = {10, FX_MAILBOX_KILL}, .label = "limited"};

Test(limit, kill_is_seen_and_restarted_by_the_supervisor)
{
    tvm t = tvm_start_quiet(2);
    fx_child_spec c = {.id = "limited",
                       .start = fx_child_actor,
                       .arg = (void *) &limited_child,
                       .restart = FX_PERMANENT,
                       .type = FX_WORKER,
                       .shutdown_ms = 1000};
    fx_sup_spec s;
    fx_sup_spec_init(&s);
    s.children = &c;
    s.nchildren = 1;
    s.intensity = 10;
    fx_pid sup;
    cr_assert_eq(fx_sup_start(t.in, &s, &sup, NULL), 0);
    fx_child_info info[1];
    cr_assert_eq(fx_sup_which_children(t.in, sup, info, 1, 5000), 1);
    fx_pid first = info[0].pid;
    cr_assert_eq(fx_vm_send(t.vm, first, T_DATA, NULL, 0), 0);
    wait_len(&t, first, 0);
    uint64_t res[2];
    run_burst(&t, first, 200, res);
    gate_open();
    fx_pid now = first;
    for (int i = 0; i < 10000 && (fx_pid_is_none(now) || now.id == first.id); i++) {
        usleep(1000);
        cr_assert_eq(fx_sup_which_children(t.in, sup, info, 1, 5000), 1);
        now = info[0].pid;
    }
    cr_assert_neq(now.id, first.id, "the child was not restarted");
    cr_assert(fx_is_alive(t.vm, now));
    cr_assert_not(fx_is_alive(t.vm, first));
    tvm_stop(&t);
}

/* --- floods: 8 senders, one slower receiver --------------------------- */

#define FLOOD_SENDERS 8
#define FLOOD_CHUNK 1024

typedef struct {
    fx_pid to, report;
    uint64_t id, n, i;
    uint64_t accepted, refused, gone, sum;
} flooder;

static fx_next flooder_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    flooder *st = fx_state(cx);
    for (uint64_t k = 0; k < FLOOD_CHUNK && st->i < st->n; k++, st->i++) {
        uint64_t v = st->id * 1000003u + st->i * 7919u;
        int rc = fx_send(cx, st->to, T_DATA, &v, sizeof v);
        if (rc == 0) {
            st->accepted++;
            st->sum += v;
        } else if (rc == FX_EMAILBOX_FULL) {
            st->refused++;
        } else {
            st->gone++;
        }
    }
    if (st->i < st->n) {
        fx_send(cx, fx_self(cx), T_MORE, NULL, 0);
        return fx_continue(cx);
    }
    uint64_t rep[4] = {st->accepted, st->refused, st->gone, st->sum};
    fx_send(cx, st->report, T_REPORT, rep, sizeof rep);
    return fx_stop(cx, fx_reason_normal());
}

#define FLOOD_SENDERS_MAX 64
#define HIST_BUCKETS 96

typedef struct {
    fx_pid report;
    uint64_t got, sum, maxlen;
    /* With first_calls set, maxlen is sampled only once the first call's
     * FLOOD_CHUNK messages of that many senders have all been taken (a
     * sender is muted only after a call, so the first calls of late
     * senders would add up unmuted). */
    uint32_t first_calls, nseen, nfull;
    fx_pid seen[FLOOD_SENDERS_MAX];
    uint32_t count[FLOOD_SENDERS_MAX];
    uint32_t hist[HIST_BUCKETS]; /* sampled lengths, by 1,024 */
} counter;

/* The median sampled length, rounded up to a bucket's end. */
static uint64_t hist_median(const counter *st)
{
    uint64_t n = 0, seen = 0;
    for (int b = 0; b < HIST_BUCKETS; b++)
        n += st->hist[b];
    for (int b = 0; b < HIST_BUCKETS; b++)
        if ((seen += st->hist[b]) * 2 >= n && n)
            return (uint64_t) (b + 1) * 1024;
    return 0;
}

/* Counts m's sender; true once first_calls senders sent FLOOD_CHUNK. */
static bool first_calls_taken(counter *st, fx_pid from)
{
    if (st->nfull >= st->first_calls)
        return true;
    uint32_t i = 0;
    while (i < st->nseen && !fx_pid_eq(st->seen[i], from))
        i++;
    if (i == st->nseen && st->nseen < FLOOD_SENDERS_MAX)
        st->seen[st->nseen++] = from;
    if (i < FLOOD_SENDERS_MAX && ++st->count[i] == FLOOD_CHUNK)
        st->nfull++;
    return st->nfull >= st->first_calls;
}

static fx_next counter_h(fx_ctx *cx, fx_msg *m)
{
    counter *st = fx_state(cx);
    if (fx_msg_type(m) == T_QUERY) {
        uint64_t rep[4] = {st->got, st->sum, st->maxlen, hist_median(st)};
        fx_send(cx, st->report, T_STATS, rep, sizeof rep);
        return fx_continue(cx);
    }
    uint64_t v;
    memcpy(&v, fx_msg_data(m), sizeof v);
    st->got++;
    st->sum += v;
    /* Slower than a sender: some work per message. */
    volatile uint64_t x = v;
    for (int i = 0; i < 200; i++)
        x = x * 6364136223846793005u + 1442695040888963407u;
    bool firsts = first_calls_taken(st, fx_msg_from(m));
    if ((st->got & 63) == 0 && firsts) {
        uint64_t len = (uint64_t) fx_queue_len(cx);
        if (len > st->maxlen)
            st->maxlen = len;
        st->hist[len / 1024 < HIST_BUCKETS ? len / 1024 : HIST_BUCKETS - 1]++;
    }
    return fx_continue(cx);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

typedef struct {
    uint64_t accepted, refused, gone, sum; /* senders' totals */
    uint64_t got, rsum, maxlen, medlen;    /* the receiver's (if alive) */
    bool alive;
    long rss_growth_kb;
} flood_result;

static flood_result flood_with(tvm *t, fx_mailbox_limit lim, uint64_t per_sender,
                               uint32_t nsenders, uint32_t first_calls)
{
    flood_result fr = {0};
    long rss0 = max_rss_kb();
    counter c = {.report = t->me, .first_calls = first_calls};
    fx_spawn_opts o = {
        .handler = counter_h, .state_size = sizeof c, .state_init = &c, .mailbox = lim};
    fx_pid r;
    cr_assert_eq(fx_vm_spawn_opt(t->vm, &o, &r), 0);
    fx_pid s[FLOOD_SENDERS_MAX];
    cr_assert_leq(nsenders, FLOOD_SENDERS_MAX);
    for (uint64_t i = 0; i < nsenders; i++) {
        flooder f = {.to = r, .report = t->me, .id = i, .n = per_sender};
        s[i] = spawn_state(t->vm, flooder_h, &f, sizeof f);
    }
    for (uint32_t i = 0; i < nsenders; i++)
        cr_assert_eq(fx_vm_send(t->vm, s[i], T_GO, NULL, 0), 0);
    for (uint32_t i = 0; i < nsenders; i++) {
        fx_msg *m;
        fx_match mt = {.type = T_REPORT};
        cr_assert_eq(fx_inbox_recv(t->in, &mt, 120000, &m), 0);
        const uint64_t *rep = fx_msg_data(m);
        fr.accepted += rep[0];
        fr.refused += rep[1];
        fr.gone += rep[2];
        fr.sum += rep[3];
        fx_msg_free(m);
    }
    /* Every accepted message is in r's mailbox before the reports
     * arrived: the query queues behind them. */
    int rc = FX_EAGAIN;
    for (int i = 0; i < 100000 && rc == FX_EAGAIN; i++)
        if ((rc = fx_vm_send(t->vm, r, T_QUERY, NULL, 0)) == FX_EAGAIN)
            usleep(100);
    fr.alive = rc == 0;
    if (fr.alive) {
        fx_match mt = {.type = T_STATS};
        fx_msg *m;
        cr_assert_eq(fx_inbox_recv(t->in, &mt, 120000, &m), 0);
        const uint64_t *rep = fx_msg_data(m);
        fr.got = rep[0];
        fr.rsum = rep[1];
        fr.maxlen = rep[2];
        fr.medlen = rep[3];
        fx_msg_free(m);
    }
    fr.rss_growth_kb = max_rss_kb() - rss0;
    return fr;
}

static flood_result flood(tvm *t, fx_mailbox_limit lim, uint64_t per_sender)
{
    return flood_with(t, lim, per_sender, FLOOD_SENDERS, 0);
}

/* Without muting, the receiver's queue in these floods grows to millions
 * of messages (hundreds of MB); the bound is generous but far below.
 * Under ASan freed memory sits in its quarantine (256 MB by default), so
 * RSS says nothing about the queue there: the queue-length assertions
 * carry the check alone. */
#if defined(__SANITIZE_ADDRESS__)
#define FLOOD_RSS_CHECKED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLOOD_RSS_CHECKED 0
#endif
#endif
#ifndef FLOOD_RSS_CHECKED
#define FLOOD_RSS_CHECKED 1
#endif
#define RSS_BOUND_KB (96 * 1024)
#define assert_rss_bounded(fr)                                                           \
    cr_assert(!FLOOD_RSS_CHECKED || (fr).rss_growth_kb < RSS_BOUND_KB,                   \
              "rss grew by %ld KB", (fr).rss_growth_kb)
#define FLOOD_N 400000

Test(flood, backpressure_bounds_memory_and_loses_nothing, .timeout = 300)
{
    tvm t = tvm_start(2);
    flood_result fr = flood(&t, (fx_mailbox_limit){0}, FLOOD_N);
    cr_assert(fr.alive);
    cr_assert_eq(fr.accepted, FLOOD_SENDERS * (uint64_t) FLOOD_N);
    cr_assert_eq(fr.got, fr.accepted);
    cr_assert_eq(fr.rsum, fr.sum, "checksum");
    /* The default mark (8192) plus one handler call's sends per sender,
     * doubled for slack. */
    cr_assert_lt(fr.maxlen, 2 * (8192 + FLOOD_SENDERS * FLOOD_CHUNK), "max queue %llu",
                 (unsigned long long) fr.maxlen);
    assert_rss_bounded(fr);
    tvm_stop(&t);
}

/* Many senders muted on one process are released a few at a time as it
 * drains (docs/overload.md, "How muting works", step 4), not all at once:
 * released together, 64 senders of 1,024 messages a call took the queue
 * from the low mark to about 64 * 1,024 messages after every drain. */
Test(flood, muted_senders_are_released_in_paced_steps, .timeout = 300)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.mute_high = 1024;
    tvm t = tvm_start_with(&c);
    uint64_t per_sender = 16 * FLOOD_CHUNK;
    /* The first calls of all 64 senders run before any is muted (a
     * sender is muted after a call that found the queue over the mark),
     * and a loaded machine may run some of them late: the queue is
     * sampled once every sender's first 1,024 messages are taken. */
    flood_result fr = flood_with(&t, (fx_mailbox_limit){0}, per_sender, 64, 64);
    cr_assert(fr.alive);
    cr_assert_eq(fr.accepted, 64 * per_sender);
    cr_assert_eq(fr.got, fr.accepted);
    cr_assert_eq(fr.rsum, fr.sum, "checksum");
    /* Paced: the mark plus the bursts one poll per thread may release
     * (each thread releases at least one), plus bursts released by later
     * polls before the earlier ones ran. That last part grows when the
     * machine is loaded (released senders wait for a core while polls go
     * on: one run with 4 copies at once peaked at 53,184), so the check is
     * on the median sample, which such spikes do not move (1,024 in every
     * run, loaded or not). Released all at once, the queue jumps to about
     * 64 * 1,024 after every drain: medians of 13,312-25,600 (pacing
     * switched off in mute.c, 3 runs). */
    cr_assert_lt(fr.medlen, 8 * 1024, "median queue %llu (max %llu)",
                 (unsigned long long) fr.medlen, (unsigned long long) fr.maxlen);
    tvm_stop(&t);
}

Test(flood, per_process_backpressure_mark, .timeout = 300)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.mute = FX_MUTE_OFF; /* the process's own limit still mutes */
    tvm t = tvm_start_with(&c);
    flood_result fr =
        flood(&t, (fx_mailbox_limit){2000, FX_MAILBOX_BACKPRESSURE}, FLOOD_N);
    cr_assert(fr.alive);
    cr_assert_eq(fr.got, FLOOD_SENDERS * (uint64_t) FLOOD_N);
    cr_assert_eq(fr.rsum, fr.sum, "checksum");
    cr_assert_lt(fr.maxlen, 2 * (2000 + FLOOD_SENDERS * FLOOD_CHUNK));
    assert_rss_bounded(fr);
    tvm_stop(&t);
}

Test(flood, drop_bounds_memory_and_counts_refusals, .timeout = 300)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.mute = FX_MUTE_OFF; /* the drop limit alone bounds the queue */
    tvm t = tvm_start_with(&c);
    flood_result fr = flood(&t, (fx_mailbox_limit){1000, FX_MAILBOX_DROP}, FLOOD_N);
    cr_assert(fr.alive);
    cr_assert_eq(fr.accepted + fr.refused, FLOOD_SENDERS * (uint64_t) FLOOD_N);
    cr_assert_eq(fr.got, fr.accepted);
    cr_assert_eq(fr.rsum, fr.sum, "checksum of the accepted messages");
    /* The limit is soft by one unpublished chain (64 messages) per
     * scheduler thread (docs/overload.md). */
    cr_assert_leq(fr.maxlen, 1000 + 2 * 64, "max queue %llu",
                  (unsigned long long) fr.maxlen);
    assert_rss_bounded(fr);
    tvm_stop(&t);
}

Test(flood, kill_bounds_memory, .timeout = 300)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.mute = FX_MUTE_OFF;
    c.crash_logger = fx_crash_logger_silent;
    tvm t = tvm_start_with(&c);
    flood_result fr = flood(&t, (fx_mailbox_limit){1000, FX_MAILBOX_KILL}, FLOOD_N);
    cr_assert_not(fr.alive); /* killed for its queue */
    cr_assert_gt(fr.gone, 0);
    cr_assert_eq(fr.accepted + fr.gone, FLOOD_SENDERS * (uint64_t) FLOOD_N);
    assert_rss_bounded(fr);
    tvm_stop(&t);
}

/* --- cycles: every member floods the next one and counts what it gets -- */

typedef struct {
    fx_pid next, report;
    uint64_t n, sent, got, sum_sent, sum_got;
    bool reported;
} peer;

static fx_next peer_h(fx_ctx *cx, fx_msg *m)
{
    peer *st = fx_state(cx);
    if (fx_msg_type(m) == T_NEXT_SET) {
        memcpy(&st->next, fx_msg_data(m), sizeof st->next);
        return fx_continue(cx);
    }
    if (fx_msg_type(m) == T_DATA) {
        uint64_t v;
        memcpy(&v, fx_msg_data(m), sizeof v);
        st->got++;
        st->sum_got += v;
    } else { /* T_GO, T_MORE */
        for (uint64_t k = 0; k < FLOOD_CHUNK && st->sent < st->n; k++, st->sent++) {
            uint64_t v = st->sent * 31u + 7u;
            if (fx_send(cx, st->next, T_DATA, &v, sizeof v) == 0)
                st->sum_sent += v; /* a refusal shows in the checksum */
        }
        if (st->sent < st->n)
            fx_send(cx, fx_self(cx), T_MORE, NULL, 0);
    }
    if (!st->reported && st->sent == st->n && st->got == st->n) {
        st->reported = true;
        uint64_t rep[2] = {st->sum_sent, st->sum_got};
        fx_send(cx, st->report, T_DONE, rep, sizeof rep);
    }
    return fx_continue(cx);
}

static void ring(uint32_t size, uint64_t n)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.mute_high = 256; /* mute often */
    tvm t = tvm_start_with(&c);
    fx_pid p[8];
    for (uint32_t i = 0; i < size; i++) {
        peer init = {.report = t.me, .n = n};
        p[i] = spawn_state(t.vm, peer_h, &init, sizeof init);
    }
    for (uint32_t i = 0; i < size; i++)
        cr_assert_eq(
            fx_vm_send(t.vm, p[i], T_NEXT_SET, &p[(i + 1) % size], sizeof(fx_pid)), 0);
    for (uint32_t i = 0; i < size; i++)
        cr_assert_eq(fx_vm_send(t.vm, p[i], T_GO, NULL, 0), 0);
    uint64_t sent = 0, got = 0;
    for (uint32_t i = 0; i < size; i++) {
        fx_match mt = {.type = T_DONE};
        fx_msg *m;
        /* A deadlock shows as this timeout. */
        cr_assert_eq(fx_inbox_recv(t.in, &mt, 120000, &m), 0, "ring of %u stalled", size);
        const uint64_t *rep = fx_msg_data(m);
        sent += rep[0];
        got += rep[1];
        fx_msg_free(m);
    }
    cr_assert_eq(sent, got);
    tvm_stop(&t);
}

Test(cycle, two_actors_flooding_each_other, .timeout = 300)
{
    ring(2, 300000);
}

Test(cycle, a_ring_of_floods, .timeout = 300)
{
    ring(5, 200000);
}

/* --- config -------------------------------------------------------------- */

Test(config, mute_fields_are_checked)
{
    fx_vm_config c;
    fx_vm *vm;
    fx_vm_config_init(&c);
    c.mute = 3;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    fx_vm_config_init(&c);
    c.mute_high = 100;
    c.mute_low = 100;
    cr_assert_eq(fx_vm_create(&c, &vm), FX_EINVAL);
    fx_vm_config_init(&c);
    c.mute_high = 100;
    c.mute_low = 10;
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    fx_vm_destroy(vm);
    /* A version 2 config (no overload block) still works. */
    fx_vm_config_init(&c);
    c.version = 2;
    c.mute = 77; /* not part of a version 2 config: ignored */
    cr_assert_eq(fx_vm_create(&c, &vm), 0);
    fx_vm_destroy(vm);
}

/* --- a GenServer with a limit ------------------------------------------ */

static fx_gs_ret slow_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = NULL;
    return fx_gs_ok(cx);
}

static fx_gs_ret slow_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                           size_t size)
{
    (void) state;
    (void) type;
    (void) data;
    (void) size;
    gate_wait();
    return fx_gs_noreply(cx);
}

static fx_gs_ret slow_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                           const void *data, size_t size)
{
    (void) state;
    (void) from;
    (void) type;
    return fx_gs_reply(cx, data, size);
}

static const fx_gs_ops slow_ops = {
    .init = slow_init, .handle_cast = slow_cast, .handle_call = slow_call};

typedef struct {
    fx_pid server, report;
} caster;

static fx_next caster_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    caster *st = fx_state(cx);
    uint64_t res[2] = {0, 0};
    for (int i = 0; i < 30; i++) {
        int rc = fx_gs_cast(cx, st->server, 1, &i, sizeof i);
        res[rc == 0 ? 0 : 1] += rc == 0 || rc == FX_EMAILBOX_FULL;
    }
    fx_send(cx, st->report, T_REPORT, res, sizeof res);
    return fx_stop(cx, fx_reason_normal());
}

Test(limit, gen_server_drop_refuses_casts_and_calls)
{
    tvm t = tvm_start(2);
    fx_gs_spec spec = {.ops = &slow_ops, .mailbox = {8, FX_MAILBOX_DROP}};
    fx_pid s;
    cr_assert_eq(fx_gs_start(t.in, &spec, &s, NULL), 0);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, 1, NULL, 0), 0); /* held at the gate */
    wait_len(&t, s, 0);
    caster c = {.server = s, .report = t.me};
    fx_pid cp = spawn_state(t.vm, caster_h, &c, sizeof c);
    cr_assert_eq(fx_vm_send(t.vm, cp, T_GO, NULL, 0), 0);
    fx_msg *m = tvm_recv(&t, T_REPORT);
    const uint64_t *res = fx_msg_data(m);
    cr_assert_eq(res[0], 8, "accepted %llu", (unsigned long long) res[0]);
    cr_assert_eq(res[1], 22);
    fx_msg_free(m);
    cr_assert_eq(fx_vm_gs_cast(t.vm, s, 1, NULL, 0), FX_EAGAIN);
    fx_msg *reply = NULL;
    cr_assert_eq(fx_gs_call(t.in, s, 1, "x", 1, 5000, &reply, NULL), FX_EAGAIN);
    gate_open();
    /* Drained: calls work again. */
    int rc = FX_EAGAIN;
    for (int i = 0; i < 10000 && rc == FX_EAGAIN; i++)
        if ((rc = fx_gs_call(t.in, s, 1, "x", 1, 5000, &reply, NULL)) == FX_EAGAIN)
            usleep(1000);
    cr_assert_eq(rc, 0);
    fx_msg_free(reply);
    tvm_stop(&t);
}
