#!/usr/bin/env bash
# test-sanitizers.sh - the `sanitizers` stage of scripts/test.sh: builds
# mayday with AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer)
# in its own build tree and runs the CTest tests there. Any sanitizer report
# from any process (test programs, the CLI, examples, crashing children),
# any test failure or a failed build makes it exit non-zero.
#
# Context: developer/CI tool. What is sanitized and what is not, and why
# some tests are left out: docs/testing.md.
#
#   scripts/test-sanitizers.sh [CTEST_ARGS...]
#
# CTEST_ARGS (e.g. -R reader) apply to the main pass; the short second
# pass (test_walk_unwind without fake stacks) always runs.
#
# Environment:
#   MAYDAY_ASAN_BUILD_DIR  build tree (default build-asan/, or
#                          build-asan-CC/ for another compiler)
#   MAYDAY_SAN_CC          C compiler (default gcc)
#   MAYDAY_REPEAT          runs per crash scenario (default here: 3)
#   MAYDAY_JOBS            parallel build/test jobs (default nproc)
set -euo pipefail

root=${MAYDAY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cc=${MAYDAY_SAN_CC:-gcc}
if [[ $cc == gcc ]]; then
    build=${MAYDAY_ASAN_BUILD_DIR:-$root/build-asan}
else
    build=${MAYDAY_ASAN_BUILD_DIR:-$root/build-asan-$(basename "$cc")}
fi
jobs=${MAYDAY_JOBS:-$(nproc 2>/dev/null || echo 2)}

# Tests not run here (the reasons are in docs/testing.md):
#   static checks that execute no instrumented code (nm/poison checks,
#   style, exported symbols): same result as in the unit stage;
#   install_consumers: links an unsanitized program against the installed
#   sanitized library (skips itself in sanitizer builds anyway);
#   fuzz_reader: the fuzz stage (its own ASan build).
exclude='^(test_nm_allowlist|nm_check_selftest|poison_selftest|poison_included|style|install_exports|install_exports_upload|install_consumers|fuzz_reader)$'
# Run with ASan's fake stacks off (detect_stack_use_after_return=0):
# test_walk_unwind's stack-overflow case faults inside ASan's fake-stack
# allocator; test_walk_lean asserts that the walks of parked threads go
# through the recursion by CFI, and an instrumented frame on a fake stack
# ends a CFI walk (both walkers still agree there).
walk_real_stack='^(test_walk_unwind|test_walk_lean)$'

# ------------------------------------------------------------------ build
mkdir -p "$build"
log=$build/sanitizers-build.log
echo "building $build with $cc -fsanitize=address,undefined (log: $log)"
# The compiler goes in through CC (read only when the cache is created):
# -DCMAKE_C_COMPILER on an existing tree makes CMake wipe the cache, and
# with it MAYDAY_SANITIZE. The check after the build catches the rest.
if ! CC=$cc cmake -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMAYDAY_SANITIZE=address,undefined \
    -DCMAKE_C_FLAGS="-fno-sanitize-recover=all" \
    -DMAYDAY_BUILD_BENCH=OFF -DMAYDAY_FUZZ=OFF >"$log" 2>&1 ||
    ! cmake --build "$build" -j"$jobs" >>"$log" 2>&1; then
    grep -E -B2 -A8 'error|Error' "$log" | head -n 120 || true
    echo "test-sanitizers: build failed; full log: $log"
    exit 1
fi
# The build really is instrumented: a test program and the normal-context
# objects call into the ASan and UBSan runtimes.
probe=$build/Tests/reader/test_reader
syms=$(nm "$probe" 2>/dev/null || true)
for sym in __asan_init __ubsan_handle_; do
    if [[ $syms != *"$sym"* ]]; then
        echo "test-sanitizers: $probe has no $sym: not a sanitizer build" \
            "(CMakeCache: $(grep -E '^MAYDAY_SANITIZE:' \
                "$build/CMakeCache.txt"))"
        exit 1
    fi
done

# ------------------------------------------------------------------- run
# ASan/LSan: every process writes its reports to $logs/*.PID, so reports
# from children whose exit status a test does not look at count too.
# UBSan: gcc's separate libubsan ignores log_path next to libasan
# (verified with gcc 12), so its reports go to stderr; the process exits
# with status 86, which no test expects from anything.
logs=$build/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"

# handle_*=0, use_sigaltstack=0: ASan installs no fatal-signal handlers and
# no alternate signal stacks, so that mayday's own handlers and altstacks
# are the ones under test (with ASan's handler as the "previous handler",
# a crash would end in exit(1) instead of the signal the tests expect).
# A crash of a test program itself still fails its test (killed by a
# signal), without ASan's report.
asan_common="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86"
asan_common+=":check_initialization_order=1:strict_init_order=1"
asan_common+=":strict_string_checks=1"
asan_common+=":handle_segv=0:handle_sigbus=0:handle_abort=0"
asan_common+=":handle_sigfpe=0:handle_sigill=0:handle_sigtrap=0"
asan_common+=":use_sigaltstack=0"
asan_common+=":log_path=$logs/asan:log_exe_name=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86"
export LSAN_OPTIONS="report_objects=1"
export MAYDAY_REPEAT=${MAYDAY_REPEAT:-3}

start=$SECONDS
rc=0
echo "ctest (ASan fake stacks on), excluding: $exclude $walk_real_stack"
(cd "$build" &&
    ASAN_OPTIONS="$asan_common:detect_stack_use_after_return=1" \
        ctest --output-on-failure -j"$jobs" --timeout 900 \
        -E "$exclude|$walk_real_stack" "$@") || rc=1
echo "ctest (ASan fake stacks off): $walk_real_stack"
(cd "$build" &&
    ASAN_OPTIONS="$asan_common:detect_stack_use_after_return=0" \
        ctest --output-on-failure -j"$jobs" --timeout 900 \
        -R "$walk_real_stack" -E "$exclude") || rc=1

shopt -s nullglob
reports=("$logs"/*)
if ((${#reports[@]} > 0)); then
    echo "test-sanitizers: ${#reports[@]} sanitizer report(s):"
    for f in "${reports[@]}"; do
        echo "----- $f"
        head -n 60 "$f"
    done
    rc=1
fi
echo "test-sanitizers: tests took $((SECONDS - start))s"
if ((rc)); then
    echo "test-sanitizers: FAILED"
else
    echo "test-sanitizers: passed (no sanitizer reports)"
fi
exit $rc
