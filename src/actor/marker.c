/* Receive markers: see actor/marker.h. The invariant every function
 * keeps: for a marker (ref, after), every saved message up to and
 * including `after` was in the save queue when ref was created. Messages
 * are only ever appended to the save queue's end, so they land after
 * every marker (a later scan looks at them, which is merely
 * conservative); a removed marked message hands its marker to its
 * predecessor, which was saved earlier still. */
#include "actor/marker.h"

#include "actor/actor.h"

FX_API fx_ref fx_make_ref(fx_ctx *cx)
{
    if (!cx)
        return FX_REF_NONE;
    fx_ref ref = fxi_make_ref(cx->vm, cx->w);
    /* A receive for this ref need not look at what is saved now. */
    if (cx->self)
        fxi_mark_insert(cx->self, ref);
    return ref;
}

void fxi_mark_insert(fxi_actor *a, fx_ref ref)
{
    /* Nothing saved: a marker would say "scan from the oldest", which is
     * what a ref without one gets; keep the slots (and the memory). */
    if (!a->saved)
        return;
    fxi_actor_ext *x = fxi_actor_ext_get(a);
    if (!x || !ref.id)
        return;
    fxi_marks *mk = &x->marks;
    fxi_mark *s = NULL;
    if (mk->live < FXI_MARKS) {
        for (int i = 0; i < FXI_MARKS && !s; i++)
            if (!mk->slot[i].ref)
                s = &mk->slot[i];
        mk->live++;
    } else {
        s = &mk->slot[mk->next];
        mk->next = (uint16_t) ((mk->next + 1) % FXI_MARKS);
    }
    s->ref = ref.id;
    s->after = a->saved; /* the newest saved message, NULL if none */
}

fxi_mark *fxi_mark_find(fxi_actor *a, uint64_t ref)
{
    if (!ref || !a->ext || !a->ext->marks.live)
        return NULL;
    fxi_marks *mk = &a->ext->marks;
    for (int i = 0; i < FXI_MARKS; i++)
        if (mk->slot[i].ref == ref)
            return &mk->slot[i];
    return NULL;
}

void fxi_mark_clear(fxi_actor *a, uint64_t ref)
{
    fxi_mark *s = fxi_mark_find(a, ref);
    if (s) {
        s->ref = 0;
        s->after = NULL;
        a->ext->marks.live--;
    }
}

void fxi_mark_unlinked(fxi_marks *mk, const fx_msg *m, fx_msg *pred)
{
    for (int i = 0; i < FXI_MARKS; i++)
        if (mk->slot[i].ref && mk->slot[i].after == m)
            mk->slot[i].after = pred;
}
