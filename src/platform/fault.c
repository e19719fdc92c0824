/* Fault trapping; see fault.h and docs/failures.md. */
#include "platform/fault.h"

#include <fauxtp/error.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/mutex.h"

static const int trapped[] = {SIGSEGV, SIGFPE, SIGBUS, SIGILL};
#define NTRAPPED (sizeof trapped / sizeof trapped[0])

/* Guarded by install_mx: the install count and the handlers we replaced
 * (read by the signal handler only while installed). */
static fxi_mutex install_mx = FXI_MUTEX_INITIALIZER(FXI_RANK_FAULT, "fault.install");
static unsigned install_count;
static struct sigaction previous[NTRAPPED];

static _Thread_local fxi_fault_site *tls_site;

static int slot_of(int signo)
{
    for (unsigned i = 0; i < NTRAPPED; i++)
        if (trapped[i] == signo)
            return (int) i;
    return -1;
}

/* Not ours to trap: hand the signal to whoever had it before. */
static void chain(int signo, siginfo_t *si, void *uc)
{
    int i = slot_of(signo);
    const struct sigaction *p = &previous[i];
    if ((p->sa_flags & SA_SIGINFO) && p->sa_sigaction) {
        p->sa_sigaction(signo, si, uc);
        return;
    }
    if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
        p->sa_handler(signo);
        return;
    }
    /* Default action: restore it and re-raise; the signal is blocked in
     * this handler, so it is delivered (fatally) on return. A hardware
     * fault would also simply recur. */
    signal(signo, SIG_DFL);
    raise(signo);
}

static void on_fault(int signo, siginfo_t *si, void *uc)
{
    fxi_fault_site *site = tls_site;
    /* A bound site (no signal stack) traps fx_crash(NULL) only. */
    if (!site || !site->armed || !site->altstack) {
        chain(signo, si, uc);
        return;
    }
    site->armed = 0;
    site->signo = signo;
    site->addr = si ? si->si_addr : NULL;
    /* Leave the handler by longjmp: unblock the signal first (the jump
     * does not restore the mask), so the next fault is caught too. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    _longjmp(*site->jb, 1);
}

int fxi_fault_install(void)
{
    int rc = 0;
    fxi_mutex_lock(&install_mx);
    if (install_count++ == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fault;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        for (unsigned i = 0; i < NTRAPPED; i++) {
            if (sigaction(trapped[i], &sa, &previous[i]) != 0) {
                while (i-- > 0)
                    sigaction(trapped[i], &previous[i], NULL);
                install_count = 0;
                rc = FX_ESYS;
                break;
            }
        }
    }
    fxi_mutex_unlock(&install_mx);
    return rc;
}

void fxi_fault_uninstall(void)
{
    fxi_mutex_lock(&install_mx);
    if (install_count > 0 && --install_count == 0) {
        for (unsigned i = 0; i < NTRAPPED; i++) {
            struct sigaction cur;
            /* Put back the previous handler only if ours is still the
             * one installed (the embedder may have replaced it since). */
            if (sigaction(trapped[i], NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
                cur.sa_sigaction == on_fault)
                sigaction(trapped[i], &previous[i], NULL);
        }
    }
    fxi_mutex_unlock(&install_mx);
}

int fxi_fault_thread_enter(fxi_fault_site *site, jmp_buf *jb)
{
    size_t size = 64 * 1024;
#ifdef _SC_SIGSTKSZ
    long min = sysconf(_SC_SIGSTKSZ);
    if (min > 0 && (size_t) min * 4 > size)
        size = (size_t) min * 4;
#endif
    void *stack =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return FX_ENOMEM;
    stack_t ss = {.ss_sp = stack, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(stack, size);
        return FX_ESYS;
    }
    site->armed = 0;
    site->signo = 0;
    site->addr = NULL;
    site->jb = jb;
    site->altstack = stack;
    site->altstack_size = size;
    tls_site = site;
    return 0;
}

void fxi_fault_thread_exit(fxi_fault_site *site)
{
    tls_site = NULL;
    if (!site->altstack)
        return;
    stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(site->altstack, site->altstack_size);
    site->altstack = NULL;
}

fxi_fault_site *fxi_fault_thread_site(void)
{
    return tls_site && tls_site->altstack ? tls_site : NULL;
}

void fxi_fault_thread_bind(fxi_fault_site *site, jmp_buf *jb)
{
    site->armed = 0;
    site->signo = 0;
    site->addr = NULL;
    site->jb = jb;
    site->altstack = NULL;
    site->altstack_size = 0;
    site->text[0] = '\0';
    tls_site = site;
}

fxi_fault_site *fxi_fault_thread_push(fxi_fault_site *site, jmp_buf *jb)
{
    fxi_fault_site *prev = tls_site;
    fxi_fault_thread_bind(site, jb);
    if (prev && prev->altstack) {
        /* The thread's signal stack is installed: share it (the pop
         * leaves it to its owner). */
        site->altstack = prev->altstack;
        site->altstack_size = prev->altstack_size;
    }
    return prev;
}

void fxi_fault_thread_pop(fxi_fault_site *prev)
{
    tls_site = prev;
}

bool fxi_fault_inner_armed(const fxi_fault_site *outer)
{
    return tls_site && tls_site != outer && tls_site->armed;
}

fxi_fault_site *fxi_fault_site_for(fxi_fault_site *outer)
{
    return fxi_fault_inner_armed(outer) ? tls_site : outer;
}

void fxi_fault_crash_here(const char *text)
{
    fxi_fault_site *site = tls_site;
    if (!site || !site->armed)
        return;
    site->armed = 0;
    site->signo = 0;
    site->addr = NULL;
    snprintf(site->text, sizeof site->text, "%s", text ? text : "");
    _longjmp(*site->jb, 1);
}

void fxi_fault_describe(int signo, const void *addr, char *buf, size_t size)
{
    const char *name = signo == SIGSEGV  ? "SIGSEGV"
                       : signo == SIGFPE ? "SIGFPE"
                       : signo == SIGBUS ? "SIGBUS"
                       : signo == SIGILL ? "SIGILL"
                                         : "signal";
    snprintf(buf, size, "%s at %p", name, addr);
}

bool fxi_fault_call(fxi_fault_site *site, void (*fn)(void *), void *arg)
{
    int signo;
    return fxi_fault_call_ex(site, fn, arg, &signo, NULL);
}

bool fxi_fault_call_ex(fxi_fault_site *site, void (*fn)(void *), void *arg, int *signo,
                       void **addr)
{
    jmp_buf jb;
    jmp_buf *volatile prev = site->jb;
    volatile sig_atomic_t was = site->armed;
    volatile bool done = false;
    if (_setjmp(jb) == 0) {
        site->jb = &jb;
        site->armed = 1;
        fn(arg);
        done = true;
    }
    site->armed = was;
    site->jb = prev;
    if (!done) {
        *signo = site->signo;
        if (addr)
            *addr = site->addr;
    }
    site->signo = 0;
    return done;
}
