/* fauxtp-top: an etop-like view of a running fauxtp VM through its
 * control socket (docs/observability.md, "fauxtp-top").
 *
 *   fauxtp-top --socket PATH [--interval S] [--sort KEY] [--top N]
 *              [--once] [--json] [--timing] [--info PID|NAME] [--metrics]
 *
 * The socket defaults to $FAUXTP_CONTROL. Exit codes: 0 done, 1 the VM
 * answered with an error, 2 bad usage, 3 no connection (or it broke). */
#include "top.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

typedef struct opts {
    const char *socket, *sort, *info;
    double interval;
    unsigned top; /* 0: fit the terminal (20 when not a terminal) */
    bool once, json, metrics, timing;
} opts;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void) sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: fauxtp-top [--socket PATH] [--interval SECONDS] [--sort KEY] [--top N]\n"
        "                  [--once] [--json] [--timing] [--info PID|NAME] [--metrics]\n"
        "  --socket PATH     the VM's control socket (fx_vm_config.control_path);\n"
        "                    default $FAUXTP_CONTROL\n"
        "  --interval S      refresh every S seconds (default 2)\n"
        "  --sort KEY        queue (default), runtime, memory or messages\n"
        "  --top N           processes shown (1..10000; default: what fits)\n"
        "  --once            one frame, then exit\n"
        "  --json            the VM's answers as JSON lines (stats, then ps)\n"
        "  --timing          turn on handler timing while running (runtime and\n"
        "                    scheduler utilization; costs two clock reads per run)\n"
        "  --info PID|NAME   one process (pid as <1.42.3> or 1.42.3, or a\n"
        "                    registered name)\n"
        "  --metrics         the VM totals in Prometheus text format\n"
        "exit: 0 ok, 1 the VM answered an error, 2 usage, 3 no connection\n");
}

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.socket = getenv("FAUXTP_CONTROL"), .sort = "queue", .interval = 2.0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--socket") == 0 && more) {
            o->socket = argv[++i];
        } else if (strcmp(a, "--interval") == 0 && more) {
            char *end;
            o->interval = strtod(argv[++i], &end);
            if (*end || !(o->interval >= 0.1 && o->interval <= 3600)) {
                fprintf(stderr, "fauxtp-top: --interval takes 0.1 to 3600 seconds\n");
                return -1;
            }
        } else if (strcmp(a, "--sort") == 0 && more) {
            o->sort = argv[++i];
            if (strcmp(o->sort, "queue") && strcmp(o->sort, "runtime") &&
                strcmp(o->sort, "memory") && strcmp(o->sort, "messages")) {
                fprintf(stderr, "fauxtp-top: --sort takes queue, runtime, memory or "
                                "messages\n");
                return -1;
            }
        } else if (strcmp(a, "--top") == 0 && more) {
            char *end;
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (*end || n < 1 || n > 10000) {
                fprintf(stderr, "fauxtp-top: --top takes 1 to 10000\n");
                return -1;
            }
            o->top = (unsigned) n;
        } else if (strcmp(a, "--info") == 0 && more) {
            o->info = argv[++i];
        } else if (strcmp(a, "--once") == 0) {
            o->once = true;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--metrics") == 0) {
            o->metrics = true;
        } else if (strcmp(a, "--timing") == 0) {
            o->timing = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(TOP_OK);
        } else {
            fprintf(stderr, "fauxtp-top: unknown or incomplete option '%s'\n", a);
            return -1;
        }
    }
    if (!o->socket || !*o->socket) {
        fprintf(stderr,
                "fauxtp-top: no socket: use --socket PATH or set FAUXTP_CONTROL\n");
        return -1;
    }
    if (o->info) {
        /* One word of printable ASCII: it goes on the request line as is. */
        size_t n = strlen(o->info);
        bool ok = n > 0 && n < 128;
        for (size_t i = 0; ok && i < n; i++)
            ok = o->info[i] > 0x20 && o->info[i] < 0x7f;
        if (!ok) {
            fprintf(stderr, "fauxtp-top: --info takes one pid or name "
                            "(printable, no spaces, under 128 bytes)\n");
            return -1;
        }
    }
    return 0;
}

/* One request; prints the connection error and returns TOP_ECONN on
 * failure, TOP_EREPLY (after printing it) when the VM answered an error
 * line, else TOP_OK with *resp set. */
