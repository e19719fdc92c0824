#!/usr/bin/env python3
"""The I/O benchmark's numbers (tools/lib/bench_io.sh).

--parse LABEL THREADS CONNS MODE CPU_TICKS HZ < wrk-output: one JSON line
  (requests/s, p50/p99 in ms, requests per server CPU-second, errors).
  Exits 1 when wrk's output has no Requests/sec line or no requests.
--table FILE.jsonl: a Markdown table of medians per configuration, with
  requests per CPU-second and p99 relative to the raw epoll server's."""
import json
import re
import statistics
import sys

UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNIT[m.group(2)] if m else None


def parse(argv):
    label, threads, conns, mode, ticks, hz = argv
    text = sys.stdin.read()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    if not rps or not total or int(total.group(1)) == 0:
        return 1
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    cpu = int(ticks) / int(hz)
    row = {
        "system": label, "threads": int(threads), "conns": int(conns), "mode": mode,
        "requests": int(total.group(1)), "rps": float(rps.group(1)),
        "cpu_s": cpu,
        "req_per_cpu_s": int(total.group(1)) / cpu if cpu > 0 else None,
        "p50_ms": ms(lat["50"]) if "50" in lat else None,
        "p99_ms": ms(lat["99"]) if "99" in lat else None,
        "socket_errors": sum(int(x) for x in errs.groups()) if errs else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }
    print(json.dumps(row))
    return 0


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def table(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    groups = {}
    for r in rows:
        groups.setdefault((r["mode"], r["conns"], r["threads"], r["system"]), []).append(r)
    order = ["fauxtp", "rawepoll", "caf-broker", "go-raw", "erlang", "go-nethttp"]
    # Systems added with FX_IO_EXTRA come after the known ones.
    order += sorted({k[3] for k in groups} - set(order))
    print("| mode | conns | threads | system | runs | req/s | req per CPU-s | vs raw epoll "
          "| p50 ms | p99 ms | p99 vs raw epoll | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in ("plain", "pipelined"):
        for conns in (50, 1000):
            ref = groups.get((mode, conns, 1, "rawepoll"), [])
            ref_cpu = med([r["req_per_cpu_s"] for r in ref])
            ref_p99 = med([r["p99_ms"] for r in ref])
            for threads in (1, 2):
                for sysname in order:
                    g = groups.get((mode, conns, threads, sysname))
                    if not g:
                        continue
                    cpu = med([r["req_per_cpu_s"] for r in g])
                    p50 = med([r["p50_ms"] for r in g])
                    p99 = med([r["p99_ms"] for r in g])
                    pipe = mode == "pipelined"
                    print("| %s | %d | %d | %s | %d | %.0f | %s | %s | %s | %s | %s | %d |" % (
                        mode, conns, threads, sysname, len(g), med([r["rps"] for r in g]),
                        "%.0f" % cpu if cpu else "-",
                        "%.2f" % (cpu / ref_cpu) if cpu and ref_cpu else "-",
                        "-" if pipe or p50 is None else "%.2f" % p50,
                        "-" if pipe or p99 is None else "%.2f" % p99,
                        "%.2f" % (p99 / ref_p99) if not pipe and p99 and ref_p99 else "-",
                        sum(r["socket_errors"] + r["non2xx"] for r in g)))
    print()
    print("Medians of the runs; latency only from non-pipelined runs (wrk 4.1's "
          "coordinated-omission correction corrupts it under pipelining).")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--parse" and len(sys.argv) == 8:
        sys.exit(parse(sys.argv[2:]))
    if len(sys.argv) == 3 and sys.argv[1] == "--table":
        sys.exit(table(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
