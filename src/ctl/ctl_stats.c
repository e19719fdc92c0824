/* VM totals as JSON and as Prometheus text; see ctl_stats.h. One table
 * drives both, so a figure cannot be in one and missing from the other
 * (docs/observability.md has the same table for readers). */
#include "ctl/ctl_stats.h"

#include <fauxtp/control.h>
#include <fauxtp/error.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "mem/alloc.h"

enum kind { GAUGE, COUNTER };

typedef struct figure {
    const char *json;   /* key in `stats` ("pool." prefix: the pool object) */
    const char *metric; /* Prometheus family (counters end in _total) */
    const char *label;  /* the sample's labels ("reason=\"full\""), or NULL */
    enum kind kind;
    size_t off; /* of a uint64_t in fxi_ctl_totals */
    const char *help;
} figure;

#define VM_(f) offsetof(fxi_ctl_totals, vm) + offsetof(fx_vm_stats, f)
#define POOL_(f) offsetof(fxi_ctl_totals, pool) + offsetof(fx_pool_stats, f)
#define DROPPED_HELP                                                                     \
    "Messages dropped, by reason: the target was dead, or its mailbox was full."
#define EXITS_HELP                                                                       \
    "Processes that exited, by reason kind (other: error, noproc, timeout)."

/* Samples of one family are consecutive. */
static const figure figures[] = {
    {"processes", "fauxtp_processes", NULL, GAUGE, VM_(processes), "Live processes."},
    {"spawned", "fauxtp_processes_spawned_total", NULL, COUNTER, VM_(spawned),
     "Processes spawned since the VM was created."},
    {"exits_normal", "fauxtp_process_exits_total", "reason=\"normal\"", COUNTER,
     VM_(exits_normal), EXITS_HELP},
    {"exits_shutdown", "fauxtp_process_exits_total", "reason=\"shutdown\"", COUNTER,
     VM_(exits_shutdown), EXITS_HELP},
    {"exits_killed", "fauxtp_process_exits_total", "reason=\"killed\"", COUNTER,
     VM_(exits_killed), EXITS_HELP},
    {"exits_other", "fauxtp_process_exits_total", "reason=\"other\"", COUNTER,
     VM_(exits_other), EXITS_HELP},
    {"restarts", "fauxtp_supervisor_restarts_total", NULL, COUNTER, VM_(restarts),
     "Children restarted by supervisors."},
    {"messages_sent", "fauxtp_messages_sent_total", NULL, COUNTER, VM_(messages_sent),
     "Messages and signals delivered to mailboxes."},
    {"messages_dropped", NULL, NULL, COUNTER, VM_(messages_dropped), NULL},
    {"dropped_noproc", "fauxtp_messages_dropped_total", "reason=\"noproc\"", COUNTER,
     VM_(dropped_noproc), DROPPED_HELP},
    {"dropped_full", "fauxtp_messages_dropped_total", "reason=\"mailbox_full\"", COUNTER,
     VM_(dropped_full), DROPPED_HELP},
    {"run_queue", "fauxtp_run_queue", NULL, GAUGE, VM_(run_queue),
     "Runnable processes queued on all scheduler threads."},
    {"steals", "fauxtp_scheduler_steals_total", NULL, COUNTER, VM_(steals),
     "Runnable processes a scheduler thread took from another."},
    {"parks", "fauxtp_scheduler_parks_total", NULL, COUNTER, VM_(parks),
     "Times a scheduler thread went to sleep for want of work."},
    {"stuck", "fauxtp_stuck_handlers_total", NULL, COUNTER, VM_(stuck),
     "Handler calls the watchdog reported as stuck."},
    {"spares_started", "fauxtp_spare_threads_started_total", NULL, COUNTER,
     VM_(spares_started), "Spare scheduler threads the watchdog started."},
    {"pool.threads", "fauxtp_pool_threads", NULL, GAUGE, POOL_(threads),
     "Blocking-pool threads alive."},
    {"pool.idle", "fauxtp_pool_threads_idle", NULL, GAUGE, POOL_(idle),
     "Blocking-pool threads waiting for a job."},
    {"pool.queued", "fauxtp_pool_jobs_queued", NULL, GAUGE, POOL_(queued),
     "Blocking-pool jobs waiting in the queue."},
    {"pool.running", "fauxtp_pool_jobs_running", NULL, GAUGE, POOL_(running),
     "Blocking-pool jobs running."},
    {"pool.completed", "fauxtp_pool_jobs_completed_total", NULL, COUNTER,
     POOL_(completed), "Blocking-pool jobs whose function returned."},
    {"pool.failed", "fauxtp_pool_jobs_failed_total", NULL, COUNTER, POOL_(failed),
     "Blocking-pool jobs whose function returned an error."},
    {"pool.rejected", "fauxtp_pool_jobs_rejected_total", NULL, COUNTER, POOL_(rejected),
     "Blocking-pool submissions refused because the queue was full."},
    {"pool.cancelled", "fauxtp_pool_jobs_cancelled_total", NULL, COUNTER,
     POOL_(cancelled), "Queued blocking-pool jobs dropped by VM shutdown."},
};
#define NFIG (sizeof figures / sizeof figures[0])

