#!/bin/sh
# poison_included.sh - checks that every C file of the crash-path object set
# includes crash/core/poison.h, and includes no system header after it
# (a system header read after the pragmas could itself trip on a poisoned
# name, and code placed before the include is not protected).
#
# Context: CTest test `poison_included` (Tests/core/CMakeLists.txt).
# Usage: poison_included.sh FILE.c...   (the sources of mayday_crash)
set -u
failures=0
n=0
poison_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*'
poison_re=$poison_re'"\(crash/core/\)\{0,1\}poison\.h"'
for f in "$@"; do
    case $f in *.c) ;; *) continue ;; esac
    n=$((n + 1))
    line=$(grep -n "$poison_re" "$f" | head -n 1 | cut -d: -f1)
    if [ -z "$line" ]; then
        echo "poison_included: FAIL: $f does not include poison.h"
        failures=$((failures + 1))
        continue
    fi
    late=$(tail -n "+$line" "$f" |
        grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' | head -n 1)
    if [ -n "$late" ]; then
        echo "poison_included: FAIL: $f includes a system header after" \
            "poison.h (line $((line + ${late%%:*} - 1)))"
        failures=$((failures + 1))
    fi
done
if [ "$n" -eq 0 ]; then
    echo "poison_included: FAIL: no C files given"
    exit 1
fi
if [ "$failures" -ne 0 ]; then
    echo "poison_included: $failures of $n crash-path files fail"
    exit 1
fi
echo "poison_included: ok ($n crash-path C files include poison.h last)"
