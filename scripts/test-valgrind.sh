#!/usr/bin/env bash
# test-valgrind.sh - the `valgrind` stage of scripts/test.sh: runs the
# CTest test programs, and every program they start from the build tree
# (the CLI, examples, crasher, make_fixture, forked children), under
# valgrind memcheck, and fails on any memory error or definite/indirect
# leak, in any of those processes.
#
# Context: developer/CI tool. Exclusions and the reasons: docs/testing.md.
#
#   scripts/test-valgrind.sh [NAME_REGEX]    (only tests matching it)
#
# Build tree: $MAYDAY_VALGRIND_BUILD_DIR, else $MAYDAY_BUILD_DIR (the
# build-test/ tree when run by scripts/test.sh), else build-valgrind/
# (configured here). It must not be a sanitizer build. Logs, one per
# process (forked children too): BUILD/valgrind-logs/NAME.PID.log.
#
# A process killed by a signal crashed on purpose (the tests assert how
# their children die). Its errors at the instruction that killed it, and
# its invalid accesses to memory that is no heap block and not accessible
# at all (the faults that raised the signals), do not count; its other
# errors do. Leaks count only for processes that exit normally.
#
# Environment: MAYDAY_JOBS (parallel tests, default nproc), MAYDAY_REPEAT
# (runs per crash scenario, default here 1), MAYDAY_VALGRIND_ARGS (extra
# valgrind options, e.g. --track-origins=yes).
set -euo pipefail

root=${MAYDAY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
build=${MAYDAY_VALGRIND_BUILD_DIR:-${MAYDAY_BUILD_DIR:-$root/build-valgrind}}
jobs=${MAYDAY_JOBS:-$(nproc 2>/dev/null || echo 2)}
only=${1:-.}
supp=$root/scripts/valgrind.supp

# Not run under valgrind (reasons in docs/testing.md):
#   static checks and packaging tests that run no code of ours;
#   fuzz_reader: libFuzzer + ASan binary, the fuzz stage;
#   test_walk_images: asserts the layout of a real process (vDSO, maps),
#   which valgrind replaces with its own.
exclude='^(test_nm_allowlist|nm_check_selftest|poison_selftest|poison_included|style|install_exports|install_exports_upload|install_consumers|install_cxx|fuzz_reader|test_walk_images|test_ecosystem)$'
# Children that run natively (argv entries, valgrind globs): crash
# scenarios valgrind cannot model (docs/testing.md).
skip_args='trap,sys,sys-*,callback-*,chain-*,runtime-*,many-threads,thousand-threads,thread-churn,dir-readonly,limits-images,fortify-strcpy,malloc-check,blocked-suspend,live-sleepers,sigwait-daemon,live-stress'
# Issue 11's capturer scenarios that assert the real process's registers,
# FP state, main stack and memory map (docs/testing.md).
skip_args="$skip_args,xmm,pointers,overflow-main,maps"
# Scenarios that assert what only a real process shows: ptrace-stopped
# threads in live reports (valgrind has no ptrace stopper), its argv[0],
# a parked thread's system call; and a FUSE wait valgrind times
# differently (docs/testing.md).
skip_args="$skip_args,parked,hang-continue,hang-end,hang-end-term,limits-argv,hung-fs,limits-cap"
# Thread control under valgrind (docs/testing.md): no altstack injection,
# vfork run as fork, threads that wait in valgrind's lock block signals.
skip_args="$skip_args,overflow-thread-before,handoff-timeout,writer"

if ! command -v valgrind >/dev/null 2>&1; then
    echo "test-valgrind: valgrind not installed (scripts/deps.sh)" >&2
    exit 1
fi

# ------------------------------------------------------------------ build
log=$build/valgrind-build.log
mkdir -p "$build"
if [[ ! -f $build/CMakeCache.txt ]]; then
    echo "configuring $build"
    if ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DMAYDAY_BUILD_BENCH=OFF -DMAYDAY_FUZZ=OFF >"$log" 2>&1; then
        tail -n 40 "$log"
        exit 1
    fi
fi
if grep -Eq '^MAYDAY_SANITIZE:[A-Z]*=.+' "$build/CMakeCache.txt"; then
    echo "test-valgrind: $build is a sanitizer build; valgrind needs a" \
        "plain one (set MAYDAY_VALGRIND_BUILD_DIR)" >&2
    exit 1
fi
if ! cmake --build "$build" -j"$jobs" >>"$log" 2>&1; then
    grep -E -B2 -A8 'error|Error' "$log" | head -n 80 || true
    echo "test-valgrind: build failed; full log: $log"
    exit 1
fi

logs=$build/valgrind-logs
rm -rf "$logs"
mkdir -p "$logs"
helper=$logs/helper.py

# ----------------------------------------------- python: list and check
cat >"$helper" <<'EOF'
# list: ctest's JSON test list -> NAME, TIMEOUT, DIR, ENV, CMD separated
#       by \x1e (ENV and CMD joined with \x1f)
# check FILE...: valgrind logs (one per process) -> the errors that count,
#       printed; exit 1 if any
import json, re, sys

def listing(exclude, only):
    d = json.load(sys.stdin)
    for t in d["tests"]:
        name, cmd = t["name"], t.get("command")
        if re.search(exclude, name) or not re.search(only, name):
            continue
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        if not cmd:
            print("test-valgrind: %s has no command (not built?)" % name,
                  file=sys.stderr)
            sys.exit(1)
        print("\x1e".join([name, str(int(float(props.get("TIMEOUT", 300)))),
                         props.get("WORKING_DIRECTORY", "."),
                         "\x1f".join(props.get("ENVIRONMENT", [])),
                         "\x1f".join(cmd)]))

LINE = re.compile(r"^==(\d+)== ?(.*)$")
FRAME = re.compile(r"^\s*(?:at|by) (0x[0-9A-Fa-f]+): (.*)$")
LEAK = re.compile(r" are (definitely|indirectly|possibly) lost in loss "
                  r"record|still reachable in loss record")

def blocks(path):
    """The log's paragraphs (lines between empty ones), prefix removed."""
    cur = []
    for raw in open(path, errors="replace"):
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        text = m.group(2)
        if text.strip():
            cur.append(text)
        elif cur:
            yield cur
            cur = []
    if cur:
        yield cur

def check(files):
    bad = 0
    for path in files:
        cmd, fatal_ip, errors = "?", None, []
        for b in blocks(path):
            for l in b:
                if l.startswith("Command: "):
                    cmd = l[9:]
            fr = [FRAME.match(l).groups() for l in b if FRAME.match(l)]
            if not fr:
                continue  # preamble, summaries, warnings without a stack
            if b[0].startswith("Process terminating with default action"):
                fatal_ip = fr[0][0]
                continue
            errors.append((b, fr))
        for b, fr in errors:
            head = b[0]
            aux = " ".join(l for l in b if l.startswith(" Address "))
            m = LEAK.search(head)
            if m:
                # Leaks count for processes that exit normally only.
                if fatal_ip or m.group(1) not in ("definitely", "indirectly"):
                    continue
            elif fatal_ip:
                if fr[0][0] == fatal_ip:
                    continue  # the fault that killed the process
                if (re.match(r"Invalid (read|write)|Jump to the invalid", head)
                        and ("not stack'd, malloc'd" in aux or
                             " is in a --- " in aux)):
                    continue  # a fault (no heap block, no access): a crash
            bad += 1
            print("%s: %s" % (path, head))
            print("    process: %s" % cmd)
            for l in b[1:14]:
                print("    " + l.strip())
    print("test-valgrind: %d error(s) in %d process log(s)" % (bad, len(files)))
    sys.exit(1 if bad else 0)

if sys.argv[1] == "list":
    listing(sys.argv[2], sys.argv[3])
else:
    check(sys.argv[2:])
EOF

(cd "$build" && ctest --show-only=json-v1) |
    python3 "$helper" list "$exclude" "$only" >"$logs/tests.tsv"

vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --num-callers=30
    --trace-children=yes --trace-children-skip='/usr/*,/bin/*,/sbin/*,*/build-consumers/*'
    --trace-children-skip-by-arg="$skip_args"
    --suppressions="$supp")
