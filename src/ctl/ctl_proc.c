/* `ps`, `info` and `timing` of the control socket; see ctl_proc.h.
 *
 * ps keeps the top N processes by the sort key in a min-heap of N
 * entries while fx_vm_processes walks the table, so a VM of a million
 * processes costs the walk and N copies, not a million (N is capped at
 * TOP_MAX). */
#include "ctl/ctl_proc.h"

#include <fauxtp/error.h>
#include <fauxtp/info.h>
#include <fauxtp/registry.h>
#include <stdlib.h>
#include <string.h>

#include "actor/ptable.h"
#include "mem/alloc.h"

#define TOP_DEFAULT 20u
#define TOP_MAX 10000u

enum sort_key { BY_QUEUE, BY_RUNTIME, BY_MEMORY, BY_MESSAGES };

static uint64_t key_of(const fx_proc_info *p, enum sort_key k)
{
    switch (k) {
    case BY_RUNTIME:
        return p->runtime_ns;
    case BY_MEMORY:
        return p->memory;
    case BY_MESSAGES:
        return p->handled;
    default:
        return p->queue_len;
    }
}

static const char *status_name(fx_proc_status s)
{
    switch (s) {
    case FX_PROC_RUNNING:
        return "running";
    case FX_PROC_RUNNABLE:
        return "runnable";
    case FX_PROC_WAITING:
        return "waiting";
    case FX_PROC_EXITING:
        return "exiting";
    }
    return "unknown";
}

static void put_info(fxi_ctl_out *o, const fx_proc_info *p)
{
    fxi_ctl_out_str(o, "{\"pid\":");
    fxi_ctl_out_json_pid(o, p->pid);
    fxi_ctl_out_printf(o, ",\"status\":\"%s\",\"label\":", status_name(p->status));
    fxi_ctl_out_json_str(o, p->label, sizeof p->label);
    fxi_ctl_out_str(o, ",\"name\":");
    fxi_ctl_out_json_str(o, p->name, sizeof p->name);
    fxi_ctl_out_str(o, ",\"handler\":");
    fxi_ctl_out_json_str(o, p->handler, sizeof p->handler);
    fxi_ctl_out_str(o, ",\"parent\":");
    if (fx_pid_is_none(p->parent))
        fxi_ctl_out_str(o, "null");
    else
        fxi_ctl_out_json_pid(o, p->parent);
    static const struct {
        const char *key;
        size_t off;
    } u64s[] = {
        {"queue_len", offsetof(fx_proc_info, queue_len)},
        {"saved_len", offsetof(fx_proc_info, saved_len)},
        {"handled", offsetof(fx_proc_info, handled)},
        {"runtime_ns", offsetof(fx_proc_info, runtime_ns)},
        {"memory", offsetof(fx_proc_info, memory)},
        {"mailbox_max", offsetof(fx_proc_info, mailbox_max)},
    };
    for (size_t i = 0; i < sizeof u64s / sizeof u64s[0]; i++) {
        uint64_t v;
        memcpy(&v, (const char *) p + u64s[i].off, sizeof v);
        fxi_ctl_out_printf(o, ",\"%s\":", u64s[i].key);
        fxi_ctl_out_u64(o, v);
    }
    fxi_ctl_out_printf(
        o, ",\"links\":%u,\"monitors\":%u,\"monitored_by\":%u,\"scheduler\":",
        (unsigned) p->links, (unsigned) p->monitors, (unsigned) p->monitored_by);
    if (p->scheduler == UINT32_MAX)
        fxi_ctl_out_str(o, "null");
    else
        fxi_ctl_out_printf(o, "%u", (unsigned) p->scheduler);
    fxi_ctl_out_printf(o, ",\"trap_exit\":%s}", p->trap_exit ? "true" : "false");
    fxi_ctl_out_eol(o);
}

/* ---- ps ------------------------------------------------------------------ */

typedef struct top {
    enum sort_key key;
    uint32_t cap, n;
    fx_proc_info *heap; /* min-heap by (key, then higher pid first out) */
} top;

/* a ranks below b: smaller key, or the same key and a later pid. */
static bool below(const top *t, const fx_proc_info *a, const fx_proc_info *b)
{
    uint64_t ka = key_of(a, t->key), kb = key_of(b, t->key);
    return ka != kb ? ka < kb : a->pid.id > b->pid.id;
}

static void sift_down(top *t, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && below(t, &t->heap[l], &t->heap[m]))
            m = l;
        if (r < t->n && below(t, &t->heap[r], &t->heap[m]))
            m = r;
        if (m == i)
            return;
        fx_proc_info x = t->heap[i];
        t->heap[i] = t->heap[m];
        t->heap[m] = x;
        i = m;
    }
}

static int visit(void *arg, const fx_proc_info *p)
{
    top *t = arg;
    if (t->n < t->cap) {
        uint32_t i = t->n++;
        t->heap[i] = *p;
        while (i && below(t, &t->heap[i], &t->heap[(i - 1) / 2])) {
            fx_proc_info x = t->heap[i];
            t->heap[i] = t->heap[(i - 1) / 2];
            t->heap[(i - 1) / 2] = x;
            i = (i - 1) / 2;
        }
    } else if (below(t, &t->heap[0], p)) {
        t->heap[0] = *p;
        sift_down(t, 0);
    }
    return 0;
}

