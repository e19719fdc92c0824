/* VM totals as JSON and as Prometheus text; see ctl_stats.h. One table
 * drives both, so a figure cannot be in one and missing from the other
 * (docs/observability.md has the same table for readers). */
#include "ctl/ctl_stats.h"

#include <fauxtp/control.h>
#include <fauxtp/error.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

enum kind { GAUGE, COUNTER };

typedef struct figure {
    const char *json;   /* key in `stats` ("pool." prefix: the pool object) */
    const char *metric; /* Prometheus name (counters end in _total) */
    enum kind kind;
    size_t off; /* of a uint64_t in fxi_ctl_totals */
    const char *help;
} figure;

#define VM_(f) offsetof(fxi_ctl_totals, vm) + offsetof(fx_vm_stats, f)
#define POOL_(f) offsetof(fxi_ctl_totals, pool) + offsetof(fx_pool_stats, f)

static const figure figures[] = {
    {"processes", "fauxtp_processes", GAUGE, VM_(processes), "Live processes."},
    {"spawned", "fauxtp_processes_spawned_total", COUNTER, VM_(spawned),
     "Processes spawned since the VM was created."},
    {"messages_dropped", "fauxtp_messages_dropped_total", COUNTER, VM_(messages_dropped),
     "Messages dropped: sent to a dead process or refused by a full mailbox."},
    {"steals", "fauxtp_scheduler_steals_total", COUNTER, VM_(steals),
     "Runnable processes a scheduler thread took from another."},
    {"parks", "fauxtp_scheduler_parks_total", COUNTER, VM_(parks),
     "Times a scheduler thread went to sleep for want of work."},
    {"stuck", "fauxtp_stuck_handlers_total", COUNTER, VM_(stuck),
     "Handler calls the watchdog reported as stuck."},
    {"spares_started", "fauxtp_spare_threads_started_total", COUNTER, VM_(spares_started),
     "Spare scheduler threads the watchdog started."},
    {"pool.threads", "fauxtp_pool_threads", GAUGE, POOL_(threads),
     "Blocking-pool threads alive."},
    {"pool.idle", "fauxtp_pool_threads_idle", GAUGE, POOL_(idle),
     "Blocking-pool threads waiting for a job."},
    {"pool.queued", "fauxtp_pool_jobs_queued", GAUGE, POOL_(queued),
     "Blocking-pool jobs waiting in the queue."},
    {"pool.running", "fauxtp_pool_jobs_running", GAUGE, POOL_(running),
     "Blocking-pool jobs running."},
    {"pool.completed", "fauxtp_pool_jobs_completed_total", COUNTER, POOL_(completed),
     "Blocking-pool jobs whose function returned."},
    {"pool.failed", "fauxtp_pool_jobs_failed_total", COUNTER, POOL_(failed),
     "Blocking-pool jobs whose function returned an error."},
    {"pool.rejected", "fauxtp_pool_jobs_rejected_total", COUNTER, POOL_(rejected),
     "Blocking-pool submissions refused because the queue was full."},
    {"pool.cancelled", "fauxtp_pool_jobs_cancelled_total", COUNTER, POOL_(cancelled),
     "Queued blocking-pool jobs dropped by VM shutdown."},
};
#define NFIG (sizeof figures / sizeof figures[0])

static uint64_t value(const fxi_ctl_totals *t, const figure *f)
{
    uint64_t v;
    memcpy(&v, (const char *) t + f->off, sizeof v);
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
    return 0;
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
        fxi_ctl_out_u64(o, value(t, &figures[i]));
    }
    fxi_ctl_out_str(o, in_pool ? "}}" : "}");
    fxi_ctl_out_eol(o);
}

static void family(fxi_ctl_out *o, const char *name, const char *type, const char *help)
{
    fxi_ctl_out_printf(o, "# HELP %s %s", name, help);
    fxi_ctl_out_eol(o);
    fxi_ctl_out_printf(o, "# TYPE %s %s", name, type);
    fxi_ctl_out_eol(o);
}

void fxi_ctl_metrics(const fxi_ctl_totals *t, fxi_ctl_out *o)
{
    family(o, "fauxtp_up", "gauge", "1 while the VM runs, 0 before start and from shutdown on.");
    fxi_ctl_out_printf(o, "fauxtp_up %d", t->running ? 1 : 0);
    fxi_ctl_out_eol(o);
    family(o, "fauxtp_scheduler_threads", "gauge", "Scheduler threads (configured).");
    fxi_ctl_out_printf(o, "fauxtp_scheduler_threads %u", (unsigned) t->threads);
    fxi_ctl_out_eol(o);
    for (size_t i = 0; i < NFIG; i++) {
        const figure *f = &figures[i];
        family(o, f->metric, f->kind == COUNTER ? "counter" : "gauge", f->help);
        fxi_ctl_out_printf(o, "%s ", f->metric);
        fxi_ctl_out_u64(o, value(t, f));
        fxi_ctl_out_eol(o);
    }
}

FX_API int fx_vm_metrics_text(fx_vm *vm, char *buf, size_t size)
{
    if (!vm || (!buf && size))
        return FX_EINVAL;
    fxi_ctl_totals t;
    int rc = fxi_ctl_totals_get(vm, &t);
    if (rc)
        return rc;
    fxi_ctl_out o;
    fxi_ctl_out_init(&o, 1u << 20);
    fxi_ctl_metrics(&t, &o);
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
