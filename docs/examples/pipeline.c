/* A pipeline (issue 19's second example): a producer sends the numbers
 * 1..N through three processors, calling them round-robin (each call
 * squares its number), and casts each result to a consumer, which adds
 * them up and reports the total when it has all N. The producer makes its
 * calls from inside its callbacks (fx_gs_call_then), one at a time, so
 * the results arrive in order. The Erlang version: erlang/pipeline.erl. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>

enum { SQUARE = 1, ADD, RUN, TOTAL };
#define N 1000

static fx_gs_ret keep_arg(fx_ctx *cx, void *arg, void **state)
{
    *state = arg;
    return fx_gs_ok(cx);
}

/* ---- processors: square what they are called with ------------------------ */

static fx_gs_ret square(fx_ctx *cx, void *state, fx_from from, uint32_t type,
                        const void *data, size_t size)
{
    (void) state, (void) from, (void) type, (void) size;
    long v = *(const long *) data;
    v *= v;
    return fx_gs_reply(cx, &v, sizeof v);
}

static const fx_gs_ops processor_ops = {.init = keep_arg, .handle_call = square};

/* ---- consumer: adds, reports the total to `report` after N items -------- */

typedef struct consumer {
    fx_pid report;
    long sum, count;
} consumer;

static fx_gs_ret add(fx_ctx *cx, void *state, uint32_t type, const void *data,
                     size_t size)
{
    (void) type, (void) size;
    consumer *c = state;
    c->sum += *(const long *) data;
    if (++c->count == N)
        fx_send(cx, c->report, TOTAL, &c->sum, sizeof c->sum);
    return fx_gs_noreply(cx);
}

static const fx_gs_ops consumer_ops = {.init = keep_arg, .handle_cast = add};

/* ---- producer: round-robin calls, results cast on ------------------------ */

typedef struct producer {
    fx_pid processors[3], consumer;
    long next; /* the number being processed */
} producer;

static fx_gs_ret send_next(fx_ctx *cx, producer *p);

static fx_gs_ret got(fx_ctx *cx, void *state, const fx_response *res)
{
    producer *p = state;
    if (res->rc != 0)
        return fx_gs_stop(cx, fx_reason_error(res->rc, "processor call failed"));
    fx_gs_cast(cx, p->consumer, ADD, res->data, res->size);
    p->next++;
    return send_next(cx, p);
}

static fx_gs_ret send_next(fx_ctx *cx, producer *p)
{
    if (p->next > N)
        return fx_gs_noreply(cx);
    fx_pid to = p->processors[p->next % 3];
    return fx_gs_call_then(cx, to, SQUARE, &p->next, sizeof p->next, 5000, got, NULL);
}

static fx_gs_ret run(fx_ctx *cx, void *state, uint32_t type, const void *data,
                     size_t size)
{
    (void) type, (void) data, (void) size;
    producer *p = state;
    p->next = 1;
    return send_next(cx, p);
}

static const fx_gs_ops producer_ops = {.init = keep_arg, .handle_cast = run};

int main(void)
{
    fx_vm *vm;
    fx_inbox *me;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me))
        return 1;
    producer prod = {.next = 0};
    consumer cons = {.report = fx_inbox_pid(me)};
    fx_gs_spec ps = {.ops = &processor_ops};
    fx_gs_spec cs = {.ops = &consumer_ops, .arg = &cons};
    fx_gs_spec rs = {.ops = &producer_ops, .arg = &prod};
    fx_pid producer_pid;
    for (int i = 0; i < 3; i++)
        if (fx_gs_start(me, &ps, &prod.processors[i], NULL) != 0)
            return 1;
    if (fx_gs_start(me, &cs, &prod.consumer, NULL) ||
        fx_gs_start(me, &rs, &producer_pid, NULL))
        return 1;
    fx_vm_gs_cast(vm, producer_pid, RUN, NULL, 0);
    fx_msg *m = NULL;
    long total = -1;
    if (fx_inbox_recv(me, &(fx_match){.type = TOTAL}, 10000, &m) == 0)
        total = *(const long *) fx_msg_data(m);
    fx_msg_free(m);
    printf("sum of squares 1..%d = %ld\n", N, total);
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return total == (long) N * (N + 1) * (2 * N + 1) / 6 ? 0 : 1;
}
