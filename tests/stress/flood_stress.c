/* Stress: many senders flood a few receivers, from handlers (bursts of
 * sends to one target that the runtime batches, with target switches in
 * between, copies and moved messages of many sizes) and from outside
 * threads. Every message carries its sender, a per-(sender, receiver)
 * sequence number and a payload pattern; a receiver counts a violation for
 * any gap, reordering or corrupted payload, and checks each sender's final
 * count. Senders end with a stop or a crash right after their last sends,
 * which must still be delivered. Receivers keep some messages across calls
 * and free them later, so messages are freed on other threads than the
 * ones that allocated them. Alongside, flooding pairs (see "pairs" below)
 * exercise the scheduler's flood hand-off. Runs as a plain program (exit
 * status) so it can run under ThreadSanitizer; with a watchdog of 1 ms
 * (argv[1]) it is the TSan coverage of the watchdog's hand-over. */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DATA = 1, DONE, GO, REPORT, PDATA, PFIN, PREPORT, STOP, QDONE };

#define NRECV 3
#define NSEND 8 /* actor senders */
#define NOUT 2  /* outside threads */
#define PER_PAIR 20000
#define MAXPAY 300

typedef struct {
    uint32_t sender, seq;
} hdr;

static uint64_t violations; /* atomic */

static void fill(unsigned char *p, size_t size, uint32_t sender, uint32_t seq)
{
    hdr h = {sender, seq};
    memcpy(p, &h, sizeof h);
    for (size_t k = sizeof h; k < size; k++)
        p[k] = (unsigned char) (seq + k);
}

static size_t pay_size(uint64_t *seed)
{
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t r = (uint32_t) (*seed >> 33);
    /* Mostly small (the cached size classes), sometimes large. */
    return sizeof(hdr) + ((r & 7) ? r % 120 : r % MAXPAY);
}

/* ---- receivers --------------------------------------------------------- */

typedef struct {
    fx_pid report;
    uint32_t next[NSEND + NOUT]; /* expected seq per sender */
    uint32_t done;
    fx_msg *kept;
    uint64_t got;
} receiver;

static fx_next receiver_h(fx_ctx *cx, fx_msg *m)
{
    receiver *st = fx_state(cx);
    if (st->kept) { /* kept from an earlier call, maybe on another thread */
        fx_msg_free(st->kept);
        st->kept = NULL;
    }
    hdr h;
    if (fx_msg_size(m) < sizeof h) {
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
        return fx_continue(cx);
    }
    memcpy(&h, fx_msg_data(m), sizeof h);
    if (h.sender >= NSEND + NOUT) {
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
        return fx_continue(cx);
    }
    if (fx_msg_type(m) == DONE) {
        if (h.seq != st->next[h.sender] || h.seq != PER_PAIR)
            __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
        if (++st->done == NSEND + NOUT) {
            fx_send(cx, st->report, REPORT, &st->got, sizeof st->got);
            return fx_stop(cx, fx_reason_normal());
        }
        return fx_continue(cx);
    }
    if (h.seq != st->next[h.sender])
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
    st->next[h.sender] = h.seq + 1;
    const unsigned char *p = fx_msg_data(m);
    for (size_t k = sizeof h; k < fx_msg_size(m); k++)
        if (p[k] != (unsigned char) (h.seq + k)) {
            __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
            break;
        }
    st->got++;
    if ((h.seq & 15) == 3) {
        fx_msg_keep(cx, m);
        st->kept = m;
    }
    return fx_continue(cx);
}

static void receiver_cleanup(void *state, const fx_reason *why)
{
    (void) why;
    receiver *st = state;
    fx_msg_free(st->kept);
    st->kept = NULL;
}

/* ---- actor senders ----------------------------------------------------- */

typedef struct {
    fx_pid to[NRECV];
    uint32_t idx, seq[NRECV];
    uint64_t seed;
} sender;

static int send_one(fx_ctx *cx, sender *st, int r, uint32_t type, size_t size)
{
    unsigned char buf[MAXPAY + sizeof(hdr)];
    if (st->seed & 1) { /* build in place and move */
        fx_msg *m;
        if (fx_msg_new(type, size, &m) != 0)
            return -1;
        fill(fx_msg_data_mut(m), size, st->idx, st->seq[r]);
        if (fx_send_msg(cx, st->to[r], m) != 0) {
            fx_msg_free(m);
            return -1;
        }
    } else {
        fill(buf, size, st->idx, st->seq[r]);
        if (fx_send(cx, st->to[r], type, buf, size) != 0)
            return -1;
    }
    return 0;
}

