/* The chaos run's account: receiver records, the death ledger, sender
 * maps, timers and call outcomes, and the final check that holds every
 * accepted message to a handled one or to its receiver's death. */
#include "chaos.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The ledger lock protects the live list, the ledger, the timer list,
 * and hands the sender maps over to the main thread at the end (each
 * sender takes it once when it is done). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rx live = {.prev = &live, .next = &live};
static rx **ledger;
static size_t nledger, capledger;
static uint64_t births, deaths_before; /* deaths_before: pruned rounds */
static fx_timer *tlist;
static size_t ntimers, captimers;

smap senders[MAX_SENDERS];
calls call_acct;
ops op_acct;
atomic_int sabotage;
int round_no = 1;

static void *grow(void *v, size_t *cap, size_t elem)
{
    size_t c = *cap ? *cap * 2 : 256;
    void *p = realloc(v, c * elem);
    if (!p) {
        fprintf(stderr, "chaos: out of memory\n");
        abort();
    }
    *cap = c;
    return p;
}

rx *rx_born(fx_pid pid, int slot, int kind)
{
    rx *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->pid = pid;
    r->slot = slot;
    r->kind = kind;
    pthread_mutex_lock(&lock);
    births++;
    r->next = &live;
    r->prev = live.prev;
    live.prev->next = r;
    live.prev = r;
    pthread_mutex_unlock(&lock);
    return r;
}

void rx_record(rx *r, const void *data, size_t size)
{
    tag t;
    if (size != sizeof t) {
        r->order++; /* a message without a tag: cannot happen */
        return;
    }
    memcpy(&t, data, sizeof t);
    if (t.sender >= MAX_SENDERS) {
        r->order++;
        return;
    }
    r->handled++;
    if (t.seq == TIMER_SEQ) {
        r->timers[t.sender]++;
        return;
    }
    /* The deliberate fault of --sabotage: in every receiver, one ordered
     * message past the 100th it handles goes unrecorded, as if the runtime
     * had lost it. One such loss goes unseen only if the receiver dies
     * before its sender's next message to it; with every receiver losing
     * one, some loss is always seen. */
    if (r->handled >= 100 && !r->skipped &&
        atomic_load_explicit(&sabotage, memory_order_relaxed)) {
        r->skipped = 1;
        return;
    }
    if (t.seq != r->last[t.sender] + 1) {
        if (r->order++ == 0)
            fprintf(stderr, "chaos: order: sender %u to %#llx: seq %u after %u\n",
                    t.sender, (unsigned long long) r->pid.id, t.seq, r->last[t.sender]);
    }
    if (t.seq > r->last[t.sender])
        r->last[t.sender] = t.seq;
}

void rx_died(rx *r, const fx_reason *reason)
{
    r->reason = *reason;
    pthread_mutex_lock(&lock);
    r->prev->next = r->next;
    r->next->prev = r->prev;
    r->prev = r->next = NULL;
    if (nledger == capledger)
        ledger = grow(ledger, &capledger, sizeof *ledger);
    ledger[nledger++] = r;
    pthread_mutex_unlock(&lock);
}

size_t rx_live_pids(fx_pid *out, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&lock);
    for (rx *r = live.next; r != &live; r = r->next)
        if (n < cap)
            out[n++] = r->pid;
        else
            n++;
    pthread_mutex_unlock(&lock);
    return n;
}

/* ---- sender maps: open addressing on the pid --------------------------- */

