"""Counts test cases across meson test logs and prints 'N passed, N failed'.

A TAP test (the Criterion suites) counts each of its test cases; any other
test counts once. argv[1] is 1/0 for the format check, then testlog.json
paths."""
import json
import re
import sys

passed = failed = 0
failures = []  # "suite/test: case" names, printed before the summary
tails = []  # (name, stdout, stderr) of failed plain programs
fmt_ok = sys.argv[1] == "1"
if fmt_ok:
    passed += 1
else:
    failed += 1
    failures.append("clang-format")
for path in sys.argv[2:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        failures.append(f"{path}: no test log")
        continue
    for line in lines:
        t = json.loads(line)
        out = t.get("stdout") or ""
        oks = len(re.findall(r"^ok\b", out, re.M))
        nots = len(re.findall(r"^not ok\b", out, re.M))
        good = t.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
        name = t.get("name", "?")
        where = path.split("/meson-logs/")[0]
        if oks or nots:
            passed += oks
            failed += nots
            for case in re.findall(r"^not ok\b.*$", out, re.M):
                failures.append(f"{where}: {name}: {case}")
            if not good and nots == 0:
                failed += 1  # crashed or timed out after its last case
                failures.append(f"{where}: {name}: {t.get('result')} after its last case")
        elif good:
            passed += 1
        else:
            failed += 1
            failures.append(f"{where}: {name}: {t.get('result')}")
            tails.append((f"{where}: {name}", out, t.get("stderr") or ""))
# A failed plain program's last words (the TAP suites name their case).
for name, out, err in tails[:5]:
    print(f"== output of {name} (last lines)")
    lines = err.splitlines()
    first = next((i for i, l in enumerate(lines) if "Sanitizer" in l), None)
    # A sanitizer's report from its start, else the tail.
    lines = lines[first : first + 50] if first is not None else lines[-40:]
    for line in out.splitlines()[-15:] + lines:
        print(f"   {line}")
for f in failures:
    print(f"FAILED {f}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
