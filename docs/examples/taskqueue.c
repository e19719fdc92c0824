/* A task queue whose workers crash at random, and no job is lost (issue
 * 19's third example). The queue (a GenServer registered as "queue")
 * hands jobs out to workers that call GET, monitors each worker holding
 * a job, and puts the job back when the worker dies before reporting it
 * DONE. Four workers run under a named supervisor that restarts them; a
 * worker crashes on a quarter of its jobs. The Erlang version:
 * erlang/taskqueue.erl. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>

enum { GET = 1, DONE, TOTAL, NEXT };
#define N 200
#define WORKERS 4

/* ---- the queue ------------------------------------------------------------ */

typedef struct held {
    fx_pid worker;
    fx_ref mon;
    long job;
} held;

typedef struct queue {
    fx_pid report;
    long pending[N], npending; /* a stack of jobs to hand out */
    held out[WORKERS * 2];     /* jobs handed out, by worker */
    fx_from waiting[WORKERS * 2];
    long nwaiting, done, sum, requeued;
} queue;

static fx_gs_ret q_init(fx_ctx *cx, void *arg, void **state)
{
    queue *q = arg;
    for (long j = 1; j <= N; j++)
        q->pending[q->npending++] = j;
    *state = q;
    return fx_gs_ok(cx);
}

/* Gives job to the caller `to` (0: no more jobs), monitoring it. */
static void hand_out(fx_ctx *cx, queue *q, fx_from to, long job)
{
    for (int i = 0; job && i < WORKERS * 2; i++)
        if (!q->out[i].job) {
            q->out[i] = (held){to.pid, FX_REF_NONE, job};
            fx_monitor(cx, to.pid, &q->out[i].mon);
            break;
        }
    fx_reply(cx, to, &job, sizeof job);
}

static fx_gs_ret q_call(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    (void) type, (void) data, (void) size; /* GET */
    queue *q = state;
    if (q->npending)
        hand_out(cx, q, from, q->pending[--q->npending]);
    else if (q->done == N)
        hand_out(cx, q, from, 0);
    else
        q->waiting[q->nwaiting++] = from; /* answered when a job comes back */
    return fx_gs_noreply(cx);
}

static fx_gs_ret q_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size)
{
    (void) type, (void) size; /* DONE: {job, result} */
    queue *q = state;
    const long *r = data;
    for (int i = 0; i < WORKERS * 2; i++)
        if (q->out[i].job == r[0]) {
            fx_demonitor(cx, q->out[i].mon, FX_DEMONITOR_FLUSH);
            q->out[i].job = 0;
        }
    q->sum += r[1];
    if (++q->done == N) {
        fx_send(cx, q->report, TOTAL, &q->sum, sizeof q->sum);
        while (q->nwaiting)
            hand_out(cx, q, q->waiting[--q->nwaiting], 0);
    }
    return fx_gs_noreply(cx);
}

static fx_gs_ret q_info(fx_ctx *cx, void *state, fx_msg *m)
{
    queue *q = state;
    fx_down_info d;
    if (FX_MSG_READ(m, &d) != 0)
        return fx_gs_noreply(cx);
    for (int i = 0; i < WORKERS * 2; i++)
        if (q->out[i].job && fx_ref_eq(q->out[i].mon, d.ref)) {
            long job = q->out[i].job; /* its worker died: the job goes back */
            q->out[i].job = 0;
            q->requeued++;
            if (q->nwaiting)
                hand_out(cx, q, q->waiting[--q->nwaiting], job);
            else
                q->pending[q->npending++] = job;
        }
    return fx_gs_noreply(cx);
}

static const fx_gs_ops queue_ops = {
    .init = q_init, .handle_call = q_call, .handle_cast = q_cast, .handle_info = q_info};

/* ---- workers ---------------------------------------------------------------- */

static fx_gs_ret w_init(fx_ctx *cx, void *arg, void **state)
{
    (void) arg;
    *state = NULL;
    fx_gs_cast(cx, fx_self(cx), NEXT, NULL, 0);
    return fx_gs_ok(cx);
}

static fx_gs_ret w_next(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size);

static fx_gs_ret got_job(fx_ctx *cx, void *state, const fx_response *res)
{
    long job = res->rc == 0 ? *(const long *) res->data : 0;
    if (job == 0)
        return fx_gs_stop(cx, fx_reason_normal()); /* no more jobs */
    if (rand() % 4 == 0)
        fx_crash(cx, "unlucky with job %ld", job);
    fx_pid q;
    fx_whereis(fx_ctx_vm(cx), "queue", &q);
    long r[2] = {job, 2 * job};
    fx_gs_cast(cx, q, DONE, r, sizeof r);
    return w_next(cx, state, NEXT, NULL, 0);
}

static fx_gs_ret w_next(fx_ctx *cx, void *state, uint32_t type, const void *data,
                        size_t size)
{
    (void) state, (void) type, (void) data, (void) size;
    fx_pid q;
    fx_whereis(fx_ctx_vm(cx), "queue", &q);
    return fx_gs_call_then(cx, q, GET, NULL, 0, FX_INFINITY, got_job, NULL);
}

static const fx_gs_ops worker_ops = {.init = w_init, .handle_cast = w_next};
static const fx_gs_spec worker_spec = {.ops = &worker_ops};
static const fx_child_spec workers[WORKERS] = {
    {.id = "w1",
     .start = fx_child_gen_server,
     .carg = &worker_spec,
     .restart = FX_TRANSIENT},
    {.id = "w2",
     .start = fx_child_gen_server,
     .carg = &worker_spec,
     .restart = FX_TRANSIENT},
    {.id = "w3",
     .start = fx_child_gen_server,
     .carg = &worker_spec,
     .restart = FX_TRANSIENT},
    {.id = "w4",
     .start = fx_child_gen_server,
     .carg = &worker_spec,
     .restart = FX_TRANSIENT},
};

int main(void)
{
    fx_crash_capture *crashes;
    fx_vm *vm;
    fx_inbox *me;
    if (fx_crash_capture_create(&crashes) || fx_test_vm_create(NULL, crashes, &vm) ||
        fx_inbox_create(vm, &me))
        return 1;
    static queue q;
    q.report = fx_inbox_pid(me);
    fx_gs_spec qs = {.ops = &queue_ops, .arg = &q, .name = "queue"};
    fx_sup_spec ss;
    fx_sup_spec_init(&ss);
    ss.children = workers;
    ss.nchildren = WORKERS;
    ss.intensity = 1000; /* crashes are the point here */
    ss.name = "workers";
    fx_pid qp, sup;
    if (fx_gs_start(me, &qs, &qp, NULL) || fx_sup_start(me, &ss, &sup, NULL))
        return 1;
    fx_msg *m = NULL;
    long total = -1;
    if (fx_inbox_recv(me, &(fx_match){.type = TOTAL}, 30000, &m) == 0)
        total = *(const long *) fx_msg_data(m);
    fx_msg_free(m);
    int crashed = fx_crash_capture_count(crashes);
    printf("all %d jobs done: %s\n", N, total == (long) N * (N + 1) ? "yes" : "NO");
    printf("workers crashed: %s\n", crashed > 0 ? "yes, and no job was lost" : "no");
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    fx_crash_capture_destroy(crashes);
    return total == (long) N * (N + 1) && crashed > 0 ? 0 : 1;
}