static size_t slot_of(uint64_t pid, size_t cap)
{
    return (size_t) ((pid * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

pair *smap_get(smap *m, uint64_t pid)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        pair *v = calloc(cap, sizeof *v);
        if (!v)
            abort();
        for (size_t i = 0; i < m->cap; i++)
            if (m->v[i].pid) {
                size_t j = slot_of(m->v[i].pid, cap);
                while (v[j].pid)
                    j = (j + 1) & (cap - 1);
                v[j] = m->v[i];
            }
        free(m->v);
        m->v = v;
        m->cap = cap;
    }
    size_t j = slot_of(pid, m->cap);
    while (m->v[j].pid && m->v[j].pid != pid)
        j = (j + 1) & (m->cap - 1);
    if (!m->v[j].pid) {
        m->v[j].pid = pid;
        m->n++;
    }
    return &m->v[j];
}

void sender_done(void)
{
    pthread_mutex_lock(&lock); /* hands this sender's map to the main thread */
    pthread_mutex_unlock(&lock);
}

/* ---- timers and calls ---------------------------------------------------- */

void timer_note(fx_timer t)
{
    pthread_mutex_lock(&lock);
    if (ntimers == captimers)
        tlist = grow(tlist, &captimers, sizeof *tlist);
    tlist[ntimers++] = t;
    pthread_mutex_unlock(&lock);
}

/* Waits until no timer is pending (each fired or was cancelled). */
int timers_wait(fx_vm *vm, int64_t deadline_ms)
{
    int64_t end = now_ns() + deadline_ms * 1000000;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < ntimers; i++) {
        while (fx_read_timer(vm, tlist[i]) >= 0) {
            if (now_ns() > end) {
                pthread_mutex_unlock(&lock);
                return -1;
            }
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

void call_ended(int rc, int reply_ok)
{
    /* Relaxed: plain counters, read after every caller has finished. */
    switch (rc) {
    case 0:
        atomic_fetch_add_explicit(reply_ok ? &call_acct.replied : &call_acct.bad_reply, 1,
                                  memory_order_relaxed);
        break;
    case FX_ETIMEDOUT:
        atomic_fetch_add_explicit(&call_acct.timedout, 1, memory_order_relaxed);
        break;
    case FX_EEXIT:
        atomic_fetch_add_explicit(&call_acct.exited, 1, memory_order_relaxed);
        break;
    case FX_ENOPROC:
        atomic_fetch_add_explicit(&call_acct.noproc, 1, memory_order_relaxed);
        break;
    case FX_ENOENT:
        atomic_fetch_add_explicit(&call_acct.noname, 1, memory_order_relaxed);
        break;
    default:
        fprintf(stderr, "chaos: a call ended with %s\n", fx_err_name(rc));
        atomic_fetch_add_explicit(&call_acct.bad_rc, 1, memory_order_relaxed);
    }
}

void unexpected(const char *what, int rc)
{
    fprintf(stderr, "chaos: unexpected answer: %s: %s\n", what, fx_err_name(rc));
    /* Relaxed: a counter read at the end. */
    atomic_fetch_add_explicit(&op_acct.unexpected, 1, memory_order_relaxed);
}

/* ---- the check -------------------------------------------------------------- */

static int by_pid(const void *a, const void *b)
{
    uint64_t x = (*(rx *const *) a)->pid.id, y = (*(rx *const *) b)->pid.id;
    return x < y ? -1 : x > y;
}

static rx *find(uint64_t pid)
{
    size_t lo = 0, hi = nledger;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ledger[mid]->pid.id < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nledger && ledger[lo]->pid.id == pid ? ledger[lo] : NULL;
}

/* Pids of receivers that died in earlier rounds, sorted. */
static uint64_t *dead;
static size_t ndead, capdead;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static int dead_before(uint64_t pid)
{
    return ndead && bsearch(&pid, dead, ndead, sizeof *dead, cmp_u64) != NULL;
}

/* Between soak rounds: forgets the dead (their pairs are settled) and
 * the timers (all done), keeping the pairs of live receivers. */
static void prune(void)
{
    for (int s = 0; s < MAX_SENDERS; s++) {
        smap old = senders[s], m = {0};
        for (size_t i = 0; i < old.cap; i++)
            if (old.v[i].pid && !find(old.v[i].pid))
                *smap_get(&m, old.v[i].pid) = old.v[i];
        free(old.v);
        senders[s] = m;
    }
    for (size_t i = 0; i < nledger; i++) {
        if (ndead == capdead)
            dead = grow(dead, &capdead, sizeof *dead);
        dead[ndead++] = ledger[i]->pid.id;
        free(ledger[i]);
    }
    qsort(dead, ndead, sizeof *dead, cmp_u64);
    deaths_before += nledger;
    nledger = 0;
    ntimers = 0;
}

#define LD(x) ((unsigned long long) atomic_load_explicit(&(x), memory_order_relaxed))

int account_check(FILE *out, int final)
{
    int bad = 0;
    pthread_mutex_lock(&lock); /* every sender is done: see sender_done */
    qsort(ledger, nledger, sizeof *ledger, by_pid);
    for (size_t i = 1; i < nledger; i++)
        if (ledger[i]->pid.id == ledger[i - 1]->pid.id) {
            fprintf(out, "MISMATCH: pid %#llx died twice\n",
                    (unsigned long long) ledger[i]->pid.id);
            bad++;
        }
    uint64_t synced = 0, order = 0, handled_all = 0;
    for (size_t i = 0; i < nledger; i++) {
        synced += ledger[i]->synced == round_no;
        order += ledger[i]->order;
        for (int s = 0; s < MAX_SENDERS; s++)
            handled_all += ledger[i]->last[s] + ledger[i]->timers[s];
    }
    fprintf(out, "\n%-8s %10s %10s %10s | %10s %10s %10s | %8s\n", "sender", "accepted",
            "handled", "died-with", "timers", "handled", "died-with", "pairs");
    uint64_t tot[6] = {0}, matched = 0;
    for (int s = 0; s < MAX_SENDERS; s++) {
        smap *m = &senders[s];
        uint64_t a = 0, h = 0, d = 0, ta = 0, th = 0, td = 0;
        for (size_t i = 0; i < m->cap; i++) {
            pair *p = &m->v[i];
            if (!p->pid)
                continue;
            rx *r = find(p->pid);
            if (!r && dead_before(p->pid)) {
                /* Sent (a timer, a cast) to a receiver that had died in an
                 * earlier round: dropped, attributed to that death. */
                a += p->seq, d += p->seq, ta += p->tnet, td += p->tnet;
                continue;
            }
            if (!r) {
                if (final && (p->seq || p->tnet)) { /* else it may be alive */
                    fprintf(out,
                            "MISMATCH: sender %d: %u messages, %llu timers to %#llx, "
                            "which never died as a receiver\n",
                            s, p->seq, (unsigned long long) p->tnet,
                            (unsigned long long) p->pid);
                    bad++;
                }
                continue;
            }
            uint64_t hs = r->last[s], ht = r->timers[s];
            matched += hs + ht;
            if (hs > p->seq || ht > p->tnet) {
                fprintf(out,
                        "MISMATCH: sender %d to %#llx: handled %llu+%llu > accepted "
                        "%u+%llu\n",
                        s, (unsigned long long) p->pid, (unsigned long long) hs,
                        (unsigned long long) ht, p->seq, (unsigned long long) p->tnet);
                bad++;
                continue;
            }
            if (r->synced == round_no && (hs != p->seq || ht != p->tnet)) {
                fprintf(out,
                        "MISMATCH: sender %d to %#llx (alive at the sync): accepted "
                        "%u+%llu, handled %llu+%llu\n",
                        s, (unsigned long long) p->pid, p->seq,
                        (unsigned long long) p->tnet, (unsigned long long) hs,
                        (unsigned long long) ht);
                bad++;
            }
            a += p->seq, h += hs, d += p->seq - hs;
            ta += p->tnet, th += ht, td += p->tnet - ht;
        }
        if (m->n == 0)
            continue;
        fprintf(out, "%-8d %10llu %10llu %10llu | %10llu %10llu %10llu | %8zu\n", s,
                (unsigned long long) a, (unsigned long long) h, (unsigned long long) d,
                (unsigned long long) ta, (unsigned long long) th, (unsigned long long) td,
                m->n);
        uint64_t row[6] = {a, h, d, ta, th, td};
        for (int k = 0; k < 6; k++)
            tot[k] += row[k];
    }
    fprintf(out, "%-8s %10llu %10llu %10llu | %10llu %10llu %10llu |\n", "total",
            (unsigned long long) tot[0], (unsigned long long) tot[1],
            (unsigned long long) tot[2], (unsigned long long) tot[3],
            (unsigned long long) tot[4], (unsigned long long) tot[5]);
    if (matched != handled_all) {
        fprintf(out,
                "MISMATCH: receivers handled %llu tagged messages, senders account "
                "for %llu\n",
                (unsigned long long) handled_all, (unsigned long long) matched);
        bad++;
    }
    if (order) {
        fprintf(out, "MISMATCH: %llu order violations (gap, duplicate or reorder)\n",
                (unsigned long long) order);
        bad++;
    }
    size_t nlive = 0;
    for (rx *r = live.next; r != &live; r = r->next)
        nlive++;
    fprintf(out, "receivers: %llu born, %llu died, %llu synced alive, %zu alive\n",
            (unsigned long long) births, (unsigned long long) (deaths_before + nledger),
            (unsigned long long) synced, nlive);
    if (births != deaths_before + nledger + nlive || (final && nlive)) {
        fprintf(out, "MISMATCH: births != deaths\n");
        bad++;
    }
    calls *c = &call_acct;
    uint64_t ended = LD(c->replied) + LD(c->timedout) + LD(c->exited) + LD(c->noproc) +
                     LD(c->noname) + LD(c->bad_reply) + LD(c->bad_rc);
    fprintf(
        out,
        "calls: %llu started, %llu ended: %llu replied, %llu timed out, %llu exit, "
        "%llu noproc, %llu no name; %llu wrong replies, %llu bad codes, %llu strays\n",
        LD(c->started), (unsigned long long) ended, LD(c->replied), LD(c->timedout),
        LD(c->exited), LD(c->noproc), LD(c->noname), LD(c->bad_reply), LD(c->bad_rc),
        LD(c->stray));
    if (ended != LD(c->started) || LD(c->bad_reply) || LD(c->bad_rc) || LD(c->stray)) {
        fprintf(out, "MISMATCH: calls\n");
        bad++;
    }
    ops *o = &op_acct;
    fprintf(out,
            "ops: %llu sends (%llu by name), %llu casts, %llu timers (%llu cancelled), "
            "%llu crashes, %llu kills, %llu mid kills, %llu spawns, %llu temp stops, "
            "%llu registers, %llu unregisters, %llu supervisor calls\n",
            LD(o->sends), LD(o->sends_named), LD(o->casts), LD(o->timers), LD(o->cancels),
            LD(o->crashes), LD(o->kills), LD(o->mid_kills), LD(o->spawns),
            LD(o->temp_stops), LD(o->reg), LD(o->unreg), LD(o->sup_ops));
    if (LD(o->unexpected)) {
        fprintf(out, "MISMATCH: %llu unexpected API answers\n", LD(o->unexpected));
        bad++;
    }
    if (!final)
        prune();
    pthread_mutex_unlock(&lock);
    return bad;
}