/* Per-scheduler figures: JSON keys of each "schedulers" entry, and
 * families with a scheduler="N" label. */
typedef struct sfigure {
    const char *json;
    const char *metric;
    enum kind kind;
    size_t off; /* of a uint64_t in fx_sched_stats */
    const char *help;
} sfigure;

#define S_(f) offsetof(fx_sched_stats, f)

static const sfigure sfigures[] = {
    {"run_queue", "fauxtp_scheduler_run_queue", GAUGE, S_(run_queue),
     "Runnable processes waiting on the scheduler thread."},
    {"runs", "fauxtp_scheduler_runs_total", COUNTER, S_(runs),
     "Actor runs (each up to a batch of messages) on the scheduler thread."},
    {"messages_sent", "fauxtp_scheduler_messages_sent_total", COUNTER, S_(messages_sent),
     "Sends from handlers on the scheduler thread."},
    {"busy_ns", "fauxtp_scheduler_busy_seconds_total", COUNTER, S_(busy_ns),
     "Time inside actor runs, while handler timing is on."},
    {"parked_ns", "fauxtp_scheduler_parked_seconds_total", COUNTER, S_(parked_ns),
     "Time asleep for want of work, while handler timing is on."},
};
#define NSFIG (sizeof sfigures / sizeof sfigures[0])

static uint64_t at(const void *base, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *) base + off, sizeof v);
    return v;
}

