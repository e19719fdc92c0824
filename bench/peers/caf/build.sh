#!/bin/sh
# Build the CAF 0.17 benchmark peer.
#   bench/peers/caf/build.sh OUTDIR      -> OUTDIR/caf-bench, OUTDIR/caf-http
# Needs Debian's libcaf-dev (headers in /usr/include/caf, libcaf_core.so;
# there is no pkg-config file).  CXX and CAF_PREFIX may be overridden.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
SRC="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$1"
CXX="${CXX:-g++}"
CAF_PREFIX="${CAF_PREFIX:-/usr}"
[ -f "$CAF_PREFIX/include/caf/all.hpp" ] || {
    echo "$0: CAF headers not found under $CAF_PREFIX/include (apt-get install libcaf-dev)" >&2
    exit 1
}
"$CXX" -O2 -std=c++17 -DNDEBUG -Wall -Wextra -Wno-unused-parameter \
    -I"$CAF_PREFIX/include" "$SRC/caf_bench.cpp" -o "$1/caf-bench" \
    -L"$CAF_PREFIX/lib" -lcaf_core -pthread
# The I/O benchmark's peer (an io::broker; tools/lib/bench_io.sh).
"$CXX" -O2 -std=c++17 -DNDEBUG -Wall -Wextra -Wno-unused-parameter \
    -I"$CAF_PREFIX/include" "$SRC/caf_http.cpp" -o "$1/caf-http" \
    -L"$CAF_PREFIX/lib" -lcaf_io -lcaf_core -pthread
echo "built $1/caf-bench $1/caf-http"
