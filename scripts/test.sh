#!/usr/bin/env bash
# test.sh - runs all of mayday's tests, in stages, and exits non-zero if
# any stage fails.
#
# Context: developer and CI tool (.ci/run execs it); as root on a fresh
# Debian 12 it first installs the dependencies (scripts/deps.sh).
#
# Stages (a function each; all run even if one fails, except that nothing
# runs after a failed build):
#   deps          scripts/deps.sh, scripts/consumers.sh (npm tools)
#   build         configure with -DMAYDAY_WERROR=ON into build-test/, build
#   unit          ctest: unit, scenario, install and style tests
#   sanitizers    scripts/test-sanitizers.sh    } hooks: each runs if its
#   valgrind      scripts/test-valgrind.sh      } script exists, else is
#   crash_matrix  scripts/test-crash-matrix.sh  } reported as skipped
#   fuzz          scripts/test-fuzz.sh          }
#   aarch64       scripts/test-aarch64.sh       } (cross build, qemu-aarch64)
# Hook scripts get MAYDAY_ROOT, MAYDAY_BUILD_DIR (the build-test/ tree) and
# MAYDAY_JOBS in the environment and must exit non-zero on failure.
#
# Usage: scripts/test.sh [STAGE...]     (default: all stages, in order)
# Environment: MAYDAY_TEST_BUILD_DIR (default build-test/),
#   MAYDAY_TEST_TIMEOUT (per-test default timeout in s, default 300),
#   MAYDAY_CTEST_ARGS (extra ctest arguments, e.g. "-R core").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MAYDAY_TEST_BUILD_DIR:-$root/build-test}
jobs=$(nproc 2>/dev/null || echo 2)
test_timeout=${MAYDAY_TEST_TIMEOUT:-300}
export MAYDAY_ROOT=$root MAYDAY_BUILD_DIR=$build MAYDAY_JOBS=$jobs
# The ecosystem tests (lldb, sentry-cli, Spotlight) fail instead of
# skipping when a tool is missing: the deps stage installed them.
export MAYDAY_REQUIRE_CONSUMERS=1
export MAYDAY_CONSUMERS_DIR=${MAYDAY_CONSUMERS_DIR:-$root/build-consumers}

all_stages=(deps build unit sanitizers valgrind crash_matrix fuzz aarch64)

step() { printf '\n==> [%s] %s\n' "$1" "${*:2}"; }

# run_hook STAGE SCRIPT: runs scripts/SCRIPT if it exists.
run_hook() {
    local stage=$1 script=$root/scripts/$2
    if [[ ! -f $script ]]; then
        echo "skipped: scripts/$2 does not exist yet"
        return 0
    fi
    bash "$script"
}

# ------------------------------------------------------------------ stages
stage_deps() {
    bash "$root/scripts/deps.sh"
    # npm tools for the ecosystem tests, into build-consumers/ (cached).
    bash "$root/scripts/consumers.sh"
}

stage_build() {
    mkdir -p "$build"
    local log=$build/test-build.log
    if ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DMAYDAY_WERROR=ON >"$log" 2>&1 ||
        ! cmake --build "$build" -j"$jobs" >>"$log" 2>&1; then
        grep -E -B2 -A8 'error|Error|warning' "$log" | head -n 120 || true
        echo "build failed; full log: $log"
        return 1
    fi
    echo "built $build (log: $log)"
}

# Unit and scenario tests (every CTest test, incl. install and style).
stage_unit() {
    local extra=()
    # shellcheck disable=SC2206 # deliberate word splitting
    extra=(${MAYDAY_CTEST_ARGS:-})
    # The bounded fuzz run has its own stage (scripts/test-fuzz.sh).
    (cd "$build" && ctest --output-on-failure -j2 -LE fuzz \
        --timeout "$test_timeout" "${extra[@]}")
}

# Hooks for stages owned by other parts of the project.
stage_sanitizers() { run_hook sanitizers test-sanitizers.sh; }
stage_valgrind() { run_hook valgrind test-valgrind.sh; }
stage_crash_matrix() { run_hook crash_matrix test-crash-matrix.sh; }
stage_fuzz() { run_hook fuzz test-fuzz.sh; }
stage_aarch64() { run_hook aarch64 test-aarch64.sh; }

# ------------------------------------------------------------------- main
stages=("$@")
((${#stages[@]} > 0)) || stages=("${all_stages[@]}")
for s in "${stages[@]}"; do
    if ! declare -F "stage_$s" >/dev/null; then
        echo "unknown stage '$s' (stages: ${all_stages[*]})" >&2
        exit 2
    fi
done

failed=()
passed=()
for s in "${stages[@]}"; do
    step "$s" "$(date +%H:%M:%S)"
    start=$SECONDS
    if "stage_$s"; then
        passed+=("$s($((SECONDS - start))s)")
    else
        failed+=("$s")
        echo "stage $s FAILED"
        if [[ $s == deps || $s == build ]]; then
            break
        fi
    fi
done

printf '\n==> summary\n'
echo "passed: ${passed[*]:-none}"
if ((${#failed[@]} > 0)); then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all stages passed"
