/* A task queue whose workers crash at random, and no job is lost (issue
 * 19's third example). The queue (a GenServer registered as "queue")
 * hands jobs out to workers that call GET (or DONE with a result, which
 * is answered with the next job too), monitors each worker holding a
 * job, and puts the job back when the worker dies before reporting it
 * DONE. Four workers run under a named dynamic supervisor that restarts
 * them; a worker crashes on a quarter of its jobs. The Erlang version:
 * erlang/taskqueue.erl. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>

enum { GET = 1, DONE, TOTAL };
#define N 200
#define WORKERS 4

typedef struct result {
    long job, value;
} result;

/* ---- the queue: its state is its spec's arg (fx_gs_init_arg) ---------------- */

typedef struct queue {
    fx_pid report;
    long pending[N], npending; /* jobs to hand out (a stack) */
    fx_ref mon[N + 1];         /* a job handed out: its worker's monitor */
    fx_from waiting[WORKERS];  /* calls waiting for a job */
    long nwaiting, requeued;   /* main reads requeued after TOTAL: no more writes */
    result total;              /* job: jobs done; value: their sum */
} queue;

/* Answers a caller with job (0: no more jobs), monitoring a worker that
 * takes one. */
static void hand_out(fx_ctx *cx, queue *q, fx_from to, long job)
{
    if (job && fx_monitor(cx, to.pid, &q->mon[job]) != 0)
        fx_crash(cx, "cannot monitor a worker");
    fx_reply(cx, to, &job, sizeof job); /* a worker gone is seen by the monitor */
}

/* Answers the waiting callers: a job each while there are jobs, 0 once
 * all are done. */
static void serve(fx_ctx *cx, queue *q)
{
    while (q->nwaiting && (q->npending || q->total.job == N))
        hand_out(cx, q, q->waiting[--q->nwaiting],
                 q->npending ? q->pending[--q->npending] : 0);
}

/* GET, or DONE {job, value} (a job finished): either way the caller
 * waits for its next job. */
static fx_gs_ret q_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    queue *q = state;
    if (type == DONE) {
        result r = *FX_DATA_AS(cx, data, size, result);
        if (r.job < 1 || r.job > N || fx_demonitor(cx, q->mon[r.job], FX_DEMONITOR_FLUSH))
            fx_crash(cx, "job %ld was not handed out", r.job);
        q->total.job++;
        q->total.value += r.value;
        if (q->total.job == N)
            FX_SEND_T(cx, q->report, TOTAL, q->total);
    }
    q->waiting[q->nwaiting++] = from; /* at most one call per worker */
    serve(cx, q);
    return fx_gs_noreply(cx);
}

static fx_gs_ret q_info(fx_ctx *cx, void *state, fx_msg *m)
{
    queue *q = state;
    for (long job = 1; job <= N && fx_msg_type(m) == FX_MSG_DOWN; job++)
        if (fx_ref_eq(q->mon[job], fx_msg_ref(m))) {
            q->requeued++; /* its worker died: the job goes back */
            q->pending[q->npending++] = job;
        }
    serve(cx, q);
    return fx_gs_noreply(cx);
}

static const fx_gs_ops queue_ops = {
    .init = fx_gs_init_arg, .handle_call = q_call, .handle_info = q_info};

/* ---- workers: plain actors calling the queue by name ------------------------- */

static fx_next got_job(fx_ctx *cx, fx_msg *m)
{
    long job;
    int rc = FX_GS_CALL_RESULT_T(cx, m, &job);
    if (rc != 0)
        return fx_stop(cx, fx_reason_error(rc, "no queue"));
    if (job == 0)
        return fx_stop(cx, fx_reason_normal()); /* no more jobs */
    if (rand() % 4 == 0)
        fx_crash(cx, "unlucky with job %ld", job);
    result r = {job, 2 * job};
    return fx_gs_call_named_async(cx, "queue", DONE, &r, sizeof r, FX_INFINITY, got_job);
}

static fx_next work(fx_ctx *cx, void *arg)
{
    (void) arg;
    return fx_gs_call_named_async(cx, "queue", GET, NULL, 0, FX_INFINITY, got_job);
}

static const fx_spawn_opts worker_opts = {.init = work};
static const fx_child_spec worker = {
    .start = fx_child_actor, .carg = &worker_opts, .restart = FX_TRANSIENT};

int main(void)
{
    static queue q;
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.log_level = FX_LOG_OFF; /* the crashes are the point */
    fx_vm *vm;
    fx_inbox *me;
    if (fx_vm_create(&cfg, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me))
        return 1;
    q.report = fx_inbox_pid(me);
    for (long j = 1; j <= N; j++)
        q.pending[q.npending++] = j;
    fx_sup_spec ss = {.strategy = FX_SIMPLE_ONE_FOR_ONE,
                      .intensity = 1000,
                      .period_ms = 1000,
                      .children = &worker,
                      .nchildren = 1,
                      .name = "workers"}; /* crashes are the point here */
    fx_gs_spec qs = {.ops = &queue_ops, .arg = &q, .name = "queue"};
    fx_pid sup;
    if (fx_gs_start(me, &qs, NULL, NULL) || fx_sup_start(me, &ss, &sup, NULL))
        return 1;
    for (int i = 0; i < WORKERS; i++)
        if (fx_sup_start_child_args(me, sup, NULL, 0, 1000, NULL, NULL) != 0)
            return 1;
    result total = {0};
    (void) FX_INBOX_RECV_T(me, &(fx_match){.type = TOTAL}, 30000, &total);
    bool all = total.job == N && total.value == (long) N * (N + 1);
    printf("all %d jobs done: %s\n", N, all ? "true" : "false");
    printf("jobs put back after a crash: %s\n", q.requeued ? "true" : "false");
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return all && q.requeued ? 0 : 1;
}