static const char *const sort_names[] = {"queue", "runtime", "memory", "messages"};

/* 0, or FX_EINVAL with *why set. */
static int ps_args(int argc, const char *const *argv, enum sort_key *key, uint32_t *n,
                   const char **why)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--sort") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            size_t k = 0;
            while (k < 4 && strcmp(v, sort_names[k]) != 0)
                k++;
            if (k == 4) {
                *why = "--sort takes queue, runtime, memory or messages";
                return FX_EINVAL;
            }
            *key = (enum sort_key) k;
        } else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || argv[i][0] < '0' || argv[i][0] > '9' || v == 0 || v > TOP_MAX) {
                *why = "--top takes 1..10000";
                return FX_EINVAL;
            }
            *n = (uint32_t) v;
        } else {
            *why = "ps [--sort queue|runtime|memory|messages] [--top N]";
            return FX_EINVAL;
        }
    }
    return 0;
}

static int by_rank(const void *a, const void *b, void *arg)
{
    const top *t = arg;
    const fx_proc_info *x = a, *y = b;
    return below(t, x, y) ? 1 : below(t, y, x) ? -1 : 0;
}

void fxi_ctl_ps(fx_vm *vm, int argc, const char *const *argv, fxi_ctl_out *o)
{
    top t = {.key = BY_QUEUE, .cap = TOP_DEFAULT};
    const char *why = NULL;
    if (ps_args(argc, argv, &t.key, &t.cap, &why) != 0) {
        fxi_ctl_out_error(o, FX_EINVAL, why);
        return;
    }
    t.heap = fxi_alloc(t.cap * sizeof *t.heap);
    if (!t.heap) {
        fxi_ctl_out_error(o, FX_ENOMEM, NULL);
        return;
    }
    int rc = fx_vm_processes(vm, visit, &t);
    if (rc < 0) {
        fxi_ctl_out_error(o, rc, NULL);
    } else {
        qsort_r(t.heap, t.n, sizeof *t.heap, by_rank, &t);
        for (uint32_t i = 0; i < t.n; i++)
            put_info(o, &t.heap[i]);
    }
    fxi_free(t.heap, t.cap * sizeof *t.heap);
}

/* ---- info, timing -------------------------------------------------------- */

int fxi_ctl_parse_pid(const char *s, fx_pid *out)
{
    bool angle = s[0] == '<';
    const char *p = s + angle;
    unsigned long v[3];
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return FX_EINVAL;
        char *end;
        v[i] = strtoul(p, &end, 10);
        if (end - p > 9)
            return FX_EINVAL; /* no field takes 10 digits */
        p = end;
        if (i < 2 && *p++ != '.')
            return FX_EINVAL;
    }
    if (angle && *p++ != '>')
        return FX_EINVAL;
    if (*p || v[0] == 0 || v[0] > FXI_PID_TAG_COUNT || v[1] > FXI_PID_INDEX_MASK ||
        v[2] == 0 || v[2] > FXI_PID_GEN_MASK)
        return FX_EINVAL;
    *out = fxi_pid_make((uint32_t) v[0], (uint32_t) v[2], (uint32_t) v[1]);
    return 0;
}

void fxi_ctl_info(fx_vm *vm, const char *who, fxi_ctl_out *o)
{
    fx_pid pid;
    int rc = 0;
    if (who[0] == '<' || (who[0] >= '0' && who[0] <= '9')) {
        if (fxi_ctl_parse_pid(who, &pid) != 0) {
            fxi_ctl_out_error(o, FX_EINVAL, "not a pid: <TAG.INDEX.GENERATION>");
            return;
        }
    } else if ((rc = fx_whereis(vm, who, &pid)) != 0) {
        fxi_ctl_out_error(
            o, rc, rc == FX_ENOENT ? "no process registered under that name" : NULL);
        return;
    }
    fx_proc_info p;
    memset(&p, 0, sizeof p);
    p.version = FX_PROC_INFO_VERSION;
    rc = fx_process_info(vm, pid, &p);
    if (rc)
        fxi_ctl_out_error(o, rc, NULL);
    else
        put_info(o, &p);
}

void fxi_ctl_timing(fx_vm *vm, const char *arg, fxi_ctl_out *o)
{
    bool on = strcmp(arg, "on") == 0;
    if (!on && strcmp(arg, "off") != 0) {
        fxi_ctl_out_error(o, FX_EINVAL, "timing on|off");
        return;
    }
    int was = fx_vm_set_timing(vm, on);
    if (was < 0) {
        fxi_ctl_out_error(o, was, NULL);
        return;
    }
    fxi_ctl_out_printf(o, "{\"timing\":%s,\"was\":%s}", on ? "true" : "false",
                       was ? "true" : "false");
    fxi_ctl_out_eol(o);
}
