/* Deterministic mode: driving the VM from the test's thread.
 *
 * A drive binds the calling thread to the VM's one scheduler slot
 * (fxi_sched_bind, the slot's QSBR record online) and runs the actor
 * hooks' thread_body, as a scheduler thread would: it sets the worker up
 * and lands fx_crash's unwinding, and its fxi_sched_loop runs
 * fxi_det_loop (sched/det.c) for the drive's budget of steps. Then the
 * thread is unbound: between drives it is an outside thread like any
 * other, and the slot is offline, so grace periods need no tick. */
#include "actor/det.h"

#include <fauxtp/error.h>
#include <ctype.h>
#include <errno.h>
#include <fauxtp/testing.h>
#include <stdlib.h>

#include "actor/vm.h"
#include "sched/det.h"

int fxi_det_config(fx_vm_config *c)
{
    if (c->threads > 1)
        return FX_EINVAL;
    c->threads = 1;
    c->stuck_ms = FX_WATCHDOG_OFF;
    c->spare_threads = FX_SPARE_NONE;
    if (c->batch == 0)
        c->batch = 1; /* one handler call per step: the finest interleaving */
    return 0;
}

int fxi_det_vm_init(fx_vm *vm)
{
    int rc = fxi_det_init(&vm->pool, vm->cfg.seed);
    if (rc)
        return rc;
    fxi_qsbr_offline(&vm->qsbr, 0); /* online only while a drive runs */
    return 0;
}

static int check(fx_vm *vm)
{
    if (!vm)
        return FX_EINVAL;
    if (fxi_vm_forked(vm))
        return FX_EFORKED;
    if (!vm->pool.det)
        return FX_ENOTDET;
    /* Inside a handler of any VM, this one's included. */
    if (fxi_actor_tls_worker)
        return FX_ECONTEXT;
    if (!fxi_vm_running(vm))
        return FX_ESHUTDOWN;
    return 0;
}

/* Runs up to budget steps (0: just the tick: due timers). */
static int drive(fx_vm *vm, uint64_t budget, uint64_t *ran)
{
    int rc = check(vm);
    if (rc)
        return rc;
    fxi_det *d = vm->pool.det;
    /* Acquire: pairs with the release store below, so this drive sees
     * everything the previous driver (maybe another thread) did. */
    if (!fxi_atomic_cas_acquire_32(&d->driving, 0, 1))
        return FX_ECONTEXT;
    uint64_t before = d->steps;
    d->budget = budget;
    fxi_sched *s = &vm->pool.scheds[0];
    fxi_sched_bind(s);
    vm->pool.hooks.online(s);
    vm->pool.hooks.thread_body(s);
    vm->pool.hooks.offline(s);
    fxi_sched_bind(NULL);
    fxi_actor_tls_worker = NULL; /* thread_body set it: we are outside again */
    if (ran)
        *ran = d->steps - before;
    /* Release: this drive's effects before the next driver's acquire. */
    fxi_atomic_store_release_32(&d->driving, 0);
    return 0;
}

int fxi_det_wait_step(fx_vm *vm)
{
    uint64_t ran = 0;
    int rc = drive(vm, 1, &ran);
    return rc ? rc : (int) ran;
}

FX_API int fx_test_step(fx_vm *vm)
{
    return fxi_det_wait_step(vm);
}

FX_API int fx_test_run(fx_vm *vm, uint64_t max_steps, uint64_t *ran)
{
    if (ran)
        *ran = 0;
    uint64_t total = 0;
    int rc = 0;
    /* In slices, so a crash's unwinding (which re-enters the loop) and
     * the budget stay simple, and a long run can be bounded. */
    while (total < max_steps) {
        uint64_t slice = max_steps - total < 4096 ? max_steps - total : 4096, n = 0;
        if ((rc = drive(vm, slice, &n)) != 0)
            break;
        total += n;
        if (n < slice)
            break; /* idle */
    }
    if (ran)
        *ran = total;
    return rc;
}

