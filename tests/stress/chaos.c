/* The seeded chaos run with a full account (see chaos.h for the words).
 *
 * A supervision tree of GenServers and plain actors (chaos_work.c) is
 * shaken for a while by driver actors and outside threads
 * (chaos_drive.c): random crashes, kills, restarts, spawns, registry
 * churn, timers, sends by pid and by name, casts, and calls from inside
 * and outside the VM with random timeouts. Then the senders stop, every
 * pending timer is let fire, every receiver still alive is synced (it
 * answers once everything queued before has been handled), the tree is
 * stopped and the VM shut down. The account (chaos_acct.c) must then
 * hold: for every (sender, receiver) pair, accepted = handled + died
 * with the receiver (and nothing died with a receiver that was alive at
 * the sync), handled in send order with no gap or duplicate; every call
 * ended once, with its own reply, a timeout or an exit reason, and no
 * late reply anywhere; every receiver's death recorded once; no process
 * alive after shutdown. Prints the account; exits 1 on any mismatch.
 *
 * Usage: chaos [--seed N] [--ms MS] [--ops N] [--threads T] [--drivers D]
 *              [--outside O] [--rounds R] [--idle S] [--sabotage]
 * --rounds: R rounds of MS each in the same VM and tree, each accounted
 * (then its dead are forgotten, so a long soak stays in bounded memory).
 * --idle: after the last round, leave the VM idle S seconds and print the
 * CPU it used meanwhile.
 * The seed fixes every sender's decisions (the interleaving is the
 * machine's). --sabotage drops one record on purpose: the account must see it, and
 * the exit status is then 0 (1 if it was not seen; a crash fails too). */
#include "chaos.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
    fprintf(stderr,
            "usage: chaos [--seed N] [--ms MS] [--ops N] [--threads T] "
            "[--drivers 1-6] [--outside 1-4] [--rounds R] [--idle S] [--sabotage]\n");
    return 2;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "chaos: %s: %s\n", what, fx_err_name(rc));
    return 1;
}

/* Syncs every live receiver: sends M_SYNC from the inbox and waits for
 * its ack (it has handled everything queued before) or its DOWN. */
