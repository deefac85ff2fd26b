#!/usr/bin/env bash
# deps.sh - installs everything mayday needs to build, test and fuzz on
# Debian 12 (bookworm): compilers, CMake, protobuf-c, libunwind, cmocka,
# elfutils (libdw, for the CLI's symbolication), clang + libFuzzer runtime,
# clang-format, gdb, valgrind, lldb (and Node.js/npm when missing, for
# scripts/consumers.sh).
#
# Context: developer/CI tool, run as root (or with sudo available).
# Idempotent and quiet: when every package is already installed (dpkg) it
# does nothing and touches no network; otherwise it runs `apt-get update`
# (only if the package lists are missing or older than a day) and
# `apt-get install --no-install-recommends` of the missing packages.
# Extra packages: MAYDAY_DEPS_EXTRA="pkg1 pkg2" scripts/deps.sh
#
#   scripts/deps.sh aarch64   the aarch64 cross build and its emulator
#                             instead: Debian's cross gcc, the arm64 -dev
#                             packages through multiarch (dpkg
#                             --add-architecture arm64 first) and qemu-user
#                             (scripts/test-aarch64.sh, docs/platforms.md)
set -euo pipefail

group=${1:-default}

packages=(
    # build
    build-essential cmake pkg-config file binutils
    protobuf-c-compiler libprotobuf-c-dev
    libunwind-dev
    # CLI: symbolication (libdw, the debuginfod client) and the examples'
    # uploader (libcurl)
    libdw-dev libelf-dev elfutils libdebuginfod-dev libcurl4-openssl-dev
    # tests and tools
    libcmocka-dev python3 gdb valgrind libc6-dbg
    # the hung-file-system scenario (a FUSE file system that never answers)
    fuse3 python3-fusepy
    # ecosystem tests (issue 13): lldb reads the exported minidumps;
    # openssl makes the upload test's self-signed certificate
    lldb openssl
    # decoder tests (issue 14): C++ test programs, a debuginfod server on
    # loopback, JSON Schema validation of every JSON output
    g++ debuginfod python3-jsonschema
    # fuzzing (clang -fsanitize=fuzzer needs the compiler-rt libraries,
    # which clang only recommends) and formatting
    clang libclang-rt-dev clang-format
)
# Node.js and npm for scripts/consumers.sh (sentry-cli, Spotlight), only if
# the machine has none: Debian's nodejs would conflict with an installed
# one (these machines have Node.js 20 with npm; Spotlight needs >= 20).
if ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi
# The aarch64 group: multiarch -dev packages must be the same version as
# their amd64 twins (Multi-Arch: same), which one mirror guarantees.
aarch64_packages=(
    gcc-aarch64-linux-gnu g++-aarch64-linux-gnu binutils-aarch64-linux-gnu
    qemu-user
    libc6-dev:arm64 libunwind-dev:arm64 libprotobuf-c-dev:arm64
    libcmocka-dev:arm64 libdw-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64
    libcurl4-openssl-dev:arm64 libdebuginfod-dev:arm64
    # The run-time libstdc++ where the arm64 loader looks (the cross g++'s
    # copy is in /usr/aarch64-linux-gnu/lib, outside its search path):
    # the C++ test programs and libmayday-cxx's users need it under qemu.
    libstdc++6:arm64
)
case $group in
default) ;;
aarch64) packages=("${aarch64_packages[@]}") ;;
*)
    echo "deps.sh: unknown group '$group' (default, aarch64)" >&2
    exit 2
    ;;
esac
# shellcheck disable=SC2206 # deliberate word splitting of the extra list
packages+=(${MAYDAY_DEPS_EXTRA:-})

missing=()
for p in "${packages[@]}"; do
    # One line per installed architecture (multiarch: amd64 and arm64).
    status=$(dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null || true)
    grep -qx "install ok installed" <<<"$status" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "deps.sh: missing packages (${missing[*]}); run as root" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive

echo "deps.sh: installing ${missing[*]}"
log=$(mktemp "${TMPDIR:-/tmp}/mayday-deps.XXXXXX")
trap 'rm -f "$log"' EXIT
# run CMD...: quiet; prints the output only if CMD fails.
run() {
    if ! "${sudo[@]}" "$@" >"$log" 2>&1; then
        echo "deps.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}
lists=/var/lib/apt/lists
need_update=0
if [[ $group == aarch64 ]] &&
    ! dpkg --print-foreign-architectures | grep -qx arm64; then
    run dpkg --add-architecture arm64
fi
if [[ $group == aarch64 && -z $(find "$lists" -maxdepth 1 \
    -name '*binary-arm64_Packages*' 2>/dev/null | head -n1) ]]; then
    need_update=1 # the lists have no arm64 packages yet
fi
if ((need_update)) || [[ -z $(find "$lists" -maxdepth 1 -name '*_Packages*' \
    -mtime -1 2>/dev/null | head -n1) ]]; then
    run apt-get update -qq
fi
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
echo "deps.sh: done"
