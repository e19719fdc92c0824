"""Runs a benchmark program and adds its peak resident set size.

    peak_rss.py PROGRAM ARGS...

Passes the program's stdout and stderr through, except that the last line,
when it is a JSON result, gets "peak_rss_kb" in its "extra" object: the
largest RSS of the program or any descendant it waited for (getrusage
RUSAGE_CHILDREN, ru_maxrss in KiB on Linux). The same measure for every
system, taken from outside (Erlang's beam.smp runs under erl's script).
Exits with the program's status."""
import json
import resource
import subprocess
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    lines = p.stdout.decode(errors="replace").splitlines()
    if lines and lines[-1].startswith("{"):
        try:
            r = json.loads(lines[-1])
            r.setdefault("extra", {})["peak_rss_kb"] = rss
            lines[-1] = json.dumps(r, separators=(",", ":"))
        except ValueError:
            pass
    for line in lines:
        print(line)
    return p.returncode


if __name__ == "__main__":
    sys.exit(main())
