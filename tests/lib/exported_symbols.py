#!/usr/bin/env python3
"""exported_symbols.py LIBFAUXTP.so INCLUDE_DIR [SKIP.h ...]

The dynamic symbols libfauxtp.so defines (nm -D --defined-only) must be
exactly the FX_API functions declared in INCLUDE_DIR/fauxtp/*.h: nothing
internal leaks out of the hidden-visibility build, and nothing documented
is missing (docs/abi.md, "Symbols"). Headers named after INCLUDE_DIR
belong to features the build left out (term.h without ei). Exit status 0 when they match; the
differences otherwise."""
import glob
import os
import re
import subprocess
import sys

API_RE = re.compile(r'FX_API[^;(]*?\b(fx_\w+)\s*\(')


def declared(include_dir, skip=()):
    names = set()
    for h in glob.glob(os.path.join(include_dir, "fauxtp", "*.h")):
        if os.path.basename(h) in skip:
            continue
        with open(h) as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        names.update(API_RE.findall(text))
    return names


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            names.add(parts[2].split("@")[0])
    return names


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: exported_symbols.py LIBFAUXTP.so INCLUDE_DIR [SKIP.h ...]")
    api, syms = declared(sys.argv[2], sys.argv[3:]), exported(sys.argv[1])
    if not api:
        sys.exit("no FX_API declarations found under " + sys.argv[2])
    extra, missing = sorted(syms - api), sorted(api - syms)
    for s in extra:
        print("exported but not declared FX_API:", s)
    for s in missing:
        print("declared FX_API but not exported:", s)
    if extra or missing:
        sys.exit(1)
    print("ok: %d exported symbols, all declared FX_API" % len(api))


main()