FX_API int fx_test_run_until_idle(fx_vm *vm)
{
    uint64_t ran = 0;
    int rc = fx_test_run(vm, FX_TEST_STEP_LIMIT, &ran);
    if (rc)
        return rc;
    if (ran < FX_TEST_STEP_LIMIT)
        return 0;
    /* Exactly the limit: idle only if nothing is runnable now. */
    rc = drive(vm, 1, &ran);
    return rc ? rc : ran ? FX_ELIMIT : 0;
}

static void set_clock(fxi_det *d, uint64_t ms)
{
    /* Relaxed: see fxi_det_now_ms; the driver's release orders it for
     * the next driver. */
    fxi_atomic_store_relaxed_64(&d->now_ms, ms);
}

/* The checks both advance calls share; saturates *ms at FX_TIMEOUT_MAX. */
static int check_advance(fx_vm *vm, int64_t *ms)
{
    int rc = check(vm);
    if (rc)
        return rc;
    if (*ms < 0)
        return FX_EINVAL;
    if (*ms > FX_TIMEOUT_MAX)
        *ms = FX_TIMEOUT_MAX;
    return 0;
}

FX_API int fx_test_advance(fx_vm *vm, int64_t ms)
{
    int rc = check_advance(vm, &ms);
    if (rc)
        return rc;
    fxi_det *d = vm->pool.det;
    set_clock(d, fxi_det_now_ms(d) + (uint64_t) ms);
    return drive(vm, 0, NULL); /* the tick delivers what is due */
}

FX_API int fx_test_advance_run(fx_vm *vm, int64_t ms)
{
    int rc = check_advance(vm, &ms);
    if (rc)
        return rc;
    fxi_det *d = vm->pool.det;
    uint64_t end = fxi_det_now_ms(d) + (uint64_t) ms;
    if ((rc = fx_test_run_until_idle(vm)) != 0)
        return rc;
    for (;;) {
        /* Relaxed: a hint written under the timers' lock by this thread
         * (the only one that runs handlers); see timers.c. */
        uint64_t next = fxi_atomic_load_relaxed_64(&vm->timers.next_ms);
        if (next > end)
            break;
        if (next > fxi_det_now_ms(d))
            set_clock(d, next);
        if ((rc = drive(vm, 0, NULL)) != 0 || (rc = fx_test_run_until_idle(vm)) != 0)
            return rc;
    }
    set_clock(d, end);
    if ((rc = drive(vm, 0, NULL)) != 0)
        return rc;
    return fx_test_run_until_idle(vm);
}

FX_API int64_t fx_test_now_ms(fx_vm *vm)
{
    if (!vm)
        return FX_EINVAL;
    if (!vm->pool.det)
        return FX_ENOTDET;
    return (int64_t) fxi_det_now_ms(vm->pool.det);
}

FX_API int fx_test_schedule(fx_vm *vm, uint64_t *steps, uint64_t *hash)
{
    if (!vm)
        return FX_EINVAL;
    if (!vm->pool.det)
        return FX_ENOTDET;
    /* Relaxed: snapshots of counters the driver writes. */
    if (steps)
        *steps = fxi_atomic_load_relaxed_64(&vm->pool.det->steps);
    if (hash)
        *hash = fxi_atomic_load_relaxed_64(&vm->pool.det->hash);
    return 0;
}

FX_API uint64_t fx_test_seed(uint64_t dflt)
{
    const char *e = getenv("FX_TEST_SEED");
    if (!e || !*e)
        return dflt;
    char *end = NULL;
    /* Decimal, or hex after 0x: not octal (a zero-padded seed is decimal). */
    bool hex = e[0] == '0' && (e[1] == 'x' || e[1] == 'X');
    const char *digits = hex ? e + 2 : e;
    /* A digit first, and no second "0x": strtoull would also take a sign,
     * blanks, or (base 16) a prefix again. */
    if (!(hex ? isxdigit((unsigned char) *digits) : isdigit((unsigned char) *digits)) ||
        (hex && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')))
        return dflt;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, hex ? 16 : 10);
    return end && *end == '\0' && errno != ERANGE ? (uint64_t) v : dflt;
}
