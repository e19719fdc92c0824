"""Reads benchmark JSON lines and prints a Markdown table: median ops/s per
system, and fauxtp's ratio to each peer (higher is better for fauxtp)."""
import json
import statistics
import sys

rows = {}
systems = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    rows.setdefault(r["bench"], {}).setdefault(r["system"], []).append(r)
    if r["system"] not in systems:
        systems.append(r["system"])
peers = [s for s in systems if s != "fauxtp"]
head = ["bench", "n"] + [f"{s} ops/s" for s in systems] + [f"fauxtp/{p}" for p in peers]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for bench, by in rows.items():
    med = {s: statistics.median(x["ops_per_sec"] for x in runs) for s, runs in by.items()}
    n = next(iter(by.values()))[0]["n"]
    cells = [bench, str(n)] + [f"{med[s]:,.0f}" if s in med else "-" for s in systems]
    for p in peers:
        cells.append(f"{med['fauxtp'] / med[p]:.2f}x" if p in med and "fauxtp" in med and med[p] else "-")
    print("| " + " | ".join(cells) + " |")
mem = {s: x[0]["extra"].get("bytes_per_actor") for s, x in rows.get("spawnmem", {}).items()}
if mem:
    print()
    print("spawnmem bytes per idle actor: " +
          ", ".join(f"{s} {v:.0f}" for s, v in mem.items() if v is not None))
