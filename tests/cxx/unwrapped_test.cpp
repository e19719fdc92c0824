// What an exception escaping an UNWRAPPED callback does (docs/cxx.md):
// it never crosses fauxtp's frames and never goes unnoticed. On a
// scheduler thread it reaches the end of the stack and std::terminate
// aborts the program; where a user frame with a catch sits above fauxtp's
// (a cleanup callback run by fx_vm_shutdown), the library's frames carry
// no unwind tables (src/meson.build), so it terminates too instead of
// skipping the shutdown's own cleanup. Each case runs in a forked child,
// which must die of SIGABRT. Exits 0 when both do.
#include <fauxtp/fauxtp.h>

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace
{

fx_next thrower(fx_ctx *, fx_msg *)
{
    throw std::runtime_error("unwrapped handler");
}

fx_next idle(fx_ctx *cx, fx_msg *)
{
    return fx_continue(cx);
}

fx_next become_idle(fx_ctx *cx, void *)
{
    return fx_become(cx, idle);
}

void throwing_cleanup(void *, const fx_reason *)
{
    throw std::runtime_error("unwrapped cleanup");
}

fx_vm *start_vm()
{
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    c.crash_logger = fx_crash_logger_silent;
    fx_vm *vm = nullptr;
    if (fx_vm_create(&c, &vm) != 0 || fx_vm_start(vm) != 0)
        _exit(3);
    return vm;
}

void in_handler()
{
    fx_vm *vm = start_vm();
    fx_pid p;
    if (fx_vm_spawn(vm, thrower, nullptr, &p) != 0 ||
        fx_vm_send(vm, p, 1, nullptr, 0) != 0)
        _exit(3);
    sleep(30); // the scheduler thread terminates the program first
    _exit(0);
}

void in_cleanup_at_shutdown()
{
    fx_vm *vm = start_vm();
    fx_spawn_opts o = {};
    o.init = become_idle;
    o.cleanup = throwing_cleanup;
    fx_pid p;
    if (fx_vm_spawn_opt(vm, &o, &p) != 0)
        _exit(3);
    try {
        fx_vm_shutdown(vm); // runs the cleanup on this thread
    } catch (...) {
        _exit(4); // crossed fauxtp's frames: what must not happen
    }
    _exit(0);
}

// 0 when the child died of SIGABRT.
int expect_abort(void (*run)(), const char *what)
{
    pid_t c = fork();
    if (c == 0) {
        alarm(60);
        run();
        _exit(0);
    }
    int st = 0;
    if (c < 0 || waitpid(c, &st, 0) != c)
        return 1;
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT) {
        std::printf("%s: terminated (SIGABRT), as documented\n", what);
        return 0;
    }
    if (WIFSIGNALED(st))
        std::printf("%s: died of signal %d, expected SIGABRT\n", what, WTERMSIG(st));
    else
        std::printf("%s: exited with %d, expected SIGABRT (4: caught past fauxtp)\n",
                    what, WEXITSTATUS(st));
    return 1;
}

} // namespace

int main()
{
    int bad = expect_abort(in_handler, "exception in an unwrapped handler");
#if FX_TEST_NO_UNWIND_TABLES
    bad |= expect_abort(in_cleanup_at_shutdown, "exception in an unwrapped cleanup");
#else
    (void) in_cleanup_at_shutdown;
    std::printf("cleanup case skipped: this build keeps unwind tables (sanitizers)\n");
#endif
    return bad;
}