static int ask(top_conn *c, const char *req, char **resp)
{
    char err[256];
    if (top_request(c, req, resp, err, sizeof err) != 0) {
        fprintf(stderr, "fauxtp-top: %s\n", err);
        return TOP_ECONN;
    }
    if (strncmp(*resp, "{\"error\"", 8) == 0) {
        top_obj e;
        const char *nl = strchr(*resp, '\n');
        if (top_obj_parse(&e, *resp, nl ? (size_t) (nl - *resp) : strlen(*resp)) == 0)
            fprintf(stderr, "fauxtp-top: %s: %s\n", top_get(&e, "error"),
                    top_get(&e, "text"));
        else
            fprintf(stderr, "fauxtp-top: %s", *resp);
        top_obj_free(&e);
        free(*resp);
        *resp = NULL;
        return TOP_EREPLY;
    }
    return TOP_OK;
}

static int one_shot(top_conn *c, const char *req, bool as_info, bool json)
{
    char *r;
    int rc = ask(c, req, &r);
    if (rc)
        return rc;
    top_obj o;
    if (as_info && !json && top_obj_parse(&o, r, strlen(r)) == 0)
        top_render_info(&o);
    else
        fputs(r, stdout);
    if (as_info && !json)
        top_obj_free(&o);
    free(r);
    return TOP_OK;
}

static void term_size(top_view *v)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
        ws.ws_row) {
        v->width = ws.ws_col;
        v->height = ws.ws_row;
    } else {
        v->width = v->height = 0;
    }
}

/* Waits up to ms for 'q' on a terminal stdin (or a signal). true: quit. */
static bool pause_for(int ms, bool tty_in)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    int n = poll(&p, tty_in ? 1 : 0, ms);
    if (stop_flag)
        return true;
    if (n > 0 && tty_in) {
        char ch;
        if (read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q'))
            return true;
    }
    return false;
}

static int run(top_conn *c, const opts *o)
{
    top_view v = {.socket = o->socket, .sort = o->sort, .interval = o->interval};
    bool tty_in = !o->once && isatty(STDIN_FILENO);
    struct termios saved;
    if (tty_in && tcgetattr(STDIN_FILENO, &saved) == 0) {
        struct termios raw = saved;
        raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    } else {
        tty_in = false;
    }
    top_sample prev = {0}, cur = {0};
    int rc = TOP_OK;
    for (unsigned frame = 0; !stop_flag; frame++) {
        term_size(&v);
        v.ansi = !o->once && !o->json && v.height > 0;
        unsigned top = o->top ? o->top : v.height > 9 ? (unsigned) v.height - 8 : 20;
        char req[96];
        snprintf(req, sizeof req, "ps --sort %s --top %u\n", o->sort, top);
        char *stats = NULL, *ps = NULL;
        if ((rc = ask(c, "stats\n", &stats)) != 0 || (rc = ask(c, req, &ps)) != 0) {
            free(stats);
            break;
        }
        /* --once --timing: a silent first sample, so the frame can show
         * utilization and rates over one interval. */
        bool silent = o->once && o->timing && frame == 0;
        if (silent) {
            if (top_sample_parse(&cur, stats, ps) != 0)
                rc = TOP_EREPLY;
        } else if (o->json) {
            fputs(stats, stdout);
            fputs(ps, stdout);
            fflush(stdout);
        } else if (top_sample_parse(&cur, stats, ps) != 0) {
            fprintf(stderr, "fauxtp-top: the VM's answer is not what it should be\n");
            rc = TOP_EREPLY;
        } else {
            top_render(&v, &cur, &prev);
        }
        free(stats);
        free(ps);
        top_sample_free(&prev);
        prev = cur;
        memset(&cur, 0, sizeof cur);
        if (rc || (o->once && !silent))
            break;
        if (pause_for((int) (o->interval * 1000), tty_in))
            break;
    }
    top_sample_free(&prev);
    if (tty_in)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return rc;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o) != 0) {
        usage(stderr);
        return TOP_EUSAGE;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    top_conn c;
    char err[256];
    if (top_connect(&c, o.socket, err, sizeof err) != 0) {
        fprintf(stderr, "fauxtp-top: %s\n", err);
        return TOP_ECONN;
    }
    int rc;
    if (o.metrics) {
        rc = one_shot(&c, "metrics\n", false, true);
    } else if (o.info) {
        char req[160];
        snprintf(req, sizeof req, "info %.128s\n", o.info);
        rc = one_shot(&c, req, true, o.json);
    } else {
        char *r = NULL;
        bool was_on = false;
        if (o.timing && (rc = ask(&c, "timing on\n", &r)) != 0) {
            top_close(&c);
            return rc;
        }
        if (r) {
            was_on = strstr(r, "\"was\":true") != NULL;
            free(r);
        }
        rc = run(&c, &o);
        if (o.timing && !was_on && rc != TOP_ECONN && ask(&c, "timing off\n", &r) == 0)
            free(r);
    }
    top_close(&c);
    return rc;
}
