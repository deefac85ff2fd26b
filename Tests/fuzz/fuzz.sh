#!/usr/bin/env bash
# fuzz.sh - builds the reader's libFuzzer target with clang
# (-fsanitize=fuzzer,address) as a separate small build, outside the main
# gcc build, and runs it for a bounded time.
#
#   Tests/fuzz/fuzz.sh [BUILD_DIR] [SEED_DIR...]
#
# BUILD_DIR: where to build and keep the working corpus (default
# build-fuzz/ in the source tree). Seeds: Tests/fuzz/seeds/,
# Tests/fuzz/regressions/ and any SEED_DIR given (e.g. fixture reports).
# MAYDAY_FUZZ_SECONDS: run time (default 60). Any crashing input is written
# to Tests/fuzz/regressions/ (replayed by the normal test suite,
# test_fuzz_regressions) and the script exits non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${1:-$src/build-fuzz}
shift || true
secs=${MAYDAY_FUZZ_SECONDS:-60}
cc=${CLANG:-clang}
mkdir -p "$out/gen" "$out/corpus"
protoc-c --c_out="$out/gen" --proto_path="$src/Protobuf" \
    "$src/Protobuf/mayday.proto"
# Reader + the helpers it uses (error strings, CRC); no crash-path poison.
"$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -D_GNU_SOURCE -DMDS_NO_POISON -std=gnu11 \
    -I"$src/Headers" -I"$src/Source" -I"$out/gen" -I"$src/Tests/reader" \
    $(pkg-config --cflags libprotobuf-c) \
    "$here/fuzz_report.c" "$src/Tests/reader/json_mini.c" \
    "$src"/Source/normal/reader/*.c \
    "$src/Source/normal/common/common.c" \
    "$src/Source/normal/common/capture_config.c" \
    "$src/Source/crash/core/writer.c" "$src/Source/crash/core/sys.c" \
    "$src/Source/crash/core/crc32.c" \
    "$src/Source/crash/handler/cause.c" \
    "$out/gen/mayday.pb-c.c" \
    $(pkg-config --libs libprotobuf-c) -o "$out/fuzz_report"
seeds=("$here/seeds" "$here/regressions")
for d in "$@"; do seeds+=("$d"); done
echo "fuzzing for ${secs}s (seeds: ${seeds[*]})"
set +e
"$out/fuzz_report" "$out/corpus" "${seeds[@]}" \
    -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$here/regressions/" -print_final_stats=1 2>&1 |
    tail -n 25
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
    echo "fuzz.sh: the fuzzer found a problem (exit $rc); input saved in" \
         "$here/regressions/" >&2
fi
exit "$rc"