# shellcheck disable=SC2206 # deliberate word splitting
vg+=(${MAYDAY_VALGRIND_ARGS:-})
export MAYDAY_REPEAT=${MAYDAY_REPEAT:-1}

# run_one NAME TIMEOUT DIR ENV CMD: one test under valgrind; NAME.rc
run_one() {
    local name=$1 t=$2 dir=$3 envs cmd rc=0
    IFS=$'\x1f' read -r -a envs <<<"$4"
    IFS=$'\x1f' read -r -a cmd <<<"$5"
    local s=$SECONDS
    (cd "$dir" && env "${envs[@]}" timeout -k 10 "$t" "${vg[@]}" \
        --log-file="$logs/$name.%p.log" "${cmd[@]}") \
        >"$logs/$name.out" 2>&1 || rc=$?
    echo "$rc" >"$logs/$name.rc"
    printf '%-24s exit %-3s %4ss\n' "$name" "$rc" $((SECONDS - s))
}

start=$SECONDS
echo "valgrind memcheck over $(wc -l <"$logs/tests.tsv") test(s) in" \
    "$build, $jobs at a time (logs: $logs)"
while IFS=$'\x1e' read -r name t dir envs cmd; do
    while (($(jobs -rp | wc -l) >= jobs)); do
        wait -n || true
    done
    run_one "$name" "$t" "$dir" "$envs" "$cmd" </dev/null &
done <"$logs/tests.tsv"
wait

rc=0
while IFS=$'\x1e' read -r name _; do
    if [[ $(cat "$logs/$name.rc") != 0 ]]; then
        echo "----- $name failed (exit $(cat "$logs/$name.rc")); output:"
        tail -n 40 "$logs/$name.out"
        rc=1
    fi
done <"$logs/tests.tsv"
shopt -s nullglob
vglogs=("$logs"/*.[0-9]*.log)
python3 "$helper" check "${vglogs[@]}" || rc=1
echo "test-valgrind: tests took $((SECONDS - start))s"
if ((rc)); then
    echo "test-valgrind: FAILED"
else
    echo "test-valgrind: passed"
fi
exit $rc
