#!/bin/sh
# Build the Go benchmark peer.
#   bench/peers/go/build.sh OUTDIR      -> OUTDIR/go-bench, OUTDIR/go-http
# Needs Debian's golang-go (Go 1.19). Standard library only, so the build is
# offline: GOPROXY=off, and GOCACHE and GOPATH live under OUTDIR (a clean
# clone builds with no network and writes nothing outside OUTDIR). GO may
# name another go binary.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
SRC="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
GO="${GO:-go}"
command -v "$GO" >/dev/null || { echo "$0: go not found (apt-get install golang-go)" >&2; exit 1; }
export GOCACHE="$OUT/go-cache" GOPATH="$OUT/go-path" GOPROXY=off GOFLAGS= GO111MODULE=on
cd "$SRC"
"$GO" vet .
"$GO" build -trimpath -o "$OUT/go-bench" .
"$GO" vet ./httppeer
"$GO" build -trimpath -o "$OUT/go-http" ./httppeer # the I/O benchmark's peer
echo "built $OUT/go-bench $OUT/go-http"
