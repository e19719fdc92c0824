# Installs the Debian packages fauxtp needs, if missing. Sourced by
# tools/test and tools/bench. Usage: fx_install_deps PKG... (a package on
# hold, "hold ok installed", counts as installed)
fx_install_deps() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q " ok installed" ||
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

FX_BUILD_DEPS=(gcc g++ clang libclang-rt-14-dev libc6-dev meson ninja-build pkg-config
    libck-dev libjemalloc-dev libcriterion-dev python3 clang-format
    erlang-dev nettle-dev) # Erlang terms and distribution: libei.a and ei.h; MD5
# For tools/test: the control socket's test parses the `metrics` answer
# with the Prometheus project's own parser (tests/ctl/ctl_top.py).
# erl, escript and epmd: the term suite's interop check, the dist suite's
# peer nodes.
FX_TEST_DEPS=(python3-prometheus-client erlang-base)
# Optional for tools/bench: gnuplot draws build/bench-report/ratios.svg.
FX_BENCH_DEPS=(gnuplot-nox)
# The server I/O benchmark (tools/bench --io): the load generator.
FX_BENCH_IO_DEPS=(wrk)
# The Go benchmark peer (tools/bench, bench/peers/go): Go 1.19.
FX_BENCH_GO_DEPS=(golang-go)

# The aarch64 cross build (tools/test): the cross compiler and qemu-user
# come from ordinary amd64 packages. qemu-user-static brings the static
# interpreter and the binfmt_misc entry that fx_aarch64_binfmt registers.
FX_AARCH64_HOST_DEPS=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
# The arm64 libraries it links and runs against, with their runtime
# dependencies (libc and libgcc come from the cross packages above). They
# are unpacked into a private sysroot, never installed: on Debian 12
# libck0, libck-dev, libnanomsg5 and libjemalloc-dev are not Multi-Arch:
# same, so `apt-get install libck-dev:arm64` would remove the amd64
# packages the native builds need.
FX_AARCH64_SYSROOT_PKGS=(libck-dev libck0 libjemalloc-dev libjemalloc2
    libcriterion-dev libcriterion3 libboxfort-dev libffi-dev libffi8
    libgit2-dev libgit2-1.5 libnanomsg-dev libnanomsg5 libpcre2-dev libpcre2-8-0
    zlib1g-dev zlib1g libhttp-parser2.9 libmbedcrypto7 libmbedtls14 libmbedx509-1
    libssh2-1 libssl3 libgssapi-krb5-2 libk5crypto3 libkrb5-3 libkrb5support0
    libkeyutils1 libcom-err2)

# Unpacks FX_AARCH64_SYSROOT_PKGS (arm64) into DIR, once; enables the
# arm64 architecture in dpkg first if needed (apt only downloads packages
# of configured architectures). Usage: fx_aarch64_sysroot DIR
fx_aarch64_sysroot() {
    local dir=$1
    [ -f "$dir/.complete" ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        echo "enabling dpkg architecture arm64"
        $sudo dpkg --add-architecture arm64 && $sudo apt-get update -qq || return 1
    fi
    local debs
    debs=$(mktemp -d) || return 1
    local pkgs=("${FX_AARCH64_SYSROOT_PKGS[@]/%/:arm64}")
    # apt-get download runs as the invoking user; as root it warns that
    # it cannot drop to _apt in a private directory, which is harmless.
    if ! (cd "$debs" && apt-get download -qq "${pkgs[@]}" 2>/dev/null) &&
        ! ($sudo apt-get update -qq && cd "$debs" && apt-get download -qq "${pkgs[@]}"); then
        rm -rf "$debs"
        return 1
    fi
    rm -rf "$dir" && mkdir -p "$dir" || return 1
    local f
    for f in "$debs"/*.deb; do
        dpkg-deb -x "$f" "$dir" || {
            rm -rf "$debs"
            return 1
        }
    done
    rm -rf "$debs"
    touch "$dir/.complete"
}

# Prints the machine file that layers on tools/cross/aarch64-linux-gnu.ini:
# pkg-config and the linker look in the sysroot DIR (absolute or relative
# to the current directory), tests run under qemu-user with the cross libc
# and DIR's libraries. Usage: fx_aarch64_machine_file DIR >FILE
fx_aarch64_machine_file() {
    local root
    root=$(cd "$1" && pwd) || return 1
    local libs="$root/usr/lib/aarch64-linux-gnu:$root/lib/aarch64-linux-gnu"
    # The cross libc comes first at run time: ld.so is the cross package's,
    # and a libc.so.6 from an installed libc6:arm64 (another version) would
    # be found in /lib/aarch64-linux-gnu otherwise; that mix hangs in the
    # first pthread_create.
    local run="/usr/aarch64-linux-gnu/lib:$libs"
    cat <<INI
[properties]
sys_root = '$root'
pkg_config_libdir = ['$root/usr/lib/aarch64-linux-gnu/pkgconfig']

[built-in options]
c_link_args = ['-Wl,-rpath-link,$libs']

[binaries]
exe_wrapper = ['env', 'QEMU_LD_PREFIX=/usr/aarch64-linux-gnu', 'LD_LIBRARY_PATH=$run', 'qemu-aarch64-static']
INI
}

# Lets the kernel run aarch64 executables through qemu (binfmt_misc):
# Criterion's BoxFort re-executes the test binary for every worker, which
# qemu-user alone cannot do (execve fails with ENOEXEC). The worker's qemu
# finds the loader and libraries through QEMU_LD_PREFIX and LD_LIBRARY_PATH,
# inherited from the exe_wrapper's environment. Needs root and a kernel
# that lets us mount binfmt_misc (not an unprivileged container).
fx_aarch64_binfmt() {
    local bm=/proc/sys/fs/binfmt_misc conf=/usr/lib/binfmt.d/qemu-aarch64.conf
    [ -e "$bm/qemu-aarch64" ] && return 0
    [ "$(id -u)" -eq 0 ] && [ -f "$conf" ] || return 1
    [ -e "$bm/register" ] || mount -t binfmt_misc binfmt_misc "$bm" 2>/dev/null || return 1
    [ -e "$bm/qemu-aarch64" ] && return 0
    tr -d '\n' <"$conf" >"$bm/register" 2>/dev/null
}
