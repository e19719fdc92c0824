/* fauxtp-idlecpu [SECONDS] [net]: CPU time an idle VM uses. Starts a VM with one
 * thread per core, exchanges one message so every thread has run, then
 * sleeps and reports the process's user+system CPU over the idle period.
 * With `net`, the echo process first listens on a loopback port, so the
 * I/O poller is plugged in and a parked thread waits in it. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static int with_net;

static fx_next echo(fx_ctx *cx, fx_msg *m)
{
    if (with_net) {
        fx_net_addr a;
        fx_sock ls;
        if (fx_net_addr_ip("127.0.0.1", 0, &a) || fx_net_listen(cx, &a, NULL, &ls) ||
            fx_net_accept(cx, ls, 1))
            fx_crash(cx, "listen failed");
        with_net = 0;
    }
    fx_send(cx, fx_msg_from(m), 2, NULL, 0);
    return fx_continue(cx);
}

static double cpu_seconds(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double) (r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           (double) (r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 5;
    with_net = argc > 2 && argv[2][0] == 'n';
    fx_vm *vm;
    fx_inbox *in;
    fx_pid p;
    fx_msg *m;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in) ||
        fx_vm_spawn(vm, echo, NULL, &p) || fx_inbox_send(in, p, 1, NULL, 0) ||
        fx_inbox_recv(in, NULL, 5000, &m)) {
        fprintf(stderr, "fauxtp-idlecpu: VM failed\n");
        return 1;
    }
    fx_msg_free(m);
    usleep(100000); /* let the threads finish spinning and park */
    double before = cpu_seconds();
    sleep((unsigned) secs);
    double used = cpu_seconds() - before;
    printf("{\"idle_seconds\":%d,\"threads\":%u,\"cpu_seconds\":%.6f,\"cpu_percent\":%."
           "4f}\n",
           secs, fx_vm_threads(vm), used, 100.0 * used / secs);
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    return 0;
}
