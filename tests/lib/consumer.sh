#!/bin/sh
# consumer.sh BUILD_DIR WORK_DIR [jemalloc|libc]: installs the build into a
# staging prefix (meson install --destdir) and builds tests/lib/consumer.c
# against it the three ways docs/install.md describes, running each:
#   shared  cc ... $(pkg-config --cflags --libs fauxtp)
#   static  cc -static ... $(pkg-config --static --cflags --libs fauxtp)
#   plain   -lfauxtp (and libfauxtp.a) without the jemalloc flags: libc
#   rpath   cc ... -Wl,-rpath,'$ORIGIN/../LIBDIR', then the whole prefix is
#           moved elsewhere and the program (and pkg-config) still work.
# The third argument is the allocator the shared and static programs must
# report. Exit status 0 when every step works.
set -eu
build=$(cd "$1" && pwd)
work=$2
want=${3:-}
src=$(dirname "$0")/consumer.c
cc=${CC:-cc}
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

step() { echo "== $*"; }
check_alloc() { # output
    echo "$1"
    case "$1" in *", ok"*) ;; *) echo "consumer.sh: bad output"; exit 1 ;; esac
    if [ -n "$want" ]; then
        case "$1" in *"allocator $want,"*) ;; *) echo "consumer.sh: want allocator $want"; exit 1 ;; esac
    fi
}

step "meson install --destdir $work/stage"
meson install -C "$build" --no-rebuild --quiet --destdir "$work/stage" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; exit 1; }
pc=$(find "$work/stage" -name fauxtp.pc | head -1)
[ -n "$pc" ] || { echo "consumer.sh: no fauxtp.pc installed"; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
# Relocatable: the variables are relative to the .pc file's directory.
prefix=$(cd "$(pkg-config --variable=prefix fauxtp)" && pwd)
libdir=$(cd "$(pkg-config --variable=libdir fauxtp)" && pwd)
echo "prefix $prefix, libdir $libdir"
# fauxtp-top is installed beside the library (docs/observability.md).
"$prefix/bin/fauxtp-top" --help >/dev/null || { echo "consumer.sh: no working fauxtp-top"; exit 1; }

step "shared, via pkg-config"
# shellcheck disable=SC2046
"$cc" -o "$work/shared" "$src" $(pkg-config --cflags --libs fauxtp)
check_alloc "$(LD_LIBRARY_PATH=$libdir "$work/shared")"

step "fully static, via pkg-config --static"
# shellcheck disable=SC2046
"$cc" -static -o "$work/static" "$src" $(pkg-config --static --cflags --libs fauxtp)
if readelf -d "$work/static" 2>/dev/null | grep -q NEEDED; then
    echo "consumer.sh: the static program has dynamic dependencies"
    exit 1
fi
check_alloc "$("$work/static")"

step "shared and static, -lfauxtp only (no jemalloc flags): libc malloc"
"$cc" -o "$work/plain" "$src" -I"$prefix/include" -L"$libdir" -lfauxtp
out=$(LD_LIBRARY_PATH=$libdir "$work/plain")
echo "$out"
case "$out" in *"allocator libc, ok"*) ;; *) echo "consumer.sh: want libc, ok"; exit 1 ;; esac
"$cc" -o "$work/plain-static" "$src" -I"$prefix/include" "$libdir/libfauxtp.a" -lck -pthread
out=$("$work/plain-static")
echo "$out"
case "$out" in *"allocator libc, ok"*) ;; *) echo "consumer.sh: want libc, ok"; exit 1 ;; esac

step "rpath \$ORIGIN, then the prefix moved"
rel=${libdir#"$prefix"/}
mkdir -p "$prefix/bin"
# shellcheck disable=SC2016,SC2046
"$cc" -o "$prefix/bin/consumer" "$src" $(pkg-config --cflags --libs fauxtp) \
    -Wl,-rpath,'$ORIGIN/../'"$rel"
check_alloc "$(env -u LD_LIBRARY_PATH "$prefix/bin/consumer")"
mv "$work/stage" "$work/moved"
moved=$work/moved${prefix#"$work"/stage}
check_alloc "$(env -u LD_LIBRARY_PATH "$moved/bin/consumer")"
PKG_CONFIG_PATH=$(dirname "$(find "$work/moved" -name fauxtp.pc | head -1)")
if [ "$(cd "$(pkg-config --variable=prefix fauxtp)" && pwd)" != "$moved" ]; then
    echo "consumer.sh: fauxtp.pc is not relocatable: prefix $(pkg-config --variable=prefix fauxtp)"
    exit 1
fi
echo "ok: shared, static and rpath consumers run"
