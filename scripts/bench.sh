#!/bin/sh
# scripts/bench.sh - builds the benchmark programs (bench/) in an optimized
# build directory and prints every figure of docs/performance.md as
# markdown tables on stdout (build output and progress go to stderr):
#
#   1-2. fault -> report renamed into place, and report size: mayday with
#        and without fsync vs a plain SIGSEGV handler with glibc
#        backtrace() and with libunwind's local unwinder, and vs the floor
#        of an all-threads reporter (stop + 1 read + 1 write per thread),
#        with the cost per extra thread (bench_crash);
#   3-4. mayday_install() time and memory, pthread_create+join cost of the
#        altstack hook (bench_install);
#   5.   reader throughput and symbolication on the reports of 1
#        (bench_reader, `mayday decode`);
#   6.   the stack walkers alone (bench_walk), if it builds;
#   7.   the decoder (bench_decode): JSON/text formatting alone, 200
#        reports in one `mayday decode`, the 128-thread report;
#   8.   report contents (issue 11): size and time with stack memory off,
#        default and large, and none of it (bench_capture);
#   9.   the crash-time encoder and writer alone (bench_encode);
#   10.  making a report durable: fsync, fdatasync, a pre-allocated file
#        (bench_durable, issue 15).
#
# Usage: scripts/bench.sh
# Environment: BENCH_BUILD_DIR (default build-bench), BENCH_RUNS (fresh
# processes per crash/install figure, default 21), BENCH_READER_RUNS
# (default 5), TMPDIR (where reports are written: fsync timings depend on
# that file system).
#
# Context: a developer's shell script (normal context). It prints figures;
# it passes or fails nothing. Takes about a minute on 2 cores.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
RUNS=${BENCH_RUNS:-21}
READER_RUNS=${BENCH_READER_RUNS:-5}
JOBS=$(nproc 2>/dev/null || echo 2)

log() { printf '%s\n' "bench.sh: $*" >&2; }

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    log "configuring $BUILD (RelWithDebInfo: -O2 -g)"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DMAYDAY_BUILD_TESTS=OFF >&2
fi
BTYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
case "$BTYPE" in
Release | RelWithDebInfo) ;;
*) log "warning: $BUILD is a '$BTYPE' build; figures want -O2" ;;
esac
SAN=$(sed -n 's/^MAYDAY_SANITIZE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
[ -z "$SAN" ] || log "warning: $BUILD is sanitized ($SAN)"

log "building"
cmake --build "$BUILD" -j"$JOBS" --target bench_crash bench_plain \
    bench_install bench_reader bench_decode bench_encode bench_capture \
    bench_durable mayday_cli >&2
HAVE_WALK=1
cmake --build "$BUILD" -j"$JOBS" --target bench_walk >&2 || HAVE_WALK=0

B=$BUILD/bench
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mayday-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
mkdir "$WORK/reports"

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
FS=$(df -PT "$WORK" | awk 'NR == 2 { print $2 " on " $1 }')
echo "# mayday benchmarks"
echo
echo "- command: scripts/bench.sh (BENCH_RUNS=$RUNS," \
    "BENCH_READER_RUNS=$READER_RUNS)"
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null ||
    echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null ||
    echo ' (with uncommitted changes)')"
echo "- machine: nproc $(nproc), $CPU, $(uname -sr)," \
    "$(ldd --version 2>&1 | head -n 1 | sed 's/^ldd //')"
echo "- build: $BTYPE ($BUILD), $(${CC:-cc} --version | head -n 1)"
echo "- reports written to: $FS (a real disk matters for fsync)"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

echo "## 1-2, 6. Crash: fault to report written, report size, baselines"
echo
log "bench_crash ($RUNS rounds)"
"$B/bench_crash" --runs "$RUNS" --keep "$WORK/reports" --tmp "$WORK"
echo

echo "## 3-4. Install and threads"
echo
log "bench_install ($RUNS rounds)"
"$B/bench_install" --runs "$RUNS" --tmp "$WORK"
echo

echo "## 5. Reader"
echo
log "bench_reader ($READER_RUNS rounds)"
"$B/bench_reader" "$WORK/reports" --runs "$READER_RUNS" \
    --cli "$BUILD/Source/cli/mayday"
echo

echo "## 6. Stack walkers alone (bench_walk)"
echo
if [ "$HAVE_WALK" = 1 ] && [ -x "$B/bench_walk" ]; then
    log "bench_walk"
    "$B/bench_walk"
else
    echo "(bench_walk did not build: skipped)"
fi
echo
echo "## 7. Decoder: formatting, batch decode (bench_decode, issue 14)"
echo
log "bench_decode ($READER_RUNS rounds)"
"$B/bench_decode" "$WORK/reports" --runs "$READER_RUNS" \
    --cli "$BUILD/Source/cli/mayday"

echo "## 8. Report contents: stack memory, FP, memory map, windows"
echo
log "bench_capture ($RUNS rounds)"
"$B/bench_capture" --runs "$RUNS" --micro 300 --tmp "$WORK"
echo

echo "## 9. Encoder and writer alone (bench_encode, issue 15)"
echo
log "bench_encode"
"$B/bench_encode" --dir "$WORK"
echo

echo "## 10. Making a report durable (bench_durable, issue 15)"
echo
log "bench_durable ($RUNS rounds)"
"$B/bench_durable" --runs "$RUNS" --dir "$WORK"
echo
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
