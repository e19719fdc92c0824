/* Report lines and process labels. Internal. */
#ifndef FXI_ACTOR_REPORT_FORMAT_H
#define FXI_ACTOR_REPORT_FORMAT_H

#include <fauxtp/report.h>

#include "actor/actor.h"

/* The report's text for a log event: banner and report, without the pid
 * and label (the event carries them). As snprintf. */
int fxi_report_body(const fx_crash_report *r, char *buf, size_t size);

/* A process's label for reports and log lines: its spawn label, else the
 * exported symbol of its handler (or init function), else NULL. Owner of
 * a, or a thread that keeps a from being freed and reads only immutable
 * fields (the label; the handler may be stale). */
const char *fxi_report_label(const fxi_actor *a);

/* The exported symbol at exactly the code address whose bits are at
 * fn_bits (a function pointer's n bytes), else NULL. Any thread. */
const char *fxi_report_symbol(const void *fn_bits, size_t n);

#endif
