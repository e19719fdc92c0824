#!/usr/bin/env python3
"""Counts code lines of the examples and their Erlang versions: lines that
are neither blank nor only comment (C: // lines and /* ... */ blocks;
Erlang: % lines). Prints "path count" lines; used for docs/comparisons.md.

  tools/example_lines.py docs/examples/pipeline.c docs/examples/erlang/pipeline.erl ...
"""
import re
import sys


def c_lines(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return [l for l in text.splitlines() if l.strip() and not l.strip().startswith("//")]


def erl_lines(text):
    return [l for l in text.splitlines()
            if l.strip() and not l.strip().startswith("%") and not l.startswith("#!")]


def count(path):
    text = open(path).read()
    return len(erl_lines(text) if path.endswith(".erl") else c_lines(text))


if __name__ == "__main__":
    for p in sys.argv[1:]:
        print("%s %d" % (p, count(p)))
