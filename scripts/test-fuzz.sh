#!/usr/bin/env bash
# test-fuzz.sh - the bounded libFuzzer run over the report loader and both
# formatters (CTest label "fuzz": Tests/fuzz/fuzz.sh, clang + ASan/UBSan),
# MAYDAY_FUZZ_SECONDS long (default 60). A stage of scripts/test.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MAYDAY_BUILD_DIR:-$root/build-test}
cd "$build"
ctest --output-on-failure -L fuzz --timeout 900
