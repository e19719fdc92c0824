/* fauxtp: helpers for testing actor code, and the deterministic mode.
 *
 * Usable with any test framework (the library does not depend on one):
 * every helper returns an error code, and the FX_ASSERT_* / FX_REFUTE_*
 * macros also print the file and line of a failure to stderr, so a test
 * writes `cr_assert_eq(FX_ASSERT_RECEIVE(ib, &m, 1000, &msg), 0)` with
 * Criterion or `assert(...)` without one. docs/testing.md.
 *
 * Deterministic mode (fx_vm_config.deterministic): the VM has one
 * scheduler slot and no thread of its own. The thread that calls
 * fx_test_step / fx_test_run_until_idle runs the actors, one handler run
 * at a time, choosing among the runnable ones with a PRNG seeded from
 * fx_vm_config.seed; the clock of timers and receive timeouts is manual
 * (fx_test_advance). A test that only talks to the VM through its own
 * thread then replays exactly from its seed. */
#ifndef FAUXTP_TESTING_H
#define FAUXTP_TESTING_H

#include "inbox.h"
#include "report.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- a quiet test VM ------------------------------------------------------ */

typedef struct fx_crash_capture fx_crash_capture;

/* Creates and starts a VM from cfg (NULL: defaults) whose crash reports
 * go to cap (fx_crash_capture_logger) or, with cap NULL, nowhere
 * (fx_crash_logger_silent); cfg's own crash_logger is ignored. cap is
 * borrowed and must outlive the VM. Errors: FX_EINVAL (NULL out), and
 * those of fx_vm_create and fx_vm_start (nothing is left allocated).
 * Outside the VM only. Free with fx_vm_destroy. */
FX_API int fx_test_vm_create(const fx_vm_config *cfg, fx_crash_capture *cap, fx_vm **out);

/* ---- crash-report capture ------------------------------------------------- */

/* One captured report: a copy, owned by the capture. */
typedef struct fx_captured_report {
    fx_pid pid;
    fx_reason reason;
    fx_report_kind kind;
    char label[64]; /* the report's label, truncated; "" for none */
} fx_captured_report;

/* A crash logger that records reports for later assertions. Errors:
 * FX_EINVAL (NULL out), FX_ENOMEM. Any thread. */
FX_API int fx_crash_capture_create(fx_crash_capture **out);
/* Frees it (NULL is ignored). No VM may log to it any more: destroy the
 * VM first. */
FX_API void fx_crash_capture_destroy(fx_crash_capture *cap);
/* The logger: set fx_vm_config.crash_logger to it and crash_logger_arg to
 * the capture. Records a copy of the report (a report that finds no
 * memory is counted in fx_crash_capture_count but not stored). Any
 * thread (the VM calls it). */
FX_API void fx_crash_capture_logger(void *arg, const fx_crash_report *report);
/* Reports captured so far; FX_EINVAL for NULL. Any thread. */
FX_API int fx_crash_capture_count(fx_crash_capture *cap);
/* Copies report i (0 = first captured) to *out. Errors: FX_EINVAL (NULL),
 * FX_ENOENT (no such report). Any thread. */
FX_API int fx_crash_capture_get(fx_crash_capture *cap, uint32_t i,
                                fx_captured_report *out);
/* Copies the first report about pid to *out (out may be NULL: just
 * look). Errors: FX_EINVAL (NULL cap), FX_ENOENT. Any thread. */
FX_API int fx_crash_capture_find(fx_crash_capture *cap, fx_pid pid,
                                 fx_captured_report *out);
/* Forgets every captured report. NULL is ignored. Any thread. */
FX_API void fx_crash_capture_clear(fx_crash_capture *cap);
/* Waits until at least n reports were captured, as fx_wait_for (vm may
 * be NULL; a deterministic vm is run while waiting). Returns the count
 * (>= n), or FX_ETIMEDOUT, FX_EINVAL (NULL cap), FX_EWOULDBLOCK (on a
 * scheduler thread). Outside the VM only. */