static fx_next sender_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    sender *st = fx_state(cx);
    /* A few runs of sends, each to one receiver, of random length. */
    for (int run = 0; run < 4; run++) {
        st->seed = st->seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int r = (int) ((st->seed >> 40) % NRECV);
        uint32_t len = (uint32_t) ((st->seed >> 20) % 200) + 1;
        for (uint32_t i = 0; i < len && st->seq[r] < PER_PAIR; i++) {
            if (send_one(cx, st, r, DATA, pay_size(&st->seed)) != 0)
                __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
            st->seq[r]++;
        }
    }
    int left = 0;
    for (int r = 0; r < NRECV; r++)
        left += st->seq[r] < PER_PAIR;
    if (left) {
        fx_send(cx, fx_self(cx), GO, NULL, 0);
        return fx_continue(cx);
    }
    for (int r = 0; r < NRECV; r++)
        send_one(cx, st, r, DONE, sizeof(hdr));
    /* The last sends are still batched here: they must survive both. */
    if (st->idx & 1)
        fx_crash(cx, "sender %u done", st->idx);
    return fx_stop(cx, fx_reason_normal());
}

/* ---- pairs -------------------------------------------------------------- */

/* Producers flood consumers in bursts from one message to several runs'
 * worth, so the scheduler holds a producer next to its consumer
 * (docs/design.md, "Flood hand-off"), and some bursts are split between
 * two consumers in one call, which moves the consumer a held producer
 * waits for. Spinners keep the run queues busy, so the streak cap sends
 * held pairs back to the run queue and thieves can take them. A victim
 * consumer stops in the middle of a flood: its producer, possibly held
 * behind it, must still finish. Producer i feeds consumers i and i+1. */
#define PAIR_ROUNDS 6 /* after the senders above are done */
#define NPAIR 3
#define PAIR_MSGS 100000 /* per producer and round */
#define NSPIN 2
#define VICTIM_QUIT 20000
#define VICTIM_MSGS 200000

typedef struct {
    uint32_t prod, seq;
} pmsg;

typedef struct {
    fx_pid report;
    uint32_t next[NPAIR]; /* expected seq per producer */
    uint32_t fins;
    uint64_t got;
} pconsumer;

static fx_next pconsumer_h(fx_ctx *cx, fx_msg *m)
{
    pconsumer *st = fx_state(cx);
    pmsg pm;
    if (fx_msg_size(m) != sizeof pm) {
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
        return fx_continue(cx);
    }
    memcpy(&pm, fx_msg_data(m), sizeof pm);
    if (pm.prod >= NPAIR) {
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
        return fx_continue(cx);
    }
    if (fx_msg_type(m) == PFIN) { /* seq: how many the producer sent us */
        if (pm.seq != st->next[pm.prod])
            __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
        if (++st->fins == 2) {
            fx_send(cx, st->report, PREPORT, &st->got, sizeof st->got);
            return fx_stop(cx, fx_reason_normal());
        }
        return fx_continue(cx);
    }
    if (pm.seq != st->next[pm.prod])
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
    st->next[pm.prod] = pm.seq + 1;
    st->got++;
    return fx_continue(cx);
}

typedef struct {
    fx_pid to[2];
    uint32_t idx, seq[2], left;
    uint64_t seed;
} pproducer;

static void psend(fx_ctx *cx, pproducer *st, int k, uint32_t type, uint32_t seq)
{
    pmsg pm = {st->idx, seq};
    if (fx_send(cx, st->to[k], type, &pm, sizeof pm) != 0)
        __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
}

static fx_next pproducer_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    pproducer *st = fx_state(cx);
    st->seed = st->seed * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t len = (uint32_t) ((st->seed >> 33) % 3000) + 1;
    if (len > st->left)
        len = st->left;
    /* A quarter of the bursts go half to each consumer. */
    uint32_t split = ((st->seed >> 20) & 3) == 0 ? len / 2 : len;
    for (uint32_t i = 0; i < len; i++) {
        int k = i >= split;
        psend(cx, st, k, PDATA, st->seq[k]++);
    }
    st->left -= len;
    if (st->left) {
        fx_send(cx, fx_self(cx), GO, NULL, 0);
        return fx_continue(cx);
    }
    psend(cx, st, 0, PFIN, st->seq[0]);
    psend(cx, st, 1, PFIN, st->seq[1]);
    if (st->idx & 1)
        fx_crash(cx, "producer %u done", st->idx);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next spinner_h(fx_ctx *cx, fx_msg *m)
{
    /* Always runnable: only the run queue brings it back. */
    if (fx_msg_type(m) == STOP)
        return fx_stop(cx, fx_reason_normal());
    fx_send(cx, fx_self(cx), GO, NULL, 0);
    return fx_continue(cx);
}

