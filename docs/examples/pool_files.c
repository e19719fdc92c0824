/* Reading files through the blocking pool while other actors keep
 * serving. A loader actor starts one blocking task per file (open/read on
 * a pool thread, never on a scheduler), awaits them all with one deadline
 * and reports; meanwhile the main thread keeps talking to an echo actor.
 * Exits non-zero when an answer is wrong. See docs/tasks.md. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { GO = 1, PING, FILES_READ, FILE_DATA };
#define NFILES 3

/* Runs on a pool thread: reads the whole file named by arg. */
static int read_file(void *arg, fx_msg **result)
{
    FILE *f = fopen(arg, "rb");
    if (!f)
        return 1; /* an application code: "cannot open" */
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (fx_msg_new(FILE_DATA, n, result) != 0)
        return 2;
    memcpy(fx_msg_data_mut(*result), buf, n);
    return 0;
}

typedef struct loader {
    fx_pid report_to;
    char paths[NFILES][64];
    fx_task tasks[NFILES];
    fx_msg *outcomes[NFILES];
    fx_task_many many;
} loader;

static fx_next loader_collect(fx_ctx *cx, fx_msg *m)
{
    loader *s = fx_state(cx);
    int rc = fx_task_many_put(cx, &s->many, m);
    if (rc == 0)
        return fx_task_many_await(cx, &s->many, loader_collect);
    char text[256] = "";
    for (int i = 0; i < NFILES; i++) {
        fx_task_result r;
        if (fx_task_many_result(&s->many, (size_t) i, &r) == 0 &&
            r.kind == FX_TASK_DONE && r.status == 0)
            strncat(text, r.data, r.size < 60 ? r.size : 60);
        else
            strcat(text, "?");
    }
    fx_task_many_fini(&s->many);
    fx_send(cx, s->report_to, FILES_READ, text, strlen(text) + 1);
    return fx_stop(cx, fx_reason_normal());
}

static fx_next loader_go(fx_ctx *cx, fx_msg *m)
{
    (void) m;
    loader *s = fx_state(cx);
    for (int i = 0; i < NFILES; i++) {
        fx_task_opts o = {.fn = read_file, .arg = s->paths[i], .blocking = true};
        if (fx_task_async(cx, &o, &s->tasks[i]) != 0)
            return fx_stop(cx, fx_reason_error(1, "cannot start task %d", i));
    }
    fx_task_many_init(&s->many, s->tasks, s->outcomes, NFILES, 5000);
    return fx_task_many_await(cx, &s->many, loader_collect);
}

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    fx_send(cx, fx_msg_from(m), fx_msg_type(m), fx_msg_data(m), fx_msg_size(m));
    return fx_continue(cx);
}

int main(void)
{
    char dir[] = "/tmp/fauxtp-pool-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    static const char *words[NFILES] = {"alpha ", "beta ", "gamma"};
    loader init = {0};
    for (int i = 0; i < NFILES; i++) {
        snprintf(init.paths[i], sizeof init.paths[i], "%s/f%d", dir, i);
        FILE *f = fopen(init.paths[i], "w");
        if (!f)
            return 1;
        fputs(words[i], f);
        fclose(f);
    }

    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in))
        return 1;
    init.report_to = fx_inbox_pid(in);
    fx_spawn_opts lo = {
        .handler = loader_go, .state_size = sizeof init, .state_init = &init};
    fx_pid loader_pid, echo_pid;
    if (fx_vm_spawn_opt(vm, &lo, &loader_pid) || fx_vm_spawn(vm, echo, NULL, &echo_pid))
        return 1;
    fx_vm_send(vm, loader_pid, GO, NULL, 0);

    /* The echo actor answers while the files are read. */
    int pongs = 0;
    for (int i = 0; i < 100; i++) {
        fx_inbox_send(in, echo_pid, PING, &i, sizeof i);
        fx_match m = {.type = PING, .from = echo_pid};
        fx_msg *r;
        if (fx_inbox_recv(in, &m, 5000, &r) == 0) {
            pongs += *(const int *) fx_msg_data(r) == i;
            fx_msg_free(r);
        }
    }
    fx_match fm = {.type = FILES_READ};
    fx_msg *files;
    int ok = fx_inbox_recv(in, &fm, 5000, &files) == 0;
    char text[256] = "";
    if (ok) {
        snprintf(text, sizeof text, "%s", (const char *) fx_msg_data(files));
        fx_msg_free(files);
    }
    fx_pool_stats st;
    fx_pool_stats_get(vm, &st);
    printf("echo answered %d of 100 pings\n", pongs);
    printf("files: %s\n", text);
    printf("pool: %llu jobs completed, %llu failed\n", (unsigned long long) st.completed,
           (unsigned long long) st.failed);

    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    for (int i = 0; i < NFILES; i++)
        unlink(init.paths[i]);
    rmdir(dir);
    return pongs == 100 && strcmp(text, "alpha beta gamma") == 0 && st.completed == NFILES
               ? 0
               : 1;
}
