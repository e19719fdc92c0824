#!/usr/bin/env python3
"""Table of the distribution group (tools/lib/bench_dist.sh): median
ops/s per benchmark and client->server pair, and each pair's ratio to
erlang->erlang.  Usage: bench_dist.py dist.jsonl"""
import json
import statistics
import sys

PAIRS = ["fauxtp-fauxtp", "fauxtp-erlang", "erlang-fauxtp", "erlang-erlang"]


def main():
    runs = {}
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            runs.setdefault((r["bench"], r["system"]), []).append(r["ops_per_sec"])
    benches = sorted({b for b, _ in runs})
    print("| bench | " + " | ".join(p.replace("-", "->") + " ops/s" for p in PAIRS)
          + " | f->f / e->e | f->e / e->e | e->f / e->e | runs |")
    print("|---" * (2 * len(PAIRS) + 1) + "|")
    for b in benches:
        med = {p: statistics.median(runs[(b, p)]) for p in PAIRS if (b, p) in runs}
        cells = ["%.0f" % med[p] if p in med else "-" for p in PAIRS]
        base = med.get("erlang-erlang")
        ratios = ["%.2f" % (med[p] / base) if base and p in med else "-"
                  for p in PAIRS[:3]]
        n = min(len(runs[(b, p)]) for p in PAIRS if (b, p) in runs)
        print("| %s | %s | %s | %d |" % (b, " | ".join(cells), " | ".join(ratios), n))


if __name__ == "__main__":
    main()
