#!/usr/bin/env python3
"""Compiles every C (and C++) code block of README.md and docs/*.md.

Usage: doc_blocks.py --cc CC [--cxx CXX] --include DIR [--glob PATTERN]... [FILE.md]...

Each ```c block is compiled with -std=c11 -Wall -Wextra -Werror (```cpp
blocks with -std=c++17 and the same warnings) against the public headers.
A block is one of three kinds, chosen by an HTML comment (invisible when
the page is rendered) on the line just before its fence:

  (none)                      top level: declarations and definitions
  <!-- doc-c: body -->        statements, compiled inside a function that
                              has vm, me, inbox (fx_inbox *), cx, pid,
                              server, ref and opts in scope
  <!-- doc-c: handler -->     the same, inside an fx_next handler (cx, msg)
                              so the block may `return fx_receive(...)`
  <!-- doc-c: file PATH -->   a whole program kept as PATH (relative to the
                              repository; the test build compiles and runs
                              it): the block must equal the file

Every block of one page goes into one translation unit, in page order, so
a block may use what an earlier top-level block of the page defines.
`<!-- doc-c-decl: TEXT -->` lines anywhere in the page add TEXT (hidden
context, e.g. an enum or a handler the page only names) at the top of the
unit. Static functions and objects the blocks define are referenced at the
end of the unit, so an example need not use everything it shows.

Exits non-zero and prints the failing unit with the compiler's message
when a block does not compile; prints one line per page otherwise.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

PRELUDE_C = """#define _POSIX_C_SOURCE 200809L
#include <fauxtp/fauxtp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
"""

CONTEXT_PARAMS = ("fx_vm *vm, fx_inbox *me, fx_inbox *inbox, fx_ctx *cx, fx_pid pid, "
                  "fx_pid server, fx_ref ref, fx_spawn_opts opts")
CONTEXT_NAMES = ("vm", "me", "inbox", "cx", "pid", "server", "ref", "opts")

FENCE = re.compile(r"^```(\w*)\s*$")
KIND = re.compile(r"^<!--\s*doc-c:\s*(\w+)\s*(\S*)\s*-->\s*$")
DECL = re.compile(r"^<!--\s*doc-c-decl:\s*(.*?)\s*-->\s*$")
STATIC_NAME = re.compile(r"^static\b[^=(\[;]*?\b(\w+)\s*(\(|\[|=|;)")


def blocks(path):
    """Yields (lang, kind, first_line, text) and collects hidden decls."""
    decls, out = [], []
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = DECL.match(lines[i])
        if m:
            decls.append(m.group(1))
        m = FENCE.match(lines[i])
        if m and m.group(1):
            lang = m.group(1)
            kind = "top"
            if i > 0:
                k = KIND.match(lines[i - 1])
                if k:
                    kind = k.group(1)
                    if kind == "file":
                        kind = "file:" + k.group(2)
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            if lang in ("c", "cpp"):
                out.append((lang, kind, i + 2, "\n".join(lines[i + 1:j])))
            i = j + 1
            continue
        i += 1
    return decls, out


def same_as_file(page, kind, line, text):
    """Error text when a `file` block differs from its file, else None."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, kind[len("file:"):])
    try:
        want = open(path, encoding="utf-8").read().rstrip("\n")
    except OSError as e:
        return "%s:%d: %s" % (page, line, e)
    if want != text.rstrip("\n"):
        return "%s:%d: the block differs from %s" % (page, line, path)
    return None


def unit(path, decls, bl):
    parts = [PRELUDE_C] + [d + "\n" for d in decls]
    names = []
    for n, (lang, kind, line, text) in enumerate(bl):
        parts.append('#line %d "%s"\n' % (line, path))
        if kind == "top":
            parts.append(text + "\n")
            for l in text.split("\n"):
                m = STATIC_NAME.match(l)
                if m:
                    names.append(m.group(1))
        elif kind in ("body", "handler"):
            ret = "fx_next" if kind == "handler" else "void"
            extra = "fx_msg *msg, " if kind == "handler" else ""
            name = "doc_block_%d" % n
            names.append(name)
            unused = "".join("(void) %s; " % v for v in CONTEXT_NAMES)
            if kind == "handler":
                unused += "(void) msg; "
            parts.append("#line %d \"%s\"\n" % (line, path))
            parts.append("static %s %s(%s%s) { %s{\n" % (ret, name, extra, CONTEXT_PARAMS,
                                                          unused))
            parts.append('#line %d "%s"\n' % (line, path))
            parts.append(text + "\n")
            parts.append("}\n%s}\n" % ("return fx_continue(cx); " if kind == "handler" else ""))
        else:
            raise SystemExit("%s:%d: unknown doc-c kind %r" % (path, line - 1, kind))
    if names:
        parts.append("typedef void (*doc_any_fn)(void);\n")
        parts.append("void doc_use_all(const void **objs);\n")
        parts.append("void doc_use_all(const void **objs) {\n")
        for k, nm in enumerate(names):
            parts.append("    objs[%d] = (const void *) &%s;\n" % (k, nm))
        parts.append("}\n")
    return "".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--cxx")
    ap.add_argument("--include", required=True, action="append")
    ap.add_argument("--glob", action="append", default=[],
                    help="pages by pattern, expanded when the test runs")
    ap.add_argument("pages", nargs="*")
    a = ap.parse_args()
    for g in a.glob:
        a.pages += sorted(glob.glob(g))
    if not a.pages:
        raise SystemExit("no pages")
    failed = 0
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for page in a.pages:
            decls, bl = blocks(page)
            for b in [b for b in bl if b[1].startswith("file:")]:
                total += 1
                err = same_as_file(page, b[1], b[2], b[3])
                if err:
                    failed += 1
                    print("FAIL " + err)
                else:
                    print("ok %s: %s is %s" % (page, "block at line %d" % b[2], b[1][5:]))
            bl = [b for b in bl if not b[1].startswith("file:")]
            for lang in ("c", "cpp"):
                mine = [b for b in bl if b[0] == lang]
                if not mine:
                    continue
                total += len(mine)
                if lang == "cpp" and not a.cxx:
                    print("%s: %d C++ block(s) skipped: no C++ compiler" % (page, len(mine)))
                    continue
                src = unit(page, decls if lang == "c" else [], mine)
                ext = ".c" if lang == "c" else ".cpp"
                f = os.path.join(tmp, os.path.basename(page) + ext)
                open(f, "w", encoding="utf-8").write(src)
                cmd = ([a.cc, "-std=c11"] if lang == "c" else [a.cxx, "-std=c++17"])
                cmd += ["-Wall", "-Wextra", "-Werror", "-fsyntax-only"]
                cmd += ["-I" + d for d in a.include] + [f]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    failed += 1
                    print("FAIL %s (%s blocks)\n%s" % (page, lang, r.stderr))
                    print("--- generated unit ---\n" + src)
                else:
                    print("ok %s: %d %s block(s)" % (page, len(mine), lang))
    print("%d block(s) in %d page(s); %d page(s) failed" % (total, len(a.pages), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
