/* gen_statem: event, state and generic timeouts.
 *
 * Each timeout is a slot. Arming it takes a new sequence number and sends
 * the content to self with fx_send_after_msg (an event timeout of 0 is a
 * plain message to self, so every message already queued comes first and
 * cancels it; a state or generic timeout of 0 goes to the machine's own
 * queue, behind the events queued there, as OTP does). The event carries
 * the number; fxi_sm_fire accepts it only while it is still the slot's
 * arming, so a timer cancelled or restarted after it fired is ignored. */
#include <stdlib.h>
#include <string.h>

#include "otp/sm_impl.h"

void fxi_sm_disarm(fx_sm *sm, fxi_sm_slot *s)
{
    if (s->has_timer)
        (void) fx_cancel_timer(sm->vm, s->timer); /* a late one is stale */
    s->has_timer = false;
    s->armed = false;
}

static int send_tmo(fx_sm *sm, fxi_sm_slot *s, int64_t ms, const fxi_sm_ev *e)
{
    fx_msg *m;
    fxi_sm_tmo_hdr h = {.kind = e->kind, .type = e->type, .name = e->name, .seq = e->seq};
    int rc = fx_msg_new_behaviour(FXI_SM_TMO, sizeof h + e->size, &m);
    if (rc != 0)
        return rc;
    unsigned char *p = fx_msg_data_mut(m);
    memcpy(p, &h, sizeof h);
    if (e->size)
        memcpy(p + sizeof h, e->data, e->size);
    fx_pid self = fx_self(sm->cx);
    if (ms == 0) {
        rc = fx_send_msg(sm->cx, self, m);
    } else {
        rc = fx_send_after_msg(sm->cx, ms, self, m, &s->timer);
        s->has_timer = rc == 0;
    }
    if (rc != 0)
        fx_msg_free(m);
    return rc;
}

int fxi_sm_arm(fx_sm *sm, fxi_sm_slot *s, int64_t ms, fxi_sm_ev *e)
{
    fxi_sm_disarm(sm, s);
    if (ms == FX_INFINITY) {
        fxi_sm_ev_free(e);
        return 0;
    }
    e->seq = s->seq = ++sm->seq;
    s->armed = true;
    if (ms == 0 && e->kind != FX_SM_TIMEOUT) {
        fxi_sm_q_push(&sm->zero, e);
        return 0;
    }
    int rc = send_tmo(sm, s, ms, e);
    fxi_sm_ev_free(e);
    if (rc != 0)
        s->armed = false;
    return rc;
}

fxi_sm_slot *fxi_sm_slot_of(fx_sm *sm, int32_t kind, uint64_t name, bool create)
{
    if (kind == FX_SM_TIMEOUT)
        return &sm->et;
    if (kind == FX_SM_STATE_TIMEOUT)
        return &sm->st;
    if (kind != FX_SM_GENERIC_TIMEOUT)
        return NULL;
    fxi_sm_slot *free_slot = NULL;
    for (size_t i = 0; i < sm->ngen; i++) {
        if (sm->gen[i].name == name)
            return &sm->gen[i];
        if (!sm->gen[i].armed && !free_slot)
            free_slot = &sm->gen[i];
    }
    if (!create)
        return NULL;
    if (free_slot) { /* reuse a spent slot: the list stays as long as the
                        most generic timeouts ever armed at once */
        memset(free_slot, 0, sizeof *free_slot);
        free_slot->name = name;
        return free_slot;
    }
    if (sm->ngen == sm->capgen) {
        size_t cap = sm->capgen ? sm->capgen * 2 : 4;
        fxi_sm_slot *g = realloc(sm->gen, cap * sizeof *g);
        if (!g)
            return NULL;
        sm->gen = g;
        sm->capgen = cap;
    }
    fxi_sm_slot *s = &sm->gen[sm->ngen++];
    memset(s, 0, sizeof *s);
    s->name = name;
    return s;
}

bool fxi_sm_fire(fx_sm *sm, int32_t kind, uint64_t name, uint64_t seq)
{
    if (kind != FX_SM_TIMEOUT && kind != FX_SM_STATE_TIMEOUT &&
        kind != FX_SM_GENERIC_TIMEOUT)
        return true;
    if (seq == 0) /* a postponed timeout event, retried: it fired already */
        return true;
    fxi_sm_slot *s = fxi_sm_slot_of(sm, kind, name, false);
    if (!s || !s->armed || s->seq != seq)
        return false;
    s->armed = false;
    s->has_timer = false;
    return true;
}

void fxi_sm_slots_free(fx_sm *sm)
{
    free(sm->gen);
    sm->gen = NULL;
    sm->ngen = sm->capgen = 0;
}
