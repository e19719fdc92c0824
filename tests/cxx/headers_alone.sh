#!/bin/sh
# Every public header compiles alone (one translation unit that includes
# only it) as C11 and C17 and as C++11, 14, 17 and 20, with
# -Wall -Wextra -pedantic -Werror. Usage: headers_alone.sh INCLUDE_DIR CC CXX
# (CXX may be empty: the C++ half is then skipped). Prints one line per
# failing header and standard, with the compiler's output, and exits 1 if
# any failed.
set -u
inc=$1
cc=$2
cxx=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
count=0
for h in "$inc"/fauxtp/*.h "$inc"/fauxtp/*.hpp; do
    [ -e "$h" ] || continue
    name=fauxtp/$(basename "$h")
    case $name in
    *.hpp) langs="" ;; # C++ only
    *) langs="c11 c17" ;;
    esac
    for std in $langs; do
        printf '#include <%s>\nint fx_tu_%s;\n' "$name" "$std" >"$tmp/tu.c"
        count=$((count + 1))
        if ! out=$($cc -std=$std -Wall -Wextra -pedantic -Werror -fsyntax-only \
            -I"$inc" -x c "$tmp/tu.c" 2>&1); then
            echo "FAIL $name as $std:"
            echo "$out"
            fail=1
        fi
    done
    [ -n "$cxx" ] || continue
    for std in c++11 c++14 c++17 c++20; do
        printf '#include <%s>\nint fx_tu_cxx;\n' "$name" >"$tmp/tu.cpp"
        count=$((count + 1))
        if ! out=$($cxx -std=$std -Wall -Wextra -pedantic -Werror -fsyntax-only \
            -I"$inc" -x c++ "$tmp/tu.cpp" 2>&1); then
            echo "FAIL $name as $std:"
            echo "$out"
            fail=1
        fi
    done
done
echo "$count header compilations, $([ $fail = 0 ] && echo all clean || echo some failed)"
exit $fail
