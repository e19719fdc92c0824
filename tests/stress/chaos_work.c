/* The chaos run's receivers (GenServer workers, plain actors, temporaries)
 * and the supervision tree they live in:
 *
 *   root (one_for_one)
 *   ├── m0 one_for_one:  g0 g1 g2 (GenServers registered as n0 n1 n2), a3 a4 a5
 *   ├── m1 one_for_all:  g6 g7 a8 a9
 *   ├── m2 rest_for_one: a10 g11 g12 a13
 *   └── m3 simple_one_for_one over plain actors (started by the outside
 *       threads, the slot in the start arguments)
 *
 * Each child is a slot (its index): a new incarnation publishes its pid
 * in slot_pid[slot] for the senders. */
#include "chaos.h"

#include <stdlib.h>
#include <string.h>

_Atomic uint64_t slot_pid[NSLOTS];
int slot_kind[NSLOTS];
int slot_named[NSLOTS];
int nslots_tree;

static void publish(fx_pid pid, int slot)
{
    /* Release: nothing to order (a reader that sees the pid only sends
     * to it); relaxed would do, release documents the hand-over. */
    atomic_store_explicit(&slot_pid[slot], pid.id, memory_order_release);
}

/* The common reaction to a tagged message. Returns 1 to crash, 2 to stop. */
static int handle_tagged(rx *r, uint32_t type, const void *data, size_t size)
{
    rx_record(r, data, size);
    return type == M_CRASH ? 1 : type == M_STOP ? 2 : 0;
}

static void sync_ack(fx_ctx *cx, rx *r, fx_msg *m)
{
    uint32_t round = 1;
    if (fx_msg_size(m) == sizeof round)
        memcpy(&round, fx_msg_data(m), sizeof round);
    r->synced = (int) round;
    int rc = fx_send(cx, fx_msg_from(m), M_SYNC_ACK, &r->pid, sizeof r->pid);
    if (rc != 0)
        unexpected("sync ack", rc);
}

/* ---- GenServer workers ------------------------------------------------------- */

static fx_gs_ret g_init(fx_ctx *cx, void *arg, void **state)
{
    int slot = (int) (uintptr_t) arg;
    rx *r = rx_born(fx_self(cx), slot, K_GS);
    *state = r;
    if (!r)
        return fx_gs_stop(cx, fx_reason_error(FX_ENOMEM, "rx"));
    publish(r->pid, slot);
    return fx_gs_ok(cx);
}

static fx_gs_ret g_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    (void) state;
    (void) from;
    if (type == C_CRASH)
        fx_crash(cx, "chaos call crash");
    if (type == C_STOP)
        return fx_gs_stop(cx, fx_reason_error(7, "chaos call stop"));
    return fx_gs_reply(cx, data, size); /* C_ECHO: the caller's token */
}

static fx_gs_ret g_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size)
{
    int what = handle_tagged(state, type, data, size);
    if (what == 1)
        fx_crash(cx, "chaos cast crash");
    if (what == 2)
        return fx_gs_stop(cx, fx_reason_normal());
    return fx_gs_noreply(cx);
}

static fx_gs_ret g_info(fx_ctx *cx, void *state, fx_msg *m)
{
    uint32_t type = fx_msg_type(m);
    if (type == M_SYNC) {
        sync_ack(cx, state, m);
        return fx_gs_noreply(cx);
    }
    if (type != M_DATA && type != M_CRASH && type != M_STOP) {
        ((rx *) state)->order++; /* nothing else is ever sent to a worker */
        return fx_gs_noreply(cx);
    }
    return g_cast(cx, state, type, fx_msg_data(m), fx_msg_size(m));
}

static void g_terminate(fx_vm *vm, void *state, const fx_reason *reason)
{
    (void) vm;
    if (state)
        rx_died(state, reason);
}

static const fx_gs_ops g_ops = {.init = g_init,
                                .handle_call = g_call,
                                .handle_cast = g_cast,
                                .handle_info = g_info,
                                .terminate = g_terminate};

/* ---- plain actors -------------------------------------------------------------- */

static fx_next a_loop(fx_ctx *cx, fx_msg *m)
{
    rx *r = fx_state(cx);
    uint32_t type = fx_msg_type(m);
    if (type == M_SYNC) {
        sync_ack(cx, r, m);
        return fx_continue(cx);
    }
    if (type != M_DATA && type != M_CRASH && type != M_STOP) {
        r->order++;
        return fx_continue(cx);
    }
    int what = handle_tagged(r, type, fx_msg_data(m), fx_msg_size(m));
    if (what == 1)
        fx_crash(cx, "chaos actor crash");
    if (what == 2)
        return fx_stop(cx, fx_reason_normal());
    return fx_continue(cx);
}

static fx_next a_start(fx_ctx *cx, int slot)
{
    rx *r = rx_born(fx_self(cx), slot, K_ACTOR);
    if (!r)
        return fx_stop(cx, fx_reason_error(FX_ENOMEM, "rx"));
    fx_set_state(cx, r);
    publish(r->pid, slot);
    return fx_become(cx, a_loop);
}