static int sync_all(fx_inbox *in, uint64_t *acked, uint64_t *gone)
{
    enum { CAP = 8192 };
    static fx_pid pids[CAP];
    size_t n = rx_live_pids(pids, CAP);
    if (n > CAP)
        return fail("sync: too many live receivers", FX_ELIMIT);
    for (size_t i = 0; i < n; i++) {
        fx_ref ref;
        int rc = fx_inbox_monitor(in, pids[i], &ref);
        if (rc != 0)
            return fail("sync: monitor", rc);
        uint32_t round = (uint32_t) round_no;
        rc = fx_inbox_send(in, pids[i], M_SYNC, &round, sizeof round);
        if (rc != 0 && rc != FX_ENOPROC)
            return fail("sync: send", rc);
        fx_match m = {.from = pids[i]};
        fx_msg *got;
        rc = fx_inbox_recv(in, &m, 30000, &got);
        if (rc != 0)
            return fail("sync: no ack nor DOWN", rc);
        if (fx_msg_type(got) == M_SYNC_ACK)
            (*acked)++;
        else if (fx_msg_type(got) == FX_MSG_DOWN)
            (*gone)++;
        else
            return fail("sync: unexpected message", (int) fx_msg_type(got));
        fx_msg_free(got);
        fx_inbox_demonitor(in, ref, FX_DEMONITOR_FLUSH);
    }
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* One round: the senders run for ms (or their op cap), stop, every timer
 * is let fire, every live receiver is synced. Returns mismatches. */
static int one_round(fx_inbox *in, long ms)
{
    int rc, bad = 0;
    atomic_store(&R.stop, 0);
    R.deadline_ns = now_ns() + (int64_t) ms * 1000000;
    fx_pid drivers[6];
    if ((rc = drivers_start(in, drivers)) != 0)
        return fail("start the drivers", rc);
    pthread_t th[4];
    for (int t = 0; t < R.outside; t++)
        pthread_create(&th[t], NULL, outside_thread,
                       (void *) (uintptr_t) (R.drivers + t));
    /* The chaos runs until the deadline (or every sender's op cap). */
    for (int t = 0; t < R.outside; t++)
        pthread_join(th[t], NULL);
    atomic_store(&R.stop, 1);
    for (int d = 0; d < R.drivers; d++) {
        if ((rc = fx_vm_send(R.vm, drivers[d], M_HALT, NULL, 0)) != 0)
            return fail("halt a driver", rc);
        fx_match m = {.type = FX_MSG_DOWN, .from = drivers[d]};
        fx_msg *down;
        if ((rc = fx_inbox_recv(in, &m, 60000, &down)) != 0)
            return fail("a driver did not stop", rc);
        fx_msg_free(down);
    }
    sender_done(); /* the main thread now reads every sender's map */
    if (timers_wait(R.vm, 60000) != 0) {
        printf("MISMATCH: timers still pending 60 s after the senders stopped\n");
        bad++;
    }
    /* A timer leaves the wheel (fx_read_timer then answers FX_ENOENT) and
     * its message is pushed right after, outside the wheel's lock: give
     * that push time to land before the sync. A heuristic: a thread
     * descheduled longer than this would show as a lost timer message. */
    sleep_ms(100);
    uint64_t acked = 0, gone = 0;
    if (sync_all(in, &acked, &gone) != 0)
        bad++;
    printf("sync: %llu receivers alive answered, %llu died meanwhile\n",
           (unsigned long long) acked, (unsigned long long) gone);
    return bad;
}

int main(int argc, char **argv)
{
    uint64_t seed = (uint64_t) time(NULL) ^ (uint64_t) now_ns();
    long ms = 3000, threads = 0, idle_s = 0;
    int rounds = 1, sabotaged = 0;
    R.drivers = 3;
    R.outside = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--sabotage")) {
            atomic_store(&sabotage, 1);
            sabotaged = 1;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        unsigned long long v = strtoull(argv[++i], NULL, 0);
        if (!strcmp(a, "--seed"))
            seed = v;
        else if (!strcmp(a, "--ms"))
            ms = (long) v;
        else if (!strcmp(a, "--ops"))
            R.max_ops = v;
        else if (!strcmp(a, "--threads"))
            threads = (long) v;
        else if (!strcmp(a, "--rounds") && v >= 1 && v <= 100000)
            rounds = (int) v;
        else if (!strcmp(a, "--idle"))
            idle_s = (long) v;
        else if (!strcmp(a, "--drivers") && v >= 1 && v <= 6)
            R.drivers = (int) v;
        else if (!strcmp(a, "--outside") && v >= 1 && v <= 4)
            R.outside = (int) v;
        else
            return usage();
    }
    R.seed = seed;
    printf(
        "chaos: seed %llu, %ld ms, ops cap %llu, %ld VM threads, %d drivers, %d outside "
        "threads%s\n",
        (unsigned long long) seed, ms, (unsigned long long) R.max_ops, threads, R.drivers,
        R.outside, sabotaged ? ", SABOTAGE" : "");
    fflush(stdout);

    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = (uint32_t) threads;
    cfg.crash_logger = fx_crash_logger_silent; /* crashes are the point */
    cfg.log_sink = fx_log_sink_silent;         /* and so are restarts */
    int rc = fx_vm_create(&cfg, &R.vm);
    if (rc == 0)
        rc = fx_vm_start(R.vm);
    if (rc != 0)
        return fail("vm", rc);
    fx_vm_stats st0;
    fx_vm_stats_get(R.vm, &st0);
    fx_inbox *in;
    if ((rc = fx_inbox_create(R.vm, &in)) != 0)
        return fail("inbox", rc);

    tree_build(R.outside);
    fx_reason swhy;
    if ((rc = fx_sup_start(in, &root_spec, &R.root, &swhy)) != 0)
        return fail("start the tree", rc);
    int bad = 0;
    for (round_no = 1; round_no <= rounds; round_no++) {
        int final = round_no == rounds;
        bad += one_round(in, ms);
        if (!final) {
            printf("round %d of %d:", round_no, rounds);
            bad += account_check(stdout, 0);
            fflush(stdout);
        }
    }
    round_no = rounds;
    if (idle_s > 0) {
        /* The tree stays up, idle: tools/soak samples the CPU it burns. */
        struct rusage u0, u1;
        getrusage(RUSAGE_SELF, &u0);
        printf("chaos: idle for %ld s (pid %d)\n", idle_s, (int) getpid());
        fflush(stdout);
        sleep_ms(idle_s * 1000);
        getrusage(RUSAGE_SELF, &u1);
        double cpu = (double) (u1.ru_utime.tv_sec - u0.ru_utime.tv_sec) +
                     (double) (u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) +
                     (double) (u1.ru_utime.tv_usec - u0.ru_utime.tv_usec) / 1e6 +
                     (double) (u1.ru_stime.tv_usec - u0.ru_stime.tv_usec) / 1e6;
        printf("chaos: idle VM used %.3f s of CPU in %ld s (%.2f%%)\n", cpu, idle_s,
               100.0 * cpu / (double) idle_s);
    }

    fx_reason why;
    rc = fx_gs_stop_server(in, R.root, fx_reason_shutdown(), 60000, &why);
    if (rc != 0) {
        printf("MISMATCH: stopping the tree: %s\n", fx_err_name(rc));
        bad++;
    }
    fx_inbox_destroy(in);
    if ((rc = fx_vm_shutdown(R.vm)) != 0)
        return fail("shutdown", rc);
    fx_vm_stats st;
    fx_vm_stats_get(R.vm, &st);
    printf("processes: %llu before the run, %llu spawned, %llu alive after shutdown, "
           "%llu messages dropped\n",
           (unsigned long long) st0.processes, (unsigned long long) st.spawned,
           (unsigned long long) st.processes, (unsigned long long) st.messages_dropped);
    if (st.processes != 0) {
        printf("MISMATCH: processes alive after shutdown\n");
        bad++;
    }
    bad += account_check(stdout, 1);
    fx_vm_destroy(R.vm);
    printf("chaos: seed %llu: %s (%d mismatches)\n", (unsigned long long) seed,
           bad ? "FAILED" : "ok", bad);
    if (sabotaged) {
        /* The run reached its end and the account saw the dropped record:
         * only that passes (a crash, a hang or a clean account fail). */
        printf("chaos: sabotage %s\n", bad ? "caught" : "NOT caught");
        return bad ? 0 : 1;
    }
    return bad ? 1 : 0;
}
