#!/usr/bin/env bash
# demo.sh - builds mayday and runs the crash demo: a program that installs
# mayday and crashes, then a second launch that reads the pending report.
#
# Context: developer tool, run from anywhere; as root on a fresh Debian 12
# it first installs the dependencies (scripts/deps.sh).
# Steps: deps -> configure + build (RelWithDebInfo) into build/ -> demo.
# To adjust the demo, edit the DEMO_* settings below.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MAYDAY_BUILD_DIR:-$root/build}
jobs=$(nproc 2>/dev/null || echo 2)

# ------------------------------------------------------------ demo settings
DEMO_BIN=$build/Examples/crash_demo        # the crashing example program
DEMO_CRASH_ARGS=(--crash null-write)       # launch 1: must die by a signal
DEMO_REPORT_ARGS=(--report)                # launch 2: prints pending reports
DEMO_RUN_DIR=$build/demo-run               # working directory of both runs
# Exported for the demo program: where to keep its reports.
export MAYDAY_DEMO_DIR=$DEMO_RUN_DIR/reports

step() { printf '\n==> %s\n' "$*"; }

# ------------------------------------------------------------------ stages
stage_deps() {
    step "dependencies (scripts/deps.sh)"
    bash "$root/scripts/deps.sh"
}

stage_build() {
    step "configure + build into $build"
    mkdir -p "$build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        >"$build/demo-configure.log" 2>&1 || {
        cat "$build/demo-configure.log"
        return 1
    }
    cmake --build "$build" -j"$jobs" >"$build/demo-build.log" 2>&1 || {
        tail -n 60 "$build/demo-build.log"
        echo "build failed; full log: $build/demo-build.log"
        return 1
    }
    rm -f "$build/demo-configure.log"
    echo "built (log: $build/demo-build.log)"
}

# Prints the CLI's version when the demo program does not exist yet.
fallback() {
    local cli
    cli=$(find "$build" -maxdepth 4 -type f -name mayday -perm -u+x \
        2>/dev/null | head -n1 || true)
    if [[ -n $cli ]]; then
        step "mayday CLI: $cli"
        "$cli" --version || true
    else
        echo "(the mayday CLI is not built yet)"
    fi
    echo
    echo "The crash demo is not available yet: $DEMO_BIN was not built" \
        "(Examples/crash_demo.c and the crash handler are in progress)."
}

stage_demo() {
    if [[ ! -x $DEMO_BIN ]]; then
        fallback
        return 0
    fi
    rm -rf "$DEMO_RUN_DIR"
    mkdir -p "$DEMO_RUN_DIR"
    cd "$DEMO_RUN_DIR"
    ulimit -c 0 # no core file in the demo directory

    step "launch 1: $(basename "$DEMO_BIN") ${DEMO_CRASH_ARGS[*]}"
    local rc=0
    "$DEMO_BIN" "${DEMO_CRASH_ARGS[@]}" || rc=$?
    if ((rc <= 128)); then
        echo "expected the demo to die by a signal; it exited with $rc"
        return 1
    fi
    echo "--> died by signal $((rc - 128)) (SIG$(kill -l $((rc - 128))))," \
        "as it would have without mayday"

    local cli=$build/Source/cli/mayday
    if [[ -x $cli ]]; then
        step "the developer's view: mayday decode (symbolicated from DWARF)"
        local f
        for f in "$MAYDAY_DEMO_DIR"/*.mayday; do
            "$cli" decode "$f"
        done
    fi

    step "launch 2: $(basename "$DEMO_BIN") ${DEMO_REPORT_ARGS[*]}" \
        "(the app reads, would upload, and purges its reports)"
    "$DEMO_BIN" "${DEMO_REPORT_ARGS[@]}"
}

stage_deps
stage_build
stage_demo
