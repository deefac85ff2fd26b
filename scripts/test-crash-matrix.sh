#!/usr/bin/env bash
# test-crash-matrix.sh - every crash scenario, repeated, against the static
# and the shared library, printed as a table; any miss fails.
#
#   scripts/test-crash-matrix.sh [--quick]     (quick: 5 runs per scenario)
#   MAYDAY_REPEAT=N scripts/test-crash-matrix.sh   (default 20)
#
# Uses the build in $MAYDAY_BUILD_DIR (scripts/test.sh sets it) or
# build-test/. Runs as a stage of scripts/test.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MAYDAY_BUILD_DIR:-$root/build-test}
quick=()
[[ ${1:-} == --quick ]] && quick=(--quick)
runner=$build/Tests/crash/test_scenarios
if [[ ! -x $runner ]]; then
    echo "test-crash-matrix: $runner not built" >&2
    exit 1
fi
export MAYDAY_BINARY_DIR=$build
rc=0
# The table is also kept, so that the MISS rows can be printed again last:
# a CI log is often read from its tail.
table=$(mktemp)
trap 'rm -f "$table"' EXIT
for lib in static shared; do
    bin=$build/Tests/crash/crasher
    [[ $lib == shared ]] && bin=$build/Tests/crash/crasher_shared
    echo
    MAYDAY_CRASHER=$bin "$runner" --matrix "${quick[@]}" |
        sed -u "s/  MISS\$/  MISS ($lib)/" | tee -a "$table" || rc=1
done
if ((rc)); then
    echo "crash matrix: FAILED; the rows with misses:"
    grep 'MISS' "$table" || echo "(none in the table: the runner itself failed)"
else
    echo "crash matrix: all scenarios passed in both builds"
fi
exit $rc
