/* Stress: shutdown racing shutdown, and destroy racing shutdown (defects
 * 4 and 5 of issue 13). Each round starts a VM with busy actors, then
 * either several threads call fx_vm_shutdown at once while another waits
 * forever on an inbox (every shutdown must return 0, none before the stop
 * hook has finished, and the waiter must get FX_ESHUTDOWN), or one thread
 * shuts down while another calls fx_vm_destroy as soon as the shutdown
 * is under way (the free hook must run after the stop hook), or outside
 * threads destroy their inboxes while another thread shuts the VM down
 * (the shutdown frees every process while those inboxes free their own:
 * neither may touch what the other frees). Runs as a
 * plain program (exit status) so it can run under ThreadSanitizer.
 * Argument: rounds. */
#include <fauxtp/fauxtp.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SHUTTERS = 3 };

typedef struct round {
    fx_vm *vm;
    int entered;   /* atomic: the stop hook has begun */
    int stop_done; /* atomic: the stop hook has ended */
    int free_ok;   /* written by the free hook */
    int go;        /* atomic: start line for the shutters */
    int rc[SHUTTERS];
    int early[SHUTTERS]; /* a call returned before the stop hook ended */
} round;

static fx_next spinner(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    fx_send(cx, fx_self(cx), 1, NULL, 0); /* keeps its scheduler busy */
    return fx_continue(cx);
}

static void stop_hook(fx_vm *vm, void *value)
{
    (void) vm;
    round *r = value;
    __atomic_store_n(&r->entered, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 10; i++)
        sched_yield(); /* widens the window for the racing calls */
    __atomic_store_n(&r->stop_done, 1, __ATOMIC_RELEASE);
}

static void free_hook(fx_vm *vm, void *value)
{
    (void) vm;
    round *r = value;
    r->free_ok = __atomic_load_n(&r->stop_done, __ATOMIC_ACQUIRE);
}

typedef struct shutter {
    round *r;
    int i;
} shutter;

static void *shut(void *p)
{
    shutter *s = p;
    while (!__atomic_load_n(&s->r->go, __ATOMIC_ACQUIRE))
        sched_yield();
    s->r->rc[s->i] = fx_vm_shutdown(s->r->vm);
    s->r->early[s->i] = !__atomic_load_n(&s->r->stop_done, __ATOMIC_ACQUIRE);
    return NULL;
}

static int start(round *r)
{
    memset(r, 0, sizeof *r);
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    fx_vm_hooks h = {.stop = stop_hook, .free = free_hook};
    if (fx_vm_create(&c, &r->vm) || fx_vm_start(r->vm) || fx_vm_attach(r->vm, r, r, &h))
        return -1;
    for (int i = 0; i < 2; i++) {
        fx_pid p;
        if (fx_vm_spawn(r->vm, spinner, NULL, &p) || fx_vm_send(r->vm, p, 1, NULL, 0))
            return -1;
    }
    return 0;
}

static void *wait_forever(void *p)
{
    fx_msg *m = NULL;
    int rc = fx_inbox_recv(p, NULL, FX_INFINITY, &m);
    fx_msg_free(m);
    return (void *) (intptr_t) rc;
}

/* Several shutdowns at once: all return 0, none before the work is done;
 * a thread waiting forever on an inbox gets FX_ESHUTDOWN (defect 5). */
static int concurrent_shutdowns(void)
{
    round r;
    if (start(&r))
        return -1;
    fx_inbox *in;
    pthread_t wt;
    if (fx_inbox_create(r.vm, &in) || pthread_create(&wt, NULL, wait_forever, in))
        return -1;
    pthread_t th[SHUTTERS];
    shutter s[SHUTTERS];
    for (int i = 0; i < SHUTTERS; i++) {
        s[i] = (shutter){&r, i};
        pthread_create(&th[i], NULL, shut, &s[i]);
    }
    __atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
    int bad = 0;
    for (int i = 0; i < SHUTTERS; i++) {
        pthread_join(th[i], NULL);
        if (r.rc[i] != 0 || r.early[i])
            bad = 1;
    }
    void *wrc;
    pthread_join(wt, &wrc);
    if ((intptr_t) wrc != FX_ESHUTDOWN)
        bad = 1;
    fx_inbox_destroy(in);
    fx_vm_destroy(r.vm);
    return bad || !r.free_ok ? -1 : 0;
}

