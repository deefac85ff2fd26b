#!/usr/bin/env bash
# test-aarch64.sh - the aarch64 stage of scripts/test.sh: installs the
# cross toolchain, the arm64 libraries and qemu-user (scripts/deps.sh
# aarch64), cross-builds build-aarch64/ (-Werror) and runs its CTest tests
# under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR): unit tests, walker,
# install, crash scenarios (MAYDAY_REPEAT runs each, default 2), the CLI
# of that build under qemu and the build machine's CLI on its reports
# (test_cli_host: cross-architecture symbolication).
#
# Skipped, with a message and exit 0, only when qemu-aarch64 cannot be
# installed. What cannot run under qemu, and why: docs/platforms.md.
#
# Uses $MAYDAY_BUILD_DIR (build-test/, from scripts/test.sh) for the
# build machine's CLI, and builds that CLI there when it is missing. Environment: MAYDAY_AARCH64_BUILD_DIR
# (default build-aarch64/), MAYDAY_AARCH64_REPEAT (default 2),
# MAYDAY_JOBS, MAYDAY_CTEST_ARGS (extra ctest arguments).
#
# Context: developer/CI tool.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MAYDAY_AARCH64_BUILD_DIR:-$root/build-aarch64}
host_build=${MAYDAY_BUILD_DIR:-$root/build-test}
jobs=${MAYDAY_JOBS:-$(nproc 2>/dev/null || echo 2)}
repeat=${MAYDAY_AARCH64_REPEAT:-2}
start=$SECONDS

if ! bash "$root/scripts/deps.sh" aarch64; then
    if ! command -v qemu-aarch64 >/dev/null 2>&1; then
        echo "aarch64 stage SKIPPED: qemu-aarch64 could not be installed" \
            "(scripts/deps.sh aarch64 failed, see above)"
        exit 0
    fi
    echo "test-aarch64: scripts/deps.sh aarch64 failed" >&2
    exit 1
fi
if ! command -v qemu-aarch64 >/dev/null 2>&1; then
    echo "aarch64 stage SKIPPED: qemu-aarch64 is not installed"
    exit 0
fi

host_cli=$host_build/Source/cli/mayday
host_opt=()
if [[ ! -x $host_cli ]]; then
    # The stage run alone (scripts/test.sh aarch64): build the build
    # machine's CLI, and only it, so that test_cli_host runs anyway.
    echo "test-aarch64: building the build machine's CLI in $host_build"
    mkdir -p "$host_build"
    if ! cmake -S "$root" -B "$host_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        >"$host_build/cli-build.log" 2>&1 ||
        ! cmake --build "$host_build" -j"$jobs" --target mayday_cli \
            >>"$host_build/cli-build.log" 2>&1; then
        echo "test-aarch64: the build machine's CLI failed to build;" \
            "full log: $host_build/cli-build.log"
        exit 1
    fi
fi
host_opt=(-DMAYDAY_HOST_CLI="$host_cli")

mkdir -p "$build"
log=$build/aarch64-build.log
if ! cmake -S "$root" -B "$build" \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.cmake" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAYDAY_WERROR=ON \
    -DMAYDAY_BUILD_BENCH=OFF -DMAYDAY_FUZZ=OFF "${host_opt[@]}" \
    >"$log" 2>&1 || ! cmake --build "$build" -j"$jobs" >>"$log" 2>&1; then
    grep -E -B2 -A8 'error|Error|warning' "$log" | head -n 120 || true
    echo "test-aarch64: build failed; full log: $log"
    exit 1
fi
echo "built $build in $((SECONDS - start)) s (log: $log)"

# Not run here: style (the same files as the unit stage) and
# install_consumers (it builds consumers with the build machine's
# pkg-config and runs them natively).
extra=()
# shellcheck disable=SC2206 # deliberate word splitting
extra=(${MAYDAY_CTEST_ARGS:-})
t0=$SECONDS
rc=0
(cd "$build" && MAYDAY_REPEAT=$repeat ctest --output-on-failure -j2 \
    -LE fuzz -E '^(style|install_consumers)$' --timeout 900 \
    "${extra[@]}") || rc=1
echo "aarch64 stage: tests $((SECONDS - t0)) s, total $((SECONDS - start)) s"
exit $rc