static fx_next victim_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    uint32_t *got = fx_state(cx);
    if (++*got == VICTIM_QUIT)
        return fx_stop(cx, fx_reason_normal());
    return fx_continue(cx);
}

typedef struct {
    fx_pid to, report;
    uint32_t left;
} vproducer;

static fx_next vproducer_h(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    vproducer *st = fx_state(cx);
    for (int i = 0; i < 1500 && st->left; i++, st->left--) {
        int rc = fx_send(cx, st->to, PDATA, NULL, 0);
        if (rc != 0 && rc != FX_ENOPROC) /* noproc once the victim is gone */
            __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
    }
    if (st->left) {
        fx_send(cx, fx_self(cx), GO, NULL, 0);
        return fx_continue(cx);
    }
    fx_send(cx, st->report, QDONE, NULL, 0);
    return fx_stop(cx, fx_reason_normal());
}

static bool pair_result(const fx_msg *m, void *arg)
{
    (void) arg;
    return fx_msg_type(m) == PREPORT || fx_msg_type(m) == QDONE;
}

/* Starts the pairs, the spinners and the victim; 0 or -1. */
static int start_pairs(fx_vm *vm, fx_pid report, fx_pid spin[NSPIN], int nspin)
{
    fx_pid cons[NPAIR];
    pconsumer ci = {.report = report};
    for (int i = 0; i < NPAIR; i++) {
        fx_spawn_opts o = {
            .handler = pconsumer_h, .state_size = sizeof ci, .state_init = &ci};
        if (fx_vm_spawn_opt(vm, &o, &cons[i]) != 0)
            return -1;
    }
    for (uint32_t i = 0; i < NPAIR; i++) {
        pproducer pi = {.to = {cons[i], cons[(i + 1) % NPAIR]},
                        .idx = i,
                        .left = PAIR_MSGS,
                        .seed = i * 104729 + 7};
        fx_spawn_opts o = {
            .handler = pproducer_h, .state_size = sizeof pi, .state_init = &pi};
        fx_pid p;
        if (fx_vm_spawn_opt(vm, &o, &p) != 0 || fx_vm_send(vm, p, GO, NULL, 0) != 0)
            return -1;
    }
    for (int i = 0; i < nspin; i++)
        if (fx_vm_spawn(vm, spinner_h, NULL, &spin[i]) != 0 ||
            fx_vm_send(vm, spin[i], GO, NULL, 0) != 0)
            return -1;
    fx_pid v, q;
    fx_spawn_opts vo = {.handler = victim_h, .state_size = sizeof(uint32_t)};
    if (fx_vm_spawn_opt(vm, &vo, &v) != 0)
        return -1;
    vproducer qi = {.to = v, .report = report, .left = VICTIM_MSGS};
    fx_spawn_opts qo = {
        .handler = vproducer_h, .state_size = sizeof qi, .state_init = &qi};
    if (fx_vm_spawn_opt(vm, &qo, &q) != 0 || fx_vm_send(vm, q, GO, NULL, 0) != 0)
        return -1;
    return 0;
}

/* ---- outside senders --------------------------------------------------- */

typedef struct {
    fx_vm *vm;
    fx_pid to[NRECV];
    uint32_t idx;
} outside_arg;

