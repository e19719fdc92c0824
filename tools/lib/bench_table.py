"""Benchmark results.

    bench_table.py RESULTS.jsonl
        prints a Markdown table: median ops/s per system, and fauxtp's ratio
        to each peer (higher is better for fauxtp).
    bench_table.py --check BENCH SYSTEM N THREADS  < LINE
        checks one result line against the contract in DESIGN.md
        ("Performance contract"): the right bench, system, n and threads,
        positive timing, and extra.ops as the table there counts them; for
        the latency group also ordered percentiles and a running background.
        Prints what is wrong and exits 1, or exits 0. N may be "-" for the
        system's default.

load() is shared with bench_chart.py."""
import json
import statistics
import sys


# ops for n, per benchmark: DESIGN.md, "Performance contract".
OPS = {
    "pingpong": lambda n: 2 * n,
    "counting": lambda n: n,
    "threadring": lambda n: n,
    "fjthrput": lambda n: 60 * n,
    "fjcreate": lambda n: n,
    "chameneos": lambda n: 4 * n,
    "big": lambda n: 240 * n,
    "skynet": lambda n: (10 * n - 1) // 9,
    "mailbox": lambda n: 100 * n,
    "spawnmem": lambda n: n,
    "callrt": lambda n: n,
    "calllat": lambda n: n,
    "bndbuffer": lambda n: 4 * n,
    "philosopher": lambda n: 20 * n,
    "barber": lambda n: n,
    "banking": lambda n: 4 * n,
    "trapezoid": lambda n: n,
    "fib": lambda n: 2 * fib(n) - 1,
    "overload": lambda n: 8 * n,
}


def fib(n):
    """F(n) with F(1) = F(2) = 1: fib's n is the index, its ops the calls."""
    a, b = 1, 1
    for _ in range(2, n):
        a, b = b, a + b
    return b if n >= 2 else 1

# The latency group (bench_latency.py): extras every result must carry.
LATENCY = {"calllat": ("p50_ns", "p99_ns", "p999_ns", "max_ns", "bg_ops_per_sec")}


def check(line, bench, system, n, threads):
    """What is wrong with one result line, or None."""
    try:
        r = json.loads(line)
        got = (r["bench"], r["system"], r["n"], r["threads"])
        seconds, rate, ops = r["seconds"], r["ops_per_sec"], r["extra"]["ops"]
    except (ValueError, KeyError, TypeError) as e:
        return f"not a result line ({e}): {line[:200]!r}"
    want = (bench, system, r["n"] if n == "-" else int(n), int(threads))
    if got != want:
        return f"result is for bench/system/n/threads {got}, expected {want}"
    if not (seconds > 0 and rate > 0):
        return f"seconds {seconds}, ops_per_sec {rate}: not a timing"
    if bench in OPS and ops != OPS[bench](r["n"]):
        return f"extra.ops {ops}, but n={r['n']} means {OPS[bench](r['n'])} ops"
    if bench in LATENCY:
        try:
            p50, p99, p999, top, bg = (float(r["extra"][k]) for k in LATENCY[bench])
        except (KeyError, TypeError, ValueError) as e:
            return f"latency extras missing or not numbers ({e})"
        if not 0 < p50 <= p99 <= p999 <= top:
            return f"percentiles out of order: p50 {p50}, p99 {p99}, p99.9 {p999}, max {top}"
        if not bg > 0:
            return f"bg_ops_per_sec {bg}: the background did not run"
    return None


def load(path):
    """Returns (rows, systems): rows[bench][system] is the list of results,
    benches and systems in order of first appearance."""
    rows = {}
    systems = []
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        rows.setdefault(r["bench"], {}).setdefault(r["system"], []).append(r)
        if r["system"] not in systems:
            systems.append(r["system"])
    return rows, systems


def medians(by_system):
    """Median ops/s per system of one benchmark."""
    return {s: statistics.median(x["ops_per_sec"] for x in runs)
            for s, runs in by_system.items()}


def ratio(med, peer):
    """fauxtp's median over the peer's, or None when either is missing."""
    if "fauxtp" in med and med.get(peer):
        return med["fauxtp"] / med[peer]
    return None


def rss_table(rows, systems):
    """Median peak RSS (MiB) per benchmark and system, where recorded
    (tools/lib/peak_rss.py)."""
    def med(runs):
        v = [x["extra"]["peak_rss_kb"] for x in runs if "peak_rss_kb" in x.get("extra", {})]
        return statistics.median(v) / 1024 if v else None
    table = {b: {s: med(r) for s, r in by.items()} for b, by in rows.items()}
    if not any(v is not None for by in table.values() for v in by.values()):
        return
    print()
    head = ["bench"] + [f"{s} peak RSS MiB" for s in systems]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for b, by in table.items():
        cells = [b] + [f"{by[s]:.0f}" if by.get(s) is not None else "-" for s in systems]
        print("| " + " | ".join(cells) + " |")


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--check":
        why = check(sys.stdin.read().strip(), *sys.argv[2:])
        if why:
            print(why)
            return 1
        return 0
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows, systems = load(sys.argv[1])
    peers = [s for s in systems if s != "fauxtp"]
    head = (["bench", "n"] + [f"{s} ops/s" for s in systems]
            + [f"fauxtp/{p}" for p in peers])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for bench, by in rows.items():
        med = medians(by)
        n = next(iter(by.values()))[0]["n"]
        cells = [bench, str(n)] + [f"{med[s]:,.0f}" if s in med else "-" for s in systems]
        for p in peers:
            q = ratio(med, p)
            cells.append(f"{q:.2f}x" if q is not None else "-")
        print("| " + " | ".join(cells) + " |")
    lat = [(b, s, runs) for b, by in rows.items() for s, runs in by.items()
           if "p50_us" in runs[0]["extra"]]
    if lat:
        print()
        print("| bench | system | p50 us | p99 us | runs |")
        print("|---|---|---|---|---|")
        for b, s, runs in lat:
            p50 = statistics.median(x["extra"]["p50_us"] for x in runs)
            p99 = statistics.median(x["extra"]["p99_us"] for x in runs)
            print(f"| {b} | {s} | {p50:,.0f} | {p99:,.0f} | {len(runs)} |")
    rss_table(rows, systems)
    mem = {s: x[0]["extra"].get("bytes_per_actor") for s, x in rows.get("spawnmem", {}).items()}
    mem = {s: v for s, v in mem.items() if v is not None}
    if mem:
        print()
        print("spawnmem bytes per idle actor: " +
              ", ".join(f"{s} {v:.0f}" for s, v in mem.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
