/* The logger's line format and its two ready-made sinks (log.h). */
#include <fauxtp/error.h>
#include <fauxtp/log.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {
    "?", "emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"};

FX_API const char *fx_log_level_name(int level)
{
    return level >= FX_LOG_EMERGENCY && level <= FX_LOG_DEBUG ? level_names[level] : "?";
}

/* A bounded writer: counts what the full line needs, stores what fits. */
typedef struct out {
    char *buf;
    size_t size, n;
} out;

static void put(out *o, char c)
{
    if (o->n + 1 < o->size)
        o->buf[o->n] = c;
    o->n++;
}

static void puts_raw(out *o, const char *s)
{
    while (*s)
        put(o, *s++);
}

/* The label as one word: spaces and control characters become '_'. */
static void put_word(out *o, const char *s)
{
    if (!s || !*s) {
        put(o, '-');
        return;
    }
    for (; *s; s++)
        put(o, (unsigned char) *s <= ' ' || *s == 0x7f ? '_' : *s);
}

static void put_text(out *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '\\' || c == '\n' || c == '\r' || c == '\t') {
            put(o, '\\');
            put(o, c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
        } else if (c < 0x20 || c == 0x7f) {
            put(o, '\\');
            put(o, 'x');
            put(o, hex[c >> 4]);
            put(o, hex[c & 15]);
        } else {
            put(o, (char) c);
        }
    }
}

FX_API int fx_log_format(const fx_log_event *ev, char *buf, size_t size)
{
    if (!ev)
        return FX_EINVAL;
    out o = {buf, size, 0};
    char tmp[64];
    time_t secs = (time_t) (ev->time_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm))
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, (unsigned) (ev->time_ns / 1000000u % 1000u));
    else
        snprintf(tmp, sizeof tmp, "?");
    puts_raw(&o, tmp);
    put(&o, ' ');
    puts_raw(&o, fx_log_level_name(ev->level));
    put(&o, ' ');
    if (ev->pid.id) {
        fx_pid_format(ev->pid, tmp, sizeof tmp);
        puts_raw(&o, tmp);
    } else {
        put(&o, '-');
    }
    put(&o, ' ');
    put_word(&o, ev->label);
    put(&o, ' ');
    if (ev->text)
        put_text(&o, ev->text, ev->text_len);
    if (size)
        buf[o.n < size ? o.n : size - 1] = '\0';
    return o.n > (size_t) INT32_MAX ? INT32_MAX : (int) o.n;
}

FX_API void fx_log_sink_stderr(void *arg, const fx_log_event *ev)
{
    (void) arg;
    if (!ev)
        return;
    /* Worst case: every text byte escaped as \xHH, plus the fields. */
    char line[FX_LOG_TEXT_MAX * 4 + 512];
    int n = fx_log_format(ev, line, sizeof line - 1);
    if (n < 0)
        return;
    size_t len = (size_t) n < sizeof line - 2 ? (size_t) n : sizeof line - 2;
    line[len++] = '\n';
    /* One write per line keeps lines whole between threads (and
     * processes, up to PIPE_BUF on a pipe); no stdio lock is taken. */
    (void) !write(2, line, len);
}

FX_API void fx_log_sink_silent(void *arg, const fx_log_event *ev)
{
    (void) arg;
    (void) ev;
}