int fxi_ctl_totals_get(fx_vm *vm, fxi_ctl_totals *t)
{
    memset(t, 0, sizeof *t);
    int rc = fx_vm_stats_get(vm, &t->vm);
    if (rc)
        return rc;
    (void) fx_pool_stats_get(vm, &t->pool); /* same errors as above */
    t->threads = fx_vm_threads(vm);
    t->running = fx_vm_running(vm) == 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t->time_ms = (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
    uint32_t n = fx_vm_sched_count(vm);
    if (n == 0)
        return 0;
    t->sched = fxi_alloc(n * sizeof *t->sched);
    if (!t->sched)
        return FX_ENOMEM;
    t->nsched_cap = n;
    for (uint32_t i = 0; i < n; i++) {
        fx_sched_stats *s = &t->sched[t->nsched];
        memset(s, 0, sizeof *s);
        s->version = FX_SCHED_STATS_VERSION;
        if (fx_vm_sched_stats(vm, i, s) == 0)
            t->nsched++;
    }
    return 0;
}

void fxi_ctl_totals_fini(fxi_ctl_totals *t)
{
    fxi_free(t->sched, t->nsched_cap * sizeof *t->sched);
    t->sched = NULL;
    t->nsched = t->nsched_cap = 0;
}

void fxi_ctl_stats_json(const fxi_ctl_totals *t, fxi_ctl_out *o)
{
    fxi_ctl_out_printf(o, "{\"time_ms\":%llu,\"running\":%s,\"threads\":%u",
                       (unsigned long long) t->time_ms, t->running ? "true" : "false",
                       (unsigned) t->threads);
    bool in_pool = false;
    for (size_t i = 0; i < NFIG; i++) {
        const char *key = figures[i].json;
        if (strncmp(key, "pool.", 5) == 0) {
            fxi_ctl_out_str(o, in_pool ? "," : ",\"pool\":{");
            in_pool = true;
            key += 5;
        } else {
            fxi_ctl_out_str(o, ",");
        }
        fxi_ctl_out_printf(o, "\"%s\":", key);
        fxi_ctl_out_u64(o, at(t, figures[i].off));
    }
    if (in_pool)
        fxi_ctl_out_str(o, "}");
    fxi_ctl_out_str(o, ",\"schedulers\":[");
    for (uint32_t i = 0; i < t->nsched; i++) {
        const fx_sched_stats *s = &t->sched[i];
        fxi_ctl_out_printf(o, "%s{\"index\":%u,\"spare\":%s,\"running\":%s,\"steals\":",
                           i ? "," : "", (unsigned) s->index, s->spare ? "true" : "false",
                           s->running ? "true" : "false");
        fxi_ctl_out_u64(o, s->steals);
        fxi_ctl_out_str(o, ",\"parks\":");
        fxi_ctl_out_u64(o, s->parks);
        for (size_t k = 0; k < NSFIG; k++) {
            fxi_ctl_out_printf(o, ",\"%s\":", sfigures[k].json);
            fxi_ctl_out_u64(o, at(s, sfigures[k].off));
        }
        fxi_ctl_out_str(o, "}");
    }
    fxi_ctl_out_str(o, "]}");
    fxi_ctl_out_eol(o);
}

static void family(fxi_ctl_out *o, const char *name, const char *type, const char *help)
{
    fxi_ctl_out_printf(o, "# HELP %s %s", name, help);
    fxi_ctl_out_eol(o);
    fxi_ctl_out_printf(o, "# TYPE %s %s", name, type);
    fxi_ctl_out_eol(o);
}

/* Nanoseconds as seconds with nine decimals (exact). */
static void seconds(fxi_ctl_out *o, uint64_t ns)
{
    fxi_ctl_out_u64(o, ns / 1000000000u);
    fxi_ctl_out_printf(o, ".%09u", (unsigned) (ns % 1000000000u));
}

void fxi_ctl_metrics(const fxi_ctl_totals *t, fxi_ctl_out *o)
{
    family(o, "fauxtp_up", "gauge",
           "1 while the VM runs, 0 before start and from shutdown on.");
    fxi_ctl_out_printf(o, "fauxtp_up %d", t->running ? 1 : 0);
    fxi_ctl_out_eol(o);
    family(o, "fauxtp_scheduler_threads", "gauge", "Scheduler threads (configured).");
    fxi_ctl_out_printf(o, "fauxtp_scheduler_threads %u", (unsigned) t->threads);
    fxi_ctl_out_eol(o);
    const char *last = NULL;
    for (size_t i = 0; i < NFIG; i++) {
        const figure *f = &figures[i];
        if (!f->metric)
            continue; /* the labelled samples carry it */
        if (!last || strcmp(last, f->metric) != 0)
            family(o, f->metric, f->kind == COUNTER ? "counter" : "gauge", f->help);
        last = f->metric;
        fxi_ctl_out_str(o, f->metric);
        if (f->label)
            fxi_ctl_out_printf(o, "{%s}", f->label);
        fxi_ctl_out_str(o, " ");
        fxi_ctl_out_u64(o, at(t, f->off));
        fxi_ctl_out_eol(o);
    }
    for (size_t k = 0; k < NSFIG; k++) {
        const sfigure *f = &sfigures[k];
        family(o, f->metric, f->kind == COUNTER ? "counter" : "gauge", f->help);
        bool ns = strstr(f->metric, "_seconds_") != NULL;
        for (uint32_t i = 0; i < t->nsched; i++) {
            const fx_sched_stats *s = &t->sched[i];
            if (s->spare && !s->running && at(s, f->off) == 0)
                continue; /* a spare slot never used */
            fxi_ctl_out_printf(o, "%s{scheduler=\"%u\"} ", f->metric,
                               (unsigned) s->index);
            if (ns)
                seconds(o, at(s, f->off));
            else
                fxi_ctl_out_u64(o, at(s, f->off));
            fxi_ctl_out_eol(o);
        }
    }
}

FX_API int fx_vm_metrics_text(fx_vm *vm, char *buf, size_t size)
{
    if (!vm || (!buf && size))
        return FX_EINVAL;
    fxi_ctl_totals t;
    int rc = fxi_ctl_totals_get(vm, &t);
    if (rc) {
        fxi_ctl_totals_fini(&t);
        return rc;
    }
    fxi_ctl_out o;
    fxi_ctl_out_init(&o, 1u << 20);
    fxi_ctl_metrics(&t, &o);
    fxi_ctl_totals_fini(&t);
    if (o.full) {
        fxi_ctl_out_fini(&o);
        return FX_ENOMEM; /* the text is a few KiB: only allocation fails */
    }
    if (size) {
        size_t n = o.len < size - 1 ? o.len : size - 1;
        if (n)
            memcpy(buf, o.buf, n);
        buf[n] = '\0';
    }
    rc = (int) o.len;
    fxi_ctl_out_fini(&o);
    return rc;
}
