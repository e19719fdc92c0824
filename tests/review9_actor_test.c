/* review9: actor.h promises the code breaks (each test fails today for
 * the reason its comment gives). */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#include "helpers.h"

/* A state any C object may live in: its alignment is max_align_t's. */
typedef struct wide_state {
    fx_pid report;
    long double x; /* alignof 16 on x86-64 */
    max_align_t any;
} wide_state;

static fx_next report_alignment(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    wide_state *s = fx_state(cx);
    uint64_t mis = (uint64_t) ((uintptr_t) s % alignof(max_align_t));
    (void) fx_send(cx, s->report, 9, &mis, sizeof mis);
    return fx_continue(cx);
}

/* actor.h:101-103 (fx_spawn_opts): "With state_size > 0 the runtime
 * allocates that many zeroed bytes with the actor (one allocation),
 * passes them as the state": an allocation, as malloc's, must suit any
 * object of fundamental alignment (alignof(max_align_t), 16 on x86-64),
 * and spawn.c rounds the size to 16 as if it were. But the inline state
 * is placed right after struct fxi_actor, whose size is 8 mod 16: every
 * inline state is only 8-aligned, so a state holding a long double,
 * max_align_t, __int128 or an SSE vector is misaligned (undefined
 * behaviour; UBSan's alignment check reports the accesses, and aligned
 * SSE loads fault). Message payloads, by contrast, are 16-aligned
 * (typed.h). */
Test(review9_actor, inline_state_is_aligned_for_any_object)
{
    tvm t = tvm_start(1);
    for (size_t extra = 0; extra < 64; extra += 8) {
        wide_state init = {.report = t.me};
        /* state_init is read for state_size bytes: give it that many. */
        unsigned char buf[sizeof init + 64] = {0};
        memcpy(buf, &init, sizeof init);
        fx_spawn_opts o = {.handler = report_alignment,
                           .state_size = sizeof init + extra,
                           .state_init = buf};
        fx_pid p;
        cr_assert_eq(fx_vm_spawn_opt(t.vm, &o, &p), 0);
        cr_assert_eq(fx_vm_send(t.vm, p, 1, NULL, 0), 0);
        uint64_t mis = tvm_recv_u64(&t, 9);
        cr_expect_eq(mis, 0,
                     "inline state of %zu bytes is %llu bytes off a %zu-byte boundary",
                     o.state_size, (unsigned long long) mis, alignof(max_align_t));
    }
    tvm_stop(&t);
}
