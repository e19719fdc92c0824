# Installs the Debian packages fauxtp needs, if missing. Sourced by
# tools/test and tools/bench. Usage: fx_install_deps PKG...
fx_install_deps() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
}

FX_BUILD_DEPS=(gcc clang libclang-rt-14-dev libc6-dev meson ninja-build pkg-config
    libck-dev libjemalloc-dev libcriterion-dev python3 clang-format)
# Optional for tools/bench: gnuplot draws build/bench-report/ratios.svg.
FX_BENCH_DEPS=(gnuplot-nox)