FX_API int fx_crash_capture_wait(fx_crash_capture *cap, fx_vm *vm, uint32_t n,
                                 int64_t timeout_ms);

/* ---- waiting and receiving ------------------------------------------------ */

typedef bool (*fx_test_pred)(void *arg);

/* Waits until pred(arg) is true, checking it at once and then every
 * millisecond or so, up to timeout_ms (FX_INFINITY: forever; beyond
 * FX_TIMEOUT_MAX: FX_TIMEOUT_MAX). With a deterministic vm it runs the
 * VM instead, one step between checks, and answers FX_ETIMEDOUT as soon
 * as the VM is idle with pred still false (virtual time does not pass on
 * its own; see fx_test_advance). vm may be NULL (only polls). Errors:
 * FX_EINVAL (NULL pred; a negative timeout other than FX_INFINITY),
 * FX_ETIMEDOUT, FX_EWOULDBLOCK (on a scheduler
 * thread), and fx_test_step's errors. Outside the VM only. */
FX_API int fx_wait_for(fx_vm *vm, fx_test_pred pred, void *arg, int64_t timeout_ms);

/* Receives the first message on ib matching *match (NULL: any) within
 * timeout_ms, as fx_inbox_recv. With out NULL the message is freed, else
 * *out is the caller's. Errors as fx_inbox_recv. */
FX_API int fx_assert_receive(fx_inbox *ib, const fx_match *match, int64_t timeout_ms,
                             fx_msg **out);
/* Succeeds (0) when no message matching *match arrives within
 * timeout_ms; FX_EEXIST when one did: it is taken out of the inbox and
 * given to *got (the caller's) or freed with got NULL. Other errors as
 * fx_inbox_recv, FX_ETIMEDOUT excepted. */
FX_API int fx_refute_receive(fx_inbox *ib, const fx_match *match, int64_t timeout_ms,
                             fx_msg **got);
/* The two above, printing "file:line: ..." and the match to stderr when
 * they fail. Same results. */
FX_API int fx_assert_receive_at(fx_inbox *ib, const fx_match *match, int64_t timeout_ms,
                                fx_msg **out, const char *file, int line);
FX_API int fx_refute_receive_at(fx_inbox *ib, const fx_match *match, int64_t timeout_ms,
                                fx_msg **got, const char *file, int line);
/* FX_ASSERT_RECEIVE(ib, match, timeout_ms, out) and FX_REFUTE_RECEIVE(ib,
 * match, timeout_ms, got): the _at functions with the caller's file and
 * line. Variadic only so a compound literal with commas can be the match:
 * FX_ASSERT_RECEIVE(ib, &(fx_match){.type = 3, .from = p}, 1000, &m). */
#define FX_ASSERT_RECEIVE(...) fx_assert_receive_at(__VA_ARGS__, __FILE__, __LINE__)
#define FX_REFUTE_RECEIVE(...) fx_refute_receive_at(__VA_ARGS__, __FILE__, __LINE__)

/* ---- the probe: a process that records what it receives ------------------ */

typedef struct fx_probe fx_probe;

/* One recorded message. data is a copy, valid until fx_probe_clear or
 * fx_probe_destroy. */
typedef struct fx_probe_msg {
    uint32_t type;
    fx_pid from;
    fx_ref ref;
    size_t size;
    const void *data;
} fx_probe_msg;

/* Spawns a probe process in vm: it records every message it receives
 * (system messages too: EXIT, DOWN...; it does not trap exits, so a link
 * to a process that crashes kills it). Errors: FX_EINVAL (NULL), FX_ENOMEM,
 * and those of fx_vm_spawn_opt. Any thread. */
