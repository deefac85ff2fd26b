#!/bin/sh
# poison_selftest.sh - proves that the compile-time half of the crash-path
# check (Source/crash/core/poison.h, `#pragma GCC poison`) can fail: a
# crash-path-style file that includes poison.h after its system headers and
# calls malloc (or fprintf, or pthread_mutex_lock) must NOT compile, with
# the compiler naming the poisoned identifier; the same file without the
# call must compile (so the failure is the poison, not something else).
#
# Context: CTest test `poison_selftest` (Tests/core/CMakeLists.txt).
# Usage: poison_selftest.sh CC SOURCE_DIR   (SOURCE_DIR = the Source/ dir)
set -u
cc=$1
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/poison-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0

# try NAME EXPECT(ok|fail) BODY
try() {
    cat >"$tmp/$1.c" <<EOT
/* crash-path-style file: system headers, then poison.h, then code. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "crash/core/poison.h"

int crash_path_fn(void);
int crash_path_fn(void)
{
$3
}
EOT
    if "$cc" -std=gnu11 -c -I"$src" -o "$tmp/$1.o" "$tmp/$1.c" \
        2>"$tmp/$1.err"; then
        got=ok
    else
        got=fail
    fi
    echo "--- $1: compile $got (expected $2)"
    cat "$tmp/$1.err"
    if [ "$got" != "$2" ]; then
        echo "poison_selftest: FAIL: $1 compiled: $got, expected $2"
        failures=$((failures + 1))
    elif [ "$2" = fail ] && ! grep -q 'poisoned' "$tmp/$1.err"; then
        echo "poison_selftest: FAIL: $1 failed, but not because of poison"
        failures=$((failures + 1))
    fi
}

try control ok '    return 0;'
try malloc fail '    return malloc(1) != 0;'
try fprintf fail '    return fprintf(stderr, "x");'
try mutex fail '    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    return pthread_mutex_lock(&m);'

if [ "$failures" -ne 0 ]; then
    echo "poison_selftest: $failures failure(s)"
    exit 1
fi
echo "poison_selftest: ok (malloc, fprintf, pthread_mutex_lock rejected)"
