/* Control-socket commands; see ctl_cmd.h and docs/observability.md.
 *
 * A request is one line of words separated by spaces or tabs, at most
 * MAX_ARGS of them, printable ASCII only (anything else is answered with
 * an error line, and the connection stays usable). */
#include "ctl/ctl_cmd.h"

#include <fauxtp/error.h>
#include <fauxtp/registry.h>
#include <string.h>

#include "ctl/ctl_proc.h"
#include "ctl/ctl_stats.h"
#include "mem/alloc.h"

#define MAX_ARGS 8
#define WORD_MAX 128

typedef struct args {
    int n;
    char w[MAX_ARGS][WORD_MAX];
} args;

/* 0, or FX_EINVAL with a reason in *why. */
static int split(const char *line, size_t len, args *a, const char **why)
{
    a->n = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char) line[i];
        if (c == ' ' || c == '\t') {
            i++;
            continue;
        }
        if (a->n == MAX_ARGS) {
            *why = "too many words in the request";
            return FX_EINVAL;
        }
        size_t k = 0;
        while (i < len && line[i] != ' ' && line[i] != '\t') {
            c = (unsigned char) line[i];
            if (c < 0x21 || c > 0x7e) {
                *why = "not a request: control or non-ASCII bytes";
                return FX_EINVAL;
            }
            if (k == WORD_MAX - 1) {
                *why = "a word of the request is longer than 127 bytes";
                return FX_EINVAL;
            }
            a->w[a->n][k++] = (char) c;
            i++;
        }
        a->w[a->n++][k] = '\0';
    }
    return 0;
}

static void cmd_help(fxi_ctl_out *o)
{
    fxi_ctl_out_str(o, "{\"commands\":[\"stats\",\"metrics\","
                       "\"ps [--sort queue|runtime|memory|messages] [--top N]\","
                       "\"info PID|NAME\",\"names\",\"timing on|off\",\"help\","
                       "\"quit\"]}");
    fxi_ctl_out_eol(o);
}

static void cmd_stats(fx_vm *vm, fxi_ctl_out *o, bool prometheus)
{
    fxi_ctl_totals t;
    int rc = fxi_ctl_totals_get(vm, &t);
    if (rc)
        fxi_ctl_out_error(o, rc, NULL);
    else if (prometheus)
        fxi_ctl_metrics(&t, o);
    else
        fxi_ctl_stats_json(&t, o);
    fxi_ctl_totals_fini(&t);
}

/* Registered names, one JSON object per line. */
static void cmd_names(fx_vm *vm, fxi_ctl_out *o)
{
    int n = fx_registered(vm, NULL, 0);
    for (int tries = 0; n > 0 && tries < 4; tries++) {
        size_t cap = (size_t) n + 16;
        fx_registered_name *v = fxi_alloc(cap * sizeof *v);
        if (!v) {
            n = FX_ENOMEM;
            break;
        }
        int got = fx_registered(vm, v, cap);
        if (got >= 0 && (size_t) got <= cap) {
            for (int i = 0; i < got; i++) {
                fxi_ctl_out_str(o, "{\"name\":");
                fxi_ctl_out_json_str(o, v[i].name, sizeof v[i].name);
                fxi_ctl_out_str(o, ",\"pid\":");
                fxi_ctl_out_json_pid(o, v[i].pid);
                fxi_ctl_out_str(o, "}");
                fxi_ctl_out_eol(o);
            }
            fxi_free(v, cap * sizeof *v);
            return;
        }
        fxi_free(v, cap * sizeof *v);
        n = got; /* grew meanwhile (or an error): again */
    }
    if (n < 0)
        fxi_ctl_out_error(o, n, NULL);
}

bool fxi_ctl_exec(fx_vm *vm, const char *line, size_t len, fxi_ctl_out *o)
{
    args a;
    const char *why = NULL;
    if (split(line, len, &a, &why) != 0) {
        fxi_ctl_out_error(o, FX_EINVAL, why);
    } else if (a.n == 0) {
        fxi_ctl_out_error(o, FX_EINVAL, "empty request (try help)");
    } else if (strcmp(a.w[0], "quit") == 0 && a.n == 1) {
        return true; /* no response: the connection is closed */
    } else if (strcmp(a.w[0], "help") == 0 && a.n == 1) {
        cmd_help(o);
    } else if (strcmp(a.w[0], "stats") == 0 && a.n == 1) {
        cmd_stats(vm, o, false);
    } else if (strcmp(a.w[0], "metrics") == 0 && a.n == 1) {
        cmd_stats(vm, o, true);
    } else if (strcmp(a.w[0], "names") == 0 && a.n == 1) {
        cmd_names(vm, o);
    } else if (strcmp(a.w[0], "ps") == 0) {
        const char *argv[MAX_ARGS];
        for (int i = 1; i < a.n; i++)
            argv[i - 1] = a.w[i];
        fxi_ctl_ps(vm, a.n - 1, argv, o);
    } else if (strcmp(a.w[0], "info") == 0 && a.n == 2) {
        fxi_ctl_info(vm, a.w[1], o);
    } else if (strcmp(a.w[0], "timing") == 0 && a.n == 2) {
        fxi_ctl_timing(vm, a.w[1], o);
    } else {
        fxi_ctl_out_error(o, FX_EINVAL, "unknown command or wrong arguments (try help)");
    }
    fxi_ctl_out_end(o);
    return false;
}