FX_API int fx_probe_start(fx_vm *vm, fx_probe **out);
/* The probe's pid (FX_PID_NONE for NULL). Any thread. */
FX_API fx_pid fx_probe_pid(const fx_probe *probe);
/* Messages recorded so far (FX_EINVAL for NULL). Any thread. */
FX_API int fx_probe_count(fx_probe *probe);
/* Copies record i to *out. Errors: FX_EINVAL (NULL), FX_ENOENT. Any
 * thread. */
FX_API int fx_probe_get(fx_probe *probe, uint32_t i, fx_probe_msg *out);
/* Waits for at least n records, as fx_wait_for on the probe's VM. Returns
 * the count or an error of fx_wait_for. Outside the VM only. */
FX_API int fx_probe_wait(fx_probe *probe, uint32_t n, int64_t timeout_ms);
/* Forgets the records (their data pointers die). NULL is ignored. */
FX_API void fx_probe_clear(fx_probe *probe);
/* Kills the probe process (reason kill) and frees what the test holds;
 * the process's side goes when it has exited. NULL is ignored. Any thread
 * outside the VM; call it before fx_vm_destroy or after (then it only
 * frees). */
FX_API void fx_probe_destroy(fx_probe *probe);

/* ---- deterministic mode ---------------------------------------------------- */

/* The most steps fx_test_run_until_idle runs before it answers FX_ELIMIT
 * (a livelock, e.g. two actors sending to each other forever). */
#define FX_TEST_STEP_LIMIT 10000000u

/* Runs one step: takes every runnable process into the candidate list,
 * picks one with the seeded PRNG and runs it (one handler call with the
 * default batch of 1; docs/testing.md). Due timers fire first. Returns 1
 * if a process ran, 0 if none was runnable. Errors: FX_EINVAL (NULL),
 * FX_ENOTDET (not a deterministic VM), FX_ESHUTDOWN (not running),
 * FX_ECONTEXT (inside a handler, or another thread is running this VM's
 * steps), FX_EFORKED. Any one thread at a time, outside the VM. */
FX_API int fx_test_step(fx_vm *vm);
/* Runs steps until no process is runnable: 0. FX_ELIMIT after
 * FX_TEST_STEP_LIMIT steps; other errors as fx_test_step. */
FX_API int fx_test_run_until_idle(fx_vm *vm);
/* Runs at most max_steps steps, stopping early when idle; *ran (may be
 * NULL) gets how many ran. 0, or errors as fx_test_step. */
FX_API int fx_test_run(fx_vm *vm, uint64_t max_steps, uint64_t *ran);
/* Moves the manual clock forward by ms and delivers the timers now due
 * (their messages are queued; no handler runs until the next step).
 * Errors as fx_test_step, FX_EINVAL also for ms < 0. */
FX_API int fx_test_advance(fx_vm *vm, int64_t ms);
/* Advances the clock by ms in stages: to each timer deadline in turn,
 * running until idle at each, so timers armed by handlers on the way
 * fire in order; then to the end. 0, FX_ELIMIT, or errors as
 * fx_test_advance. */
FX_API int fx_test_advance_run(fx_vm *vm, int64_t ms);
/* The manual clock in ms (0 at fx_vm_create); FX_EINVAL, FX_ENOTDET. */
FX_API int64_t fx_test_now_ms(fx_vm *vm);
/* The schedule so far: steps run, and a hash of every choice (the
 * candidate count and the index picked). Two runs of one test with one
 * seed give equal values; a difference says where replay diverged.
 * Either pointer may be NULL. 0, FX_EINVAL, FX_ENOTDET. Any thread. */
FX_API int fx_test_schedule(fx_vm *vm, uint64_t *steps, uint64_t *hash);
/* The seed for a test: the decimal (leading zeros allowed, not octal) or
 * 0x-hex value of the environment variable FX_TEST_SEED when it is one,
 * else dflt (unset, empty, a sign, blanks, trailing characters). Any
 * thread. */
FX_API uint64_t fx_test_seed(uint64_t dflt);

#ifdef __cplusplus
}
#endif
#endif
