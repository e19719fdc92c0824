/* dlopen_test LIBFAUXTP.so [CYCLES [ALLOCATOR]]: loads the library with dlopen, uses
 * a VM (spawn, send, receive, a registry read from a second thread), then
 * destroys the VM and unloads the library, CYCLES times. Checks that each
 * unload really unmaps the library and leaves nothing behind: the reader
 * thread outlives the unload and exits afterwards (a thread-specific-data
 * destructor left in the unmapped library would crash it), the process
 * has as many threads as before, the fault handlers (trap_faults) are
 * the program's again, and fork() still works (no atfork handler left).
 * With ALLOCATOR, fx_allocator_name must answer it ("jemalloc" when the
 * test runs with jemalloc preloaded). Exit status 0 when all holds;
 * prints what failed otherwise. */
#include <fauxtp/fauxtp.h>

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAIL(...)                                                                        \
    do {                                                                                 \
        fprintf(stderr, "dlopen_test: " __VA_ARGS__);                                    \
        fputc('\n', stderr);                                                             \
        exit(1);                                                                         \
    } while (0)

#define API(X)                                                                           \
    X(fx_vm_config_init)                                                                 \
    X(fx_vm_create)                                                                      \
    X(fx_vm_start)                                                                       \
    X(fx_vm_destroy)                                                                     \
    X(fx_inbox_create)                                                                   \
    X(fx_inbox_destroy)                                                                  \
    X(fx_inbox_pid)                                                                      \
    X(fx_inbox_send)                                                                     \
    X(fx_inbox_recv)                                                                     \
    X(fx_vm_spawn)                                                                       \
    X(fx_register)                                                                       \
    X(fx_whereis)                                                                        \
    X(fx_msg_free)                                                                       \
    X(fx_msg_data)                                                                       \
    X(fx_msg_type)                                                                       \
    X(fx_msg_from)                                                                       \
    X(fx_send)                                                                           \
    X(fx_continue)                                                                       \
    X(fx_allocator_name)

static struct {
#define FIELD(f) __typeof__(f) *f;
    API(FIELD)
#undef FIELD
} api;

enum { PING = 1, PONG };

/* Lives in this program, not in the library: echoes PING as PONG. */
static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    if (api.fx_msg_type(m) == PING)
        api.fx_send(cx, api.fx_msg_from(m), PONG, api.fx_msg_data(m), sizeof(int));
    return api.fx_continue(cx);
}

typedef struct {
    fx_vm *vm;
    fx_pid expect;
    int found; /* 1: whereis answered the registered pid */
    int release[2];
} reader_arg;

/* Reads the registry once, then waits past the VM's destruction and the
 * library's unload before it exits. */
static void *reader(void *p)
{
    reader_arg *a = p;
    fx_pid got;
    a->found = api.fx_whereis(a->vm, "echo", &got) == 0 && got.id == a->expect.id;
    char c;
    if (read(a->release[0], &c, 1) != 1)
        a->found = 0;
    return NULL;
}

static int task_count(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (!d)
        FAIL("opendir /proc/self/task");
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int mapped(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int hit = 0;
    if (!f)
        FAIL("fopen /proc/self/maps");
    while (fgets(line, sizeof line, f))
        hit |= strstr(line, name) != NULL;
    fclose(f);
    return hit;
}

static void handler_of(int signo, struct sigaction *out)
{
    if (sigaction(signo, NULL, out) != 0)
        FAIL("sigaction");
}

static const char *want_alloc;

static void cycle(const char *path, int i)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        FAIL("cycle %d: dlopen: %s", i, dlerror());
#define LOOKUP(f)                                                                        \
    if (!(*(void **) &api.f = dlsym(h, #f)))                                             \
        FAIL("dlsym %s: %s", #f, dlerror());
    API(LOOKUP)
#undef LOOKUP
    if (want_alloc && strcmp(api.fx_allocator_name(), want_alloc) != 0)
        FAIL("allocator %s, want %s", api.fx_allocator_name(), want_alloc);

    fx_vm_config cfg;
    api.fx_vm_config_init(&cfg);
    cfg.threads = 2;
    cfg.trap_faults = true;
    fx_vm *vm;
    fx_inbox *me;
    fx_pid e;
    if (api.fx_vm_create(&cfg, &vm) || api.fx_vm_start(vm) ||
        api.fx_inbox_create(vm, &me))
        FAIL("cycle %d: VM start", i);
    if (api.fx_vm_spawn(vm, echo, NULL, &e) || api.fx_register(me, "echo", e, NULL))
        FAIL("cycle %d: spawn/register", i);

    reader_arg ra = {.vm = vm, .expect = e};
    pthread_t t;
    if (pipe(ra.release) || pthread_create(&t, NULL, reader, &ra))
        FAIL("pipe/pthread_create");

    for (int k = 0; k < 100; k++) {
        fx_msg *r;
        if (api.fx_inbox_send(me, e, PING, &k, sizeof k) ||
            api.fx_inbox_recv(me, &(fx_match){.type = PONG}, 10000, &r))
            FAIL("cycle %d: ping %d", i, k);
        int got = *(const int *) api.fx_msg_data(r);
        api.fx_msg_free(r);
        if (got != k)
            FAIL("cycle %d: pong %d, want %d", i, got, k);
    }

    /* The reader has read the registry (whereis answers at once). */
    while (__atomic_load_n(&ra.found, __ATOMIC_ACQUIRE) == 0)
        usleep(1000);
    api.fx_inbox_destroy(me);
    api.fx_vm_destroy(vm);
    if (dlclose(h) != 0)
        FAIL("dlclose: %s", dlerror());
    if (mapped("libfauxtp"))
        FAIL("cycle %d: the library is still mapped after dlclose", i);

    /* Now the reader exits, with the library gone. */
    if (write(ra.release[1], "x", 1) != 1 || pthread_join(t, NULL))
        FAIL("release reader");
    close(ra.release[0]);
    close(ra.release[1]);
    if (!ra.found)
        FAIL("cycle %d: whereis from a second thread did not find the name", i);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        FAIL("usage: dlopen_test LIBFAUXTP.so [CYCLES]");
    int cycles = argc > 2 ? atoi(argv[2]) : 5;
    want_alloc = argc > 3 ? argv[3] : NULL;
    struct sigaction segv0, bus0, segv1, bus1;
    handler_of(SIGSEGV, &segv0);
    handler_of(SIGBUS, &bus0);
    int tasks0 = task_count();

    for (int i = 0; i < cycles; i++) {
        cycle(argv[1], i);
        int tasks = task_count();
        if (tasks != tasks0)
            FAIL("cycle %d: %d threads after unload, %d before", i, tasks, tasks0);
        handler_of(SIGSEGV, &segv1);
        handler_of(SIGBUS, &bus1);
        if (segv1.sa_handler != segv0.sa_handler || bus1.sa_handler != bus0.sa_handler)
            FAIL("cycle %d: fault handlers not restored", i);
    }

    pid_t child = fork();
    if (child < 0)
        FAIL("fork");
    if (child == 0)
        _exit(0);
    int st;
    if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        FAIL("fork after unload: child status %d", st);
    printf("ok: %d dlopen/use/dlclose cycles%s%s\n", cycles,
           want_alloc ? ", allocator " : "", want_alloc ? want_alloc : "");
    return 0;
}
