/* The chaos run's senders: driver actors inside the VM and threads
 * outside it. Each draws its decisions from its own seeded PRNG and
 * sends tagged messages (by pid, by name, as casts, through timers),
 * makes calls with random timeouts, crashes and kills workers, spawns
 * and stops temporaries, registers and unregisters names, and (outside
 * threads) drives the supervisors. */
#include "chaos.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

run R;

int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t rnd(uint64_t *s)
{
    /* splitmix64: a good spread from any seed. */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#define RING 16
typedef struct snd {
    int id; /* sender index */
    fx_ctx *cx;
    fx_inbox *in;
    uint64_t rng;
    uint64_t nops;
    uint64_t token; /* of the call in flight */
    fx_timer ring[RING];
    uint64_t ring_pid[RING];
} snd;

#define CNT(field) atomic_fetch_add_explicit(&op_acct.field, 1, memory_order_relaxed)

static const char *const pool[] = {"n0", "n1", "n2", "x0", "x1", "x2", "x3", "t0",
                                   "t1", "t2", "t3", "t4", "t5", "t6", "t7"};
#define NPOOL (sizeof pool / sizeof pool[0])

static int nslots_all(void)
{
    return nslots_tree + R.outside * DYN_SLOTS_PER_THREAD +
           R.drivers * TEMP_SLOTS_PER_DRIVER;
}

/* A random published pid (of kind `kind`, 0 = any), or none. */
static fx_pid pick(snd *s, int kind)
{
    int n = nslots_all();
    for (int tries = 0; tries < 8; tries++) {
        int k = (int) (rnd(&s->rng) % (uint64_t) n);
        if (kind && slot_kind[k] != kind)
            continue;
        /* Acquire: pairs with publish's release. */
        uint64_t id = atomic_load_explicit(&slot_pid[k], memory_order_acquire);
        if (id)
            return (fx_pid){id};
    }
    return FX_PID_NONE;
}

static void accepted(pair *p, int rc, const char *what)
{
    if (rc == 0)
        p->seq++;
    else if (rc != FX_ENOPROC)
        unexpected(what, rc);
}

/* Sends a tagged message of `type` to pid, as a plain message or (cast)
 * as a GenServer cast. */
static void send_tagged(snd *s, fx_pid to, uint32_t type, int cast)
{
    if (fx_pid_is_none(to))
        return;
    pair *p = smap_get(&senders[s->id], to.id);
    tag t = {(uint32_t) s->id, p->seq + 1};
    int rc;
    if (cast) {
        CNT(casts);
        rc = s->cx ? fx_gs_cast(s->cx, to, type, &t, sizeof t)
                   : fx_vm_gs_cast(R.vm, to, type, &t, sizeof t);
    } else {
        CNT(sends);
        if (s->cx)
            rc = fx_send(s->cx, to, type, &t, sizeof t);
        else if (rnd(&s->rng) & 1)
            rc = fx_vm_send(R.vm, to, type, &t, sizeof t);
        else
            rc = fx_inbox_send(s->in, to, type, &t, sizeof t);
    }
    accepted(p, rc, cast ? "cast" : "send");
}

static void send_named(snd *s)
{
    fx_pid to;
    const char *name = pool[rnd(&s->rng) % NPOOL];
    int rc = fx_whereis(R.vm, name, &to);
    if (rc == FX_ENOENT)
        return;
    if (rc != 0) {
        unexpected("whereis", rc);
        return;
    }
    CNT(sends_named);
    send_tagged(s, to, M_DATA, 0);
}

static void timer_start(snd *s)
{
    fx_pid to = pick(s, 0);
    if (fx_pid_is_none(to))
        return;
    pair *p = smap_get(&senders[s->id], to.id);
    tag t = {(uint32_t) s->id, TIMER_SEQ};
    int64_t delay = (int64_t) (rnd(&s->rng) % 50);
    fx_timer h;
    CNT(timers);
    int rc = s->cx ? fx_send_after(s->cx, delay, to, M_DATA, &t, sizeof t, &h)
                   : fx_vm_send_after(R.vm, delay, to, M_DATA, &t, sizeof t, &h);
    if (rc == FX_ENOPROC)
        return;
    if (rc != 0) {
        unexpected("send_after", rc);
        return;
    }
    p->tnet++;
    timer_note(h);
    int k = (int) (rnd(&s->rng) % RING);
    s->ring[k] = h;
    s->ring_pid[k] = to.id;
}

static void timer_cancel(snd *s)
{
    int k = (int) (rnd(&s->rng) % RING);
    if (!s->ring_pid[k])
        return;
    CNT(cancels);
    int64_t left = fx_cancel_timer(R.vm, s->ring[k]);
    if (left >= 0)
        smap_get(&senders[s->id], s->ring_pid[k])->tnet--;
    else if (left != FX_ENOENT)
        unexpected("cancel_timer", (int) left);
    s->ring_pid[k] = 0;
}

static void kill_one(snd *s, fx_pid to)
{
    if (fx_pid_is_none(to))
        return;
    fx_reason why = rnd(&s->rng) & 1 ? fx_reason_kill() : fx_reason_error(3, "chaos");
    CNT(kills);
    int rc = s->cx ? fx_exit(s->cx, to, why) : fx_vm_exit(R.vm, to, why);
    if (rc != 0 && rc != FX_ENOPROC)
        unexpected("exit", rc);
}

static int64_t call_timeout(snd *s)
{
    static const int64_t t[] = {1, 5, 50, 500, FX_INFINITY};
    return t[rnd(&s->rng) % 5];
}

static uint32_t call_type(snd *s)
{
    uint64_t r = rnd(&s->rng) % 1000;
    return r < 3 ? C_CRASH : r < 5 ? C_STOP : C_ECHO;
}

/* The ops both kinds of sender make. Returns 1 if it made one. */
static int common_op(snd *s, uint64_t r)
{
    if (r < 300)
        send_tagged(s, pick(s, 0), M_DATA, 0);
    else if (r < 380)
        send_named(s);
    else if (r < 460)
        send_tagged(s, pick(s, K_GS), M_DATA, 1);
    else if (r < 540)
        timer_start(s);
    else if (r < 580)
        timer_cancel(s);
    else if (r < 595 && rnd(&s->rng) % 8 != 0)
        send_tagged(s, pick(s, 0), M_DATA, 0); /* destruction is rarer */
    else if (r < 586) {
        CNT(crashes);
        send_tagged(s, pick(s, 0), M_CRASH, 0);
    } else if (r < 592)
        kill_one(s, pick(s, 0));
    else if (r < 595) {
        CNT(temp_stops);
        send_tagged(s, pick(s, 0), M_STOP, 0);
    } else
        return 0;
    return 1;
}

static int out_of_ops(snd *s)
{
    return atomic_load_explicit(&R.stop, memory_order_relaxed) ||
           now_ns() > R.deadline_ns || (R.max_ops && s->nops >= R.max_ops);
}

/* ---- drivers: actors inside the VM ------------------------------------------------ */

static fx_next d_loop(fx_ctx *cx, fx_msg *m);

static fx_next d_call_done(fx_ctx *cx, fx_msg *m)
{
    snd *s = fx_state(cx);
    const void *data;
    size_t size;
    int rc = fx_gs_call_result(cx, m, &data, &size, NULL);
    call_ended(rc, rc == 0 && size == sizeof s->token && !memcmp(data, &s->token, size));
    return fx_become(cx, d_loop);
}

static fx_next d_reg_done(fx_ctx *cx, fx_msg *m)
{
    int rc = fx_registry_result(cx, m, NULL);
    if (rc != 0 && rc != FX_EEXIST && rc != FX_ENOPROC && rc != FX_ENOENT &&
        rc != FX_ETIMEDOUT)
        unexpected("registry (async)", rc);
    return fx_become(cx, d_loop);
}

static fx_pid my_temp(snd *s, int *slot)
{
    int base =
        nslots_tree + R.outside * DYN_SLOTS_PER_THREAD + s->id * TEMP_SLOTS_PER_DRIVER;
    *slot = base + (int) (rnd(&s->rng) % TEMP_SLOTS_PER_DRIVER);
    /* Acquire: pairs with publish's release. */
    return (fx_pid){atomic_load_explicit(&slot_pid[*slot], memory_order_acquire)};
}

static fx_next d_op(fx_ctx *cx, snd *s)
{
    uint64_t r = rnd(&s->rng) % 1000;
    if (common_op(s, r))
        return fx_continue(cx);
    if (r < 700) { /* a temporary: spawn one in a dead slot, else feed it */
        int slot;
        fx_pid t = my_temp(s, &slot);
        if (!fx_pid_is_none(t) && fx_is_alive(R.vm, t) == 1) {
            send_tagged(s, t, M_DATA, 0);
        } else {
            fx_spawn_opts o = temp_opts;
            o.init_arg = (void *) (uintptr_t) slot;
            CNT(spawns);
            int rc = fx_spawn_opt(cx, &o, &t);
            if (rc != 0)
                unexpected("spawn", rc);
            else /* at once, so the next look at the slot sees it alive */
                /* Release: pairs with pick's acquire (the temp publishes
                 * the same pid again from its init). */
                atomic_store_explicit(&slot_pid[slot], t.id, memory_order_release);
        }
        return fx_continue(cx);
    }
    if (r < 780) {
        int slot;
        fx_pid t = my_temp(s, &slot);
        if (fx_pid_is_none(t))
            return fx_continue(cx);
        CNT(reg);
        return fx_register_async(cx, pool[7 + rnd(&s->rng) % 8], t, d_reg_done);
    }
    if (r < 840) {
        CNT(unreg);
        return fx_unregister_async(cx, pool[7 + rnd(&s->rng) % 8], d_reg_done);
    }
    fx_pid to = pick(s, K_GS);
    if (r >= 900 && fx_pid_is_none(to))
        return fx_continue(cx);
    s->token = rnd(&s->rng);
    /* Relaxed: a counter read at the end. */
    atomic_fetch_add_explicit(&call_acct.started, 1, memory_order_relaxed);
    if (r < 900)
        return fx_gs_call_named_async(cx, pool[rnd(&s->rng) % 3], call_type(s), &s->token,
                                      sizeof s->token, call_timeout(s), d_call_done);
    return fx_gs_call_async(cx, to, call_type(s), &s->token, sizeof s->token,
                            call_timeout(s), d_call_done);
}

static fx_next d_loop(fx_ctx *cx, fx_msg *m)
{
    snd *s = fx_state(cx);
    s->cx = cx;
    switch (fx_msg_type(m)) {
    case M_HALT:
        sender_done();
        return fx_stop(cx, fx_reason_normal());
    case M_TICK:
        if (out_of_ops(s))
            return fx_continue(cx); /* wait for M_HALT */
        s->nops++;
        if (fx_send(cx, fx_self(cx), M_TICK, NULL, 0) != 0)
            unexpected("tick", -1);
        return d_op(cx, s);
    default: /* a reply, DOWN or timeout nobody waits for */
        fprintf(stderr, "chaos: driver %d: stray message type %#x\n", s->id,
                fx_msg_type(m));
        atomic_fetch_add_explicit(&call_acct.stray, 1, memory_order_relaxed);
        return fx_continue(cx);
    }
}

int drivers_start(fx_inbox *in, fx_pid *pids)
{
    for (int d = 0; d < R.drivers; d++) {
        snd s0;
        memset(&s0, 0, sizeof s0);
        s0.id = d;
        s0.rng = R.seed * 1000003u + (uint64_t) d + 1 + (uint64_t) round_no * 7919u;
        fx_spawn_opts o = {.handler = d_loop,
                           .state_size = sizeof s0,
                           .state_init = &s0,
                           .label = "chaos_driver"};
        fx_ref ref;
        int rc = fx_inbox_spawn_monitor(in, &o, &pids[d], &ref);
        if (rc == 0)
            rc = fx_vm_send(R.vm, pids[d], M_TICK, NULL, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- outside threads ----------------------------------------------------------------
 */

static void tolerate(int rc, const char *what)
{
    if (rc < 0 && rc != FX_ENOPROC && rc != FX_EEXIT && rc != FX_ETIMEDOUT &&
        rc != FX_ENOENT && rc != FX_EEXIST && rc != FX_EIGNORE && rc != FX_ELIMIT)
        unexpected(what, rc);
}

static void o_call(snd *s, uint64_t r)
{
    fx_pid to = pick(s, K_GS);
    if (r % 2 && fx_pid_is_none(to))
        return;
    s->token = rnd(&s->rng);
    fx_msg *reply = NULL;
    int rc;
    /* Relaxed: a counter read at the end. */
    atomic_fetch_add_explicit(&call_acct.started, 1, memory_order_relaxed);
    if (r % 2)
        rc = fx_gs_call(s->in, to, call_type(s), &s->token, sizeof s->token,
                        call_timeout(s), &reply, NULL);
    else
        rc = fx_gs_call_named(s->in, pool[rnd(&s->rng) % 3], call_type(s), &s->token,
                              sizeof s->token, call_timeout(s), &reply, NULL);
    call_ended(rc, rc == 0 && fx_msg_size(reply) == sizeof s->token &&
                       !memcmp(fx_msg_data(reply), &s->token, sizeof s->token));
    fx_msg_free(reply);
}

/* The mid supervisors' pids, from the root. */
static int mids_now(snd *s, fx_pid *mid)
{
    fx_child_info v[NMID];
    int n = fx_sup_which_children(s->in, R.root, v, NMID, 1000);
    CNT(sup_ops);
    if (n != NMID) {
        tolerate(n, "root which_children");
        return -1;
    }
    for (int i = 0; i < NMID; i++) {
        mid[i] = v[i].pid;
        if (fx_pid_is_none(mid[i]))
            return -1; /* being restarted */
    }
    return 0;
}

static void o_sup(snd *s, uint64_t r)
{
    fx_pid mid[NMID];
    if (mids_now(s, mid) != 0)
        return;
    int t = s->id - R.drivers;
    CNT(sup_ops);
    if (r < 900) { /* a dynamic child in one of this thread's slots */
        uint32_t slot = (uint32_t) (nslots_tree + t * DYN_SLOTS_PER_THREAD) +
                        (uint32_t) (rnd(&s->rng) % DYN_SLOTS_PER_THREAD);
        /* Acquire: pairs with publish's release. */
        fx_pid cur = {atomic_load_explicit(&slot_pid[slot], memory_order_acquire)};
        if (!fx_pid_is_none(cur) && fx_is_alive(R.vm, cur) == 1) {
            if (rnd(&s->rng) & 1)
                tolerate(fx_sup_terminate_pid(s->in, mid[DYN], cur, 1000),
                         "terminate_pid");
            return;
        }
        tolerate(fx_sup_start_child_args(s->in, mid[DYN], &slot, sizeof slot, 1000, NULL,
                                         NULL),
                 "start_child_args");
        return;
    }
    int m = (int) (rnd(&s->rng) % DYN);
    int n = 0;
    while (static_ids[m][n])
        n++;
    const char *id = static_ids[m][rnd(&s->rng) % (uint64_t) n];
    if (r < 930)
        tolerate(fx_sup_terminate_child(s->in, mid[m], id, 1000), "terminate_child");
    else if (r < 970)
        tolerate(fx_sup_restart_child(s->in, mid[m], id, 1000, NULL, NULL),
                 "restart_child");
    else if (r < 974 && rnd(&s->rng) % 10 == 0) {
        CNT(mid_kills);
        tolerate(fx_vm_exit(R.vm, mid[m], fx_reason_kill()), "kill a mid");
    } else {
        fx_child_counts c;
        tolerate(fx_sup_count_children(s->in, mid[m], &c, 1000), "count_children");
    }
}

static void o_op(snd *s)
{
    uint64_t r = rnd(&s->rng) % 1000;
    if (common_op(s, r))
        return;
    if (r < 780) {
        o_call(s, r);
    } else if (r < 820) {
        fx_pid p = pick(s, 0);
        if (fx_pid_is_none(p))
            return;
        CNT(reg);
        tolerate(fx_register(s->in, pool[3 + rnd(&s->rng) % 4], p, NULL), "register");
    } else if (r < 850) {
        CNT(unreg);
        tolerate(fx_unregister(s->in, pool[3 + rnd(&s->rng) % 4]), "unregister");
    } else {
        o_sup(s, r);
    }
}

void *outside_thread(void *arg)
{
    snd *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->id = (int) (uintptr_t) arg;
    s->rng = R.seed * 1000003u + (uint64_t) s->id + 1 + (uint64_t) round_no * 7919u;
    int rc = fx_inbox_create(R.vm, &s->in);
    if (rc != 0) {
        unexpected("inbox_create", rc);
        free(s);
        return NULL;
    }
    while (!out_of_ops(s)) {
        s->nops++;
        o_op(s);
    }
    /* Every call has ended: anything left in the inbox (a late reply, a
     * DOWN of a call's monitor) is a stray. */
    fx_msg *m;
    while (fx_inbox_recv(s->in, NULL, 0, &m) == 0) {
        fprintf(stderr, "chaos: thread %d: stray message type %#x\n", s->id,
                fx_msg_type(m));
        atomic_fetch_add_explicit(&call_acct.stray, 1, memory_order_relaxed);
        fx_msg_free(m);
    }
    fx_inbox_destroy(s->in);
    sender_done();
    free(s);
    return NULL;
}