static fx_next a_init_slot(fx_ctx *cx, void *arg)
{
    return a_start(cx, (int) (uintptr_t) arg);
}

static fx_next a_init_extra(fx_ctx *cx, void *arg)
{
    uint32_t slot;
    memcpy(&slot, arg, sizeof slot);
    return a_start(cx, (int) slot);
}

static void a_cleanup(void *state, const fx_reason *reason)
{
    if (state)
        rx_died(state, reason);
}

const fx_spawn_opts temp_opts = {
    .init = a_init_slot, .cleanup = a_cleanup, .label = "chaos_temp"};
static const fx_spawn_opts dyn_opts = {
    .init = a_init_extra, .cleanup = a_cleanup, .label = "chaos_dyn"};

/* ---- the tree -------------------------------------------------------------------- */

const char *const static_ids[NMID][8] = {
    {"g0", "g1", "g2", "a3", "a4", "a5", NULL},
    {"g6", "g7", "a8", "a9", NULL},
    {"a10", "g11", "g12", "a13", NULL},
    {NULL},
};

static fx_gs_spec gs_specs[NSLOTS];
static fx_spawn_opts a_opts[NSLOTS];
static char names[NSLOTS][8];
static fx_child_spec kids[NMID][8], root_kids[NMID];
static fx_sup_spec mids[NMID];
fx_sup_spec root_spec;

static void generous(fx_sup_spec *s, int strategy)
{
    fx_sup_spec_init(s);
    s->strategy = strategy;
    s->intensity = 1000000; /* survives the chaos */
    s->period_ms = 1000;
}

void tree_build(int outside_threads)
{
    static const int strategies[NMID] = {FX_ONE_FOR_ONE, FX_ONE_FOR_ALL, FX_REST_FOR_ONE,
                                         FX_SIMPLE_ONE_FOR_ONE};
    static const int64_t shutdowns[4] = {0, FX_SHUTDOWN_BRUTAL_KILL, 100, FX_INFINITY};
    for (int m = 0; m < NMID; m++) {
        size_t n = 0;
        for (; static_ids[m][n]; n++) {
            const char *id = static_ids[m][n];
            int slot = atoi(id + 1);
            fx_child_spec *c = &kids[m][n];
            memset(c, 0, sizeof *c);
            snprintf(c->id, sizeof c->id, "%s", id);
            if (id[0] == 'g') {
                slot_kind[slot] = K_GS;
                gs_specs[slot] = (fx_gs_spec){
                    .ops = &g_ops, .arg = (void *) (uintptr_t) slot, .label = "chaos_gs"};
                if (m == 0) {
                    snprintf(names[slot], sizeof names[slot], "n%d", slot);
                    gs_specs[slot].name = names[slot];
                    slot_named[slot] = 1;
                }
                c->start = fx_child_gen_server;
                c->arg = &gs_specs[slot];
            } else {
                slot_kind[slot] = K_ACTOR;
                a_opts[slot] = (fx_spawn_opts){.init = a_init_slot,
                                               .init_arg = (void *) (uintptr_t) slot,
                                               .cleanup = a_cleanup,
                                               .label = "chaos_actor"};
                c->start = fx_child_actor;
                c->arg = &a_opts[slot];
            }
            c->restart = slot % 3 == 2 ? FX_TRANSIENT : FX_PERMANENT;
            c->type = FX_WORKER;
            c->shutdown_ms = shutdowns[slot % 4];
            if (slot + 1 > nslots_tree)
                nslots_tree = slot + 1;
        }
        generous(&mids[m], strategies[m]);
        if (m == DYN) {
            fx_child_spec *t = &kids[m][0];
            memset(t, 0, sizeof *t);
            t->start = fx_child_actor;
            t->arg = (void *) &dyn_opts;
            t->restart = FX_PERMANENT;
            t->shutdown_ms = 100;
            n = 1;
            mids[m].max_children = (uint32_t) outside_threads * DYN_SLOTS_PER_THREAD;
        }
        mids[m].children = kids[m];
        mids[m].nchildren = n;
        mids[m].label = "chaos_mid";
        memset(&root_kids[m], 0, sizeof root_kids[m]);
        snprintf(root_kids[m].id, sizeof root_kids[m].id, "m%d", m);
        root_kids[m].start = fx_child_supervisor;
        root_kids[m].arg = &mids[m];
        root_kids[m].restart = FX_PERMANENT;
        root_kids[m].type = FX_SUPERVISOR_CHILD;
    }
    for (int s = nslots_tree; s < NSLOTS; s++)
        slot_kind[s] = K_ACTOR; /* dynamic children and temporaries */
    generous(&root_spec, FX_ONE_FOR_ONE);
    root_spec.children = root_kids;
    root_spec.nchildren = NMID;
    root_spec.label = "chaos_root";
}