/* Destroy while another thread is inside fx_vm_shutdown. */
static int destroy_during_shutdown(void)
{
    round r;
    if (start(&r))
        return -1;
    pthread_t th;
    shutter s = {&r, 0};
    pthread_create(&th, NULL, shut, &s);
    __atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&r.entered, __ATOMIC_ACQUIRE))
        sched_yield();
    fx_vm_destroy(r.vm);
    int ok = r.free_ok;
    pthread_join(th, NULL);
    return ok && r.rc[0] == 0 ? 0 : -1;
}

enum { DESTROYERS = 4 };

typedef struct destroyer {
    round *r;
    fx_inbox *in;
    int rc;
} destroyer;

static void *destroy_inbox(void *p)
{
    destroyer *d = p;
    while (!__atomic_load_n(&d->r->go, __ATOMIC_ACQUIRE))
        sched_yield();
    d->rc = fx_inbox_destroy(d->in);
    return NULL;
}

/* fx_inbox_destroy on several threads while another shuts the VM down. */
static int inbox_destroy_during_shutdown(int i)
{
    round r;
    if (start(&r))
        return -1;
    destroyer d[DESTROYERS];
    pthread_t th[DESTROYERS], st;
    for (int k = 0; k < DESTROYERS; k++) {
        d[k] = (destroyer){&r, NULL, -1};
        if (fx_inbox_create(r.vm, &d[k].in))
            return -1;
        /* Something queued, so the teardown has a mailbox to discard. */
        fx_vm_send(r.vm, fx_inbox_pid(d[k].in), 1, "x", 1);
    }
    shutter s = {&r, 0};
    /* Half the rounds let the destroyers start first, half the shutdown. */
    if (i % 2)
        pthread_create(&st, NULL, shut, &s);
    for (int k = 0; k < DESTROYERS; k++)
        pthread_create(&th[k], NULL, destroy_inbox, &d[k]);
    if (!(i % 2))
        pthread_create(&st, NULL, shut, &s);
    __atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
    int bad = 0;
    for (int k = 0; k < DESTROYERS; k++) {
        pthread_join(th[k], NULL);
        if (d[k].rc != 0)
            bad = 1;
    }
    pthread_join(st, NULL);
    if (r.rc[0] != 0)
        bad = 1;
    fx_vm_destroy(r.vm);
    return bad ? -1 : 0;
}

/* A stop hook that waits for a thread which destroys its inbox: the
 * teardown must not wait for the shutdown that waits for it. */
typedef struct hooked {
    fx_inbox *in;
    pthread_t th;
    int go, rc;
} hooked;

static void *destroy_when_told(void *p)
{
    hooked *h = p;
    while (!__atomic_load_n(&h->go, __ATOMIC_ACQUIRE))
        sched_yield();
    h->rc = fx_inbox_destroy(h->in);
    return NULL;
}

static void joining_hook(fx_vm *vm, void *value)
{
    (void) vm;
    hooked *h = value;
    __atomic_store_n(&h->go, 1, __ATOMIC_RELEASE);
    pthread_join(h->th, NULL);
}

static int hook_waits_for_inbox_destroy(void)
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    fx_vm *vm;
    hooked h = {.rc = -1};
    fx_vm_hooks hooks = {.stop = joining_hook};
    if (fx_vm_create(&c, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &h.in) ||
        pthread_create(&h.th, NULL, destroy_when_told, &h) ||
        fx_vm_attach(vm, &h, &h, &hooks))
        return -1;
    int rc = fx_vm_shutdown(vm);
    fx_vm_destroy(vm);
    return rc == 0 && h.rc == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    for (int i = 0; i < rounds; i++) {
        if (concurrent_shutdowns() != 0) {
            fprintf(stderr, "round %d: concurrent shutdowns misbehaved\n", i);
            return 1;
        }
        if (destroy_during_shutdown() != 0) {
            fprintf(stderr, "round %d: destroy during shutdown misbehaved\n", i);
            return 1;
        }
        if (i % 10 == 0 && hook_waits_for_inbox_destroy() != 0) {
            fprintf(stderr,
                    "round %d: a stop hook waiting for an inbox teardown misbehaved\n",
                    i);
            return 1;
        }
        if (inbox_destroy_during_shutdown(i) != 0) {
            fprintf(stderr, "round %d: inbox destroy during shutdown misbehaved\n", i);
            return 1;
        }
    }
    printf("shutdown_stress: %d rounds ok\n", rounds);
    return 0;
}