static void *outside(void *arg)
{
    outside_arg *a = arg;
    unsigned char buf[MAXPAY + sizeof(hdr)];
    uint64_t seed = a->idx * 977 + 5;
    for (uint32_t seq = 0; seq <= PER_PAIR; seq++) {
        for (int r = 0; r < NRECV; r++) {
            size_t size = seq == PER_PAIR ? sizeof(hdr) : pay_size(&seed);
            fill(buf, size, a->idx, seq);
            if (fx_vm_send(a->vm, a->to[r], seq == PER_PAIR ? DONE : DATA, buf, size) !=
                0)
                __atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

/* argv[1], if given: the watchdog's stuck_ms. 1 makes nearly every
 * handler call "stuck", so the watchdog hands over deferred wake-ups and
 * muted senders while senders are still batching (the hand-over path). */
int main(int argc, char **argv)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    if (argc > 1)
        c.stuck_ms = (uint32_t) strtoul(argv[1], NULL, 10);
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&c, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in)) {
        fprintf(stderr, "flood_stress: VM start failed\n");
        return 1;
    }
    fx_pid recv[NRECV];
    receiver ri = {.report = fx_inbox_pid(in)};
    for (int r = 0; r < NRECV; r++) {
        fx_spawn_opts o = {.handler = receiver_h,
                           .state_size = sizeof ri,
                           .state_init = &ri,
                           .cleanup = receiver_cleanup};
        if (fx_vm_spawn_opt(vm, &o, &recv[r]) != 0) {
            fprintf(stderr, "flood_stress: spawn failed\n");
            return 1;
        }
    }
    for (uint32_t i = 0; i < NSEND; i++) {
        sender si = {.idx = i, .seed = i * 7919 + 1};
        memcpy(si.to, recv, sizeof recv);
        fx_spawn_opts o = {
            .handler = sender_h, .state_size = sizeof si, .state_init = &si};
        fx_pid p;
        if (fx_vm_spawn_opt(vm, &o, &p) != 0 || fx_vm_send(vm, p, GO, NULL, 0) != 0) {
            fprintf(stderr, "flood_stress: spawn failed\n");
            return 1;
        }
    }
    pthread_t th[NOUT];
    outside_arg oa[NOUT];
    for (uint32_t i = 0; i < NOUT; i++) {
        oa[i] = (outside_arg){.vm = vm, .idx = NSEND + i};
        memcpy(oa[i].to, recv, sizeof recv);
        pthread_create(&th[i], NULL, outside, &oa[i]);
    }
    for (uint32_t i = 0; i < NOUT; i++)
        pthread_join(th[i], NULL);
    uint64_t total = 0;
    int failed = 0;
    for (int r = 0; r < NRECV; r++) {
        fx_msg *m;
        int rc = fx_inbox_recv(in, &(fx_match){.type = REPORT}, 300000, &m);
        if (rc != 0) {
            fprintf(stderr, "flood_stress: a receiver did not finish: %s\n",
                    fx_strerror(rc));
            failed = 1;
            break;
        }
        uint64_t got;
        memcpy(&got, fx_msg_data(m), sizeof got);
        total += got;
        fx_msg_free(m);
    }
    uint64_t ptotal = 0;
    for (int round = 0; round < PAIR_ROUNDS && !failed; round++) {
        /* Every other round without spinners: pairs then mostly hold. */
        int nspin = round & 1 ? NSPIN : 0;
        fx_pid spin[NSPIN];
        if (start_pairs(vm, fx_inbox_pid(in), spin, nspin) != 0) {
            fprintf(stderr, "flood_stress: spawn failed\n");
            return 1;
        }
        for (int r = 0; r < NPAIR + 1; r++) { /* the consumers, the victim's producer */
            fx_msg *m;
            int rc = fx_inbox_recv(in, &(fx_match){.pred = pair_result}, 300000, &m);
            if (rc != 0) {
                fprintf(stderr, "flood_stress: a pair did not finish: %s\n",
                        fx_strerror(rc));
                failed = 1;
                break;
            }
            if (fx_msg_type(m) == PREPORT) {
                uint64_t got;
                memcpy(&got, fx_msg_data(m), sizeof got);
                ptotal += got;
            }
            fx_msg_free(m);
        }
        for (int i = 0; i < nspin; i++)
            fx_vm_send(vm, spin[i], STOP, NULL, 0);
    }
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    uint64_t v = __atomic_load_n(&violations, __ATOMIC_RELAXED);
    uint64_t want = (uint64_t) NRECV * (NSEND + NOUT) * PER_PAIR;
    uint64_t pwant = (uint64_t) PAIR_ROUNDS * NPAIR * PAIR_MSGS;
    printf("flood_stress: delivered %llu of %llu, pairs %llu of %llu, violations %llu\n",
           (unsigned long long) total, (unsigned long long) want,
           (unsigned long long) ptotal, (unsigned long long) pwant,
           (unsigned long long) v);
    if (failed || v != 0 || total != want || ptotal != pwant) {
        fprintf(stderr, "flood_stress: FAILED\n");
        return 1;
    }
    return 0;
}
