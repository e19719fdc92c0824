/* A pipeline (issue 19's second example): a producer sends the numbers
 * 1..N through three processors, calling them round-robin (each call
 * squares its number), and casts each result to a consumer, which adds
 * them up and reports the total when it has all N. The producer makes its
 * calls from inside its callbacks (fx_gs_call_then), one at a time, so
 * the results arrive in order. No server has an init: each one's state
 * is its spec's arg. The Erlang version: erlang/pipeline.erl. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>

enum { SQUARE = 1, ADD, RUN, TOTAL };
#define N 1000

/* ---- processors: square what they are called with ------------------------ */

static fx_gs_ret square(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    (void) state, (void) from, (void) type;
    long v = *FX_DATA_AS(cx, data, size, long);
    return FX_GS_REPLY_T(cx, (long){v * v});
}

static const fx_gs_ops processor_ops = {.init = fx_gs_init_arg, .handle_call = square};

/* ---- consumer: adds, reports the total to `report` after N items -------- */

typedef struct consumer {
    fx_pid report;
    long sum, count;
} consumer;

static fx_gs_ret add(fx_ctx *cx, void *state, uint32_t type, const void *data,
                     size_t size)
{
    (void) type;
    consumer *c = state;
    c->sum += *FX_DATA_AS(cx, data, size, long);
    if (++c->count == N)
        FX_SEND_T(cx, c->report, TOTAL, c->sum);
    return fx_gs_noreply(cx);
}

static const fx_gs_ops consumer_ops = {.init = fx_gs_init_arg, .handle_cast = add};

/* ---- producer: round-robin calls, results cast on ------------------------ */

typedef struct producer {
    fx_pid procs[3], consumer;
    long next; /* the number being processed */
} producer;

/* Casts a processor's result on (none on RUN) and calls the next one. */
static fx_gs_ret next(fx_ctx *cx, void *state, const fx_response *res)
{
    producer *p = state;
    if (res && res->rc != 0)
        return fx_gs_stop(cx, fx_reason_error(res->rc, "processor call failed"));
    if (res) /* a cast that cannot be delivered shows as a missing total in main */
        (void) fx_gs_cast(cx, p->consumer, ADD, res->data, res->size);
    if (++p->next > N)
        return fx_gs_noreply(cx);
    fx_pid to = p->procs[p->next % 3];
    return fx_gs_call_then(cx, to, SQUARE, &p->next, sizeof p->next, 5000, next, NULL);
}

static fx_gs_ret run(fx_ctx *cx, void *state, uint32_t type, const void *data,
                     size_t size)
{
    (void) type, (void) data, (void) size; /* RUN */
    return next(cx, state, NULL);
}

static const fx_gs_ops producer_ops = {.init = fx_gs_init_arg, .handle_cast = run};

int main(void)
{
    fx_vm *vm;
    fx_inbox *me;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me))
        return 1;
    producer prod = {.next = 0};
    consumer cons = {.report = fx_inbox_pid(me)};
    fx_pid pid;
    for (int i = 0; i < 3; i++)
        if (fx_gs_start(me, &(fx_gs_spec){.ops = &processor_ops}, &prod.procs[i], NULL))
            return 1;
    if (fx_gs_start(me, &(fx_gs_spec){.ops = &consumer_ops, .arg = &cons}, &prod.consumer,
                    NULL) ||
        fx_gs_start(me, &(fx_gs_spec){.ops = &producer_ops, .arg = &prod}, &pid, NULL) ||
        fx_vm_gs_cast(vm, pid, RUN, NULL, 0))
        return 1;
    long total = -1;
    (void) FX_INBOX_RECV_T(me, &(fx_match){.type = TOTAL}, 10000, &total);
    printf("sum of squares 1..%d = %ld\n", N, total);
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return total == (long) N * (N + 1) * (2 * N + 1) / 6 ? 0 : 1;
}
