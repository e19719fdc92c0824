/* Fault trapping: SIGSEGV, SIGFPE, SIGBUS and SIGILL raised on a thread
 * while its fault site is armed jump back to the site's jmp_buf instead
 * of killing the process. Elsewhere the signals go to the handlers that
 * were installed before (or the default action). Internal. */
#ifndef FXI_PLATFORM_FAULT_H
#define FXI_PLATFORM_FAULT_H

#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct fxi_fault_site {
    volatile sig_atomic_t armed; /* this thread: 1 while trapping */
    volatile int signo;          /* set by the handler before the jump */
    void *volatile addr;         /* the faulting address (si_addr) */
    jmp_buf *jb;                 /* where a trapped fault lands */
    void *altstack;              /* this thread's signal stack; NULL for a
                                    bound site (fxi_fault_thread_bind) */
    size_t altstack_size;
    char text[64]; /* fx_crash(NULL) at a bound site: the formatted text */
} fxi_fault_site;

/* Installs the process-wide handlers (counted: one call per user, undone
 * by as many fxi_fault_uninstall). 0 or FX_ESYS. Any thread. */
int fxi_fault_install(void);
void fxi_fault_uninstall(void);

/* Makes site the calling thread's site and gives the thread a signal
 * stack (so a stack overflow can be trapped too). 0 or FX_ENOMEM/FX_ESYS;
 * on failure faults on this thread are not trapped. */
int fxi_fault_thread_enter(fxi_fault_site *site, jmp_buf *jb);
void fxi_fault_thread_exit(fxi_fault_site *site);

/* Makes site the calling thread's site without a signal stack: hardware
 * faults on this thread stay untrapped (the handler chains them on), but
 * fx_crash(NULL) while the site is armed lands at it (fxi_fault_crash_here).
 * For pool threads of a VM without trap_faults. Undo with
 * fxi_fault_thread_exit. */
void fxi_fault_thread_bind(fxi_fault_site *site, jmp_buf *jb);

/* Makes site the calling thread's site for a while, on top of whatever
 * site it had (a scheduler thread's, or none), and answers that one for
 * fxi_fault_thread_pop. site traps hardware faults when the thread has a
 * signal stack (its previous site's), else only fx_crash(NULL). For
 * running a pool job inline (deterministic mode) on any thread. */
fxi_fault_site *fxi_fault_thread_push(fxi_fault_site *site, jmp_buf *jb);
void fxi_fault_thread_pop(fxi_fault_site *prev);

/* True when the calling thread's current site is armed and is not outer:
 * a site pushed on top of outer (fxi_fault_thread_push) is running
 * something that must crash by itself, not outer's handler. */
bool fxi_fault_inner_armed(const fxi_fault_site *outer);

/* The site for a user callback made on a thread whose own site is outer
 * (a scheduler thread's): the pushed site when one is armed on top of it
 * (a callback from an inline pool job must land there, where its crashes
 * land), else outer. */
fxi_fault_site *fxi_fault_site_for(fxi_fault_site *outer);

/* The calling thread's site if it traps hardware faults (entered with
 * fxi_fault_thread_enter, hence with a signal stack), else NULL. For code
 * that calls user callbacks on threads other than the schedulers (the
 * watchdog's reports, pool threads): fxi_fault_call on it. */
fxi_fault_site *fxi_fault_thread_site(void);

/* fx_crash(NULL) on a thread that runs no handler: if the calling
 * thread's site is armed, copies text into site->text, sets signo 0 and
 * jumps to the site's landing point (does not return). Returns when no
 * site is armed. */
void fxi_fault_crash_here(const char *text);

/* Formats "SIGSEGV at 0x10" for a trapped fault into buf. */
void fxi_fault_describe(int signo, const void *addr, char *buf, size_t size);

/* Calls fn(arg) on the calling thread with site armed and its own landing
 * point: a trapped fault (or fx_crash(NULL)) in fn abandons fn and returns
 * here. Returns true if fn ran to its end. The site's previous landing
 * point and armed state are restored. */
bool fxi_fault_call(fxi_fault_site *site, void (*fn)(void *), void *arg);

/* As fxi_fault_call, and when fn was abandoned, *signo (required) gets
 * the signal (0 for fx_crash(NULL)) and *addr (may be NULL) the faulting
 * address. */
bool fxi_fault_call_ex(fxi_fault_site *site, void (*fn)(void *), void *arg, int *signo,
                       void **addr);

static inline void fxi_fault_arm(fxi_fault_site *site)
{
    site->armed = 1;
}
static inline void fxi_fault_disarm(fxi_fault_site *site)
{
    site->armed = 0;
}

#endif
