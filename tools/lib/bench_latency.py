"""Latency group results (tools/bench --latency).

    bench_latency.py LATENCY.jsonl

prints a Markdown table per benchmark of the latency group (calllat: call
round trips while the big workload runs in the background on the same
runtime): per system the median over runs of calls/s, p50, p99, p99.9 and
the maximum round trip (microseconds), the background's rate, and the best
peer's p99 over fauxtp's (higher is better for fauxtp)."""
import statistics
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from bench_table import load  # noqa: E402

COLUMNS = [("p50_ns", "p50 us"), ("p99_ns", "p99 us"), ("p999_ns", "p99.9 us"),
           ("max_ns", "max us")]


def med(runs, key):
    """Median of extra[key] (or of the top-level key) over runs."""
    return statistics.median(r["extra"][key] if key in r["extra"] else r[key] for r in runs)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows, systems = load(sys.argv[1])
    for bench, by in rows.items():
        n = next(iter(by.values()))[0]["n"]
        runs = max(len(x) for x in by.values())
        print(f"{bench}, n = {n} calls, median of {runs} run(s) per system:")
        print()
        head = (["system", "calls/s"] + [c for _, c in COLUMNS] + ["background ops/s"])
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        p99 = {}
        for s in systems:
            if s not in by:
                continue
            x = by[s]
            p99[s] = med(x, "p99_ns")
            cells = [s, f"{med(x, 'ops_per_sec'):,.0f}"]
            cells += [f"{med(x, k) / 1000:,.2f}" for k, _ in COLUMNS]
            cells.append(f"{med(x, 'bg_ops_per_sec'):,.0f}")
            print("| " + " | ".join(cells) + " |")
        peers = {s: v for s, v in p99.items() if s != "fauxtp"}
        if "fauxtp" in p99 and peers:
            best = min(peers, key=peers.get)
            print()
            print(f"best peer p99 ({best}) / fauxtp p99: {peers[best] / p99['fauxtp']:.2f}x"
                  " (target: 3x or more)")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
